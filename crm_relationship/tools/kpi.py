"""Arithmetic of the evaluation KPIs (see docs/rules.md,
"KPI definitions").

Every function returns None when there is nothing to measure (an empty
denominator, no answers): a KPI without data stores no value rather than a zero.
Rates are percentages (0..100).
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

NPS_PROMOTER_MIN = 9
NPS_DETRACTOR_MAX = 6
SNAPSHOT_FREQUENCIES = ("month_end", "week_end", "day")


def rate(numerator, denominator):
    """``100 * numerator / denominator``, None when the denominator is zero."""
    if not denominator:
        return None
    return 100.0 * numerator / denominator


def average(values):
    """Arithmetic mean of ``values`` (numbers; None, a missing figure, is left
    out), None when there is none."""
    values = [value for value in values if value is not None]
    if not values:
        return None
    return sum(values) / len(values)


def nps(scores):
    """NPS of 0..10 answers: % promoters (9, 10) minus % detractors (0..6), in
    -100..100. An answer None (ticked without a score) is left out; one off the
    scale raises ValueError. None when there is no answer.
    """
    scores = [score for score in scores if score is not None]
    if not all(0 <= score <= 10 for score in scores):
        raise ValueError(f"An NPS answer is off its scale 0..10: {scores}")
    if not scores:
        return None
    promoters = sum(1 for score in scores if score >= NPS_PROMOTER_MIN)
    detractors = sum(1 for score in scores if score <= NPS_DETRACTOR_MAX)
    return 100.0 * (promoters - detractors) / len(scores)


def retained(previous_revenue, revenue):
    """Whether a customer active in the previous window (revenue > 0 there)
    is active again in this one; None for a customer who was not: the
    customers the KPI ``retention_rate`` and the lifetime value's retention
    count (docs/rules.md, Lifetime value)."""
    if not previous_revenue or previous_revenue <= 0:
        return None
    return bool(revenue and revenue > 0)


def churn(retention):
    """Churn rate from a retention rate, both in %."""
    if retention is None:
        return None
    return 100.0 - retention


def roi(revenue, margin_rate, budget):
    """Return on investment in %: (margin earned - budget) / budget.

    ``margin_rate`` is a fraction (0.30 for 30 %). None without a budget (None
    or <= 0). A program that earned nothing loses exactly 100 %.
    """
    if not budget or budget <= 0:
        return None
    return 100.0 * (revenue * margin_rate / budget - 1.0)


def on_target(value, target, higher_is_better=True):
    """Whether ``value`` reaches ``target``; None when there is no value."""
    if value is None:
        return None
    if higher_is_better:
        return value >= target
    return value <= target


def month_end(day):
    """Last day of ``day``'s month (any date)."""
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def snapshot_dates(date_from, date_to, frequency):
    """The snapshot dates in [date_from, date_to], oldest first.

    ``month_end``: last days of months; ``week_end``: Sundays; ``day``: every day.
    Any two dates (an empty list when ``date_to`` is before ``date_from``); an
    unknown ``frequency`` raises ValueError.
    """
    if frequency not in SNAPSHOT_FREQUENCIES:
        raise ValueError(f"unknown frequency {frequency!r}")
    if date_to < date_from:
        return []
    if frequency == "month_end":
        dates = [month_end(date_from)]
        while dates[-1] < date_to:  # below date.max: the next day exists
            dates.append(month_end(dates[-1] + timedelta(days=1)))
        return [day for day in dates if day <= date_to]
    # counted in day numbers, so that no date beyond 9999-12-31 is ever built
    first, last = date_from.toordinal(), date_to.toordinal()
    if frequency == "week_end":
        first += (6 - date_from.weekday()) % 7
    step = 7 if frequency == "week_end" else 1
    return [date.fromordinal(day) for day in range(first, last + 1, step)]


def month_starts(today, count):
    """First days of the ``count`` months ending with ``today``'s, oldest first;
    ValueError when the first of them would lie before year 1."""
    months = []
    year, month = today.year, today.month
    for _index in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


@dataclass(frozen=True)
class Scorecard:
    """What a dashboard card shows of one KPI: ``trend`` has one value per month
    (None for a month without a snapshot); ``previous`` is the value of the month
    before the latest snapshot's, and ``change`` the move since then."""

    latest: float | None
    latest_date: date | None
    previous: float | None
    change: float | None
    trend: tuple
    on_target: bool | None
    improved: bool | None


def scorecard(points, months, target, higher_is_better=True, latest=None):
    """The card of a KPI from ``points``, ``{month start: value}`` holding the
    last snapshot of each month of ``months`` (oldest first) that has one.

    ``latest`` is ``(value, date)`` of the last snapshot ever, which may be older
    than the months shown; None when the KPI has never been measured.
    """
    trend = tuple(points.get(month) for month in months)
    value, day = latest or (None, None)
    previous = None
    if day is not None and (day.year, day.month) > (1, 1):  # a month before it
        previous = points.get(month_starts(day, 2)[0])
    change = None if value is None or previous is None else value - previous
    improved = None
    if change:
        improved = change > 0 if higher_is_better else change < 0
    return Scorecard(
        latest=value,
        latest_date=day,
        previous=previous,
        change=change,
        trend=trend,
        on_target=on_target(value, target, higher_is_better),
        improved=improved,
    )
