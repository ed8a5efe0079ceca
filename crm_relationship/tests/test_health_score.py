import json

from odoo.exceptions import ValidationError
from odoo.tests import Form, freeze_time, tagged

from .common import CrmRelationshipCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-07-01 09:00:00")
class TestHealthScore(CrmRelationshipCommon):
    """Health scores of a small world of posted invoices, interactions and
    feedback, as of 2026-06-30 (window (2025-06-30, 2026-06-30], previous
    window the year before), every expected score computed by hand.

    Five customers bought in the window, with distinct last purchase days, so
    that their RFM recency scores are 1 to 5 in order of last purchase:
    D 2025-12-01 (1), B 2026-02-01 (2), C 2026-03-01 (3), E 2026-05-01 (4),
    A 2026-06-25 (5). Every tier plans a contact 30 days after the last
    interaction (else the first purchase).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.relationship.tier"].search(
            [("company_id", "=", cls.company.id)]
        ).contact_interval_days = 30
        cls.phone = cls.env.ref("crm_relationship.crm_relationship_channel_phone")
        customer = cls._customer
        cls.a = customer("Health A")
        cls.b = customer("Health B")
        cls.c = customer("Health C")
        cls.d = customer("Health D")
        cls.e = customer("Health E")
        cls.f = customer("Health F")
        cls.prospect = customer("Health prospect", customer_rank=1)
        for partner, day, amount in [
            (cls.a, "2025-01-15", 1000),
            (cls.a, "2026-06-25", 1200),
            (cls.b, "2026-02-01", 500),
            (cls.c, "2024-09-01", 800),
            (cls.c, "2026-03-01", 200),
            (cls.d, "2025-03-01", 300),
            (cls.d, "2025-12-01", 300),
            (cls.e, "2026-05-01", 100),
            (cls.f, "2023-05-01", 400),
        ]:
            cls._invoice(partner, day, amount)
        for partner, day in [
            (cls.a, "2026-06-20"),
            (cls.b, "2026-06-05"),
            (cls.d, "2026-06-20"),
            (cls.e, "2026-06-20"),
        ]:
            cls.env["crm.relationship.interaction"].create(
                {
                    "partner_id": partner.id,
                    "date": day,
                    "channel_id": cls.phone.id,
                    "summary": "Call",
                }
            )
        Feedback = cls.env["crm.relationship.feedback"].sudo()
        for partner in (cls.b, cls.c, cls.c):
            Feedback.create(
                {
                    "name": "Late delivery",
                    "partner_id": partner.id,
                    "feedback_type": "complaint",
                    "date_received": "2026-05-01 08:00:00",
                }
            )
        Feedback.create(
            {
                "name": "Thanks",
                "partner_id": cls.a.id,
                "feedback_type": "praise",
                "date_received": "2026-03-01 08:00:00",
                "csat_score": 4,
                "nps_score": 9,
            }
        )
        cls.everyone = cls.a | cls.b | cls.c | cls.d | cls.e | cls.f | cls.prospect

    def _run(self):
        self._recompute(self.everyone)
        self.everyone.invalidate_recordset()

    def test_scores_and_bands_by_hand(self):
        self._run()
        # A: activity 25*(5-1)=100, trend 50+50*200/1000=60, care on time 100,
        # service 100, satisfaction (25*(4-1) + 10*9)/2 = 82.5:
        # (30*100 + 25*60 + 15*100 + 15*100 + 15*82.5) / 100 = 87.375
        # B: activity 25, trend none (first revenue), care due soon 50 (next
        # 2026-07-05), service 100-50 = 50, no survey: (750+750+750)/60 = 37.5
        # C: activity 50, trend 50+50*(200-800)/800 = 12.5, care overdue 0
        # (no interaction: 2024-10-01), two complaints 0: 1812.5/85 = 21.32
        # D: activity 0, trend 50, care on time 100, service 100: 4250/85 = 50
        # E: activity 75, trend none, care 100, service 100: 5250/60 = 87.5
        # F: no purchase in either window: activity 0, trend 0, care overdue 0
        # (2023-05-31), service 100: 1500/85 = 17.6
        expected = {
            self.a: (87, "healthy"),
            self.b: (38, "at_risk"),
            self.c: (21, "at_risk"),
            self.d: (50, "watch"),
            self.e: (88, "healthy"),
            self.f: (18, "at_risk"),
        }
        for partner, (score, band) in expected.items():
            self.assertEqual(
                (partner.health_score, partner.health_band), (score, band), partner.name
            )
        self.assertFalse(self.prospect.health_band)
        self.assertFalse(self.prospect.health_components)

    def test_recommendation_of_zero_ticked_in_the_form(self):
        """A care agent records a phone survey: the form shows a recommendation
        of 0, they tick "Recommendation given" and save. The 0 is stored and
        the classification scores it (it used to stop the whole run)."""
        feedback = self.env["crm.relationship.feedback"].create(
            {
                "name": "Phone survey",
                "partner_id": self.e.id,
                "feedback_type": "praise",
                "date_received": "2026-06-01 08:00:00",
            }
        )
        with Form(feedback) as form:
            self.assertEqual(form.nps_score, 0)
            form.nps_answered = True
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT nps_score FROM crm_relationship_feedback WHERE id = %s",
            [feedback.id],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self._run()
        # E: activity 75, trend none, care 100, service 100, satisfaction
        # 10 * 0 = 0: (30*75 + 15*100 + 15*100 + 15*0) / 75 = 70
        self.assertEqual((self.e.health_score, self.e.health_band), (70, "healthy"))
        satisfaction = json.loads(self.e.health_components)["satisfaction"]
        self.assertEqual(satisfaction[0], 0.0)

    def test_logging_an_interaction_updates_the_health_as_a_full_run(self):
        """Care moves between two runs: the health that reads it moves with it,
        to what a full run gives."""
        self._run()
        self.assertEqual((self.c.health_score, self.c.care_status), (21, "overdue"))
        self.env["crm.relationship.interaction"].create(
            {
                "partner_id": self.c.id,
                "date": "2026-06-30",
                "channel_id": self.phone.id,
                "summary": "Call",
            }
        )
        self.c.invalidate_recordset()
        # C: activity 50, trend 12.5, care on time 100 (next 2026-07-30),
        # service 0: (30*50 + 25*12.5 + 15*100 + 15*0) / 85 = 38.97
        self.assertEqual(self.c.care_status, "on_time")
        self.assertEqual((self.c.health_score, self.c.health_band), (39, "at_risk"))
        self.assertEqual(self.c.health_score_change, 18)
        self.assertEqual(json.loads(self.c.health_components)["care"][0], 100.0)
        self.assertEqual(self._recompute(self.c), 0, "a full run finds it as is")

    def test_components_and_sentences(self):
        self._run()
        components = json.loads(self.c.health_components)
        self.assertEqual(
            {code: value[0] for code, value in components.items()},
            {
                "activity": 50.0,
                "trend": 12.5,
                "care": 0.0,
                "service": 0.0,
                "satisfaction": None,
            },
        )
        self.assertEqual(components["service"][2], {"overdue_complaints": 2})
        self.assertEqual(components["trend"][2], {"change": -0.75})
        breakdown = str(self.c.health_breakdown)
        self.assertIn("Revenue down 75 % on the previous window.", breakdown)
        self.assertIn("2 complaint(s) open past their deadline.", breakdown)
        self.assertIn("No survey answer in the analysis window.", breakdown)
        self.assertIn(
            "Mean of 2 survey answer(s)",
            str(self.a.with_context(lang="en_US").health_breakdown),
        )
        # no money amount in a breakdown every internal user reads
        self.assertNotIn("800", self.c.health_components)

    def test_weights_are_settings_and_missing_data_is_left_out(self):
        self._run()
        self.company.write(
            {
                "relationship_health_weight_activity": 0,
                "relationship_health_weight_trend": 0,
                "relationship_health_weight_care": 0,
                "relationship_health_weight_service": 0,
                "relationship_health_weight_satisfaction": 1,
            }
        )
        self._run()
        # only A answered a survey: 82.5 rounds half up to 83, 4 below 87
        self.assertEqual(
            (self.a.health_score, self.a.health_band, self.a.health_score_change),
            (83, "healthy", -4),
        )
        self.assertFalse(self.b.health_band)
        self.assertFalse(self.b.health_score)

    def test_change_since_previous_run_stays_on_a_rerun(self):
        self._run()
        self.assertFalse(self.d.health_score_change)
        self.company.relationship_health_weight_trend = 85
        self._run()
        # D: (30*0 + 85*50 + 15*100 + 15*100) / 145 = 49.66 -> 50, unchanged
        # A: (3000 + 85*60 + 1500 + 1500 + 1237.5) / 160 = 77.42 -> 77
        self.assertEqual(self.a.health_score, 77)
        self.assertEqual(self.a.health_score_change, -10)
        self._run()
        self.assertEqual(self.a.health_score_change, -10)

    def test_band_limits_are_settings(self):
        self.company.write(
            {
                "relationship_health_healthy_min": 90,
                "relationship_health_watch_min": 20,
            }
        )
        self._run()
        self.assertEqual(self.a.health_band, "watch")
        self.assertEqual(self.c.health_band, "watch")
        self.assertEqual(self.f.health_band, "at_risk")

    def test_bad_settings_are_refused(self):
        bad_values = [
            {"relationship_health_weight_care": -1},
            {
                "relationship_health_weight_activity": 0,
                "relationship_health_weight_trend": 0,
                "relationship_health_weight_care": 0,
                "relationship_health_weight_service": 0,
                "relationship_health_weight_satisfaction": 0,
            },
            {"relationship_likely_lost_threshold": 101},
            {"relationship_likely_lost_threshold": -1},
            {"relationship_health_watch_min": 80},
            {"relationship_health_healthy_min": 120},
        ]
        for vals in bad_values:
            with self.subTest(vals=vals), self.assertRaises(ValidationError):
                with self.env.cr.savepoint():
                    self.company.write(vals)
        self.assertEqual(self.company.relationship_health_weight_care, 15)
        self.assertEqual(self.company.relationship_likely_lost_threshold, 30)

    def _kpis(self):
        values = self.env["crm.relationship.kpi.value"].search(
            [
                ("company_id", "=", self.company.id),
                ("date", "=", self.as_of),
                ("breakdown", "=", "total"),
                ("kpi_id.code", "in", ("average_health_score", "at_risk_customers")),
            ]
        )
        return {value.kpi_id.code: value.value for value in values}

    def test_health_kpis_of_a_past_date_and_of_today(self):
        # 87, 38, 21, 50, 88 and 18: mean 302 / 6; B, C and F at risk
        expected = {"average_health_score": 302 / 6, "at_risk_customers": 3}
        Kpi = self.env["crm.relationship.kpi"]
        Kpi._recompute_kpis(as_of=self.as_of, company_ids=self.company.ids)
        kpis = self._kpis()
        self.assertAlmostEqual(
            kpis["average_health_score"], expected["average_health_score"]
        )
        self.assertEqual(kpis["at_risk_customers"], 3)
        with freeze_time("2026-06-30 12:00:00"):
            self._run()  # today's KPIs read the stored figures
            Kpi._recompute_kpis(as_of=self.as_of, company_ids=self.company.ids)
        kpis = self._kpis()
        self.assertAlmostEqual(
            kpis["average_health_score"], expected["average_health_score"]
        )
        self.assertEqual(kpis["at_risk_customers"], 3)
        self.assertFalse(
            self.env["crm.relationship.kpi.value"].search_count(
                [
                    ("company_id", "=", self.company.id),
                    ("kpi_id.code", "=", "expected_revenue_next_12_months"),
                ]
            ),
            "no predictive method, no expected revenue",
        )
