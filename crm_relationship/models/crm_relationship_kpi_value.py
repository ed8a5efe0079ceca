from odoo import api, fields, models
from odoo.tools.sql import create_index

from ..tools import kpi as kpi_rules


class CrmRelationshipKpiValue(models.Model):
    _name = "crm.relationship.kpi.value"
    _description = "Relationship KPI value"
    _order = "date desc, kpi_sequence, kpi_id, breakdown, id"
    _check_company_auto = True

    kpi_id = fields.Many2one(
        "crm.relationship.kpi", "KPI", required=True, ondelete="cascade", index=True
    )
    code = fields.Char(related="kpi_id.code", store=True)
    kpi_sequence = fields.Integer(related="kpi_id.sequence", store=True)
    unit = fields.Selection(related="kpi_id.unit")
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    date = fields.Date(
        "Snapshot date", required=True, help="Last day of the measured window."
    )
    date_from = fields.Date("Window start", required=True)
    date_to = fields.Date("Window end", required=True)
    value = fields.Float(aggregator="avg", required=True)
    target = fields.Float(
        aggregator="avg", help="The company's target on the snapshot date."
    )
    on_target = fields.Boolean(compute="_compute_on_target", store=True)
    breakdown = fields.Selection(
        [("total", "Company"), ("tier", "Tier"), ("team", "Sales team")],
        required=True,
        default="total",
        help="Company: the whole company; Tier or Sales team: only its customers.",
    )
    tier_id = fields.Many2one("crm.relationship.tier", "Tier", check_company=True)
    team_id = fields.Many2one("crm.team", "Sales team", check_company=True)

    def init(self):
        create_index(
            self.env.cr,
            "crm_relationship_kpi_value_kpi_company_date_idx",
            self._table,
            ["kpi_id", "company_id", "date"],
        )
        create_index(
            self.env.cr,
            "crm_relationship_kpi_value_company_date_idx",
            self._table,
            ["company_id", "date"],
        )

    @api.depends("value", "target", "kpi_id.higher_is_better")
    def _compute_on_target(self):
        for record in self:
            record.on_target = bool(
                kpi_rules.on_target(
                    record.value, record.target, record.kpi_id.higher_is_better
                )
            )

    @api.depends("kpi_id", "date", "tier_id", "team_id")
    def _compute_display_name(self):
        for record in self:
            parts = [record.kpi_id.name or "", fields.Date.to_string(record.date) or ""]
            if record.tier_id or record.team_id:
                parts.append((record.tier_id or record.team_id).display_name)
            record.display_name = " · ".join(part for part in parts if part)
