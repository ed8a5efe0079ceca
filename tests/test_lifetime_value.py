from datetime import date

import pytest

from crm_relationship.tools import lifetime_value as ltv


def test_annual_margin_scales_the_window_to_a_year():
    assert ltv.annual_margin(6000.0, 6, 0.3) == pytest.approx(3600.0)
    assert ltv.annual_margin(12000.0, 12, 0.3) == pytest.approx(3600.0)


def test_retention_value_by_hand():
    # m = 1000, r = 0.6, d = 0.1, H = 3:
    # 1000/1.1 + 600/1.21 + 360/1.331 = 909.0909 + 495.8678 + 270.4733
    assert ltv.retention_lifetime_value(1000.0, 0.6, 0.1, 3) == pytest.approx(
        1675.432, abs=1e-3
    )


def test_default_settings_value():
    # R = 10,000 over 12 months, margin 30 %, r = 0.6, d = 0.1, H = 5:
    # 2727.2727 + 1487.6033 + 811.4199 + 442.5927 + 241.4142 = 5710.3029
    margin = ltv.annual_margin(10_000.0, 12, 0.30)
    value = ltv.retention_lifetime_value(margin, 0.6, 0.1, 5)
    expected = sum(3000 * 0.6 ** (t - 1) / 1.1**t for t in range(1, 6))
    assert value == pytest.approx(expected)
    assert round(value, 2) == 5710.30


def test_no_value_without_margin():
    assert ltv.retention_lifetime_value(0.0, 0.6, 0.1, 5) == 0.0
    assert ltv.retention_lifetime_value(-50.0, 0.6, 0.1, 5) == 0.0


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
