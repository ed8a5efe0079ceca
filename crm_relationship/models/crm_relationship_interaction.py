from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .crm_relationship_care_stage import CARE_PHASES


class CrmRelationshipInteraction(models.Model):
    _name = "crm.relationship.interaction"
    _description = "Customer interaction"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _rec_name = "summary"
    _check_company_auto = True

    summary = fields.Char(required=True, tracking=True)
    partner_id = fields.Many2one(
        "res.partner",
        "Customer",
        required=True,
        index=True,
        check_company=True,
        tracking=True,
        help="Interactions belong to the company or person that buys; a contact "
        "person is kept in Contact.",
    )
    contact_id = fields.Many2one(
        "res.partner",
        "Contact",
        check_company=True,
        help="The person spoken to, when it is a contact of the customer.",
    )
    date = fields.Date(
        required=True, index=True, default=fields.Date.context_today, tracking=True
    )
    channel_id = fields.Many2one(
        "crm.relationship.channel", "Channel", required=True, tracking=True
    )
    channel_type = fields.Selection(related="channel_id.channel_type", store=True)
    direction = fields.Selection(
        [("inbound", "From the customer"), ("outbound", "To the customer")],
        required=True,
        default="outbound",
    )
    care_phase = fields.Selection(
        CARE_PHASES,
        compute="_compute_care_phase",
        store=True,
        readonly=False,
        help="Phase of the customer when the interaction took place.",
    )
    user_id = fields.Many2one(
        "res.users",
        "Handled by",
        default=lambda self: self.env.user,
        index=True,
        check_company=True,
        tracking=True,
    )
    program_id = fields.Many2one(
        "crm.relationship.program",
        index="btree_not_null",
        check_company=True,
        help="The relationship program this interaction belongs to, if any.",
    )
    outcome = fields.Selection(
        [("positive", "Positive"), ("neutral", "Neutral"), ("negative", "Negative")],
        tracking=True,
    )
    satisfaction = fields.Integer(
        aggregator=False,
        help="Customer satisfaction from 1 (very unhappy) to 5 (delighted); "
        "0 when not asked.",
    )
    notes = fields.Html()
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )

    @api.depends("partner_id", "company_id")
    def _compute_care_phase(self):
        for interaction in self:
            partner = interaction.partner_id.with_company(interaction.company_id)
            interaction.care_phase = partner.commercial_partner_id.care_phase

    @api.constrains("satisfaction")
    def _check_satisfaction(self):
        if any(not 0 <= rec.satisfaction <= 5 for rec in self):
            raise ValidationError(
                self.env._(
                    "Satisfaction is a score from 1 to 5; leave it empty when the "
                    "customer was not asked."
                )
            )

    @api.constrains("date")
    def _check_date(self):
        today = fields.Date.context_today(self)
        future = self.filtered(lambda rec: rec.date > today)
        if future:
            raise ValidationError(
                self.env._(
                    "An interaction cannot be dated after today (%(date)s): log it "
                    "once it has taken place, or plan an activity instead.",
                    date=future[0].date,
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        self._redirect_to_commercial_partner(vals_list)
        interactions = super().create(vals_list)
        interactions._refresh_partner_care_dates()
        return interactions

    def write(self, vals):
        moved = {"partner_id", "company_id", "date"} & set(vals)
        before = self._partner_care_keys() if moved else {}
        if "partner_id" in vals:
            vals = dict(vals)
            self._redirect_to_commercial_partner([vals])
        result = super().write(vals)
        if moved:
            self._refresh_partner_care_dates(before)
        return result

    def unlink(self):
        before = self._partner_care_keys()
        result = super().unlink()
        self.env["crm.relationship.interaction"]._refresh_partner_care_dates(before)
        return result

    @api.model
    def _redirect_to_commercial_partner(self, vals_list):
        """Attach interactions to the commercial partner, keeping the contact."""
        partner_ids = {
            vals["partner_id"] for vals in vals_list if vals.get("partner_id")
        }
        partners = self.env["res.partner"].browse(partner_ids)
        commercial = {p.id: p.commercial_partner_id.id for p in partners}
        for vals in vals_list:
            pid = vals.get("partner_id")
            if pid and commercial[pid] != pid:
                vals.setdefault("contact_id", pid)
                vals["partner_id"] = commercial[pid]

    def _partner_care_keys(self):
        """``{company_id: {partner_id}}`` of the interactions of ``self``."""
        keys = defaultdict(set)
        for interaction in self:
            keys[interaction.company_id.id].add(interaction.partner_id.id)
        return keys

    def _refresh_partner_care_dates(self, extra=None):
        keys = self._partner_care_keys()
        for company_id, partner_ids in (extra or {}).items():
            keys[company_id] |= partner_ids
        self.flush_model(["partner_id", "company_id", "date"])
        scheduler = self.env["crm.relationship.care.scheduler"].sudo()
        for company_id, partner_ids in keys.items():
            company = self.env["res.company"].browse(company_id)
            scheduler._refresh_care_dates(company, partner_ids)
