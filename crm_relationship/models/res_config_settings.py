from odoo import api, fields, models

FEEDBACK_ALIAS = "crm_relationship.mail_alias_crm_relationship_feedback"


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    relationship_window_months = fields.Integer(
        related="company_id.relationship_window_months", readonly=False
    )
    relationship_growth_rate = fields.Float(
        related="company_id.relationship_growth_rate", readonly=False
    )
    relationship_decline_rate = fields.Float(
        related="company_id.relationship_decline_rate", readonly=False
    )
    relationship_new_customer_days = fields.Integer(
        related="company_id.relationship_new_customer_days", readonly=False
    )
    relationship_clv_method = fields.Selection(
        related="company_id.relationship_clv_method", readonly=False
    )
    relationship_margin_rate = fields.Float(
        related="company_id.relationship_margin_rate", readonly=False
    )
    relationship_discount_rate = fields.Float(
        related="company_id.relationship_discount_rate", readonly=False
    )
    relationship_horizon_years = fields.Integer(
        related="company_id.relationship_horizon_years", readonly=False
    )
    relationship_retention_fallback = fields.Float(
        related="company_id.relationship_retention_fallback", readonly=False
    )
    relationship_margin_source = fields.Selection(
        related="company_id.relationship_margin_source", readonly=False
    )
    relationship_margin_warning = fields.Char(
        related="company_id.relationship_margin_warning"
    )
    relationship_complaint_cost = fields.Monetary(
        related="company_id.relationship_complaint_cost", readonly=False
    )
    relationship_tier_basis = fields.Selection(
        related="company_id.relationship_tier_basis", readonly=False
    )
    relationship_kotler_few_share = fields.Float(
        related="company_id.relationship_kotler_few_share", readonly=False
    )
    relationship_kotler_many_share = fields.Float(
        related="company_id.relationship_kotler_many_share", readonly=False
    )
    relationship_kotler_high_ratio = fields.Float(
        related="company_id.relationship_kotler_high_ratio", readonly=False
    )
    relationship_kotler_low_ratio = fields.Float(
        related="company_id.relationship_kotler_low_ratio", readonly=False
    )
    relationship_care_user_id = fields.Many2one(
        related="company_id.relationship_care_user_id", readonly=False
    )
    # --- last company-wide classification ---
    relationship_run_date = fields.Datetime(related="company_id.relationship_run_date")
    relationship_run_failure_count = fields.Integer(
        related="company_id.relationship_run_failure_count"
    )
    relationship_run_failure_partner_ids = fields.Many2many(
        related="company_id.relationship_run_failure_partner_ids"
    )
    relationship_run_failure_error = fields.Text(
        related="company_id.relationship_run_failure_error"
    )
    # --- predictive lifetime value and health score ---
    relationship_fit_message = fields.Char(
        related="company_id.relationship_fit_message"
    )
    relationship_retention_message = fields.Char(
        related="company_id.relationship_retention_message"
    )
    relationship_fit_status = fields.Selection(
        related="company_id.relationship_fit_status"
    )
    relationship_fit_r = fields.Float(related="company_id.relationship_fit_r")
    relationship_fit_alpha = fields.Float(related="company_id.relationship_fit_alpha")
    relationship_fit_a = fields.Float(related="company_id.relationship_fit_a")
    relationship_fit_b = fields.Float(related="company_id.relationship_fit_b")
    relationship_fit_p = fields.Float(related="company_id.relationship_fit_p")
    relationship_fit_q = fields.Float(related="company_id.relationship_fit_q")
    relationship_fit_v = fields.Float(related="company_id.relationship_fit_v")
    relationship_fit_customers = fields.Integer(
        related="company_id.relationship_fit_customers"
    )
    relationship_likely_lost_threshold = fields.Float(
        related="company_id.relationship_likely_lost_threshold", readonly=False
    )
    relationship_health_weight_activity = fields.Float(
        related="company_id.relationship_health_weight_activity", readonly=False
    )
    relationship_health_weight_trend = fields.Float(
        related="company_id.relationship_health_weight_trend", readonly=False
    )
    relationship_health_weight_care = fields.Float(
        related="company_id.relationship_health_weight_care", readonly=False
    )
    relationship_health_weight_service = fields.Float(
        related="company_id.relationship_health_weight_service", readonly=False
    )
    relationship_health_weight_satisfaction = fields.Float(
        related="company_id.relationship_health_weight_satisfaction", readonly=False
    )
    relationship_health_healthy_min = fields.Integer(
        related="company_id.relationship_health_healthy_min", readonly=False
    )
    relationship_health_watch_min = fields.Integer(
        related="company_id.relationship_health_watch_min", readonly=False
    )
    relationship_care_capacity = fields.Integer(
        related="company_id.relationship_care_capacity", readonly=False
    )

    # --- feedback: the alias whose emails create feedback ---
    relationship_feedback_alias_prefix = fields.Char(
        "Feedback alias",
        help="Emails sent to this address create a customer feedback.",
    )
    relationship_feedback_alias_domain = fields.Char(
        "Feedback alias domain", readonly=True
    )

    @api.model
    def get_values(self):
        res = super().get_values()
        alias = self.env.ref(FEEDBACK_ALIAS, raise_if_not_found=False)
        res.update(
            relationship_feedback_alias_prefix=alias.alias_name if alias else False,
            relationship_feedback_alias_domain=alias.alias_domain if alias else False,
        )
        return res

    def set_values(self):
        res = super().set_values()
        alias = self.env.ref(FEEDBACK_ALIAS, raise_if_not_found=False)
        prefix = self.relationship_feedback_alias_prefix or False
        if alias:
            if alias.alias_name != prefix:
                alias.sudo().alias_name = prefix
        elif prefix:
            alias = (
                self.env["mail.alias"]
                .sudo()
                .create(
                    {
                        "alias_name": prefix,
                        "alias_model_id": self.env["ir.model"]._get_id(
                            "crm.relationship.feedback"
                        ),
                        "alias_domain_id": self.env.company.alias_domain_id.id,
                        "alias_contact": "everyone",
                    }
                )
            )
            module, name = FEEDBACK_ALIAS.split(".")
            self.env["ir.model.data"].sudo().create(
                {
                    "module": module,
                    "name": name,
                    "model": "mail.alias",
                    "res_id": alias.id,
                    "noupdate": True,
                }
            )
        return res

    def action_relationship_recompute_now(self):
        """Start the classification cron at once, in the background."""
        self.env["res.partner"]._check_relationship_manager()
        self.env.ref(
            "crm_relationship.ir_cron_crm_relationship_classification"
        ).sudo()._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": self.env._(
                    "The classification runs in the background; figures refresh in a "
                    "few minutes."
                ),
            },
        }
