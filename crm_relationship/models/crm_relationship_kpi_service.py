"""The KPIs of service: feedback, care and programs (docs/rules.md, KPIs)."""

from datetime import date, datetime, time, timedelta

from odoo import api, fields, models

from ..tools import kpi as kpi_rules


class CrmRelationshipKpi(models.Model):
    _inherit = "crm.relationship.kpi"  # pylint: disable=consider-merging-classes-inherited

    # --- feedback ---------------------------------------------------------

    @api.model
    def _kpi_window_domain(self, model, fname, start, as_of):
        """Domain of ``fname`` (date or datetime) in the window (start, as_of]."""
        if model._fields[fname].type == "datetime":
            return [
                (fname, ">=", datetime.combine(start + timedelta(days=1), time.min)),
                (fname, "<", datetime.combine(as_of + timedelta(days=1), time.min)),
            ]
        return [(fname, ">", start), (fname, "<=", as_of)]

    @api.model
    def _kpi_nps_domain(self, Feedback):
        """Feedback carrying an NPS answer: 0 is a real answer, the flag tells
        it apart from no answer."""
        return [("nps_answered", "=", True)]

    @api.model
    def _kpi_feedback_values(self, company, as_of, start):
        Feedback = self.env["crm.relationship.feedback"].sudo()
        company_domain = [("company_id", "=", company.id)]
        received = self._kpi_window_domain(Feedback, "date_received", start, as_of)
        resolved_by_end = [("date_resolved", "!=", False)] + self._kpi_window_domain(
            Feedback, "date_resolved", date.min, as_of
        )
        complaints = company_domain + received + [("feedback_type", "=", "complaint")]
        results = {
            "complaint_resolution_rate": [
                (
                    kpi_rules.rate(
                        Feedback.search_count(complaints + resolved_by_end),
                        Feedback.search_count(complaints),
                    ),
                    False,
                    False,
                )
            ]
        }
        resolved = Feedback.search_fetch(
            company_domain
            + self._kpi_window_domain(Feedback, "date_resolved", start, as_of),
            ["date_received", "date_resolved", "sla_breached"],
        )
        hours = [
            self._kpi_hours_between(item.date_received, item.date_resolved)
            for item in resolved
            if item.date_received
        ]
        results["average_resolution_hours"] = [(kpi_rules.average(hours), False, False)]
        results["sla_compliance_rate"] = [
            (
                kpi_rules.rate(
                    sum(1 for item in resolved if not item.sla_breached), len(resolved)
                ),
                False,
                False,
            )
        ]
        scored = Feedback.search_fetch(
            company_domain + received + [("csat_score", ">", 0)], ["csat_score"]
        )
        results["csat_average"] = [
            (
                kpi_rules.average(
                    int(item.csat_score) for item in scored if int(item.csat_score)
                ),
                False,
                False,
            )
        ]
        answers = Feedback.search_fetch(
            company_domain + received + self._kpi_nps_domain(Feedback), ["nps_score"]
        )
        results["nps"] = [
            (kpi_rules.nps(int(item.nps_score or 0) for item in answers), False, False)
        ]
        return results

    @api.model
    def _kpi_hours_between(self, start, end):
        if not isinstance(start, datetime):
            start = datetime.combine(start, time.min)
        if not isinstance(end, datetime):
            end = datetime.combine(end, time.min)
        return max((end - start).total_seconds() / 3600.0, 0.0)

    # --- care -------------------------------------------------------------

    @api.model
    def _kpi_care_values(self, company, as_of, customers):
        """Care compliance is a state of today (``care_overdue``): it cannot be
        rebuilt for a past date, so only today's snapshot stores it."""
        Partner = self.env["res.partner"]
        if as_of != fields.Date.context_today(self):
            return {}
        overdue = set(
            Partner.sudo()
            .with_company(company)
            .search([("care_overdue", "=", True)])
            .ids
        )
        active = [row for row in customers if row.revenue > 0]
        rows = [
            (
                kpi_rules.rate(
                    sum(1 for row in active if row.partner_id not in overdue),
                    len(active),
                ),
                False,
                False,
            )
        ]
        by_team = {}
        for row in active:
            if row.team_id:
                by_team.setdefault(row.team_id, []).append(row)
        for team_id, group in by_team.items():
            compliant = sum(1 for row in group if row.partner_id not in overdue)
            rows.append((kpi_rules.rate(compliant, len(group)), False, team_id))
        return {"care_compliance_rate": rows}

    # --- programs ---------------------------------------------------------

    @api.model
    def _kpi_program_values(self, company, as_of, start):
        """Programs running during the window (started by its end, not ended
        before its start). Conversion counts the members enrolled and converted
        by ``as_of``; ROI reads the programs' current revenue, so only today's
        snapshot stores it."""
        programs = (
            self.env["crm.relationship.program"]
            .sudo()
            .search(
                [
                    ("company_id", "=", company.id),
                    ("state", "in", ("running", "done")),
                    "|",
                    ("date_start", "=", False),
                    ("date_start", "<=", as_of),
                    "|",
                    ("date_end", "=", False),
                    ("date_end", ">", start),
                ]
            )
        )
        if not programs:
            return {}
        by_team = {}
        for program in programs.filtered("team_id"):
            by_team.setdefault(program.team_id.id, self.env[programs._name])
            by_team[program.team_id.id] |= program
        groups = [(False, programs), *by_team.items()]  # company total, then teams
        conversion = self._kpi_program_conversion(programs, as_of)
        results = {
            "program_conversion_rate": [
                (
                    kpi_rules.rate(
                        sum(conversion[p.id][0] for p in group),
                        sum(conversion[p.id][1] for p in group),
                    ),
                    False,
                    team_id,
                )
                for team_id, group in groups
            ]
        }
        if as_of == fields.Date.context_today(self):
            margin = company.relationship_margin_rate / 100
            results["program_roi"] = [
                (
                    kpi_rules.roi(
                        sum(group.mapped("revenue")),
                        margin,
                        sum(group.mapped("budget")),
                    ),
                    False,
                    team_id,
                )
                for team_id, group in groups
            ]
        return results

    @api.model
    def _kpi_program_conversion(self, programs, as_of):
        """``{program id: (converted, members)}`` of ``programs`` as of ``as_of``."""
        Member = self.env["crm.relationship.program.member"].sudo()
        far = date.min
        enrolled = (
            [("program_id", "in", programs.ids)]
            + [
                "|",
                ("date_enrolled", "=", False),
            ]
            + self._kpi_window_domain(Member, "date_enrolled", far, as_of)[-1:]
        )
        members = dict(Member._read_group(enrolled, ["program_id"], ["__count"]))
        converted_domain = enrolled + [("date_converted", "!=", False)]
        converted_domain += self._kpi_window_domain(
            Member, "date_converted", far, as_of
        )
        converted = dict(
            Member._read_group(converted_domain, ["program_id"], ["__count"])
        )
        return {
            program.id: (converted.get(program, 0), members.get(program, 0))
            for program in programs
        }
