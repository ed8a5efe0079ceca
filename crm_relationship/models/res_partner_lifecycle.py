from markupsafe import Markup

from odoo import fields, models

from .res_partner import END_FIELDS, RELATIONSHIP_END_REASONS


class ResPartner(models.Model):
    """The relationship life cycle: program memberships, ending a relationship
    (with its reason) and resuming it."""

    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    relationship_end_date = fields.Date(
        "Relationship ended on", company_dependent=True, copy=False, readonly=True
    )
    relationship_end_reason = fields.Selection(
        RELATIONSHIP_END_REASONS,
        "Why the relationship ended",
        company_dependent=True,
        copy=False,
        readonly=True,
    )

    relationship_program_member_ids = fields.One2many(
        "crm.relationship.program.member", "partner_id", "Program memberships"
    )

    def action_end_relationship(self):
        """Button: open the wizard that ends the relationship of the customers."""
        self._check_relationship_manager()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_relationship.res_partner_relationship_end_action"
        )
        action["context"] = {
            "active_model": "res.partner",
            "active_ids": self.commercial_partner_id.ids,
        }
        return action

    def action_reactivate_relationship(self):
        """Button: resume an ended relationship in the current company."""
        self._check_relationship_manager()
        partners = self.commercial_partner_id.filtered("relationship_end_date")
        if not partners:
            return True
        partners.sudo().write(
            {"relationship_end_date": False, "relationship_end_reason": False}
        )
        self.env["res.partner"].flush_model(END_FIELDS)
        partners.sudo()._recompute_relationship(company_ids=self.env.company.ids)
        body = self.env._(
            "Relationship resumed in %(company)s.", company=self.env.company.name
        )
        for partner in partners:
            partner.sudo().message_post(body=body)
        return True

    def _end_relationship(self, reason, note=False, date=None):
        """End the relationship of the commercial partners of ``self`` in the
        current company: status lost, care activities closed, members of open
        programs dropped, a trace in the chatter."""
        self._check_relationship_manager()
        company = self.env.company
        partners = self.commercial_partner_id
        date = date or fields.Date.context_today(self)
        partners.sudo().write(
            {"relationship_end_date": date, "relationship_end_reason": reason}
        )
        # the classification reads the end date in SQL
        self.env["res.partner"].flush_model(END_FIELDS)
        partners.sudo()._recompute_relationship(company_ids=company.ids)
        partners._close_care_activities()
        members = (
            self.env["crm.relationship.program.member"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", partners.ids),
                    ("company_id", "=", company.id),
                    ("program_id.state", "in", ("draft", "running")),
                    ("is_dropped", "=", False),
                ]
            )
        )
        dropped_stage = self.env["crm.relationship.program.stage"].search(
            [("is_dropped", "=", True)], limit=1
        )
        if members and dropped_stage:
            members.write({"stage_id": dropped_stage.id})
        reason_label = dict(
            self._fields["relationship_end_reason"]._description_selection(self.env)
        )[reason]
        body = Markup("%s") % self.env._(
            "Relationship ended in %(company)s: %(reason)s.",
            company=company.name,
            reason=reason_label,
        )
        if note:
            body += Markup("<br/>%s") % note
        for partner in partners:
            partner.sudo().message_post(body=body)
        return True

    def _close_care_activities(self):
        """Mark done the open care activities of the customers and contacts."""
        care_type = self.env.ref(
            "crm_relationship.mail_activity_type_customer_care",
            raise_if_not_found=False,
        )
        if not care_type:
            return
        activities = (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "res.partner"),
                    ("res_id", "in", (self | self.child_ids).ids),
                    ("activity_type_id", "=", care_type.id),
                ]
            )
        )
        if activities:
            activities.action_feedback(
                feedback=self.env._("Closed: the relationship has ended.")
            )
