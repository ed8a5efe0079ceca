"""Properties of the predictive lifetime value (tools/clv.py) over its domain.

A purchase is a day (docs/rules.md), so a customer makes at most 7 repeat
purchases a week (x <= 7 t_x) and a fitted mean rate r / alpha is at most 7 a
week. BG/NBD r, a, b lie in 0.01..100 and alpha in 0.01..1000 (CDNOW's: 0.24,
0.79, 2.43 and 4.41), Gamma-Gamma p, q, v in 0.01..1000; customers are up to
ten years old, with up to 300 repeat purchases.
"""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

np = pytest.importorskip("numpy")
pytest.importorskip("scipy")

from crm_relationship.tools import clv  # noqa: E402

REASONS = {
    "",
    clv.REASON_FEW_BUYERS,
    clv.REASON_NOT_CONVERGED,
    clv.REASON_AT_BOUND,
    clv.REASON_NO_MEAN_SPEND,
}
shape = st.floats(0.01, 100)
parameter = st.floats(0.01, 1000)


@st.composite
def bgnbd_params(draw):
    r = draw(shape)
    alpha = draw(st.floats(max(0.01, r / 7), 1000))
    return clv.BgNbdParams(r, alpha, draw(shape), draw(shape))


gamma_gamma_params = st.builds(clv.GammaGammaParams, parameter, parameter, parameter)
weeks = st.floats(0, 520)


@st.composite
def customer(draw):
    """(x, t_x, T): T weeks since the first purchase, x repeat purchases, the
    last of them t_x weeks after the first (0 without repeat purchase)."""
    age = draw(weeks)
    x = draw(st.integers(0, min(300, int(7 * age))))
    t_x = draw(st.floats(x / 7, age)) if x else 0.0
    return x, t_x, age


customers = st.lists(customer(), max_size=20).map(
    lambda rows: (
        [np.array(column, dtype=float) for column in zip(*rows, strict=True)]
        if rows
        else [np.zeros(0)] * 3
    )
)


@given(bgnbd_params(), customers)
@example(
    clv.BgNbdParams(0.243, 4.414, 0.793, 2.426),
    [np.array([500.0]), np.array([10.0]), np.array([300.0])],
)
def test_probability_alive_is_a_probability_and_purchases_positive(params, columns):
    alive = clv.probability_alive(params, *columns)
    assert alive.shape == columns[0].shape
    assert np.all((alive >= 0) & (alive <= 1))
    assert np.all(alive[columns[0] == 0] == 1)
    purchases = clv.predicted_purchases(params, *columns)
    assert np.all(np.isfinite(purchases)) and np.all(purchases >= 0)


@given(bgnbd_params(), customers, weeks, weeks)
@example(  # scipy's hyp2f1(100, 99; 101; 0.91) overflows
    clv.BgNbdParams(1.0, 1.0, 100.0, 2.0),
    [np.array([0.0]), np.array([0.0]), np.array([0.0])],
    0.0,
    10.0,
)
@example(
    clv.BgNbdParams(0.5, 5.0, 1.0, 2.0),
    [np.array([2.0]), np.array([10.0]), np.array([20.0])],
    10.0,
    52.0,
)
def test_expected_purchases_grow_with_the_horizon(params, columns, t1, t2):
    early, late = sorted((t1, t2))
    first = clv.expected_purchases(params, early, *columns)
    second = clv.expected_purchases(params, late, *columns)
    assert np.all(np.isfinite(second)) and np.all(first >= -1e-9)
    assert np.all(first <= second * (1 + 1e-6) + 1e-9)
    assert np.allclose(clv.expected_purchases(params, 0.0, *columns), 0.0)


@given(
    gamma_gamma_params,
    st.lists(st.tuples(st.integers(0, 300), st.floats(-1e6, 1e9)), max_size=20),
)
def test_expected_spend_is_positive_and_infinite_only_without_a_mean(params, rows):
    x = [row[0] for row in rows]
    m = [row[1] for row in rows]
    spend = clv.expected_average_spend(params, x, m)
    assert np.all(spend >= 0)
    # the mean is infinite for q <= 1: p v / (q - 1) at x = 0, p x + q - 1 <= 0
    x = np.array(x, dtype=float)
    defined = np.where(x > 0, params.p * x + params.q > 1, params.q > 1)
    assert np.all(np.isfinite(spend) == defined)


@settings(max_examples=50)
@given(
    bgnbd_params(),
    customers,
    st.floats(0, 1e6),
    st.floats(0, 1),
    st.floats(0, 1),
    st.integers(0, 5),
)
def test_lifetime_value_is_positive_and_finite(
    params, columns, spend, margin_rate, discount_rate, horizon_years
):
    spends = np.full(columns[0].shape, spend)
    value = clv.lifetime_value(
        params, *columns, spends, margin_rate, discount_rate, horizon_years
    )
    assert value.shape == columns[0].shape
    assert np.all(np.isfinite(value)) and np.all(value >= 0)
    with pytest.raises(ValueError, match="horizon"):
        clv.lifetime_value(params, *columns, spends, margin_rate, 0.1, -1)


bad_columns = st.sampled_from(
    [
        ([-1], [0.0], [5.0]),  # negative repeat purchases
        ([1.5], [1.0], [5.0]),  # not a whole number
        ([1], [6.0], [5.0]),  # last purchase after the as-of date
        ([0], [2.0], [5.0]),  # recency without repeat purchase
        ([1], [-1.0], [5.0]),
        ([1], [float("nan")], [5.0]),
        ([1, 2], [1.0], [5.0, 5.0]),
        ([None], [0.0], [5.0]),
    ]
)


@given(bgnbd_params(), bad_columns)
def test_bad_customer_columns_raise_value_error(params, columns):
    with pytest.raises(ValueError):
        clv.probability_alive(params, *columns)
    with pytest.raises(ValueError):
        clv.expected_purchases(params, 10.0, *columns)


statuses = st.builds(
    clv.FitStatus,
    customers=st.integers(0, 10**5),
    repeat_buyers=st.integers(0, 10**5),
    converged=st.booleans(),
    at_bound=st.booleans(),
    iterations=st.integers(0, 500),
    evaluations=st.integers(0, 1000),
    log_likelihood=st.floats(-1e9, 0),
    message=st.text(max_size=5),
)


@given(
    st.one_of(
        st.none(),
        st.builds(clv.BgNbdFit, parameter, parameter, parameter, parameter, statuses),
    ),
    st.one_of(
        st.none(),
        st.builds(clv.GammaGammaFit, parameter, st.floats(0.5, 5), parameter, statuses),
    ),
    st.integers(0, 100),
)
def test_a_verdict_is_trusted_exactly_without_a_reason(bgnbd, gamma_gamma, minimum):
    verdict = clv.fit_verdict(bgnbd, gamma_gamma, minimum)
    assert verdict.reason in REASONS
    assert verdict.trusted == (verdict.reason == "")
    if verdict.trusted:
        assert bgnbd.status.converged and not bgnbd.status.at_bound
        assert bgnbd.status.repeat_buyers >= minimum


@st.composite
def companies(draw):
    rows = draw(st.lists(customer(), min_size=1, max_size=40))
    x, t_x, age = (np.array(column, dtype=float) for column in zip(*rows, strict=True))
    spend = np.array(
        draw(st.lists(st.floats(-100, 1e7), min_size=len(rows), max_size=len(rows)))
    )
    return x, t_x, age, np.where(x > 0, spend, 0.0)


@settings(max_examples=15)
@given(companies(), st.integers(1, 20))
def test_fit_company_returns_fits_and_a_verdict(columns, minimum):
    result = clv.fit_company(*columns, min_repeat_buyers=minimum)
    assert result.keys() == {"bgnbd", "gamma_gamma", "verdict", "customers"}
    assert result["customers"] == len(columns[0])
    assert result["verdict"].reason in REASONS
    if result["bgnbd"] is None:
        assert result["verdict"].reason == clv.REASON_FEW_BUYERS
    else:
        assert result["gamma_gamma"].v > 0
