"""RFM scores by quintile and the classic recency x frequency segment grid."""

import math
from bisect import bisect_right

SEGMENTS = (
    "champions",
    "loyal",
    "potential_loyalist",
    "new_customer",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cannot_lose",
    "hibernating",
    "lost",
)

# rows: recency score 5..1, columns: frequency score 1..5
_POT = "potential_loyalist"
_GRID = {
    5: ("new_customer", _POT, _POT, "champions", "champions"),
    4: ("promising", _POT, _POT, "loyal", "loyal"),
    3: ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    2: ("hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose"),
    1: ("lost", "hibernating", "at_risk", "at_risk", "cannot_lose"),
}  # fmt: skip


def quintile_scores(values):
    """Score ``{key: value}`` from 1 to 5 by quintile, higher values scoring higher.

    The score is ``ceil(5 * share of values <= this one)`` (PostgreSQL's
    ``ceil(5 * cume_dist())``): equal values get equal scores, whatever their
    order, and the best value always scores 5.
    """
    ordered = sorted(values.values())
    population = len(ordered)
    return {
        key: max(1, math.ceil(round(5 * bisect_right(ordered, value) / population, 9)))
        for key, value in values.items()
    }


def rfm_scores(recency_days, frequency, monetary):
    """Return ``{key: (r, f, m)}``; recency counts days, so fewer days score higher."""
    recency = quintile_scores({key: -days for key, days in recency_days.items()})
    freq = quintile_scores(frequency)
    money = quintile_scores(monetary)
    return {key: (recency[key], freq[key], money[key]) for key in recency_days}


def rfm_segment(recency_score, frequency_score):
    """Segment of the classic grid for a (recency, frequency) pair of scores 1..5."""
    return _GRID[recency_score][frequency_score - 1]
