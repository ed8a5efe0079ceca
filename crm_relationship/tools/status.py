"""Relationship status (see docs/rules.md, "Relationship status")."""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from dateutil.relativedelta import relativedelta

LOST_AFTER_WINDOWS = 3
LOYAL_MIN_QUARTERS = 3
LOYAL_MIN_AGE_MONTHS = 12


@dataclass(frozen=True)
class StatusParams:
    window_months: int = 12
    growth_rate: float = 0.30
    decline_rate: float = 0.30
    new_customer_days: int = 90


@dataclass(frozen=True)
class CustomerFacts:
    """What the status rules read of one customer in one company."""

    revenue: float = 0.0
    previous_revenue: float = 0.0
    purchases: int = 0
    previous_purchases: int = 0
    first_purchase: date | None = None
    last_purchase: date | None = None
    quarters_with_purchase: int = 0
    ended: bool = False
    overdue_complaint: bool = False


@lru_cache(maxsize=64)
def months_before(day, months):
    return day - relativedelta(months=months)


@lru_cache(maxsize=4096)
def first_day_reaching(day, months):
    """The first date ``d`` with ``months_before(d, months) >= day`` (months
    before a date is not decreasing in the date, so it stays so after), or None
    past the last date there is."""
    try:
        reached = day + relativedelta(months=months)
        # a month end clipped (31 Jan + 1 month = 28 Feb) lies before it
        while months_before(reached, months) < day:
            reached += timedelta(days=1)
    except (OverflowError, ValueError):
        return None
    return reached


def window_start(as_of, window_months, windows=1):
    """First excluded day of the window: the window is (start, as_of]."""
    return months_before(as_of, window_months * windows)


def quarter_bounds(as_of, window_months):
    """The exclusive lower bounds of the window's four quarters, newest first."""
    return [
        months_before(as_of, (quarter * window_months) // 4) for quarter in range(1, 5)
    ]


def lost_after_months(params):
    """Months without a purchase after which a customer is lost by age."""
    return LOST_AFTER_WINDOWS * params.window_months


def revenue_declined(revenue, previous_revenue, params):
    """R <= (1 - decline) * R_prev, both to the cent: the revenue fell by the
    decline rate or more (which includes no revenue after some)."""
    return round(revenue, 2) <= round((1 - params.decline_rate) * previous_revenue, 2)


def needs_care_cause(facts, params):
    """The first of the needs-care tests of ``relationship_status`` that holds,
    in the rule's order: ``revenue_fell`` or ``overdue_complaint``; None when
    neither does (a customer then needs care only by the rule's last test:
    bought in the previous window, not in this one)."""
    if revenue_declined(facts.revenue, facts.previous_revenue, params):
        return "revenue_fell"
    if facts.overdue_complaint:
        return "overdue_complaint"
    return None


def relationship_status(facts, as_of, params):
    """Return the status code, or None for a prospect that never bought.

    "Lost" by age means no purchase inside the last ``lost_after_months``.
    ``facts`` has both purchase dates (first <= last) or neither; a customer
    ended by a person is lost either way. That many months before ``as_of``
    must lie after year 1, else ValueError. See docs/rules.md.
    """
    if facts.ended:
        return "lost"
    if not facts.last_purchase:
        return None
    if facts.last_purchase <= months_before(as_of, lost_after_months(params)):
        return "lost"
    if not facts.purchases and not facts.previous_purchases:
        return "low_potential"
    if needs_care_cause(facts, params):
        return "needs_care"
    revenue = round(facts.revenue, 2)
    if (as_of - facts.first_purchase).days < params.new_customer_days:
        return "new"
    if facts.previous_revenue > 0 and revenue >= round(
        (1 + params.growth_rate) * facts.previous_revenue, 2
    ):
        return "growing"
    if (
        facts.quarters_with_purchase >= LOYAL_MIN_QUARTERS
        and facts.first_purchase < months_before(as_of, LOYAL_MIN_AGE_MONTHS)
    ):
        return "loyal"
    if facts.purchases:
        return "active"
    return "needs_care"  # bought in the previous window, not in this one


@lru_cache(maxsize=4096)
def loyal_age_from(first_purchase):
    """The first day on which a customer who first bought on
    ``first_purchase`` is old enough to be loyal, or None past the last date."""
    try:
        return first_day_reaching(
            first_purchase + timedelta(days=1), LOYAL_MIN_AGE_MONTHS
        )
    except OverflowError:
        return None


def status_valid_until(facts, as_of, params):
    """The first day after ``as_of`` on which ``relationship_status`` of the
    same ``facts`` may differ from its value at ``as_of``, or None when time
    alone never changes it. The status reads the date through three tests,
    each turning once: lost by age, new, and old enough to be loyal; the
    status holds until the first of them still to turn."""
    if facts.ended or not facts.last_purchase:
        return None
    first = facts.first_purchase
    try:
        no_longer_new = first + timedelta(days=params.new_customer_days)
    except OverflowError:
        no_longer_new = None
    turns = [
        day
        for day in (
            first_day_reaching(facts.last_purchase, lost_after_months(params)),
            no_longer_new,
            loyal_age_from(first),
        )
        if day and day > as_of
    ]
    return min(turns) if turns else None
