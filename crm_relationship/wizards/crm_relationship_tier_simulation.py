from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL

from ..tools import tiering


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
        # the preview only reads (invoices, locked tiers, the last
        # classification): a read replica may serve it (docs/rules.md, Runs)
        return super().onchange(values, field_names, fields_spec)

    def _check_simulated_company(self):
        """A user simulates only a company they may work in: the preview reads
        company-wide figures in SQL, and an onchange may carry any company."""
        if self.env.su:
            return
        for wizard in self:
            if wizard.company_id not in self.env.user.company_ids:
                raise AccessError(
                    self.env._(
                        "You may only simulate the tiers of a company you work in."
                    )
                )

    def _customer_facts(self):
        """What the engine's tier rule reads of each commercial partner of the
        company that has revenue moves or a locked tier, as of today (the date
        Apply classifies as of): ``(revenue, basis figure, rank by the basis
        previewed, buyers, has sales, locked tier id)``. Ranks and ``buyers``
        (N) are those of the engine's own ranking
        (``crm.relationship.facts._ranked_sales_sql``) on the engine's sales and
        profit (``_profit_sql``), without the RFM quintiles the preview does not
        show: every customer with revenue > 0 counts, a locked one included.
        Read-only SQL, so that a read replica may serve the preview.
        """
        self.ensure_one()
        self._check_simulated_company()
        company = self.company_id
        key = str(company.id)
        self.env["res.partner"].flush_model(
            [
                "commercial_partner_id",
                "relationship_tier_id",
                "relationship_tier_locked",
            ]
        )
        as_of = fields.Date.context_today(self)
        Writer = self.env["crm.relationship.writer"]
        return self.env.execute_query(
            SQL(
                """
            WITH ranked AS (%(ranked)s)
            SELECT r.revenue, r.%(basis)s,
                   -- the engine's rank, by the basis previewed
                   CASE WHEN r.revenue > 0 THEN (ROW_NUMBER() OVER (
                       PARTITION BY r.revenue > 0 ORDER BY r.%(basis)s DESC, r.pid))
                   END,
                   COUNT(*) FILTER (WHERE r.revenue > 0) OVER (), r.pid IS NOT NULL,
                   CASE WHEN %(locked)s THEN %(tier_id)s END
              FROM res_partner p
         LEFT JOIN ranked r ON r.pid = p.id
             WHERE p.id = p.commercial_partner_id
               AND (r.pid IS NOT NULL OR %(locked)s)
                """,
                ranked=self.env["crm.relationship.facts"]._profit_sql(company, as_of),
                locked=Writer._stored_sql("p", "relationship_tier_locked", key),
                tier_id=Writer._stored_sql("p", "relationship_tier_id", key),
                basis=SQL("profit" if self.tier_basis == "profit" else "revenue"),
            )
        )

    @api.depends("company_id")
    def _compute_customer_count(self):
        """N, the number of buyers the engine ranks (a locked one included)."""
        for wizard in self:
            wizard._check_simulated_company()
            sales = self.env["crm.relationship.facts"]._sales_sql(
                wizard.company_id, fields.Date.context_today(self)
            )
            rows = self.env.execute_query(
                SQL("SELECT COUNT(*) FROM (%s) s WHERE s.revenue > 0", sales)
            )
            wizard.customer_count = rows[0][0] or 0

    def _simulate(self):
        """``{tier id: (customers, revenue)}`` that Apply's classification will
        write with the thresholds being edited, the customers ranked by the
        wizard's basis: the engine's tier rule
        (``crm.relationship.rules._classify``) on the engine's facts. A locked
        tier keeps the tier a person set (its customer still counts among the
        N buyers and in the ranks); revenue <= 0 with sales is inactive, not a
        revenue tier; else the tier ``_tier_by_basis`` gives with the rules of
        ``tiering.tier_rules`` built for N buyers.
        """
        self.ensure_one()
        revenue_rules = [
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
        # a locked tier counts when it is one of the company's, archived or not
        company_tiers = set(
            self.env["crm.relationship.tier"]
            .sudo()
            .with_context(active_test=False)
            .search([("company_id", "=", self.company_id.id)])
            .ids
        )
        rules_by_population = {}
        result = {}
        Rules = self.env["crm.relationship.rules"]
        for (
            revenue,
            value,
            rank,
            buyers,
            has_sales,
            locked_tier_id,
        ) in self._customer_facts():
            revenue = revenue or 0.0
            if locked_tier_id in company_tiers:
                tier_id = locked_tier_id
            elif has_sales and revenue > 0:
                if buyers not in rules_by_population:
                    rules_by_population[buyers] = tiering.tier_rules(
                        revenue_rules, buyers
                    )
                tier_id = Rules._tier_by_basis(
                    rules_by_population[buyers], self.tier_basis, revenue, value, rank
                )
            else:
                continue  # inactive, potential or no tier: no revenue tier
            count, amount = result.get(tier_id, (0, 0.0))
            result[tier_id] = (count + 1, amount + revenue)
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
            simulation._check_simulated_company()
            key = str(simulation.company_id.id)
            Writer = self.env["crm.relationship.writer"]
            rows = self.env.execute_query(
                SQL(
                    """SELECT %(tier_id)s, COUNT(*), SUM(COALESCE(%(revenue)s, 0))
                         FROM res_partner
                        WHERE id = commercial_partner_id
                          AND relationship_tier_id ? %(key)s
                     GROUP BY 1""",
                    tier_id=Writer._stored_sql(
                        "res_partner", "relationship_tier_id", key
                    ),
                    revenue=Writer._stored_sql("res_partner", "period_revenue", key),
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
