from contextlib import closing
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import Form, freeze_time, tagged

from .common import CrmRelationshipCommon


# Apply classifies as of today: today is the analysis date of these tests
@freeze_time("2026-06-30 12:00:00")
@tagged("post_install", "-at_install")
class TestTierSimulation(CrmRelationshipCommon):
    """The preview of the tier simulation is what Apply then writes: the same
    ranking (``crm.relationship.facts._ranked_sales_sql``) and the same tier
    rule as the classification engine, locked tiers included (issue 18)."""

    REVENUE_TIERS = ("vip", "large", "medium", "small")

    def _preview(self, top_percents):
        """Open the simulation as the manager and give the tiers of
        ``top_percents`` ``{code: top %}`` their new threshold, inside a
        read-only transaction (what a read replica allows). Return the form and
        the preview ``{code: (customers, revenue)}``."""
        self.env.flush_all()
        # rolled back at the end: the transaction may write again
        with closing(self.env.cr.savepoint(flush=False)):
            self.env.cr.execute("SET LOCAL transaction_read_only = on")
            form = Form(
                self.env["crm.relationship.tier.simulation"].with_user(
                    self.relationship_manager
                )
            )
            for index in range(len(form.line_ids)):
                with form.line_ids.edit(index) as line:
                    if line.tier_id.code in top_percents:
                        line.threshold_type = "top_percent"
                        line.top_percent = top_percents[line.tier_id.code]
            preview = {}
            for index in range(len(form.line_ids)):
                with form.line_ids.edit(index) as line:
                    preview[line.tier_id.code] = (
                        line.simulated_count,
                        line.simulated_revenue,
                    )
            customer_count = form.customer_count
        return form, preview, customer_count

    def _classified(self):
        """``{code: (customers, revenue)}`` of the revenue tiers as stored by
        the last classification of the company."""
        Partner = self.env["res.partner"]
        result = {}
        for code in self.REVENUE_TIERS:
            partners = Partner.search(
                [("relationship_tier_id", "=", self.tiers[code].id)]
            ).filtered(lambda p: p == p.commercial_partner_id)
            result[code] = (len(partners), sum(partners.mapped("period_revenue")))
        return result

    def test_preview_with_a_locked_tier_is_what_apply_writes(self):
        """The issue's case: 20 buyers with distinct revenues, VIP top 5 %, the
        best customer's tier locked to Medium.

        Customer i (1..20) has revenue 2100 - 100 i: 2000, 1900, ... 100, so
        rank i. Every buyer counts, the locked one included: N = 20.
        - VIP top 5 %: ranks <= ceil(20 * 5 / 100) = 1: customer 1, locked
          to Medium, so no VIP (the old preview ranked the 19 unlocked
          customers and promised customer 2 as VIP).
        - Large top 10 %: rank <= 2: customer 2 (1900).
        - Medium top 20 %: rank <= 4: customers 3, 4 and the locked customer 1
          (1800 + 1700 + 2000 = 5500).
        - Small (top 100 %): customers 5..20 (1600 + ... + 100 = 13600).
        """
        customers = [self._customer(f"Khách hàng {i:02d}") for i in range(1, 21)]
        for index, customer in enumerate(customers, start=1):
            self._invoice(customer, "2026-03-01", 2100.0 - 100 * index)
        self._recompute()
        best = customers[0]
        best.relationship_tier_id = self.tiers["medium"]
        best.relationship_tier_locked = True

        form, preview, customer_count = self._preview({"vip": 5.0, "large": 10.0})

        expected = {
            "vip": (0, 0.0),
            "large": (1, 1900.0),
            "medium": (3, 5500.0),
            "small": (16, 13600.0),
        }
        self.assertEqual(preview, expected)
        self.assertEqual(customer_count, 20, "the locked customer is a buyer too")
        form.save().action_apply()
        self.assertEqual(self.tiers["vip"].top_percent, 5.0)
        self.assertEqual(self._classified(), preview)
        self.assertEqual(best.relationship_tier_id, self.tiers["medium"], "locked")
        self.assertEqual(customers[1].relationship_tier_id, self.tiers["large"])

    def test_preview_breaks_ties_by_partner_id(self):
        """Ten buyers, three of them tied at the top; a customer whose credit
        note cancels its invoice has sales but no revenue. No classification
        the preview reads the figures the classification stored.

        Ties are broken by partner id, not by name: Z (created first, lowest
        id) ranks 1, Y 2, X 3, then 400, 300 (ranks 4, 5) and 200, 150, 100,
        50, 25 (ranks 6..10). The refunded customer is inactive and not a
        buyer: N = 10 (with it, N = 11 and Large would reach rank 3).
        - VIP top 10 %: rank <= 1: Z (500).
        - Large top 20 %: rank <= 2: Y (500).
        - Medium top 50 %: rank <= 5: X, 400, 300 (1200).
        - Small: the five others (200 + 150 + 100 + 50 + 25 = 525).
        """
        tied = [self._customer(name) for name in ("Z Đồng hạng", "Y Đồng hạng")]
        tied.append(self._customer("X Đồng hạng"))
        for customer in tied:
            self._invoice(customer, "2026-03-01", 500.0)
        for amount in (400.0, 300.0, 200.0, 150.0, 100.0, 50.0, 25.0):
            self._invoice(self._customer(f"Khách {amount:.0f}"), "2026-03-01", amount)
        refunded = self._customer("Khách trả hàng")
        self._invoice(refunded, "2026-02-01", 800.0)
        self._invoice(refunded, "2026-02-15", 800.0, move_type="out_refund")
        self._recompute()

        form, preview, customer_count = self._preview(
            {"vip": 10.0, "large": 20.0, "medium": 50.0}
        )

        self.assertEqual(customer_count, 10)
        self.assertEqual(
            preview,
            {
                "vip": (1, 500.0),
                "large": (1, 500.0),
                "medium": (3, 1200.0),
                "small": (5, 525.0),
            },
        )
        form.save().action_apply()
        self.assertEqual(self._classified(), preview)
        self.assertEqual(
            [customer.relationship_tier_id.code for customer in tied],
            ["vip", "large", "medium"],
        )
        self.assertEqual(refunded.relationship_tier_id, self.tiers["inactive"])

    def test_preview_reads_the_last_classification(self):
        """The preview places the customers by what the last classification
        stored, without reading the invoices; Apply classifies again, with the
        invoices posted since.

        Classified: A 300, B 200, C 100, so N = 3 and VIP top 34 % reaches
        rank ceil(3 * 0.34) = 2: A and B (500). D's invoice of 400 is posted
        after the classification: the preview does not see it. Apply then
        counts N = 4, VIP reaches rank ceil(4 * 0.34) = 2: D and A (700).
        (Large top 50 % and Medium top 75 % keep the order reachable.)
        """
        for name, amount in (("A", 300.0), ("B", 200.0), ("C", 100.0)):
            self._invoice(self._customer(f"Khách {name}"), "2026-03-01", amount)
        self._recompute()
        late = self._customer("Khách D")
        self._invoice(late, "2026-06-01", 400.0)

        form, preview, customer_count = self._preview(
            {"vip": 34.0, "large": 50.0, "medium": 75.0}
        )

        self.assertEqual(customer_count, 3)
        self.assertEqual(preview["vip"], (2, 500.0))
        form.save().action_apply()
        self.assertEqual(self._classified()["vip"], (2, 700.0))
        self.assertEqual(late.relationship_tier_id, self.tiers["vip"])

    def test_preview_counts_each_commercial_partner_once(self):
        """A contact holds the classification of its company and is no buyer of
        its own; a branch that is a company buys in its own name, under a
        parent company; a person without a company buys too. N = 3: the
        parent (300), the branch (200) and the person (100).
        - VIP top 34 %: rank <= ceil(3 * 0.34) = 2: parent and branch (500).
        - Large top 50 %: rank <= 2, nobody left; Medium top 75 %: rank <= 3:
          the person (100).
        """
        parent = self._customer("Tập đoàn Mẹ")
        contact = self.env["res.partner"].create(
            {"name": "Chị Lan", "parent_id": parent.id}
        )
        branch = self._customer("Chi nhánh Đà Nẵng", parent_id=parent.id)
        person = self.env["res.partner"].create({"name": "Anh Minh"})
        for partner, amount in ((parent, 300.0), (branch, 200.0), (person, 100.0)):
            self._invoice(partner, "2026-03-01", amount)
        self._recompute()
        self.assertEqual(contact.with_company(self.company).period_revenue, 300.0)

        form, preview, customer_count = self._preview(
            {"vip": 34.0, "large": 50.0, "medium": 75.0}
        )

        self.assertEqual(customer_count, 3)
        self.assertEqual(
            preview,
            {
                "vip": (2, 500.0),
                "large": (0, 0.0),
                "medium": (1, 100.0),
                "small": (0, 0.0),
            },
        )
        wizard = form.save()
        self.assertEqual(sum(wizard.line_ids.mapped("current_count")), 3)
        self.assertEqual(sum(wizard.line_ids.mapped("current_revenue")), 600.0)
        wizard.action_apply()
        self.assertEqual(self._classified(), preview)

    def test_preview_of_a_company_one_does_not_work_in_is_refused(self):
        other = self.env["res.company"].create({"name": "Công ty khác"})
        Simulation = self.env["crm.relationship.tier.simulation"].with_user(
            self.relationship_manager
        )
        spec = {"company_id": {}, "customer_count": {}}
        with self.assertRaisesRegex(AccessError, "company you work in"):
            Simulation.onchange({"company_id": other.id}, [], spec)
        with self.assertRaisesRegex(AccessError, "company you work in"):
            Simulation.new({"company_id": other.id}).mapped("customer_count")
        own = Simulation.onchange({"company_id": self.company.id}, [], spec)
        self.assertEqual(own["value"]["customer_count"], 0)

    def test_opening_the_preview_groups_the_customers_once(self):
        """The web client's first onchange takes two snapshots of the wizard,
        the first with the initial count of buyers (0): both preview with the
        company's count, so the customers are counted and grouped once."""
        for index, amount in enumerate((300.0, 200.0, 100.0)):
            self._invoice(self._customer(f"Khách mở {index}"), "2026-03-01", amount)
        self._recompute()
        Simulation = self.env["crm.relationship.tier.simulation"].with_user(
            self.relationship_manager
        )
        # the fields of the wizard's form view, as the web client asks them
        line_fields = (
            "sequence",
            "tier_id",
            "threshold_type",
            "min_amount",
            "top_percent",
            "simulated_count",
        )
        spec = {
            "customer_count": {},
            "company_id": {},
            "tier_basis": {},
            "line_ids": {"fields": dict.fromkeys(line_fields, {})},
        }
        with patch.object(
            type(Simulation),
            "_read_groups",
            autospec=True,
            side_effect=type(Simulation)._read_groups,
        ) as read_groups:
            result = Simulation.onchange({}, [], spec)
        self.assertEqual(read_groups.call_count, 1)
        self.assertEqual(result["value"]["customer_count"], 3)
        counts = [
            command[2]["simulated_count"]
            for command in result["value"]["line_ids"]
            if command[0] == 0
        ]
        self.assertEqual(sum(counts), 3, "every buyer is placed")
