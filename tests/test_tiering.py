from crm_relationship.tools import tiering
from crm_relationship.tools.tiering import RevenueTier

DEFAULT = [
    RevenueTier("vip", "top_percent", top_percent=1),
    RevenueTier("large", "top_percent", top_percent=5),
    RevenueTier("medium", "top_percent", top_percent=20),
    RevenueTier("small", "top_percent", top_percent=100),
]


def test_rank_skips_non_positive_and_breaks_ties_by_id():
    ranks = tiering.rank_by_revenue({7: 100.0, 3: 100.0, 5: 250.0, 9: 0.0, 4: -10.0})
    assert ranks == {5: 1, 3: 2, 7: 3}


def test_top_rank_limit_rounds_up_without_float_noise():
    assert tiering.top_rank_limit(200, 5) == 10
    assert tiering.top_rank_limit(201, 5) == 11
    assert tiering.top_rank_limit(10, 1) == 1
    assert tiering.top_rank_limit(100, 100) == 100


def test_default_tiers_on_two_hundred_customers():
    revenues = {pid: float(1000 - pid) for pid in range(1, 201)}
    tiers = tiering.assign_revenue_tiers(revenues, DEFAULT)
    counts = {code: list(tiers.values()).count(code) for code in set(tiers.values())}
    # vip: ceil(2) = 2; large: ceil(10) - 2 = 8; medium: 40 - 10 = 30; small: the rest
    assert counts == {"vip": 2, "large": 8, "medium": 30, "small": 160}
    assert tiers[1] == "vip" and tiers[3] == "large" and tiers[11] == "medium"


def test_a_single_customer_is_in_the_top_one_percent():
    assert tiering.assign_revenue_tiers({42: 5.0}, DEFAULT) == {42: "vip"}


def test_amount_tiers_first_match_wins():
    tiers = [
        RevenueTier("gold", "amount", min_amount=1000),
        RevenueTier("silver", "amount", min_amount=100),
    ]
    result = tiering.assign_revenue_tiers({1: 1000.0, 2: 999.99, 3: 50.0}, tiers)
    assert result == {1: "gold", 2: "silver", 3: None}


def test_mixed_amount_and_percent():
    tiers = [
        RevenueTier("vip", "amount", min_amount=10_000),
        RevenueTier("large", "top_percent", top_percent=50),
        RevenueTier("small", "amount", min_amount=0),
    ]
    result = tiering.assign_revenue_tiers(
        {1: 20_000.0, 2: 500.0, 3: 400.0, 4: 1.0}, tiers
    )
    # rank 2 is within ceil(4 * 50 %) = 2: partner 2 is large, 3 and 4 are small
    assert result == {1: "vip", 2: "large", 3: "small", 4: "small"}


def test_unreachable_tier_detection():
    assert tiering.unreachable_tier(DEFAULT) is None
    shrinking = [
        RevenueTier("a", "top_percent", top_percent=20),
        RevenueTier("b", "top_percent", top_percent=5),
    ]
    assert tiering.unreachable_tier(shrinking).key == "b"
    growing_amount = [
        RevenueTier("a", "amount", min_amount=100),
        RevenueTier("b", "amount", min_amount=500),
    ]
    assert tiering.unreachable_tier(growing_amount).key == "b"
    after_catch_all = [
        RevenueTier("all", "top_percent", top_percent=100),
        RevenueTier("x", "amount", min_amount=1_000_000),
    ]
    assert tiering.unreachable_tier(after_catch_all).key == "x"
    mixed = [
        RevenueTier("a", "amount", min_amount=1000),
        RevenueTier("b", "top_percent", top_percent=10),
        RevenueTier("c", "amount", min_amount=10),
    ]
    assert tiering.unreachable_tier(mixed) is None
