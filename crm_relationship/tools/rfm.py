"""The classic recency x frequency segment grid of the RFM scores.

The scores themselves (1..5 by quintile, ``ceil(5 * cume_dist())``) are computed
in SQL over the whole company; see docs/rules.md.
"""

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


def rfm_segment(recency_score, frequency_score):
    """Segment of the classic grid for a (recency, frequency) pair of scores 1..5;
    any other pair (None included: no purchase in the window) raises ValueError."""
    if recency_score not in _GRID or frequency_score not in _GRID:
        raise ValueError(
            f"RFM scores must lie in 1..5: ({recency_score}, {frequency_score})"
        )
    return _GRID[recency_score][frequency_score - 1]
