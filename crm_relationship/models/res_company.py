from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools.status import StatusParams


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
        [("retention", "Retention and margin")],
        "Lifetime value method",
        default="retention",
        required=True,
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
                        self.env.ref(
                            "crm_relationship.crm_relationship_group_manager"
                        ).id,
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
