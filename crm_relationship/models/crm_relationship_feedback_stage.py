from odoo import fields, models


class CrmRelationshipFeedbackStage(models.Model):
    _name = "crm.relationship.feedback.stage"
    _description = "Feedback Stage"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    is_closed = fields.Boolean(
        "Closed stage",
        help="Feedback in this stage is handled: it gets its resolved date, counts "
        "as resolved for the service standard and asks the customer for a rating.",
    )
    fold = fields.Boolean(
        "Folded in kanban", help="Fold this column in the kanban view when empty."
    )
    description = fields.Text(translate=True)
    feedback_count = fields.Integer(compute="_compute_feedback_count")

    def _compute_feedback_count(self):
        counts = dict(
            self.env["crm.relationship.feedback"]._read_group(
                [("stage_id", "in", self.ids)], ["stage_id"], ["__count"]
            )
        )
        for stage in self:
            stage.feedback_count = counts.get(stage, 0)
