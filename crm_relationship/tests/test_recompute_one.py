from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from ..models import crm_relationship_facts as facts
from ..models.crm_relationship_writer import CLASSIFICATION_FIELDS
from .common import CrmRelationshipCommon


@tagged("post_install", "-at_install")
class TestRecomputeOne(CrmRelationshipCommon):
    """A "Recompute now" on one customer places it among the figures the others
    hold (rank, RFM quintiles, number of buyers, retention) instead of
    recomputing the whole company: when nothing else changed, its figures are
    those of a full run."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.as_of = fields.Date.to_date("2026-07-15")
        # revenues, purchases and last purchases with ties and gaps
        book = [
            (500.0, ["2026-01-10", "2026-03-10"]),
            (300.0, ["2026-07-01"]),
            (300.0, ["2025-09-01", "2025-10-01", "2025-11-01"]),
            (1200.0, ["2026-06-01"]),
            (80.0, ["2026-02-01", "2026-02-02"]),
            (80.0, ["2026-07-10"]),
            (2500.0, ["2025-08-01", "2026-04-01"]),
            (640.0, ["2026-05-05"]),
        ]
        cls.customers = cls.env["res.partner"]
        for index, (amount, dates) in enumerate(book):
            customer = cls._customer(f"Một mình {index}")
            for day in dates:
                cls._invoice(customer, day, amount / len(dates))
            cls._invoice(customer, "2025-01-20", 100.0)  # the previous window
            cls.customers |= customer
        cls.lapsed = cls._customer("Đã ngừng")
        cls._invoice(cls.lapsed, "2025-03-01", 900.0)
        cls.customers |= cls.lapsed
        cls.env["res.partner"]._recompute_relationship(
            as_of=cls.as_of, company_ids=cls.company.ids
        )

    def _figures(self, partner, partner_ids=None):
        """What the engine computes for ``partner``, by a full run or by a run
        of ``partner_ids`` only (nothing written)."""
        engine = self.env["crm.relationship.classification"]
        for batch in engine._iter_figures(self.company, self.as_of, partner_ids):
            if partner.id in batch:
                values = batch[partner.id]
                return {fname: values[fname] for fname in CLASSIFICATION_FIELDS}
        return None

    def test_each_customer_alone_equals_the_full_run(self):
        for customer in self.customers:
            with self.subTest(customer=customer.name):
                self.assertEqual(
                    self._figures(customer, customer.ids), self._figures(customer)
                )

    def test_placed_by_window_functions_as_by_counting(self):
        """Above PLACE_BY_COUNTING customers, a partial run sorts the population
        instead of counting around each customer: the same figures."""
        partners = self.customers[1:5]
        with patch.object(facts, "PLACE_BY_COUNTING", 0):
            for customer in partners:
                with self.subTest(customer=customer.name):
                    self.assertEqual(
                        self._figures(customer, partners.ids), self._figures(customer)
                    )

    def test_a_customer_whose_own_facts_changed(self):
        customer = self.customers[4]
        self._invoice(customer, "2026-07-14", 3000.0)
        alone = self._figures(customer, customer.ids)
        self.assertEqual(alone, self._figures(customer))
        self.assertEqual(alone["rfm_monetary_score"], 5)
        self.assertEqual(alone["relationship_tier_id"], self.tiers["vip"].id)
        self.assertEqual(self._recompute(customer, as_of=self.as_of), 1)
        customer.invalidate_recordset(["relationship_revenue_rank"])
        self.assertEqual(customer.relationship_revenue_rank, 1)

    def test_a_customer_leaving_the_buyers(self):
        customer = self.customers[3]
        self._invoice(customer, "2026-07-14", 1200.0, move_type="out_refund")
        alone = self._figures(customer, customer.ids)
        self.assertEqual(alone, self._figures(customer))
        self.assertFalse(alone["rfm_monetary_score"])
