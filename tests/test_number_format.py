import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_relationship.tools.number_format import short_decimal


@pytest.mark.parametrize(
    ("value", "digits", "english", "vietnamese"),
    [
        (75.0, 1, "75", "75"),
        (103.2, 1, "103.2", "103,2"),
        (80.46, 1, "80.5", "80,5"),
        (2.5, 4, "2.5", "2,5"),
        (0.25, 2, "0.25", "0,25"),
        (-3.2, 1, "-3.2", "-3,2"),
        (-0.04, 1, "0", "0"),
        (1234.5, 1, "1,234.5", "1.234,5"),
        (1234567.0, 0, "1,234,567", "1.234.567"),
        (999.96, 1, "1,000", "1.000"),
    ],
)
def test_separators_of_the_language(value, digits, english, vietnamese):
    assert short_decimal(value, digits, ".", ",") == english
    assert short_decimal(value, digits, ",", ".") == vietnamese


def test_without_thousands_separator():
    assert short_decimal(1234.5) == "1234.5"
    assert short_decimal(1234.5, decimal_point=",") == "1234,5"


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), st.integers(0, 4))
def test_reads_back_as_the_rounded_value(value, digits):
    text = short_decimal(value, digits, ",", ".")
    assert float(text.replace(".", "").replace(",", ".")) == float(
        f"{value:.{digits}f}"
    )
    assert text != "-0"
