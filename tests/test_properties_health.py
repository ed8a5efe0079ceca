"""Properties of the health score (tools/health.py) over its whole domain."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crm_relationship.tools import health

BANDS = (None, "healthy", "watch", "at_risk")
money = st.floats(allow_nan=False, allow_infinity=False)
csat = st.one_of(st.none(), st.integers(1, 5))
nps = st.one_of(st.none(), st.integers(0, 10))
weight = st.one_of(st.integers(0, 100), st.floats(0, 1e6))
weights = st.fixed_dictionaries(dict.fromkeys(health.COMPONENTS, weight))
limits = st.integers(0, 100)


def in_range(component):
    return component.score is None or 0.0 <= component.score <= 100.0


components = st.tuples(
    st.builds(
        health.activity_component,
        st.one_of(st.none(), st.floats(0, 1)),
        st.one_of(st.none(), st.integers(1, 5)),
    ),
    st.builds(health.trend_component, money, money),
    st.builds(
        health.care_component,
        st.sampled_from((None, False, "on_time", "due_soon", "overdue")),
    ),
    st.builds(health.service_component, st.integers(0, 1000)),
    st.builds(health.satisfaction_component, st.lists(csat, max_size=8), st.lists(nps)),
)


@given(st.one_of(st.none(), st.floats(0, 1)), st.one_of(st.none(), st.integers(1, 5)))
def test_activity_always_has_a_score_in_range(probability_alive, recency_score):
    component = health.activity_component(probability_alive, recency_score)
    assert component.has_data and in_range(component)


@given(money, money)
@example(1e308, 1e-308)
@example(-1e308, 1e308)
def test_trend_is_in_range_or_has_no_data(revenue, previous_revenue):
    component = health.trend_component(revenue, previous_revenue)
    assert in_range(component)
    # no data exactly for a first revenue: nothing before, something now
    assert (component.score is None) == (previous_revenue <= 0 < revenue)


@given(st.text(max_size=10))
def test_an_unknown_care_status_is_refused(status):
    if status and status not in health.CARE_STATUS_SCORES:
        with pytest.raises(ValueError, match="Unknown care status"):
            health.care_component(status)
    else:
        assert in_range(health.care_component(status))


@given(st.integers(0, 10**9))
def test_service_is_in_range(overdue_complaints):
    assert in_range(health.service_component(overdue_complaints))


@given(st.lists(csat), st.lists(nps))
@example([None], [None])  # issue 18: a recommendation answered without a score
def test_satisfaction_ignores_answers_without_score(csat_scores, nps_scores):
    component = health.satisfaction_component(csat_scores, nps_scores)
    assert in_range(component)
    answered = [c for c in csat_scores if c is not None]
    answered += [n for n in nps_scores if n is not None]
    assert component.has_data == bool(answered)
    facts = dict(component.facts)
    assert facts["csat_count"] + facts["nps_count"] == len(answered)


@given(
    st.lists(st.integers().filter(lambda c: not 1 <= c <= 5), min_size=1, max_size=3),
    st.lists(st.integers().filter(lambda n: not 0 <= n <= 10), max_size=3),
)
def test_satisfaction_refuses_answers_off_the_scales(csat_scores, nps_scores):
    with pytest.raises(ValueError, match="off its scale"):
        health.satisfaction_component(csat_scores, nps_scores)
    with pytest.raises(ValueError, match="off its scale"):
        health.satisfaction_component((), [11] + nps_scores)


@given(weights, limits, limits, components)
def test_a_score_is_an_int_in_range_with_its_band(
    weights, healthy_min, watch_min, parts
):
    try:
        scorer = health.health_scorer(weights, healthy_min, watch_min)
    except ValueError:
        assert not any(weights.values()) or watch_min > healthy_min
        return
    result = scorer(parts)
    assert result.band in BANDS
    if result.score is None:
        assert result.band is None
        assert not any(item.weight for item in result.components if item.has_data)
    else:
        assert isinstance(result.score, int) and 0 <= result.score <= 100
        assert result.band == health.health_band(result.score, healthy_min, watch_min)
        scores = [
            item.score for item in result.components if item.has_data and item.weight
        ]
        # a weighted mean lies between the lowest and the highest score, rounded
        assert round(min(scores)) - 1 <= result.score <= round(max(scores)) + 1


@given(
    st.dictionaries(
        st.sampled_from(health.COMPONENTS),
        st.one_of(weight, st.floats(max_value=-1e-9), st.integers(max_value=-1)),
    )
)
def test_weights_are_checked(weights):
    complete = weights.keys() == set(health.COMPONENTS)
    valid = complete and all(w >= 0 for w in weights.values()) and any(weights.values())
    if valid:
        assert health.check_weights(weights) == {
            code: float(weights[code]) for code in health.COMPONENTS
        }
    else:
        with pytest.raises(ValueError):
            health.check_weights(weights)


@given(st.integers(-50, 150), st.integers(-50, 150))
def test_band_limits_are_checked(healthy_min, watch_min):
    if 0 <= watch_min <= healthy_min <= 100:
        assert health.check_bands(healthy_min, watch_min) is None
    else:
        with pytest.raises(ValueError):
            health.check_bands(healthy_min, watch_min)


@given(st.one_of(st.none(), st.integers(0, 100)), limits, limits)
def test_band_of_any_score(score, healthy_min, watch_min):
    band = health.health_band(score, healthy_min, watch_min)
    assert band in BANDS
    assert (band is None) == (score is None)


@given(st.floats(-1e15, 1e15))
def test_round_half_up_is_the_nearest_integer(value):
    rounded = health.round_half_up(value)
    assert isinstance(rounded, int)
    assert -0.5 <= rounded - value <= 0.5


states = st.builds(
    health.RelationshipState,
    st.one_of(st.none(), st.integers(1, 3)),
    st.sampled_from((None, "new", "active")),
    st.sampled_from((None, "basic", "partnership")),
    st.sampled_from(BANDS),
)


@given(st.one_of(st.none(), states), states)
def test_history_is_due_exactly_when_the_state_changes(previous, new):
    assert health.history_due(previous, new) == (previous is None or previous != new)
