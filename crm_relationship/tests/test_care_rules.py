from datetime import date

from odoo.tests import BaseCase, tagged

from ..tools import care

STAGE_PHASES = {
    1: "pre_sale",
    2: "pre_sale",
    3: "in_sale",
    5: "post_sale",
    6: "post_sale",
}
FIRST = {"pre_sale": 1, "in_sale": 3, "post_sale": 5}


@tagged("post_install", "-at_install")
class TestCareRules(BaseCase):
    def test_fact_phase_order(self):
        self.assertEqual(care.fact_phase(True, True, True), "in_sale")
        self.assertEqual(care.fact_phase(False, True, True), "post_sale")
        self.assertEqual(care.fact_phase(False, False, True), "pre_sale")
        self.assertIsNone(care.fact_phase(False, False, False))

    def test_next_stage(self):
        # no stage yet: first stage of the phase
        self.assertEqual(
            care.next_stage("in_sale", None, None, STAGE_PHASES, FIRST), (3, "in_sale")
        )
        # facts unchanged: a person's move stands, phase of that stage
        self.assertEqual(
            care.next_stage("in_sale", "in_sale", 2, STAGE_PHASES, FIRST),
            (2, "pre_sale"),
        )
        # facts changed: first stage of the new phase
        self.assertEqual(
            care.next_stage("post_sale", "in_sale", 3, STAGE_PHASES, FIRST),
            (5, "post_sale"),
        )
        # facts changed to the phase the stage already has: kept
        self.assertEqual(
            care.next_stage("post_sale", "in_sale", 6, STAGE_PHASES, FIRST),
            (6, "post_sale"),
        )
        # no facts: nothing moves
        self.assertEqual(
            care.next_stage(None, "pre_sale", 2, STAGE_PHASES, FIRST), (2, "pre_sale")
        )
        self.assertEqual(
            care.next_stage(None, None, None, STAGE_PHASES, FIRST), (None, None)
        )

    def test_next_care_date_and_status(self):
        self.assertEqual(
            care.next_care_date(date(2026, 6, 1), 30, False), date(2026, 7, 1)
        )
        self.assertIsNone(care.next_care_date(date(2026, 6, 1), 30, True), "ended")
        self.assertIsNone(care.next_care_date(date(2026, 6, 1), 0, False), "no tier")
        today = date(2026, 6, 30)
        self.assertEqual(care.care_status(date(2026, 6, 29), today), "overdue")
        self.assertEqual(care.care_status(date(2026, 6, 30), today), "due_soon")
        self.assertEqual(care.care_status(date(2026, 7, 7), today), "due_soon")
        self.assertEqual(care.care_status(date(2026, 7, 8), today), "on_time")
        self.assertIsNone(care.care_status(None, today))
