from odoo import models
from odoo.tools import SQL

from ..models.res_partner import relationship_engine_write


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _update_foreign_keys(self, src_partners, dst_partner):
        # core moves the merged partners' history to the destination: keep one
        # row per company and date (the destination's own first), as every
        # classification reads the row of its date
        partners = src_partners | dst_partner
        self.env["crm.relationship.history"].flush_model()
        self.env.cr.execute(
            SQL(
                """DELETE FROM crm_relationship_history h
                    USING (SELECT id, ROW_NUMBER() OVER (
                                      PARTITION BY company_id, date
                                      ORDER BY partner_id = %(dst)s DESC, id) AS n
                             FROM crm_relationship_history
                            WHERE partner_id = ANY(%(partners)s)) r
                    WHERE h.id = r.id AND r.n > 1""",
                dst=dst_partner.id,
                partners=partners.ids,
            )
        )
        self.env["crm.relationship.history"].invalidate_model()
        return super()._update_foreign_keys(src_partners, dst_partner)

    def _update_values(self, src_partners, dst_partner):
        # the merge copies the stored figures of the merged partners, which no
        # user may write; the next classification recomputes them anyway
        with relationship_engine_write():
            return super()._update_values(src_partners, dst_partner)
