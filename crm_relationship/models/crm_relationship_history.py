from odoo import fields, models

from .crm_relationship_tier import RELATIONSHIP_LEVELS
from .res_partner import HEALTH_BANDS, RELATIONSHIP_STATUSES


class CrmRelationshipHistory(models.Model):
    """What changed in a customer's relationship, per company and date.

    Written only by the classification (``crm.relationship.classification.
    _write_history``), in bulk, for the days on which the tier, status, level
    or health band of a commercial partner changed; the first classification
    writes one row per customer. Nobody edits it: users read it, by its date
    (no log access columns: the first run copies one row per customer).
    """

    _name = "crm.relationship.history"
    _description = "Customer relationship history"
    _order = "date desc, id desc"
    _rec_name = "partner_id"
    _log_access = False

    partner_id = fields.Many2one(
        "res.partner", "Customer", required=True, index=True, ondelete="cascade"
    )
    # indexed first in (company_id, partner_id, date), see init()
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade")
    date = fields.Date(required=True, index=True)
    tier_id = fields.Many2one("crm.relationship.tier", "Tier", ondelete="set null")
    previous_tier_id = fields.Many2one(
        "crm.relationship.tier", "Previous tier", ondelete="set null"
    )
    relationship_status = fields.Selection(RELATIONSHIP_STATUSES, "Status")
    previous_status = fields.Selection(RELATIONSHIP_STATUSES, "Previous status")
    relationship_level = fields.Selection(RELATIONSHIP_LEVELS, "Level")
    previous_level = fields.Selection(RELATIONSHIP_LEVELS, "Previous level")
    health_score = fields.Integer(aggregator="avg")
    health_band = fields.Selection(HEALTH_BANDS)
    previous_health_band = fields.Selection(HEALTH_BANDS, "Previous health band")
    tier_changed = fields.Boolean(
        "Tier moved", help="The tier differs from the one before this row."
    )

    def init(self):
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS crm_relationship_history_partner_date_idx
                   ON crm_relationship_history (company_id, partner_id, date)"""
        )
