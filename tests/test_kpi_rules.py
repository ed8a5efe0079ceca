from datetime import date

import pytest

from crm_relationship.tools import kpi


def test_rate_and_empty_denominator():
    assert kpi.rate(1, 4) == 25.0
    assert kpi.rate(0, 3) == 0.0
    assert kpi.rate(2, 0) is None


def test_average():
    assert kpi.average([1, 2, 6]) == 3.0
    assert kpi.average([]) is None
    assert kpi.average(x for x in [4]) == 4.0


def test_nps_counts_zero_as_a_detractor():
    # 2 promoters, 1 passive, 2 detractors (one answered 0) of 5
    assert kpi.nps([10, 9, 7, 6, 0]) == 0.0
    assert kpi.nps([10, 9, 8, 0]) == 25.0
    assert kpi.nps([0]) == -100.0
    assert kpi.nps([]) is None


def test_churn_is_complement_of_retention():
    assert kpi.churn(62.5) == 37.5
    assert kpi.churn(None) is None


def test_retained_counts_the_previous_window_buyers_only():
    assert kpi.retained(100.0, 50.0) is True
    assert kpi.retained(100.0, 0.0) is False
    assert kpi.retained(100.0, -20.0) is False  # credit notes only this time
    assert kpi.retained(100.0, None) is False
    assert kpi.retained(0.0, 50.0) is None  # new this window: not counted
    assert kpi.retained(-5.0, 50.0) is None
    assert kpi.retained(None, None) is None


def test_roi_on_margin():
    # margin 30 % of 10,000 = 3,000 against a budget of 2,000: +50 %
    assert kpi.roi(10000, 0.30, 2000) == pytest.approx(50.0)
    assert kpi.roi(0, 0.30, 2000) == -100.0
    assert kpi.roi(500, 0.30, 0) is None
    assert kpi.roi(500, 0.30, -100) is None


def test_on_target_direction():
    assert kpi.on_target(80, 75, True) is True
    assert kpi.on_target(75, 75, True) is True
    assert kpi.on_target(70, 75, True) is False
    assert kpi.on_target(10, 12, False) is True
    assert kpi.on_target(14, 12, False) is False
    assert kpi.on_target(None, 12, False) is None


def test_month_end_snapshot_dates():
    dates = kpi.snapshot_dates(date(2025, 7, 1), date(2026, 6, 30), "month_end")
    assert len(dates) == 12
    assert dates[0] == date(2025, 7, 31)
    assert date(2026, 2, 28) in dates
    assert dates[-1] == date(2026, 6, 30)
    # a range ending mid-month stops at the previous month-end
    assert kpi.snapshot_dates(date(2026, 1, 15), date(2026, 3, 30), "month_end") == [
        date(2026, 1, 31),
        date(2026, 2, 28),
    ]


def test_week_end_and_daily_snapshot_dates():
    # 2026-06-01 is a Monday: Sundays are the 7th, 14th, 21st and 28th
    assert kpi.snapshot_dates(date(2026, 6, 1), date(2026, 6, 30), "week_end") == [
        date(2026, 6, 7),
        date(2026, 6, 14),
        date(2026, 6, 21),
        date(2026, 6, 28),
    ]
    assert len(kpi.snapshot_dates(date(2026, 6, 1), date(2026, 6, 30), "day")) == 30
    assert kpi.snapshot_dates(date(2026, 6, 2), date(2026, 6, 1), "day") == []
    with pytest.raises(ValueError):
        kpi.snapshot_dates(date(2026, 6, 1), date(2026, 6, 2), "year")


def test_month_starts_cross_the_year():
    assert kpi.month_starts(date(2026, 2, 14), 3) == [
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]


def test_scorecard_compares_with_the_month_before_the_latest():
    months = kpi.month_starts(date(2026, 6, 15), 4)
    points = {date(2026, 3, 1): 60.0, date(2026, 5, 1): 72.0, date(2026, 6, 1): 80.0}
    card = kpi.scorecard(points, months, 70.0, True, (80.0, date(2026, 6, 10)))
    assert card.trend == (60.0, None, 72.0, 80.0)
    assert card.previous == 72.0
    assert card.change == 8.0
    assert card.on_target is True
    assert card.improved is True


def test_scorecard_lower_is_better_and_gaps():
    months = kpi.month_starts(date(2026, 6, 15), 3)
    points = {date(2026, 4, 1): 20.0, date(2026, 6, 1): 40.0}
    card = kpi.scorecard(points, months, 30.0, False, (40.0, date(2026, 6, 1)))
    assert card.previous is None, "May has no snapshot: no change is made up"
    assert card.change is None
    assert card.improved is None
    assert card.on_target is False


def test_scorecard_without_value():
    months = kpi.month_starts(date(2026, 6, 15), 2)
    card = kpi.scorecard({}, months, 10.0)
    assert card.latest is None
    assert card.on_target is None
    assert card.trend == (None, None)


def test_scorecard_unchanged_is_neither_better_nor_worse():
    months = kpi.month_starts(date(2026, 6, 15), 2)
    points = {date(2026, 5, 1): 5.0, date(2026, 6, 1): 5.0}
    card = kpi.scorecard(points, months, 1.0, True, (5.0, date(2026, 6, 2)))
    assert card.change == 0.0
    assert card.improved is None


def test_answers_and_figures_without_value_are_left_out():
    # NPS of 10, 9 and 0 (None: ticked without a score): (2 - 1) / 3 = 33.3 %
    assert kpi.nps([10, None, 9, 0]) == pytest.approx(100 / 3)
    assert kpi.nps([None]) is None
    assert kpi.average([None, 2.0, 4.0]) == 3.0
    with pytest.raises(ValueError, match="off its scale"):
        kpi.nps([11])


def test_roi_of_a_large_budget_without_revenue_is_minus_one_hundred():
    # 100 * (0 / 87,960,930,222.71 - 1): exactly -100, not -100.00000000000001
    assert kpi.roi(0.0, 0.3, 87960930222.70839) == -100.0


def test_snapshot_dates_at_the_end_of_the_calendar():
    last = date(9999, 12, 31)  # a Friday
    assert kpi.snapshot_dates(date(9999, 11, 15), last, "month_end") == [
        date(9999, 11, 30),
        last,
    ]
    assert kpi.snapshot_dates(date(9999, 12, 20), last, "week_end") == [
        date(9999, 12, 26)
    ]
    assert kpi.snapshot_dates(date(9999, 12, 30), last, "day") == [
        date(9999, 12, 30),
        last,
    ]


def test_scorecard_of_the_first_month_there_is():
    card = kpi.scorecard({}, [], 50.0, latest=(60.0, date(1, 1, 1)))
    assert (card.latest, card.previous, card.change) == (60.0, None, None)
