"""Customer profitability (docs/rules.md,
"Profit": margin, cost to serve, Kotler's matrix, whale curve and KPIs).

Pure arithmetic: gross margin, cost to serve, profit, lifetime profit, Kotler's
count and margin classes and the level they recommend, the whale curve and the
profit KPIs. Shares and rates in and out are percentages (0..100) unless a
name says fraction; amounts are in company currency.
"""

import math
from dataclasses import dataclass

from . import tiering

RATE = "rate"
PRODUCT_COST = "product_cost"
REVENUE = "revenue"
PROFIT = "profit"

FEW, MEDIUM, MANY = "few", "medium", "many"
HIGH, LOW = "high", "low"

# customers (count class) x margin class -> relationship level (Kotler)
KOTLER_MATRIX = {
    (MANY, HIGH): "accountable",
    (MANY, MEDIUM): "reactive",
    (MANY, LOW): "basic",
    (MEDIUM, HIGH): "proactive",
    (MEDIUM, MEDIUM): "accountable",
    (MEDIUM, LOW): "reactive",
    (FEW, HIGH): "partnership",
    (FEW, MEDIUM): "proactive",
    (FEW, LOW): "accountable",
}


# --- one customer -----------------------------------------------------------


def gross_margin_by_rate(revenue, margin_rate):
    """Gross margin of source ``rate``: revenue times the company's margin rate
    (a fraction)."""
    return revenue * margin_rate


def cost_to_serve(interactions, complaints, complaint_cost):
    """Cost to serve: the sum of the channel costs of the customer's
    interactions (one cost per interaction) plus its complaints times the
    complaint handling cost."""
    return sum(interactions) + complaints * complaint_cost


def profit(margin, cost):
    """Profit PR = gross margin - cost to serve."""
    return margin - cost


def is_unprofitable(revenue, customer_profit):
    """A customer who bought in the window (R > 0) and lost money (PR < 0)."""
    return revenue > 0 and customer_profit < 0


def annual_profit(annual_margin, cost, window_months):
    """m of the ``retention`` method: the gross margin of one year at the pace
    of the window (``lifetime_value.annual_margin``) minus the cost to serve of
    the window brought to a year."""
    if not cost:
        return annual_margin
    return annual_margin - cost * 12.0 / window_months


def customer_margin_rate(historical_margin, historical_revenue, company_rate):
    """Margin rate (fraction) of one customer for the predictive method with
    source ``product_cost``: its own GM / R over its whole history, the
    company's ``company_rate`` when its R <= 0."""
    if historical_revenue <= 0:
        return company_rate
    return historical_margin / historical_revenue


def monthly_discount_sum(discount_rate, horizon_years):
    """Sum over k = 1..12H of 1 / (1 + d)^(k / 12): the present value of one
    unit paid every month of the horizon (``discount_rate`` a fraction)."""
    return sum(
        1.0 / (1.0 + discount_rate) ** (month / 12.0)
        for month in range(1, round(12 * horizon_years) + 1)
    )


def alive_cost_charge(cost, window_months, alive, discount_sum):
    """What the predictive lifetime value deducts for the cost to serve: the
    monthly cost CS * 12 / W / 12 charged while the customer is alive
    (``alive`` = probability alive), discounted (``monthly_discount_sum``)."""
    return cost / window_months * alive * discount_sum


# --- tiers by profit -------------------------------------------------------


def profit_tier(rules, customer_profit, rank):
    """Key of the revenue tier of a customer with revenue > 0 when the tiers
    rank profit: the first of ``rules`` (``tiering.tier_rules``) its profit
    and its rank by profit reach, else the last one (a customer with revenue
    always gets a revenue tier, one that loses money included); None without
    rules."""
    key = tiering.revenue_tier(rules, customer_profit, rank)
    if key is None and rules:
        key = rules[-1][0].key
    return key


def assign_profit_tiers(profits, tiers):
    """``{partner id: tier key}`` of the customers of ``{partner id: PR}`` (all
    with revenue > 0), ranked by profit descending (ties by partner id) over
    the ``tiering.RevenueTier`` list ``tiers`` in sequence order."""
    ranked = sorted(profits, key=lambda pid: (-profits[pid], pid))
    rules = tiering.tier_rules(tiers, len(ranked))
    return {
        pid: profit_tier(rules, profits[pid], rank)
        for rank, pid in enumerate(ranked, start=1)
    }


# --- Kotler's matrix --------------------------------------------------------


@dataclass(frozen=True)
class KotlerParams:
    """The company's thresholds: shares in %, ratios plain."""

    few_share: float = 5.0
    many_share: float = 30.0
    high_ratio: float = 2.0
    low_ratio: float = 0.5


@dataclass(frozen=True)
class KotlerClass:
    """Kotler's figures of one tier: its customers, their share of the
    company's (%), the count and margin classes and the level they recommend
    (None when there is no class: the tier's fixed level applies)."""

    customers: int
    share: float | None
    count_class: str | None
    margin_class: str | None
    level: str | None


def kotler_params_error(params):
    """Why ``params`` (a ``KotlerParams``) cannot be used, or None."""
    if not (0 < params.few_share < params.many_share <= 100):
        return "shares"
    if not (0 <= params.low_ratio < params.high_ratio):
        return "ratios"
    return None


def count_class(customers, population, params):
    """``few``, ``medium`` or ``many`` by the tier's share of the customers with
    R > 0; None without customers."""
    if customers <= 0 or population <= 0:
        return None
    share = 100.0 * customers / population
    if share <= params.few_share:
        return FEW
    if share >= params.many_share:
        return MANY
    return MEDIUM


def margin_class(tier_profit, customers, total_profit, population, params):
    """``high``, ``medium`` or ``low`` by the ratio of the tier's profit per
    customer to the company's; None when the company's total profit <= 0 or
    the tier has no customer."""
    if customers <= 0 or population <= 0 or total_profit <= 0:
        return None
    ratio = (tier_profit / customers) / (total_profit / population)
    if ratio >= params.high_ratio:
        return HIGH
    if ratio <= params.low_ratio:
        return LOW
    return MEDIUM


def kotler_level(count, margin):
    """The level of Kotler's matrix, None when a class is missing."""
    return KOTLER_MATRIX.get((count, margin))


def kotler_class(customers, tier_profit, population, total_profit, params):
    """The ``KotlerClass`` of a tier of ``customers`` earning ``tier_profit``
    among ``population`` customers with R > 0 earning ``total_profit``."""
    counted = count_class(customers, population, params)
    margin = margin_class(tier_profit, customers, total_profit, population, params)
    level = kotler_level(counted, margin) if counted and margin else None
    return KotlerClass(
        customers=customers,
        share=100.0 * customers / population if population > 0 else None,
        count_class=counted if margin else None,
        margin_class=margin if counted else None,
        level=level,
    )


# --- the company: ranking by profit, whale curve, profit KPIs ---------------


def profits_in_order(profits):
    """The profits of ``{partner id: PR}`` ranked by PR descending, ties by
    partner id."""
    return [
        value
        for _pid, value in sorted(profits.items(), key=lambda item: (-item[1], item[0]))
    ]


def top_profit_share(ordered, percent=20.0):
    """100 * profit of the first ceil(``percent`` % of N) customers of
    ``ordered`` (``profits_in_order``) / total profit; None when the total
    <= 0."""
    total = sum(ordered)
    if not ordered or total <= 0:
        return None
    count = math.ceil(round(len(ordered) * percent / 100.0, 9))
    return 100.0 * sum(ordered[:count]) / total


def _peak(ordered):
    """(customers before the peak, cumulative profit at the peak)."""
    best_count, best, running = 0, 0.0, 0.0
    for count, value in enumerate(ordered, start=1):
        running += value
        if running > best:
            best_count, best = count, running
    return best_count, best


def whale_curve_peak(ordered):
    """100 * the highest cumulative profit of the first k customers of
    ``ordered`` / total profit (>= 100 when some customers lose money); None
    when the total <= 0."""
    total = sum(ordered)
    if not ordered or total <= 0:
        return None
    return 100.0 * _peak(ordered)[1] / total


def whale_curve(ordered):
    """The whale curve of ``ordered`` (``profits_in_order``): [(x, y)] with x
    the share of customers and y their cumulative share of the total profit,
    both in %, from (0, 0): one point per customer below 100 customers, else
    one per percentile, plus the peak. Empty when the total <= 0."""
    total = sum(ordered)
    population = len(ordered)
    if not population or total <= 0:
        return []
    cumulative = []
    running = 0.0
    for value in ordered:
        running += value
        cumulative.append(running)
    if population < 100:
        counts = set(range(1, population + 1))
    else:
        counts = {
            math.ceil(round(population * percent / 100.0, 9))
            for percent in range(1, 101)
        }
    peak_count, _best = _peak(ordered)
    if peak_count:
        counts.add(peak_count)
    return [(0.0, 0.0)] + [
        (100.0 * count / population, 100.0 * cumulative[count - 1] / total)
        for count in sorted(counts)
    ]


@dataclass(frozen=True)
class WhaleReading:
    """The sentence under the curve: the top ``customers`` % of customers earn
    ``profit`` % of the profit; those after the peak lose ``lost`` %."""

    customers: float
    profit: float
    lost: float


def whale_reading(ordered):
    """The ``WhaleReading`` of ``ordered``, None when the total profit <= 0."""
    total = sum(ordered)
    if not ordered or total <= 0:
        return None
    count, best = _peak(ordered)
    peak = 100.0 * best / total
    return WhaleReading(
        customers=100.0 * count / len(ordered), profit=peak, lost=peak - 100.0
    )


def average_cost_to_serve(costs):
    """Sum of CS over the customers with R > 0 / their number; None without."""
    costs = list(costs)
    if not costs:
        return None
    return sum(costs) / len(costs)
