from odoo import fields, models

from ..models.res_partner import RELATIONSHIP_END_REASONS


class ResPartnerRelationshipEnd(models.TransientModel):
    _name = "res.partner.relationship.end"
    _description = "End a customer relationship"

    partner_ids = fields.Many2many(
        "res.partner",
        string="Customers",
        required=True,
        default=lambda s: s._default_partner_ids(),
    )
    reason = fields.Selection(RELATIONSHIP_END_REASONS, required=True)
    note = fields.Text()
    date = fields.Date("Ended on", required=True, default=fields.Date.context_today)

    def _default_partner_ids(self):
        if self.env.context.get("active_model") != "res.partner":
            return self.env["res.partner"]
        ids = self.env.context.get("active_ids") or []
        return self.env["res.partner"].browse(ids).commercial_partner_id

    def action_end_relationship(self):
        self.ensure_one()
        # every selected customer (a plain read would silently drop those the
        # user may not see), each of which the user must be allowed to change:
        # the end itself is written as the superuser
        customers = self.sudo().partner_ids.commercial_partner_id.with_env(self.env)
        customers.check_access("write")
        customers._end_relationship(self.reason, self.note, self.date)
        return {"type": "ir.actions.act_window_close"}
