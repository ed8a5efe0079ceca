"""Explainable health score and relationship history (see docs/rules.md).

Each component is scored 0..100 from the facts it reads, or has no data
(score None); the health score is the weighted mean of the components that
have data, rounded half up. Each component keeps its facts, so that the
partner can say in one sentence why it scored what it did.
"""

import math
from dataclasses import dataclass
from typing import NamedTuple

COMPONENTS = ("activity", "trend", "care", "service", "satisfaction")
DEFAULT_WEIGHTS = {
    "activity": 30,
    "trend": 25,
    "care": 15,
    "service": 15,
    "satisfaction": 15,
}
HEALTHY_MIN = 70
WATCH_MIN = 40
CARE_STATUS_SCORES = {"on_time": 100, "due_soon": 50, "overdue": 0}


class Component(NamedTuple):
    """One component of a customer's health: ``score`` None means no data.
    A named tuple: the classification builds five per customer."""

    code: str
    score: float | None
    facts: tuple  # ((name, value), ...): what the score was computed from
    weight: float = 0.0

    @property
    def has_data(self):
        return self.score is not None


class HealthScore(NamedTuple):
    score: int | None  # None when no weighted component has data
    band: str | None  # healthy, watch, at_risk
    components: tuple  # Component per code of COMPONENTS, weight filled in

    def component(self, code):
        return next(item for item in self.components if item.code == code)


# ---------------------------------------------------------------------------
# Components
# ---------------------------------------------------------------------------


def activity_component(probability_alive=None, recency_score=None):
    """100 * probability alive when the predictive fit is in use, else
    25 * (RFM recency score - 1), and 0 without purchase in the window (no RFM
    recency score). Always has data: only customers who ever bought are scored.
    """
    if probability_alive is not None:
        score = 100.0 * probability_alive
        facts = (("probability_alive", probability_alive),)
    elif recency_score:
        score = 25.0 * (recency_score - 1)
        facts = (("recency_score", recency_score),)
    else:
        score = 0.0
        facts = (("purchased_in_window", False),)
    return Component("activity", score, facts)


def trend_component(revenue, previous_revenue):
    """R_prev > 0: clamp(50 + 50 (R - R_prev) / R_prev, 0, 100); R <= 0 and
    R_prev <= 0: 0; otherwise (first revenue in this window) no data.
    """
    facts = (("revenue", revenue), ("previous_revenue", previous_revenue))
    if previous_revenue > 0:
        change = (revenue - previous_revenue) / previous_revenue
        score = min(100.0, max(0.0, 50.0 + 50.0 * change))
        return Component("trend", score, facts + (("change", change),))
    if revenue <= 0:
        return Component("trend", 0.0, facts)
    return Component("trend", None, facts)


def care_component(care_status):
    """on_time 100, due_soon 50, overdue 0; no care status: no data."""
    if not care_status:
        return Component("care", None, ())
    if care_status not in CARE_STATUS_SCORES:
        raise ValueError(f"Unknown care status {care_status!r}")
    score = float(CARE_STATUS_SCORES[care_status])
    return Component("care", score, (("care_status", care_status),))


def service_component(overdue_complaints):
    """100 - 50 per complaint open past its deadline at the as-of date, floor 0."""
    score = max(0.0, 100.0 - 50.0 * overdue_complaints)
    return Component("service", score, (("overdue_complaints", overdue_complaints),))


def satisfaction_component(csat_scores=(), nps_scores=()):
    """Mean of the survey answers of the window, a CSAT c (1..5) counting as
    25 (c - 1) and an NPS n (0..10) as 10 n; no answer: no data.

    An answer None (a recommendation ticked without a score) is no answer and
    is left out; an answer off its scale raises ValueError. The facts count
    the answers used. See docs/rules.md.
    """
    if not csat_scores and not nps_scores:
        return NO_ANSWER  # most customers: one component for all
    csat_scores = [c for c in csat_scores if c is not None]
    nps_scores = [n for n in nps_scores if n is not None]
    if not all(1 <= c <= 5 for c in csat_scores):
        raise ValueError(f"A CSAT answer is off its scale 1..5: {csat_scores}")
    if not all(0 <= n <= 10 for n in nps_scores):
        raise ValueError(f"An NPS answer is off its scale 0..10: {nps_scores}")
    values = [25.0 * (c - 1) for c in csat_scores] + [10.0 * n for n in nps_scores]
    facts = (("csat_count", len(csat_scores)), ("nps_count", len(nps_scores)))
    if not values:
        return Component("satisfaction", None, facts)
    return Component("satisfaction", sum(values) / len(values), facts)


NO_ANSWER = Component("satisfaction", None, (("csat_count", 0), ("nps_count", 0)))

# ---------------------------------------------------------------------------
# Score
# ---------------------------------------------------------------------------


class HealthSettingError(ValueError):
    """A weight or band limit the health score cannot use; ``reason`` names the
    rule it breaks, for a caller that words it itself: ``weight_missing``,
    ``weight_negative``, ``weights_all_zero``, ``band_out_of_range`` or
    ``bands_inverted``."""

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason


def check_weights(weights):
    """Return ``{code: float weight}`` for every component; HealthSettingError
    (a ValueError) when a weight is missing or below 0, or when all are 0.
    """
    missing = [code for code in COMPONENTS if code not in weights]
    if missing:
        raise HealthSettingError(
            "weight_missing", "Health score weight missing for: " + ", ".join(missing)
        )
    checked = {code: float(weights[code]) for code in COMPONENTS}
    negative = [code for code, weight in checked.items() if weight < 0]
    if negative:
        raise HealthSettingError(
            "weight_negative",
            "Health score weights cannot be negative: " + ", ".join(negative),
        )
    if not any(checked.values()):
        raise HealthSettingError(
            "weights_all_zero", "At least one health score weight must be above 0"
        )
    return checked


def check_bands(healthy_min=HEALTHY_MIN, watch_min=WATCH_MIN):
    """HealthSettingError (a ValueError) unless 0 <= watch_min <= healthy_min
    <= 100."""
    for limit in (healthy_min, watch_min):
        if not 0 <= limit <= 100:
            raise HealthSettingError(
                "band_out_of_range", "Health band limits must lie between 0 and 100"
            )
    if watch_min > healthy_min:
        raise HealthSettingError(
            "bands_inverted",
            "The lower limit of the healthy band must not be below that of watch",
        )


def health_band(score, healthy_min=HEALTHY_MIN, watch_min=WATCH_MIN):
    """healthy >= healthy_min, watch >= watch_min, else at_risk; None for None."""
    if score is None:
        return None
    if score >= healthy_min:
        return "healthy"
    if score >= watch_min:
        return "watch"
    return "at_risk"


def round_half_up(value):
    """Round to the nearest integer, halves up (62.5 -> 63), as by hand."""
    return math.floor(value + 0.5 + 1e-9)


def health_scorer(weights=None, healthy_min=HEALTHY_MIN, watch_min=WATCH_MIN):
    """The function a classification applies to every customer: from one
    ``Component`` per code of COMPONENTS (built by the ``*_component``
    functions, in any order; else ValueError) it returns a ``HealthScore``,
    score = round(sum(w * s) / sum(w)) over the components with data (an int
    0..100), or None when the components with data all weigh 0.

    ``weights`` maps each code to its weight (default DEFAULT_WEIGHTS); the
    weights and band limits are checked once, here (bad ones raise ValueError).
    """
    checked = check_weights(DEFAULT_WEIGHTS if weights is None else weights)
    check_bands(healthy_min, watch_min)
    weights = tuple(checked[code] for code in COMPONENTS)
    order = {code: index for index, code in enumerate(COMPONENTS)}

    def score_components(components):
        if tuple([item[0] for item in components]) != COMPONENTS:
            # any order is accepted, one component of each kind
            by_code = {component.code: component for component in components}
            if len(components) != len(COMPONENTS) or by_code.keys() != order.keys():
                raise ValueError(
                    "One component of each kind is needed: " + ", ".join(COMPONENTS)
                )
            components = [by_code[code] for code in COMPONENTS]
        weighted = tuple(
            [
                Component(code, score, facts, weight)
                for (code, score, facts, _weight), weight in zip(
                    components, weights, strict=True
                )
            ]
        )
        total_weight = weighted_sum = 0.0
        for _code, score, _facts, weight in weighted:
            if score is not None:
                total_weight += weight
                weighted_sum += weight * score
        if not total_weight:
            return HealthScore(None, None, weighted)
        score = round_half_up(weighted_sum / total_weight)
        return HealthScore(score, health_band(score, healthy_min, watch_min), weighted)

    return score_components


# ---------------------------------------------------------------------------
# Relationship history
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RelationshipState:
    """What a history row follows: tier (id or code), status, level, health band."""

    tier: object = None
    status: str | None = None
    level: str | None = None
    health_band: str | None = None


def history_due(previous, new):
    """A history row is due at the first classification (``previous`` None) and
    whenever the tier, status, level or health band changed; moving figures
    alone (revenue, the score within its band) write nothing.
    """
    return previous is None or previous != new
