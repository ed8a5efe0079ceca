from datetime import date

import pytest

from crm_relationship.tools import lifetime_value as ltv


def test_annual_margin_scales_the_window_to_a_year():
    assert ltv.annual_margin(6000.0, 6, 0.3) == pytest.approx(3600.0)
    assert ltv.annual_margin(12000.0, 12, 0.3) == pytest.approx(3600.0)


def test_annual_margin_needs_a_window_of_a_month_or_more():
    with pytest.raises(ValueError, match="a month or more"):
        ltv.annual_margin(6000.0, 0, 0.3)


def test_retention_factor_by_hand():
    # r = 0.6, d = 0.1, H = 3: 1/1.1 + 0.6/1.21 + 0.36/1.331
    # = 0.9090909 + 0.4958678 + 0.2704733 = 1.675432
    assert ltv.retention_factor(0.6, 0.1, 3) == pytest.approx(1.675432, abs=1e-6)


def test_default_settings_value():
    # R = 10,000 over 12 months, margin 30 %: m = 3000; r = 0.6, d = 0.1, H = 5:
    # 2727.2727 + 1487.6033 + 811.4199 + 442.5927 + 241.4142 = 5710.3029
    margin = ltv.annual_margin(10_000.0, 12, 0.30)
    assert margin == pytest.approx(3000.0)
    value = margin * ltv.retention_factor(0.6, 0.1, 5)
    assert value == pytest.approx(5710.3029, abs=1e-4)


def test_retention_factor_edges():
    # no retention: only the first year counts, 1 / 1.1
    assert ltv.retention_factor(0.0, 0.1, 5) == pytest.approx(0.9090909, abs=1e-7)
    # full retention and no discount: one unit per year
    assert ltv.retention_factor(1.0, 0.0, 5) == 5.0
    assert ltv.retention_factor(0.6, 0.1, 0) == 0.0


def test_measured_retention_needs_twenty_customers():
    assert ltv.measured_retention(19, 19, 0.6) == 0.6
    assert ltv.measured_retention(20, 15, 0.6) == 0.75
    assert ltv.measured_retention(0, 0, 0.45) == 0.45


def test_retention_is_measured_at_the_last_month_end():
    assert ltv.retention_date(date(2026, 6, 30)) == date(2026, 6, 30)
    assert ltv.retention_date(date(2026, 7, 1)) == date(2026, 6, 30)
    assert ltv.retention_date(date(2026, 7, 30)) == date(2026, 6, 30)
    assert ltv.retention_date(date(2026, 3, 1)) == date(2026, 2, 28)
    assert ltv.retention_date(date(2024, 2, 29)) == date(2024, 2, 29)
    assert ltv.retention_date(date(2027, 1, 15)) == date(2026, 12, 31)
