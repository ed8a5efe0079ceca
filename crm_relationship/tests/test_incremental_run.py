import logging
import re
from datetime import date

from odoo import fields
from odoo.tests import tagged
from odoo.tools import SQL

from ..models.crm_relationship_rules import RulesContext
from ..models.crm_relationship_run_state import CONTEXT_LEFT_OUT, STATE_TABLE
from ..models.crm_relationship_writer import CLASSIFICATION_FIELDS
from .common import CrmRelationshipCommon

ENGINE_LOGGER = "odoo.addons.crm_relationship.models.crm_relationship_classification"
COUNTS = re.compile(
    r"(\d+) customers classified of (\d+) in scope, (\d+) written, (\d+) history"
)


@tagged("post_install", "-at_install")
class TestIncrementalRun(CrmRelationshipCommon):
    """A company-wide run classifies again only the customers whose facts,
    held values or company rules moved, or for whom a date the rules read has
    come; what it leaves is what a run classifying everyone would write.

    - Mới: first purchase on 2026-05-15, new until 2026-08-13;
    - Cũ: last purchase on 2023-08-01, lost by age from 2026-08-01;
    - Đều: a purchase every quarter since 2024, loyal;
    - Lớn: the largest buyer, top of the tiers by rank.
    Each tier's contact interval puts care dates a few weeks or months ahead.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.new = cls._customer("Mới")
        cls._invoice(cls.new, "2026-05-15", 800.0)
        cls.old = cls._customer("Cũ")
        cls._invoice(cls.old, "2023-07-01", 300.0)
        cls._invoice(cls.old, "2023-08-01", 300.0)
        cls.steady = cls._customer("Đều")
        for day in ("2024-02-10", "2025-08-10", "2025-11-10", "2026-02-10"):
            cls._invoice(cls.steady, day, 1500.0)
        cls.large = cls._customer("Lớn")
        cls._invoice(cls.large, "2026-03-01", 90000.0)
        for index in range(12):
            cls._invoice(cls._customer(f"Khách {index}"), "2026-04-01", 100.0 * index)

    def _run(self, as_of):
        """(customers classified, in scope, written) of a run as of ``as_of``."""
        with self.assertLogs(ENGINE_LOGGER, logging.INFO) as logs:
            written = self._recompute(as_of=as_of)
        classified, scope, logged, _history = map(
            int, COUNTS.search(logs.output[-1]).groups()
        )
        self.assertEqual(logged, written)
        return classified, scope, written

    def _stored(self):
        """Every classified value and history row the company holds."""
        self.env.invalidate_all()
        partners = self.env["res.partner"].search(
            [("id", "in", (self.new | self.old | self.steady | self.large).ids)]
        )
        values = partners.read(list(CLASSIFICATION_FIELDS))
        history = self.env["crm.relationship.history"].search_read(
            [("company_id", "=", self.company.id)],
            ["partner_id", "date", "tier_id", "relationship_status", "health_band"],
            order="id",
        )
        return values, history

    def _assert_as_a_full_run(self, as_of):
        """A run that classifies everyone, right after, writes nothing."""
        before = self._stored()
        self.env["crm.relationship.run.state"]._forget(self.company)
        classified, scope, written = self._run(as_of)
        self.assertEqual(classified, scope, "everyone is classified again")
        self.assertEqual(written, 0, f"the run of {as_of} left what a full run writes")
        self.assertEqual(self._stored(), before)

    def _turning(self, day):
        """The customers whose values hold until ``day``."""
        self.env.cr.execute(
            f"SELECT partner_id FROM {STATE_TABLE} "
            "WHERE company_id = %s AND valid_until <= %s",
            [self.company.id, day],
        )
        return [pid for (pid,) in self.env.cr.fetchall()]

    def _steady(self):
        """A first run classifies and writes everyone; the next, none."""
        first = self._run(self.as_of)
        self.assertEqual(first[0], first[1])
        self.assertGreater(first[2], 0)
        self.assertEqual(self._run(self.as_of), (0, first[1], 0))

    def test_an_unchanged_book_is_not_classified_again(self):
        self._steady()
        # the customers whose care falls due soon on 07-01 (due on 07-08)
        turning = self._turning(date(2026, 7, 1))
        self.assertTrue(turning)
        classified, scope, _written = self._run("2026-07-01")
        self.assertLess(classified, scope)
        self.env.cr.execute(
            f"SELECT partner_id FROM {STATE_TABLE} "
            "WHERE company_id = %s AND valid_from = '2026-07-01'",
            [self.company.id],
        )
        again = {pid for (pid,) in self.env.cr.fetchall()}
        self.assertEqual(len(again), classified)
        self.assertLessEqual(set(turning), again)
        self.assertNotIn(self.large.id, again)
        self._assert_as_a_full_run(date(2026, 7, 1))

    def test_days_that_turn_a_rule_give_a_full_runs_values(self):
        """The status turns (new -> active, active -> lost), care dates come due
        and pass, windows slide past invoices: on each day the run leaves what
        a run of everyone leaves."""
        self._steady()
        for day in (
            "2026-07-01",
            "2026-07-02",
            "2026-07-08",
            "2026-07-31",
            "2026-08-01",
            "2026-08-13",
            "2026-08-14",
            "2026-09-30",
            "2026-12-31",
            "2027-03-01",
        ):
            self._run(day)
            self._assert_as_a_full_run(fields.Date.to_date(day))
        self.assertEqual(self.old.relationship_status, "lost")
        self.assertNotEqual(self.new.relationship_status, "new")

    def test_an_invoice_classifies_its_customer_again(self):
        self._steady()
        self._invoice(self.steady, "2026-07-02", 500.0)
        classified, scope, written = self._run("2026-07-02")
        self.assertLess(classified, scope)
        self.assertGreaterEqual(written, 1)
        self.assertEqual(self.steady.purchase_count, 4)
        self._assert_as_a_full_run(date(2026, 7, 2))

    def test_a_value_changed_by_any_means_is_repaired(self):
        self._steady()
        key = str(self.company.id)
        self.env.cr.execute(
            "UPDATE res_partner SET lifetime_value = jsonb_set(lifetime_value, %s, "
            "'1.0') WHERE id = %s",
            [[key], self.large.id],
        )
        self.env.invalidate_all()
        self.assertEqual(self.large.lifetime_value, 1.0)
        classified, _scope, written = self._run(self.as_of)
        self.assertEqual((classified, written), (1, 1), "the one customer")
        self.assertGreater(self.large.lifetime_value, 1.0)

    def test_a_change_of_the_rules_classifies_everyone(self):
        self._steady()
        self.company.relationship_margin_rate = 45.0
        classified, scope, written = self._run(self.as_of)
        self.assertEqual(classified, scope)
        self.assertGreater(written, 0)
        self._assert_as_a_full_run(self.as_of)
        self.tiers["large"].contact_interval_days = 5
        classified, scope, written = self._run(self.as_of)
        self.assertEqual(classified, scope)
        self._assert_as_a_full_run(self.as_of)

    def test_a_new_buyer_reclassifies_only_the_ranks_it_moves(self):
        """The tiers' rank limits move with the number of buyers: a customer is
        classified again when its rank crosses one, not whenever it moves."""
        self._steady()
        for index in range(3):
            self._invoice(self._customer(f"Mới nữa {index}"), "2026-07-02", 50.0)
        classified, scope, _written = self._run("2026-07-02")
        self.assertLess(classified, scope)
        self._assert_as_a_full_run(date(2026, 7, 2))

    def test_a_run_back_in_time_classifies_everyone(self):
        self._steady()
        classified, scope, _written = self._run("2026-06-29")
        self.assertEqual(classified, scope)

    def test_a_partial_run_keeps_no_fingerprint(self):
        self._steady()
        self._recompute(self.steady, as_of="2026-07-02")
        self.env.cr.execute(
            f"SELECT COUNT(*) FROM {STATE_TABLE} WHERE valid_from = '2026-07-02'"
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_every_rule_setting_is_in_the_fingerprint_or_left_out_for_a_reason(self):
        """A field added to the rules' context is fingerprinted unless it is
        left out on purpose; the rank limits and the date are left out."""
        names = {item.name for item in RulesContext.__dataclass_fields__.values()}
        self.assertLessEqual(CONTEXT_LEFT_OUT, names)
        self.assertIn("tier_rules", CONTEXT_LEFT_OUT)
        State = self.env["crm.relationship.run.state"]
        Rules = self.env["crm.relationship.rules"]
        seeds = {
            State._seed(
                self.company, Rules._rules_context(self.company, as_of, (buyers, 0, 0))
            )
            for as_of, buyers in (
                (date(2026, 6, 30), 10),
                (date(2026, 7, 1), 11),
                (date(2026, 7, 2), 400),
            )
        }
        self.assertEqual(len(seeds), 1, "neither the date nor the buyers change it")
        self.company.relationship_new_customer_days = 30
        self.assertNotIn(
            State._seed(
                self.company,
                Rules._rules_context(self.company, date(2026, 6, 30), (10, 0, 0)),
            ),
            seeds,
        )

    def test_a_float_sum_enters_to_six_decimals(self):
        """A sum of floats differs in its last bits with the order PostgreSQL
        adds it in (the invoice report's margins): a fingerprint reads the
        float columns to 6 decimals, so such a sum moves no customer, and a
        real change does."""
        fingerprint = self.env["crm.relationship.run.state"]._fingerprint_sql(
            "x", ["pid", "margin"], 7, [], rounded={"margin"}
        )
        self.env.cr.execute(
            SQL(
                """SELECT %s FROM (VALUES (1, 0.1::float8 + 0.2::float8),
                                          (1, 0.3::float8),
                                          (1, 0.31::float8)) x(pid, margin)""",
                fingerprint,
            )
        )
        summed, exact, other = (value for (value,) in self.env.cr.fetchall())
        self.assertEqual(summed, exact)
        self.assertNotEqual(exact, other)
