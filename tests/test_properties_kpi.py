"""Properties of the KPI arithmetic (tools/kpi.py) over its whole domain."""

from datetime import date, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crm_relationship.tools import kpi

money = st.floats(-1e12, 1e12)
percent = st.floats(0, 100)
nps_answers = st.lists(st.one_of(st.none(), st.integers(0, 10)))
day_spans = st.integers(0, 3 * 366)


@st.composite
def date_ranges(draw):
    """(date_from, date_to) up to three years apart, anywhere in the calendar,
    the first and last years included; sometimes reversed."""
    start = draw(
        st.one_of(
            st.dates(),
            st.dates(date(9996, 1, 1)),
            st.dates(max_value=date(4, 1, 1)),
        )
    )
    end = start + timedelta(days=min(draw(day_spans), (date.max - start).days))
    return (end, start) if draw(st.booleans()) else (start, end)


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_rate_is_a_percentage_or_none(part, whole):
    part = min(part, whole)
    result = kpi.rate(part, whole)
    if whole == 0:
        assert result is None
    else:
        assert isinstance(result, float) and 0.0 <= result <= 100.0


@given(st.lists(st.one_of(st.none(), money)))
def test_average_lies_between_the_extremes_or_is_none(values):
    known = [value for value in values if value is not None]
    result = kpi.average(iter(values))
    if not known:
        assert result is None
    else:
        slack = 1e-9 * max(abs(value) for value in known)
        assert min(known) - slack <= result <= max(known) + slack


@given(nps_answers)
@example([None, 9])  # a recommendation ticked without a score is no answer
def test_nps_lies_between_minus_and_plus_one_hundred(scores):
    answered = [score for score in scores if score is not None]
    result = kpi.nps(scores)
    if not answered:
        assert result is None
    else:
        assert -100.0 <= result <= 100.0


@given(st.lists(st.integers().filter(lambda n: not 0 <= n <= 10), min_size=1))
def test_nps_refuses_answers_off_the_scale(scores):
    with pytest.raises(ValueError, match="off its scale"):
        kpi.nps(scores)


@given(st.one_of(st.none(), percent))
def test_churn_complements_retention(retention):
    churn = kpi.churn(retention)
    if retention is None:
        assert churn is None
    else:
        assert 0.0 <= churn <= 100.0 and churn + retention == pytest.approx(100.0)


@given(st.one_of(st.none(), money), st.one_of(st.none(), money))
def test_retained_only_for_previous_window_buyers(previous, revenue):
    result = kpi.retained(previous, revenue)
    if previous is None or previous <= 0:
        assert result is None
    else:
        assert result is (revenue is not None and revenue > 0)


@given(money, st.floats(0, 1), st.one_of(st.none(), st.floats(-1e9, 1e12)))
def test_roi_is_none_without_budget_and_never_below_minus_one_hundred(
    revenue, margin_rate, budget
):
    result = kpi.roi(revenue, margin_rate, budget)
    if not budget or budget <= 0:
        assert result is None
    elif revenue >= 0:
        assert isinstance(result, float) and result >= -100.0


@given(st.one_of(st.none(), money), money, st.booleans())
def test_on_target_is_none_without_a_value(value, target, higher_is_better):
    result = kpi.on_target(value, target, higher_is_better)
    assert result is None if value is None else isinstance(result, bool)


@given(st.dates())
@example(date.max)
@example(date.min)
def test_month_end_is_the_last_day_of_the_month(day):
    end = kpi.month_end(day)
    assert (end.year, end.month) == (day.year, day.month) and end >= day
    assert end == date.max or (end + timedelta(days=1)).day == 1


@given(date_ranges(), st.sampled_from(kpi.SNAPSHOT_FREQUENCIES))
@example((date(9999, 11, 15), date.max), "month_end")
@example((date(9999, 12, 20), date.max), "week_end")
@example((date(9999, 12, 30), date.max), "day")
@example((date.min, date(1, 2, 1)), "week_end")
def test_snapshot_dates_lie_in_the_range_in_order(dates, frequency):
    date_from, date_to = dates
    result = kpi.snapshot_dates(date_from, date_to, frequency)
    assert result == sorted(set(result))
    assert all(date_from <= day <= date_to for day in result)
    if frequency == "day":
        assert len(result) == max(0, (date_to - date_from).days + 1)
    elif frequency == "week_end":
        assert all(day.weekday() == 6 for day in result)
        assert len(result) >= (date_to - date_from).days // 7
    else:
        assert all(day == kpi.month_end(day) for day in result)


@given(date_ranges(), st.text(max_size=10))
def test_an_unknown_frequency_is_refused(dates, frequency):
    if frequency not in kpi.SNAPSHOT_FREQUENCIES:
        with pytest.raises(ValueError, match="unknown frequency"):
            kpi.snapshot_dates(*dates, frequency)


@given(st.dates(), st.integers(0, 36))
@example(date(1, 6, 30), 6)
def test_month_starts_end_with_the_month_of_today(today, count):
    try:
        months = kpi.month_starts(today, count)
    except ValueError:
        # the first month would lie before year 1
        assert today.year * 12 + today.month - 1 - (count - 1) < 12
        return
    assert len(months) == count and months == sorted(set(months))
    assert all(month.day == 1 for month in months)
    if count:
        assert months[-1] == today.replace(day=1)


@st.composite
def scorecards(draw):
    today = draw(st.one_of(st.dates(date(5, 1, 1)), st.just(date.max)))
    months = kpi.month_starts(today, draw(st.integers(0, 13)))
    points = {
        month: draw(money) for month in months if draw(st.booleans())
    }  # months without a snapshot
    latest = draw(
        st.one_of(
            st.none(),
            st.tuples(money, st.sampled_from([date.min, today] + months)),
        )
    )
    return points, months, draw(money), draw(st.booleans()), latest


@given(scorecards())
def test_scorecard_shows_one_point_per_month(card):
    points, months, target, higher_is_better, latest = card
    result = kpi.scorecard(points, months, target, higher_is_better, latest)
    assert len(result.trend) == len(months)
    assert (result.latest, result.latest_date) == (latest or (None, None))
    if result.change is None:
        assert result.improved is None
    else:
        assert result.change == result.latest - result.previous
        assert result.improved in (None, True, False)
    assert result.on_target == kpi.on_target(result.latest, target, higher_is_better)
