"""Properties of the care rules (tools/care.py) over their whole domain."""

from datetime import date, timedelta

from hypothesis import example, given
from hypothesis import strategies as st

from crm_relationship.tools import care

PHASES = (care.PRE_SALE, care.IN_SALE, care.POST_SALE)
STATUSES = (None, "overdue", "due_soon", "on_time")
facts = st.one_of(st.none(), st.booleans())
phases = st.sampled_from((None, False) + PHASES)
stages = st.one_of(st.none(), st.just(False), st.integers(1, 6))
maybe_dates = st.one_of(st.none(), st.dates())


@given(facts, facts, facts)
def test_fact_phase_is_a_phase_or_none_in_order(in_sale, bought, prospect):
    phase = care.fact_phase(in_sale, bought, prospect)
    if in_sale:
        assert phase == care.IN_SALE
    elif bought:
        assert phase == care.POST_SALE
    elif prospect:
        assert phase == care.PRE_SALE
    else:
        assert phase is None


@given(
    derived=phases,
    auto=phases,
    current=stages,
    stage_phases=st.dictionaries(st.integers(1, 6), st.sampled_from(PHASES)),
    first_stage=st.dictionaries(st.sampled_from(PHASES), st.integers(1, 6)),
)
def test_next_stage_moves_only_when_the_facts_move(
    derived, auto, current, stage_phases, first_stage
):
    stage, phase = care.next_stage(derived, auto, current, stage_phases, first_stage)
    if derived and (derived != auto or not current):
        assert phase == derived
        # a stage already in the derived phase is kept, else the phase's first
        if current and stage_phases.get(current) == derived:
            assert stage == current
        else:
            assert stage == first_stage.get(derived)
    else:
        # a person's move stands: stage and its phase are kept
        assert (stage, phase) == (current, stage_phases.get(current))


@given(maybe_dates, st.one_of(st.none(), st.integers(0, 3650)), st.booleans())
@example(date.max, 30, False)
@example(date.max - timedelta(days=10), 30, False)
def test_next_care_date_is_after_the_base_or_none(base, interval, ended):
    result = care.next_care_date(base, interval, ended)
    if ended or not base or not interval:
        assert result is None
    else:
        assert isinstance(result, date)
        # the interval after the base, or the last date there is
        if base <= date.max - timedelta(days=interval):
            assert result == base + timedelta(days=interval)
        else:
            assert result == date.max


@given(maybe_dates, st.dates(), st.integers(0, 60))
@example(date.max, date.max, 7)
@example(date.min, date.max - timedelta(days=3), 7)
def test_care_status_is_one_of_three_or_none(next_date, as_of, due_soon_days):
    status = care.care_status(next_date, as_of, due_soon_days)
    assert status in STATUSES
    if next_date is None:
        assert status is None
    elif next_date < as_of:
        assert status == "overdue"
    elif (next_date - as_of).days <= due_soon_days:
        assert status == "due_soon"
    else:
        assert status == "on_time"


@given(maybe_dates, st.dates(), st.integers(0, 60), st.integers(0, 400))
@example(date.max, date.max - timedelta(days=1), 7, 1)
@example(date.min, date.min, 7, 0)
def test_a_care_status_holds_until_its_valid_until(
    next_date, as_of, due_soon_days, offset
):
    until = care.care_status_valid_until(next_date, as_of, due_soon_days)
    assert until is None or until > as_of
    if as_of > date.max - timedelta(days=offset):
        return
    day = as_of + timedelta(days=offset)
    if until is None or day < until:
        assert care.care_status(next_date, day, due_soon_days) == care.care_status(
            next_date, as_of, due_soon_days
        )
    if until is not None:
        # the turn is real: the status of the day it names differs
        assert care.care_status(next_date, until, due_soon_days) != care.care_status(
            next_date, as_of, due_soon_days
        )
