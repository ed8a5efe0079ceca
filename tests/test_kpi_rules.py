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


def test_roi_on_margin():
    # margin 30 % of 10,000 = 3,000 against a budget of 2,000: +50 %
    assert kpi.roi(10000, 0.30, 2000) == pytest.approx(50.0)
    assert kpi.roi(0, 0.30, 2000) == -100.0
    assert kpi.roi(500, 0.30, 0) is None


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
