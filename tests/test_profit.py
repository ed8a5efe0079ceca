import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_relationship.tools import lifetime_value as ltv
from crm_relationship.tools import profit, tiering

AMOUNTS = st.floats(min_value=-1e7, max_value=1e7, allow_nan=False)
PROFITS = st.dictionaries(st.integers(1, 10_000), AMOUNTS, max_size=300)
DEFAULTS = profit.KotlerParams()


def test_margin_cost_and_profit_by_hand():
    # R = 10,000 at 30 %: GM = 3,000; 3 calls at 20 + 1 visit at 150 + 2
    # complaints at 400: CS = 60 + 150 + 800 = 1,010; PR = 1,990
    margin = profit.gross_margin_by_rate(10_000.0, 0.30)
    cost = profit.cost_to_serve([20.0, 20.0, 20.0, 150.0], 2, 400.0)
    assert margin == pytest.approx(3000.0)
    assert cost == pytest.approx(1010.0)
    assert profit.profit(margin, cost) == pytest.approx(1990.0)
    assert not profit.is_unprofitable(10_000.0, 1990.0)
    assert profit.is_unprofitable(100.0, -0.01)
    # no revenue in the window: not an unprofitable customer, whatever it cost
    assert not profit.is_unprofitable(0.0, -500.0)


def test_lifetime_profit_without_costs_is_todays_value():
    # defaults: the annual margin is passed through untouched (same float)
    margin = ltv.annual_margin(10_000.0, 12, 0.30)
    assert profit.annual_profit(margin, 0.0, 12) == margin


def test_lifetime_profit_by_hand():
    # W = 6: GM 3,000 a year minus CS 500 of the window = 1,000 a year:
    # m = 3,000 - 1,000 = 2,000; r = 0.6, d = 0.1, H = 2:
    # 2000/1.1 + 1200/1.21 = 1818.1818 + 991.7355 = 2809.9174
    m = profit.annual_profit(3000.0, 500.0, 6)
    assert m == pytest.approx(2000.0)
    value = m * ltv.retention_factor(0.6, 0.1, 2)
    assert value == pytest.approx(2809.9174, abs=1e-4)


def test_predictive_cost_charge_by_hand():
    # d = 0: 12 months of 1 each; CS 600 over W = 12 months = 50 a month,
    # alive 0.5: 50 * 0.5 * 12 = 300
    assert profit.monthly_discount_sum(0.0, 1) == pytest.approx(12.0)
    assert profit.alive_cost_charge(600.0, 12, 0.5, 12.0) == pytest.approx(300.0)
    # d = 10 %, one month: 1 / 1.1^(1/12) = 0.992089
    assert profit.monthly_discount_sum(0.1, 1 / 12) == pytest.approx(0.992089, abs=1e-6)


def test_customer_margin_rate():
    assert profit.customer_margin_rate(250.0, 1000.0, 0.3) == 0.25
    assert profit.customer_margin_rate(-40.0, 0.0, 0.3) == 0.3
    assert profit.customer_margin_rate(10.0, -5.0, 0.3) == 0.3


def test_kotler_matrix_by_hand():
    # 100 customers earning 10,000 (100 each)
    # vip: 1 customer (1 % <= 5 %: few) earning 2,500 (ratio 25 >= 2: high)
    vip = profit.kotler_class(1, 2500.0, 100, 10_000.0, DEFAULTS)
    assert (vip.count_class, vip.margin_class, vip.level) == (
        "few",
        "high",
        "partnership",
    )
    assert vip.share == pytest.approx(1.0)
    # small: 80 customers (80 % >= 30 %: many) earning 4,000 (50 each, ratio
    # 0.5 <= 0.5: low) -> basic
    small = profit.kotler_class(80, 4000.0, 100, 10_000.0, DEFAULTS)
    assert (small.count_class, small.margin_class, small.level) == (
        "many",
        "low",
        "basic",
    )
    # medium: 19 customers (19 %: medium) earning 3,500 (184.2 each, ratio
    # 1.84: medium) -> accountable
    medium = profit.kotler_class(19, 3500.0, 100, 10_000.0, DEFAULTS)
    assert medium.level == "accountable"
    assert medium.count_class == medium.margin_class == "medium"


def test_kotler_no_class_without_profit_or_customers():
    assert profit.kotler_class(0, 0.0, 100, 1000.0, DEFAULTS).level is None
    lossy = profit.kotler_class(5, 100.0, 100, -1.0, DEFAULTS)
    assert lossy.level is None
    assert lossy.count_class is None and lossy.margin_class is None
    assert profit.kotler_class(5, 100.0, 100, 0.0, DEFAULTS).level is None


def test_kotler_every_cell():
    assert len(profit.KOTLER_MATRIX) == 9
    assert profit.kotler_level("many", "high") == "accountable"
    assert profit.kotler_level("few", "low") == "accountable"
    assert profit.kotler_level("medium", "high") == "proactive"
    assert profit.kotler_level(None, "high") is None


def test_kotler_params_error():
    assert profit.kotler_params_error(DEFAULTS) is None
    assert profit.kotler_params_error(profit.KotlerParams(30, 30, 2, 0.5)) == "shares"
    assert profit.kotler_params_error(profit.KotlerParams(0, 30, 2, 0.5)) == "shares"
    assert profit.kotler_params_error(profit.KotlerParams(5, 101, 2, 0.5)) == "shares"
    assert profit.kotler_params_error(profit.KotlerParams(5, 30, 1, 1)) == "ratios"
    assert profit.kotler_params_error(profit.KotlerParams(5, 30, 2, -1)) == "ratios"


def test_whale_curve_by_hand():
    # ranked by profit: 60, 50, 10, -20 (ties by id: 3 before 7)
    ordered = profit.profits_in_order({7: 10.0, 1: -20.0, 3: 10.0, 2: 60.0, 9: 50.0})
    assert ordered == [60.0, 50.0, 10.0, 10.0, -20.0]
    # total 110; cumulative 60, 110, 120, 130, 110
    points = profit.whale_curve(ordered)
    assert points[0] == (0.0, 0.0)
    assert [x for x, _y in points[1:]] == pytest.approx([20, 40, 60, 80, 100])
    assert [y for _x, y in points[1:]] == pytest.approx(
        [54.5454, 100.0, 109.0909, 118.1818, 100.0], abs=1e-4
    )
    # peak 130 / 110 = 118.18 % after 4 of 5 customers (80 %); the last loses
    # 18.18 %
    assert profit.whale_curve_peak(ordered) == pytest.approx(118.1818, abs=1e-4)
    reading = profit.whale_reading(ordered)
    assert reading.customers == pytest.approx(80.0)
    assert reading.lost == pytest.approx(18.1818, abs=1e-4)
    # top 20 % = ceil(1) = 1 customer: 60 / 110
    assert profit.top_profit_share(ordered) == pytest.approx(54.5454, abs=1e-4)


def test_whale_curve_percentiles_for_large_books():
    ordered = profit.profits_in_order({pid: 1.0 for pid in range(1, 1001)})
    points = profit.whale_curve(ordered)
    # origin + 100 percentiles (the peak is the last customer)
    assert len(points) == 101
    assert points[10] == pytest.approx((10.0, 10.0))


def test_no_curve_nor_share_without_profit():
    assert profit.whale_curve([10.0, -10.0]) == []
    assert profit.whale_curve_peak([-5.0]) is None
    assert profit.top_profit_share([]) is None
    assert profit.whale_reading([0.0]) is None
    assert profit.average_cost_to_serve([]) is None
    assert profit.average_cost_to_serve([10.0, 20.0]) == 15.0


# --- properties: any input of the documented domain -> documented range ----


@given(PROFITS)
def test_property_order_is_descending_with_every_customer(profits):
    ordered = profit.profits_in_order(profits)
    assert len(ordered) == len(profits)
    assert all(a >= b for a, b in zip(ordered, ordered[1:], strict=False))


@given(PROFITS)
def test_property_peak_is_at_least_100_and_above_the_top_share(profits):
    ordered = profit.profits_in_order(profits)
    peak = profit.whale_curve_peak(ordered)
    share = profit.top_profit_share(ordered)
    if sum(ordered) <= 0:
        assert peak is None and share is None
        return
    assert peak >= 100.0 - 1e-6
    assert share <= peak + 1e-6
    reading = profit.whale_reading(ordered)
    assert 0 < reading.customers <= 100
    assert reading.lost >= -1e-6


@given(PROFITS)
def test_property_whale_curve_points(profits):
    ordered = profit.profits_in_order(profits)
    points = profit.whale_curve(ordered)
    if sum(ordered) <= 0:
        assert points == []
        return
    xs = [x for x, _y in points]
    assert xs == sorted(xs) and xs[0] == 0.0 and xs[-1] == pytest.approx(100.0)
    assert points[-1][1] == pytest.approx(100.0)
    assert len(points) >= min(len(ordered), 100) + 1
    peak = profit.whale_curve_peak(ordered)
    assert max(y for _x, y in points) == pytest.approx(peak)


@given(
    st.integers(0, 10_000),
    AMOUNTS,
    st.integers(1, 10_000),
    AMOUNTS,
    st.floats(0.01, 49.0),
    st.floats(50.0, 100.0),
    st.floats(0.0, 0.99),
    st.floats(1.0, 10.0),
)
def test_property_kotler_class_is_a_cell_or_nothing(
    customers, tier_profit, population, total, few, many, low, high
):
    params = profit.KotlerParams(few, many, high, low)
    assert profit.kotler_params_error(params) is None
    result = profit.kotler_class(customers, tier_profit, population, total, params)
    if customers == 0 or total <= 0:
        assert result.level is None
    else:
        assert result.count_class in ("few", "medium", "many")
        assert result.margin_class in ("high", "medium", "low")
        assert result.level in {
            "basic",
            "reactive",
            "accountable",
            "proactive",
            "partnership",
        }


@given(AMOUNTS, st.floats(0, 1e6), st.integers(1, 120))
def test_property_annual_profit_is_margin_minus_yearly_cost(margin, cost, window):
    value = profit.annual_profit(margin, cost, window)
    assert math.isfinite(value)
    assert value == pytest.approx(margin - cost * 12 / window, rel=1e-9, abs=1e-6)
    assert value <= margin + 1e-6


def test_profit_tier_by_hand():
    # 4 customers by profit: 1000 (id 3), 270 (id 1), 20 (id 4), -40 (id 2);
    # vip top 25 % = 1 customer, small the rest (100 %)
    tiers = [
        tiering.RevenueTier("vip", "top_percent", top_percent=25.0),
        tiering.RevenueTier("small", "amount", min_amount=50.0),
    ]
    assigned = profit.assign_profit_tiers(
        {1: 270.0, 2: -40.0, 3: 1000.0, 4: 20.0}, tiers
    )
    # 270 >= 50: small; 20 and -40 reach no threshold: the last tier
    assert assigned == {3: "vip", 1: "small", 4: "small", 2: "small"}
    assert profit.profit_tier([], 10.0, 1) is None


@given(st.dictionaries(st.integers(1, 5000), AMOUNTS, min_size=1, max_size=200))
def test_property_every_customer_gets_a_revenue_tier(profits):
    tiers = [
        tiering.RevenueTier("vip", "top_percent", top_percent=1.0),
        tiering.RevenueTier("large", "amount", min_amount=1000.0),
    ]
    assigned = profit.assign_profit_tiers(profits, tiers)
    assert set(assigned) == set(profits)
    assert set(assigned.values()) <= {"vip", "large"}
    # the top-ranked customer is vip
    best = min(profits, key=lambda pid: (-profits[pid], pid))
    assert assigned[best] == "vip"
