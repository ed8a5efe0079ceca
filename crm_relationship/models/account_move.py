from odoo import models
from odoo.tools.sql import create_index

from .crm_relationship_facts import revenue_move_sql


class AccountMove(models.Model):
    _inherit = "account.move"

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
