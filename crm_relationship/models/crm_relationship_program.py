from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.safe_eval import datetime, safe_eval, time

from ..tools import kpi as kpi_rules
from .crm_relationship_facts import REVENUE_FIELDS, revenue_move_sql

TARGET_FIELDS = ("target_tier_ids", "target_domain")


class CrmRelationshipProgram(models.Model):
    _name = "crm.relationship.program"
    _description = "Relationship program"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_start desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    objective = fields.Selection(
        [
            ("acquisition", "Acquisition"),
            ("retention", "Retention"),
            ("development", "Development"),
            ("win_back", "Win back"),
        ],
        required=True,
        default="retention",
        tracking=True,
        help="Acquisition: attract prospects; retention: keep current customers; "
        "development: grow what they buy; win back: bring lost customers back.",
    )
    description = fields.Html()
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda s: s.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    team_id = fields.Many2one("crm.team", "Sales team", check_company=True)
    user_id = fields.Many2one(
        "res.users",
        "Responsible",
        default=lambda s: s.env.user,
        domain="[('share', '=', False)]",
        tracking=True,
        index=True,
    )
    date_start = fields.Date(
        "Start date",
        required=True,
        default=fields.Date.context_today,
        tracking=True,
    )
    date_end = fields.Date("End date", tracking=True)
    budget = fields.Monetary(
        currency_field="currency_id",
        tracking=True,
        help="Cost of the program in company currency; the base of the ROI.",
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("running", "Running"),
            ("done", "Done"),
            ("cancelled", "Cancelled"),
        ],
        required=True,
        default="draft",
        tracking=True,
        copy=False,
        group_expand=True,
    )
    color = fields.Integer()
    target_tier_ids = fields.Many2many(
        "crm.relationship.tier",
        string="Target tiers",
        check_company=True,
        help="Customers of these tiers are enrolled by Add target customers. "
        "Leave empty to target every customer matching the filter.",
    )
    target_domain = fields.Char(
        "Target filter",
        default="[]",
        help="Customers must also match this filter to be enrolled.",
    )
    activity_plan_id = fields.Many2one(
        "mail.activity.plan",
        "Activity plan",
        domain="[('res_model', '=', 'res.partner'), "
        "('company_id', 'in', [False, company_id])]",
        help="Activities planned on the customer of every new member, assigned to "
        "the member's owner.",
    )
    member_ids = fields.One2many(
        "crm.relationship.program.member", "program_id", "Program members"
    )
    interaction_count = fields.Integer(compute="_compute_interaction_count")
    member_count = fields.Integer(
        "Members", compute="_compute_member_results", store=True
    )
    converted_count = fields.Integer(
        "Converted", compute="_compute_member_results", store=True
    )
    conversion_rate = fields.Float(
        "Conversion rate (%)",
        compute="_compute_member_results",
        store=True,
        aggregator="avg",
        help="Converted members over all members, in percent.",
    )
    revenue = fields.Monetary(
        "Revenue since enrollment",
        currency_field="currency_id",
        readonly=True,
        copy=False,
        help="Untaxed revenue of the members' posted invoices minus credit notes, "
        "dated from their enrollment (not before the start date) up to the end "
        "date. Refreshed every night and by Refresh results.",
    )
    roi = fields.Float(
        "ROI (%)",
        compute="_compute_roi",
        store=True,
        aggregator="avg",
        help="(Revenue x margin rate - budget) / budget, in percent.",
    )
    roi_available = fields.Boolean(
        "ROI available",
        compute="_compute_roi",
        store=True,
        help="The ROI needs a budget.",
    )
    results_date = fields.Date("Results as of", readonly=True, copy=False)

    @api.depends("member_ids.stage_id", "member_ids.stage_id.is_converted")
    def _compute_member_results(self):
        rows = self.env["crm.relationship.program.member"]._read_group(
            [("program_id", "in", self.ids)],
            ["program_id", "stage_id"],
            ["__count"],
        )
        totals = {}
        converted = {}
        for program, stage, count in rows:
            totals[program.id] = totals.get(program.id, 0) + count
            if stage.is_converted:
                converted[program.id] = converted.get(program.id, 0) + count
        for program in self:
            total = totals.get(program.id, 0)
            program.member_count = total
            program.converted_count = converted.get(program.id, 0)
            program.conversion_rate = (
                100.0 * program.converted_count / total if total else 0.0
            )

    @api.depends("revenue", "budget", "company_id.relationship_margin_rate")
    def _compute_roi(self):
        for program in self:
            roi = kpi_rules.roi(
                program.revenue,
                program.company_id.relationship_margin_rate / 100,
                program.budget,
            )
            program.roi_available = roi is not None
            program.roi = roi or 0.0

    @api.constrains("date_start", "date_end")
    def _check_dates(self):
        for program in self:
            if program.date_end and program.date_end < program.date_start:
                raise ValidationError(
                    self.env._(
                        "The program %(name)s cannot end before it starts.",
                        name=program.name,
                    )
                )

    @api.constrains("budget")
    def _check_budget(self):
        for program in self:
            if program.budget < 0:
                raise ValidationError(
                    self.env._(
                        "The budget of the program %(name)s cannot be negative.",
                        name=program.name,
                    )
                )

    @api.constrains("target_domain")
    def _check_target_domain(self):
        for program in self:
            program._get_target_partner_domain()

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    def write(self, vals):
        if any(fname in vals for fname in TARGET_FIELDS):
            closed = self.filtered(lambda p: p.state in ("done", "cancelled"))
            if closed:
                raise UserError(
                    self.env._(
                        "The targets of %(names)s cannot change: the program is done "
                        "or cancelled. Set it back to draft first.",
                        names=", ".join(closed.mapped("name")),
                    )
                )
        return super().write(vals)

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------

    def action_start(self):
        self.filtered(lambda p: p.state == "draft").write({"state": "running"})
        return True

    def action_done(self):
        running = self.filtered(lambda p: p.state == "running")
        running._recompute_results()
        running.write({"state": "done"})
        return True

    def action_cancel(self):
        self.filtered(lambda p: p.state in ("draft", "running")).write(
            {"state": "cancelled"}
        )
        return True

    def action_draft(self):
        self.filtered(lambda p: p.state in ("done", "cancelled")).write(
            {"state": "draft"}
        )
        return True

    def action_refresh_results(self):
        """Button: refresh the results now; for the responsible or a manager."""
        self.check_access("write")
        self.sudo()._recompute_results()
        return True

    def action_add_target_customers(self):
        """Enroll every customer matching the target tiers and filter.

        Existing members, archived customers and ended relationships are
        skipped, so pressing the button twice enrolls nobody the second time.
        """
        self.ensure_one()
        self.check_access("write")
        self._check_accepts_members()
        partners = self._get_target_partners()
        members = self._enroll(partners)
        return self._notify_enrolled(len(members))

    def _compute_interaction_count(self):
        counts = dict(
            self.env["crm.relationship.interaction"]._read_group(
                [("program_id", "in", self.ids)], ["program_id"], ["__count"]
            )
        )
        for program in self:
            program.interaction_count = counts.get(program, 0)

    @api.readonly
    def action_view_interactions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_relationship.crm_relationship_interaction_action"
        )
        action["domain"] = [("program_id", "=", self.id)]
        action["context"] = {"default_program_id": self.id}
        return action

    @api.readonly
    def action_view_members(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_relationship.crm_relationship_program_member_action"
        )
        action["domain"] = [("program_id", "=", self.id)]
        action["context"] = {
            "default_program_id": self.id,
            "search_default_group_stage": 1,
        }
        action["display_name"] = self.display_name
        return action

    @api.readonly
    def action_view_converted(self):
        action = self.action_view_members()
        action["domain"] = [("program_id", "=", self.id), ("is_converted", "=", True)]
        action["view_mode"] = "list,kanban,pivot,form"
        action["views"] = [
            (False, "list"),
            (False, "kanban"),
            (False, "pivot"),
            (False, "form"),
        ]
        return action

    # ------------------------------------------------------------------
    # ENROLLMENT
    # ------------------------------------------------------------------

    def _check_accepts_members(self):
        closed = self.filtered(lambda p: p.state not in ("draft", "running"))
        if closed:
            raise UserError(
                self.env._(
                    "Only draft or running programs accept members: %(names)s is "
                    "done or cancelled.",
                    names=", ".join(closed.mapped("name")),
                )
            )

    def _target_eval_context(self):
        return {
            "uid": self.env.uid,
            "user": self.env.user,
            "time": time,
            "datetime": datetime,
            "relativedelta": relativedelta,
            "context_today": lambda: fields.Date.context_today(self),
            "company_id": self.company_id.id,
        }

    def _get_target_partner_domain(self):
        """Domain of the customers this program targets, in its company.

        A customer is a commercial partner with a customer role or a tier;
        ValidationError when the target filter is not a valid domain.
        """
        self.ensure_one()
        Partner = self.env["res.partner"].with_company(self.company_id)
        try:
            custom = safe_eval(self.target_domain or "[]", self._target_eval_context())
            custom = expression.normalize_domain(custom)
            Partner._where_calc(custom)
        except Exception as error:
            raise ValidationError(
                self.env._(
                    "The target filter of %(name)s is not a valid filter on "
                    "customers: %(error)s",
                    name=self.name,
                    error=error,
                )
            ) from error
        domain = [
            "|",
            ("is_company", "=", True),
            ("parent_id", "=", False),
            ("company_id", "in", [False, self.company_id.id]),
            "|",
            ("customer_rank", ">", 0),
            ("relationship_tier_id", "!=", False),
            ("relationship_end_date", "=", False),
        ]
        if self.target_tier_ids:
            domain.append(("relationship_tier_id", "in", self.target_tier_ids.ids))
        return expression.AND([domain, custom])

    def _get_target_partners(self):
        self.ensure_one()
        Partner = self.env["res.partner"].with_company(self.company_id)
        # is_company or no parent: exactly the commercial partners
        return Partner.search(self._get_target_partner_domain())

    def _enroll(self, partners):
        """Create the missing memberships of ``partners``; return the new members."""
        self.ensure_one()
        self._check_accepts_members()
        existing = set(
            self.env["crm.relationship.program.member"]
            .with_context(active_test=False)
            .search([("program_id", "=", self.id)])
            .partner_id.ids
        )
        # no creation message nor follower per member: enrollment comes in bulk
        Member = self.env["crm.relationship.program.member"].with_context(
            mail_create_nolog=True, mail_create_nosubscribe=True
        )
        return Member.create(
            [
                {"program_id": self.id, "partner_id": partner.id}
                for partner in partners
                if partner.id not in existing
            ]
        )

    def _notify_enrolled(self, count):
        if count:
            message = self.env._(
                "%(count)s customers enrolled in %(name)s.", count=count, name=self.name
            )
        else:
            message = self.env._(
                "No new customer to enroll in %(name)s.", name=self.name
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Enrollment"),
                "message": message,
                "type": "success" if count else "info",
                "sticky": False,
                "next": {"type": "ir.actions.act_window_close"}
                if self.env.context.get("from_wizard")
                else {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # ------------------------------------------------------------------
    # RESULTS
    # ------------------------------------------------------------------

    @api.model
    def _cron_recompute_results(self):
        self.browse()._recompute_results()

    def _recompute_results(self, as_of=None):
        """Refresh revenue since enrollment, conversions and ROI.

        Works on ``self``, or every running program when empty. One query
        computes the revenue of every member: posted customer invoices and
        credit notes of the member's commercial partner in the program's
        company, dated from max(enrollment, program start) to min(program end,
        ``as_of``). A member of a running program who buys for the first time
        since enrollment is moved to the converted stage; a member moved by
        hand is not moved again.
        """
        as_of = fields.Date.to_date(as_of) or fields.Date.context_today(self)
        programs = self or self.search([("state", "=", "running")])
        if not programs:
            return True
        Member = self.env["crm.relationship.program.member"].sudo()
        Member.flush_model()
        programs.flush_recordset()
        self.env["account.move"].flush_model(REVENUE_FIELDS)
        rows = self.env.execute_query(
            SQL(
                """
            SELECT mem.id, mem.program_id, mem.revenue,
                   COALESCE(SUM(m.amount_untaxed_signed), 0),
                   MIN(m.invoice_date) FILTER (WHERE m.move_type = 'out_invoice')
              FROM crm_relationship_program_member mem
              JOIN crm_relationship_program p ON p.id = mem.program_id
         LEFT JOIN account_move m
                ON m.commercial_partner_id = mem.partner_id
               AND m.company_id = p.company_id
               AND %(revenue_move)s
               AND m.invoice_date >= GREATEST(mem.date_enrolled, p.date_start)
               AND m.invoice_date <= LEAST(p.date_end, %(as_of)s)
             WHERE mem.program_id = ANY(%(ids)s)
          GROUP BY mem.id, mem.program_id, mem.revenue
            """,
                revenue_move=revenue_move_sql("m"),
                as_of=as_of,
                ids=programs.ids,
            )
        )
        program_revenue = dict.fromkeys(programs.ids, 0.0)
        changed = {}
        first_sales = {}
        for member_id, program_id, old, new, first_sale in rows:
            new = round(float(new), 2)
            program_revenue[program_id] += new
            if round(float(old or 0), 2) != new:
                changed[member_id] = new
                if not old and new > 0 and first_sale:
                    first_sales[member_id] = first_sale
        if changed:
            self.env.execute_query(
                SQL(
                    """UPDATE crm_relationship_program_member mem
                          SET revenue = v.revenue
                         FROM (VALUES %s) AS v(id, revenue)
                        WHERE mem.id = v.id""",
                    SQL(", ").join(
                        SQL("(%s, %s::numeric)", mid, rev)
                        for mid, rev in changed.items()
                    ),
                )
            )
            Member.browse(list(changed)).invalidate_recordset(["revenue"])
        self._convert_first_buyers(programs, first_sales)
        for program in programs:
            vals = {"results_date": as_of}
            if program.currency_id.compare_amounts(
                program.revenue, program_revenue[program.id]
            ):
                vals["revenue"] = program_revenue[program.id]
            program.sudo().write(vals)
        return True

    def _convert_first_buyers(self, programs, first_sales):
        """Move to the converted stage the members of running programs whose
        first purchase since enrollment just appeared."""
        if not first_sales:
            return
        converted_stage = self.env["crm.relationship.program.stage"].search(
            [("is_converted", "=", True)], limit=1
        )
        if not converted_stage:
            return
        members = (
            self.env["crm.relationship.program.member"]
            .sudo()
            .browse(list(first_sales))
            .filtered(
                lambda m: (
                    m.program_id.state == "running"
                    and not m.date_converted
                    and not m.stage_id.is_converted
                    and not m.stage_id.is_dropped
                )
            )
        )
        by_date = {}
        for member in members:
            by_date.setdefault(first_sales[member.id], []).append(member.id)
        Member = self.env["crm.relationship.program.member"].sudo()
        for date, ids in by_date.items():
            Member.browse(ids).write(
                {"stage_id": converted_stage.id, "date_converted": date}
            )
