from odoo.tests import tagged

from .common import CrmRelationshipCommon


@tagged("post_install", "-at_install")
class TestClassification(CrmRelationshipCommon):
    def test_single_buyer_is_vip_and_new(self):
        partner = self._customer("Công ty Một")
        self._invoice(partner, "2026-05-10", 1000.0)
        self._recompute(partner)
        self.assertEqual(partner.relationship_tier_id, self.tiers["vip"])
        self.assertEqual(partner.relationship_status, "new")
        self.assertEqual(partner.period_revenue, 1000.0)
