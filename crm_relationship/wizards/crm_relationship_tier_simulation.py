from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL

from ..tools import tiering

GROUPS_MEMO = "crm_relationship_tier_simulation_groups"


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
    run_date = fields.Datetime(related="company_id.relationship_run_date")
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
        # the preview only reads (the last classification, locked tiers): a
        # read replica may serve it (docs/rules.md, Runs). Both snapshots of
        # an onchange preview the same customers: count and group them once.
        self.env.cr.cache[GROUPS_MEMO] = {}
        try:
            return super().onchange(values, field_names, fields_spec)
        finally:
            del self.env.cr.cache[GROUPS_MEMO]

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

    def _stored_sql(self, fname):
        return self.env["crm.relationship.writer"]._stored_sql(
            "p", fname, str(self.company_id.id)
        )

    def _flush_stored(self):
        self.env["res.partner"].flush_model(
            [
                "commercial_partner_id",
                "period_revenue",
                "period_profit",
                "relationship_tier_id",
                "relationship_tier_locked",
            ]
        )

    def _memoized(self, key, compute):
        """``compute()``, once per onchange (``GROUPS_MEMO``) for ``key``."""
        memo = self.env.cr.cache.get(GROUPS_MEMO, {})
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    def _buyers(self):
        """N: the customers of the company whose stored revenue is > 0."""
        self.ensure_one()
        self._check_simulated_company()
        self._flush_stored()
        return self._memoized(
            ("buyers", self.company_id.id),
            lambda: self.env.execute_query(
                SQL(
                    """SELECT COUNT(*) FROM res_partner p
                        WHERE p.id = p.commercial_partner_id AND %s > 0""",
                    self._stored_sql("period_revenue"),
                )
            )[0][0],
        )

    def _customer_groups(self, rules):
        """The customers the preview places, from what the last classification
        stored (docs/rules.md, Tiers): those with revenue > 0, ranked by the
        basis previewed as the engine ranks them (descending, ties by partner
        id, a locked one included), and those with a
        locked tier. Grouped so that all the customers of a group reach the
        same thresholds of ``rules`` (``tiering.tier_rules``): the same rank
        limits and minimums, and the same locked tier. Rows ``(a rank, a basis
        figure of the group, locked tier id, customers, revenue)``; one scan
        of the company's index of the stored revenue (res_partner_index), no
        invoice read, so that the preview stays instant at any size.
        """
        self.ensure_one()
        rank_limits = sorted({limit + 1 for _tier, limit in rules if limit is not None})
        minimums = sorted({tier.min_amount for tier, limit in rules if limit is None})
        return self._memoized(
            (self.company_id.id, self.tier_basis, tuple(rank_limits), tuple(minimums)),
            lambda: self._read_groups(self.tier_basis, rank_limits, minimums),
        )

    def _read_groups(self, basis_name, rank_limits, minimums):
        revenue = self._stored_sql("period_revenue")
        basis = revenue
        if basis_name == "profit":
            # a profit of 0 is stored as no value
            basis = SQL("COALESCE(%s, 0)", self._stored_sql("period_profit"))
        locked = self._stored_sql("relationship_tier_locked")
        return self.env.execute_query(
            SQL(
                """
            SELECT MIN(c.rank), MIN(c.value), c.locked_tier_id, COUNT(*),
                   SUM(c.revenue)
              FROM (SELECT ROW_NUMBER() OVER (ORDER BY %(basis)s DESC, p.id) AS rank,
                           %(basis)s AS value, %(revenue)s AS revenue,
                           CASE WHEN %(locked)s THEN %(tier_id)s END AS locked_tier_id
                      FROM res_partner p
                     WHERE p.id = p.commercial_partner_id AND %(revenue)s > 0
                 UNION ALL
                    SELECT NULL, NULL, COALESCE(%(revenue)s, 0), %(tier_id)s
                      FROM res_partner p
                     WHERE p.id = p.commercial_partner_id AND %(locked)s
                       AND COALESCE(%(revenue)s, 0) <= 0) c
          GROUP BY width_bucket(c.rank, %(rank_limits)s::int8[]),
                   width_bucket(c.value, %(minimums)s::float8[]), c.locked_tier_id
                """,
                basis=basis,
                revenue=revenue,
                locked=locked,
                tier_id=self._stored_sql("relationship_tier_id"),
                rank_limits=rank_limits,
                minimums=minimums,
            )
        )

    @api.depends("company_id")
    def _compute_customer_count(self):
        """N, the number of buyers the engine ranks (a locked one included)."""
        for wizard in self:
            wizard.customer_count = wizard._buyers()

    def _simulate(self):
        """``{tier id: (customers, revenue)}`` that Apply's classification will
        write with the thresholds being edited when the figures are still
        those the last classification stored, the customers ranked by the
        wizard's basis: the engine's tier rule
        (``crm.relationship.rules._tier_by_basis``) on the groups of
        ``_customer_groups``. A locked tier keeps the tier a person set (its
        customer still counts among the N buyers and in the ranks); else the
        tier ``_tier_by_basis`` gives with the rules of ``tiering.tier_rules``
        built for N buyers.
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
        # the count itself, not the field: the first snapshot of an onchange
        # holds the field's initial value (0), and would preview, and group,
        # the customers a first time for nothing
        rules = tiering.tier_rules(revenue_rules, self._buyers())
        # a locked tier counts when it is one of the company's, archived or not
        company_tiers = set(
            self.env["crm.relationship.tier"]
            .sudo()
            .with_context(active_test=False)
            .search([("company_id", "=", self.company_id.id)])
            .ids
        )
        result = {}
        Rules = self.env["crm.relationship.rules"]
        for rank, value, locked_tier_id, count, revenue in self._customer_groups(rules):
            if locked_tier_id in company_tiers:
                tier_id = locked_tier_id
            elif rank:
                # the rule on any customer of the group: with the revenue
                # basis, its figure is its revenue
                tier_id = Rules._tier_by_basis(
                    rules, self.tier_basis, value, value, rank
                )
            else:
                continue
            customers, amount = result.get(tier_id, (0, 0.0))
            result[tier_id] = (customers + count, amount + revenue)
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
            simulation._flush_stored()
            partners = self.env["res.partner"].with_company(simulation.company_id)
            # the tier as the kanban reads it, on the company's index of it
            tier_id = partners._field_to_sql("p", "relationship_tier_id")
            lines = self.filtered(lambda ln, s=simulation: ln.simulation_id == s)
            rows = self.env.execute_query(
                SQL(
                    """SELECT %(tier_id)s, COUNT(*), SUM(COALESCE(%(revenue)s, 0))
                         FROM res_partner p
                        WHERE p.id = p.commercial_partner_id
                          AND %(tier_id)s = ANY(%(tier_ids)s)
                     GROUP BY 1""",
                    tier_id=tier_id,
                    revenue=simulation._stored_sql("period_revenue"),
                    tier_ids=lines.tier_id.ids,
                )
            )
            current = {tier_id: (count, amount) for tier_id, count, amount in rows}
            for line in lines:
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
