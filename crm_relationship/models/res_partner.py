"""The classification fields of a customer and who may change them; the
other concerns of the partner live in res_partner_*.py. Slightly over 600
lines: the field declarations with their help texts."""

from contextlib import contextmanager
from contextvars import ContextVar

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.misc import format_amount, format_date, get_lang

from ..tools.number_format import short_decimal
from ..tools.status import CustomerFacts, lost_after_months, needs_care_cause
from .crm_relationship_tier import RELATIONSHIP_LEVELS
from .crm_relationship_writer import CLASSIFICATION_FIELDS
from .groups import MANAGER_GROUP, MONEY_GROUPS

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
# what the classification writes that people may also set: a tier or level
# by hand (locked), a care card dragged to another stage
PEOPLE_SET_FIELDS = frozenset({*MANUAL_FIELDS, "care_stage_id"})
# outputs of the engines, written in SQL: no user writes them through
# create/write, a manager included; the end of a relationship goes through its
# wizard and the resume button
SERVER_OWNED_FIELDS = frozenset(CLASSIFICATION_FIELDS).difference(
    PEOPLE_SET_FIELDS
) | frozenset(END_FIELDS)
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
    """The classification of a customer, per company, and who may change it.

    The partner is extended by concern, one file each (care, feedback,
    health, life cycle, profit): pylint's advice to merge classes inheriting
    one model is declined in those files, on purpose.
    """

    _inherit = "res.partner"

    # --- classification, per company (written by _recompute_relationship) ---
    # The classified fields (crm_relationship_writer.CLASSIFICATION_FIELDS)
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
        compute="_compute_relationship_revenue_rank",
        aggregator=False,
        help="Rank by revenue of the analysis window among the company's customers "
        "with revenue (1 = highest, ties by the older partner), from the revenues "
        "of the last classification.",
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
    relationship_tier_reason = fields.Char(
        "Why this tier", compute="_compute_relationship_reasons", groups=MONEY_GROUPS
    )
    relationship_status_reason = fields.Char(
        "Why this status",
        compute="_compute_relationship_reasons",
        groups=MONEY_GROUPS,
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
    @api.depends("commercial_partner_id", "period_revenue")
    def _compute_relationship_revenue_rank(self):
        """Read, never stored: a rank moves for every customer below one whose
        revenue moved, so storing it would rewrite most partners every night."""
        ranks = self._relationship_revenue_ranks(self.env.company)
        for partner in self:
            partner.relationship_revenue_rank = ranks.get(
                partner.commercial_partner_id.id, 0
            )

    def _relationship_revenue_ranks(self, company):
        """``{commercial partner id: rank}`` of the commercial partners of
        ``self`` with revenue > 0 in ``company``: the rank by the stored figure
        the company's tiers rank (revenue, or profit with tiers by profit) of
        the window, descending, ties by partner id, among the company's
        customers with revenue > 0 (docs/rules.md, Tiers), in one query for the
        whole recordset."""
        partner_ids = [
            pid for pid in self.commercial_partner_id._ids if isinstance(pid, int)
        ]
        if not partner_ids:
            return {}
        basis = (
            "period_profit"
            if company.sudo().relationship_tier_basis == "profit"
            else "period_revenue"
        )
        self.env["res.partner"].flush_model(
            ["commercial_partner_id", "period_revenue", basis]
        )
        key = str(company.id)

        def stored_in(alias, fname):
            return self.env["crm.relationship.writer"]._stored_sql(alias, fname, key)

        # the figures of the customers, then who is above each of them,
        # counted on the company's index of the figure (res_partner_index)
        # with the figure written out, so that PostgreSQL plans each count on
        # it: no sort of the whole company, two queries for any recordset
        figures = self.env.execute_query(
            SQL(
                """SELECT id, COALESCE(%(basis)s, 0) FROM res_partner p
                    WHERE id = ANY(%(ids)s) AND %(revenue)s > 0""",
                basis=stored_in("p", basis),
                revenue=stored_in("p", "period_revenue"),
                ids=partner_ids,
            )
        )
        if not figures:
            return {}
        return dict(
            self.env.execute_query(
                SQL(" UNION ALL ").join(
                    SQL(
                        """(SELECT %(pid)s, 1 + COUNT(*)::int FROM res_partner o
                             WHERE %(o_basis)s >= %(figure)s::float8
                               AND (%(o_basis)s > %(figure)s::float8 OR o.id < %(pid)s)
                               AND o.id = o.commercial_partner_id
                               AND %(o_revenue)s > 0)""",
                        pid=pid,
                        figure=figure,
                        o_basis=stored_in("o", basis),
                        o_revenue=stored_in("o", "period_revenue"),
                    )
                    for pid, figure in figures
                )
            )
        )

    @api.depends_context("company", "lang")
    @api.depends(
        "relationship_tier_id",
        "relationship_tier_locked",
        "relationship_status",
        "period_revenue",
        "previous_period_revenue",
        "relationship_revenue_rank",
        "period_profit",
        "health_components",
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

    @api.model
    def _relationship_number(self, value, digits=1):
        """``value`` as the module's sentences write a figure that is not an
        amount (a share, a rate, a weight), in the user's language: at most
        ``digits`` decimals, none when whole: 75, 103.2 (103,2 in
        Vietnamese). Amounts go through ``format_amount``."""
        lang = get_lang(self.env)
        return short_decimal(value, digits, lang.decimal_point, lang.thousands_sep)

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
        if company.relationship_tier_basis == "profit":
            return self._relationship_profit_tier_reason(company, tier, months)
        if tier.threshold_type == "amount":
            return self.env._(
                "Revenue of %(revenue)s in the last %(months)s months reaches "
                "%(minimum)s.",
                revenue=revenue,
                months=months,
                minimum=format_amount(self.env, tier.min_amount, company.currency_id),
            )
        percent = self._relationship_number(tier.top_percent, 4)
        return self.env._(
            "Rank %(rank)s by revenue (%(revenue)s in the last %(months)s months): "
            "within the top %(percent)s %%.",
            rank=self.relationship_revenue_rank,
            revenue=revenue,
            months=months,
            percent=percent,
        )

    def _relationship_profit_tier_reason(self, company, tier, months):
        """The tier reason when the company's tiers rank profit."""
        profit = format_amount(self.env, self.period_profit, company.currency_id)
        if tier.threshold_type == "amount":
            return self.env._(
                "Profit of %(profit)s in the last %(months)s months reaches "
                "%(minimum)s (tiers by profit).",
                profit=profit,
                months=months,
                minimum=format_amount(self.env, tier.min_amount, company.currency_id),
            )
        percent = self._relationship_number(tier.top_percent, 4)
        return self.env._(
            "Rank %(rank)s by profit (%(profit)s in the last %(months)s months): "
            "within the top %(percent)s %%.",
            rank=self.relationship_revenue_rank,
            profit=profit,
            months=months,
            percent=percent,
        )

    def _relationship_status_reason(self, company):
        """The test of the status rule (``tools.status.relationship_status``)
        that gave the stored status, in one sentence, from what the same run
        stored: the rule's own functions pick it, so the two cannot disagree."""
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
                "No purchase since %(date)s, more than %(months)s months ago.",
                date=format_date(self.env, self.last_purchase_date),
                months=lost_after_months(company._relationship_status_params()),
            )
        if status == "needs_care":
            cause = needs_care_cause(
                CustomerFacts(
                    revenue=self.period_revenue,
                    previous_revenue=self.previous_period_revenue,
                    overdue_complaint=bool(
                        self._health_facts("service").get("overdue_complaints")
                    ),
                ),
                company._relationship_status_params(),
            )
            if cause == "revenue_fell":
                return self.env._(
                    "Revenue fell from %(previous)s to %(revenue)s.",
                    previous=previous,
                    revenue=revenue,
                )
            if cause == "overdue_complaint":
                return self.env._("A complaint is open past its deadline.")
            return self.env._(
                "No purchase in the last %(months)s months, after some in the "
                "%(months)s months before.",
                months=company.relationship_window_months,
            )
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
