"""Customer lifetime value, ``retention`` method (see docs/rules.md)."""

from datetime import timedelta

MIN_RETENTION_SAMPLE = 20


def retention_date(as_of):
    """The last month end on or before ``as_of``: the date the retention of
    the lifetime value is measured at, so that it moves once a month, not
    every night (docs/rules.md, Lifetime value)."""
    if (as_of + timedelta(days=1)).day == 1:
        return as_of
    return as_of.replace(day=1) - timedelta(days=1)


def annual_margin(revenue, window_months, margin_rate):
    """Margin of one year at the pace of the analysis window: R * 12 / W *
    margin rate; a window of less than a month raises ValueError."""
    if window_months < 1:
        raise ValueError(
            f"The analysis window must last a month or more: {window_months}"
        )
    return revenue * 12.0 / window_months * margin_rate


def measured_retention(previous_buyers, returning_buyers, fallback):
    """Share of the previous window's buyers who bought again in this one.

    Below ``MIN_RETENTION_SAMPLE`` previous buyers the measure says little, so
    the company's ``fallback`` is used instead.
    """
    if previous_buyers < MIN_RETENTION_SAMPLE:
        return fallback
    return returning_buyers / previous_buyers


def retention_factor(retention, discount, horizon_years):
    """Sum over t = 1..H of r^(t-1) / (1 + d)^t: the value of one unit of margin."""
    return sum(
        retention ** (year - 1) / (1 + discount) ** year
        for year in range(1, horizon_years + 1)
    )
