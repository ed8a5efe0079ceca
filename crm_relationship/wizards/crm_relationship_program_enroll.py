from odoo import api, fields, models
from odoo.exceptions import UserError


class CrmRelationshipProgramEnroll(models.TransientModel):
    _name = "crm.relationship.program.enroll"
    _description = "Enroll customers in a relationship program"

    program_id = fields.Many2one(
        "crm.relationship.program",
        "Program",
        required=True,
        domain="[('state', 'in', ('draft', 'running'))]",
    )
    partner_ids = fields.Many2many("res.partner", string="Customers", required=True)
    partner_count = fields.Integer(compute="_compute_partner_count")

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        if (
            "partner_ids" in fields_list
            and self.env.context.get("active_model") == "res.partner"
            and self.env.context.get("active_ids")
        ):
            res["partner_ids"] = [(6, 0, self.env.context["active_ids"])]
        return res

    @api.depends("partner_ids")
    def _compute_partner_count(self):
        for wizard in self:
            wizard.partner_count = len(wizard.partner_ids)

    def action_enroll(self):
        """Enroll the selected customers; child contacts and archived customers
        are refused by the membership itself."""
        self.ensure_one()
        if not self.partner_ids:
            raise UserError(self.env._("Select the customers to enroll."))
        members = self.program_id._enroll(self.partner_ids)
        return self.program_id.with_context(from_wizard=True)._notify_enrolled(
            len(members)
        )
