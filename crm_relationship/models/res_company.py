"""The company's relationship settings and what runs store on it (the
predictive fit, the last run's failures, the retention in use), with their
checks, grouped by concern; the demo data made by code is in
``res_company_demo.py``."""

from odoo import Command, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.misc import format_date

from ..tools import clv, health, lifetime_value, profit
from ..tools.status import StatusParams
from .groups import MANAGER_GROUP

FIT_STATUSES = [("trusted", "In use"), ("untrusted", "Not trusted")]
FIT_REASONS = [
    (clv.REASON_DEPENDENCIES, "numpy or scipy missing"),
    (clv.REASON_FEW_BUYERS, "too few repeat buyers"),
    (clv.REASON_NOT_CONVERGED, "no convergence"),
    (clv.REASON_AT_BOUND, "a parameter at a bound"),
    (clv.REASON_NO_MEAN_SPEND, "mean spend undefined"),
]
FIT_PARAMETERS = {
    "bgnbd": ("r", "alpha", "a", "b"),
    "gamma_gamma": ("p", "q", "v"),
}


class ResCompany(models.Model):
    _inherit = "res.company"

    relationship_window_months = fields.Integer(
        "Analysis window (months)",
        default=12,
        help="Revenue, purchases and RFM are measured over this many months up to "
        "the analysis date; the previous window is the same span before it.",
    )
    relationship_growth_rate = fields.Float(
        "Growth rate (%)",
        default=30.0,
        help="A customer whose revenue grows by at least this share over the "
        "previous window is growing.",
    )
    relationship_decline_rate = fields.Float(
        "Decline rate (%)",
        default=30.0,
        help="A customer whose revenue falls by at least this share below the "
        "previous window needs care.",
    )
    relationship_new_customer_days = fields.Integer(
        "New customer (days)",
        default=90,
        help="A customer whose first purchase is this recent is new.",
    )
    relationship_clv_method = fields.Selection(
        [
            ("retention", "Retention and margin"),
            ("bgnbd", "Predictive (BG/NBD and Gamma-Gamma)"),
        ],
        "Lifetime value method",
        default="retention",
        required=True,
        help="Retention: margin of the window kept at the measured retention. "
        "Predictive: purchases and spend predicted from each customer's invoice "
        "history by models fitted on the company's customers (needs numpy and "
        "scipy); while the fit cannot be trusted, retention figures are kept.",
    )
    relationship_margin_rate = fields.Float(
        "Margin rate (%)", default=30.0, help="Gross margin earned on revenue."
    )
    relationship_discount_rate = fields.Float(
        "Discount rate (%)",
        default=10.0,
        help="Yearly rate that discounts future margins to today's value.",
    )
    relationship_horizon_years = fields.Integer("Horizon (years)", default=5)
    relationship_retention_fallback = fields.Float(
        "Fallback retention (%)",
        default=60.0,
        help="Retention used while fewer than 20 customers of the previous window "
        "can be measured.",
    )

    # --- profitability (docs/rules.md, Profit) ---
    relationship_margin_source = fields.Selection(
        [
            ("rate", "Margin rate"),
            ("product_cost", "Product cost (Invoicing report margin)"),
        ],
        "Gross margin from",
        default="rate",
        required=True,
        help="Margin rate: the revenue times the margin rate. Product cost: "
        "Odoo's own invoice margin, the Margin of Invoicing > Reporting (the "
        "untaxed amount minus the quantity times the product's cost).",
    )
    relationship_complaint_cost = fields.Monetary(
        "Cost of a complaint",
        currency_field="currency_id",
        help="What handling one complaint costs; each complaint received in the "
        "analysis window adds it to the customer's cost to serve.",
    )
    relationship_tier_basis = fields.Selection(
        [("revenue", "Revenue"), ("profit", "Profit")],
        "Rank tiers by",
        default="revenue",
        required=True,
        help="What the revenue tiers' thresholds and top percents measure: the "
        "revenue of the window, or its profit (margin minus cost to serve). "
        "Every customer with revenue gets a revenue tier; by profit, one that "
        "loses money ranks last.",
    )
    relationship_kotler_few_share = fields.Float(
        "Few customers up to (%)",
        default=5.0,
        help="Kotler's matrix: a tier holding at most this share of the "
        "customers with revenue has few customers.",
    )
    relationship_kotler_many_share = fields.Float(
        "Many customers from (%)",
        default=30.0,
        help="Kotler's matrix: a tier holding at least this share of the "
        "customers with revenue has many customers.",
    )
    relationship_kotler_high_ratio = fields.Float(
        "High margin from (x average)",
        default=2.0,
        help="Kotler's matrix: a tier whose profit per customer is at least this "
        "many times the company's average has high margins.",
    )
    relationship_kotler_low_ratio = fields.Float(
        "Low margin up to (x average)",
        default=0.5,
        help="Kotler's matrix: a tier whose profit per customer is at most this "
        "many times the company's average has low margins.",
    )
    relationship_margin_warning = fields.Char(
        "Margin source warning", compute="_compute_relationship_margin_warning"
    )

    # --- predictive lifetime value: the company's last fit (written by runs) ---
    relationship_fit_r = fields.Float("BG/NBD r", digits=(16, 6), readonly=True)
    relationship_fit_alpha = fields.Float("BG/NBD alpha", digits=(16, 6), readonly=True)
    relationship_fit_a = fields.Float("BG/NBD a", digits=(16, 6), readonly=True)
    relationship_fit_b = fields.Float("BG/NBD b", digits=(16, 6), readonly=True)
    relationship_fit_p = fields.Float("Gamma-Gamma p", digits=(16, 6), readonly=True)
    relationship_fit_q = fields.Float("Gamma-Gamma q", digits=(16, 6), readonly=True)
    relationship_fit_v = fields.Float("Gamma-Gamma v", digits=(16, 6), readonly=True)
    relationship_fit_customers = fields.Integer("Customers fitted", readonly=True)
    relationship_fit_repeat_buyers = fields.Integer("Repeat buyers", readonly=True)
    relationship_fit_status = fields.Selection(
        FIT_STATUSES, "Fit status", readonly=True
    )
    relationship_fit_reason = fields.Selection(
        FIT_REASONS, "Fit not trusted because", readonly=True
    )
    relationship_fit_date = fields.Date("Fitted as of", readonly=True)
    relationship_fit_message = fields.Char(
        "Predictive fit", compute="_compute_relationship_fit_message"
    )

    # --- retention of the lifetime value, measured by the last full run ---
    relationship_retention_date = fields.Date(
        "Retention measured as of",
        readonly=True,
        help="The last month end on or before the date of the last company-wide "
        "classification: the lifetime value uses the retention measured then.",
    )
    relationship_retention_previous = fields.Integer(
        "Customers of the previous window",
        readonly=True,
        help="Customers with revenue in the window before the one ending on the "
        "retention date.",
    )
    relationship_retention_retained = fields.Integer(
        "Customers retained",
        readonly=True,
        help="Of them, those with revenue again in the window ending on the "
        "retention date.",
    )
    relationship_retention_message = fields.Char(
        "Retention in use", compute="_compute_relationship_retention_message"
    )

    # --- last company-wide classification ---
    relationship_whale_curve = fields.Json(
        "Whale curve figures",
        readonly=True,
        copy=False,
        groups="base.group_system",
        help="The whale curve's figures as the customers hold them: kept by each "
        "company-wide classification, cleared by one of some customers that "
        "changed them.",
    )
    relationship_run_date = fields.Datetime(
        "Last classification", readonly=True, groups=MANAGER_GROUP
    )
    relationship_run_failure_count = fields.Integer(
        "Customers not classified",
        readonly=True,
        groups=MANAGER_GROUP,
        help="Customers whose rules failed in the last classification: they keep "
        "their previous values until the cause is fixed.",
    )
    relationship_run_failure_partner_ids = fields.Many2many(
        "res.partner",
        "crm_relationship_run_failure_rel",
        "company_id",
        "partner_id",
        "Customers that failed",
        readonly=True,
        groups=MANAGER_GROUP,
    )
    relationship_run_failure_error = fields.Text(
        "First error", readonly=True, groups=MANAGER_GROUP
    )

    # --- health score ---
    relationship_health_weight_activity = fields.Float(
        "Activity weight", default=health.DEFAULT_WEIGHTS["activity"]
    )
    relationship_health_weight_trend = fields.Float(
        "Trend weight", default=health.DEFAULT_WEIGHTS["trend"]
    )
    relationship_health_weight_care = fields.Float(
        "Care weight", default=health.DEFAULT_WEIGHTS["care"]
    )
    relationship_health_weight_service = fields.Float(
        "Service weight", default=health.DEFAULT_WEIGHTS["service"]
    )
    relationship_health_weight_satisfaction = fields.Float(
        "Satisfaction weight", default=health.DEFAULT_WEIGHTS["satisfaction"]
    )
    relationship_health_healthy_min = fields.Integer(
        "Healthy from",
        default=health.HEALTHY_MIN,
        help="A health score at or above this is healthy.",
    )
    relationship_health_watch_min = fields.Integer(
        "Watch from",
        default=health.WATCH_MIN,
        help="A health score at or above this, below the healthy limit, is to "
        "watch; below it, at risk.",
    )
    relationship_likely_lost_threshold = fields.Float(
        "Likely lost below (%)",
        default=30.0,
        help="With the predictive method, a customer whose probability of being "
        "still active is below this is likely lost.",
    )

    relationship_care_user_id = fields.Many2one(
        "res.users",
        "Default care user",
        domain="[('share', '=', False), ('company_ids', 'in', id)]",
        help="Receives the customer care activities of customers with neither a "
        "salesperson nor a sales team leader. Empty: a Relationship Manager of "
        "the company.",
    )
    relationship_care_capacity = fields.Integer(
        "Daily care capacity",
        default=20,
        help="Open customer care activities a person is given at most; the most "
        "valuable overdue customers come first, the others wait for the next "
        "days. Each user may have their own.",
    )

    @api.constrains(
        "relationship_window_months",
        "relationship_new_customer_days",
        "relationship_horizon_years",
    )
    def _check_relationship_periods(self):
        for company in self:
            if not 1 <= company.relationship_window_months <= 120:
                raise ValidationError(
                    self.env._("The analysis window must be 1 to 120 months.")
                )
            if company.relationship_new_customer_days < 1:
                raise ValidationError(
                    self.env._("The new customer period must be at least one day.")
                )
            if not 1 <= company.relationship_horizon_years <= 50:
                raise ValidationError(
                    self.env._("The lifetime value horizon must be 1 to 50 years.")
                )

    @api.constrains(
        "relationship_growth_rate",
        "relationship_decline_rate",
        "relationship_margin_rate",
        "relationship_discount_rate",
        "relationship_retention_fallback",
    )
    def _check_relationship_rates(self):
        for company in self:
            if company.relationship_growth_rate <= 0:
                raise ValidationError(self.env._("The growth rate must be above 0 %."))
            for rate in (
                company.relationship_decline_rate,
                company.relationship_margin_rate,
                company.relationship_retention_fallback,
            ):
                if not 0 < rate <= 100:
                    raise ValidationError(
                        self.env._(
                            "The decline, margin and fallback retention rates must "
                            "be above 0 % and at most 100 %."
                        )
                    )
            if not 0 <= company.relationship_discount_rate <= 100:
                raise ValidationError(
                    self.env._("The discount rate must be between 0 % and 100 %.")
                )

    @api.constrains(
        "relationship_complaint_cost",
        "relationship_kotler_few_share",
        "relationship_kotler_many_share",
        "relationship_kotler_high_ratio",
        "relationship_kotler_low_ratio",
    )
    def _check_relationship_profit(self):
        for company in self:
            if company.relationship_complaint_cost < 0:
                raise ValidationError(
                    self.env._("The cost of a complaint cannot be negative.")
                )
            error = profit.kotler_params_error(company._relationship_kotler_params())
            if error == "shares":
                raise ValidationError(
                    self.env._(
                        "Kotler's matrix needs 0 % < few customers share < many "
                        "customers share <= 100 %."
                    )
                )
            if error == "ratios":
                raise ValidationError(
                    self.env._(
                        "Kotler's matrix needs 0 <= low margin ratio < high margin "
                        "ratio."
                    )
                )

    @api.depends("relationship_margin_source")
    @api.depends_context("company")
    def _compute_relationship_margin_warning(self):
        for company in self:
            warning = False
            if company.relationship_margin_source == "product_cost":
                with_cost = (
                    self.env["product.product"]
                    .sudo()
                    .with_company(company)
                    .search_count([("standard_price", "!=", 0)], limit=1)
                )
                if not with_cost:
                    warning = self.env._(
                        "No product has a cost in this company: until costs are "
                        "set on the products, the margin equals the revenue."
                    )
            company.relationship_margin_warning = warning

    @api.depends(
        "relationship_clv_method",
        "relationship_fit_status",
        "relationship_fit_reason",
        "relationship_fit_date",
    )
    def _compute_relationship_fit_message(self):
        available, why = clv.predictive_dependencies()
        reasons = dict(
            self._fields["relationship_fit_reason"]._description_selection(self.env)
        )
        for company in self:
            if not available:
                message = self.env._(
                    "The predictive method needs the Python libraries numpy and "
                    "scipy on the server (%(error)s).",
                    error=why,
                )
            elif not company.relationship_fit_status:
                message = self.env._("Not fitted yet: the next classification fits it.")
            elif company.relationship_fit_status == "trusted":
                message = self.env._(
                    "In use: fitted on %(customers)s customers (%(buyers)s repeat "
                    "buyers) as of %(date)s.",
                    customers=company.relationship_fit_customers,
                    buyers=company.relationship_fit_repeat_buyers,
                    date=company.relationship_fit_date,
                )
            else:
                message = self.env._(
                    "Not trusted (%(reason)s) as of %(date)s: lifetime values keep "
                    "the retention method. At least %(minimum)s repeat buyers, a "
                    "converged fit and no parameter at a bound are needed.",
                    reason=reasons.get(company.relationship_fit_reason, ""),
                    date=company.relationship_fit_date,
                    minimum=clv.MIN_REPEAT_BUYERS,
                )
            company.relationship_fit_message = message

    @api.depends(
        "relationship_retention_date",
        "relationship_retention_previous",
        "relationship_retention_retained",
        "relationship_retention_fallback",
    )
    def _compute_relationship_retention_message(self):
        for company in self:
            previous = company.relationship_retention_previous
            if not company.relationship_retention_date:
                message = self.env._(
                    "Not measured yet: the next classification measures it."
                )
            elif previous < lifetime_value.MIN_RETENTION_SAMPLE:
                message = self.env._(
                    "Fallback in use: %(previous)s customers of the previous window "
                    "as of %(date)s, fewer than %(minimum)s.",
                    previous=previous,
                    date=format_date(self.env, company.relationship_retention_date),
                    minimum=lifetime_value.MIN_RETENTION_SAMPLE,
                )
            else:
                retained = company.relationship_retention_retained
                rate = self.env["res.partner"]._relationship_number(
                    100 * retained / previous
                )
                message = self.env._(
                    "Measured as of %(date)s: %(rate)s %% (%(retained)s of "
                    "%(previous)s customers of the previous window bought again).",
                    date=format_date(self.env, company.relationship_retention_date),
                    rate=rate,
                    retained=retained,
                    previous=previous,
                )
            company.relationship_retention_message = message

    @api.constrains("relationship_clv_method")
    def _check_relationship_clv_method(self):
        if any(c.relationship_clv_method == "bgnbd" for c in self):
            available, why = clv.predictive_dependencies()
            if not available:
                raise ValidationError(
                    self.env._(
                        "The predictive lifetime value needs the Python libraries "
                        "numpy and scipy, which the server cannot import (%(error)s). "
                        "Install them or keep the retention method.",
                        error=why,
                    )
                )

    @api.constrains(
        "relationship_health_weight_activity",
        "relationship_health_weight_trend",
        "relationship_health_weight_care",
        "relationship_health_weight_service",
        "relationship_health_weight_satisfaction",
        "relationship_health_healthy_min",
        "relationship_health_watch_min",
        "relationship_likely_lost_threshold",
    )
    def _check_relationship_health(self):
        for company in self:
            try:
                health.check_weights(company._relationship_health_weights())
                health.check_bands(
                    company.relationship_health_healthy_min,
                    company.relationship_health_watch_min,
                )
            except health.HealthSettingError as error:
                raise ValidationError(
                    self._relationship_health_setting_message(error.reason)
                ) from error
            if not 0 <= company.relationship_likely_lost_threshold <= 100:
                raise ValidationError(
                    self.env._(
                        "The likely lost threshold must be between 0 % and 100 %."
                    )
                )

    def _relationship_health_setting_message(self, reason):
        """The words of ``tools.health``'s setting rule ``reason``
        (``HealthSettingError.reason``)."""
        bands = self.env._(
            "The health bands need 0 <= watch limit <= healthy limit <= 100."
        )
        return {
            "weight_missing": self.env._(
                "Every health score component needs a weight."
            ),
            "weight_negative": self.env._("A health score weight cannot be below 0."),
            "weights_all_zero": self.env._(
                "At least one health score weight must be above 0."
            ),
            "band_out_of_range": bands,
            "bands_inverted": bands,
        }[reason]

    @api.constrains("relationship_care_capacity")
    def _check_relationship_care_capacity(self):
        if any(company.relationship_care_capacity <= 0 for company in self):
            raise ValidationError(
                self.env._("The daily care capacity must be at least 1 activity.")
            )

    @api.constrains("relationship_care_user_id")
    def _check_relationship_care_user(self):
        for company in self:
            user = company.relationship_care_user_id
            if user and (user.share or company not in user.company_ids):
                raise ValidationError(
                    self.env._(
                        "The default care user %(user)s must be an internal user "
                        "allowed in %(company)s.",
                        user=user.name,
                        company=company.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        self.env["res.partner"]._relationship_create_indexes(companies)
        self.env["crm.relationship.tier"]._create_default_tiers(companies)
        self.env["crm.relationship.kpi"].sudo().browse()._seed_company_targets(
            companies
        )
        return companies

    def _relationship_default_care_user(self):
        """Who plans care for customers nobody follows: the company's default
        care user, else its first Relationship Manager."""
        self.ensure_one()
        if self.relationship_care_user_id.active:
            return self.relationship_care_user_id
        return (
            self.env["res.users"]
            .sudo()
            .search(
                [
                    ("share", "=", False),
                    ("company_ids", "in", self.id),
                    (
                        "groups_id",
                        "in",
                        self.env.ref(MANAGER_GROUP).id,
                    ),
                ],
                order="id",
                limit=1,
            )
        )

    def _relationship_status_params(self):
        self.ensure_one()
        return StatusParams(
            window_months=self.relationship_window_months,
            growth_rate=self.relationship_growth_rate / 100,
            decline_rate=self.relationship_decline_rate / 100,
            new_customer_days=self.relationship_new_customer_days,
        )

    def _relationship_measures_profit(self):
        """Whether the company measures more than revenue times its margin
        rate: margins by product cost, or a cost to serve (a complaint or a
        channel cost); only then does it get the profit KPIs."""
        self.ensure_one()
        if (
            self.relationship_margin_source == "product_cost"
            or self.relationship_complaint_cost
        ):
            return True
        channels = (
            self.env["crm.relationship.channel"]
            .sudo()
            .with_company(self)
            .with_context(active_test=False)
            .search([])
        )
        return any(channel.cost for channel in channels)

    def _relationship_kotler_params(self):
        self.ensure_one()
        return profit.KotlerParams(
            few_share=self.relationship_kotler_few_share,
            many_share=self.relationship_kotler_many_share,
            high_ratio=self.relationship_kotler_high_ratio,
            low_ratio=self.relationship_kotler_low_ratio,
        )

    def _relationship_health_weights(self):
        self.ensure_one()
        return {
            code: self[f"relationship_health_weight_{code}"]
            for code in health.COMPONENTS
        }

    def _relationship_health_params(self):
        """Keyword arguments of ``tools.health.health_scorer`` for this company."""
        self.ensure_one()
        return {
            "weights": self._relationship_health_weights(),
            "healthy_min": self.relationship_health_healthy_min,
            "watch_min": self.relationship_health_watch_min,
        }

    def _relationship_fitted_params(self):
        """The stored trusted fit as ``{"bgnbd": params, "gamma_gamma": params}``."""
        self.ensure_one()
        return {
            "bgnbd": clv.BgNbdParams(
                *(self[f"relationship_fit_{name}"] for name in FIT_PARAMETERS["bgnbd"])
            ),
            "gamma_gamma": clv.GammaGammaParams(
                *(
                    self[f"relationship_fit_{name}"]
                    for name in FIT_PARAMETERS["gamma_gamma"]
                )
            ),
        }

    def _relationship_store_run(self, failures):
        """Keep what the last company-wide classification could not classify
        (a ``RunFailures``), for the managers in Settings."""
        self.ensure_one()
        error = failures.first_error
        self.sudo().write(
            {
                "relationship_run_date": fields.Datetime.now(),
                "relationship_run_failure_count": failures.count,
                "relationship_run_failure_partner_ids": [
                    Command.set(failures.partner_ids)
                ],
                "relationship_run_failure_error": error
                and f"{type(error).__name__}: {error}",
            }
        )

    def _relationship_store_retention(self, day, counts):
        """Keep the retention a full classification measured as of ``day``
        (``(previous window customers, retained)``), when it changed."""
        self.ensure_one()
        previous, retained = counts
        if (
            self.relationship_retention_date,
            self.relationship_retention_previous,
            self.relationship_retention_retained,
        ) != (day, previous, retained):
            self.sudo().write(
                {
                    "relationship_retention_date": day,
                    "relationship_retention_previous": previous,
                    "relationship_retention_retained": retained,
                }
            )

    def _relationship_store_fit(self, result, as_of):
        """Keep what a classification's fit found (``crm.relationship.
        prediction._fit``): parameters when a fit ran, the
        customers fitted, the verdict and its reason, the date."""
        self.ensure_one()
        verdict = result["verdict"]
        vals = {
            "relationship_fit_customers": result.get("customers", 0),
            "relationship_fit_repeat_buyers": verdict.repeat_buyers,
            "relationship_fit_status": "trusted" if verdict.trusted else "untrusted",
            "relationship_fit_reason": verdict.reason or False,
            "relationship_fit_date": as_of,
        }
        for model, names in FIT_PARAMETERS.items():
            fit = result.get(model)
            for name in names:
                vals[f"relationship_fit_{name}"] = getattr(fit, name) if fit else 0.0
        self.sudo().write(vals)
