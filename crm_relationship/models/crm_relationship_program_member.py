from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CrmRelationshipProgramMember(models.Model):
    _name = "crm.relationship.program.member"
    _description = "Relationship program member"
    _inherit = [
        "mail.thread",
        "mail.activity.mixin",
        "mail.tracking.duration.mixin",
    ]
    _order = "program_id, stage_id, id"
    _track_duration_field = "stage_id"
    _rec_name = "partner_id"
    _check_company_auto = True

    def _default_stage_id(self):
        return self.env["crm.relationship.program.stage"].search(
            [("is_converted", "=", False), ("is_dropped", "=", False)], limit=1
        )

    program_id = fields.Many2one(
        "crm.relationship.program",
        "Program",
        required=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    company_id = fields.Many2one(
        related="program_id.company_id", store=True, index=True, precompute=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    program_state = fields.Selection(related="program_id.state")
    partner_id = fields.Many2one(
        "res.partner",
        "Customer",
        required=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    stage_id = fields.Many2one(
        "crm.relationship.program.stage",
        "Stage",
        default=_default_stage_id,
        group_expand="_read_group_stage_ids",
        ondelete="restrict",
        tracking=True,
        index=True,
    )
    is_converted = fields.Boolean(
        related="stage_id.is_converted", store=True, precompute=True
    )
    is_dropped = fields.Boolean(
        related="stage_id.is_dropped", store=True, precompute=True
    )
    user_id = fields.Many2one(
        "res.users",
        "Owner",
        compute="_compute_user_id",
        store=True,
        readonly=False,
        precompute=True,
        domain="[('share', '=', False)]",
        tracking=True,
        index=True,
    )
    date_enrolled = fields.Date(
        "Enrolled on", required=True, default=fields.Date.context_today
    )
    date_converted = fields.Date(
        "Converted on",
        compute="_compute_date_converted",
        store=True,
        readonly=False,
        precompute=True,
        copy=False,
    )
    revenue = fields.Monetary(
        "Revenue since enrollment",
        currency_field="currency_id",
        readonly=True,
        copy=False,
        help="Untaxed revenue of the customer's posted invoices minus credit "
        "notes from the enrollment (not before the program start) up to the "
        "program end. Refreshed with the program results.",
    )
    color = fields.Integer()
    partner_email = fields.Char(related="partner_id.email")
    partner_phone = fields.Char(related="partner_id.phone")
    relationship_tier_id = fields.Many2one(related="partner_id.relationship_tier_id")

    _sql_constraints = [
        (
            "program_partner_uniq",
            "unique(program_id, partner_id)",
            "A customer can be enrolled only once in a program.",
        ),
    ]

    @api.model
    def _read_group_stage_ids(self, stages, domain):
        return stages.search([], order=stages._order)

    @api.depends("program_id")
    def _compute_user_id(self):
        for member in self:
            if not member.user_id:
                member.user_id = member.program_id.user_id

    @api.depends("stage_id")
    def _compute_date_converted(self):
        today = fields.Date.context_today(self)
        for member in self:
            if not member.stage_id.is_converted:
                member.date_converted = False
            elif not member.date_converted:
                member.date_converted = today

    @api.constrains("partner_id")
    def _check_partner_id(self):
        for member in self:
            partner = member.partner_id
            if partner.commercial_partner_id != partner:
                raise ValidationError(
                    self.env._(
                        "%(contact)s is a contact of %(company)s: enroll the "
                        "company, not its contacts.",
                        contact=partner.display_name,
                        company=partner.commercial_partner_id.display_name,
                    )
                )
            if not partner.active:
                raise ValidationError(
                    self.env._(
                        "%(customer)s is archived and cannot be enrolled.",
                        customer=partner.display_name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        programs = self.env["crm.relationship.program"].browse(
            {vals["program_id"] for vals in vals_list if vals.get("program_id")}
        )
        programs._check_accepts_members()
        if any("stage_id" not in vals for vals in vals_list):
            # one search for the whole batch, not one default per member
            stage = self._default_stage_id()
            for vals in vals_list:
                vals.setdefault("stage_id", stage.id)
        members = super().create(vals_list)
        members._apply_activity_plans()
        return members

    def _apply_activity_plans(self):
        """Plan the program's activities on the customers of new members.

        One scheduling per program and owner; the owner takes the activities
        whose responsible is chosen on demand.
        """
        groups = {}
        for member in self.filtered("program_id.activity_plan_id"):
            key = (member.program_id, member.user_id)
            groups.setdefault(key, []).append(member.partner_id.id)
        for (program, user), partner_ids in groups.items():
            self.env["mail.activity.schedule"].sudo().with_context(
                active_model="res.partner", active_ids=partner_ids
            ).create(
                {
                    "plan_id": program.activity_plan_id.id,
                    "plan_on_demand_user_id": (
                        user or program.user_id or self.env.user
                    ).id,
                    "plan_date": fields.Date.context_today(self),
                }
            ).action_schedule_plan()
