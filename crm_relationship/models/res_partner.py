import json
from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.misc import format_amount, format_date

from .crm_relationship_care_stage import CARE_PHASES
from .crm_relationship_tier import RELATIONSHIP_LEVELS
from .crm_relationship_writer import CLASSIFICATION_FIELDS
from .groups import MANAGER_GROUP, MONEY_GROUPS, USER_GROUP

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

RELATIONSHIP_END_REASONS = [
    ("unprofitable", "Unprofitable"),
    ("payment_problems", "Payment problems"),
    ("customer_request", "Customer request"),
    ("fraud", "Fraud"),
    ("other", "Other"),
]
END_FIELDS = ["relationship_end_date", "relationship_end_reason"]
CARE_STATUSES = [
    ("on_time", "On time"),
    ("due_soon", "Due soon"),
    ("overdue", "Overdue"),
]
HEALTH_BANDS = [
    ("healthy", "Healthy"),
    ("watch", "Watch"),
    ("at_risk", "At risk"),
]
# a "Recompute now" on more customers than this runs in the cron instead
RECOMPUTE_INLINE_LIMIT = 1000
MANUAL_FIELDS = (
    "relationship_tier_id",
    "relationship_tier_locked",
    "relationship_level",
    "relationship_level_locked",
)
# outputs of the engines, written in SQL (crm.relationship.classification): no user
# writes them through create/write, a manager included. A feature adding an
# output adds it here (names of fields not declared yet are harmless).
SERVER_OWNED_FIELDS = frozenset(
    {
        "relationship_status",
        "lifetime_value",
        "historical_revenue",
        "period_revenue",
        "previous_period_revenue",
        "purchase_count",
        "first_purchase_date",
        "last_purchase_date",
        "rfm_recency_score",
        "rfm_frequency_score",
        "rfm_monetary_score",
        "rfm_segment",
        "relationship_revenue_rank",
        "region_scope",
        "care_phase",  # follows care_stage_id (see write)
        "care_phase_auto",
        "last_interaction_date",
        "next_care_date",
        "care_status",
        "relationship_end_date",  # through _end_relationship and the resume button
        "relationship_end_reason",
        "probability_alive",
        "predicted_purchases",
        "relationship_expected_spend",
        "relationship_likely_lost",
        "health_score",
        "health_band",
        "health_score_change",
        "health_components",
    }
)
# set only by server code (relationship_engine_write), never by a client: a
# context key would be forgeable over RPC
_ENGINE_WRITE = ContextVar("crm_relationship_engine_write", default=False)


@contextmanager
def relationship_engine_write():
    """Let server code inside the block write the engines' outputs with the ORM
    (a partner merge copying the figures of the merged partners, say)."""
    token = _ENGINE_WRITE.set(True)
    try:
        yield
    finally:
        _ENGINE_WRITE.reset(token)


class ResPartner(models.Model):
    _inherit = "res.partner"

    # --- classification, per company (written by _recompute_relationship) ---
    # The classified fields (crm_relationship_classification.CLASSIFICATION_FIELDS)
    # are rewritten in bulk by every run: index=False, as the "IS NOT NULL"
    # index Odoo gives a company-dependent field serves none of their searches
    # and would be maintained on every write.
    relationship_tier_id = fields.Many2one(
        "crm.relationship.tier",
        "Tier",
        company_dependent=True,
        index=False,
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
        RELATIONSHIP_STATUSES,
        "Relationship status",
        company_dependent=True,
        index=False,
        readonly=True,
    )
    relationship_level = fields.Selection(
        RELATIONSHIP_LEVELS,
        company_dependent=True,
        index=False,
        help="Depth of the relationship (Kotler): recommended by the tier unless "
        "set by hand.",
    )
    relationship_level_locked = fields.Boolean(
        "Level set by hand", company_dependent=True
    )
    lifetime_value = fields.Float(
        company_dependent=True,
        index=False,
        readonly=True,
        groups=MONEY_GROUPS,
        help="Discounted margin the customer is expected to bring over the horizon, "
        "in company currency.",
    )
    historical_revenue = fields.Float(
        "Revenue to date",
        company_dependent=True,
        index=False,
        readonly=True,
        groups=MONEY_GROUPS,
        help="Untaxed revenue of every posted invoice minus credit notes.",
    )
    period_revenue = fields.Float(
        "Revenue (window)",
        company_dependent=True,
        index=False,
        readonly=True,
        groups=MONEY_GROUPS,
        help="Untaxed revenue of the analysis window, credit notes deducted.",
    )
    previous_period_revenue = fields.Float(
        "Revenue (previous window)",
        company_dependent=True,
        index=False,
        readonly=True,
        groups=MONEY_GROUPS,
    )
    purchase_count = fields.Integer(
        "Purchases (window)",
        company_dependent=True,
        index=False,
        readonly=True,
        help="Posted customer invoices in the analysis window.",
    )
    first_purchase_date = fields.Date(
        company_dependent=True, index=False, readonly=True
    )
    last_purchase_date = fields.Date(company_dependent=True, index=False, readonly=True)
    rfm_recency_score = fields.Integer(
        "Recency score",
        company_dependent=True,
        index=False,
        readonly=True,
        aggregator="avg",
    )
    rfm_frequency_score = fields.Integer(
        "Frequency score",
        company_dependent=True,
        index=False,
        readonly=True,
        aggregator="avg",
    )
    rfm_monetary_score = fields.Integer(
        "Monetary score",
        company_dependent=True,
        index=False,
        readonly=True,
        aggregator="avg",
    )
    rfm_segment = fields.Selection(
        RFM_SEGMENTS, "RFM segment", company_dependent=True, index=False, readonly=True
    )
    relationship_revenue_rank = fields.Integer(
        "Revenue rank",
        company_dependent=True,
        index=False,
        readonly=True,
        aggregator=False,
    )
    region_scope = fields.Selection(
        [
            ("local", "Local"),
            ("domestic", "Other provinces"),
            ("international", "International"),
        ],
        company_dependent=True,
        index=False,
        readonly=True,
        help="Local: same state as the company; other provinces: same country; "
        "international: another country.",
    )
    relationship_end_date = fields.Date(
        "Relationship ended on", company_dependent=True, copy=False, readonly=True
    )
    relationship_end_reason = fields.Selection(
        RELATIONSHIP_END_REASONS,
        "Why the relationship ended",
        company_dependent=True,
        copy=False,
        readonly=True,
    )
    relationship_tier_reason = fields.Char(
        "Why this tier", compute="_compute_relationship_reasons", groups=MONEY_GROUPS
    )
    relationship_status_reason = fields.Char(
        "Why this status",
        compute="_compute_relationship_reasons",
        groups=MONEY_GROUPS,
    )

    # --- care pipeline, per company (classification, interactions, scheduler) ---
    care_stage_id = fields.Many2one(
        "crm.relationship.care.stage",
        "Care stage",
        company_dependent=True,
        index=False,
        group_expand="_read_group_care_stage_ids",
        help="Column of the care pipeline. The classification moves the customer "
        "when the facts change phase; a person may move it at any time.",
    )
    care_phase = fields.Selection(
        CARE_PHASES,
        "Care phase",
        company_dependent=True,
        index=False,
        readonly=True,
        help="Before, during or after the sale: follows the care stage.",
    )
    care_phase_auto = fields.Selection(
        CARE_PHASES,
        "Care phase of the facts",
        company_dependent=True,
        index=False,
        readonly=True,
        help="Phase derived from invoices, payments and opportunities at the last "
        "classification: the stage moves only when it changes.",
    )
    last_interaction_date = fields.Date(
        "Last interaction", company_dependent=True, index=False, readonly=True
    )
    next_care_date = fields.Date(
        "Next care date",
        company_dependent=True,
        index=False,
        readonly=True,
        help="Last interaction (or first purchase, or creation) plus the contact "
        "interval of the customer's tier.",
    )
    care_status = fields.Selection(
        CARE_STATUSES,
        "Care status",
        company_dependent=True,
        index=False,
        readonly=True,
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
        # stars say nothing of the amount: every internal user may see them
        compute_sudo=True,
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

    @api.model
    def default_get(self, fields_list):
        # a default (context key, ir.default, kanban column) never sets an
        # output, a tier or a level
        defaults = super().default_get(fields_list)
        for fname in SERVER_OWNED_FIELDS.union(MANUAL_FIELDS).intersection(defaults):
            del defaults[fname]
        return defaults

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [self._relationship_prepare_vals(vals) for vals in vals_list]
        return super().create(vals_list)

    def write(self, vals):
        return super().write(self._relationship_prepare_vals(vals))

    def _relationship_prepare_vals(self, vals):
        """Check ``vals`` of a create or write against who may change what, and
        complete them: the care phase follows the stage, a tier or level set by
        hand is locked, and a tier brings its level unless one is given."""
        trusted = self.env.su or _ENGINE_WRITE.get()
        if not trusted:
            self._check_relationship_vals(vals)
        vals = dict(vals)
        if "care_stage_id" in vals:
            stage = self.env["crm.relationship.care.stage"].browse(
                vals["care_stage_id"]
            )
            vals["care_phase"] = stage.phase or False
        if trusted:
            return vals  # the commercial sync copies the values as they are
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
        return vals

    def _check_relationship_vals(self, vals):
        """Refuse what a user may not write: the engines' outputs (everyone), a
        tier or level (managers only, and only locked), a tier of another company.

        Contacts are checked like their commercial partner.
        """
        owned = sorted(SERVER_OWNED_FIELDS.intersection(vals))
        if owned:
            labels = ", ".join(
                self._fields[fname]._description_string(self.env)
                for fname in owned
                if fname in self._fields
            )
            raise AccessError(
                self.env._(
                    "These figures are computed by the relationship classification "
                    "and cannot be changed by hand: %(fields)s. Set a tier or a level "
                    "with its lock; end or resume a relationship with its buttons.",
                    fields=labels or ", ".join(owned),
                )
            )
        if not any(fname in vals for fname in MANUAL_FIELDS):
            return
        self._check_relationship_manager()
        for fname, lock in (
            ("relationship_tier_id", "relationship_tier_locked"),
            ("relationship_level", "relationship_level_locked"),
        ):
            if fname in vals and lock in vals and not vals[lock]:
                raise UserError(
                    self.env._(
                        "%(field)s: a value set by hand must be locked, or the "
                        'classification would replace it. Use "Back to automatic '
                        'tier" to let the classification decide again.',
                        field=self._fields[fname]._description_string(self.env),
                    )
                )
        tier = (
            self.env["crm.relationship.tier"]
            .sudo()
            .browse(vals.get("relationship_tier_id") or [])
        )
        if tier and tier.company_id != self.env.company:
            raise ValidationError(
                self.env._(
                    "Tier %(tier)s belongs to %(company)s: choose a tier of "
                    "%(current)s, the company whose classification you change.",
                    tier=tier.display_name,
                    company=tier.company_id.display_name,
                    current=self.env.company.display_name,
                )
            )

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
        """Button: classify the selected customers now in the current companies;
        a large selection goes to the classification cron instead, so that no
        HTTP request classifies a whole book."""
        self._check_relationship_manager()
        if len(self.commercial_partner_id) > RECOMPUTE_INLINE_LIMIT:
            return (
                self.env["res.config.settings"]
                .new({})
                .action_relationship_recompute_now()
            )
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

        Revenue, tier, RFM, status, level, lifetime value and care fields are
        measured as of ``as_of`` (default today) in every company, or in
        ``company_ids``, by ``crm.relationship.classification``. Ranks,
        quintiles and retention always use the whole company, so a partial run
        gives the same figures as a full one. Only the partners whose stored
        values differ from the rules' are written, so the next run repairs any
        value changed by other means. Returns the number of commercial partners
        written.
        """
        as_of = fields.Date.to_date(as_of) or fields.Date.context_today(self)
        Company = self.env["res.company"].sudo()
        companies = Company.browse(company_ids) if company_ids else Company.search([])
        partner_ids = self.commercial_partner_id.ids if self else None
        engine = self.env["crm.relationship.classification"].sudo()
        busy = []
        written = sum(engine._run(companies, as_of, partner_ids, busy=busy))
        if busy:
            self._notify_classification_running(Company.union(*busy))
        return written

    def _notify_classification_running(self, companies):
        """Tell the user at once that the classification of ``companies`` is
        running and will update the customers, instead of waiting for it."""
        self.env.user._bus_send(
            "simple_notification",
            {
                "type": "warning",
                "title": self.env._("Classification running"),
                "message": self.env._(
                    "The classification of %(companies)s is running now; it will "
                    "update these customers when it ends.",
                    companies=", ".join(companies.mapped("name")),
                ),
            },
        )

    @api.model
    def _cron_recompute_relationship(self, as_of=None):
        """Scheduled classification of every company.

        Each batch of writes is committed and reported to the cron, so a run
        that is stopped resumes: the next run writes only what still differs.
        """
        as_of = fields.Date.to_date(as_of) or fields.Date.context_today(self)
        engine = self.env["crm.relationship.classification"].sudo()
        commit = engine._auto_commit()
        companies = self.env["res.company"].sudo().search([])
        done = 0
        for index, company in enumerate(companies):
            for count in engine._run(company, as_of, commit=commit):
                done += count
                if commit:
                    self.env["ir.cron"]._notify_progress(
                        done=done, remaining=len(companies) - index
                    )
        self.env["ir.cron"]._notify_progress(done=max(done, 1), remaining=0)

    # ------------------------------------------------------------------
    # FEEDBACK (customer feedback and complaints)
    # ------------------------------------------------------------------

    relationship_feedback_count = fields.Integer(
        "Feedback",
        compute="_compute_relationship_feedback_stats",
        groups=USER_GROUP,
    )
    relationship_open_complaint_count = fields.Integer(
        "Open complaints",
        compute="_compute_relationship_feedback_stats",
        groups=USER_GROUP,
    )
    relationship_csat_average = fields.Float(
        "Average satisfaction",
        digits=(3, 1),
        compute="_compute_relationship_feedback_stats",
        groups=USER_GROUP,
        help="Average CSAT (1 to 5) of the answered feedback.",
    )
    relationship_last_nps = fields.Integer(
        "Last recommendation score",
        compute="_compute_relationship_feedback_stats",
        groups=USER_GROUP,
        help="NPS answer (0 to 10) of the latest feedback that has one.",
    )
    relationship_has_nps = fields.Boolean(
        compute="_compute_relationship_feedback_stats",
        groups=USER_GROUP,
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

    @api.readonly
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
    @api.depends("care_status")
    def _compute_care_overdue(self):
        for partner in self:
            partner.care_overdue = partner.care_status == "overdue"

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
        if (operator == "=") == bool(value):
            return [("care_status", "=", "overdue")]
        return [("care_status", "!=", "overdue")]

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

    @api.readonly
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

    @api.model
    def _schedule_care_activities(self, as_of=None):
        """The care cron: see ``crm.relationship.care.scheduler``."""
        scheduler = self.env["crm.relationship.care.scheduler"].sudo()
        return scheduler._schedule(as_of)

    # ------------------------------------------------------------------
    # PREDICTION, HEALTH AND HISTORY (written by the classification)
    # ------------------------------------------------------------------

    probability_alive = fields.Float(
        "Probability active",
        company_dependent=True,
        index=False,
        readonly=True,
        digits=(16, 4),
        help="Predictive method: probability that the customer still buys from "
        "the company (BG/NBD), from its purchase days.",
    )
    predicted_purchases = fields.Float(
        company_dependent=True,
        index=False,
        readonly=True,
        digits=(16, 2),
        help="Predictive method: purchases expected in the next 12 months.",
    )
    relationship_expected_spend = fields.Float(
        "Expected spend per purchase",
        company_dependent=True,
        index=False,
        readonly=True,
        groups=MONEY_GROUPS,
        help="Predictive method: untaxed amount a purchase of this customer is "
        "expected to bring (Gamma-Gamma), in company currency.",
    )
    relationship_likely_lost = fields.Boolean(
        "Likely lost",
        company_dependent=True,
        index=False,
        readonly=True,
        help="Predictive method: the probability of being still active is below "
        "the company's threshold.",
    )
    health_score = fields.Integer(
        company_dependent=True,
        index=False,
        readonly=True,
        aggregator="avg",
        help="0 to 100: weighted mean of activity, trend, care, service and "
        "satisfaction, over the components with data.",
    )
    health_band = fields.Selection(
        HEALTH_BANDS, company_dependent=True, index=False, readonly=True
    )
    health_score_change = fields.Integer(
        "Health change",
        company_dependent=True,
        index=False,
        readonly=True,
        aggregator=False,
        help="Change of the health score since the previous classification that "
        "moved it.",
    )
    health_components = fields.Char(
        company_dependent=True,
        index=False,
        readonly=True,
        help="Technical: the health score's components.",
    )
    health_breakdown = fields.Html(compute="_compute_health_breakdown", sanitize=False)
    relationship_history_ids = fields.One2many(
        "crm.relationship.history", "partner_id", "Relationship history"
    )

    @api.depends_context("company", "lang")
    @api.depends("health_components")
    def _compute_health_breakdown(self):
        labels = {
            "activity": self.env._("Activity"),
            "trend": self.env._("Trend"),
            "care": self.env._("Care"),
            "service": self.env._("Service"),
            "satisfaction": self.env._("Satisfaction"),
        }
        for partner in self:
            components = json.loads(partner.health_components or "{}")
            if not components:
                partner.health_breakdown = False
                continue
            rows = Markup()
            for code, label in labels.items():
                score, weight, facts = components.get(code, (None, 0, {}))
                rows += Markup(
                    "<tr><td>%s</td><td class='text-end'>%s</td>"
                    "<td class='text-end'>%s</td><td>%s</td></tr>"
                ) % (
                    label,
                    "-" if score is None else round(score),
                    round(weight, 2),
                    partner._health_sentence(code, score, facts),
                )
            partner.health_breakdown = Markup(
                "<table class='table table-sm o_health_breakdown'><thead><tr>"
                "<th>%s</th><th class='text-end'>%s</th><th class='text-end'>%s</th>"
                "<th>%s</th></tr></thead><tbody>%s</tbody></table>"
            ) % (
                self.env._("Component"),
                self.env._("Score"),
                self.env._("Weight"),
                self.env._("Why"),
                rows,
            )

    def _health_sentence(self, code, score, facts):
        """The fact behind a health component's score, in one sentence."""
        _ = self.env._
        if code == "activity":
            if "probability_alive" in facts:
                return _(
                    "Probability of still buying: %(percent)s %%.",
                    percent=round(100 * facts["probability_alive"]),
                )
            if "recency_score" in facts:
                return _(
                    "Last purchase scores %(score)s of 5 for recency.",
                    score=facts["recency_score"],
                )
            return _("No purchase in the analysis window.")
        if code == "trend":
            if "change" in facts:
                change = round(100 * facts["change"])
                if change >= 0:
                    return _(
                        "Revenue up %(percent)s %% on the previous window.",
                        percent=change,
                    )
                return _(
                    "Revenue down %(percent)s %% on the previous window.",
                    percent=-change,
                )
            if facts.get("no_revenue"):
                return _("No revenue in this window nor in the previous one.")
            return _("First revenue in this window: no trend yet.")
        if code == "care":
            status = facts.get("care_status")
            if not status:
                return _("No care date planned.")
            return _(
                "Care is %(status)s.",
                status=dict(
                    self._fields["care_status"]._description_selection(self.env)
                ).get(status, status),
            )
        if code == "service":
            count = facts.get("overdue_complaints", 0)
            if not count:
                return _("No complaint open past its deadline.")
            return _("%(count)s complaint(s) open past their deadline.", count=count)
        answers = facts.get("csat_count", 0) + facts.get("nps_count", 0)
        if not answers:
            return _("No survey answer in the analysis window.")
        return _(
            "Mean of %(count)s survey answer(s) in the analysis window.",
            count=answers,
        )
