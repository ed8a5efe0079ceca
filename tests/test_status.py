from datetime import date

import pytest

from crm_relationship.tools.status import (
    CustomerFacts,
    StatusParams,
    lost_after_months,
    needs_care_cause,
    quarter_bounds,
    relationship_status,
    status_valid_until,
)

AS_OF = date(2026, 6, 30)
PARAMS = StatusParams()


# a steady customer, active
DEFAULTS = {
    "first_purchase": date(2024, 1, 15),
    "last_purchase": date(2026, 6, 1),
    "purchases": 2,
    "previous_purchases": 2,
    "revenue": 1000.0,
    "previous_revenue": 1000.0,
    "quarters_with_purchase": 2,
}


def status(**facts):
    return relationship_status(CustomerFacts(**(DEFAULTS | facts)), AS_OF, PARAMS)


def test_prospect_has_no_status():
    assert relationship_status(CustomerFacts(), AS_OF, PARAMS) is None


def test_ended_relationship_is_lost_first():
    assert status(ended=True) == "lost"


def test_lost_after_three_windows():
    old = {"purchases": 0, "previous_purchases": 0, "revenue": 0, "previous_revenue": 0}
    assert status(last_purchase=date(2023, 6, 30), **old) == "lost"
    assert status(last_purchase=date(2023, 7, 1), **old) == "low_potential"


def test_needs_care_on_decline_or_overdue_complaint():
    assert status(revenue=700.0) == "needs_care"
    assert status(revenue=700.01) == "active"
    assert status(revenue=0.0, purchases=0) == "needs_care"
    assert status(overdue_complaint=True) == "needs_care"


def test_lost_after_months_follows_the_window():
    assert lost_after_months(PARAMS) == 36
    short = StatusParams(window_months=6)
    assert lost_after_months(short) == 18
    facts = CustomerFacts(
        first_purchase=date(2024, 12, 30), last_purchase=date(2024, 12, 30)
    )
    assert relationship_status(facts, AS_OF, short) == "lost"
    facts = CustomerFacts(
        first_purchase=date(2024, 12, 31), last_purchase=date(2024, 12, 31)
    )
    assert relationship_status(facts, AS_OF, short) == "low_potential"


@pytest.mark.parametrize(
    "facts, cause",
    [
        ({"revenue": 700.0}, "revenue_fell"),
        ({"revenue": 700.0, "overdue_complaint": True}, "revenue_fell"),
        ({"overdue_complaint": True}, "overdue_complaint"),
        # bought last window only, refunds since: the rule's last test
        (
            {"purchases": 0, "revenue": -10.0, "previous_revenue": -20.0},
            None,
        ),
    ],
)
def test_needs_care_cause_names_the_test_of_the_rule(facts, cause):
    defaults = {
        "first_purchase": date(2024, 1, 15),
        "last_purchase": date(2025, 6, 1),
        "purchases": 2,
        "previous_purchases": 2,
        "revenue": 1000.0,
        "previous_revenue": 1000.0,
    }
    customer = CustomerFacts(**(defaults | facts))
    assert relationship_status(customer, AS_OF, PARAMS) == "needs_care"
    assert needs_care_cause(customer, PARAMS) == cause


def test_no_needs_care_cause_for_a_steady_customer():
    assert (
        needs_care_cause(CustomerFacts(revenue=800, previous_revenue=1000), PARAMS)
        is None
    )


def test_new_customer_within_ninety_days():
    new = {"previous_purchases": 0, "previous_revenue": 0.0}
    assert status(first_purchase=date(2026, 4, 2), **new) == "new"
    assert status(first_purchase=date(2026, 4, 1), **new) == "active"


def test_growing_needs_previous_revenue():
    assert status(revenue=1300.0) == "growing"
    assert status(revenue=1299.0) == "active"


def test_loyal_needs_three_quarters_and_a_year():
    assert status(quarters_with_purchase=3) == "loyal"
    assert (
        status(quarters_with_purchase=3, first_purchase=date(2025, 6, 30)) == "active"
    )
    assert status(quarters_with_purchase=3, first_purchase=date(2025, 6, 29)) == "loyal"


@pytest.mark.parametrize("months, expected", [(12, [3, 6, 9, 12]), (6, [1, 3, 4, 6])])
def test_quarter_bounds(months, expected):
    bounds = quarter_bounds(AS_OF, months)
    assert [
        (AS_OF.year - b.year) * 12 + AS_OF.month - b.month for b in bounds
    ] == expected


def valid_until(**facts):
    return status_valid_until(CustomerFacts(**(DEFAULTS | facts)), AS_OF, PARAMS)


def test_a_status_holds_until_the_first_test_to_turn():
    # new until 90 days after the first purchase (2026-04-02 + 90 days)
    assert valid_until(first_purchase=date(2026, 4, 2)) == date(2026, 7, 1)
    # a year old on 2026-07-01, the day loyalty may begin
    assert valid_until(first_purchase=date(2025, 6, 30)) == date(2026, 7, 1)
    # lost 36 months after the last purchase
    assert valid_until(
        first_purchase=date(2024, 1, 15), last_purchase=date(2024, 1, 31)
    ) == date(2027, 1, 31)
    assert valid_until(
        first_purchase=date(2023, 1, 15), last_purchase=date(2023, 7, 31)
    ) == date(2026, 7, 31)
    # by 3 windows of a month: 31 Mar + 3 months is clipped to 30 Jun, on which
    # 3 months before is 30 Mar, still after the purchase: lost from 1 July
    short = StatusParams(window_months=1)
    facts = CustomerFacts(
        purchases=1, first_purchase=date(2026, 1, 1), last_purchase=date(2026, 3, 31)
    )
    assert status_valid_until(facts, AS_OF, short) == date(2026, 7, 1)
    assert relationship_status(facts, AS_OF, short) != "lost"
    assert relationship_status(facts, date(2026, 7, 1), short) == "lost"
    # lost, ended, prospects: time changes nothing
    assert valid_until(last_purchase=date(2023, 6, 1)) is None
    assert valid_until(ended=True) is None
    assert valid_until(first_purchase=None, last_purchase=None) is None
