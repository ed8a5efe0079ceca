from odoo.tests import tagged

from .common import CrmRelationshipCommon


@tagged("post_install", "-at_install")
class TestRevenueRank(CrmRelationshipCommon):
    """The revenue rank is computed when read from the revenues the last
    classification stored in the current company: never written by a run."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.setup_other_company()["company"]
        cls.env.user.company_ids += cls.other
        cls.first, cls.second, cls.tied, cls.last = customers = [
            cls._customer(name) for name in ("Hạng A", "Hạng B", "Hạng C", "Hạng D")
        ]
        for customer, amount in zip(
            customers, (500.0, 300.0, 300.0, 100.0), strict=True
        ):
            cls._invoice(customer, "2026-05-01", amount)
        cls._invoice(cls.last, "2026-05-01", 900.0, company=cls.other)
        cls._invoice(cls.first, "2026-05-01", 100.0, company=cls.other)
        cls.refunded = cls._customer("Hạng E")
        cls._invoice(cls.refunded, "2026-05-01", 50.0, move_type="out_refund")
        cls.contact = cls.env["res.partner"].create(
            {"name": "Chị Hà", "parent_id": cls.tied.id}
        )
        cls.env["res.partner"]._recompute_relationship(
            as_of=cls.as_of, company_ids=(cls.company | cls.other).ids
        )

    def _ranks(self, partners, company=None):
        partners = partners.with_company(company or self.company)
        partners.invalidate_recordset(["relationship_revenue_rank"])
        return partners.mapped("relationship_revenue_rank")

    def test_ranks_by_revenue_ties_by_partner_id(self):
        partners = self.first | self.second | self.tied | self.last
        self.assertEqual(self._ranks(partners), [1, 2, 3, 4])
        self.assertEqual(self._ranks(self.contact), [3], "contacts show their company")
        self.assertEqual(self._ranks(self.refunded), [0], "no rank without revenue")

    def test_ranks_per_company(self):
        self.assertEqual(self._ranks(self.last | self.first, self.other), [1, 2])
        self.assertEqual(self._ranks(self.second, self.other), [0])

    def test_two_queries_for_a_recordset(self):
        """The figures, then every count with its figure written out: as many
        queries for four customers as for one."""
        partners = (self.first | self.second | self.tied | self.last).with_company(
            self.company
        )
        partners.mapped("commercial_partner_id")
        partners.invalidate_recordset(["relationship_revenue_rank"])
        with self.assertQueryCount(2):
            partners.mapped("relationship_revenue_rank")

    def test_ranks_move_without_writing_the_others(self):
        self._invoice(self.last, "2026-06-01", 1000.0)
        self.assertEqual(self._recompute(self.last), 1, "only the customer")
        partners = self.first | self.second | self.tied | self.last
        self.assertEqual(self._ranks(partners), [2, 3, 4, 1])
        reason = self.last.with_company(self.company).relationship_tier_reason
        self.assertIn("Rank 1 ", reason)

    def test_the_rank_is_not_stored(self):
        field = self.env["res.partner"]._fields["relationship_revenue_rank"]
        self.assertFalse(field.store)
