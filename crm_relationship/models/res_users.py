from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResUsers(models.Model):
    _inherit = "res.users"

    relationship_care_capacity = fields.Integer(
        "Daily care capacity",
        help="Open customer care activities this person is given at most. "
        "0: the company's capacity.",
    )

    @property
    def SELF_READABLE_FIELDS(self):
        return super().SELF_READABLE_FIELDS + ["relationship_care_capacity"]

    @api.constrains("relationship_care_capacity")
    def _check_relationship_care_capacity(self):
        if any(user.relationship_care_capacity < 0 for user in self):
            raise ValidationError(
                self.env._(
                    "A daily care capacity cannot be negative (0 uses the company's)."
                )
            )
