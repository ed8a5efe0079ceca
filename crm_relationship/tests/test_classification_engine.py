from odoo.tests import tagged

from .common import CrmRelationshipCommon


@tagged("post_install", "-at_install")
class TestClassificationEngine(CrmRelationshipCommon):
    """Each run compares what the rules give now with what is stored: it writes
    only what differs, sees any change of the facts, and repairs a value
    changed behind its back."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls._customer("Công ty Tự Sửa")
        cls.contact = cls.env["res.partner"].create(
            {"name": "Anh Tuấn", "parent_id": cls.customer.id}
        )
        cls.invoice = cls._invoice(cls.customer, "2026-05-10", 1000.0)
        cls._invoice(cls._customer("Công ty Khác"), "2026-04-10", 300.0)
        cls.env["res.partner"]._recompute_relationship(
            as_of=cls.as_of, company_ids=cls.company.ids
        )

    def _tamper(self, column, value, partner=None):
        """Change a stored value with SQL, as a bug or a hand fix would."""
        self.env.flush_all()
        self.env.cr.execute(
            f"""UPDATE res_partner SET {column} = jsonb_set(COALESCE({column},
                    '{{}}'::jsonb), %s, %s::jsonb) WHERE id = %s""",
            [[str(self.company.id)], value, (partner or self.customer).id],
        )
        self.env.invalidate_all()

    def test_unchanged_facts_write_nothing(self):
        self.assertEqual(self._recompute(), 0)
        self.assertEqual(self._recompute(self.customer), 0)

    def test_tampered_values_are_repaired_by_the_next_run(self):
        self.assertEqual(self.customer.relationship_tier_id, self.tiers["vip"])
        self.assertEqual(self.customer.period_revenue, 1000.0)
        next_care_date = self.customer.next_care_date
        for column, value in [
            ("relationship_tier_id", str(self.tiers["small"].id)),
            ("period_revenue", "999999.0"),
            ("next_care_date", '"2099-12-31"'),
            ("care_status", '"on_time"'),
            ("relationship_status", '"loyal"'),
        ]:
            self._tamper(column, value)
        self.assertEqual(self.customer.relationship_tier_id, self.tiers["small"])
        self.assertEqual(self._recompute(), 1, "only the tampered customer")
        self.assertEqual(self.customer.relationship_tier_id, self.tiers["vip"])
        self.assertEqual(self.customer.period_revenue, 1000.0)
        self.assertEqual(self.customer.next_care_date, next_care_date)
        self.assertEqual(self.customer.care_status, "overdue")
        self.assertEqual(self.customer.relationship_status, "new")
        # a contact out of step with its company is repaired too, by a partial run
        self._tamper("period_revenue", "1.0", self.contact)
        self.assertEqual(self._recompute(self.customer), 1)
        self.assertEqual(self.contact.period_revenue, 1000.0)
        self.assertEqual(self._recompute(), 0)

    def test_changes_are_seen_by_the_next_run(self):
        self.assertEqual(self.customer.care_phase, "in_sale")
        self.assertEqual(self.customer.relationship_status, "new")
        # a payment: the sale is over
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=self.invoice.ids
        ).create({"payment_date": "2026-06-20"})._create_payments()
        self._recompute()
        self.assertEqual(self.customer.care_phase, "post_sale")
        # a credit note, then the same one back to draft
        refund = self._invoice(
            self.customer, "2026-06-01", 400.0, move_type="out_refund"
        )
        self._recompute()
        self.assertEqual(self.customer.period_revenue, 600.0)
        refund.button_draft()
        self._recompute()
        self.assertEqual(self.customer.period_revenue, 1000.0)
        # a complaint past its deadline
        self.env["crm.relationship.feedback"].sudo().create(
            {
                "name": "Giao hàng trễ",
                "partner_id": self.contact.id,
                "date_received": "2026-06-28 08:00:00",
            }
        )
        self._recompute()
        self.assertEqual(self.customer.relationship_status, "needs_care")
        # tier thresholds: the customer is in the top 1 %, but not above 5,000
        self.tiers["vip"].write({"threshold_type": "amount", "min_amount": 5000.0})
        self._recompute()
        self.assertEqual(self.customer.relationship_tier_id, self.tiers["large"])
        # a setting: margin 30 % -> 60 % doubles the lifetime value
        lifetime_value = self.customer.lifetime_value
        self.company.relationship_margin_rate = 60.0
        self._recompute()
        self.assertAlmostEqual(self.customer.lifetime_value, lifetime_value * 2, 2)
        # the date: 3 windows after the last purchase the customer is lost
        self._recompute(as_of="2029-06-30")
        self.assertEqual(self.customer.relationship_status, "lost")

    def test_rfm_quintiles_and_ranks_over_the_whole_company(self):
        """Ten buyers with revenue 100..1000 (the first two tied on 100): the
        monetary score is ceil(5 * share of revenues <= own), ranks by revenue
        then partner id."""
        buyers = self.env["res.partner"]
        for index, amount in enumerate([100, 100, 300, 400, 500, 600, 700, 800, 900]):
            buyer = self._customer(f"Khách {index}")
            self._invoice(buyer, "2026-06-01", amount)
            buyers |= buyer
        # a partial run places its customer among the figures the others hold:
        # 100 among 1000 and 300 (the new buyers hold none yet): ceil(5 / 3)
        self._recompute(buyers[:1])
        self.assertEqual(buyers[0].rfm_monetary_score, 2)
        self._recompute()
        # 11 buyers: 100, 100, 300 (other), 300, 400 ... 900, 1000 (customer)
        self.assertEqual(
            [b.rfm_monetary_score for b in buyers], [1, 1, 2, 3, 3, 4, 4, 5, 5]
        )
        self.assertEqual(self.customer.rfm_monetary_score, 5)
        self.assertEqual(self.customer.relationship_revenue_rank, 1)
        self.assertEqual(buyers[0].relationship_revenue_rank, 10)
        self.assertEqual(buyers[1].relationship_revenue_rank, 11, "tie: by id")

    def test_a_partial_run_reads_the_facts_of_its_own_customers(self):
        other = self.env["res.partner"].search([("name", "=", "Công ty Khác")])
        self.assertEqual(other.relationship_status, "new")
        for partner in (self.contact, other):
            self.env["crm.relationship.feedback"].sudo().create(
                {
                    "name": "Giao hàng trễ",
                    "partner_id": partner.id,
                    "date_received": "2026-06-28 08:00:00",
                }
            )
        self.assertEqual(self._recompute(self.customer), 1)
        self.assertEqual(self.customer.relationship_status, "needs_care")
        self.assertEqual(other.relationship_status, "new", "not in the scope")
        self.assertEqual(self._recompute(), 1, "the other customer only")
        self.assertEqual(other.relationship_status, "needs_care")

    def test_prospects_are_per_company(self):
        other = self.setup_other_company()["company"]
        shared_buyer = self._customer("Khách Chung", customer_rank=1)
        self._invoice(shared_buyer, "2026-05-01", 500.0)
        shared_lead = self._customer("Khách Tiềm Năng Chung", customer_rank=1)
        self.env.user.company_ids += other
        own = self.env["res.partner"].create(
            {
                "name": "Khách Riêng B",
                "is_company": True,
                "customer_rank": 1,
                "company_id": other.id,
            }
        )
        partners = shared_buyer | shared_lead | own
        partners._recompute_relationship(
            as_of=self.as_of, company_ids=(self.company | other).ids
        )
        potential_b = self.env["crm.relationship.tier"].search(
            [("company_id", "=", other.id), ("code", "=", "potential")]
        )
        in_b = partners.with_company(other)
        self.assertFalse(
            in_b[0].relationship_tier_id,
            "a shared partner buying from A is not B's prospect by that alone",
        )
        self.assertEqual(in_b[1].relationship_tier_id, potential_b)
        self.assertEqual(in_b[2].relationship_tier_id, potential_b)
        self.assertEqual(shared_lead.relationship_tier_id, self.tiers["potential"])
        self.assertFalse(own.relationship_tier_id, "B's own partner: not A's prospect")

    def test_amounts_rounded_with_the_company_currency(self):
        vnd = self.env.ref("base.VND")
        vnd.active = True
        company = self.setup_other_company(currency_id=vnd.id)["company"]
        self.env.user.company_ids += company
        customer = self._customer("Công ty Đồng")
        self._invoice(customer, "2026-05-01", 1000001.0, company=company)
        customer._recompute_relationship(as_of=self.as_of, company_ids=company.ids)
        value = customer.with_company(company).lifetime_value
        # 1,000,001 a year x 30 % margin x sum(0.6^(t-1) / 1.1^t, t = 1..5)
        factor = sum(0.6 ** (t - 1) / 1.1**t for t in range(1, 6))
        self.assertEqual(value, round(1000001 * 0.3 * factor))
        self.assertEqual(value, int(value), "VND has no decimals")

    def test_a_run_keeps_no_lock_behind(self):
        self._recompute()
        self.env.cr.execute(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = "
            "pg_backend_pid()"
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
