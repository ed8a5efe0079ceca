from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

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

    @api.ondelete(at_uninstall=False)
    def _unlink_except_in_use(self):
        """Customers keep their stage per company in a jsonb column that no
        foreign key protects: refuse to delete a stage still holding one."""
        self.env["res.partner"].flush_model(["care_stage_id"])
        used = self.env.execute_query(
            SQL(
                """SELECT 1 FROM res_partner p, jsonb_each(p.care_stage_id) kv
                    WHERE (kv.value->>0)::int = ANY(%s) LIMIT 1""",
                self.ids,
            )
        )
        if used:
            raise UserError(
                self.env._(
                    "Customers are still in this care stage: move them to another "
                    "stage or archive the stage instead."
                )
            )

    def _missing_phase_message(self):
        return self.env._(
            "Every care stage needs a phase: before, during or after the sale."
        )
