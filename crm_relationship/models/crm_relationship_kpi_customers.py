"""The KPIs of customers: activity, retention, lifetime value, profit and
health, from the classification's figures (docs/rules.md, KPIs)."""

from operator import itemgetter
from typing import NamedTuple

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import kpi as kpi_rules
from ..tools import profit as profit_rules
from .crm_relationship_kpi import TIER_BREAKDOWN_CODES, TOP_TIER_CODES
from .crm_relationship_run_facts import stream_rows

# what the KPIs read of the classification of a customer, in this order
KPI_FIGURES = (
    "relationship_tier_id",
    "period_revenue",
    "previous_period_revenue",
    "purchase_count",
    "first_purchase_date",
    "lifetime_value",
    "health_score",
    "health_band",
    "relationship_expected_spend",
    "predicted_purchases",
    "period_profit",
    "period_cost_to_serve",
)


class KpiCustomer(NamedTuple):
    """A customer as the KPIs count it."""

    partner_id: int
    revenue: float
    previous_revenue: float
    purchases: int
    first_purchase: object  # date or None
    lifetime_value: float
    tier_id: int
    tier_code: str | None
    revenue_tier: bool
    team_id: int
    health_score: int | None
    health_band: str | None
    expected_spend: float | None
    predicted_purchases: float | None
    retained: bool | None
    profit: float
    cost_to_serve: float


class CrmRelationshipKpi(models.Model):
    _inherit = "crm.relationship.kpi"  # pylint: disable=consider-merging-classes-inherited

    # --- customers --------------------------------------------------------

    @api.model
    def _kpi_customer_facts(self, company, as_of):
        """Per customer with sales history, a ``KpiCustomer``: the
        classification's figures at ``as_of`` (revenue, purchases, first
        purchase, lifetime value, tier...) and its team: the values stored by
        the classification for today, the engine's figures for another date
        (computed, nothing written), so past dates see the lifetime value and
        the tier they had then. A compact tuple per customer, built as the
        figures stream in: a million customers fit in a few hundred MB."""
        if as_of == fields.Date.context_today(self):
            rows = self._kpi_stored_figures(company)
        else:
            engine = self.env["crm.relationship.classification"].sudo()
            figures = itemgetter(*KPI_FIGURES)
            rows = (
                (pid, *figures(vals))
                for batch in engine._iter_figures(company, as_of, sales_only=True)
                for pid, vals in batch.items()
                # sales history only: prospects would add empty groups
                if vals["first_purchase_date"]
                or vals["period_revenue"]
                or vals["previous_period_revenue"]
            )
        tiers = (
            self.env["crm.relationship.tier"]
            .sudo()
            .with_context(active_test=False)
            .search([("company_id", "=", company.id)])
        )
        tier_codes = {tier.id: tier.code for tier in tiers}
        revenue_tiers = {tier.id for tier in tiers if tier.tier_type == "revenue"}
        teams = self._kpi_partner_teams()
        return [
            KpiCustomer(
                pid,
                revenue or 0.0,
                previous or 0.0,
                purchases or 0,
                first_purchase,
                ltv or 0.0,
                tier_id or False,
                tier_codes.get(tier_id),
                tier_id in revenue_tiers,
                teams.get(pid, False),
                score,
                band,
                spend,
                predicted,
                # from the two windows' revenue, as the lifetime value measures
                # its retention
                kpi_rules.retained(previous, revenue),
                customer_profit or 0.0,
                cost or 0.0,
            )
            for (
                pid,
                tier_id,
                revenue,
                previous,
                purchases,
                first_purchase,
                ltv,
                score,
                band,
                spend,
                predicted,
                customer_profit,
                cost,
            ) in rows
        ]

    @api.model
    def _kpi_stored_figures(self, company):
        """Yield the figures the classification stored in ``company`` for its
        customers with sales history, in the order of ``KPI_FIGURES`` after
        the partner id, from a server-side cursor."""
        self.env["res.partner"].flush_model()
        key = str(company.id)
        Writer = self.env["crm.relationship.writer"]
        query = SQL(
            """SELECT id, %(stored)s
                 FROM res_partner
                WHERE id = commercial_partner_id
                  AND (first_purchase_date ? %(key)s OR period_revenue ? %(key)s
                       OR previous_period_revenue ? %(key)s)""",
            stored=SQL(", ").join(
                Writer._stored_sql("res_partner", fname, key) for fname in KPI_FIGURES
            ),
            key=key,
        )
        for records in stream_rows(self.env.cr, "crm_relationship_kpi_figures", query):
            yield from records

    @api.model
    def _kpi_partner_teams(self):
        """``{commercial partner id: sales team id}`` of the commercial
        partners that have one: the partner's team when the field exists
        (module sale), else the sales team of its salesperson."""
        team = SQL("u.sale_team_id")
        if "team_id" in self.env["res.partner"]._fields:
            team = SQL("COALESCE(p.team_id, u.sale_team_id)")
        return dict(
            self.env.execute_query(
                SQL(
                    """SELECT p.id, %(team)s FROM res_partner p
                         LEFT JOIN res_users u ON u.id = p.user_id
                        WHERE p.id = p.commercial_partner_id
                          AND %(team)s IS NOT NULL""",
                    team=team,
                )
            )
        )

    @api.model
    def _kpi_customer_values(self, customers, start):
        if not any(row.first_purchase for row in customers):
            return {}  # no sale yet: no customer KPI rather than zeros
        total_revenue = sum(row.revenue for row in customers if row.revenue > 0)
        results = {}

        def add(group, tier_id=False, team_id=False, codes=None):
            share_base = total_revenue if tier_id else None
            for code, value in self._kpi_customer_group(
                group, start, share_base
            ).items():
                if codes is None or code in codes:
                    results.setdefault(code, []).append((value, tier_id, team_id))

        add(customers)
        by_tier, by_team = {}, {}
        for row in customers:
            if row.revenue_tier:
                by_tier.setdefault(row.tier_id, []).append(row)
            if row.team_id:
                by_team.setdefault(row.team_id, []).append(row)
        for tier_id, group in by_tier.items():
            codes = TIER_BREAKDOWN_CODES
            if group[0].tier_code in TOP_TIER_CODES:
                codes += ("top_tier_revenue_share",)
            add(group, tier_id=tier_id, codes=codes)
        for team_id, group in by_team.items():
            add(group, team_id=team_id)
        return results

    @api.model
    def _kpi_customer_group(self, group, start, share_base=None):
        """The customer KPIs of the partners of ``group``.

        The revenue share is measured against ``share_base`` when given (a
        tier's share of the company's revenue), else against the group's own.
        """
        active = [row for row in group if row.revenue > 0]
        previous = [row for row in group if row.retained is not None]
        retained = sum(1 for row in previous if row.retained)
        retention = kpi_rules.rate(retained, len(previous))
        revenue = sum(row.revenue for row in active)
        top_revenue = sum(
            row.revenue for row in active if row.tier_code in TOP_TIER_CODES
        )
        if share_base is None:
            share_base = revenue
        return {
            "active_customers": len(active),
            "new_customers": sum(
                1 for row in group if row.first_purchase and row.first_purchase > start
            ),
            "retention_rate": retention,
            "churn_rate": kpi_rules.churn(retention),
            "repeat_purchase_rate": kpi_rules.rate(
                sum(1 for row in active if row.purchases >= 2), len(active)
            ),
            "average_lifetime_value": kpi_rules.average(
                row.lifetime_value for row in active
            ),
            "top_tier_revenue_share": kpi_rules.rate(top_revenue, share_base),
            **self._kpi_health_values(group),
        }

    @api.model
    def _kpi_profit_results(self, customers):
        """``{code: [(value, False, team id)]}``: the profit KPIs of the
        company and of each sales team."""
        results = {}
        by_team = {}
        for row in customers:
            if row.team_id:
                by_team.setdefault(row.team_id, []).append(row)
        for team_id, group in [(False, customers), *by_team.items()]:
            active = [row for row in group if row.revenue > 0]
            for code, value in self._kpi_profit_values(active).items():
                results.setdefault(code, []).append((value, False, team_id))
        return results

    @api.model
    def _kpi_profit_values(self, active):
        """Profit KPIs of the customers ``active`` (revenue > 0 in the window;
        docs/rules.md, Profit); none without customers."""
        if not active:
            return {}
        ordered = profit_rules.profits_in_order(
            {row.partner_id: row.profit for row in active}
        )
        return {
            "total_profit": sum(ordered),
            "unprofitable_customers": sum(1 for value in ordered if value < 0),
            "top_20_profit_share": profit_rules.top_profit_share(ordered),
            "whale_curve_peak": profit_rules.whale_curve_peak(ordered),
            "average_cost_to_serve": profit_rules.average_cost_to_serve(
                row.cost_to_serve for row in active
            ),
        }

    @api.model
    def _kpi_health_values(self, group):
        """Health KPIs of the customers of ``group`` who have a health score, and
        the revenue expected in the next 12 months (predicted purchases times
        expected spend) when the company's predictive fit is in use."""
        scored = [row for row in group if row.health_score is not None]
        predicted = [
            row
            for row in group
            if row.expected_spend is not None and row.predicted_purchases is not None
        ]
        return {
            "average_health_score": kpi_rules.average(
                row.health_score for row in scored
            ),
            "at_risk_customers": (
                sum(1 for row in scored if row.health_band == "at_risk")
                if scored
                else None
            ),
            "expected_revenue_next_12_months": (
                sum(row.expected_spend * row.predicted_purchases for row in predicted)
                if predicted
                else None
            ),
        }
