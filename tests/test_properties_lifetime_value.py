"""Properties of the ``retention`` lifetime value (tools/lifetime_value.py)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_relationship.tools import lifetime_value as ltv

fractions = st.floats(0, 1)


@given(st.floats(-1e12, 1e12), st.integers(1, 120), fractions)
def test_annual_margin_has_the_sign_of_the_revenue(revenue, window_months, rate):
    margin = ltv.annual_margin(revenue, window_months, rate)
    assert isinstance(margin, float)
    assert margin * revenue >= 0
    # a year at the pace of the window: at most 12 windows of one month
    assert abs(margin) <= 12 * abs(revenue) * rate * (1 + 1e-12)


@given(st.floats(-1e6, 1e6), st.integers(-120, 0), fractions)
def test_annual_margin_needs_a_window(revenue, window_months, rate):
    with pytest.raises(ValueError, match="window"):
        ltv.annual_margin(revenue, window_months, rate)


@given(st.integers(0, 10**6), st.integers(0, 10**6), fractions)
def test_measured_retention_is_a_share_or_the_fallback(previous, returning, fallback):
    returning = min(returning, previous)
    retention = ltv.measured_retention(previous, returning, fallback)
    assert 0.0 <= retention <= 1.0
    if previous < ltv.MIN_RETENTION_SAMPLE:
        assert retention == fallback


@given(fractions, fractions, st.integers(0, 50))
def test_retention_factor_lies_between_the_first_year_and_the_horizon(
    retention, discount, horizon_years
):
    factor = ltv.retention_factor(retention, discount, horizon_years)
    assert isinstance(factor, float | int)
    if horizon_years:
        # the first year counts in full, each later one for at most 1 / (1 + d)^t
        assert 1 / (1 + discount) - 1e-12 <= factor <= horizon_years + 1e-9
    else:
        assert factor == 0
    # keeping more customers is never worth less
    assert ltv.retention_factor(1.0, discount, horizon_years) >= factor - 1e-9
