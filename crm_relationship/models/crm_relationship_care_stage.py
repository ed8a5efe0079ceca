from odoo import api, fields, models
from odoo.exceptions import ValidationError

CARE_PHASES = [
    ("pre_sale", "Before the sale"),
    ("in_sale", "During the sale"),
    ("post_sale", "After the sale"),
]


class CrmRelationshipCareStage(models.Model):
    _name = "crm.relationship.care.stage"
    _description = "Customer care stage"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    phase = fields.Selection(
        CARE_PHASES,
        required=True,
        help="Care phase of the customers in this stage. The classification "
        "moves a customer to the first stage of the phase its facts call for.",
    )
    fold = fields.Boolean(
        "Folded in pipeline", help="Fold this column in the care pipeline."
    )
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True, help="What the care team does here.")

    @api.model_create_multi
    def create(self, vals_list):
        if any(not vals.get("phase") for vals in vals_list):
            raise ValidationError(self._missing_phase_message())
        return super().create(vals_list)

    def write(self, vals):
        if "phase" in vals and not vals["phase"]:
            raise ValidationError(self._missing_phase_message())
        return super().write(vals)

    def _missing_phase_message(self):
        return self.env._(
            "Every care stage needs a phase: before, during or after the sale."
        )
