"""The KPIs of evaluation (step 6): definitions, targets, the dashboard and
the dated snapshots. The values of each KPI are computed in
``crm_relationship_kpi_customers.py`` (customers, profit, health) and
``crm_relationship_kpi_service.py`` (feedback, care, programs); the
arithmetic lives in ``tools/kpi.py`` and ``tools/profit.py``."""

import json
import logging
import time as time_module
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL
from odoo.tools.misc import format_date, formatLang

from ..tools import kpi as kpi_rules
from ..tools.status import window_start
from .crm_relationship_writer import company_value_sql
from .groups import MANAGER_GROUP

_logger = logging.getLogger(__name__)

BACKFILL_QUEUE_PARAM = "crm_relationship.kpi_backfill_queue"
# a cron worker is killed after limit_time_real_cron (120 s by default)
BACKFILL_SECONDS = 60
KPI_UNITS = [
    ("percent", "Percent"),
    ("count", "Count"),
    ("amount", "Amount"),
    ("hours", "Hours"),
    ("score", "Score"),
]
# (minimum, maximum) a value and a target may take; None = unbounded
UNIT_BOUNDS = {
    "percent": (0.0, 100.0),
    "count": (0.0, None),
    "amount": (0.0, None),
    "hours": (0.0, None),
    "score": (None, None),
}
CODE_BOUNDS = {
    "csat_average": (1.0, 5.0),
    "nps": (-100.0, 100.0),
    "program_roi": (-100.0, None),
    "average_health_score": (0.0, 100.0),
    "total_profit": (None, None),
    "top_20_profit_share": (0.0, None),
    "whale_curve_peak": (0.0, None),
}
# months drawn by the trend of a dashboard card
TREND_MONTHS = 12
TOP_TIER_CODES = ("vip", "large")
# customer KPIs that get a breakdown per tier (retention and churn do not: a
# customer who left has dropped to the inactive tier)
TIER_BREAKDOWN_CODES = (
    "active_customers",
    "new_customers",
    "repeat_purchase_rate",
    "average_lifetime_value",
)


class CrmRelationshipKpi(models.Model):
    _name = "crm.relationship.kpi"
    _description = "Relationship KPI"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True,
        help="Stable technical code: the scheduled action computes the KPI of "
        "each known code.",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    unit = fields.Selection(KPI_UNITS, required=True, default="percent")
    higher_is_better = fields.Boolean(
        "Higher is better",
        default=True,
        help="On target when the value reaches the target or exceeds it; "
        "otherwise when it stays at or below it.",
    )
    description = fields.Text(
        "Definition",
        translate=True,
        help="What the KPI measures and how it is computed.",
    )
    default_target = fields.Float(
        "Default target",
        help="Target given to each new company; every company may then set its own.",
    )
    target = fields.Float(
        company_dependent=True,
        help="Target of the current company.",
    )
    value_ids = fields.One2many(
        "crm.relationship.kpi.value",
        "kpi_id",
        "History",
        domain=[("breakdown", "=", "total")],
    )
    latest_value = fields.Float(compute="_compute_dashboard")
    latest_date = fields.Date("Latest snapshot", compute="_compute_dashboard")
    has_value = fields.Boolean(compute="_compute_dashboard")
    on_target = fields.Boolean(compute="_compute_dashboard")
    # --- dashboard card (current company) ---
    previous_value = fields.Float(
        compute="_compute_dashboard",
        help="Last value of the month before the latest snapshot's month.",
    )
    has_previous = fields.Boolean(compute="_compute_dashboard")
    value_change = fields.Float("Change", compute="_compute_dashboard")
    change_direction = fields.Selection(
        [("up", "Up"), ("down", "Down"), ("flat", "Unchanged")],
        compute="_compute_dashboard",
    )
    change_is_good = fields.Boolean(compute="_compute_dashboard")
    latest_display = fields.Char("Latest", compute="_compute_dashboard")
    target_display = fields.Char("Target value", compute="_compute_dashboard")
    change_display = fields.Char("Change since", compute="_compute_dashboard")
    dashboard_color = fields.Integer(
        compute="_compute_dashboard",
        help="Card colour: green on target, red off target, none without value.",
    )
    dashboard_graph_data = fields.Text(compute="_compute_dashboard")

    _sql_constraints = [
        ("code_unique", "unique(code)", "A KPI code must be unique."),
    ]

    @api.depends_context("company", "lang")
    @api.depends("target", "higher_is_better", "unit")
    def _compute_dashboard(self):
        """Every card of the dashboard from two queries over all the KPIs of
        ``self``: the last snapshot of each, and the last one of each of the
        TREND_MONTHS months shown (company totals of the current company)."""
        company = self.env.company
        months = kpi_rules.month_starts(fields.Date.context_today(self), TREND_MONTHS)
        latest, points = self._dashboard_snapshots(company, months[0])
        labels = [
            format_date(self.env, month, date_format="MMM yy") for month in months
        ]
        for kpi in self:
            card = kpi_rules.scorecard(
                points.get(kpi.id, {}),
                months,
                kpi.target,
                kpi.higher_is_better,
                latest.get(kpi.id),
            )
            kpi.latest_value = card.latest or 0.0
            kpi.latest_date = card.latest_date
            kpi.has_value = card.latest is not None
            kpi.on_target = bool(card.on_target)
            kpi.previous_value = card.previous or 0.0
            kpi.has_previous = card.previous is not None
            kpi.value_change = card.change or 0.0
            kpi.change_direction = card.change is not None and (
                "flat" if not card.change else "up" if card.change > 0 else "down"
            )
            kpi.change_is_good = bool(card.improved)
            kpi.latest_display = kpi._dashboard_format(card.latest)
            kpi.target_display = kpi._dashboard_format(kpi.target)
            kpi.change_display = kpi._dashboard_format(card.change, signed=True)
            kpi.dashboard_color = (
                0 if card.on_target is None else 10 if card.on_target else 1
            )
            kpi.dashboard_graph_data = json.dumps(
                [
                    {
                        "values": [
                            {"x": label, "y": value}
                            for label, value in zip(labels, card.trend, strict=True)
                        ],
                        "key": kpi.name,
                        "title": "",
                        "is_sample_data": False,
                    }
                ]
            )

    def _dashboard_snapshots(self, company, since):
        """``({kpi id: (value, date)}, {kpi id: {month start: value}})``: the last
        company-total snapshot of each KPI of ``self``, and of each month from
        ``since``."""
        if not self.ids:
            return {}, {}
        self.env["crm.relationship.kpi.value"].flush_model()
        latest_rows = self.env.execute_query(
            SQL(
                """SELECT DISTINCT ON (kpi_id) kpi_id, value, date
                     FROM crm_relationship_kpi_value
                    WHERE kpi_id = ANY(%s) AND company_id = %s
                      AND breakdown = 'total'
                 ORDER BY kpi_id, date DESC""",
                self.ids,
                company.id,
            )
        )
        month_rows = self.env.execute_query(
            SQL(
                """SELECT DISTINCT ON (kpi_id, month) kpi_id,
                          date_trunc('month', date)::date AS month, value
                     FROM crm_relationship_kpi_value
                    WHERE kpi_id = ANY(%s) AND company_id = %s
                      AND breakdown = 'total' AND date >= %s
                 ORDER BY kpi_id, month, date DESC""",
                self.ids,
                company.id,
                since,
            )
        )
        points = {}
        for kpi_id, month, value in month_rows:
            points.setdefault(kpi_id, {})[month] = value
        return {kpi_id: (value, day) for kpi_id, value, day in latest_rows}, points

    def _dashboard_format(self, value, signed=False):
        """``value`` as the card shows it, in the KPI's unit; empty when None."""
        self.ensure_one()
        if value is None:
            return ""
        sign = "+" if signed and value > 0 else ""
        if self.unit == "amount":
            currency = self.env.company.currency_id
            return sign + formatLang(self.env, value, currency_obj=currency)
        digits = 0 if self.unit == "count" else 1
        number = sign + formatLang(self.env, value, digits=digits)
        if self.unit == "percent":
            if signed:
                return self.env._("%(number)s pts", number=number)
            return f"{number} %"
        if self.unit == "hours":
            return self.env._("%(number)s h", number=number)
        return number

    def _bounds(self):
        self.ensure_one()
        return CODE_BOUNDS.get(self.code, UNIT_BOUNDS[self.unit])

    @api.constrains("target", "default_target", "unit", "code")
    def _check_target(self):
        for kpi in self:
            low, high = kpi._bounds()
            for target in (kpi.target, kpi.default_target):
                if (low is not None and target < low) or (
                    high is not None and target > high
                ):
                    raise ValidationError(
                        self.env._(
                            "The target of %(kpi)s must lie between %(low)s and "
                            "%(high)s.",
                            kpi=kpi.name,
                            low=self.env._("no minimum") if low is None else low,
                            high=self.env._("no maximum") if high is None else high,
                        )
                    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            vals.setdefault("target", vals.get("default_target", 0.0))
        kpis = super().create(vals_list)
        kpis._seed_company_targets(self.env["res.company"].sudo().search([]))
        return kpis

    def _seed_company_targets(self, companies):
        """Give ``companies`` the default target of the KPIs of ``self`` (all when
        empty), so each company starts from it and may then change its own."""
        kpis = self or self.with_context(active_test=False).search([])
        for company in companies:
            for kpi in kpis.sudo().with_company(company):
                kpi.target = kpi.default_target

    def _company_targets(self, company):
        """``{kpi id: target}`` in ``company``; the default when it has none."""
        self.flush_model(["target", "default_target"])
        rows = self.env.execute_query(
            SQL(
                """SELECT id, COALESCE(%s, default_target)
                     FROM crm_relationship_kpi WHERE id = ANY(%s)""",
                company_value_sql(
                    self._fields["target"], "crm_relationship_kpi", str(company.id)
                ),
                self.ids,
            )
        )
        return dict(rows)

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------

    def _check_kpi_manager(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only Relationship Managers can recompute the KPIs.")
            )

    def action_recompute_now(self):
        """Button: store today's snapshot of the current companies."""
        self._check_kpi_manager()
        self.sudo()._recompute_kpis(company_ids=self.env.companies.ids)
        return True

    @api.readonly
    def action_view_values(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_relationship.crm_relationship_kpi_value_action"
        )
        action["domain"] = [("kpi_id", "=", self.id)]
        action["context"] = {"search_default_filter_total": 1}
        action["display_name"] = self.name
        return action

    @api.readonly
    def action_view_tier_breakdown(self):
        """The KPI's values per tier, as a graph grouped by tier."""
        name = self.env._("%(kpi)s by tier", kpi=self.name)
        return self._action_view_breakdown("tier", "tier_id", name)

    @api.readonly
    def action_view_team_breakdown(self):
        """The KPI's values per sales team, as a graph grouped by team."""
        name = self.env._("%(kpi)s by sales team", kpi=self.name)
        return self._action_view_breakdown("team", "team_id", name)

    def _action_view_breakdown(self, breakdown, group_field, name):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_relationship.crm_relationship_kpi_value_action"
        )
        action["display_name"] = name
        action["domain"] = [("kpi_id", "=", self.id), ("breakdown", "=", breakdown)]
        action["context"] = {
            "group_by": [group_field, "date:month"],
            "graph_groupbys": ["date:month", group_field],
            "pivot_row_groupby": [group_field],
            "pivot_column_groupby": ["date:month"],
        }
        return action

    # ------------------------------------------------------------------
    # SNAPSHOTS
    # ------------------------------------------------------------------

    @api.model
    def _recompute_kpis(self, as_of=None, company_ids=None):
        """Store the KPI snapshot of ``as_of`` (default today) of every company, or
        of ``company_ids``; re-running a date replaces that date's values.

        Returns the number of values stored.
        """
        as_of = fields.Date.to_date(as_of) or fields.Date.context_today(self)
        companies = self.env["res.company"].sudo().browse(company_ids or [])
        companies = companies or self.env["res.company"].sudo().search([])
        return sum(
            self._recompute_kpis_company(company, as_of) for company in companies
        )

    @api.model
    def _cron_recompute_kpis(self, as_of=None):
        """Daily snapshot of every company, after the queued back-fill dates.

        Each date and company is committed and reported to the cron on its own.
        The back-fill queue is worked for about BACKFILL_SECONDS per call; when
        dates remain the cron is told so, and runs the job again at once.
        """
        auto_commit = self.env["crm.relationship.classification"]._auto_commit()
        as_of = fields.Date.to_date(as_of) or fields.Date.context_today(self)
        companies = self.env["res.company"].sudo().search([])
        if not self._kpi_work_backfill_queue(auto_commit, len(companies)):
            return
        for index, company in enumerate(companies):
            self._recompute_kpis_company(company, as_of)
            if auto_commit:
                self.env["ir.cron"]._notify_progress(
                    done=index + 1, remaining=len(companies) - index - 1
                )
                self.env.cr.commit()  # pylint: disable=invalid-commit

    # --- back-fill queue: [[date, company id], ...] in a system parameter ---

    @api.model
    def _kpi_backfill_queue(self):
        raw = self.env["ir.config_parameter"].sudo().get_param(BACKFILL_QUEUE_PARAM)
        return [tuple(item) for item in json.loads(raw or "[]")]

    @api.model
    def _kpi_set_backfill_queue(self, queue):
        self.env["ir.config_parameter"].sudo().set_param(
            BACKFILL_QUEUE_PARAM,
            json.dumps([list(item) for item in queue]) if queue else False,
        )

    @api.model
    def _kpi_enqueue_backfill(self, dates, companies):
        """Queue the snapshots of ``dates`` x ``companies`` for the cron; start it."""
        queue = self._kpi_backfill_queue()
        known = set(queue)
        for day in dates:
            for company in companies:
                item = (fields.Date.to_string(day), company.id)
                if item not in known:
                    queue.append(item)
                    known.add(item)
        self._kpi_set_backfill_queue(queue)
        self.env.ref("crm_relationship.ir_cron_crm_relationship_kpi").sudo()._trigger()
        return len(queue)

    @api.model
    def _kpi_work_backfill_queue(self, auto_commit, daily_count):
        """Compute queued snapshots, oldest first; True once the queue is empty."""
        started = time_module.monotonic()
        done = 0
        while queue := self._kpi_backfill_queue():
            if auto_commit and time_module.monotonic() - started > BACKFILL_SECONDS:
                self._kpi_log_backfill(done, len(queue), started)
                self.env["ir.cron"]._notify_progress(
                    done=max(done, 1), remaining=len(queue) + daily_count
                )
                return False
            day, company_id = queue[0]
            company = self.env["res.company"].sudo().browse(company_id).exists()
            if company:
                self._recompute_kpis_company(company, fields.Date.to_date(day))
            self._kpi_set_backfill_queue(queue[1:])
            done += 1
            if auto_commit:
                self.env["ir.cron"]._notify_progress(
                    done=done, remaining=len(queue) - 1 + daily_count
                )
                self.env.cr.commit()  # pylint: disable=invalid-commit
        self._kpi_log_backfill(done, 0, started)
        return True

    @api.model
    def _kpi_log_backfill(self, done, left, started):
        if done:
            _logger.info(
                "KPI back-fill: %d snapshots stored in %.2fs, %d left in the queue",
                done,
                time_module.monotonic() - started,
                left,
            )

    @api.model
    def _recompute_kpis_company(self, company, as_of):
        """Replace the snapshot of ``as_of`` in ``company``; return the value count.

        Logs, as core's crons do, the values stored and the time taken.
        """
        started = time_module.monotonic()
        kpis = self.sudo().search([])
        Value = self.env["crm.relationship.kpi.value"].sudo()
        Value.search(
            [
                ("company_id", "=", company.id),
                ("date", "=", as_of),
                ("kpi_id", "in", kpis.ids),
            ]
        ).unlink()
        start = window_start(as_of, company.relationship_window_months)
        results = self.sudo()._kpi_compute(company, as_of, start)
        targets = kpis._company_targets(company)
        vals_list = []
        for kpi in kpis:
            for value, tier_id, team_id in results.get(kpi.code, []):
                if value is None:
                    continue
                vals_list.append(
                    {
                        "kpi_id": kpi.id,
                        "company_id": company.id,
                        "date": as_of,
                        "date_from": start + timedelta(days=1),
                        "date_to": as_of,
                        "value": value,
                        "target": targets[kpi.id],
                        "tier_id": tier_id,
                        "team_id": team_id,
                        "breakdown": "tier"
                        if tier_id
                        else ("team" if team_id else "total"),
                    }
                )
        Value.create(vals_list)
        _logger.info(
            "KPI snapshot of %s for company %s (id %s): %d values stored in %.2fs",
            as_of,
            company.name,
            company.id,
            len(vals_list),
            time_module.monotonic() - started,
        )
        return len(vals_list)

    @api.model
    def _demo_backfill(self):
        """Demo data: snapshots of the last 12 month-ends and of today, computed
        from the demo invoices of every company."""
        today = fields.Date.context_today(self)
        dates = kpi_rules.snapshot_dates(
            today - relativedelta(months=12), today, "month_end"
        )
        for day in [*dates[-12:], today]:
            self.sudo()._recompute_kpis(as_of=day)

    @api.model
    def _kpi_compute(self, company, as_of, start):
        """``{code: [(value, tier id, team id)]}`` of ``company`` at ``as_of``.

        ``start`` is the first excluded day of the window (start, as_of].
        """
        results = {}
        customers = self._kpi_customer_facts(company, as_of)
        results.update(self._kpi_customer_values(customers, start))
        # a company that measures no profit (margin rate, no cost to serve)
        # sees the KPIs it saw before
        if company._relationship_measures_profit():
            results.update(self._kpi_profit_results(customers))
        results.update(self._kpi_feedback_values(company, as_of, start))
        results.update(self._kpi_care_values(company, as_of, customers))
        results.update(self._kpi_program_values(company, as_of, start))
        return results
