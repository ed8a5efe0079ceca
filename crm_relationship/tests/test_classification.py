from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, tagged

from .common import CrmRelationshipCommon


@tagged("post_install", "-at_install")
class TestClassification(CrmRelationshipCommon):
    """Classification rules (docs/rules.md, Tiers, RFM, Relationship status,
    Lifetime value) on real posted invoices, as of 2026-06-30.

    The window is (2025-06-30, 2026-06-30], the previous one
    (2024-06-30, 2025-06-30].
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.setup_other_currency("EUR", rates=[("2020-01-01", 2.0)])

    def test_revenue_figures_from_invoices_credit_notes_currency_and_contacts(self):
        customer = self._customer("Công ty TNHH Hoa Sen")
        contact = self.env["res.partner"].create(
            {"name": "Chị Lan", "parent_id": customer.id}
        )
        self._invoice(customer, "2026-03-01", 1000.0)
        self._invoice(customer, "2026-04-01", 200.0, move_type="out_refund")
        self._invoice(customer, "2026-05-01", 1000.0, currency=self.eur)  # 500 USD
        self._invoice(contact, "2026-06-30", 300.0)  # the window's last day
        self._invoice(customer, "2025-06-30", 400.0)  # previous window's last day
        self._invoice(customer, "2026-06-15", 9999.0, post=False)  # draft
        self._invoice(customer, "2026-07-01", 7777.0)  # after the analysis date

        self._recompute(customer)

        self.assertEqual(customer.period_revenue, 1600.0)
        self.assertEqual(customer.previous_period_revenue, 400.0)
        self.assertEqual(customer.historical_revenue, 2000.0)
        self.assertEqual(customer.purchase_count, 3)
        self.assertEqual(str(customer.first_purchase_date), "2025-06-30")
        self.assertEqual(str(customer.last_purchase_date), "2026-06-30")
        self.assertEqual(customer.relationship_status, "growing")
        self.assertEqual(contact.period_revenue, 1600.0, "contacts mirror")
        self.assertEqual(contact.relationship_tier_id, self.tiers["vip"])

    def test_default_tiers_rank_customers_by_revenue(self):
        # 40 customers with revenue: vip = top ceil(0.4) = 1, large up to rank
        # ceil(2) = 2, medium up to rank ceil(8) = 8, small the 32 others.
        customers = self.env["res.partner"]
        for index in range(40):
            customer = self._customer(f"Khách hàng {index:02d}")
            amount = 5000.0 - 100 * index
            if index == 2:
                amount = 4900.0  # ties with index 1: the lower id ranks first
            self._invoice(customer, "2026-02-01", amount)
            customers |= customer
        self._recompute()

        codes = [c.relationship_tier_id.code for c in customers]
        self.assertEqual(codes[:9], ["vip", "large"] + ["medium"] * 6 + ["small"])
        self.assertEqual(codes.count("small"), 32)
        self.assertEqual(customers[1].relationship_revenue_rank, 2)
        self.assertEqual(customers[2].relationship_revenue_rank, 3)
        self.assertEqual(customers[0].relationship_level, "partnership")
        self.assertEqual(customers[-1].relationship_level, "reactive")
        self.assertIn("top 1 %", customers[0].relationship_tier_reason)

    def test_amount_tiers_first_match_wins(self):
        self.tiers["small"].write({"threshold_type": "amount", "min_amount": 100.0})
        self.tiers["medium"].write({"threshold_type": "amount", "min_amount": 1000.0})
        self.tiers["large"].write({"threshold_type": "amount", "min_amount": 5000.0})
        self.tiers["vip"].write({"threshold_type": "amount", "min_amount": 20000.0})
        amounts = [20000.0, 19999.99, 5000.0, 1000.0, 999.0, 99.0]
        customers = [self._customer(f"KH {amount}") for amount in amounts]
        for customer, amount in zip(customers, amounts, strict=True):
            self._invoice(customer, "2026-01-10", amount)
        self._recompute()
        self.assertEqual(
            [c.relationship_tier_id.code for c in customers],
            ["vip", "large", "large", "medium", "small", False],
        )
        self.assertIn("reaches", customers[0].relationship_tier_reason)

    def test_inactive_potential_and_unclassified(self):
        refunded = self._customer("Hoàn tiền")
        self._invoice(refunded, "2026-02-01", 500.0)
        self._invoice(refunded, "2026-02-10", 500.0, move_type="out_refund")
        lapsed = self._customer("Ngưng mua")
        self._invoice(lapsed, "2025-01-15", 800.0)
        prospect = self._customer("Tiềm năng", customer_rank=1)
        with_opportunity = self._customer("Có cơ hội")
        self.env["crm.lead"].create(
            {
                "name": "Cơ hội",
                "type": "opportunity",
                "partner_id": with_opportunity.id,
                "company_id": self.company.id,
            }
        )
        stranger = self._customer("Chưa liên quan")
        self._recompute()

        self.assertEqual(refunded.relationship_tier_id, self.tiers["inactive"])
        self.assertEqual(lapsed.relationship_tier_id, self.tiers["inactive"])
        self.assertEqual(prospect.relationship_tier_id, self.tiers["potential"])
        self.assertEqual(with_opportunity.relationship_tier_id, self.tiers["potential"])
        self.assertFalse(prospect.relationship_status, "a prospect has no status")
        self.assertEqual(prospect.relationship_level, "basic")
        self.assertFalse(stranger.relationship_tier_id)

    def test_statuses(self):
        def customer_with(name, *invoices):
            customer = self._customer(name)
            for invoice_date, amount in invoices:
                move_type = "out_refund" if amount < 0 else "out_invoice"
                self._invoice(customer, invoice_date, abs(amount), move_type=move_type)
            return customer

        new = customer_with("Mới", ("2026-04-15", 100.0))
        old_new = customer_with("Không còn mới", ("2026-03-31", 100.0))
        active = customer_with(
            "Đang giao dịch", ("2025-03-01", 100.0), ("2026-03-01", 90.0)
        )
        loyal = customer_with(
            "Trung thành",
            ("2024-12-01", 300.0),
            ("2025-08-01", 100.0),
            ("2025-11-01", 100.0),
            ("2026-05-01", 100.0),
        )
        growing = customer_with(
            "Tăng trưởng", ("2025-03-01", 100.0), ("2026-03-01", 130.0)
        )
        declining = customer_with(
            "Sụt giảm", ("2025-03-01", 100.0), ("2026-03-01", 70.0)
        )
        stopped = customer_with("Ngưng", ("2025-03-01", 100.0))
        sleeping = customer_with("Ngủ đông", ("2024-03-01", 100.0))
        gone = customer_with("Đã mất", ("2023-06-30", 100.0))
        ended = customer_with("Chấm dứt", ("2026-03-01", 100.0))
        ended.sudo().relationship_end_date = "2026-06-01"
        self._recompute()

        self.assertEqual(new.relationship_status, "new")
        self.assertEqual(old_new.relationship_status, "active")
        self.assertEqual(active.relationship_status, "active")
        self.assertEqual(loyal.relationship_status, "loyal")
        self.assertEqual(growing.relationship_status, "growing")
        self.assertEqual(declining.relationship_status, "needs_care")
        self.assertEqual(stopped.relationship_status, "needs_care")
        self.assertEqual(sleeping.relationship_status, "low_potential")
        self.assertEqual(gone.relationship_status, "lost")
        self.assertEqual(ended.relationship_status, "lost")
        self.assertIn("70.00", declining.relationship_status_reason)
        self.assertIn("ended", ended.relationship_status_reason)
        # lost by age: the rule's own months (3 windows of 12)
        self.assertIn("more than 36 months ago", gone.relationship_status_reason)

    def test_rfm_scores_and_segments(self):
        customers = self.env["res.partner"]
        # five buyers: recency and frequency rise together, money the other way
        for index in range(5):
            customer = self._customer(f"RFM {index}")
            for purchase in range(index + 1):
                self._invoice(customer, f"2026-0{index + 1}-{purchase + 1:02d}", 100.0)
            self._invoice(customer, "2026-01-20", 1000.0 * (5 - index))
            customers |= customer
        refund_only = self._customer("Chỉ hoàn tiền")
        self._invoice(refund_only, "2025-03-01", 50.0)
        self._invoice(refund_only, "2026-03-01", 50.0, move_type="out_refund")
        self._recompute()

        scores = [
            (c.rfm_recency_score, c.rfm_frequency_score, c.rfm_monetary_score)
            for c in customers
        ]
        self.assertEqual(
            scores, [(1, 1, 5), (2, 2, 4), (3, 3, 3), (4, 4, 2), (5, 5, 1)]
        )
        self.assertEqual(
            customers.mapped("rfm_segment"),
            ["lost", "hibernating", "need_attention", "loyal", "champions"],
        )
        self.assertFalse(refund_only.rfm_segment, "no RFM without positive revenue")
        self.assertFalse(refund_only.rfm_recency_score)

    def test_lifetime_value_with_fallback_retention(self):
        customer = self._customer("Giá trị trọn đời")
        self._invoice(customer, "2026-01-15", 12000.0)
        self._recompute(customer)
        # m = 12,000 x 12 / 12 x 30 % = 3,600; fewer than 20 previous buyers, so
        # r = 60 %; d = 10 %, H = 5: 3272.727273 + 1785.123967 + 973.703982
        # + 531.111262 + 289.697059 = 6852.363543
        self.assertEqual(customer.lifetime_value, 6852.36)

    def test_lifetime_value_with_measured_retention(self):
        # 20 buyers of the previous window, 15 of whom bought again: r = 75 %
        for index in range(20):
            customer = self._customer(f"Quay lại {index}")
            self._invoice(customer, "2025-02-01", 100.0)
            if index < 15:
                self._invoice(customer, "2026-02-01", 1000.0)
        customer = self._customer("Đo lường")
        self._invoice(customer, "2026-05-01", 2000.0)
        self._recompute()
        # m = 2,000 x 30 % = 600; 600/1.1 + 450/1.21 + 337.5/1.331 + 253.125/1.4641
        # + 189.84375/1.61051 = 545.454545 + 371.900826 + 253.568745
        # + 172.887781 + 117.878808 = 1461.690705
        self.assertEqual(customer.lifetime_value, 1461.69)

    def test_locked_tier_survives_recompute(self):
        customer = self._customer("Khóa hạng")
        self._invoice(customer, "2026-02-01", 100.0)
        self._recompute()
        self.assertEqual(customer.relationship_tier_id, self.tiers["vip"])

        customer.relationship_tier_id = self.tiers["medium"]
        self.assertTrue(customer.relationship_tier_locked)
        self.assertEqual(customer.relationship_level, "accountable")
        self._recompute()
        self.assertEqual(customer.relationship_tier_id, self.tiers["medium"])
        self.assertEqual(customer.relationship_tier_reason, "Set by hand and locked.")

        customer.action_unlock_relationship_tier()
        self.assertEqual(customer.relationship_tier_id, self.tiers["vip"])
        self.assertEqual(customer.relationship_level, "partnership")

    def test_as_of_date(self):
        customer = self._customer("Theo ngày")
        self._invoice(customer, "2026-03-01", 100.0)
        self._recompute(customer, as_of="2026-02-28")
        # posting made it a customer (customer_rank): a prospect until it bought
        self.assertEqual(customer.relationship_tier_id, self.tiers["potential"])
        self.assertFalse(customer.period_revenue)
        self.assertFalse(customer.relationship_status)
        self._recompute(customer, as_of="2027-02-28")
        self.assertEqual(customer.period_revenue, 100.0)
        self.assertEqual(customer.relationship_status, "active")
        self._recompute(customer, as_of="2027-03-01")
        self.assertEqual(customer.relationship_tier_id, self.tiers["inactive"])
        self.assertEqual(customer.relationship_status, "needs_care")

    def test_companies_are_isolated(self):
        other = self.setup_other_company()["company"]
        other_tiers = self.env["crm.relationship.tier"].search(
            [("company_id", "=", other.id)]
        )
        self.assertEqual(len(other_tiers), 6, "a new company gets the default tiers")
        customer = self._customer("Hai công ty")
        self._invoice(customer, "2026-02-01", 100.0)
        self._invoice(customer, "2026-02-01", 9000.0, company=other)
        self.env["res.partner"]._recompute_relationship(
            as_of=self.as_of, company_ids=(self.company | other).ids
        )
        here = customer.with_company(self.company)
        there = customer.with_company(other)
        self.assertEqual(here.period_revenue, 100.0)
        self.assertEqual(there.period_revenue, 9000.0)
        self.assertEqual(here.relationship_tier_id.company_id, self.company)
        self.assertEqual(there.relationship_tier_id.company_id, other)

        self._recompute()  # only this company: the other one's figures stay
        self.assertEqual(there.period_revenue, 9000.0)

    def test_recompute_is_idempotent_and_writes_only_changes(self):
        self._recompute()  # settle the partners of the accounting test setup
        customers = [self._customer(f"Lặp {index}") for index in range(3)]
        for index, customer in enumerate(customers):
            self._invoice(customer, "2026-02-01", 100.0 * (index + 1))
        self.assertEqual(self._recompute(), 3)
        self.assertEqual(self._recompute(), 0)
        self._invoice(customers[0], "2026-02-01", 50.0, move_type="out_refund")
        # one partner's revenue and LTV changed; no rank or quintile moved
        self.assertEqual(self._recompute(), 1)

    def test_cron_classifies_every_company(self):
        customer = self._customer("Lịch chạy")
        self._invoice(customer, "2026-02-01", 100.0)
        self.env["res.partner"]._cron_recompute_relationship(as_of="2026-06-30")
        self.assertEqual(customer.relationship_tier_id, self.tiers["vip"])

    def test_contacts_created_later_show_the_company_values(self):
        customer = self._customer("Công ty mẹ")
        self._invoice(customer, "2026-02-01", 100.0)
        self._recompute()
        contact = self.env["res.partner"].create(
            {"name": "Anh Minh", "parent_id": customer.id}
        )
        self.assertEqual(contact.relationship_tier_id, self.tiers["vip"])
        self.assertEqual(contact.period_revenue, 100.0)

    def test_region_scope_from_the_company_address(self):
        vietnam = self.env.ref("base.vn")
        hanoi, danang = self.env["res.country.state"].create(
            [
                {"name": "Thành phố A", "code": "ZZ1", "country_id": vietnam.id},
                {"name": "Tỉnh B", "code": "ZZ2", "country_id": vietnam.id},
            ]
        )
        self.company.write({"country_id": vietnam.id, "state_id": hanoi.id})
        local = self._customer("Bản địa", country_id=vietnam.id, state_id=hanoi.id)
        domestic = self._customer(
            "Ngoại tỉnh", country_id=vietnam.id, state_id=danang.id
        )
        foreign = self._customer("Quốc tế", country_id=self.env.ref("base.fr").id)
        for customer in local | domestic | foreign:
            self._invoice(customer, "2026-02-01", 100.0)
        self._recompute()
        self.assertEqual(
            (local | domestic | foreign).mapped("region_scope"),
            ["local", "domestic", "international"],
        )

    def test_relationship_user_cannot_change_tiers_or_thresholds(self):
        customer = self._customer("Quyền hạn")
        self._invoice(customer, "2026-02-01", 100.0)
        self._recompute()
        as_user = customer.with_user(self.relationship_user)
        self.assertEqual(as_user.relationship_tier_id, self.tiers["vip"])
        with self.assertRaises(AccessError):
            as_user.relationship_tier_id = self.tiers["small"]
        with self.assertRaises(AccessError):
            as_user.relationship_tier_locked = True
        with self.assertRaises(AccessError):
            self.tiers["vip"].with_user(self.relationship_user).top_percent = 2.0
        with self.assertRaises(AccessError):
            self.company.with_user(
                self.relationship_user
            ).relationship_window_months = 6
        with self.assertRaises(AccessError):
            as_user.action_recompute_relationship()
        as_user.customer_segment = "retailer"  # profile fields stay editable
        self.assertEqual(customer.customer_segment, "retailer")

        as_manager = customer.with_user(self.relationship_manager)
        as_manager.relationship_tier_id = self.tiers["small"]
        self.assertEqual(customer.relationship_tier_id, self.tiers["small"])

    def test_tier_simulation_previews_then_applies(self):
        customers = [self._customer(f"Mô phỏng {index}") for index in range(10)]
        for index, customer in enumerate(customers):
            self._invoice(customer, "2026-02-01", 1000.0 - 10 * index)
        self._recompute()
        simulation = Form(
            self.env["crm.relationship.tier.simulation"].with_user(
                self.relationship_manager
            )
        )
        self.assertEqual(simulation.customer_count, 10)
        with simulation.line_ids.edit(0) as vip_line:
            self.assertEqual(vip_line.tier_id, self.tiers["vip"])
            self.assertEqual(vip_line.current_count, 1)
            vip_line.threshold_type = "amount"
            vip_line.min_amount = 980.0
            self.assertEqual(vip_line.simulated_count, 3)
            self.assertEqual(vip_line.simulated_revenue, 1000.0 + 990.0 + 980.0)
        self.assertEqual(self.tiers["vip"].threshold_type, "top_percent", "not saved")
        simulation.save().action_apply()
        self.assertEqual(self.tiers["vip"].min_amount, 980.0)
        self.assertEqual(customers[2].relationship_tier_id, self.tiers["vip"])

    def test_tier_simulation_refuses_an_unreachable_order(self):
        simulation = Form(self.env["crm.relationship.tier.simulation"])
        with simulation.line_ids.edit(0) as vip_line:
            vip_line.top_percent = 30.0  # the large tier (top 5 %) can never match
        wizard = simulation.save()
        with self.assertRaises(ValidationError):
            wizard.action_apply()
        self.assertEqual(self.tiers["vip"].top_percent, 1.0, "nothing half-saved")
