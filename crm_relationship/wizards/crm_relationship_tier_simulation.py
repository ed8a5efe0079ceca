from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..tools import profit, tiering


class CrmRelationshipTierSimulation(models.TransientModel):
    _name = "crm.relationship.tier.simulation"
    _description = "Tier Threshold Simulation"

    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    line_ids = fields.One2many("crm.relationship.tier.simulation.line", "simulation_id")
    customer_count = fields.Integer(
        "Customers with revenue", compute="_compute_customer_count"
    )
    tier_basis = fields.Selection(
        [("revenue", "Revenue"), ("profit", "Profit")],
        "Rank by",
        required=True,
        default=lambda self: self.env.company.relationship_tier_basis,
        help="Preview the thresholds on the revenue or on the profit of the last "
        "classification; applying keeps the company's setting.",
    )

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        res["company_id"] = self.env.company.id
        tiers = self.env["crm.relationship.tier"].search(
            [("company_id", "=", self.env.company.id), ("tier_type", "=", "revenue")]
        )
        res["line_ids"] = [
            fields.Command.create(
                {
                    "tier_id": tier.id,
                    "sequence": tier.sequence,
                    "threshold_type": tier.threshold_type,
                    "min_amount": tier.min_amount,
                    "top_percent": tier.top_percent,
                }
            )
            for tier in tiers
        ]
        return res

    @api.model_create_multi
    def create(self, vals_list):
        # the current company, never one sent by the client: env.company is
        # always one of the user's allowed companies
        for vals in vals_list:
            vals["company_id"] = self.env.company.id
        return super().create(vals_list)

    def write(self, vals):
        if "company_id" in vals and any(
            wizard.company_id.id != vals["company_id"] for wizard in self
        ):
            raise ValidationError(
                self.env._("A simulation stays in the company it was started in.")
            )
        return super().write(vals)

    @api.readonly
    def onchange(self, values, field_names, fields_spec):
        # the preview only reads the last classification: a read replica may
        # serve it (DESIGN.md "Scale")
        return super().onchange(values, field_names, fields_spec)

    def _current_revenues(self):
        """``{partner: revenue}`` of the company's customers with revenue > 0 and
        no locked tier, from the last classification."""
        self.env["res.partner"].flush_model()
        key = str(self.company_id.id)
        rows = self.env.execute_query(
            SQL(
                """SELECT id, (period_revenue->>%(key)s)::float FROM res_partner
                    WHERE id = commercial_partner_id
                      AND (period_revenue->>%(key)s)::float > 0
                      AND NOT COALESCE((relationship_tier_locked->>%(key)s)::boolean,
                                       false)""",
                key=key,
            )
        )
        return dict(rows)

    @api.depends("company_id")
    def _compute_customer_count(self):
        for wizard in self:
            wizard.customer_count = len(wizard._current_revenues())

    def _current_profits(self, partner_ids):
        """``{partner: profit}`` of ``partner_ids`` from the last classification."""
        rows = self.env.execute_query(
            SQL(
                """SELECT id, COALESCE((period_profit->>%(key)s)::float, 0)
                     FROM res_partner WHERE id = ANY(%(ids)s)""",
                key=str(self.company_id.id),
                ids=list(partner_ids),
            )
        )
        return dict(rows)

    def _simulate(self):
        """``{tier: (customers, revenue)}`` for the thresholds being edited, the
        customers ranked by the wizard's basis."""
        self.ensure_one()
        revenues = self._current_revenues()
        rules = [
            tiering.RevenueTier(
                key=line.tier_id.id,
                threshold_type=line.threshold_type,
                min_amount=line.min_amount,
                top_percent=line.top_percent,
            )
            for line in self.line_ids.sorted(
                lambda line: (line.sequence, line.tier_id.id)
            )
        ]
        result = {}
        if self.tier_basis == "profit":
            assigned = profit.assign_profit_tiers(
                self._current_profits(revenues), rules
            )
        else:
            assigned = tiering.assign_revenue_tiers(revenues, rules)
        for pid, tier_id in assigned.items():
            count, amount = result.get(tier_id, (0, 0.0))
            result[tier_id] = (count + 1, amount + revenues[pid])
        return result

    def action_apply(self):
        """Write the simulated thresholds on the tiers and reclassify the company."""
        self.env["res.partner"]._check_relationship_manager()
        # the order is checked once all thresholds are set: one at a time may
        # pass through an order where a tier is unreachable
        for line in self.line_ids.with_context(crm_relationship_defer_tier_check=True):
            line.tier_id.write(
                {
                    "sequence": line.sequence,
                    "threshold_type": line.threshold_type,
                    "min_amount": line.min_amount,
                    "top_percent": line.top_percent,
                }
            )
        self.line_ids.tier_id._check_revenue_tier_order()
        self.env["res.partner"].sudo()._recompute_relationship(
            company_ids=self.company_id.ids
        )
        return {"type": "ir.actions.act_window_close"}


class CrmRelationshipTierSimulationLine(models.TransientModel):
    _name = "crm.relationship.tier.simulation.line"
    _description = "Tier Threshold Simulation Line"
    _order = "sequence, id"

    simulation_id = fields.Many2one(
        "crm.relationship.tier.simulation", required=True, ondelete="cascade"
    )
    currency_id = fields.Many2one(related="simulation_id.currency_id")
    tier_id = fields.Many2one("crm.relationship.tier", required=True)
    sequence = fields.Integer()
    threshold_type = fields.Selection(
        [("amount", "Minimum revenue"), ("top_percent", "Top percent of customers")],
        required=True,
    )
    min_amount = fields.Monetary("Minimum revenue", currency_field="currency_id")
    top_percent = fields.Float("Top %")
    current_count = fields.Integer("Customers now", compute="_compute_current")
    current_revenue = fields.Monetary(
        "Revenue now", currency_field="currency_id", compute="_compute_current"
    )
    simulated_count = fields.Integer("Customers after", compute="_compute_simulated")
    simulated_revenue = fields.Monetary(
        "Revenue after", currency_field="currency_id", compute="_compute_simulated"
    )

    @api.constrains("tier_id", "simulation_id")
    def _check_tier_company(self):
        for line in self.sudo():
            if line.tier_id.company_id != line.simulation_id.company_id:
                raise ValidationError(
                    self.env._(
                        "Tier %(tier)s belongs to %(company)s, not to %(simulated)s "
                        "whose thresholds are simulated.",
                        tier=line.tier_id.display_name,
                        company=line.tier_id.company_id.display_name,
                        simulated=line.simulation_id.company_id.display_name,
                    )
                )

    @api.depends("tier_id")
    def _compute_current(self):
        for simulation in self.simulation_id:
            key = str(simulation.company_id.id)
            rows = self.env.execute_query(
                SQL(
                    """SELECT (relationship_tier_id->>%(key)s)::int, COUNT(*),
                              SUM(COALESCE((period_revenue->>%(key)s)::float, 0))
                         FROM res_partner
                        WHERE id = commercial_partner_id
                          AND relationship_tier_id ? %(key)s
                     GROUP BY 1""",
                    key=key,
                )
            )
            current = {tier_id: (count, amount) for tier_id, count, amount in rows}
            for line in self.filtered(lambda ln, s=simulation: ln.simulation_id == s):
                line.current_count, line.current_revenue = current.get(
                    line.tier_id.id, (0, 0.0)
                )

    @api.depends(
        "simulation_id.line_ids.sequence",
        "simulation_id.line_ids.threshold_type",
        "simulation_id.line_ids.min_amount",
        "simulation_id.line_ids.top_percent",
        "simulation_id.tier_basis",
    )
    def _compute_simulated(self):
        for simulation in self.simulation_id:
            simulated = simulation._simulate()
            for line in self.filtered(lambda ln, s=simulation: ln.simulation_id == s):
                line.simulated_count, line.simulated_revenue = simulated.get(
                    line.tier_id.id, (0, 0.0)
                )
