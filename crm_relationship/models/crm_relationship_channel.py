from odoo import fields, models

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

    def _get_by_type(self, channel_type):
        """First active channel of ``channel_type``, else of type other."""
        channels = self.sudo().search([("channel_type", "in", (channel_type, "other"))])
        return (
            channels.filtered(lambda c: c.channel_type == channel_type)[:1]
            or channels[:1]
        )
