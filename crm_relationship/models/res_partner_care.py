from odoo import api, fields, models
from odoo.exceptions import UserError

from .crm_relationship_care_stage import CARE_PHASES
from .res_partner import CARE_STATUSES


class ResPartner(models.Model):
    """The care pipeline of a customer, per company: stage and phase, the
    last interaction and the next care date (written by the classification,
    the interactions and the care scheduler), the kanban's stages."""

    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    care_stage_id = fields.Many2one(
        "crm.relationship.care.stage",
        "Care stage",
        company_dependent=True,
        index=False,
        ondelete="restrict",
        group_expand="_read_group_care_stage_ids",
        help="Column of the care pipeline. The classification moves the customer "
        "when the facts change phase; a person may move it at any time.",
    )
    care_phase = fields.Selection(
        CARE_PHASES,
        "Care phase",
        company_dependent=True,
        index=False,
        readonly=True,
        help="Before, during or after the sale: follows the care stage.",
    )
    care_phase_auto = fields.Selection(
        CARE_PHASES,
        "Care phase of the facts",
        company_dependent=True,
        index=False,
        readonly=True,
        help="Phase derived from invoices, payments and opportunities at the last "
        "classification: the stage moves only when it changes.",
    )
    last_interaction_date = fields.Date(
        "Last interaction", company_dependent=True, index=False, readonly=True
    )
    next_care_date = fields.Date(
        "Next care date",
        company_dependent=True,
        index=False,
        readonly=True,
        help="Last interaction (or first purchase, or creation) plus the contact "
        "interval of the customer's tier.",
    )
    care_status = fields.Selection(
        CARE_STATUSES,
        "Care status",
        company_dependent=True,
        index=False,
        readonly=True,
        help="Refreshed every day by the care scheduler: due soon within a week "
        "of the next care date, overdue once it has passed.",
    )
    care_overdue = fields.Boolean(
        "Care overdue", compute="_compute_care_overdue", search="_search_care_overdue"
    )
    relationship_priority = fields.Selection(
        [("0", "Normal"), ("1", "Medium"), ("2", "High"), ("3", "Very high")],
        "Relationship priority",
        compute="_compute_relationship_priority",
        # stars say nothing of the amount: every internal user may see them
        compute_sudo=True,
        help="Stars from the tier (VIP 3, large 2, medium 1), one less when the "
        "customer is not expected to bring any more value (no lifetime value).",
    )
    care_interaction_ids = fields.One2many(
        "crm.relationship.interaction", "partner_id", "Interactions"
    )
    care_interaction_count = fields.Integer(
        "Interaction count", compute="_compute_care_interaction_count"
    )

    @api.model
    def _read_group_care_stage_ids(self, stages, domain):
        return stages.search([])

    @api.depends_context("company")
    @api.depends("care_status")
    def _compute_care_overdue(self):
        for partner in self:
            partner.care_overdue = partner.care_status == "overdue"

    @api.depends_context("company")
    @api.depends("relationship_tier_id", "lifetime_value")
    def _compute_relationship_priority(self):
        tier_stars = {"vip": 3, "large": 2, "medium": 1}
        for partner in self:
            stars = tier_stars.get(partner.relationship_tier_id.code, 0)
            if stars and partner.lifetime_value <= 0:
                stars -= 1
            partner.relationship_priority = str(stars)

    def _search_care_overdue(self, operator, value):
        if operator not in ("=", "!="):
            raise UserError(self.env._("Search 'Care overdue' with = or != only."))
        if (operator == "=") == bool(value):
            return [("care_status", "=", "overdue")]
        return [("care_status", "!=", "overdue")]

    def _compute_care_interaction_count(self):
        commercial = self.commercial_partner_id
        counts = dict(
            self.env["crm.relationship.interaction"]._read_group(
                [("partner_id", "in", commercial.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.care_interaction_count = counts.get(
                partner.commercial_partner_id, 0
            )

    @api.readonly
    def action_view_care_interactions(self):
        self.ensure_one()
        partner = self.commercial_partner_id
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_relationship.crm_relationship_interaction_action"
        )
        action["domain"] = [("partner_id", "=", partner.id)]
        action["context"] = {
            "default_partner_id": partner.id,
            "default_contact_id": self.id if self != partner else False,
        }
        return action

    @api.model
    def _schedule_care_activities(self, as_of=None):
        """The care cron: see ``crm.relationship.care.scheduler``."""
        scheduler = self.env["crm.relationship.care.scheduler"].sudo()
        return scheduler._schedule(as_of)
