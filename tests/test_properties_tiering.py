"""Properties of the tier assignment (tools/tiering.py) over its domain."""

import itertools
import math

from hypothesis import given
from hypothesis import strategies as st

from crm_relationship.tools import tiering
from crm_relationship.tools.tiering import RevenueTier

# few distinct amounts, so that ties are common
revenues = st.dictionaries(
    st.integers(1, 10**6),
    st.one_of(st.sampled_from([-50.0, 0.0, 100.0, 2500.0]), st.floats(-1e12, 1e12)),
    max_size=30,
)
tier_lists = st.lists(
    st.one_of(
        st.builds(
            RevenueTier,
            st.none(),
            st.just(tiering.AMOUNT),
            min_amount=st.one_of(st.sampled_from([0.0, 100.0]), st.floats(0, 1e12)),
        ),
        st.builds(
            RevenueTier,
            st.none(),
            st.just(tiering.TOP_PERCENT),
            top_percent=st.one_of(
                st.sampled_from([1.0, 5.0, 100.0]), st.floats(0, 100)
            ),
        ),
    ),
    max_size=6,
).map(
    lambda tiers: [  # the key is the position in sequence order
        RevenueTier(index, tier.threshold_type, tier.min_amount, tier.top_percent)
        for index, tier in enumerate(tiers)
    ]
)


def before(revenue, pid_a, pid_b):
    """Whether a ranks before b: more revenue, or the same and a lower id."""
    return (-revenue[pid_a], pid_a) < (-revenue[pid_b], pid_b)


@given(revenues)
def test_ranks_number_the_buyers_by_revenue_ties_by_id(revenue):
    ranks = tiering.rank_by_revenue(revenue)
    assert ranks.keys() == {pid for pid, amount in revenue.items() if amount > 0}
    assert sorted(ranks.values()) == list(range(1, len(ranks) + 1))
    order = sorted(ranks, key=ranks.get)
    assert all(before(revenue, a, b) for a, b in itertools.pairwise(order))


@given(st.integers(0, 10**6), st.floats(0, 100))
def test_top_rank_limit_rounds_the_share_up(population, top_percent):
    limit = tiering.top_rank_limit(population, top_percent)
    share = population * top_percent / 100
    assert isinstance(limit, int) and 0 <= limit <= population
    assert share - 1e-6 <= limit < share + 1


@given(revenues, tier_lists)
def test_every_buyer_gets_the_first_tier_it_reaches_in_rank_order(revenue, tiers):
    assigned = tiering.assign_revenue_tiers(revenue, tiers)
    ranks = tiering.rank_by_revenue(revenue)
    assert assigned.keys() == ranks.keys()
    assert set(assigned.values()) <= {tier.key for tier in tiers} | {None}
    assert tiering.assign_revenue_tiers(revenue, tiers, ranks) == assigned
    # a customer ranked before another never gets a later tier
    order = sorted(ranks, key=ranks.get)
    indexes = [math.inf if assigned[pid] is None else assigned[pid] for pid in order]
    assert indexes == sorted(indexes)
    catch_all = any(
        tier.threshold_type == tiering.AMOUNT
        and tier.min_amount <= 0
        or tier.threshold_type == tiering.TOP_PERCENT
        and tier.top_percent >= 100
        for tier in tiers
    )
    if catch_all:
        assert None not in assigned.values()


@given(revenues, tier_lists)
def test_an_unreachable_tier_is_never_assigned(revenue, tiers):
    unreachable = tiering.unreachable_tier(tiers)
    assert unreachable is None or unreachable in tiers
    if unreachable is not None:
        assigned = tiering.assign_revenue_tiers(revenue, tiers)
        assert unreachable.key not in assigned.values()
