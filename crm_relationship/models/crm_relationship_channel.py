from odoo import api, fields, models
from odoo.exceptions import ValidationError

CHANNEL_TYPES = [
    ("phone", "Phone"),
    ("email", "Email"),
    ("meeting", "Meeting"),
    ("visit", "Visit"),
    ("hotline", "Hotline"),
    ("chat_social", "Chat and social media"),
    ("event", "Event"),
    ("other", "Other"),
]


class CrmRelationshipChannel(models.Model):
    _name = "crm.relationship.channel"
    _description = "Interaction channel"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    channel_type = fields.Selection(
        CHANNEL_TYPES, "Type", required=True, default="other"
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    cost = fields.Float(
        "Cost per interaction",
        company_dependent=True,
        help="What one interaction through this channel costs the current "
        "company, in its currency: each interaction adds it to the customer's "
        "cost to serve.",
    )
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id")

    @api.depends_context("company")
    def _compute_currency_id(self):
        self.currency_id = self.env.company.currency_id

    @api.constrains("cost")
    def _check_cost(self):
        if any(channel.cost < 0 for channel in self):
            raise ValidationError(
                self.env._("The cost of an interaction cannot be negative.")
            )

    def _get_by_type(self, channel_type):
        """First active channel of ``channel_type``, else of type other."""
        channels = self.sudo().search([("channel_type", "in", (channel_type, "other"))])
        return (
            channels.filtered(lambda c: c.channel_type == channel_type)[:1]
            or channels[:1]
        )
