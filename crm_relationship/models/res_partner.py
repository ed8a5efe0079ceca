import hashlib
import json
import threading
from collections import defaultdict
from datetime import datetime, time, timedelta
from operator import itemgetter
from pathlib import Path

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, split_every
from odoo.tools.misc import format_amount, format_date

from ..tools import care, lifetime_value, rfm, tiering
from ..tools.status import CustomerFacts, quarter_bounds, relationship_status
from ..tools.status import window_start as status_window_start
from .account_move import REVENUE_FIELDS
from .crm_relationship_care_stage import CARE_PHASES
from .crm_relationship_tier import RELATIONSHIP_LEVELS, TIER_RULE_FIELDS

RELATIONSHIP_STATUSES = [
    ("new", "New"),
    ("active", "Active"),
    ("loyal", "Loyal"),
    ("growing", "Growing"),
    ("needs_care", "Needs care"),
    ("low_potential", "Low potential"),
    ("lost", "Lost"),
]
RFM_SEGMENTS = [
    ("champions", "Champions"),
    ("loyal", "Loyal"),
    ("potential_loyalist", "Potential loyalist"),
    ("new_customer", "New customer"),
    ("promising", "Promising"),
    ("need_attention", "Needs attention"),
    ("about_to_sleep", "About to sleep"),
    ("at_risk", "At risk"),
    ("cannot_lose", "Cannot lose them"),
    ("hibernating", "Hibernating"),
    ("lost", "Lost"),
]

# written by the classification, per company; {field: kind} drives the JSON
# conversion of the batched writes
CLASSIFICATION_FIELDS = {
    "relationship_tier_id": "id",
    "relationship_status": "str",
    "relationship_level": "str",
    "lifetime_value": "amount",
    "historical_revenue": "amount",
    "period_revenue": "amount",
    "previous_period_revenue": "amount",
    "purchase_count": "int",
    "first_purchase_date": "date",
    "last_purchase_date": "date",
    "rfm_recency_score": "int",
    "rfm_frequency_score": "int",
    "rfm_monetary_score": "int",
    "rfm_segment": "str",
    "relationship_revenue_rank": "int",
    "region_scope": "str",
    # care pipeline (see _care_compute_values)
    "care_stage_id": "id",
    "care_phase": "str",
    "care_phase_auto": "str",
    "last_interaction_date": "date",
    "next_care_date": "date",
    "care_status": "str",
}
# the module's code is an input of the classification too: a new version
# reclassifies even when no data changed
RULES_DIGEST = hashlib.md5(
    b"".join(
        path.read_bytes() for path in sorted(Path(__file__).parents[1].rglob("*.py"))
    ),
    usedforsecurity=False,
).hexdigest()
WRITE_BATCH_SIZE = 25000
ADVISORY_LOCK = 0x43524D52  # "CRMR": namespace of the classification lock
RELATIONSHIP_END_REASONS = [
    ("unprofitable", "Unprofitable"),
    ("payment_problems", "Payment problems"),
    ("customer_request", "Customer request"),
    ("fraud", "Fraud"),
    ("other", "Other"),
]
END_FIELDS = ["relationship_end_date", "relationship_end_reason"]
# care fields that interactions and the care scheduler write on their own
CARE_DATE_FIELDS = {
    "last_interaction_date": "date",
    "next_care_date": "date",
    "care_status": "str",
}
CARE_STATUSES = [
    ("on_time", "On time"),
    ("due_soon", "Due soon"),
    ("overdue", "Overdue"),
]
ACTIVITY_BATCH_SIZE = 1000
MANAGER_GROUP = "crm_relationship.crm_relationship_group_manager"
MANUAL_FIELDS = (
    "relationship_tier_id",
    "relationship_tier_locked",
    "relationship_level",
    "relationship_level_locked",
)


class ResPartner(models.Model):
    _inherit = "res.partner"

    # --- classification, per company (written by _recompute_relationship) ---
    relationship_tier_id = fields.Many2one(
        "crm.relationship.tier",
        "Tier",
        company_dependent=True,
        check_company=True,
        help="Tier by revenue contributed in the analysis window.",
    )
    relationship_tier_locked = fields.Boolean(
        "Tier locked",
        company_dependent=True,
        help="Keep the tier set by hand: the classification no longer changes it.",
    )
    relationship_tier_color = fields.Integer(related="relationship_tier_id.color")
    relationship_status = fields.Selection(
        RELATIONSHIP_STATUSES, "Relationship status", company_dependent=True
    )
    relationship_level = fields.Selection(
        RELATIONSHIP_LEVELS,
        company_dependent=True,
        help="Depth of the relationship (Kotler): recommended by the tier unless "
        "set by hand.",
    )
    relationship_level_locked = fields.Boolean(
        "Level set by hand", company_dependent=True
    )
    lifetime_value = fields.Float(
        company_dependent=True,
        help="Discounted margin the customer is expected to bring over the horizon, "
        "in company currency.",
    )
    historical_revenue = fields.Float(
        "Revenue to date",
        company_dependent=True,
        help="Untaxed revenue of every posted invoice minus credit notes.",
    )
    period_revenue = fields.Float(
        "Revenue (window)",
        company_dependent=True,
        help="Untaxed revenue of the analysis window, credit notes deducted.",
    )
    previous_period_revenue = fields.Float(
        "Revenue (previous window)", company_dependent=True
    )
    purchase_count = fields.Integer(
        "Purchases (window)",
        company_dependent=True,
        help="Posted customer invoices in the analysis window.",
    )
    first_purchase_date = fields.Date(company_dependent=True)
    last_purchase_date = fields.Date(company_dependent=True)
    rfm_recency_score = fields.Integer(
        "Recency score", company_dependent=True, aggregator="avg"
    )
    rfm_frequency_score = fields.Integer(
        "Frequency score", company_dependent=True, aggregator="avg"
    )
    rfm_monetary_score = fields.Integer(
        "Monetary score", company_dependent=True, aggregator="avg"
    )
    rfm_segment = fields.Selection(RFM_SEGMENTS, "RFM segment", company_dependent=True)
    relationship_revenue_rank = fields.Integer(
        "Revenue rank", company_dependent=True, aggregator=False
    )
    region_scope = fields.Selection(
        [
            ("local", "Local"),
            ("domestic", "Other provinces"),
            ("international", "International"),
        ],
        company_dependent=True,
        help="Local: same state as the company; other provinces: same country; "
        "international: another country.",
    )
    relationship_end_date = fields.Date(
        "Relationship ended on", company_dependent=True, copy=False
    )
    relationship_end_reason = fields.Selection(
        RELATIONSHIP_END_REASONS,
        "Why the relationship ended",
        company_dependent=True,
        copy=False,
    )
    relationship_signature = fields.Char(
        company_dependent=True,
        copy=False,
        prefetch=False,
        help="Technical: fingerprint of the last classification written.",
    )
    relationship_tier_reason = fields.Char(
        "Why this tier", compute="_compute_relationship_reasons"
    )
    relationship_status_reason = fields.Char(
        "Why this status", compute="_compute_relationship_reasons"
    )

    # --- care pipeline, per company (classification, interactions, scheduler) ---
    care_stage_id = fields.Many2one(
        "crm.relationship.care.stage",
        "Care stage",
        company_dependent=True,
        group_expand="_read_group_care_stage_ids",
        help="Column of the care pipeline. The classification moves the customer "
        "when the facts change phase; a person may move it at any time.",
    )
    care_phase = fields.Selection(
        CARE_PHASES,
        "Care phase",
        company_dependent=True,
        help="Before, during or after the sale: follows the care stage.",
    )
    care_phase_auto = fields.Selection(
        CARE_PHASES,
        "Care phase of the facts",
        company_dependent=True,
        help="Phase derived from invoices, payments and opportunities at the last "
        "classification: the stage moves only when it changes.",
    )
    last_interaction_date = fields.Date("Last interaction", company_dependent=True)
    next_care_date = fields.Date(
        "Next care date",
        company_dependent=True,
        help="Last interaction (or first purchase, or creation) plus the contact "
        "interval of the customer's tier.",
    )
    care_status = fields.Selection(
        CARE_STATUSES,
        "Care status",
        company_dependent=True,
        help="Refreshed every day by the care scheduler: due soon within a week "
        "of the next care date, overdue once it has passed.",
    )
    care_overdue = fields.Boolean(
        "Care overdue", compute="_compute_care_overdue", search="_search_care_overdue"
    )
    relationship_priority = fields.Selection(
        [("0", "Normal"), ("1", "Medium"), ("2", "High"), ("3", "Very high")],
        "Relationship priority",
        compute="_compute_relationship_priority",
        help="Stars from the tier (VIP 3, large 2, medium 1), one less when the "
        "customer is not expected to bring any more value (no lifetime value).",
    )
    care_interaction_ids = fields.One2many(
        "crm.relationship.interaction", "partner_id", "Interactions"
    )
    care_interaction_count = fields.Integer(
        "Interaction count", compute="_compute_care_interaction_count"
    )

    # --- customer database: descriptive, shared by every company ---
    customer_segment = fields.Selection(
        [
            ("end_consumer", "End consumer"),
            ("retailer", "Retailer"),
            ("wholesaler", "Wholesaler"),
        ],
        "Segment by role",
    )
    organization_type = fields.Selection(
        [
            ("manufacturing", "Manufacturing"),
            ("service", "Services"),
            ("government", "Government agency"),
        ]
    )
    enterprise_size = fields.Selection(
        [("large", "Large"), ("medium", "Medium"), ("small", "Small")]
    )
    area_type = fields.Selection(
        [("urban", "City"), ("town", "Town"), ("rural", "Countryside")]
    )
    is_internal_customer = fields.Boolean(
        "Internal customer",
        help="A department, branch or employee served like a customer.",
    )

    @api.depends_context("company")
    @api.depends(
        "relationship_tier_id",
        "relationship_tier_locked",
        "relationship_status",
        "period_revenue",
        "previous_period_revenue",
        "relationship_revenue_rank",
    )
    def _compute_relationship_reasons(self):
        company = self.env.company
        for partner in self:
            partner.relationship_tier_reason = partner._relationship_tier_reason(
                company
            )
            partner.relationship_status_reason = partner._relationship_status_reason(
                company
            )

    def _relationship_tier_reason(self, company):
        tier = self.relationship_tier_id
        months = company.relationship_window_months
        if not tier:
            return False
        if self.relationship_tier_locked:
            return self.env._("Set by hand and locked.")
        if tier.tier_type == "potential":
            return self.env._(
                "Never bought: a prospect with an opportunity, a customer role or a "
                "program."
            )
        if tier.tier_type == "inactive":
            return self.env._(
                "Bought before, but no positive revenue in the last %(months)s months.",
                months=months,
            )
        revenue = format_amount(self.env, self.period_revenue, company.currency_id)
        if tier.threshold_type == "amount":
            return self.env._(
                "Revenue of %(revenue)s in the last %(months)s months reaches "
                "%(minimum)s.",
                revenue=revenue,
                months=months,
                minimum=format_amount(self.env, tier.min_amount, company.currency_id),
            )
        percent = f"{tier.top_percent:g}"
        return self.env._(
            "Rank %(rank)s by revenue (%(revenue)s in the last %(months)s months): "
            "within the top %(percent)s %%.",
            rank=self.relationship_revenue_rank,
            revenue=revenue,
            months=months,
            percent=percent,
        )

    def _relationship_status_reason(self, company):
        status = self.relationship_status
        currency = company.currency_id
        revenue = format_amount(self.env, self.period_revenue, currency)
        previous = format_amount(self.env, self.previous_period_revenue, currency)
        reasons = {
            "low_potential": lambda: self.env._(
                "No purchase in this window nor the previous one."
            ),
            "new": lambda: self.env._(
                "First purchase on %(date)s.",
                date=format_date(self.env, self.first_purchase_date),
            ),
            "growing": lambda: self.env._(
                "Revenue grew from %(previous)s to %(revenue)s.",
                previous=previous,
                revenue=revenue,
            ),
            "loyal": lambda: self.env._(
                "Buys in most quarters, a customer since %(date)s.",
                date=format_date(self.env, self.first_purchase_date),
            ),
            "active": lambda: self.env._(
                "Bought in the last %(months)s months.",
                months=company.relationship_window_months,
            ),
        }
        if not status:
            return False
        if status == "lost":
            if self.relationship_end_date:
                return self.env._(
                    "Relationship ended on %(date)s.",
                    date=format_date(self.env, self.relationship_end_date),
                )
            return self.env._(
                "No purchase since %(date)s, more than three windows ago.",
                date=format_date(self.env, self.last_purchase_date),
            )
        if status == "needs_care":
            decline = 1 - company.relationship_decline_rate / 100
            if self.period_revenue <= decline * self.previous_period_revenue:
                return self.env._(
                    "Revenue fell from %(previous)s to %(revenue)s.",
                    previous=previous,
                    revenue=revenue,
                )
            return self.env._("A complaint is open past its deadline.")
        return reasons[status]()

    @api.model
    def _commercial_fields(self):
        return super()._commercial_fields() + [
            *CLASSIFICATION_FIELDS,
            *MANUAL_FIELDS,
            "relationship_end_date",
            "relationship_end_reason",
            "customer_segment",
            "organization_type",
            "enterprise_size",
            "area_type",
            "is_internal_customer",
        ]

    def write(self, vals):
        if "care_stage_id" in vals:
            stage = self.env["crm.relationship.care.stage"].browse(
                vals["care_stage_id"]
            )
            vals = {**vals, "care_phase": stage.phase or False}
        manual = [fname for fname in MANUAL_FIELDS if fname in vals]
        if manual and not self.env.su:
            if self.filtered(lambda p: p.commercial_partner_id == p):
                self._check_relationship_manager()
            if "relationship_tier_id" in vals:
                vals.setdefault("relationship_tier_locked", True)
                tier = self.env["crm.relationship.tier"].browse(
                    vals["relationship_tier_id"]
                )
                if "relationship_level" not in vals and not vals.get(
                    "relationship_level_locked"
                ):
                    vals["relationship_level"] = tier.relationship_level
            if "relationship_level" in vals:
                vals.setdefault("relationship_level_locked", True)
        return super().write(vals)

    def _check_relationship_manager(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._(
                    "Only Relationship Managers can change tiers and relationship "
                    "levels or run the classification."
                )
            )

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------

    def action_recompute_relationship(self):
        """Button: classify the selected customers now in the current companies."""
        self._check_relationship_manager()
        self.sudo()._recompute_relationship(company_ids=self.env.companies.ids)
        return True

    def action_unlock_relationship_tier(self):
        self._check_relationship_manager()
        self.commercial_partner_id.write(
            {"relationship_tier_locked": False, "relationship_level_locked": False}
        )
        self.sudo()._recompute_relationship(company_ids=self.env.company.ids)
        return True

    # ------------------------------------------------------------------
    # CLASSIFICATION
    # ------------------------------------------------------------------

    def _recompute_relationship(self, as_of=None, company_ids=None):
        """Classify the commercial partners of ``self`` (all of them when empty).

        Revenue, tier, RFM, status, level and lifetime value are measured as of
        ``as_of`` (default today) in every company, or in ``company_ids``.
        Ranks, quintiles and retention always use the whole company, so a
        partial run gives the same figures as a full one. Only changed values
        are written, and nothing is computed in a company where nothing the
        rules read changed since the last full run (``_relationship_fingerprint``).
        Returns the number of commercial partners written.
        """
        as_of = fields.Date.to_date(as_of) or fields.Date.context_today(self)
        companies = self.env["res.company"].sudo().browse(company_ids or [])
        companies = companies or self.env["res.company"].sudo().search([])
        written = 0
        for company in companies:
            for count in self._relationship_recompute_company(company, as_of):
                written += count
        return written

    @api.model
    def _cron_recompute_relationship(self, as_of=None):
        """Scheduled classification of every company.

        Each batch of writes is committed and reported to the cron, so a run
        that is stopped resumes from what is still to be written: the next run
        recomputes the figures (a few set-based queries) and writes only what
        differs.
        """
        auto_commit = not getattr(threading.current_thread(), "testing", False)
        as_of = fields.Date.to_date(as_of) or fields.Date.context_today(self)
        companies = self.env["res.company"].sudo().search([])
        done = 0
        for index, company in enumerate(companies):
            for count in self.browse()._relationship_recompute_company(company, as_of):
                done += count
                if auto_commit:
                    self.env["ir.cron"]._notify_progress(
                        done=done, remaining=len(companies) - index
                    )
                    # each committed batch survives a stopped run (ODOO18_NOTES §1)
                    self.env.cr.commit()  # pylint: disable=invalid-commit
        self.env["ir.cron"]._notify_progress(done=max(done, 1), remaining=0)

    def _relationship_recompute_company(self, company, as_of):
        """Classify in ``company``; yield the partners written by each batch."""
        # one classification of a company at a time (cron and buttons, on any
        # worker): two runs updating the same rows could deadlock
        self.env.cr.execute(
            SQL("SELECT pg_advisory_xact_lock(%s, %s)", ADVISORY_LOCK, company.id)
        )
        self.env.flush_all()  # the rules read with SQL
        fingerprint = self._relationship_fingerprint(company, as_of)
        if fingerprint == company.sudo().relationship_fingerprint:
            return  # nothing the rules read changed since the last full run
        values = self._relationship_compute_values(company, as_of)
        changed = self._relationship_changed_rows(company, values)
        for batch in split_every(WRITE_BATCH_SIZE, list(changed.items())):
            yield self._relationship_write_values(company, dict(batch))
        if not self:
            # every customer now holds what these inputs give
            company.sudo().relationship_fingerprint = fingerprint

    def _relationship_fingerprint(self, company, as_of):
        """Fingerprint of everything the classification of ``company`` at
        ``as_of`` reads: the module's code, the company's settings, tiers and
        care stages, and a hash of every row of the input tables, summed in one
        query (no grouping, no sorting). Equal fingerprints, equal results.

        The care stage is not an input: a card a person moved stays where it is
        until the facts change, so the run would not move it anyway.
        """
        tiers = (
            self.env["crm.relationship.tier"]
            .sudo()
            .with_context(active_test=False)
            .search([("company_id", "=", company.id)], order="id")
        )
        stages = self.env["crm.relationship.care.stage"].sudo().search([])
        company = company.sudo()
        settings = sorted(
            (fname, company[fname])
            for fname in company._fields
            if fname.startswith("relationship_") and fname != "relationship_fingerprint"
        )
        inputs = SQL(" UNION ALL ").join(
            SQL("SELECT %s, COUNT(*), SUM(h)::text FROM (%s) AS rows(h)", index, query)
            for index, query in enumerate(self._get_relationship_input_queries(company))
        )
        key = (
            RULES_DIGEST,
            as_of,
            settings,
            [tuple(tier[fname] for fname in TIER_RULE_FIELDS) for tier in tiers],
            [(stage.id, stage.phase) for stage in stages],
            self.env.execute_query(
                SQL("SELECT * FROM (%s) AS inputs ORDER BY 1", inputs)
            ),
        )
        return hashlib.md5(repr(key).encode(), usedforsecurity=False).hexdigest()

    def _get_relationship_input_queries(self, company):
        """SQL selects of one hash per row read by the classification of
        ``company`` (see ``_relationship_fingerprint``); hashes of the rows'
        text, as ``hash_record_extended`` needs PostgreSQL 14.

        Override hook: a feature that makes the rules read other rows (a new
        prospect query, say) adds a query hashing them.
        """
        key = str(company.id)
        return [
            SQL(
                """SELECT hashtextextended((id, commercial_partner_id,
                          amount_untaxed_signed, invoice_date, move_type,
                          payment_state)::text, 0)
                     FROM account_move
                    WHERE company_id = %s AND state = 'posted'
                      AND move_type IN ('out_invoice', 'out_refund')""",
                company.id,
            ),
            SQL(
                """SELECT hashtextextended((id, commercial_partner_id, active,
                          customer_rank > 0, company_id, country_id, state_id,
                          create_date, relationship_tier_locked->%(key)s,
                          CASE WHEN (relationship_tier_locked->>%(key)s)::boolean
                               THEN relationship_tier_id->%(key)s END,
                          relationship_level_locked->%(key)s,
                          CASE WHEN (relationship_level_locked->>%(key)s)::boolean
                               THEN relationship_level->%(key)s END,
                          relationship_end_date->%(key)s)::text, 0)
                     FROM res_partner""",
                key=key,
            ),
            SQL(
                """SELECT hashtextextended((l.id, l.partner_id, l.active, l.type,
                          l.company_id, l.stage_id, s.is_won,
                          l.date_closed)::text, 0)
                     FROM crm_lead l LEFT JOIN crm_stage s ON s.id = l.stage_id
                    WHERE l.company_id IS NULL OR l.company_id = %s""",
                company.id,
            ),
            SQL(
                """SELECT hashtextextended((id, partner_id)::text, 0)
                     FROM crm_relationship_program_member WHERE company_id = %s""",
                company.id,
            ),
            SQL(
                """SELECT hashtextextended((id, partner_id, date)::text, 0)
                     FROM crm_relationship_interaction WHERE company_id = %s""",
                company.id,
            ),
            SQL(
                """SELECT hashtextextended((id, partner_id, feedback_type,
                          is_closed, date_received, date_deadline,
                          date_resolved)::text, 0)
                     FROM crm_relationship_feedback WHERE company_id = %s""",
                company.id,
            ),
        ]

    def _relationship_compute_values(self, company, as_of):
        """Return ``{commercial_partner_id: {field: value}}`` in ``company``.

        For all of the company's classified partners when ``self`` is empty,
        else for the commercial partners of ``self`` only.
        """
        # the queries below read these tables in SQL
        self.env["res.partner"].flush_model()
        self.env["crm.lead"].flush_model(["active", "company_id", "partner_id", "type"])
        stats = self._relationship_invoice_stats(company, as_of)
        prospects = self._relationship_prospect_ids(company)
        if self:
            scope = set(self.commercial_partner_id.ids)
        else:
            scope = set(stats) | prospects
            scope |= self._relationship_classified_ids(company)
        tiers = (
            self.env["crm.relationship.tier"]
            .sudo()
            .search([("company_id", "=", company.id)])
        )
        revenue_rules = tiers._to_revenue_rules()
        special_tiers = {t.tier_type: t for t in tiers if t.tier_type != "revenue"}
        revenues = {pid: row["revenue"] for pid, row in stats.items()}
        ranks = tiering.rank_by_revenue(revenues)
        revenue_tiers = tiering.assign_revenue_tiers(revenues, revenue_rules, ranks)
        buyers = {pid: row for pid, row in stats.items() if row["revenue"] > 0}
        scores = rfm.rfm_scores(
            {pid: (as_of - row["last_purchase"]).days for pid, row in buyers.items()},
            {pid: row["purchases"] for pid, row in buyers.items()},
            {pid: row["revenue"] for pid, row in buyers.items()},
        )
        previous_buyers = [row for row in stats.values() if row["previous_purchases"]]
        retention = lifetime_value.measured_retention(
            len(previous_buyers),
            sum(1 for row in previous_buyers if row["purchases"]),
            company.relationship_retention_fallback / 100,
        )
        params = company._relationship_status_params()
        manual = self._relationship_manual_values(company, scope)
        overdue = self._get_relationship_overdue_complaint_ids(company, as_of)
        regions = self._relationship_region_scopes(company, scope)
        # read once: the loop below runs for every customer of the company
        tier_keys = {tier: (tier.id, tier.relationship_level) for tier in tiers}
        tier_keys[None] = (None, None)
        ltv_factor = lifetime_value.retention_factor(
            retention,
            company.relationship_discount_rate / 100,
            company.relationship_horizon_years,
        )
        margin_rate = company.relationship_margin_rate / 100
        months = company.relationship_window_months
        inactive = special_tiers.get("inactive")
        potential = special_tiers.get("potential")
        empty = {
            "revenue": 0.0,
            "previous_revenue": 0.0,
            "historical_revenue": 0.0,
            "purchases": 0,
            "previous_purchases": 0,
            "first_purchase": None,
            "last_purchase": None,
            "quarters": 0,
        }
        values = {}
        for pid in scope:
            row = stats.get(pid, empty)
            locked_tier, locked_level, end_date = manual.get(pid, (None, None, None))
            if locked_tier is not None:
                tier = locked_tier
            elif pid in stats:
                tier = revenue_tiers.get(pid) if row["revenue"] > 0 else inactive
            else:
                tier = potential if pid in prospects else None
            tier_id, tier_level = tier_keys.get(tier) or (
                tier.id,
                tier.relationship_level,
            )
            facts = CustomerFacts(
                revenue=row["revenue"],
                previous_revenue=row["previous_revenue"],
                purchases=row["purchases"],
                previous_purchases=row["previous_purchases"],
                first_purchase=row["first_purchase"],
                last_purchase=row["last_purchase"],
                quarters_with_purchase=row["quarters"],
                ended=bool(end_date),
                overdue_complaint=pid in overdue,
            )
            margin = lifetime_value.annual_margin(row["revenue"], months, margin_rate)
            recency, frequency, monetary = scores.get(pid, (None, None, None))
            values[pid] = {
                "relationship_tier_id": tier_id,
                "relationship_status": relationship_status(facts, as_of, params),
                "relationship_level": locked_level or tier_level,
                "lifetime_value": max(margin, 0.0) * ltv_factor,
                "historical_revenue": row["historical_revenue"],
                "period_revenue": row["revenue"],
                "previous_period_revenue": row["previous_revenue"],
                "purchase_count": row["purchases"],
                "first_purchase_date": row["first_purchase"],
                "last_purchase_date": row["last_purchase"],
                "rfm_recency_score": recency,
                "rfm_frequency_score": frequency,
                "rfm_monetary_score": monetary,
                "rfm_segment": recency and rfm.rfm_segment(recency, frequency),
                "relationship_revenue_rank": ranks.get(pid),
                "region_scope": regions.get(pid),
            }
        self._care_compute_values(company, as_of, values, manual)
        return values

    def _relationship_invoice_stats(self, company, as_of):
        """Per commercial partner, the invoice figures the rules read, in one query.

        Revenue is the signed untaxed amount in company currency of posted
        customer invoices and credit notes; a purchase is a posted invoice.
        """
        self.env["account.move"].flush_model(REVENUE_FIELDS)
        months = company.relationship_window_months
        start = status_window_start(as_of, months)
        previous_start = status_window_start(as_of, months, 2)
        q1, q2, q3, _q4 = quarter_bounds(as_of, months)
        rows = self.env.execute_query_dict(
            SQL(
                """
            SELECT m.commercial_partner_id AS partner_id,
                   COALESCE(SUM(m.amount_untaxed_signed)
                       FILTER (WHERE m.invoice_date > %(start)s), 0) AS revenue,
                   COALESCE(SUM(m.amount_untaxed_signed)
                       FILTER (WHERE m.invoice_date > %(previous_start)s
                                 AND m.invoice_date <= %(start)s), 0)
                       AS previous_revenue,
                   SUM(m.amount_untaxed_signed) AS historical_revenue,
                   COUNT(*) FILTER (WHERE m.move_type = 'out_invoice'
                                      AND m.invoice_date > %(start)s) AS purchases,
                   COUNT(*) FILTER (WHERE m.move_type = 'out_invoice'
                                      AND m.invoice_date > %(previous_start)s
                                      AND m.invoice_date <= %(start)s)
                       AS previous_purchases,
                   MIN(m.invoice_date) FILTER (WHERE m.move_type = 'out_invoice')
                       AS first_purchase,
                   MAX(m.invoice_date) FILTER (WHERE m.move_type = 'out_invoice')
                       AS last_purchase,
                   BIT_OR(CASE WHEN m.invoice_date > %(q1)s THEN 1
                               WHEN m.invoice_date > %(q2)s THEN 2
                               WHEN m.invoice_date > %(q3)s THEN 4
                               ELSE 8 END)
                       FILTER (WHERE m.move_type = 'out_invoice'
                                 AND m.invoice_date > %(start)s) AS quarters
              FROM account_move m
             WHERE m.company_id = %(company)s
               AND m.state = 'posted'
               AND m.move_type IN ('out_invoice', 'out_refund')
               AND m.invoice_date <= %(as_of)s
               AND m.commercial_partner_id IS NOT NULL
          GROUP BY m.commercial_partner_id
            """,
                start=start,
                previous_start=previous_start,
                q1=q1,
                q2=q2,
                q3=q3,
                company=company.id,
                as_of=as_of,
            )
        )
        for row in rows:
            # a bit per quarter of the window with a purchase
            row["quarters"] = (row["quarters"] or 0).bit_count()
        return {row["partner_id"]: row for row in rows}

    def _get_relationship_prospect_queries(self, company):
        """SQL selects of the commercial partners that are prospects in ``company``.

        Override hook: a feature adding a prospect signal appends its query,
        and a query hashing the rows it reads to
        ``_get_relationship_input_queries``.
        """
        return [
            SQL(
                """SELECT p.id FROM res_partner p
                    WHERE p.active AND p.customer_rank > 0
                      AND p.id = p.commercial_partner_id
                      AND (p.company_id IS NULL OR p.company_id = %s)""",
                company.id,
            ),
            SQL(
                """SELECT p.commercial_partner_id FROM crm_lead l
                     JOIN res_partner p ON p.id = l.partner_id
                    WHERE l.active AND l.type = 'opportunity'
                      AND (l.company_id IS NULL OR l.company_id = %s)""",
                company.id,
            ),
            SQL(
                """SELECT m.partner_id FROM crm_relationship_program_member m
                    WHERE m.company_id = %s""",
                company.id,
                to_flush=self.env["crm.relationship.program.member"]._fields[
                    "company_id"
                ],
            ),
        ]

    def _relationship_prospect_ids(self, company):
        query = SQL(" UNION ").join(self._get_relationship_prospect_queries(company))
        return {pid for (pid,) in self.env.execute_query(query)}

    def _get_relationship_overdue_complaint_ids(self, company, as_of):
        """Commercial partners with a complaint in ``company`` that is open at the
        end of ``as_of`` (UTC) and past its deadline then, in one query.

        Open at that time: received before, not resolved before (a back-fill
        still sees a complaint resolved later as open).
        """
        end = datetime.combine(as_of + timedelta(days=1), time.min)
        self.env["crm.relationship.feedback"].flush_model(
            [
                "partner_id",
                "company_id",
                "feedback_type",
                "is_closed",
                "date_received",
                "date_deadline",
                "date_resolved",
            ]
        )
        rows = self.env.execute_query(
            SQL(
                """SELECT DISTINCT p.commercial_partner_id
                     FROM crm_relationship_feedback f
                     JOIN res_partner p ON p.id = f.partner_id
                    WHERE f.company_id = %(company)s
                      AND f.feedback_type = 'complaint'
                      AND f.date_received < %(end)s
                      AND f.date_deadline < %(end)s
                      AND (f.date_resolved IS NULL
                           OR f.date_resolved >= %(end)s)
                      AND (f.date_resolved IS NOT NULL OR NOT f.is_closed)""",
                company=company.id,
                end=end,
            )
        )
        return {pid for (pid,) in rows}

    def _relationship_classified_ids(self, company):
        """Commercial partners holding a tier or a status in ``company``: they are
        re-evaluated even when they no longer qualify, so stale values get cleared."""
        key = str(company.id)
        rows = self.env.execute_query(
            SQL(
                """SELECT id FROM res_partner
                    WHERE id = commercial_partner_id
                      AND (relationship_tier_id ? %(key)s
                           OR relationship_status ? %(key)s)""",
                key=key,
            )
        )
        return {pid for (pid,) in rows}

    def _relationship_manual_values(self, company, scope):
        """``{pid: (locked tier, level set by hand, end date)}`` where any is set."""
        key = str(company.id)
        rows = self.env.execute_query(
            SQL(
                """SELECT id,
                          CASE WHEN (relationship_tier_locked->>%(key)s)::boolean
                               THEN (relationship_tier_id->>%(key)s)::int END,
                          CASE WHEN (relationship_level_locked->>%(key)s)::boolean
                               THEN relationship_level->>%(key)s END,
                          relationship_end_date->>%(key)s
                     FROM res_partner
                    WHERE %(where)s
                      AND (relationship_tier_locked ? %(key)s
                           OR relationship_level_locked ? %(key)s
                           OR relationship_end_date ? %(key)s)""",
                key=key,
                where=self._relationship_scope_sql(scope),
            )
        )
        Tier = self.env["crm.relationship.tier"].sudo()
        return {
            pid: (
                Tier.browse(tier_id) if tier_id else None,
                level,
                end_date,
            )
            for pid, tier_id, level, end_date in rows
        }

    def _relationship_region_scopes(self, company, scope):
        """Region of each partner of ``scope`` seen from ``company``'s address."""
        company_partner = company.partner_id
        rows = self.env.execute_query(
            SQL(
                """SELECT id,
                          CASE WHEN country_id IS NULL THEN NULL
                               WHEN country_id != %(country)s THEN 'international'
                               WHEN state_id = %(state)s THEN 'local'
                               ELSE 'domestic' END
                     FROM res_partner
                    WHERE %(where)s""",
                country=company_partner.country_id.id or 0,
                state=company_partner.state_id.id or 0,
                where=self._relationship_scope_sql(scope),
            )
        )
        return dict(rows)

    def _relationship_scope_sql(self, scope):
        """WHERE clause on res_partner for ``scope``: the ids of a partial run,
        every commercial partner for a full one (cheaper than a long id list;
        the caller keeps only what it needs)."""
        if self:
            return SQL("id = ANY(%s)", list(scope))
        return SQL("id = commercial_partner_id")

    @api.model
    def _relationship_json(self, kind, value):
        """Column value of ``value`` in a company-dependent jsonb, None when empty."""
        if not value:
            return None
        if kind == "amount":
            return round(value, 2) or None
        if kind == "date":
            return fields.Date.to_string(value)
        return value

    def _relationship_changed_rows(self, company, values):
        """Column values of the partners of ``values`` whose classification changed.

        Each partner keeps, per company, a short signature of its classified
        values: comparing signatures reads one column instead of sixteen, so an
        unchanged run writes nothing and reads little.
        """
        key = str(company.id)
        stored = dict(
            self.env.execute_query(
                SQL(
                    """SELECT id, relationship_signature->>%(key)s FROM res_partner
                        WHERE relationship_signature ? %(key)s""",
                    key=key,
                )
            )
        )
        kinds = list(CLASSIFICATION_FIELDS.items())
        to_json = self._relationship_json
        pick = itemgetter(*CLASSIFICATION_FIELDS)
        changed = {}
        for pid, vals in values.items():
            # repr of the computed values: deterministic, and cheaper than
            # converting the rows that did not change
            signature = hashlib.md5(
                repr(pick(vals)).encode(), usedforsecurity=False
            ).hexdigest()[:16]
            if stored.get(pid) != signature:
                row = [to_json(kind, vals[fname]) for fname, kind in kinds]
                changed[pid] = [*row, signature]
        return changed

    def _relationship_write_values(self, company, rows, fnames=None):
        """Write ``{commercial_partner_id: column values}`` of ``fnames`` (default:
        the classification and its signature) in ``company``, one query.

        The commercial partner and its contacts get the same values. A plain
        ORM write would cost one UPDATE per partner, every partner having its
        own figures. Returns the number of commercial partners written.
        """
        key = str(company.id)
        fnames = fnames or [*CLASSIFICATION_FIELDS, "relationship_signature"]
        payload = [
            {"id": pid}
            | {fname: value for fname, value in zip(fnames, row, strict=True) if value}
            for pid, row in rows.items()
        ]
        self.env["res.partner"].flush_model(fnames)
        updated = self.env.execute_query(
            SQL(
                """UPDATE res_partner p SET %(assignments)s
                     FROM jsonb_to_recordset(%(payload)s::jsonb)
                          AS v(id int, %(columns)s)
                    WHERE p.commercial_partner_id = v.id
                RETURNING p.id, p.commercial_partner_id""",
                assignments=SQL(", ").join(
                    SQL(
                        """%(col)s = NULLIF(
                            (COALESCE(p.%(col)s, '{}'::jsonb) - %(key)s)
                            || jsonb_strip_nulls(
                                jsonb_build_object(%(key)s, v.%(col)s)),
                            '{}'::jsonb)""",
                        col=SQL.identifier(fname),
                        key=key,
                    )
                    for fname in fnames
                ),
                payload=json.dumps(payload),
                columns=SQL(", ").join(
                    SQL("%s jsonb", SQL.identifier(fname)) for fname in fnames
                ),
            )
        )
        partners = self.env["res.partner"].browse([pid for pid, _cpid in updated])
        partners.invalidate_recordset(fnames)
        partners.modified(fnames)
        return len({cpid for _pid, cpid in updated})

    # ------------------------------------------------------------------
    # FEEDBACK (customer feedback and complaints)
    # ------------------------------------------------------------------

    relationship_feedback_count = fields.Integer(
        "Feedback",
        compute="_compute_relationship_feedback_stats",
        groups="crm_relationship.crm_relationship_group_user",
    )
    relationship_open_complaint_count = fields.Integer(
        "Open complaints",
        compute="_compute_relationship_feedback_stats",
        groups="crm_relationship.crm_relationship_group_user",
    )
    relationship_csat_average = fields.Float(
        "Average satisfaction",
        digits=(3, 1),
        compute="_compute_relationship_feedback_stats",
        groups="crm_relationship.crm_relationship_group_user",
        help="Average CSAT (1 to 5) of the answered feedback.",
    )
    relationship_last_nps = fields.Integer(
        "Last recommendation score",
        compute="_compute_relationship_feedback_stats",
        groups="crm_relationship.crm_relationship_group_user",
        help="NPS answer (0 to 10) of the latest feedback that has one.",
    )
    relationship_has_nps = fields.Boolean(
        compute="_compute_relationship_feedback_stats",
        groups="crm_relationship.crm_relationship_group_user",
    )

    def _compute_relationship_feedback_stats(self):
        """Feedback figures of the commercial partners, in one grouped read.

        The arrays of a group share the same row order (by id), so scores and
        dates can be zipped.
        """
        rows = self.env["crm.relationship.feedback"]._read_group(
            [("partner_id", "in", self.commercial_partner_id.ids)],
            ["partner_id", "feedback_type", "is_closed"],
            [
                "__count",
                "csat_score:array_agg",
                "nps_score:array_agg",
                "nps_answered:array_agg",
                "date_received:array_agg",
                "id:array_agg",
            ],
        )
        stats = defaultdict(lambda: {"count": 0, "open": 0, "csat": [], "nps": []})
        for partner, ftype, closed, count, csats, npss, answered, dates, ids in rows:
            partner_stats = stats[partner.id]
            partner_stats["count"] += count
            if ftype == "complaint" and not closed:
                partner_stats["open"] += count
            partner_stats["csat"] += [score for score in csats if score]
            partner_stats["nps"] += [
                (date, fid, score)
                for score, given, date, fid in zip(
                    npss, answered, dates, ids, strict=True
                )
                if given
            ]
        for partner in self:
            partner_stats = stats.get(partner.commercial_partner_id.id)
            if not partner_stats:
                partner.relationship_feedback_count = 0
                partner.relationship_open_complaint_count = 0
                partner.relationship_csat_average = 0.0
                partner.relationship_last_nps = 0
                partner.relationship_has_nps = False
                continue
            csat = partner_stats["csat"]
            partner.relationship_feedback_count = partner_stats["count"]
            partner.relationship_open_complaint_count = partner_stats["open"]
            partner.relationship_csat_average = sum(csat) / len(csat) if csat else 0.0
            partner.relationship_last_nps = (
                max(partner_stats["nps"])[2] if partner_stats["nps"] else 0
            )
            partner.relationship_has_nps = bool(partner_stats["nps"])

    def action_view_relationship_feedback(self):
        self.ensure_one()
        customer = self.commercial_partner_id
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_relationship.crm_relationship_feedback_action"
        )
        action["domain"] = [("partner_id", "=", customer.id)]
        action["context"] = {"default_partner_id": self.id}
        return action

    # ------------------------------------------------------------------
    # PROGRAMS AND RELATIONSHIP LIFE CYCLE
    # ------------------------------------------------------------------

    relationship_program_member_ids = fields.One2many(
        "crm.relationship.program.member", "partner_id", "Program memberships"
    )

    def action_end_relationship(self):
        """Button: open the wizard that ends the relationship of the customers."""
        self._check_relationship_manager()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_relationship.res_partner_relationship_end_action"
        )
        action["context"] = {
            "active_model": "res.partner",
            "active_ids": self.commercial_partner_id.ids,
        }
        return action

    def action_reactivate_relationship(self):
        """Button: resume an ended relationship in the current company."""
        self._check_relationship_manager()
        partners = self.commercial_partner_id.filtered("relationship_end_date")
        if not partners:
            return True
        partners.sudo().write(
            {"relationship_end_date": False, "relationship_end_reason": False}
        )
        self.env["res.partner"].flush_model(END_FIELDS)
        partners.sudo()._recompute_relationship(company_ids=self.env.company.ids)
        body = self.env._(
            "Relationship resumed in %(company)s.", company=self.env.company.name
        )
        for partner in partners:
            partner.sudo().message_post(body=body)
        return True

    def _end_relationship(self, reason, note=False, date=None):
        """End the relationship of the commercial partners of ``self`` in the
        current company: status lost, care activities closed, members of open
        programs dropped, a trace in the chatter."""
        self._check_relationship_manager()
        company = self.env.company
        partners = self.commercial_partner_id
        date = date or fields.Date.context_today(self)
        partners.sudo().write(
            {"relationship_end_date": date, "relationship_end_reason": reason}
        )
        # the classification reads the end date in SQL
        self.env["res.partner"].flush_model(END_FIELDS)
        partners.sudo()._recompute_relationship(company_ids=company.ids)
        partners._close_care_activities()
        members = (
            self.env["crm.relationship.program.member"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", partners.ids),
                    ("company_id", "=", company.id),
                    ("program_id.state", "in", ("draft", "running")),
                    ("is_dropped", "=", False),
                ]
            )
        )
        dropped_stage = self.env["crm.relationship.program.stage"].search(
            [("is_dropped", "=", True)], limit=1
        )
        if members and dropped_stage:
            members.write({"stage_id": dropped_stage.id})
        reason_label = dict(
            self._fields["relationship_end_reason"]._description_selection(self.env)
        )[reason]
        body = Markup("%s") % self.env._(
            "Relationship ended in %(company)s: %(reason)s.",
            company=company.name,
            reason=reason_label,
        )
        if note:
            body += Markup("<br/>%s") % note
        for partner in partners:
            partner.sudo().message_post(body=body)
        return True

    def _close_care_activities(self):
        """Mark done the open care activities of the customers and contacts."""
        care_type = self.env.ref(
            "crm_relationship.mail_activity_type_customer_care",
            raise_if_not_found=False,
        )
        if not care_type:
            return
        activities = (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "res.partner"),
                    ("res_id", "in", (self | self.child_ids).ids),
                    ("activity_type_id", "=", care_type.id),
                ]
            )
        )
        if activities:
            activities.action_feedback(
                feedback=self.env._("Closed: the relationship has ended.")
            )

    # ------------------------------------------------------------------
    # CARE PIPELINE
    # ------------------------------------------------------------------

    @api.model
    def _read_group_care_stage_ids(self, stages, domain):
        return stages.search([])

    def _field_to_sql(self, alias, fname, query=None, flush=True):
        """``care_stage_id`` without core's per-row existence subquery.

        Core wraps a company-dependent many2one in ``(SELECT id FROM stage
        WHERE id = ...)`` to hide deleted ids: on 100,000 partners that makes the
        pipeline's grouped read take seconds. Stages in use cannot be deleted
        (``crm.relationship.care.stage._unlink_except_in_use``), so the plain
        jsonb value is exact.
        """
        if fname != "care_stage_id":
            return super()._field_to_sql(alias, fname, query, flush)
        self.check_field_access_rights("read", [fname])
        field = self._fields[fname]
        column = SQL.identifier(alias, fname, to_flush=field if flush else None)
        value = SQL("%s->%s", column, str(self.env.company.id))
        fallback = field.get_company_dependent_fallback(self)
        if fallback:
            value = SQL("COALESCE(%s, to_jsonb(%s::int4))", value, fallback.id)
        return SQL("(%s->>0)::int4", value)

    @api.depends_context("company")
    @api.depends("next_care_date")
    def _compute_care_overdue(self):
        today = fields.Date.context_today(self)
        for partner in self:
            partner.care_overdue = bool(
                partner.next_care_date and partner.next_care_date < today
            )

    @api.depends_context("company")
    @api.depends("relationship_tier_id", "lifetime_value")
    def _compute_relationship_priority(self):
        tier_stars = {"vip": 3, "large": 2, "medium": 1}
        for partner in self:
            stars = tier_stars.get(partner.relationship_tier_id.code, 0)
            if stars and partner.lifetime_value <= 0:
                stars -= 1
            partner.relationship_priority = str(stars)

    def _search_care_overdue(self, operator, value):
        if operator not in ("=", "!="):
            raise UserError(self.env._("Search 'Care overdue' with = or != only."))
        today = fields.Date.context_today(self)
        if (operator == "=") == bool(value):
            return [("next_care_date", "<", today)]
        return ["|", ("next_care_date", "=", False), ("next_care_date", ">=", today)]

    def _compute_care_interaction_count(self):
        commercial = self.commercial_partner_id
        counts = dict(
            self.env["crm.relationship.interaction"]._read_group(
                [("partner_id", "in", commercial.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.care_interaction_count = counts.get(
                partner.commercial_partner_id, 0
            )

    def action_view_care_interactions(self):
        self.ensure_one()
        partner = self.commercial_partner_id
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_relationship.crm_relationship_interaction_action"
        )
        action["domain"] = [("partner_id", "=", partner.id)]
        action["context"] = {
            "default_partner_id": partner.id,
            "default_contact_id": self.id if self != partner else False,
        }
        return action

    def _care_compute_values(self, company, as_of, values, manual):
        """Add the care fields to the classification ``values`` of ``company``.

        Facts are read with one query each over the company: the derived phase
        moves the stage only when it differs from the previous run's, so a
        card a person dragged stays until the facts change.
        """
        if not values:
            return
        key = str(company.id)
        scope = list(values)
        in_sale, open_opportunity = self._care_phase_facts(company, as_of)
        tiers = (
            self.env["crm.relationship.tier"]
            .sudo()
            .with_context(active_test=False)
            .search([("company_id", "=", company.id)])
        )
        potential = tiers.filtered(lambda t: t.tier_type == "potential").ids
        intervals = {tier.id: tier.contact_interval_days for tier in tiers}
        stages = self.env["crm.relationship.care.stage"].sudo().search([])
        stage_phases = {stage.id: stage.phase for stage in stages}
        first_stage = {}
        for stage in stages:
            first_stage.setdefault(stage.phase, stage.id)
        rows = self.env.execute_query(
            SQL(
                """SELECT id, (care_stage_id->>%(key)s)::int, care_phase_auto->>%(key)s,
                          create_date::date
                     FROM res_partner WHERE %(where)s""",
                key=key,
                where=self._relationship_scope_sql(scope),
            )
        )
        current = {pid: (stage, auto, created) for pid, stage, auto, created in rows}
        last_interactions = self._care_last_interaction_dates(company, as_of)
        for pid, vals in values.items():
            stage_id, auto, created = current.get(pid, (None, None, None))
            derived = care.fact_phase(
                pid in in_sale,
                bool(vals["first_purchase_date"]),
                pid in open_opportunity or vals["relationship_tier_id"] in potential,
            )
            stage_id, phase = care.next_stage(
                derived, auto, stage_id, stage_phases, first_stage
            )
            last = last_interactions.get(pid)
            next_date = care.next_care_date(
                last or vals["first_purchase_date"] or created,
                intervals.get(vals["relationship_tier_id"]),
                bool(manual.get(pid, (None, None, None))[2]),
            )
            vals.update(
                care_stage_id=stage_id,
                care_phase=phase,
                care_phase_auto=derived,
                last_interaction_date=last,
                next_care_date=next_date,
                care_status=care.care_status(next_date, as_of),
            )

    def _care_phase_facts(self, company, as_of):
        """Commercial partners of ``company`` in the sale, and with an open
        opportunity: ``(in_sale ids, open opportunity ids)``.

        In the sale: an unpaid or partly paid posted customer invoice, or a won
        opportunity closed after the last posted invoice.
        """
        self.env["account.move"].flush_model(
            [
                "commercial_partner_id",
                "company_id",
                "invoice_date",
                "move_type",
                "payment_state",
                "state",
            ]
        )
        self.env["crm.lead"].flush_model(
            ["active", "company_id", "date_closed", "partner_id", "stage_id", "type"]
        )
        in_sale = self.env.execute_query(
            SQL(
                """
            WITH invoiced AS (
                SELECT commercial_partner_id AS pid,
                       MAX(invoice_date) AS last_invoice,
                       BOOL_OR(payment_state IN ('not_paid', 'partial')) AS unpaid
                  FROM account_move
                 WHERE company_id = %(company)s AND state = 'posted'
                   AND move_type = 'out_invoice' AND invoice_date <= %(as_of)s
                   AND commercial_partner_id IS NOT NULL
              GROUP BY commercial_partner_id
            )
            SELECT pid FROM invoiced WHERE unpaid
             UNION
            SELECT p.commercial_partner_id
              FROM crm_lead l
              JOIN crm_stage s ON s.id = l.stage_id AND s.is_won
              JOIN res_partner p ON p.id = l.partner_id
         LEFT JOIN invoiced i ON i.pid = p.commercial_partner_id
             WHERE l.active AND l.type = 'opportunity'
               AND (l.company_id IS NULL OR l.company_id = %(company)s)
               AND l.date_closed::date <= %(as_of)s
               AND (i.last_invoice IS NULL OR l.date_closed::date > i.last_invoice)
                """,
                company=company.id,
                as_of=as_of,
            )
        )
        open_opportunity = self.env.execute_query(
            SQL(
                """SELECT DISTINCT p.commercial_partner_id
                     FROM crm_lead l
                     JOIN res_partner p ON p.id = l.partner_id
                LEFT JOIN crm_stage s ON s.id = l.stage_id
                    WHERE l.active AND l.type = 'opportunity'
                      AND NOT COALESCE(s.is_won, FALSE)
                      AND (l.company_id IS NULL OR l.company_id = %s)""",
                company.id,
            )
        )
        return {pid for (pid,) in in_sale}, {pid for (pid,) in open_opportunity}

    def _care_last_interaction_dates(self, company, as_of=None, partner_ids=None):
        """``{commercial partner id: last interaction date}`` in ``company``."""
        self.env["crm.relationship.interaction"].flush_model(
            ["company_id", "date", "partner_id"]
        )
        conditions = [SQL("company_id = %s", company.id)]
        if as_of:
            conditions.append(SQL("date <= %s", as_of))
        if partner_ids is not None:
            conditions.append(SQL("partner_id = ANY(%s)", list(partner_ids)))
        rows = self.env.execute_query(
            SQL(
                """SELECT partner_id, MAX(date) FROM crm_relationship_interaction
                    WHERE %s GROUP BY partner_id""",
                SQL(" AND ").join(conditions),
            )
        )
        return dict(rows)

    @api.model
    def _care_refresh_dates(self, company, partner_ids):
        """Refresh the last interaction and next care dates of ``partner_ids``
        (commercial partners) in ``company`` after interactions changed: three
        queries whatever the number of partners."""
        partner_ids = [pid for pid in partner_ids if pid]
        if not partner_ids:
            return
        key = str(company.id)
        today = fields.Date.context_today(self)
        self.env["res.partner"].flush_model()
        rows = self.env.execute_query(
            SQL(
                """SELECT p.id, t.contact_interval_days,
                          p.relationship_end_date->>%(key)s IS NOT NULL,
                          (p.first_purchase_date->>%(key)s)::date,
                          p.create_date::date
                     FROM res_partner p
                LEFT JOIN crm_relationship_tier t
                       ON t.id = (p.relationship_tier_id->>%(key)s)::int
                    WHERE p.id = ANY(%(ids)s)""",
                key=key,
                ids=partner_ids,
            )
        )
        last_dates = self._care_last_interaction_dates(company, partner_ids=partner_ids)
        values = {}
        for pid, interval, ended, first_purchase, created in rows:
            last = last_dates.get(pid)
            next_date = care.next_care_date(
                last or first_purchase or created, interval, ended
            )
            values[pid] = {
                "last_interaction_date": last,
                "next_care_date": next_date,
                "care_status": care.care_status(next_date, today),
            }
        self._care_write_values(company, values)

    @api.model
    def _care_write_values(self, company, values):
        """Write ``{commercial_partner_id: {care field: value}}`` in ``company`` on
        the commercial partners and their contacts, in one query."""
        if not values:
            return
        kinds = CARE_DATE_FIELDS.items()
        rows = {
            pid: [self._relationship_json(kind, vals[fname]) for fname, kind in kinds]
            for pid, vals in values.items()
        }
        self._relationship_write_values(company, rows, list(CARE_DATE_FIELDS))

    @api.model
    def _care_refresh_status(self, company, as_of):
        """Age ``care_status`` of every partner of ``company`` to ``as_of``, one
        UPDATE touching only the rows whose status changes."""
        key = str(company.id)
        self.env["res.partner"].flush_model()
        status = SQL(
            """CASE WHEN (next_care_date->>%(key)s)::date < %(as_of)s THEN 'overdue'
                    WHEN (next_care_date->>%(key)s)::date <= %(soon)s THEN 'due_soon'
                    WHEN (next_care_date->>%(key)s)::date IS NOT NULL THEN 'on_time'
               END""",
            key=key,
            as_of=as_of,
            soon=as_of + timedelta(days=care.DUE_SOON_DAYS),
        )
        updated = self.env.execute_query(
            SQL(
                """UPDATE res_partner
                      SET care_status = NULLIF(
                          (COALESCE(care_status, '{}'::jsonb) - %(key)s)
                          || jsonb_strip_nulls(jsonb_build_object(%(key)s, %(status)s)),
                          '{}'::jsonb)
                    WHERE (care_status ? %(key)s OR next_care_date ? %(key)s)
                      AND (care_status->>%(key)s) IS DISTINCT FROM %(status)s
                RETURNING id""",
                key=key,
                status=status,
            )
        )
        partners = self.env["res.partner"].browse([pid for (pid,) in updated])
        partners.invalidate_recordset(["care_status"])
        return len(updated)

    @api.model
    def _schedule_care_activities(self, as_of=None):
        """Plan one "Customer care" activity per commercial partner whose care
        is overdue, for its salesperson or the company's fallback care user,
        unless a care activity is already open. Also ages ``care_status``.

        Set-based: per company one UPDATE for the status and one query for the
        candidates, one query for the open activities, batched creates. A run
        that stops resumes naturally: planned partners are skipped next time.
        Returns the created activities.
        """
        as_of = fields.Date.to_date(as_of) or fields.Date.context_today(self)
        activity_type = self.env.ref(
            "crm_relationship.mail_activity_type_customer_care",
            raise_if_not_found=False,
        )
        Activity = self.env["mail.activity"].sudo()
        if not activity_type:
            return Activity
        self.env["mail.activity"].flush_model(
            ["active", "activity_type_id", "res_id", "res_model"]
        )
        planned = {
            res_id
            for (res_id,) in self.env.execute_query(
                SQL(
                    """SELECT DISTINCT res_id FROM mail_activity
                        WHERE res_model = 'res.partner' AND active
                          AND activity_type_id = %s""",
                    activity_type.id,
                )
            )
        }
        active_users = set(
            self.env["res.users"].sudo().search([("share", "=", False)]).ids
        )
        model_id = self.env["ir.model"]._get_id("res.partner")
        summary = self.env._("Customer care: contact is due")
        vals_list = []
        for company in self.env["res.company"].sudo().search([]):
            self._care_refresh_status(company, as_of)
            fallback = company.relationship_care_user_id.id
            rows = self.env.execute_query(
                SQL(
                    """SELECT id, user_id
                         FROM res_partner
                        WHERE active AND id = commercial_partner_id
                          AND (next_care_date->>%(key)s)::date < %(as_of)s
                     ORDER BY id""",
                    key=str(company.id),
                    as_of=as_of,
                )
            )
            for pid, user_id in rows:
                if pid in planned:
                    continue
                user_id = user_id if user_id in active_users else fallback
                if not user_id:
                    continue
                planned.add(pid)
                vals_list.append(
                    {
                        "res_model_id": model_id,
                        "res_id": pid,
                        "activity_type_id": activity_type.id,
                        "user_id": user_id,
                        "summary": summary,
                        "date_deadline": as_of,
                    }
                )
        auto_commit = self.env.context.get("ir_cron_progress_id") and not getattr(
            threading.current_thread(), "testing", False
        )
        activities = Activity
        done = 0
        Activity = Activity.with_context(mail_activity_quick_update=True)
        for batch in split_every(ACTIVITY_BATCH_SIZE, vals_list):
            # mail.activity reads each record's display_name one by one: load
            # them in one query first
            self.browse([vals["res_id"] for vals in batch]).mapped("display_name")
            activities |= Activity.create(list(batch))
            done += len(batch)
            if auto_commit:
                self.env["ir.cron"]._notify_progress(
                    done=done, remaining=len(vals_list) - done
                )
                # each committed batch survives a stopped run (ODOO18_NOTES §1)
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return activities
