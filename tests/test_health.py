"""Health score components, weights, bands and the history rule, by hand."""

import pytest

from crm_relationship.tools import health
from crm_relationship.tools.health import (
    RelationshipState,
    activity_component,
    care_component,
    history_due,
    satisfaction_component,
    service_component,
    trend_component,
)


def health_score(parts, weights=None, healthy_min=70, watch_min=40):
    """The score of ``parts`` with these weights and bands (defaults: 30, 25,
    15, 15, 15; healthy from 70, watch from 40)."""
    return health.health_scorer(weights, healthy_min, watch_min)(parts)


def components(
    activity=None,
    trend=None,
    care=None,
    service=None,
    satisfaction=None,
):
    """Every component, without data unless given (activity: no purchase)."""
    return [
        activity or activity_component(),
        trend or trend_component(100.0, 0.0),
        care or care_component(None),
        service or service_component(0),
        satisfaction or satisfaction_component(),
    ]


# ---------------------------------------------------------------------------
# Components
# ---------------------------------------------------------------------------


def test_activity_from_probability_alive_when_predictive():
    component = activity_component(probability_alive=0.726, recency_score=2)
    assert component.score == pytest.approx(72.6)
    assert component.facts == (("probability_alive", 0.726),)


@pytest.mark.parametrize(
    "recency_score, expected", [(1, 0), (2, 25), (3, 50), (4, 75), (5, 100)]
)
def test_activity_from_rfm_recency(recency_score, expected):
    assert activity_component(recency_score=recency_score).score == expected


def test_activity_without_purchase_in_the_window_is_zero():
    component = activity_component(recency_score=None)
    assert component.score == 0
    assert component.has_data
    assert component.facts == (("purchased_in_window", False),)


@pytest.mark.parametrize(
    "revenue, previous, expected",
    [
        (1000.0, 1000.0, 50.0),  # flat
        (1300.0, 1000.0, 65.0),  # +30 %: 50 + 50 * 0.3
        (600.0, 1000.0, 30.0),  # -40 %: 50 - 50 * 0.4
        (2500.0, 1000.0, 100.0),  # +150 %, clamped at 100
        (0.0, 1000.0, 0.0),  # -100 %
        (-200.0, 1000.0, 0.0),  # credit notes only: clamped at 0
        (0.0, 0.0, 0.0),  # no revenue in either window
        (-50.0, 0.0, 0.0),
    ],
)
def test_trend(revenue, previous, expected):
    assert trend_component(revenue, previous).score == pytest.approx(expected)


def test_trend_of_a_first_revenue_has_no_data():
    component = trend_component(800.0, 0.0)
    assert component.score is None and not component.has_data
    assert trend_component(800.0, -20.0).score is None


def test_trend_facts():
    facts = dict(trend_component(1300.0, 1000.0).facts)
    assert facts["revenue"] == 1300.0 and facts["previous_revenue"] == 1000.0
    assert facts["change"] == pytest.approx(0.3)


@pytest.mark.parametrize(
    "status, expected", [("on_time", 100), ("due_soon", 50), ("overdue", 0)]
)
def test_care(status, expected):
    component = care_component(status)
    assert component.score == expected
    assert component.facts == (("care_status", status),)


def test_care_without_status_has_no_data():
    assert care_component(None).score is None
    assert care_component(False).score is None
    with pytest.raises(ValueError, match="Unknown care status"):
        care_component("late")


@pytest.mark.parametrize("overdue, expected", [(0, 100), (1, 50), (2, 0), (5, 0)])
def test_service(overdue, expected):
    component = service_component(overdue)
    assert component.score == expected
    assert component.facts == (("overdue_complaints", overdue),)


def test_satisfaction_pools_csat_and_nps():
    # CSAT 5 -> 100, CSAT 2 -> 25, NPS 9 -> 90, NPS 0 -> 0: mean 53.75
    component = satisfaction_component(csat_scores=[5, 2], nps_scores=[9, 0])
    assert component.score == pytest.approx(53.75)
    assert dict(component.facts) == {"csat_count": 2, "nps_count": 2}
    assert satisfaction_component(csat_scores=[1]).score == 0
    assert satisfaction_component(nps_scores=[10]).score == 100


def test_satisfaction_leaves_out_answers_without_score():
    # issue 18: a recommendation ticked without a score is stored empty (None)
    # CSAT 5 -> 100 and NPS 8 -> 80: mean 90; the None answers count for nothing
    component = satisfaction_component(csat_scores=[5, None], nps_scores=[None, 8])
    assert component.score == pytest.approx(90.0)
    assert dict(component.facts) == {"csat_count": 1, "nps_count": 1}
    assert satisfaction_component([None], [None]).score is None


def test_satisfaction_refuses_answers_off_their_scales():
    with pytest.raises(ValueError, match="CSAT answer is off its scale"):
        satisfaction_component(csat_scores=[0])
    with pytest.raises(ValueError, match="NPS answer is off its scale"):
        satisfaction_component(nps_scores=[11])


def test_satisfaction_without_answers_has_no_data():
    assert satisfaction_component().score is None
    assert satisfaction_component([], []).score is None


# ---------------------------------------------------------------------------
# Score and bands
# ---------------------------------------------------------------------------


def test_score_with_every_component():
    result = health_score(
        components(
            activity_component(recency_score=4),  # 75 x 30
            trend_component(1300.0, 1000.0),  # 65 x 25
            care_component("due_soon"),  # 50 x 15
            service_component(1),  # 50 x 15
            satisfaction_component(csat_scores=[4, 5]),  # 87.5 x 15
        )
    )
    # (2250 + 1625 + 750 + 750 + 1312.5) / 100 = 66.875 -> 67
    assert result.score == 67
    assert result.band == "watch"


def test_components_without_data_leave_the_mean():
    result = health_score(components(activity_component(recency_score=5)))
    # activity 100 x 30, service 100 x 15; trend, care, satisfaction have no data
    assert result.score == 100
    assert result.band == "healthy"
    assert [item.weight for item in result.components] == [30, 25, 15, 15, 15]
    assert [item.has_data for item in result.components] == [
        True,
        False,
        False,
        True,
        False,
    ]


def test_lost_customer_scores_low():
    result = health_score(
        components(
            activity_component(probability_alive=0.1),  # 10 x 30
            trend_component(0.0, 500.0),  # 0 x 25
            care_component("overdue"),  # 0 x 15
            service_component(3),  # 0 x 15
        )
    )
    # 300 / 85 = 3.53 -> 4
    assert result.score == 4
    assert result.band == "at_risk"


def test_score_rounds_halves_up():
    # activity 25 x 30 + service 100 x 15 + satisfaction 12.5 x 15 (CSAT 1 and 2)
    # = (750 + 1500 + 187.5) / 60 = 40.625 -> 41
    parts = components(
        activity_component(recency_score=2),
        satisfaction=satisfaction_component(csat_scores=[1, 2]),
    )
    assert health_score(parts).score == 41
    # activity 25 and service 100, equal weights: 62.5 -> 63 (not 62)
    weights = dict.fromkeys(health.COMPONENTS, 1)
    assert (
        health_score(components(activity_component(recency_score=2)), weights).score
        == 63
    )


def test_weights_are_parameters():
    weights = {"activity": 0, "trend": 1, "care": 0, "service": 3, "satisfaction": 0}
    result = health_score(
        components(
            activity_component(recency_score=5),
            trend_component(600.0, 1000.0),  # 30
            service=service_component(1),  # 50
        ),
        weights,
    )
    # (30 * 1 + 50 * 3) / 4 = 45
    assert result.score == 45
    assert result.component("activity").weight == 0


def test_no_weighted_component_with_data_gives_no_score():
    weights = {"activity": 0, "trend": 0, "care": 5, "service": 0, "satisfaction": 0}
    result = health_score(components(), weights)
    assert (result.score, result.band) == (None, None)


@pytest.mark.parametrize(
    "weights, message",
    [
        ({"activity": -1}, "cannot be negative: activity"),
        (dict.fromkeys(health.COMPONENTS, 0), "At least one health score weight"),
    ],
)
def test_bad_weights_are_refused(weights, message):
    with pytest.raises(ValueError, match=message):
        health_score(components(), health.DEFAULT_WEIGHTS | weights)


@pytest.mark.parametrize(
    "weights, bands, reason",
    [
        ({"care": -1}, (70, 40), "weight_negative"),
        (dict.fromkeys(health.COMPONENTS, 0), (70, 40), "weights_all_zero"),
        ({}, (101, 40), "band_out_of_range"),
        ({}, (70, -1), "band_out_of_range"),
        ({}, (40, 70), "bands_inverted"),
    ],
)
def test_bad_settings_name_the_rule_they_break(weights, bands, reason):
    with pytest.raises(health.HealthSettingError) as caught:
        health.check_weights(health.DEFAULT_WEIGHTS | weights)
        health.check_bands(*bands)
    assert caught.value.reason == reason


def test_missing_weight_is_refused():
    weights = dict(health.DEFAULT_WEIGHTS)
    del weights["care"]
    with pytest.raises(ValueError, match="missing for: care") as caught:
        health.check_weights(weights)
    assert caught.value.reason == "weight_missing"


def test_every_component_is_needed():
    with pytest.raises(ValueError, match="One component of each kind"):
        health_score(components()[:4])


def test_a_scorer_checks_its_parameters_once():
    with pytest.raises(ValueError, match="cannot be negative: care"):
        health.health_scorer(health.DEFAULT_WEIGHTS | {"care": -1})
    with pytest.raises(ValueError):
        health.health_scorer(healthy_min=30, watch_min=40)
    weights = {"activity": 2, "trend": 0, "care": 1, "service": 0, "satisfaction": 1}
    score = health.health_scorer(weights, healthy_min=90, watch_min=60)
    parts = components(
        activity_component(recency_score=3),  # 50
        care=care_component("due_soon"),  # 50
        satisfaction=satisfaction_component((5,), (10,)),  # 100
    )
    # (50 * 2 + 50 * 1 + 100 * 1) / 4 = 62.5, halves up: 63, watch (60..89)
    assert (score(parts).score, score(parts).band) == (63, "watch")
    # the same parts with healthy from 60: healthy
    assert health.health_scorer(weights, 60, 40)(parts).band == "healthy"
    with pytest.raises(ValueError, match="One component of each kind"):
        score(parts[:4])


@pytest.mark.parametrize(
    "score, band",
    [(100, "healthy"), (70, "healthy"), (69, "watch"), (40, "watch"), (39, "at_risk")],
)
def test_default_bands(score, band):
    assert health.health_band(score) == band


def test_band_limits_are_parameters():
    assert health.health_band(75, healthy_min=80, watch_min=50) == "watch"
    assert health.health_band(45, healthy_min=80, watch_min=50) == "at_risk"
    assert health.health_band(None) is None
    result = health_score(
        components(activity_component(recency_score=4)),  # (2250 + 1500) / 45
        healthy_min=85,
        watch_min=60,
    )
    assert (result.score, result.band) == (83, "watch")


@pytest.mark.parametrize("healthy_min, watch_min", [(101, 40), (70, -1), (30, 40)])
def test_bad_band_limits_are_refused(healthy_min, watch_min):
    with pytest.raises(ValueError):
        health_score(components(), healthy_min=healthy_min, watch_min=watch_min)


# ---------------------------------------------------------------------------
# Relationship history
# ---------------------------------------------------------------------------

BEFORE = RelationshipState(
    tier=3, status="active", level="reactive", health_band="watch"
)


def test_first_classification_always_writes_history():
    assert history_due(None, BEFORE)
    assert history_due(None, RelationshipState())


def test_unchanged_state_writes_nothing():
    same = RelationshipState(
        tier=3, status="active", level="reactive", health_band="watch"
    )
    assert not history_due(BEFORE, same)


@pytest.mark.parametrize(
    "change",
    [
        {"tier": 2},
        {"status": "loyal"},
        {"level": "accountable"},
        {"health_band": "healthy"},
        {"health_band": None},
    ],
)
def test_any_of_the_four_changing_writes_history(change):
    after = RelationshipState(**(vars(BEFORE) | change))
    assert history_due(BEFORE, after)
