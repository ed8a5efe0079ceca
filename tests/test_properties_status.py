"""Properties of the relationship status (tools/status.py) over its domain."""

from datetime import date, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crm_relationship.tools import status
from crm_relationship.tools.status import CustomerFacts, StatusParams

STATUSES = ("new", "active", "loyal", "growing", "needs_care", "low_potential", "lost")
money = st.floats(-1e12, 1e12)
counts = st.integers(0, 10**4)
params = st.builds(
    StatusParams,
    window_months=st.integers(1, 120),
    growth_rate=st.floats(0, 10),
    decline_rate=st.floats(0, 1),
    new_customer_days=st.integers(0, 3650),
)


@st.composite
def customers(draw, as_of):
    """Facts of one customer as of ``as_of``: a prospect (no purchase dates), or
    a buyer whose first purchase is on or before the last, both by ``as_of``."""
    facts = {
        "revenue": draw(money),
        "previous_revenue": draw(money),
        "purchases": draw(counts),
        "previous_purchases": draw(counts),
        "quarters_with_purchase": draw(st.integers(0, 4)),
        "ended": draw(st.booleans()),
        "overdue_complaint": draw(st.one_of(st.none(), st.booleans())),
    }
    if draw(st.booleans()):
        first, last = sorted(
            draw(st.lists(st.dates(max_value=as_of), min_size=2, max_size=2))
        )
        facts |= {"first_purchase": first, "last_purchase": last}
    return CustomerFacts(**facts)


@st.composite
def cases(draw):
    as_of = draw(st.one_of(st.dates(date(31, 1, 1)), st.just(date.max)))
    return draw(customers(as_of)), as_of, draw(params)


@given(cases())
@example(
    (
        CustomerFacts(last_purchase=date.max, first_purchase=date.max),
        date.max,
        StatusParams(),
    )
)
@example(
    (
        CustomerFacts(
            first_purchase=date(1, 1, 1), last_purchase=date(31, 1, 1), purchases=1
        ),
        date(31, 1, 1),
        StatusParams(window_months=120, new_customer_days=3650),
    )
)
def test_a_status_is_one_of_seven_or_none_for_a_prospect(case):
    facts, as_of, status_params = case
    result = status.relationship_status(facts, as_of, status_params)
    if facts.ended:
        assert result == "lost"
    elif facts.last_purchase is None:
        assert result is None
    else:
        assert result in STATUSES


@st.composite
def early_cases(draw):
    as_of = draw(st.dates(max_value=date(31, 1, 1)))
    return draw(customers(as_of)), as_of, draw(params)


@given(early_cases())
@example(
    (
        CustomerFacts(
            revenue=100.0,
            purchases=1,
            first_purchase=date(4, 6, 1),
            last_purchase=date(4, 12, 1),
        ),
        date(5, 1, 1),
        StatusParams(window_months=1, new_customer_days=3650),
    )
)
def test_windows_before_year_one_raise_value_error(case):
    facts, as_of, status_params = case
    try:
        result = status.relationship_status(facts, as_of, status_params)
    except ValueError as error:
        assert "out of range" in str(error)
    else:
        assert result in STATUSES + (None,)


@given(st.dates(date(11, 1, 1)), st.integers(1, 120))
def test_quarters_lie_in_the_window_newest_first(as_of, window_months):
    bounds = status.quarter_bounds(as_of, window_months)
    start = status.window_start(as_of, window_months)
    assert len(bounds) == 4 and bounds == sorted(bounds, reverse=True)
    assert bounds[-1] == start and all(start <= day <= as_of for day in bounds)


@given(st.dates(max_value=date(1, 12, 31)), st.integers(12, 120))
def test_a_window_before_year_one_raises_value_error(as_of, window_months):
    with pytest.raises(ValueError):
        status.window_start(as_of, window_months)


@st.composite
def days_before_the_turn(draw):
    """A case, its ``status_valid_until`` and a day from its as-of date to the
    day before that (or some years on when time never changes the status)."""
    facts, as_of, status_params = draw(cases())
    until = status.status_valid_until(facts, as_of, status_params)
    span = (until - as_of).days - 1 if until else 20000
    span = min(span, (date.max - as_of).days)
    return facts, as_of, status_params, until, draw(st.integers(0, max(span, 0)))


@given(days_before_the_turn())
@example(
    (
        CustomerFacts(
            purchases=1,
            first_purchase=date(2024, 1, 31),
            last_purchase=date(2024, 1, 31),
        ),
        date(2024, 3, 1),
        StatusParams(window_months=1, new_customer_days=0),
        None,
        0,
    )
)
def test_a_status_holds_until_its_valid_until(case):
    facts, as_of, status_params, until, offset = case
    if until is None:
        until = status.status_valid_until(facts, as_of, status_params)
    assert until is None or until > as_of
    day = as_of + timedelta(days=offset)
    if until is not None and day >= until:
        return
    assert status.relationship_status(
        facts, day, status_params
    ) == status.relationship_status(facts, as_of, status_params)


@given(st.dates(date(31, 1, 1), date(9000, 1, 1)), st.integers(0, 1200))
def test_first_day_reaching_is_the_first(day, months):
    reached = status.first_day_reaching(day, months)
    assert status.months_before(reached, months) >= day
    assert status.months_before(reached - timedelta(days=1), months) < day
