import datetime
import functools
import json
import math
from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from odoo import api, models

from ..tools import care, health, lifetime_value, profit, rfm, status, tiering
from ..tools.status import CustomerFacts, StatusParams, relationship_status

# what the rules read of a tier, as plain data (the loop runs per customer)
TierInfo = namedtuple(
    "TierInfo", ["id", "tier_type", "relationship_level", "contact_interval_days"]
)


@dataclass(frozen=True)
class RulesContext:
    """Everything the rules read besides a customer's own facts, for one
    company and date: read once per run, never changed during it."""

    as_of: datetime.date
    tiers: Mapping  # {tier id: TierInfo}, archived tiers included (locks)
    tier_rules: tuple  # the revenue tier rules for this run's buyers
    inactive: TierInfo | None
    potential: TierInfo | None
    status_params: StatusParams
    margin_rate: float  # 0..1
    window_months: int
    ltv_factor: float  # retention method: lifetime value per unit of margin
    discount_rate: float  # 0..1
    horizon_years: int
    stage_phases: Mapping  # {care stage id: phase}
    first_stage: Mapping  # {phase: its first care stage id}
    predictive: Mapping | None  # {"bgnbd", "gamma_gamma"}: the trusted fits
    likely_lost: float  # 0..1
    health_score: Callable  # tools.health.health_scorer of the company
    margin_source: str  # rate | product_cost
    tier_basis: str  # revenue | profit: what the revenue tiers rank
    monthly_discount: float  # tools.profit.monthly_discount_sum of the company
    # {tier id: tools.profit.KotlerClass} of the revenue tiers, as of this run
    # (a full run) or of the last full run (a partial one)
    kotler: Mapping = field(default_factory=lambda: MappingProxyType({}))
    # {tier id: its level} of the tiers by Kotler's matrix that have a class
    kotler_levels: Mapping = field(default_factory=lambda: MappingProxyType({}))
    # a classification that stores nothing (the KPIs of a past date): the
    # figures the KPIs read alone, without the status, the level, the RFM
    # segment, the care stage or the health breakdown (JSON)
    figures_only: bool = False
    # the run keeps until when each customer's values hold
    # (crm.relationship.run.state): the rules say it (``"_valid_until"``)
    dated: bool = False


# facts left out of the stored breakdown: amounts are for the money groups only
MONEY_FACTS = ("revenue", "previous_revenue")


JSON_CONSTANTS = {None: "null", True: "true", False: "false"}


def json_value(value):
    """``value`` as ``json.dumps`` writes it, faster for the usual numbers."""
    if type(value) is float and math.isfinite(value):
        return repr(value)
    if type(value) is int:
        return str(value)
    if value is None or type(value) is bool:
        return JSON_CONSTANTS[value]
    return json.dumps(value)


def component_json(code, score, weight, facts):
    """``"code":[score,weight,{fact:value}]`` of one health component, amounts
    left out, as ``json.dumps`` with compact separators writes it."""
    parts = [
        f'"{name}":{json_value(round(value, 4) if type(value) is float else value)}'
        for name, value in facts
        if name not in MONEY_FACTS
    ]
    if code == "trend" and score is not None and all(n != "change" for n, _v in facts):
        parts.append('"no_revenue":true')
    score = None if score is None else round(score, 1)
    return f'"{code}":[{json_value(score)},{json_value(weight)},{{{",".join(parts)}}}]'


# most customers share the same few components but for their trend
cached_component_json = functools.lru_cache(maxsize=256)(component_json)


def components_json(result):
    """``{code: [score, weight, {fact: value}]}`` of a ``health.HealthScore``,
    without money amounts: the breakdown is readable by every internal user."""
    parts = [
        (component_json if item.code == "trend" else cached_component_json)(
            item.code, item.score, item.weight, item.facts
        )
        for item in result.components
    ]
    return "{" + ",".join(parts) + "}"


def health_change(score, stored_score, stored_change):
    """The change since the previous run that moved the score: kept while the
    score stays, None without a score on either side."""
    if stored_score is None or score is None:
        return None
    if score == stored_score:
        return stored_change
    return score - stored_score


class CrmRelationshipRules(models.AbstractModel):
    """The classification rules applied to one customer: the glue between a
    row of the run's facts and the pure rules of ``tools/`` (docs/rules.md).
    """

    _name = "crm.relationship.rules"
    _description = "Customer classification rules"

    @api.model
    def _rules_context(self, company, as_of, population, predictive=None, full=False):
        """The ``RulesContext`` of ``company`` at ``as_of``; ``population`` is
        (buyers of the window, customers active in the previous window as of the
        last month end and those of them retained) of the company, None when
        unknown; ``predictive`` the trusted fits. ``full``: the run holds every
        customer of the company, so Kotler's classes of the tiers are measured
        on it (else the last full run's)."""
        company = company.sudo()
        tiers = (
            self.env["crm.relationship.tier"]
            .sudo()
            .with_context(active_test=False)
            .search([("company_id", "=", company.id)])
        )
        active_tiers = tiers.filtered("active")
        special = {t.tier_type: t for t in active_tiers if t.tier_type != "revenue"}
        stages = self.env["crm.relationship.care.stage"].sudo().search([])
        first_stage = {}
        for stage in stages:
            first_stage.setdefault(stage.phase, stage.id)
        infos = {
            tier.id: TierInfo(
                tier.id,
                tier.tier_type,
                tier.relationship_level,
                tier.contact_interval_days,
            )
            for tier in tiers
        }
        buyers, previous_buyers, returning_buyers = population or (0, 0, 0)
        revenue_rules = [
            replace(rule, key=rule.key.id) for rule in active_tiers._to_revenue_rules()
        ]
        discount_rate = company.relationship_discount_rate / 100
        retention = lifetime_value.measured_retention(
            previous_buyers,
            returning_buyers,
            company.relationship_retention_fallback / 100,
        )
        ctx = RulesContext(
            as_of=as_of,
            tiers=MappingProxyType(infos),
            tier_rules=tuple(tiering.tier_rules(revenue_rules, buyers)),
            inactive=infos[special["inactive"].id] if "inactive" in special else None,
            potential=infos[special["potential"].id]
            if "potential" in special
            else None,
            status_params=company._relationship_status_params(),
            margin_rate=company.relationship_margin_rate / 100,
            window_months=company.relationship_window_months,
            ltv_factor=lifetime_value.retention_factor(
                retention, discount_rate, company.relationship_horizon_years
            ),
            discount_rate=discount_rate,
            horizon_years=company.relationship_horizon_years,
            stage_phases=MappingProxyType({stage.id: stage.phase for stage in stages}),
            first_stage=MappingProxyType(first_stage),
            predictive=MappingProxyType(predictive) if predictive else None,
            likely_lost=company.relationship_likely_lost_threshold / 100,
            health_score=health.health_scorer(**company._relationship_health_params()),
            margin_source=company.relationship_margin_source,
            tier_basis=company.relationship_tier_basis,
            monthly_discount=profit.monthly_discount_sum(
                discount_rate, company.relationship_horizon_years
            ),
        )
        kotler = (
            self._kotler_classes(company, ctx)
            if full
            else active_tiers._kotler_stored()
        )
        return replace(
            ctx,
            kotler=MappingProxyType(kotler),
            kotler_levels=MappingProxyType(
                {
                    tier.id: kotler[tier.id].level
                    for tier in active_tiers
                    if tier.level_rule == "kotler"
                    and tier.id in kotler
                    and kotler[tier.id].level
                }
            ),
        )

    @api.model
    def _kotler_classes(self, company, ctx):
        """``{tier id: KotlerClass}`` of the revenue tiers of ``company`` from
        the run's customers with revenue > 0 (docs/rules.md,
        Profit): each placed in its tier as ``_classify`` places it
        (a locked tier counts), the tier's customers and profit against the
        company's."""
        counts, profits = {}, {}
        population, total = 0, 0.0
        for revenue, value, rank, locked in self.env[
            "crm.relationship.run.facts"
        ]._buyers_profit():
            population += 1
            total += value or 0.0
            tier_id = (
                locked
                if locked in ctx.tiers
                else self._revenue_tier_id(revenue, value, rank, ctx)
            )
            if tier_id:
                counts[tier_id] = counts.get(tier_id, 0) + 1
                profits[tier_id] = profits.get(tier_id, 0.0) + (value or 0.0)
        params = company._relationship_kotler_params()
        return {
            tier_id: profit.kotler_class(
                counts.get(tier_id, 0),
                profits.get(tier_id, 0.0),
                population,
                total,
                params,
            )
            for tier_id, info in ctx.tiers.items()
            if info.tier_type == "revenue"
        }

    @api.model
    def _store_kotler(self, company, ctx):
        """Keep on the tiers their Kotler figures of this full run (shown on
        the tier, read by the partial runs until the next full one)."""
        tiers = self.env["crm.relationship.tier"].sudo().browse(list(ctx.kotler))
        tiers._kotler_store(ctx.kotler, ctx.as_of)

    @api.model
    def _revenue_tier_id(self, revenue, value, rank, ctx):
        return self._tier_by_basis(ctx.tier_rules, ctx.tier_basis, revenue, value, rank)

    @api.model
    def _tier_by_basis(self, rules, basis, revenue, value, rank):
        """The revenue tier (``rules`` of ``tiering.tier_rules``) of a customer
        with ``revenue`` > 0 whose tiers' ``basis`` figure (revenue or profit)
        is ``value`` at ``rank``. By profit, a customer reaching no threshold
        (a loss, say) still gets the last revenue tier. The tier simulation
        previews with it too."""
        if basis != "profit":
            return tiering.revenue_tier(rules, revenue, rank)
        return profit.profit_tier(rules, value or 0.0, rank)

    @api.model
    def _classify(self, row, ctx):
        """The classified values of one customer from its run-facts ``row``:
        first the figures the KPIs read, then, unless ``ctx.figures_only``,
        the rest of what a run stores."""
        revenue = row["revenue"] or 0.0
        tier = self._tier(row, revenue, ctx)
        values = {
            "relationship_tier_id": tier and tier.id,
            "lifetime_value": self._lifetime_value(row, ctx),
            "period_revenue": revenue,
            "previous_period_revenue": row["previous_revenue"] or 0.0,
            "purchase_count": row["purchases"] or 0,
            "first_purchase_date": row["first_purchase"],
        }
        values.update(self._profit_values(row, ctx))
        values.update(self._care_dates(row, tier, ctx))
        values.update(
            self.env["crm.relationship.prediction"]._predictive_values(row, ctx)
        )
        values.update(self._health_values(row, values, ctx))
        if ctx.figures_only:
            return values
        facts = CustomerFacts(
            revenue=revenue,
            previous_revenue=values["previous_period_revenue"],
            purchases=values["purchase_count"],
            previous_purchases=row["previous_purchases"] or 0,
            first_purchase=row["first_purchase"],
            last_purchase=row["last_purchase"],
            quarters_with_purchase=(row["quarters"] or 0).bit_count(),
            ended=bool(row["end_date"]),
            overdue_complaint=row["overdue_complaint"],
        )
        recency = row["recency_score"]
        values.update(
            {
                "relationship_status": relationship_status(
                    facts, ctx.as_of, ctx.status_params
                ),
                "relationship_level": row["locked_level"]
                or (
                    tier and (ctx.kotler_levels.get(tier.id) or tier.relationship_level)
                ),
                "historical_revenue": row["historical_revenue"],
                "last_purchase_date": facts.last_purchase,
                "rfm_recency_score": recency,
                "rfm_frequency_score": row["frequency_score"],
                "rfm_monetary_score": row["monetary_score"],
                "rfm_segment": recency
                and rfm.rfm_segment(recency, row["frequency_score"]),
                "region_scope": row["region_scope"],
            }
        )
        values.update(self._care_stage(row, tier, ctx))
        if ctx.dated:
            # the date reads of the rules: the status and the care status
            # (health reads the care status; a predictive run keeps no dates)
            until = status.status_valid_until(facts, ctx.as_of, ctx.status_params)
            care_until = care.care_status_valid_until(
                values["next_care_date"], ctx.as_of
            )
            values["_valid_until"] = (
                min(until, care_until) if until and care_until else until or care_until
            )
        values["_history"] = row
        values["_stored"] = row["_stored"]
        return values

    @api.model
    def _tier(self, row, revenue, ctx):
        """The ``TierInfo`` of the customer of ``row`` (None for no tier): the
        tier a person locked, else by its sales in the window."""
        tiers = ctx.tiers
        if row["locked_tier_id"] in tiers:
            return tiers[row["locked_tier_id"]]
        if row["has_sales"]:
            if revenue > 0:
                return tiers.get(
                    self._revenue_tier_id(
                        revenue, row["profit"], row["revenue_rank"], ctx
                    )
                )
            return ctx.inactive
        return ctx.potential if row["prospect"] else None

    @api.model
    def _profit_values(self, row, ctx):
        """Gross margin, cost to serve and profit of the window (docs/rules.md,
        Profit), as the facts computed them."""
        revenue = row["revenue"] or 0.0
        customer_profit = row["profit"] or 0.0
        return {
            "period_margin": row["margin"],
            "period_cost_to_serve": row["cost_to_serve"],
            "period_profit": row["profit"],
            "is_unprofitable": profit.is_unprofitable(revenue, customer_profit),
        }

    @api.model
    def _lifetime_value(self, row, ctx):
        """Lifetime value, that is lifetime profit, by the company's method:
        ``bgnbd`` when the company's fit is trusted (predicted for the batch),
        else ``retention`` with m = PR * 12 / W (negative for a customer who
        loses money)."""
        if "_predicted" in row:
            return row["_predicted"][3]
        if not row["revenue"] or row["revenue"] <= 0:
            return 0.0
        if ctx.margin_source == "product_cost":
            margin = lifetime_value.annual_margin(row["margin"], ctx.window_months, 1.0)
        else:
            margin = lifetime_value.annual_margin(
                row["revenue"], ctx.window_months, ctx.margin_rate
            )
        annual = profit.annual_profit(
            margin, row["cost_to_serve"] or 0.0, ctx.window_months
        )
        return annual * ctx.ltv_factor

    @api.model
    def _care_dates(self, row, tier, ctx):
        """The last interaction, the next care date and the care status, which
        health reads."""
        next_date = care.next_care_date(
            row["last_interaction"] or row["first_purchase"] or row["created"],
            tier and tier.contact_interval_days,
            bool(row["end_date"]),
        )
        return {
            "last_interaction_date": row["last_interaction"],
            "next_care_date": next_date,
            "care_status": care.care_status(next_date, ctx.as_of),
        }

    @api.model
    def _care_stage(self, row, tier, ctx):
        """Care phase and stage: the stage moves only when the phase of the
        facts changes, so a card a person dragged stays until then."""
        last_purchase = row["last_purchase"]
        won = row["won_date"]
        in_sale = row["unpaid"] or bool(
            won and (not last_purchase or won > last_purchase)
        )
        derived = care.fact_phase(
            in_sale,
            bool(row["first_purchase"]),
            row["open_opportunity"] or bool(tier and tier.tier_type == "potential"),
        )
        stage_id, phase = care.next_stage(
            derived,
            row["phase_auto"],
            row["stage_id"],
            ctx.stage_phases,
            ctx.first_stage,
        )
        return {
            "care_stage_id": stage_id,
            "care_phase": phase,
            "care_phase_auto": derived,
        }

    @api.model
    def _health_values(self, row, values, ctx):
        """Health score, band, components (compact JSON) and change since the
        previous run of a customer who ever bought (docs/rules.md, Health
        score)."""
        if not row["first_purchase"]:
            return dict.fromkeys(
                (
                    "health_score",
                    "health_band",
                    "health_score_change",
                    "health_components",
                ),
                None,
            )
        predicted = row.get("_predicted")
        components = (
            health.activity_component(
                predicted[0] if predicted else None, row["recency_score"]
            ),
            health.trend_component(
                values["period_revenue"], values["previous_period_revenue"]
            ),
            health.care_component(values["care_status"]),
            health.service_component(row["overdue_complaints"]),
            health.satisfaction_component(
                row["csat_scores"] or (), row["nps_scores"] or ()
            ),
        )
        result = ctx.health_score(components)
        return {
            "health_score": result.score,
            "health_band": result.band,
            "health_score_change": health_change(
                result.score, row["stored_health_score"], row["stored_health_change"]
            ),
            "health_components": None if ctx.figures_only else components_json(result),
        }
