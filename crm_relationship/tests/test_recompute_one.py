from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged
from odoo.tools import SQL

from ..models import crm_relationship_facts as facts
from ..models.crm_relationship_facts import PLACE_BY_COUNTING
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


@tagged("post_install", "-at_install")
class TestRecomputeOneByProfit(TestRecomputeOne):
    """The same proofs with tiers by profit (docs/rules.md, Profit): a partial
    run places the customer by its profit among the profits the others hold.

    Margin 30 % of the revenue (source ``rate``); each call costs 300: the
    2500 customer (index 6) had 8 calls, the 1200 one (3) 3 calls, the 500 one
    (0) one. Profits: 0 -150, 1 90, 2 90, 3 -540, 4 24, 5 24, 6 -1650, 7 192;
    by profit 7, 1, 2, 4, 5, 0, 3, 6 where revenue ranks 6, 3, 7, 0, 1, 2, 4,
    5."""

    # Odoo's loader runs the methods of the class's own body only: the proofs
    # of TestRecomputeOne run again here with tiers by profit
    allow_inherited_tests_method = True
    MARGIN_SOURCE = "rate"
    PROFIT_ORDER = (7, 1, 2, 4, 5, 0, 3, 6)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "relationship_tier_basis": "profit",
                "relationship_margin_source": cls.MARGIN_SOURCE,
            }
        )
        phone = cls.env.ref("crm_relationship.crm_relationship_channel_phone")
        phone.with_company(cls.company).cost = 300.0
        calls = {6: 8, 3: 3, 0: 1}
        cls.env["crm.relationship.interaction"].create(
            [
                {
                    "summary": "Gọi điện",
                    "partner_id": cls.customers[index].id,
                    "date": f"2026-06-{day + 1:02d}",
                    "channel_id": phone.id,
                }
                for index, count in calls.items()
                for day in range(count)
            ]
            # no revenue in the window: a cost but no place among the buyers
            + [
                {
                    "summary": "Gọi điện",
                    "partner_id": cls.lapsed.id,
                    "date": "2026-06-01",
                    "channel_id": phone.id,
                }
            ]
        )
        cls.env["res.partner"]._recompute_relationship(
            as_of=cls.as_of, company_ids=cls.company.ids
        )

    def _ranks(self, query):
        """``{pid: (rank, recency, frequency, monetary, buyers)}`` of the
        customers of ``query`` (``_ranked_sales_sql`` or ``_placed_sales_sql``)
        with revenue > 0."""
        rows = self.env.execute_query(
            SQL(
                """SELECT pid, revenue_rank, recency_score, frequency_score,
                          monetary_score, buyers
                     FROM (%s) r WHERE revenue > 0""",
                query,
            )
        )
        return {pid: tuple(values) for pid, *values in rows}

    def test_placed_by_profit_as_ranked(self):
        """The placing ranks profit as the full ranking does, by counting and
        by window functions; the quintiles stay on revenue, purchases and
        last purchase."""
        Facts = self.env["crm.relationship.facts"]
        ranked = self._ranks(Facts._ranked_sales_sql(self.company, self.as_of))
        buyers = self.customers[:8]
        self.assertEqual(
            [ranked[buyers[index].id][0] for index in self.PROFIT_ORDER],
            list(range(1, 9)),
        )
        for counting in (PLACE_BY_COUNTING, 0):
            with patch.object(facts, "PLACE_BY_COUNTING", counting):
                for customer in buyers:
                    with self.subTest(customer=customer.name, counting=counting):
                        placed = self._ranks(
                            Facts._placed_sales_sql(
                                self.company, self.as_of, customer.ids
                            )
                        )
                        self.assertEqual(placed, {customer.id: ranked[customer.id]})
                with self.subTest(customers="all", counting=counting):
                    placed = self._ranks(
                        Facts._placed_sales_sql(self.company, self.as_of, buyers.ids)
                    )
                    self.assertEqual(placed, ranked)

    def test_tiers_rank_the_profit(self):
        """vip is the top 1 % (1 of 8): the first by profit, not by revenue;
        a customer losing money keeps the last revenue tier."""
        first, by_revenue = self.customers[7], self.customers[6]
        self.assertEqual(
            self._figures(first, first.ids)["relationship_tier_id"],
            self.tiers["vip"].id,
        )
        self.assertEqual(
            self._figures(by_revenue, by_revenue.ids)["relationship_tier_id"],
            self.tiers["small"].id,
        )
        self.assertEqual(first.relationship_tier_id, self.tiers["vip"])


@tagged("post_install", "-at_install")
class TestRecomputeOneByProductCostProfit(TestRecomputeOneByProfit):
    """Tiers by profit with the margin of the products' cost (none here: the
    lines have no product, so the margin is the revenue). Profits: 0 200,
    1 300, 2 300, 3 300, 4 80, 5 80, 6 100, 7 640; by profit 7, 1, 2, 3, 0,
    6, 4, 5."""

    MARGIN_SOURCE = "product_cost"
    PROFIT_ORDER = (7, 1, 2, 3, 0, 6, 4, 5)
