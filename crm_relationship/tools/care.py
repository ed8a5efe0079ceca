"""Care rules: the care phase from the facts, the next care date and its status."""

from datetime import date, timedelta

PRE_SALE = "pre_sale"
IN_SALE = "in_sale"
POST_SALE = "post_sale"
DUE_SOON_DAYS = 7


def fact_phase(in_sale, bought, prospect):
    """Care phase the facts call for, or None.

    An unpaid invoice or a won opportunity not yet invoiced means the sale is
    under way; any posted invoice otherwise means after the sale; an open
    opportunity or a potential tier means before it.
    """
    if in_sale:
        return IN_SALE
    if bought:
        return POST_SALE
    if prospect:
        return PRE_SALE
    return None


def next_stage(derived, auto, current_stage, stage_phases, first_stage):
    """Return ``(stage_id, phase)`` after a classification run.

    ``derived`` is the phase of the facts now, ``auto`` the one of the previous
    run, ``current_stage`` the stage held (maybe set by a person),
    ``stage_phases`` ``{stage_id: phase}`` and ``first_stage`` ``{phase:
    stage_id}``. The stage changes only when the facts changed (or there is no
    stage yet), so a person's move stands until the facts move on; a stage
    already in the derived phase is kept.
    """
    current_phase = stage_phases.get(current_stage)
    if derived and (derived != auto or not current_stage):
        if current_phase == derived:
            return current_stage, derived
        return first_stage.get(derived), derived
    return current_stage, current_phase


def next_care_date(base_date, interval_days, ended):
    """Date of the next planned contact: ``interval_days`` (the tier's contact
    interval, > 0) after ``base_date`` (a date, or None when nothing happened
    yet), the last date there is when that lies beyond it (a mistyped date in
    year 9999); None when not scheduled (no base date, no interval, or the
    relationship ``ended``).
    """
    if ended or not base_date or not interval_days:
        return None
    if (date.max - base_date).days < interval_days:
        return date.max
    return base_date + timedelta(days=interval_days)


def care_status(next_date, as_of, due_soon_days=DUE_SOON_DAYS):
    """``overdue`` once ``next_date`` has passed at ``as_of``, ``due_soon`` when
    it comes within ``due_soon_days`` (a week), else ``on_time``; None without
    a next date. Any two dates: no date arithmetic that could overflow.
    """
    if not next_date:
        return None
    if next_date < as_of:
        return "overdue"
    if (next_date - as_of).days <= due_soon_days:
        return "due_soon"
    return "on_time"


def care_status_valid_until(next_date, as_of, due_soon_days=DUE_SOON_DAYS):
    """The first day after ``as_of`` on which ``care_status`` of ``next_date``
    may differ from its value at ``as_of``: the day it comes due soon, or the
    day after it, when it turns overdue; None when neither lies ahead."""
    if not next_date or next_date < as_of:
        return None
    try:
        if (next_date - as_of).days > due_soon_days:
            return next_date - timedelta(days=due_soon_days)
        return next_date + timedelta(days=1)
    except OverflowError:
        return None
