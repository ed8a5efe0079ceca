import pytest
from reference import quintile_scores, rfm_scores

from crm_relationship.tools import rfm


def test_quintiles_of_ten_distinct_values():
    scores = quintile_scores({pid: float(pid) for pid in range(1, 11)})
    assert [scores[pid] for pid in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_ties_share_a_score_whatever_the_order():
    scores = quintile_scores({1: 10.0, 2: 10.0, 3: 10.0, 4: 1.0, 5: 1.0})
    assert scores == {1: 5, 2: 5, 3: 5, 4: 2, 5: 2}


def test_single_value_scores_five():
    assert quintile_scores({1: 3.0}) == {1: 5}


def test_recency_fewer_days_is_better():
    scores = rfm_scores(
        {1: 5, 2: 300, 3: 40, 4: 120, 5: 200},
        {1: 1, 2: 1, 3: 1, 4: 1, 5: 9},
        {1: 10.0, 2: 20.0, 3: 30.0, 4: 40.0, 5: 50.0},
    )
    assert scores[1] == (5, 4, 1)
    assert scores[2] == (1, 4, 2)
    assert scores[5] == (2, 5, 5)


@pytest.mark.parametrize(
    "recency, frequency, segment",
    [
        (5, 5, "champions"),
        (5, 4, "champions"),
        (4, 5, "loyal"),
        (3, 4, "loyal"),
        (5, 1, "new_customer"),
        (4, 1, "promising"),
        (5, 2, "potential_loyalist"),
        (3, 3, "need_attention"),
        (3, 1, "about_to_sleep"),
        (2, 3, "at_risk"),
        (1, 4, "at_risk"),
        (2, 5, "cannot_lose"),
        (2, 2, "hibernating"),
        (1, 2, "hibernating"),
        (1, 1, "lost"),
    ],
)
def test_segment_grid(recency, frequency, segment):
    assert rfm.rfm_segment(recency, frequency) == segment


def test_every_grid_cell_is_a_known_segment():
    cells = {rfm.rfm_segment(r, f) for r in range(1, 6) for f in range(1, 6)}
    assert cells == set(rfm.SEGMENTS)


@pytest.mark.parametrize("recency, frequency", [(0, 3), (3, 0), (6, 1), (None, 2)])
def test_scores_off_the_grid_are_refused(recency, frequency):
    # a frequency score of 0 used to read the grid's last column (index -1)
    with pytest.raises(ValueError, match="RFM scores must lie in 1..5"):
        rfm.rfm_segment(recency, frequency)
