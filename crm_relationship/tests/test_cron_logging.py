import logging

from odoo.tests import tagged

from .common import CrmRelationshipCommon

# logging.INFO, not "INFO": Odoo names its level 25 (RUNBOT) "INFO" too, so
# that assertLogs(name, "INFO") would only catch records of level 25 and up
KPI_LOGGER = "odoo.addons.crm_relationship.models.crm_relationship_kpi"
PROGRAM_LOGGER = "odoo.addons.crm_relationship.models.crm_relationship_program"


@tagged("post_install", "-at_install")
class TestCronLogging(CrmRelationshipCommon):
    """The scheduled actions log, per company, what they did and how long it
    took, as core's crons do (issue 18)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls._customer("Khách nhật ký")
        cls._invoice(cls.customer, "2026-03-01", 400.0)

    def test_kpi_cron_logs_values_stored_per_company(self):
        other = self.env["res.company"].create({"name": "Công ty nhật ký"})
        Value = self.env["crm.relationship.kpi.value"]
        with self.assertLogs(KPI_LOGGER, logging.INFO) as logs:
            self.env["crm.relationship.kpi"]._cron_recompute_kpis(as_of=self.as_of)
        for company in self.company | other:
            stored = Value.search_count(
                [("company_id", "=", company.id), ("date", "=", self.as_of)]
            )
            if company == self.company:
                self.assertGreater(stored, 0)
            with self.subTest(company=company.name):
                lines = [
                    line
                    for line in logs.output
                    if f"for company {company.name} (id {company.id}):" in line
                ]
                self.assertEqual(len(lines), 1, "one line per company")
                self.assertRegex(
                    lines[0],
                    rf"^INFO:{KPI_LOGGER}:KPI snapshot of 2026-06-30 for company "
                    rf".+ \(id {company.id}\): {stored} values stored in \d+\.\d\ds$",
                )

    def test_program_results_log_members_updated_per_company(self):
        program = self.env["crm.relationship.program"].create(
            {
                "name": "Chương trình nhật ký",
                "date_start": "2026-02-01",
                "state": "running",
            }
        )
        program._enroll(self.customer)
        program.member_ids.date_enrolled = "2026-02-01"
        Program = self.env["crm.relationship.program"]
        with self.assertLogs(PROGRAM_LOGGER, logging.INFO) as logs:
            Program.browse()._recompute_results(as_of=self.as_of)
        lines = [line for line in logs.output if f"(id {self.company.id}):" in line]
        self.assertEqual(len(lines), 1)
        running = Program.search(
            [("state", "=", "running"), ("company_id", "=", self.company.id)]
        )
        self.assertRegex(
            lines[0],
            rf"^INFO:{PROGRAM_LOGGER}:Program results of 2026-06-30 for company "
            rf".+ \(id {self.company.id}\): {len(running)} programs, "
            r"1 members updated, 1 converted in \d+\.\d\ds$",
        )
        self.assertEqual(program.member_ids.revenue, 400.0)
