from datetime import date
from unittest.mock import patch

from odoo.tests import tagged

from .common import CrmRelationshipCommon


def retention_value(margin, retention):
    """The retention lifetime value (docs/rules.md, Retention method) with the
    default discount and horizon."""
    return round(sum(margin * retention ** (t - 1) / 1.1**t for t in range(1, 6)), 2)


@tagged("post_install", "-at_install")
class TestMonthEndRetention(CrmRelationshipCommon):
    """The lifetime value uses the company's retention as of the last month end
    on or before the date, the KPI ``retention_rate`` of that day: it moves
    once a month, not every night.

    Previous-window buyers: 20 on 2025-02-01 (15 of them buy again on
    2026-02-01) and 4 on 2024-07-15, who leave the previous window at the end
    of July 2026. Retention: 15 / 24 on 2026-06-30, 15 / 20 on 2026-07-31.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for index in range(20):
            customer = cls._customer(f"Quay lại {index}")
            cls._invoice(customer, "2025-02-01", 100.0)
            if index < 15:
                cls._invoice(customer, "2026-02-01", 1000.0)
        for index in range(4):
            cls._invoice(cls._customer(f"Rời đi {index}"), "2024-07-15", 100.0)
        cls.customer = cls._customer("Đo cuối tháng")
        cls._invoice(cls.customer, "2026-05-01", 2000.0)  # m = 600 a year

    def _lifetime_value(self, as_of):
        self._recompute(as_of=as_of)
        self.customer.invalidate_recordset(["lifetime_value"])
        return self.customer.lifetime_value

    def test_two_days_of_one_month_give_the_same_value(self):
        value = self._lifetime_value("2026-07-10")
        self.assertEqual(value, retention_value(600, 15 / 24))
        self.assertEqual(self._lifetime_value("2026-07-20"), value)
        self.assertEqual(self._recompute(as_of="2026-07-21"), 0, "nothing moved")

    def test_crossing_a_month_end_changes_it(self):
        self.assertEqual(
            self._lifetime_value("2026-07-30"), retention_value(600, 0.625)
        )
        self.assertEqual(self._lifetime_value("2026-07-31"), retention_value(600, 0.75))
        self.assertEqual(self._lifetime_value("2026-08-05"), retention_value(600, 0.75))
        self.assertEqual(
            (
                self.company.relationship_retention_date.isoformat(),
                self.company.relationship_retention_previous,
                self.company.relationship_retention_retained,
            ),
            ("2026-07-31", 20, 15),
        )
        self.assertIn(": 75 % (", self.company.relationship_retention_message)
        self.assertIn("15 of 20", self.company.relationship_retention_message)

    def test_one_definition_with_the_kpi(self):
        self.env["crm.relationship.kpi"]._recompute_kpis(
            as_of="2026-07-31", company_ids=self.company.ids
        )
        value = self.env["crm.relationship.kpi.value"].search(
            [
                ("company_id", "=", self.company.id),
                ("date", "=", "2026-07-31"),
                ("kpi_id.code", "=", "retention_rate"),
                ("breakdown", "=", "total"),
            ]
        )
        self.assertEqual(value.value, 75.0)
        self.assertEqual(
            self._lifetime_value("2026-08-20"), retention_value(600, value.value / 100)
        )

    def test_a_partial_run_reuses_the_retention_of_the_full_run(self):
        value = self._lifetime_value("2026-07-10")
        Facts = type(self.env["crm.relationship.facts"])
        with patch.object(Facts, "_retention_counts", side_effect=AssertionError):
            self._recompute(self.customer, as_of="2026-07-12")
        self.customer.invalidate_recordset(["lifetime_value"])
        self.assertEqual(self.customer.lifetime_value, value)

    def test_a_full_run_counts_from_its_own_figures(self):
        """Mid-month or on the month end, a full run counts the retention from
        the sales it reads anyway, not from the moves of two more windows."""
        Facts = type(self.env["crm.relationship.facts"])
        retention = []
        with patch.object(Facts, "_retention_counts", side_effect=AssertionError):
            for as_of in ("2026-07-10", "2026-07-31", "2026-08-05"):
                value = self._lifetime_value(as_of)
                retention.append(
                    (
                        self.company.relationship_retention_date.isoformat(),
                        self.company.relationship_retention_previous,
                        self.company.relationship_retention_retained,
                        value,
                    )
                )
        self.assertEqual(
            retention,
            [
                ("2026-06-30", 24, 15, retention_value(600, 15 / 24)),
                ("2026-07-31", 20, 15, retention_value(600, 0.75)),
                ("2026-07-31", 20, 15, retention_value(600, 0.75)),
            ],
        )

    def test_a_partial_run_after_a_month_end_counts_from_the_moves(self):
        """A partial run whose month end the company has not measured yet reads
        the moves of the two windows: the same counts a full run reads from
        its sales."""
        self._lifetime_value("2026-07-10")  # the company keeps 2026-06-30
        Facts = self.env["crm.relationship.facts"]
        self.assertEqual(
            [
                tuple(Facts._retention_counts(self.company, date(2026, 6, 30))),
                tuple(Facts._retention_counts(self.company, date(2026, 7, 31))),
            ],
            [(24, 15), (20, 15)],
        )
        self._recompute(self.customer, as_of="2026-08-05")
        self.customer.invalidate_recordset(["lifetime_value"])
        self.assertEqual(self.customer.lifetime_value, retention_value(600, 0.75))
