"""Properties of the RFM segment grid (tools/rfm.py) and of the quintile rule
the SQL computes (tests/reference.py)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference import quintile_scores

from crm_relationship.tools import rfm

scores = st.integers(1, 5)


@given(scores, scores)
def test_every_pair_of_scores_has_a_segment(recency, frequency):
    assert rfm.rfm_segment(recency, frequency) in rfm.SEGMENTS


@given(st.one_of(st.none(), st.integers()), st.one_of(st.none(), st.integers()))
def test_a_score_off_the_scale_is_refused(recency, frequency):
    if recency in range(1, 6) and frequency in range(1, 6):
        return
    with pytest.raises(ValueError, match="RFM scores"):
        rfm.rfm_segment(recency, frequency)


@given(st.dictionaries(st.integers(), st.floats(-1e12, 1e12), min_size=1))
def test_quintiles_score_ties_alike_and_the_best_five(values):
    result = quintile_scores(values)
    assert result.keys() == values.keys()
    assert set(result.values()) <= {1, 2, 3, 4, 5}
    assert result[max(values, key=values.get)] == 5
    for key, value in values.items():
        for other, other_value in values.items():
            if value < other_value:
                assert result[key] <= result[other]
            elif value == other_value:
                assert result[key] == result[other]
