from odoo.tools.sql import drop_index

from .models.crm_relationship_run_state import STATE_TABLE

# business records of the demo data: customers, their invoices and
# opportunities belong to the company once created, and posted invoices
# cannot be deleted; uninstalling the module keeps them like any other data
KEPT_DEMO_MODELS = ["res.partner", "account.move", "crm.lead"]


def uninstall_hook(env):
    """Drop the revenue index added to account_move by AccountMove.init, remove
    the care activities the module planned (their type goes with it) and
    leave the demo customers and invoices in place; drop the classification's
    fingerprints (crm.relationship.run.state), a table of its own."""
    drop_index(env.cr, "account_move_crm_relationship_revenue_index", "account_move")
    env.cr.execute(f"DROP TABLE IF EXISTS {STATE_TABLE}")
    care_type = env.ref(
        "crm_relationship.mail_activity_type_customer_care", raise_if_not_found=False
    )
    if care_type:
        env["mail.activity"].search([("activity_type_id", "=", care_type.id)]).unlink()
    env["ir.model.data"].search(
        [("module", "=", "crm_relationship"), ("model", "in", KEPT_DEMO_MODELS)]
    ).unlink()
