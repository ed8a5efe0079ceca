from odoo.tools.sql import drop_index


def uninstall_hook(env):
    """Drop the revenue index added to account_move by AccountMove.init."""
    drop_index(env.cr, "account_move_crm_relationship_revenue_index", "account_move")
