from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, plaintext2html

# response time when the customer has no tier in the feedback's company
DEFAULT_RESPONSE_HOURS = 72
SURVEY_TEMPLATE = "crm_relationship.mail_template_crm_relationship_feedback_survey"
FEEDBACK_TYPES = [
    ("complaint", "Complaint"),
    ("suggestion", "Suggestion"),
    ("praise", "Praise"),
    ("question", "Question"),
]
PRIORITIES = [
    ("0", "Normal"),
    ("1", "Important"),
    ("2", "High"),
    ("3", "Urgent"),
]
NPS_CATEGORIES = [
    ("detractor", "Detractor"),
    ("passive", "Passive"),
    ("promoter", "Promoter"),
]


class CrmRelationshipFeedback(models.Model):
    _name = "crm.relationship.feedback"
    _description = "Customer Feedback"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "priority desc, date_deadline, id desc"
    _check_company_auto = True

    name = fields.Char("Subject", required=True, tracking=True)
    description = fields.Html(help="What the customer said.")
    partner_id = fields.Many2one(
        "res.partner",
        "Customer",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        help="The customer company (or person). A contact of a company is saved as "
        "the contact person of its company.",
    )
    contact_id = fields.Many2one(
        "res.partner",
        "Contact person",
        index="btree_not_null",
        check_company=True,
        help="The person who gave the feedback, when not the customer itself.",
    )
    feedback_type = fields.Selection(
        FEEDBACK_TYPES, "Type", required=True, default="complaint", tracking=True
    )
    channel_id = fields.Many2one(
        "crm.relationship.channel", help="How the customer reached us."
    )
    priority = fields.Selection(PRIORITIES, default="0", index=True)
    stage_id = fields.Many2one(
        "crm.relationship.feedback.stage",
        "Stage",
        required=True,
        index=True,
        tracking=True,
        copy=False,
        ondelete="restrict",
        default=lambda self: self._default_stage_id(),
        group_expand="_read_group_stage_ids",
    )
    is_closed = fields.Boolean(related="stage_id.is_closed", store=True, index=True)
    user_id = fields.Many2one(
        "res.users",
        "Assigned to",
        index=True,
        tracking=True,
        check_company=True,
        domain="[('share', '=', False)]",
        default=lambda self: self.env.user,
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    date_received = fields.Datetime(
        "Received on", required=True, index=True, default=fields.Datetime.now
    )
    date_deadline = fields.Datetime(
        "Respond by",
        compute="_compute_date_deadline",
        store=True,
        readonly=False,
        index=True,
        tracking=True,
        help="Received date plus the response time of the customer's tier in this "
        "company (72 hours without a tier).",
    )
    date_resolved = fields.Datetime(
        "Resolved on",
        compute="_compute_date_resolved",
        store=True,
        readonly=False,
        copy=False,
        help="Set when the feedback enters a closed stage, cleared when reopened.",
    )
    resolution = fields.Html(help="How the feedback was handled.")
    resolution_hours = fields.Float(
        "Resolution time (hours)",
        compute="_compute_resolution_hours",
        store=True,
        aggregator="avg",
    )
    sla_breached = fields.Boolean(
        "Deadline missed",
        compute="_compute_sla_breached",
        store=True,
        index=True,
        help="Resolved after its deadline, or still open past it (open feedback is "
        "flagged by an hourly scheduled action).",
    )
    # both scores default to 0 so that the column is never NULL: the ORM reads
    # NULL as 0 and then skips writing a 0 over it, which left an answered
    # recommendation of 0 without a stored score
    csat_score = fields.Integer(
        "Satisfaction (CSAT)",
        default=0,
        aggregator="avg",
        tracking=True,
        copy=False,
        help="From 1 (very dissatisfied) to 5 (very satisfied); 0 when not given.",
    )
    nps_score = fields.Integer(
        "Recommendation (NPS)",
        default=0,
        aggregator="avg",
        tracking=True,
        copy=False,
        help="How likely the customer is to recommend us, from 0 to 10.",
    )
    nps_answered = fields.Boolean(
        "Recommendation given",
        compute="_compute_nps_answered",
        store=True,
        readonly=False,
        copy=False,
        help="Tells a real 0 from no answer.",
    )
    nps_category = fields.Selection(
        NPS_CATEGORIES,
        "NPS category",
        compute="_compute_nps_category",
        store=True,
        help="Promoters answer 9 or 10, passives 7 or 8, detractors 0 to 6.",
    )
    survey_comment = fields.Text("Customer comment", copy=False)
    survey_sent_date = fields.Datetime("Survey sent on", copy=False, readonly=True)
    survey_answered_date = fields.Datetime(
        "Survey answered on", copy=False, readonly=True
    )

    _sql_constraints = [
        (
            "csat_score_range",
            "CHECK(csat_score IS NULL OR (csat_score >= 0 AND csat_score <= 5))",
            "The satisfaction score goes from 1 to 5.",
        ),
        (
            "nps_score_range",
            "CHECK(nps_score IS NULL OR (nps_score >= 0 AND nps_score <= 10))",
            "The recommendation score goes from 0 to 10.",
        ),
        (
            "nps_answered_has_score",
            "CHECK(nps_answered IS NOT TRUE OR nps_score IS NOT NULL)",
            "A recommendation that was given has a score, 0 included.",
        ),
        (
            "date_resolved_after_received",
            "CHECK(date_resolved IS NULL OR date_resolved >= date_received)",
            "A feedback cannot be resolved before it was received.",
        ),
    ]

    # ------------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------------

    def _default_stage_id(self):
        return self.env["crm.relationship.feedback.stage"].search(
            [("is_closed", "=", False)], limit=1
        )

    @api.model
    def _read_group_stage_ids(self, stages, domain):
        return stages.search([], order=stages._order)

    @api.depends("date_received", "partner_id", "company_id")
    def _compute_date_deadline(self):
        """Received date + the response hours of the customer's tier.

        The tier is read per company in one batch; later tier changes do not move
        the deadline promised when the feedback came in.
        """
        for company in self.company_id or self.env.company:
            records = self.filtered(
                lambda f, c=company: (f.company_id or self.env.company) == c
            )
            partners = records.partner_id.commercial_partner_id
            hours = {
                partner.id: partner.relationship_tier_id.response_hours
                for partner in partners.sudo().with_company(company)
            }
            for feedback in records:
                if not feedback.date_received:
                    feedback.date_deadline = False
                    continue
                response_hours = (
                    hours.get(feedback.partner_id.commercial_partner_id.id)
                    or DEFAULT_RESPONSE_HOURS
                )
                feedback.date_deadline = feedback.date_received + timedelta(
                    hours=response_hours
                )

    @api.depends("stage_id")
    def _compute_date_resolved(self):
        now = fields.Datetime.now()
        for feedback in self:
            if not feedback.stage_id.is_closed:
                feedback.date_resolved = False
            elif not feedback.date_resolved:
                feedback.date_resolved = now

    @api.depends("date_received", "date_resolved")
    def _compute_resolution_hours(self):
        for feedback in self:
            if feedback.date_received and feedback.date_resolved:
                delta = feedback.date_resolved - feedback.date_received
                feedback.resolution_hours = delta.total_seconds() / 3600
            else:
                feedback.resolution_hours = 0.0

    @api.depends("date_deadline", "date_resolved")
    def _compute_sla_breached(self):
        now = fields.Datetime.now()
        for feedback in self:
            end = feedback.date_resolved or now
            feedback.sla_breached = bool(
                feedback.date_deadline and end > feedback.date_deadline
            )

    @api.depends("nps_score")
    def _compute_nps_answered(self):
        for feedback in self:
            feedback.nps_answered = feedback.nps_answered or bool(feedback.nps_score)

    @api.depends("nps_score", "nps_answered")
    def _compute_nps_category(self):
        for feedback in self:
            if not feedback.nps_answered:
                feedback.nps_category = False
            elif feedback.nps_score >= 9:
                feedback.nps_category = "promoter"
            elif feedback.nps_score >= 7:
                feedback.nps_category = "passive"
            else:
                feedback.nps_category = "detractor"

    def _compute_access_url(self):
        res = super()._compute_access_url()
        for feedback in self:
            feedback.access_url = f"/crm_relationship/feedback/{feedback.id}/survey"
        return res

    @api.constrains("csat_score", "nps_score")
    def _check_scores(self):
        for feedback in self:
            error = self._survey_score_error(
                feedback.nps_score, feedback.csat_score, allow_empty=True
            )
            if error:
                raise ValidationError(error)

    @api.constrains("date_received", "date_resolved")
    def _check_date_resolved(self):
        for feedback in self:
            if feedback.date_resolved and feedback.date_resolved < (
                feedback.date_received
            ):
                raise ValidationError(
                    self.env._(
                        "Feedback %(name)s cannot be resolved before it was received.",
                        name=feedback.name,
                    )
                )

    @api.model
    def _survey_score_error(self, nps_score, csat_score, allow_empty=False):
        """The message explaining why these scores are refused, or False."""
        csat_min = 0 if allow_empty else 1
        if not csat_min <= (csat_score or 0) <= 5:
            return self.env._(
                "The satisfaction score goes from 1 to 5, not %(score)s.",
                score=csat_score,
            )
        if nps_score is None or not 0 <= nps_score <= 10:
            return self.env._(
                "The recommendation score goes from 0 to 10, not %(score)s.",
                score=nps_score,
            )
        return False

    def _redirect_to_commercial_partner(self, vals_list):
        """Keep the commercial partner as customer and the contact aside."""
        partner_ids = [
            vals["partner_id"] for vals in vals_list if vals.get("partner_id")
        ]
        partners = self.env["res.partner"].browse(partner_ids)
        partners.fetch(["commercial_partner_id"])
        for vals in vals_list:
            if not vals.get("partner_id"):
                continue
            partner = partners.browse(vals["partner_id"])
            commercial = partner.commercial_partner_id
            if commercial != partner:
                vals["partner_id"] = commercial.id
                vals["contact_id"] = vals.get("contact_id") or partner.id

    @api.model_create_multi
    def create(self, vals_list):
        self._redirect_to_commercial_partner(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("partner_id") and "contact_id" not in vals:
            vals["contact_id"] = False  # another customer: the old contact is stale
        self._redirect_to_commercial_partner([vals])
        resolving = self.browse()
        if vals.get("stage_id"):
            stage = self.env["crm.relationship.feedback.stage"].browse(vals["stage_id"])
            if stage.is_closed:
                resolving = self.filtered(lambda f: not f.stage_id.is_closed)
        result = super().write(vals)
        if resolving:
            resolving._ask_survey_on_resolution()
        return result

    # ------------------------------------------------------------------
    # MAIL
    # ------------------------------------------------------------------

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """An email to the feedback alias: the sender is the customer (created when
        unknown), the subject the feedback's subject; a complaint unless the alias
        defaults say otherwise."""
        values = dict(custom_values or {})
        author = self.env["res.partner"].browse(msg_dict.get("author_id")).exists()
        if not author and msg_dict.get("email_from"):
            author = self._mail_find_partner_from_emails(
                [msg_dict["email_from"]], force_create=True
            )[0]
        if author:
            values.setdefault("partner_id", author.id)
        values.setdefault(
            "name", msg_dict.get("subject") or self.env._("Feedback without subject")
        )
        values.setdefault("description", msg_dict.get("body"))
        values.setdefault("feedback_type", "complaint")
        values.setdefault("user_id", False)
        email = self.env.ref(
            "crm_relationship.crm_relationship_channel_email", raise_if_not_found=False
        )
        values.setdefault("channel_id", email.id if email else False)
        return super().message_new(msg_dict, custom_values=values)

    def _ask_survey_on_resolution(self):
        """Just resolved: ask the customers who can be reached and were not asked."""
        self.filtered(
            lambda f: (
                not f.survey_sent_date
                and not f.survey_answered_date
                and (f.contact_id or f.partner_id).email
            )
        )._send_survey()

    def _send_survey(self):
        template = self.env.ref(SURVEY_TEMPLATE, raise_if_not_found=False)
        if not template or not self:
            return
        for feedback in self:
            feedback._portal_ensure_token()
            feedback.message_post_with_source(
                template,
                subtype_xmlid="mail.mt_comment",
                email_layout_xmlid="mail.mail_notification_light",
            )
        self.write({"survey_sent_date": fields.Datetime.now()})

    def _apply_survey_answer(self, nps_score, csat_score, comment=None):
        """Store the customer's answer and post it in the chatter as the customer.

        The row is locked first so that two concurrent posts of the same answer
        cannot both pass the "already answered" check.
        """
        self.ensure_one()
        self.flush_recordset(["survey_answered_date"])
        rows = self.env.execute_query(
            SQL(
                """SELECT survey_answered_date FROM crm_relationship_feedback
                    WHERE id = %s FOR NO KEY UPDATE""",
                self.id,
            )
        )
        if not rows or rows[0][0]:
            raise UserError(self.env._("This survey has already been answered."))
        error = self._survey_score_error(nps_score, csat_score)
        if error:
            raise ValidationError(error)
        comment = (comment or "").strip()
        self.write(
            {
                "nps_score": nps_score,
                "nps_answered": True,
                "csat_score": csat_score,
                "survey_comment": comment or False,
                "survey_answered_date": fields.Datetime.now(),
            }
        )
        body = Markup("<p>%s</p>") % self.env._(
            "Recommendation: %(nps)s / 10 - Satisfaction: %(csat)s / 5",
            nps=nps_score,
            csat=csat_score,
        )
        if comment:
            body += plaintext2html(comment)
        self.message_post(
            body=body,
            author_id=(self.contact_id or self.partner_id).id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------

    def action_send_survey(self):
        """Button: email the satisfaction survey to the customer now."""
        for feedback in self:
            if feedback.survey_answered_date:
                raise UserError(
                    self.env._(
                        "The customer already answered the survey of %(name)s.",
                        name=feedback.name,
                    )
                )
            if not (feedback.contact_id or feedback.partner_id).email:
                raise UserError(
                    self.env._(
                        "%(customer)s has no email address to send the survey to.",
                        customer=(feedback.contact_id or feedback.partner_id).name,
                    )
                )
        self._send_survey()
        return True

    @api.model
    def _cron_flag_sla_breaches(self):
        """Hourly: flag open feedback whose deadline has just passed.

        Resolved feedback gets its flag when resolved; this only catches the open
        ones that cross their deadline while nobody touches them.
        """
        late = self.search(
            [
                ("is_closed", "=", False),
                ("sla_breached", "=", False),
                ("date_deadline", "<", fields.Datetime.now()),
            ]
        )
        late.write({"sla_breached": True})
        return len(late)
