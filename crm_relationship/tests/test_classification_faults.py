import logging
from unittest.mock import patch

from odoo.sql_db import db_connect
from odoo.tests import tagged

from odoo.addons.crm_relationship.models import crm_relationship_rules
from odoo.addons.crm_relationship.models.crm_relationship_classification import (
    ADVISORY_LOCK,
)
from odoo.addons.crm_relationship.tools.status import relationship_status

from .common import CrmRelationshipCommon

ENGINE_LOGGER = "odoo.addons.crm_relationship.models.crm_relationship_classification"


@tagged("post_install", "-at_install")
class TestClassificationFaults(CrmRelationshipCommon):
    """Nothing one customer's facts hold stops the classification of the
    others, and a "Recompute now" never waits for the nightly run."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls._customer("Công ty Lỗi")
        cls.other = cls._customer("Công ty Bình Thường")
        cls._invoice(cls.customer, "2026-05-10", 1000.0)
        cls._invoice(cls.other, "2026-04-10", 300.0)
        cls.env["res.partner"]._recompute_relationship(
            as_of=cls.as_of, company_ids=cls.company.ids
        )
        # new facts for both: revenue 1,500 and 500
        cls._invoice(cls.customer, "2026-06-10", 500.0)
        cls._invoice(cls.other, "2026-06-10", 200.0)

    def _status_failing_for(self, revenue):
        """The status rule, raising for a customer whose revenue is ``revenue``
        (a bug that only one customer's facts reach)."""

        def status(facts, as_of, params):
            if facts.revenue == revenue:
                raise ZeroDivisionError("float division by zero")
            return relationship_status(facts, as_of, params)

        return patch.object(crm_relationship_rules, "relationship_status", status)

    def test_a_failing_customer_keeps_its_values_and_others_are_classified(self):
        with (
            self._status_failing_for(1500.0),
            self.assertLogs(ENGINE_LOGGER, "WARNING") as logs,
        ):
            self._recompute()
        self.env.invalidate_all()
        self.assertEqual(self.other.period_revenue, 500.0, "classified")
        self.assertEqual(self.customer.period_revenue, 1000.0, "previous value kept")
        self.assertIn(f"customer {self.customer.id}", logs.output[0])
        company = self.company
        self.assertEqual(company.relationship_run_failure_count, 1)
        self.assertEqual(company.relationship_run_failure_partner_ids, self.customer)
        self.assertEqual(
            company.relationship_run_failure_error,
            "ZeroDivisionError: float division by zero",
        )
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.relationship_run_failure_count, 1)
        # the cause fixed, the next run classifies it and clears the failures
        self._recompute()
        self.env.invalidate_all()
        self.assertEqual(self.customer.period_revenue, 1500.0)
        self.assertEqual(company.relationship_run_failure_count, 0)
        self.assertFalse(company.relationship_run_failure_partner_ids)
        self.assertFalse(company.relationship_run_failure_error)

    def test_a_rule_broken_for_everyone_fails_the_run(self):
        def broken(facts, as_of, params):
            raise TypeError("unsupported operand")

        with (
            patch.object(crm_relationship_rules, "relationship_status", broken),
            self.assertRaises(TypeError),
            self.assertLogs(ENGINE_LOGGER, "WARNING"),
        ):
            self._recompute()

    def test_a_partial_run_does_not_wait_for_a_running_classification(self):
        """The nightly run holds the company's lock on another connection:
        "Recompute now" answers at once that the run will update the customer."""
        nightly = db_connect(self.env.cr.dbname).cursor()
        key = (ADVISORY_LOCK, self.company.id)
        nightly.execute("SELECT pg_advisory_lock(%s, %s)", key)
        Partner = type(self.env["res.partner"])
        try:
            # a wait would end in this timeout's error instead of a notice
            self.env.cr.execute("SET statement_timeout = 5000")
            with patch.object(Partner, "_notify_classification_running") as notify:
                result = self.customer.action_recompute_relationship()
            self.assertTrue(result)
            notify.assert_called_once()
            self.assertEqual(notify.call_args.args[0], self.company)
            self.env.invalidate_all()
            self.assertEqual(self.customer.period_revenue, 1000.0, "left to the run")
        finally:
            self.env.cr.execute("SET statement_timeout = 0")
            nightly.execute("SELECT pg_advisory_unlock(%s, %s)", key)
            nightly.close()
        self.assertEqual(self._recompute(self.customer), 1)
        self.assertEqual(self.customer.period_revenue, 1500.0)

    def test_a_second_company_run_skips_the_company(self):
        """Two workers start the company's run: the second skips it at once
        (waiting would leave it a snapshot older than the first one's commits)."""
        first = db_connect(self.env.cr.dbname).cursor()
        key = (ADVISORY_LOCK, self.company.id)
        first.execute("SELECT pg_advisory_lock(%s, %s)", key)
        try:
            with self.assertLogs(ENGINE_LOGGER, logging.INFO) as logs:
                self.assertEqual(self._recompute(), 0)
        finally:
            first.execute("SELECT pg_advisory_unlock(%s, %s)", key)
            first.close()
        self.assertIn(f"company {self.company.id} skipped", logs.output[0])
        self.env.invalidate_all()
        self.assertEqual(self.customer.period_revenue, 1000.0, "left to the run")

    def test_the_notice_is_sent_to_the_user(self):
        with patch.object(type(self.env.user), "_bus_send") as send:
            self.customer._notify_classification_running(self.company)
        kind, message = send.call_args.args
        self.assertEqual(kind, "simple_notification")
        self.assertIn(self.company.name, message["message"])

    def test_a_run_logs_what_it_did(self):
        # by number: Odoo names its test level (25) "INFO"
        with self.assertLogs(ENGINE_LOGGER, logging.INFO) as logs:
            self._recompute()
        # 12 customers: the two buyers and the partners of the test setup
        self.assertRegex(
            logs.output[-1],
            rf"Classification of company {self.company.id} as of 2026-06-30: "
            r"\d+ customers classified of \d+ in scope, 2 written, \d+ history rows, "
            r"0 failed, "
            r"in \d+\.\d\ds",
        )

    def test_a_merge_keeps_one_history_row_a_day(self):
        """Core moves the merged partner's history to the one it is merged
        into: both were classified on the same day, the next runs read one
        row of that day and stay consistent."""
        History = self.env["crm.relationship.history"]
        self.env["base.partner.merge.automatic.wizard"]._merge(
            [self.customer.id, self.other.id], self.other, extra_checks=False
        )
        rows = History.search([("partner_id", "=", self.other.id)])
        self.assertEqual(len(rows), 1, "the destination's own row of the day")
        self._recompute()
        self.env.invalidate_all()
        # the merged invoices: 1,000 + 500 + 300 + 200
        self.assertEqual(self.other.period_revenue, 2000.0)
        rows = History.search([("partner_id", "=", self.other.id)])
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows.tier_id, self.other.relationship_tier_id)
        self.assertEqual(self._recompute(), 0)
