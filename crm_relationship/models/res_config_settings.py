from odoo import fields, models


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
    relationship_care_user_id = fields.Many2one(
        related="company_id.relationship_care_user_id", readonly=False
    )

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
