from odoo import fields, models
from odoo.tools.sql import create_index

from .crm_relationship_facts import revenue_move_sql


class AccountMove(models.Model):
    _inherit = "account.move"

    # the customer form shows core's days sales outstanding, which sums the
    # customer's invoices by commercial partner: unindexed in core, that is a
    # scan of every move on each form opened (0.29 s at 2,500,000 moves)
    commercial_partner_id = fields.Many2one(index=True)

    def init(self):
        res = super().init()
        # the classification aggregates posted customer invoices per company and
        # commercial partner; core leaves commercial_partner_id unindexed
        create_index(
            self.env.cr,
            "account_move_crm_relationship_revenue_index",
            self._table,
            ["company_id", "commercial_partner_id", "invoice_date"],
            where=revenue_move_sql(),
        )
        return res
