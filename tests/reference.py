"""Reference versions of rules that production computes elsewhere, for tests.

The RFM quintile scores are computed in SQL over a whole company
(``crm.relationship.facts._ranked_sales_sql``: ``ceil(5 * cume_dist())``); this
is the same rule in Python, to state it by examples and properties.
"""

import math
from bisect import bisect_right


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
