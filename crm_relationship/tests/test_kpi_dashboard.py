import json
from datetime import date

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import Command, fields
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged

MONEY_GROUPS = (
    "crm_relationship.crm_relationship_group_user,"
    "account.group_account_invoice,account.group_account_readonly"
)


@tagged("post_install", "-at_install")
@freeze_time("2026-06-15")
class TestKpiDashboard(TransactionCase):
    """Cards of the KPI dashboard, read for the company of the environment.

    The trend covers July 2025 .. June 2026; each month shows its last snapshot.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.company"].create({"name": "Dashboard Co"})
        cls.other_company = cls.env["res.company"].create({"name": "Other Co"})
        cls.env.user.company_ids += cls.company + cls.other_company
        cls.env = cls.env(context=dict(cls.env.context, lang="en_US"))
        Kpi = cls.env["crm.relationship.kpi"].with_company(cls.company)
        cls.retention = Kpi.search([("code", "=", "retention_rate")])
        cls.churn = Kpi.search([("code", "=", "churn_rate")])
        cls.nps = Kpi.search([("code", "=", "nps")])
        cls.retention.target = 70.0
        cls.churn.target = 30.0
        cls.user = new_test_user(
            cls.env,
            login="dashboard_user",
            groups="base.group_user,crm_relationship.crm_relationship_group_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def _value(self, kpi, day, value, company=None, **vals):
        day = date.fromisoformat(day)
        return self.env["crm.relationship.kpi.value"].create(
            {
                "kpi_id": kpi.id,
                "company_id": (company or self.company).id,
                "date": day,
                "date_from": day.replace(year=day.year - 1),
                "date_to": day,
                "value": value,
                **vals,
            }
        )

    def _card(self, kpi, company=None):
        kpi = kpi.with_company(company or self.company)
        kpi.invalidate_recordset()
        return kpi

    def _trend(self, kpi):
        data = json.loads(kpi.dashboard_graph_data)
        return [point["y"] for point in data[0]["values"]]

    def test_latest_value_target_and_change(self):
        self._value(self.retention, "2026-03-31", 60.0)
        self._value(self.retention, "2026-04-10", 50.0)
        self._value(self.retention, "2026-04-30", 65.0)
        self._value(self.retention, "2026-05-31", 72.0)
        self._value(self.retention, "2026-06-10", 80.0)
        card = self._card(self.retention)
        self.assertTrue(card.has_value)
        self.assertEqual(card.latest_value, 80.0)
        self.assertEqual(card.latest_date, date(2026, 6, 10))
        self.assertTrue(card.on_target)
        self.assertEqual(card.dashboard_color, 10, "green: on target")
        self.assertTrue(card.has_previous)
        self.assertEqual(card.previous_value, 72.0, "May's last snapshot")
        self.assertAlmostEqual(card.value_change, 8.0)
        self.assertEqual(card.change_direction, "up")
        self.assertTrue(card.change_is_good)
        self.assertEqual(card.latest_display, "80.0 %")
        self.assertEqual(card.target_display, "70.0 %")
        self.assertEqual(card.change_display, "+8.0 pts")
        # the last snapshot of April (65), not the first (50)
        self.assertEqual(self._trend(card), [None] * 8 + [60.0, 65.0, 72.0, 80.0])

    def test_missing_month_is_a_gap_not_zero(self):
        self._value(self.retention, "2026-03-31", 60.0)
        self._value(self.retention, "2026-06-10", 0.0)
        card = self._card(self.retention)
        trend = self._trend(card)
        self.assertEqual(trend[-4:], [60.0, None, None, 0.0])
        self.assertTrue(card.has_value, "a measured 0 is a value")
        self.assertFalse(card.has_previous, "May has no snapshot")
        self.assertFalse(card.change_direction)
        self.assertEqual(card.change_display, "")

    def test_kpi_without_value(self):
        card = self._card(self.nps)
        self.assertFalse(card.has_value)
        self.assertEqual(card.latest_display, "")
        self.assertEqual(card.dashboard_color, 0, "no colour without a value")
        self.assertEqual(self._trend(card), [None] * 12)

    def test_lower_is_better(self):
        self._value(self.churn, "2026-05-31", 35.0)
        self._value(self.churn, "2026-06-14", 40.0)
        card = self._card(self.churn)
        self.assertFalse(card.on_target, "40 % churn misses a 30 % ceiling")
        self.assertEqual(card.dashboard_color, 1, "red: off target")
        self.assertEqual(card.change_direction, "up")
        self.assertFalse(card.change_is_good, "more churn is worse")

    def test_company_and_breakdowns_apart(self):
        self._value(self.retention, "2026-06-10", 75.0)
        self._value(self.retention, "2026-06-12", 10.0, company=self.other_company)
        tier = self.env["crm.relationship.tier"].search(
            [("company_id", "=", self.company.id)], limit=1
        )
        self._value(
            self.retention, "2026-06-14", 5.0, breakdown="tier", tier_id=tier.id
        )
        self.assertEqual(self._card(self.retention).latest_value, 75.0)
        other = self._card(self.retention, self.other_company)
        self.assertEqual(other.latest_value, 10.0)
        self.assertEqual(other.latest_date, date(2026, 6, 12))

    def test_one_read_for_every_card(self):
        kpis = self.env["crm.relationship.kpi"].search([])
        self.assertGreaterEqual(len(kpis), 15)
        for kpi in kpis:
            self._value(kpi, "2026-05-31", 10.0)
            self._value(kpi, "2026-06-10", 20.0)
        self.env.flush_all()

        def queries(records):
            records = records.with_company(self.company)
            records.invalidate_recordset()
            before = self.env.cr.sql_log_count
            records.mapped("dashboard_graph_data")
            return self.env.cr.sql_log_count - before

        queries(kpis)  # warm the caches the formatting reads (language, currency)
        self.assertEqual(queries(kpis[:1]), queries(kpis))

    def test_kanban_read_by_a_relationship_user(self):
        self._value(self.retention, "2026-06-10", 80.0)
        Kpi = self.env["crm.relationship.kpi"].with_user(self.user)
        view = self.env.ref(
            "crm_relationship.crm_relationship_kpi_view_kanban_dashboard"
        )
        spec = {
            name: {}
            for name in (
                "name",
                "latest_display",
                "target_display",
                "change_display",
                "dashboard_color",
                "dashboard_graph_data",
            )
        }
        Kpi.get_views([(view.id, "kanban")])
        result = Kpi.web_search_read([("code", "=", "retention_rate")], spec)
        self.assertEqual(result["records"][0]["latest_display"], "80.0 %")

    def test_breakdown_actions(self):
        action = self.retention.action_view_tier_breakdown()
        self.assertEqual(
            action["domain"],
            [("kpi_id", "=", self.retention.id), ("breakdown", "=", "tier")],
        )
        self.assertEqual(action["context"]["graph_groupbys"], ["date:month", "tier_id"])
        action = self.retention.action_view_team_breakdown()
        self.assertIn(("breakdown", "=", "team"), action["domain"])
        self.assertEqual(action["context"]["pivot_row_groupby"], ["team_id"])


@tagged("post_install", "-at_install")
class TestPartnerCards(TransactionCase):
    """Customer and care kanban cards: priority stars, and money only for the
    people who may read it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tiers = {
            tier.code: tier
            for tier in cls.env["crm.relationship.tier"].search(
                [("company_id", "=", cls.env.company.id)]
            )
        }

    def test_priority_from_tier_and_lifetime_value(self):
        Partner = self.env["res.partner"]
        expected = [("vip", 5000.0, "3"), ("large", 0.0, "1"), ("medium", 10.0, "1")]
        expected += [("small", 900.0, "0"), ("inactive", 0.0, "0")]
        for code, value, stars in expected:
            partner = Partner.create(
                {
                    "name": f"Priority {code}",
                    "is_company": True,
                    "relationship_tier_id": self.tiers[code].id,
                    "relationship_tier_locked": True,
                    "lifetime_value": value,
                }
            )
            self.assertEqual(partner.relationship_priority, stars, code)

    def test_money_stays_with_those_who_may_read_it(self):
        employee = new_test_user(
            self.env, login="plain_employee", groups="base.group_user"
        )
        seller = new_test_user(
            self.env,
            login="seller_user",
            groups="base.group_user,crm_relationship.crm_relationship_group_user",
        )
        for xmlid in (
            "crm_relationship.res_partner_view_kanban_care",
            "crm_relationship.res_partner_view_kanban_customers",
        ):
            view = self.env.ref(xmlid)
            arch = (
                self.env["res.partner"]
                .with_user(employee)
                .get_views([(view.id, "kanban")])["views"]["kanban"]["arch"]
            )
            self.assertNotIn("lifetime_value", arch, xmlid)
            self.assertIn("<progressbar", arch, xmlid)
            arch = (
                self.env["res.partner"]
                .with_user(seller)
                .get_views([(view.id, "kanban")])["views"]["kanban"]["arch"]
            )
            self.assertIn('sum_field="lifetime_value"', arch, xmlid)
        # the cards' other fields stay readable (the grouped pipeline needs the
        # stages and tiers, which only Relationship users may read)
        partner = self.env["res.partner"].create(
            {"name": "Plain card", "is_company": True, "lifetime_value": 50.0}
        )
        cards = (
            self.env["res.partner"]
            .with_user(employee)
            .web_search_read(
                [("id", "=", partner.id)],
                {"display_name": {}, "relationship_priority": {}, "user_id": {}},
            )
        )
        self.assertEqual(cards["records"][0]["relationship_priority"], "0")


@tagged("post_install", "-at_install")
class TestDashboardTours(HttpCase):
    """The cards render in a real browser: a KPI card in its target colour with
    its trend, customer and care cards with the tier badge in the tier's colour."""

    def test_kpi_dashboard_tour(self):
        company = self.env.ref("base.main_company")
        Kpi = self.env["crm.relationship.kpi"].with_company(company)
        Value = self.env["crm.relationship.kpi.value"]
        Value.search([("company_id", "=", company.id)]).unlink()
        today = fields.Date.context_today(Kpi)
        last_month = today.replace(day=1) - relativedelta(days=1)
        retention = Kpi.search([("code", "=", "retention_rate")])
        active = Kpi.search([("code", "=", "active_customers")])
        retention.target = 50.0
        active.target = 1000000.0
        for kpi, values in ((retention, (60.0, 75.0)), (active, (3.0, 3.0))):
            for day, value in zip((last_month, today), values, strict=True):
                Value.create(
                    {
                        "kpi_id": kpi.id,
                        "company_id": company.id,
                        "date": day,
                        "date_from": day - relativedelta(years=1),
                        "date_to": day,
                        "value": value,
                    }
                )
        self.start_tour(
            "/odoo/action-crm_relationship.crm_relationship_kpi_action_dashboard",
            "crm_relationship_kpi_dashboard_tour",
            login="admin",
        )

    def test_care_cards_tour(self):
        vip = self.env["crm.relationship.tier"].search(
            [("code", "=", "vip"), ("company_id", "=", self.env.company.id)]
        )
        vip.color = 3
        self.env["res.partner"].create(
            {
                "name": "Card Tour Customer",
                "is_company": True,
                "relationship_tier_id": vip.id,
                "relationship_tier_locked": True,
                "lifetime_value": 12345.0,
                # a stage of its own: the column total is its lifetime value
                "care_stage_id": self.env["crm.relationship.care.stage"]
                .create({"name": "Tour stage", "sequence": 0, "phase": "in_sale"})
                .id,
                "user_id": self.env.ref("base.user_admin").id,
            }
        )
        self.start_tour(
            "/odoo/action-crm_relationship.res_partner_action_care_pipeline",
            "crm_relationship_care_cards_tour",
            login="admin",
        )
