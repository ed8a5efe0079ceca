from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, tagged

from odoo.addons.base.tests.test_ir_cron import CronMixinCase

from ..models.crm_relationship_kpi_customers import KPI_FIGURES
from .common import CrmRelationshipCommon

# retention lifetime value of 1 of yearly revenue with the company defaults
# (margin 30 %, fallback retention 60 % under 20 measurable customers,
# discount 10 %, 5 years): 0.3 * sum(0.6^(t-1) / 1.1^t, t = 1..5)
LTV_PER_REVENUE = 0.3 * sum(0.6 ** (t - 1) / 1.1**t for t in range(1, 6))


@tagged("post_install", "-at_install")
class TestKpi(CrmRelationshipCommon):
    """Snapshot of 2026-06-30, window (2025-06-30, 2026-06-30], previous window
    (2024-06-30, 2025-06-30]:

    ==  ======================================  ========  ======  =========  ====
    ..  invoices                                previous  window  purchases  team
    ==  ======================================  ========  ======  =========  ====
    A   2024-09-10 100, 2025-09-10 200,         100       500     2          N
        2026-03-10 300
    B   2024-10-01 500                          500       0       0
    C   2025-01-15 400, 2026-05-01 1000         400       1000    1
    D   2026-02-01 50, 2026-04-01 50 (new)      0         100     2          N
    E   2025-03-01 300, 2026-01-10 200,         300       0       1
        credit note 2026-02-10 200
    F   2024-01-01 100 (before both windows)    0         0       0
    ==  ======================================  ========  ======  =========  ====

    Active now: A, C, D (3); new: D; retained of A, B, C, E: A, C (50 %);
    repeat: A, D of 3; tiers among 3 buyers: C vip (top 1 % = 1), A and D
    small; vip and large revenue 1000 of 1600.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Kpi = cls.env["crm.relationship.kpi"]
        cls.Value = cls.env["crm.relationship.kpi.value"]
        cls.kpis = {kpi.code: kpi for kpi in cls.Kpi.search([])}
        cls.seller = cls.env["res.users"].create(
            {
                "name": "North seller",
                "login": "north_seller",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
            }
        )
        cls.team = cls.env["crm.team"].create(
            {
                "name": "North",
                "company_id": cls.company.id,
                "crm_team_member_ids": [Command.create({"user_id": cls.seller.id})],
            }
        )
        c = cls._customer
        cls.a = c("A", user_id=cls.seller.id)
        cls.b = c("B")
        cls.c = c("C")
        cls.d = c("D", user_id=cls.seller.id)
        cls.e = c("E")
        cls.f = c("F")
        for partner, day, amount in [
            (cls.a, "2024-09-10", 100),
            (cls.a, "2025-09-10", 200),
            (cls.a, "2026-03-10", 300),
            (cls.b, "2024-10-01", 500),
            (cls.c, "2025-01-15", 400),
            (cls.c, "2026-05-01", 1000),
            (cls.d, "2026-02-01", 50),
            (cls.d, "2026-04-01", 50),
            (cls.e, "2025-03-01", 300),
            (cls.e, "2026-01-10", 200),
            (cls.f, "2024-01-01", 100),
        ]:
            cls._invoice(partner, day, amount)
        cls._invoice(cls.e, "2026-02-10", 200, move_type="out_refund")

    def _values(self, company=None, date=None, breakdown="total"):
        values = self.Value.search(
            [
                ("company_id", "=", (company or self.company).id),
                ("date", "=", date or self.as_of),
                ("breakdown", "=", breakdown),
            ]
        )
        return values

    def _by_code(self, values):
        result = {}
        for value in values:
            self.assertNotIn(value.code, result, "one value per KPI and breakdown")
            result[value.code] = value.value
        return result

    def test_customer_kpis_of_the_company(self):
        self.Kpi._recompute_kpis(as_of=self.as_of, company_ids=self.company.ids)
        values = self._by_code(self._values())
        self.assertEqual(
            set(values),
            {
                "active_customers",
                "new_customers",
                "retention_rate",
                "churn_rate",
                "repeat_purchase_rate",
                "average_lifetime_value",
                "top_tier_revenue_share",
                "average_health_score",
                "at_risk_customers",
            },
            "no feedback, care or program data nor predictive method: those KPIs "
            "store nothing",
        )
        self.assertEqual(values["active_customers"], 3)
        self.assertEqual(values["new_customers"], 1)
        self.assertAlmostEqual(values["retention_rate"], 50.0)
        self.assertAlmostEqual(values["churn_rate"], 50.0)
        self.assertAlmostEqual(values["repeat_purchase_rate"], 200 / 3)
        self.assertAlmostEqual(
            values["average_lifetime_value"], LTV_PER_REVENUE * 1600 / 3, places=2
        )
        self.assertAlmostEqual(values["top_tier_revenue_share"], 62.5)
        churn = self._values().filtered(lambda v: v.code == "churn_rate")
        self.assertEqual(churn.date_from, fields.Date.to_date("2025-07-01"))
        self.assertEqual(churn.date_to, self.as_of)
        self.assertEqual(churn.target, 30.0)
        self.assertFalse(churn.on_target, "50 % churn misses a 30 % ceiling")

    def test_lifetime_value_matches_the_classification(self):
        self.Kpi._recompute_kpis(as_of=self.as_of, company_ids=self.company.ids)
        self._recompute()
        # by hand: revenue of the window times the lifetime value of 1 of
        # yearly revenue (12-month window)
        expected = {self.a: 500.0, self.c: 1000.0, self.d: 100.0}
        for customer, revenue in expected.items():
            self.assertAlmostEqual(
                customer.lifetime_value, LTV_PER_REVENUE * revenue, places=2
            )
        average = self._by_code(self._values())["average_lifetime_value"]
        self.assertAlmostEqual(average, LTV_PER_REVENUE * 1600.0 / 3, places=2)

    def test_tier_and_team_breakdowns(self):
        self.Kpi._recompute_kpis(as_of=self.as_of, company_ids=self.company.ids)
        tiers = self._values(breakdown="tier")
        vip = self._by_code(tiers.filtered(lambda v: v.tier_id == self.tiers["vip"]))
        small = self._by_code(
            tiers.filtered(lambda v: v.tier_id == self.tiers["small"])
        )
        self.assertEqual(tiers.tier_id, self.tiers["vip"] | self.tiers["small"])
        self.assertEqual(vip["active_customers"], 1)
        self.assertAlmostEqual(vip["top_tier_revenue_share"], 62.5)
        self.assertEqual(small["active_customers"], 2)
        self.assertEqual(small["new_customers"], 1)
        self.assertAlmostEqual(small["repeat_purchase_rate"], 100.0)
        self.assertNotIn("top_tier_revenue_share", small)
        self.assertNotIn("retention_rate", small)
        teams = self._values(breakdown="team")
        self.assertEqual(teams.team_id, self.team)
        north = self._by_code(teams)
        self.assertEqual(north["active_customers"], 2)
        self.assertEqual(north["new_customers"], 1)
        self.assertAlmostEqual(north["retention_rate"], 100.0)
        self.assertAlmostEqual(north["churn_rate"], 0.0)
        self.assertAlmostEqual(north["top_tier_revenue_share"], 0.0)

    def test_past_snapshot_sees_the_past(self):
        # 2025-06-30: window (2024-06-30, 2025-06-30]: A 100, B 500, C 400,
        # E 300 active, all four new; previous window only F (not active then,
        # bought on 2024-01-01 inside it): retention 0 %
        day = fields.Date.to_date("2025-06-30")
        self.Kpi._recompute_kpis(as_of=day, company_ids=self.company.ids)
        values = self._by_code(self._values(date=day))
        self.assertEqual(values["active_customers"], 4)
        self.assertEqual(values["new_customers"], 4)
        self.assertAlmostEqual(values["retention_rate"], 0.0)
        self.assertAlmostEqual(values["repeat_purchase_rate"], 0.0)
        # ranks among 4 buyers: B vip (ceil(0.04) = 1), large ceil(0.2) = 1 none
        self.assertAlmostEqual(values["top_tier_revenue_share"], 100 * 500 / 1300)

    def test_past_snapshot_figures_are_those_of_a_full_classification(self):
        """The KPIs of a past date classify only the figures they read, each
        as a full classification of that date computes it: tier, amounts,
        lifetime value, profit, health score and band (A was called and
        answered a survey, C has a complaint past its deadline, D was never
        called)."""
        self.env["crm.relationship.interaction"].create(
            {
                "partner_id": self.a.id,
                "date": "2026-06-01",
                "summary": "Gọi điện",
                "channel_id": self.env.ref(
                    "crm_relationship.crm_relationship_channel_phone"
                ).id,
            }
        )
        self.env["crm.relationship.feedback"].create(
            [
                {
                    "name": "Giao hàng trễ",
                    "partner_id": self.c.id,
                    "feedback_type": "complaint",
                    "company_id": self.company.id,
                    "date_received": "2026-06-01 08:00:00",
                    "date_deadline": "2026-06-02 08:00:00",
                },
                {
                    "name": "Khảo sát",
                    "partner_id": self.a.id,
                    "feedback_type": "praise",
                    "company_id": self.company.id,
                    "date_received": "2026-05-01 08:00:00",
                    "date_deadline": "2026-05-02 08:00:00",
                    "csat_score": 4,
                },
            ]
        )
        Engine = self.env["crm.relationship.classification"]

        def classified(**kwargs):
            return {
                pid: values
                for batch in Engine._iter_figures(self.company, self.as_of, **kwargs)
                for pid, values in batch.items()
            }

        full = classified()
        figures = classified(sales_only=True)
        sold = {self.a.id, self.b.id, self.c.id, self.d.id, self.e.id}
        self.assertLessEqual(sold, set(figures))
        self.assertLessEqual(set(figures), set(full))
        self.assertNotIn("relationship_status", figures[self.a.id])
        for pid in sold:
            self.assertIsNotNone(figures[pid]["health_score"])
        for pid, values in figures.items():
            self.assertEqual(
                {fname: values[fname] for fname in KPI_FIGURES},
                {fname: full[pid][fname] for fname in KPI_FIGURES},
                self.env["res.partner"].browse(pid).name,
            )

    def test_rerunning_a_day_replaces_it(self):
        self.Kpi._recompute_kpis(as_of=self.as_of, company_ids=self.company.ids)
        first = self.Value.search([("company_id", "=", self.company.id)])
        self.assertTrue(first)
        self._invoice(self.b, "2026-06-15", 80)
        self.Kpi._recompute_kpis(as_of=self.as_of, company_ids=self.company.ids)
        second = self.Value.search([("company_id", "=", self.company.id)])
        second_values = sorted(second.mapped("value"))
        self.assertFalse(first.exists(), "the day's old values are gone")
        values = self._by_code(self._values())
        self.assertEqual(values["active_customers"], 4)
        self.assertAlmostEqual(values["retention_rate"], 75.0)
        self.Kpi._recompute_kpis(as_of=self.as_of, company_ids=self.company.ids)
        third = self.Value.search([("company_id", "=", self.company.id)])
        self.assertEqual(len(third), len(second))
        self.assertFalse(second.exists())
        self.assertEqual(sorted(third.mapped("value")), second_values)

    def test_companies_are_isolated(self):
        other = self.setup_other_company()["company"]
        self.Kpi._recompute_kpis(as_of=self.as_of, company_ids=other.ids)
        self.assertFalse(
            self.Value.search([("company_id", "=", other.id)]),
            "a company without sales stores no KPI rather than zeros",
        )
        self._invoice(self.b, "2026-06-01", 700, company=other)
        self.Kpi._recompute_kpis(as_of=self.as_of)
        mine = self._by_code(self._values())
        theirs = self._by_code(self._values(company=other))
        self.assertEqual(mine["active_customers"], 3)
        self.assertEqual(theirs["active_customers"], 1)
        self.assertEqual(theirs["new_customers"], 1)
        self.assertNotIn("retention_rate", theirs, "nobody bought before")
        self.assertAlmostEqual(theirs["top_tier_revenue_share"], 100.0)
        # the plain user of the first company sees its values only
        visible = self.Value.with_user(self.relationship_user).search([])
        self.assertEqual(visible.company_id, self.company)

    def test_company_target_and_colour(self):
        retention = self.kpis["retention_rate"]
        retention.with_company(self.company).target = 50.0
        self.Kpi._recompute_kpis(as_of=self.as_of, company_ids=self.company.ids)
        value = self._values().filtered(lambda v: v.code == "retention_rate")
        self.assertEqual(value.target, 50.0)
        self.assertTrue(value.on_target)
        other = self.setup_other_company()["company"]
        self.assertEqual(
            retention.with_company(other).target, 70.0, "a new company starts from it"
        )
        kpi = retention.with_company(self.company)
        self.assertTrue(kpi.has_value)
        self.assertAlmostEqual(kpi.latest_value, 50.0)
        self.assertTrue(kpi.on_target)
        self.assertEqual(kpi.latest_date, self.as_of)

    def test_target_out_of_range_is_refused(self):
        for code, target in [
            ("retention_rate", 120.0),
            ("churn_rate", -1.0),
            ("active_customers", -5.0),
            ("average_resolution_hours", -2.0),
            ("csat_average", 6.0),
            ("nps", -101.0),
        ]:
            with self.subTest(code=code), self.assertRaises(ValidationError):
                self.kpis[code].target = target
        self.kpis["nps"].target = -20.0
        self.kpis["program_roi"].target = 150.0

    def test_rights(self):
        self.Kpi._recompute_kpis(as_of=self.as_of, company_ids=self.company.ids)
        user_kpi = self.kpis["retention_rate"].with_user(self.relationship_user)
        self.assertTrue(user_kpi.description)
        self.assertTrue(self.Value.with_user(self.relationship_user).search_count([]))
        with self.assertRaises(AccessError):
            user_kpi.target = 60.0
        with self.assertRaises(AccessError):
            user_kpi.action_recompute_now()
        with self.assertRaises(AccessError):
            self.env["crm.relationship.kpi.backfill"].with_user(
                self.relationship_user
            ).create({})
        manager_kpi = self.kpis["retention_rate"].with_user(self.relationship_manager)
        manager_kpi.target = 60.0
        self.assertEqual(manager_kpi.target, 60.0)


@tagged("post_install", "-at_install")
class TestKpiBackfill(CrmRelationshipCommon, CronMixinCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        partner = cls._customer("Khách hàng")
        cls._invoice(partner, "2025-03-15", 100)
        cls._invoice(partner, "2026-03-15", 100)

    def _wizard(self, **vals):
        return (
            self.env["crm.relationship.kpi.backfill"]
            .with_user(self.relationship_manager)
            .create({"date_from": "2025-07-01", "date_to": "2026-06-30", **vals})
        )

    @freeze_time("2026-07-15")
    def test_twelve_month_ends(self):
        wizard = self._wizard()
        self.assertEqual(wizard.snapshot_count, 12)
        wizard.action_backfill()
        values = self.env["crm.relationship.kpi.value"].search(
            [("company_id", "=", self.company.id), ("code", "=", "active_customers")]
        )
        dates = sorted(set(values.mapped("date")))
        self.assertEqual(len(dates), 12)
        self.assertEqual(dates[0], fields.Date.to_date("2025-07-31"))
        self.assertEqual(dates[-1], fields.Date.to_date("2026-06-30"))
        total = values.filtered(lambda v: v.breakdown == "total")
        self.assertEqual(total.mapped("value"), [1.0] * 12)
        retention = {
            v.date: v.value
            for v in self.env["crm.relationship.kpi.value"].search(
                [("company_id", "=", self.company.id), ("code", "=", "retention_rate")]
            )
        }
        # until 2026-03-14 the previous window holds no purchase
        self.assertEqual(len(retention), 4)
        self.assertEqual(set(retention.values()), {100.0})

    @freeze_time("2026-07-15")
    def test_background_backfill_through_the_cron(self):
        Kpi = self.env["crm.relationship.kpi"]
        Value = self.env["crm.relationship.kpi.value"]
        cron = self.env.ref("crm_relationship.ir_cron_crm_relationship_kpi")
        with self.capture_triggers(cron.id) as triggers:
            self._wizard(date_from="2026-04-01").action_backfill_background()
        self.assertEqual(len(triggers.records), 1, "the cron is started at once")
        self.assertEqual(
            Kpi._kpi_backfill_queue(),
            [
                ("2026-04-30", self.company.id),
                ("2026-05-31", self.company.id),
                ("2026-06-30", self.company.id),
            ],
        )
        self.assertFalse(Value.search([("company_id", "=", self.company.id)]))
        # queuing the same dates again adds nothing
        self._wizard(date_from="2026-05-01").action_backfill_background()
        self.assertEqual(len(Kpi._kpi_backfill_queue()), 3)
        # today's snapshot reads what the nightly classification stored
        self.env["res.partner"]._cron_recompute_relationship()
        Kpi._cron_recompute_kpis()
        self.assertFalse(Kpi._kpi_backfill_queue())
        dates = Value.search([("company_id", "=", self.company.id)]).mapped("date")
        self.assertEqual(
            sorted(set(dates)),
            [
                fields.Date.to_date(day)
                for day in ("2026-04-30", "2026-05-31", "2026-06-30", "2026-07-15")
            ],
            "the queued dates, then today's daily snapshot",
        )

    @freeze_time("2026-07-15")
    def test_bad_ranges_are_refused(self):
        with self.assertRaisesRegex(UserError, "before its start"):
            self._wizard(date_from="2026-06-30", date_to="2026-01-31").action_backfill()
        with self.assertRaisesRegex(UserError, "future"):
            self._wizard(date_to="2026-07-31").action_backfill()
        with self.assertRaisesRegex(UserError, "too many"):
            self._wizard(date_from="2026-03-01", frequency="day").action_backfill()
        with self.assertRaisesRegex(UserError, "No snapshot date"):
            self._wizard(date_from="2026-06-02", date_to="2026-06-20").action_backfill()
        self.assertFalse(
            self.env["crm.relationship.kpi.value"].search(
                [("company_id", "=", self.company.id)]
            )
        )


@tagged("post_install", "-at_install")
class TestKpiTour(HttpCase):
    def test_kpi_dashboard_tour(self):
        company = self.env.ref("base.main_company")
        partner = self.env["res.partner"].create({"name": "Tour customer"})
        for day in ("2025-05-10", "2026-05-10"):
            move = self.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": day,
                    "company_id": company.id,
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Service", "quantity": 1, "price_unit": 100}
                        )
                    ],
                }
            )
            move.action_post()
        # a target far above what is reached: the row is red
        self.env["crm.relationship.kpi"].search(
            [("code", "=", "active_customers")]
        ).with_company(company).target = 1000000.0
        # and a retention target always reached: green
        self.env["crm.relationship.kpi"].search(
            [("code", "=", "retention_rate")]
        ).with_company(company).target = 0.0
        self.env["crm.relationship.kpi.value"].search(
            [("company_id", "=", company.id)]
        ).unlink()
        self.env["crm.relationship.kpi"]._recompute_kpis(
            as_of="2026-05-31", company_ids=company.ids
        )
        self.start_tour(
            "/odoo/action-crm_relationship.crm_relationship_kpi_action",
            "crm_relationship_kpi_tour",
            login="admin",
        )


@tagged("post_install", "-at_install")
class TestKpiOtherSources(CrmRelationshipCommon):
    """Feedback and program KPIs; they run once those features are installed."""

    def _kpi_values(self, as_of):
        self.env["crm.relationship.kpi"]._recompute_kpis(
            as_of=as_of, company_ids=self.company.ids
        )
        values = self.env["crm.relationship.kpi.value"].search(
            [
                ("company_id", "=", self.company.id),
                ("date", "=", as_of),
                ("breakdown", "=", "total"),
            ]
        )
        return {value.code: value.value for value in values}

    def test_feedback_kpis(self):
        partner = self._customer("Khách phản hồi")
        closed = self.env["crm.relationship.feedback.stage"].search(
            [("is_closed", "=", True)], limit=1
        )
        Feedback = self.env["crm.relationship.feedback"]

        def feedback(kind, received, deadline, resolved=None, **vals):
            values = {
                "name": "Feedback",
                "partner_id": partner.id,
                "feedback_type": kind,
                "company_id": self.company.id,
                "date_received": received,
                "date_deadline": deadline,
                **vals,
            }
            if resolved:
                values.update(stage_id=closed.id, date_resolved=resolved)
            return Feedback.create(values)

        # window (2025-06-30, 2026-06-30]
        feedback(  # resolved in 24 h, on time
            "complaint",
            "2026-03-01 08:00:00",
            "2026-03-02 12:00:00",
            "2026-03-02 08:00:00",
            csat_score=4,
            nps_score=10,
            nps_answered=True,
        )
        feedback(  # resolved in 72 h, late; NPS 0 is a real detractor
            "complaint",
            "2026-04-01 08:00:00",
            "2026-04-02 08:00:00",
            "2026-04-04 08:00:00",
            csat_score=2,
            nps_score=0,
            nps_answered=True,
        )
        feedback(  # still open
            "complaint",
            "2026-06-20 08:00:00",
            "2026-06-30 08:00:00",
            nps_score=9,
            nps_answered=True,
        )
        feedback(  # received in the window, resolved after the snapshot
            "complaint",
            "2026-05-01 08:00:00",
            "2026-05-03 08:00:00",
            "2026-07-05 08:00:00",
        )
        feedback(  # received before the window, resolved inside it in 288 h, late
            "question",
            "2025-06-20 08:00:00",
            "2025-06-23 08:00:00",
            "2025-07-02 08:00:00",
            csat_score=1,
        )
        values = self._kpi_values(self.as_of)
        self.assertAlmostEqual(values["complaint_resolution_rate"], 50.0)
        self.assertAlmostEqual(values["average_resolution_hours"], 128.0)
        self.assertAlmostEqual(values["sla_compliance_rate"], 100 / 3)
        self.assertAlmostEqual(values["csat_average"], 3.0)
        self.assertAlmostEqual(values["nps"], 100 / 3)

    def test_program_kpis(self):
        Stage = self.env["crm.relationship.program.stage"]
        converted = Stage.search([("is_converted", "=", True)], limit=1)
        program = self.env["crm.relationship.program"].create(
            {
                "name": "Tri ân khách hàng",
                "company_id": self.company.id,
                "date_start": "2026-01-01",
                "budget": 1000.0,
            }
        )
        program.state = "running"
        Member = self.env["crm.relationship.program.member"]
        for index, (enrolled, date_converted) in enumerate(
            [
                ("2026-02-01", "2026-03-01"),
                ("2026-02-01", "2026-07-10"),  # converted after the snapshot
                ("2026-02-01", None),
                ("2026-02-01", None),
                ("2026-07-02", None),  # enrolled after the snapshot
            ]
        ):
            vals = {
                "program_id": program.id,
                "partner_id": self._customer(f"Member {index}").id,
                "date_enrolled": enrolled,
            }
            if date_converted:
                vals.update(stage_id=converted.id, date_converted=date_converted)
            Member.create(vals)
        program.revenue = 5000.0
        with freeze_time("2026-06-30 12:00:00"):
            values = self._kpi_values(self.as_of)
        self.assertAlmostEqual(values["program_conversion_rate"], 25.0)
        # 100 * (5000 * 30 % - 1000) / 1000
        self.assertAlmostEqual(values["program_roi"], 50.0)
        self.assertNotIn(
            "program_roi",
            self._kpi_values(fields.Date.to_date("2026-05-31")),
            "today's program revenue says nothing of a past date",
        )

    def test_care_compliance(self):
        late, on_time, recent = (self._customer(name) for name in ("X", "Y", "Z"))
        for partner in (late, on_time, recent):
            self._invoice(partner, "2026-03-01", 100)
        lost = self._customer("Lost")  # not active: outside the measure
        self._invoice(lost, "2024-03-01", 100)
        with freeze_time("2026-06-30 12:00:00"):
            # bought on 2026-03-01: the care of every customer is due since
            # then plus its tier's contact interval; Y and Z were contacted since
            for partner, day in [(on_time, "2026-06-20"), (recent, "2026-06-29")]:
                self.env["crm.relationship.interaction"].create(
                    {
                        "partner_id": partner.id,
                        "date": day,
                        "summary": "Gọi điện",
                        "channel_id": self.env.ref(
                            "crm_relationship.crm_relationship_channel_phone"
                        ).id,
                    }
                )
            self._recompute()
            self.assertEqual(late.care_status, "overdue")
            values = self._kpi_values(self.as_of)
        self.assertAlmostEqual(values["care_compliance_rate"], 200 / 3)
        self.assertNotIn(
            "care_compliance_rate",
            self._kpi_values(fields.Date.to_date("2026-05-31")),
            "care is a state of today: a past date stores nothing",
        )
