from odoo import fields, models


class CrmRelationshipProgramStage(models.Model):
    _name = "crm.relationship.program.stage"
    _description = "Relationship program stage"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    is_converted = fields.Boolean(
        "Converted stage",
        help="Members reaching this stage count as converted: the program reached "
        "its goal with them.",
    )
    is_dropped = fields.Boolean(
        "Dropped stage",
        help="Members leave the program here, for instance when the relationship ends.",
    )
    fold = fields.Boolean("Folded in pipeline")
    active = fields.Boolean(default=True)
