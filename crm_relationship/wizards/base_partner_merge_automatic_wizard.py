from odoo import models

from ..models.res_partner import relationship_engine_write


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _update_values(self, src_partners, dst_partner):
        # the merge copies the stored figures of the merged partners, which no
        # user may write; the next classification recomputes them anyway
        with relationship_engine_write():
            return super()._update_values(src_partners, dst_partner)
