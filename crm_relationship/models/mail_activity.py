from odoo import fields, models

# activity type category: interaction channel type
CATEGORY_CHANNEL_TYPES = {"phonecall": "phone", "meeting": "meeting"}


class MailActivity(models.Model):
    _inherit = "mail.activity"

    def _action_done(self, feedback=False, attachment_ids=None):
        """Log an interaction for each customer care activity marked as done."""
        care_type = self.env.ref(
            "crm_relationship.mail_activity_type_customer_care",
            raise_if_not_found=False,
        )
        care_activities = self.filtered(
            lambda a: a.res_model == "res.partner" and a.activity_type_id == care_type
        )
        if care_type and care_activities:
            care_activities._log_care_interactions(feedback)
        return super()._action_done(feedback=feedback, attachment_ids=attachment_ids)

    def _log_care_interactions(self, feedback):
        """One interaction per activity, created in one batch by the doer's name.

        Created as superuser: whoever may complete the activity may log its
        outcome, even without the Relationship User group.
        """
        Channel = self.env["crm.relationship.channel"]
        channels = {}
        today = fields.Date.context_today(self)
        vals_list = []
        for activity in self:
            channel_type = CATEGORY_CHANNEL_TYPES.get(
                activity.activity_type_id.category, "other"
            )
            if channel_type not in channels:
                channels[channel_type] = Channel._get_by_type(channel_type)
            channel = channels[channel_type]
            if not channel:
                continue
            vals_list.append(
                {
                    "partner_id": activity.res_id,
                    "date": today,
                    "channel_id": channel.id,
                    "direction": "outbound",
                    "user_id": self.env.user.id,
                    "company_id": self.env.company.id,
                    "summary": activity.summary or activity.activity_type_id.name,
                    "notes": feedback or activity.note,
                }
            )
        return (
            self.env["crm.relationship.interaction"]
            .sudo()
            .with_context(mail_create_nolog=True)
            .create(vals_list)
        )
