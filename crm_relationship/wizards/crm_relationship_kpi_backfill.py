from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools import kpi as kpi_rules

MAX_SNAPSHOT_DATES = 60


class CrmRelationshipKpiBackfill(models.TransientModel):
    _name = "crm.relationship.kpi.backfill"
    _description = "Back-fill KPI history"

    date_from = fields.Date(
        "From",
        required=True,
        default=lambda self: fields.Date.context_today(self) - relativedelta(years=1),
    )
    date_to = fields.Date(
        "To", required=True, default=lambda self: fields.Date.context_today(self)
    )
    frequency = fields.Selection(
        [
            ("month_end", "Every month-end"),
            ("week_end", "Every Sunday"),
            ("day", "Every day"),
        ],
        required=True,
        default="month_end",
    )
    company_ids = fields.Many2many(
        "res.company",
        string="Companies",
        required=True,
        default=lambda self: self.env.companies,
    )
    snapshot_count = fields.Integer("Snapshot dates", compute="_compute_snapshots")
    queued_count = fields.Integer(
        "Snapshots waiting",
        compute="_compute_queued_count",
        help="Snapshots queued for the scheduled action by earlier back-fills.",
    )
    snapshot_preview = fields.Char("Dates", compute="_compute_snapshots")

    @api.depends("date_from", "date_to", "frequency")
    def _compute_snapshots(self):
        for wizard in self:
            dates = wizard._snapshot_dates_unchecked()
            wizard.snapshot_count = len(dates)
            shown = [fields.Date.to_string(day) for day in dates[:4]]
            if len(dates) > 5:
                shown.append("…")
            if len(dates) > 4:
                shown.append(fields.Date.to_string(dates[-1]))
            wizard.snapshot_preview = ", ".join(shown)

    def _compute_queued_count(self):
        allowed = set(self.env.companies.ids)
        queue = self.env["crm.relationship.kpi"].sudo()._kpi_backfill_queue()
        queued = sum(1 for _day, company_id in queue if company_id in allowed)
        for wizard in self:
            wizard.queued_count = queued

    def _snapshot_dates_unchecked(self):
        self.ensure_one()
        if not (self.date_from and self.date_to and self.frequency):
            return []
        return kpi_rules.snapshot_dates(self.date_from, self.date_to, self.frequency)

    def _snapshot_dates(self):
        """The dates to compute; refuses ranges that make no sense."""
        self.ensure_one()
        if self.date_to < self.date_from:
            raise UserError(
                self.env._("The end of the back-fill must not be before its start.")
            )
        if self.date_to > fields.Date.context_today(self):
            raise UserError(
                self.env._("The back-fill cannot end in the future: it measures facts.")
            )
        dates = self._snapshot_dates_unchecked()
        if not dates:
            raise UserError(
                self.env._("No snapshot date falls in this range at this frequency.")
            )
        if len(dates) > MAX_SNAPSHOT_DATES:
            raise UserError(
                self.env._(
                    "%(count)s snapshot dates at once is too many: choose at most "
                    "%(max)s, with a shorter range or a lower frequency.",
                    count=len(dates),
                    max=MAX_SNAPSHOT_DATES,
                )
            )
        return dates

    def _companies(self):
        """The chosen companies the user works in now (an empty scope would
        mean every company to the KPI engine)."""
        companies = self.env.companies & self.sudo().company_ids
        if not companies:
            raise UserError(
                self.env._(
                    "Choose at least one of the companies you are working in: "
                    "%(companies)s.",
                    companies=", ".join(self.env.companies.mapped("name")),
                )
            )
        return companies

    def action_backfill(self):
        """Compute every snapshot now, in this request: for small databases.

        At 100,000 customers a date takes seconds: prefer the background."""
        self.ensure_one()
        Kpi = self.env["crm.relationship.kpi"]
        Kpi._check_kpi_manager()
        dates = self._snapshot_dates()
        companies = self._companies()
        for day in dates:
            Kpi.sudo()._recompute_kpis(as_of=day, company_ids=companies.ids)
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_relationship.crm_relationship_kpi_value_action"
        )
        return action

    def action_backfill_background(self):
        """Queue the snapshots for the scheduled action, which computes them a
        date at a time and commits each: safe within a worker's time limit."""
        self.ensure_one()
        Kpi = self.env["crm.relationship.kpi"]
        Kpi._check_kpi_manager()
        dates = self._snapshot_dates()
        queued = Kpi.sudo()._kpi_enqueue_backfill(dates, self._companies())
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "%(count)s snapshots are queued: the KPI history fills in "
                    "within minutes.",
                    count=queued,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
