"""BG/NBD and Gamma-Gamma (tools/clv.py) against the CDNOW literature and by hand."""

import csv
import math
import subprocess
import sys
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("scipy")

from crm_relationship.tools import clv  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
# Fader, Hardie and Lee (2005), CDNOW sample, 39-week calibration period
PUBLISHED_BGNBD = clv.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
PUBLISHED_GAMMA_GAMMA = clv.GammaGammaParams(p=6.25, q=3.74, v=15.44)
MONTH = 365.25 / 12 / 7


def read_csv(name):
    with open(DATA / name, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def cdnow():
    """x, t_x, T of the CDNOW summary and zbar of its _with_transactions twin."""
    summary = read_csv("cdnow_customers_summary.csv")
    spend = read_csv("cdnow_customers_summary_with_transactions.csv")
    assert len(summary) == len(spend) == 2357
    assert [row["ID"] for row in summary] == [row["ID"] for row in spend]
    return {
        "x": [int(row["frequency"]) for row in summary],
        "t_x": [float(row["recency"]) for row in summary],
        "T": [float(row["T"]) for row in summary],
        "zbar": [float(row["zbar"]) for row in spend],
    }


@pytest.fixture(scope="module")
def cdnow_bgnbd(cdnow):
    return clv.fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])


@pytest.fixture(scope="module")
def cdnow_gamma_gamma(cdnow):
    return clv.fit_gamma_gamma(cdnow["x"], cdnow["zbar"])


def hyp2f1_series(a, b, c, z, terms=2000):
    """Gauss's series, independent of scipy (|z| < 1)."""
    total = term = 1.0
    for n in range(terms):
        term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z
        total += term
        if abs(term) < 1e-15 * abs(total):
            break
    return total


def expected_purchases_by_hand(params, t, x, t_x, age):
    """Fader, Hardie and Lee (2005) eq. 10, written out as published."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + age + t)
    head = (a + b + x - 1) / (a - 1)
    tail = ((alpha + age) / (alpha + age + t)) ** (r + x) * hyp2f1_series(
        r + x, b + x, a + b + x - 1, z
    )
    odds = a / (b + x - 1) * ((alpha + age) / (alpha + t_x)) ** (r + x) if x else 0
    return head * (1 - tail) / (1 + odds)


# ---------------------------------------------------------------------------
# CDNOW: the published estimates
# ---------------------------------------------------------------------------


def test_bgnbd_reproduces_the_published_cdnow_estimates(cdnow_bgnbd):
    for name in ("r", "alpha", "a", "b"):
        assert getattr(cdnow_bgnbd, name) == pytest.approx(
            getattr(PUBLISHED_BGNBD, name), rel=0.01
        ), name
    status = cdnow_bgnbd.status
    assert status.converged and not status.at_bound
    assert (status.customers, status.repeat_buyers) == (2357, 946)
    # the paper's maximised log-likelihood
    assert status.log_likelihood == pytest.approx(-9582.4, abs=0.1)


def test_gamma_gamma_reproduces_the_published_cdnow_estimates(cdnow_gamma_gamma):
    for name in ("p", "q", "v"):
        assert getattr(cdnow_gamma_gamma, name) == pytest.approx(
            getattr(PUBLISHED_GAMMA_GAMMA, name), rel=0.01
        ), name
    assert cdnow_gamma_gamma.status.customers == 946
    assert cdnow_gamma_gamma.status.converged


def test_published_conditional_expectation_for_the_next_39_weeks(cdnow_bgnbd):
    # x = 2, t_x = 30.43, T = 38.86: 1.226 purchases in weeks 39..78
    for params in (PUBLISHED_BGNBD, cdnow_bgnbd):
        (value,) = clv.expected_purchases(params, 39, [2], [30.43], [38.86])
        assert value == pytest.approx(1.226, abs=5e-4)


def test_parameters_may_be_given_as_a_mapping_or_in_order():
    expected = clv.probability_alive(PUBLISHED_BGNBD, [2], [30.43], [38.86])
    for params in ((0.243, 4.414, 0.793, 2.426), vars(PUBLISHED_BGNBD)):
        assert clv.probability_alive(params, [2], [30.43], [38.86]) == expected
    spend = clv.expected_average_spend((6.25, 3.74, 15.44), [0], [0.0])
    assert spend == pytest.approx([6.25 * 15.44 / 2.74])
    with pytest.raises(ValueError, match="Expected the parameters"):
        clv.probability_alive((0.2, 4.4, 0.8), [2], [30.43], [38.86])


def test_fit_accepts_arrays_as_well_as_lists(cdnow, cdnow_bgnbd):
    fit = clv.fit_bgnbd(np.array(cdnow["x"]), np.array(cdnow["t_x"]), cdnow["T"])
    assert fit.r == pytest.approx(cdnow_bgnbd.r, rel=1e-9)


# ---------------------------------------------------------------------------
# Predictions against the formulas by hand
# ---------------------------------------------------------------------------

CUSTOMERS = [  # x, t_x, T
    (2, 30.43, 38.86),
    (1, 1.71, 38.86),
    (0, 0.0, 38.86),
    (7, 29.43, 35.14),
    (40, 70.0, 78.0),
]


def columns(customers):
    return [list(column) for column in zip(*customers, strict=True)]


def test_probability_alive_by_hand():
    result = clv.probability_alive(PUBLISHED_BGNBD, *columns(CUSTOMERS[:4]))
    # customer 1: 1 / (1 + 0.793 / 3.426 * (43.274 / 34.844)^2.243)
    #           = 1 / (1 + 0.231465 * 1.625804) = 0.726579
    assert result[0] == pytest.approx(0.726579, abs=1e-6)
    # customer 2: 1 / (1 + 0.793 / 2.426 * (43.274 / 6.124)^1.243) = 0.212101
    assert result[1] == pytest.approx(0.212101, abs=1e-6)
    assert result[2] == 1.0  # no repeat purchase: alive for sure
    # x = 7: 1 / (1 + 0.793 / 8.426 * (39.554 / 33.844)^7.243) = 0.774524
    assert result[3] == pytest.approx(0.774524, abs=1e-6)


def test_probability_alive_does_not_overflow():
    # (alpha + T) / (alpha + t_x) to the power 500 overflows a float
    (value,) = clv.probability_alive(PUBLISHED_BGNBD, [500], [10.0], [300.0])
    assert value == 0.0


def test_expected_purchases_match_the_published_formula():
    x, t_x, age = columns(CUSTOMERS)
    for weeks in (4.0, 39.0, 12 * MONTH, 260.0):
        result = clv.expected_purchases(PUBLISHED_BGNBD, weeks, x, t_x, age)
        expected = [
            expected_purchases_by_hand(PUBLISHED_BGNBD, weeks, *customer)
            for customer in CUSTOMERS
        ]
        assert result == pytest.approx(expected, rel=1e-8)


def test_expected_purchases_at_a_dropout_parameter_of_one():
    # a = 1 makes the formula 0 / 0; its limit lies between the published
    # formula (Gauss's series) at a = 0.9999 and at a = 1.0001
    x, t_x, age = 2, 10.0, 20.0
    around = [
        expected_purchases_by_hand(clv.BgNbdParams(0.5, 5.0, a, 2.0), 52, x, t_x, age)
        for a in (0.9999, 1.0001)
    ]
    (value,) = clv.expected_purchases((0.5, 5.0, 1.0, 2.0), 52, [x], [t_x], [age])
    assert min(around) < value < max(around)
    assert value == pytest.approx(1.478894, abs=1e-6)


def test_expected_purchases_where_scipy_overflows():
    # r = 1, alpha = 1, a = 100, b = 2; a customer who bought today, 10 weeks
    # ahead: z = 10 / 11, scipy's hyp2f1(100, 99; 101; z) is inf; the published
    # formula (Gauss's series; mpmath at 40 digits agrees) gives 0.9257405
    params = clv.BgNbdParams(1.0, 1.0, 100.0, 2.0)
    expected = expected_purchases_by_hand(params, 10.0, 0, 0.0, 0.0)
    assert expected == pytest.approx(0.9257405, abs=1e-7)
    (value,) = clv.expected_purchases(params, 10.0, [0], [0.0], [0.0])
    assert value == pytest.approx(expected, rel=1e-9)


def test_expected_purchases_take_one_horizon_per_customer():
    x, t_x, age = columns(CUSTOMERS[:2])
    result = clv.expected_purchases(PUBLISHED_BGNBD, [10.0, 20.0], x, t_x, age)
    assert result[0] == pytest.approx(
        expected_purchases_by_hand(PUBLISHED_BGNBD, 10.0, *CUSTOMERS[0])
    )
    assert result[1] == pytest.approx(
        expected_purchases_by_hand(PUBLISHED_BGNBD, 20.0, *CUSTOMERS[1])
    )


def test_predicted_purchases_are_those_of_the_next_twelve_months():
    x, t_x, age = columns(CUSTOMERS)
    result = clv.predicted_purchases(PUBLISHED_BGNBD, x, t_x, age)
    weeks = 365.25 / 7  # 52.18 weeks
    expected = [
        expected_purchases_by_hand(PUBLISHED_BGNBD, weeks, *customer)
        for customer in CUSTOMERS
    ]
    assert result == pytest.approx(expected, rel=1e-8)


def test_expected_average_spend_by_hand():
    result = clv.expected_average_spend(
        PUBLISHED_GAMMA_GAMMA, [0, 2, 1, 3], [0.0, 22.35, 11.77, -5.0]
    )
    # x = 0: population mean p v / (q - 1) = 6.25 * 15.44 / 2.74
    assert result[0] == pytest.approx(35.218978, abs=1e-6)
    # x = 2, m = 22.35: 6.25 * (15.44 + 44.70) / (12.50 + 2.74)
    assert result[1] == pytest.approx(24.663714, abs=1e-6)
    # x = 1, m = 11.77: 6.25 * (15.44 + 11.77) / (6.25 + 2.74)
    assert result[2] == pytest.approx(18.916852, abs=1e-6)
    # net spend below 0 counts as 0: 6.25 * 15.44 / (18.75 + 2.74)
    assert result[3] == pytest.approx(4.490461, abs=1e-6)


# ---------------------------------------------------------------------------
# Lifetime value
# ---------------------------------------------------------------------------


def test_lifetime_value_of_three_months_by_hand():
    # one customer, horizon 3 months, margin 30 %, discount 10 %, E[m] = 40:
    # 0.3 * 40 * (N1 / 1.1^(1/12) + (N2 - N1) / 1.1^(2/12) + (N3 - N2) / 1.1^(3/12))
    customer = CUSTOMERS[0]
    n1, n2, n3 = (
        expected_purchases_by_hand(PUBLISHED_BGNBD, k * MONTH, *customer)
        for k in (1, 2, 3)
    )
    expected = (
        0.3
        * 40
        * (n1 / 1.1 ** (1 / 12) + (n2 - n1) / 1.1 ** (2 / 12) + (n3 - n2) / 1.1**0.25)
    )
    (value,) = clv.lifetime_value(
        PUBLISHED_BGNBD, *columns([customer]), [40.0], 0.3, 0.1, 0.25
    )
    assert value == pytest.approx(expected, rel=1e-9)
    assert 0 < value < 0.3 * 40 * n3


def test_lifetime_value_without_discount_is_margin_times_purchases():
    # with d = 0 the monthly sum telescopes to margin * E[m] * E[N(12 H)]
    x, t_x, age = columns(CUSTOMERS)
    spend = [10.0, 20.0, 30.0, 40.0, 50.0]
    value = clv.lifetime_value(PUBLISHED_BGNBD, x, t_x, age, spend, 0.25, 0.0, 5)
    purchases = clv.expected_purchases(PUBLISHED_BGNBD, 60 * MONTH, x, t_x, age)
    assert value == pytest.approx(0.25 * np.array(spend) * purchases, rel=1e-9)


def test_lifetime_value_defaults_and_no_margin():
    x, t_x, age = columns(CUSTOMERS)
    spend = [25.0] * 5
    default = clv.lifetime_value(PUBLISHED_BGNBD, x, t_x, age, spend)
    explicit = clv.lifetime_value(PUBLISHED_BGNBD, x, t_x, age, spend, 0.3, 0.1, 5)
    assert default == pytest.approx(explicit)
    assert len(default) == 5 and np.all(default > 0)
    assert not np.any(clv.lifetime_value(PUBLISHED_BGNBD, x, t_x, age, spend, 0.0))


# ---------------------------------------------------------------------------
# Trust in a fit
# ---------------------------------------------------------------------------


def test_cdnow_fits_are_trusted(cdnow_bgnbd, cdnow_gamma_gamma):
    verdict = clv.fit_verdict(cdnow_bgnbd, cdnow_gamma_gamma)
    assert verdict == clv.FitVerdict(True, "", 946)


def test_fewer_than_fifty_repeat_buyers_are_not_trusted():
    # 49 repeat buyers among 300 customers
    x = [1 + n % 4 for n in range(49)] + [0] * 251
    t_x = [5.0 + n % 20 for n in range(49)] + [0.0] * 251
    age = [40.0] * 300
    fit = clv.fit_bgnbd(x, t_x, age)
    assert fit.status.repeat_buyers == 49
    verdict = clv.fit_verdict(fit)
    assert (verdict.trusted, verdict.reason) == (False, clv.REASON_FEW_BUYERS)
    assert clv.fit_verdict(fit, min_repeat_buyers=49).reason != clv.REASON_FEW_BUYERS
    assert clv.fit_verdict(None).reason == clv.REASON_FEW_BUYERS


def test_a_parameter_at_a_bound_is_not_trusted():
    # 200 identical customers who buy every week and never drop out: the rate
    # has no spread (r and alpha run to the upper bound), the dropout a to 0
    fit = clv.fit_bgnbd([50] * 200, [50.0] * 200, [50.0] * 200)
    assert fit.status.at_bound
    low, high = clv.PARAMETER_BOUNDS
    assert fit.r == pytest.approx(high) and fit.a == pytest.approx(low)
    verdict = clv.fit_verdict(fit)
    assert (verdict.trusted, verdict.reason) == (False, clv.REASON_AT_BOUND)


def with_status(fit, **changes):
    status = clv.FitStatus(**(vars(fit.status) | changes))
    return type(fit)(**(vars(fit) | {"status": status}))


def test_no_convergence_is_not_trusted(cdnow_bgnbd, cdnow_gamma_gamma):
    stuck = with_status(cdnow_bgnbd, converged=False)
    assert clv.fit_verdict(stuck, cdnow_gamma_gamma).reason == clv.REASON_NOT_CONVERGED
    stuck = with_status(cdnow_gamma_gamma, converged=False)
    assert clv.fit_verdict(cdnow_bgnbd, stuck).reason == clv.REASON_NOT_CONVERGED


def test_gamma_gamma_checks_count_too(cdnow_bgnbd, cdnow_gamma_gamma):
    at_bound = with_status(cdnow_gamma_gamma, at_bound=True)
    assert clv.fit_verdict(cdnow_bgnbd, at_bound).reason == clv.REASON_AT_BOUND
    few = with_status(cdnow_gamma_gamma, customers=30)
    assert clv.fit_verdict(cdnow_bgnbd, few).reason == clv.REASON_FEW_BUYERS
    heavy_tail = clv.GammaGammaFit(6.0, 0.9, 15.0, cdnow_gamma_gamma.status)
    assert clv.fit_verdict(cdnow_bgnbd, heavy_tail).reason == clv.REASON_NO_MEAN_SPEND


# ---------------------------------------------------------------------------
# Input and dependencies
# ---------------------------------------------------------------------------


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="different lengths"):
        clv.probability_alive(PUBLISHED_BGNBD, [1, 2], [1.0], [5.0, 5.0])
    with pytest.raises(ValueError, match="between 0 and the customer's age"):
        clv.fit_bgnbd([1], [6.0], [5.0])
    with pytest.raises(ValueError, match="whole numbers"):
        clv.expected_purchases(PUBLISHED_BGNBD, 10, [1.5], [1.0], [5.0])
    with pytest.raises(ValueError, match="missing or infinite"):
        clv.fit_gamma_gamma([1, 2], [10.0, float("nan")])
    with pytest.raises(ValueError, match="No repeat buyer"):
        clv.fit_gamma_gamma([0, 0], [0.0, 0.0])
    with pytest.raises(ValueError, match="No customer"):
        clv.fit_bgnbd([], [], [])


def test_empty_input_gives_empty_output():
    assert len(clv.probability_alive(PUBLISHED_BGNBD, [], [], [])) == 0
    assert len(clv.expected_purchases(PUBLISHED_BGNBD, 10, [], [], [])) == 0


def test_dependencies_are_reported(monkeypatch):
    assert clv.predictive_dependencies() == (True, "")
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)
    available, reason = clv.predictive_dependencies()
    assert not available and "scipy.optimize" in reason


def test_importing_the_tools_does_not_import_numpy():
    tests = str(Path(__file__).resolve().parent)
    code = (
        f"import sys; sys.path.insert(0, {tests!r}); import conftest; "
        "import crm_relationship.tools; "
        "assert 'numpy' not in sys.modules and 'scipy' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_month_length():
    assert clv.WEEKS_PER_MONTH == pytest.approx(4.348214, abs=1e-6)
    assert math.isclose(12 * clv.WEEKS_PER_MONTH, 365.25 / 7)


# ---------------------------------------------------------------------------
# From transactions, by the definitions of docs/rules.md, Lifetime value
# ---------------------------------------------------------------------------


def test_cdnow_transactions_give_the_summary_and_the_published_fit(cdnow):
    """The transaction sample, cut at 1997-09-30 with the definitions of
    docs/rules.md, Lifetime value (a purchase is a day with a purchase; x = days
    - 1; t_x and T in weeks; m = spend after the first day / x), gives the
    summary files and the published estimates.
    """
    as_of = date(1997, 9, 30)
    spend_by_day = defaultdict(lambda: defaultdict(float))
    with open(DATA / "CDNOW_sample.txt") as handle:
        for line in handle:
            _master_id, customer, day, _cds, amount = line.split()
            day = datetime.strptime(day, "%Y%m%d").date()
            if day <= as_of:
                spend_by_day[int(customer)][day] += float(amount)
    assert len(spend_by_day) == 2357
    x, t_x, age, monetary = [], [], [], []
    for customer in sorted(spend_by_day):
        days = sorted(spend_by_day[customer])
        repeat = len(days) - 1
        x.append(repeat)
        t_x.append((days[-1] - days[0]).days / 7)
        age.append((as_of - days[0]).days / 7)
        later = sum(spend_by_day[customer][day] for day in days[1:])
        monetary.append(later / repeat if repeat else 0.0)
    assert x == cdnow["x"]
    assert t_x == pytest.approx(cdnow["t_x"], abs=0.005)
    assert age == pytest.approx(cdnow["T"], abs=0.005)
    assert monetary == pytest.approx(cdnow["zbar"], abs=0.006)

    bgnbd = clv.fit_bgnbd(x, t_x, age)
    for name in ("r", "alpha", "a", "b"):
        assert getattr(bgnbd, name) == pytest.approx(
            getattr(PUBLISHED_BGNBD, name), rel=0.01
        ), name
    gamma_gamma = clv.fit_gamma_gamma(x, monetary)
    for name in ("p", "q", "v"):
        assert getattr(gamma_gamma, name) == pytest.approx(
            getattr(PUBLISHED_GAMMA_GAMMA, name), rel=0.01
        ), name


# ---------------------------------------------------------------------------
# One company: fit_company, the production fit path
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow_company(cdnow):
    return clv.fit_company(cdnow["x"], cdnow["t_x"], cdnow["T"], cdnow["zbar"])


def test_fit_company_reproduces_the_published_cdnow_estimates(cdnow_company):
    assert cdnow_company["customers"] == 2357
    assert cdnow_company["verdict"] == clv.FitVerdict(True, "", 946)
    bgnbd, gamma_gamma = cdnow_company["bgnbd"], cdnow_company["gamma_gamma"]
    for name in ("r", "alpha", "a", "b"):
        assert getattr(bgnbd, name) == pytest.approx(
            getattr(PUBLISHED_BGNBD, name), rel=0.01
        ), name
    for name in ("p", "q", "v"):
        assert getattr(gamma_gamma, name) == pytest.approx(
            getattr(PUBLISHED_GAMMA_GAMMA, name), rel=0.01
        ), name
    # x = 2, t_x = 30.43, T = 38.86: 1.226 purchases in the next 39 weeks
    (value,) = clv.expected_purchases(bgnbd, 39, [2], [30.43], [38.86])
    assert value == pytest.approx(1.226, abs=5e-3)


def test_fit_company_does_not_depend_on_the_currency(cdnow, cdnow_company):
    # the CDNOW spends in a currency worth 1/1000 of the dollar (VND-like):
    # mean spend about 35,000, v about 15,440, beyond the upper bound 1e4
    dong = [1000.0 * spend for spend in cdnow["zbar"]]
    unscaled = clv.fit_gamma_gamma(cdnow["x"], dong)
    assert unscaled.status.at_bound
    result = clv.fit_company(cdnow["x"], cdnow["t_x"], cdnow["T"], dong)
    dollar = cdnow_company["gamma_gamma"]
    # equal to the optimiser's tolerance: the scaled spends differ in the last bit
    assert result["gamma_gamma"].v == pytest.approx(1000 * dollar.v, rel=1e-4)
    assert result["gamma_gamma"].v == pytest.approx(15_440, rel=0.01)
    assert result["gamma_gamma"].p == pytest.approx(dollar.p, rel=1e-4)
    assert result["gamma_gamma"].q == pytest.approx(dollar.q, rel=1e-4)
    for name in ("r", "alpha", "a", "b"):
        assert getattr(result["bgnbd"], name) == getattr(cdnow_company["bgnbd"], name)
    assert result["verdict"] == clv.FitVerdict(True, "", 946)


def test_fit_company_with_fewer_than_fifty_repeat_buyers_fits_nothing():
    # 49 repeat buyers among 300 customers
    x = [1 + n % 4 for n in range(49)] + [0] * 251
    t_x = [5.0 + n % 20 for n in range(49)] + [0.0] * 251
    m = [20.0] * 49 + [0.0] * 251
    result = clv.fit_company(x, t_x, [40.0] * 300, m)
    assert result == {
        "bgnbd": None,
        "gamma_gamma": None,
        "verdict": clv.FitVerdict(False, clv.REASON_FEW_BUYERS, 49),
        "customers": 300,
    }


def test_fit_company_without_a_positive_spend_fits_nothing():
    # 60 repeat buyers whose credit notes cancel their repeat purchases
    result = clv.fit_company([2] * 60, [10.0] * 60, [30.0] * 60, [0.0] * 60)
    assert result["verdict"] == clv.FitVerdict(False, clv.REASON_FEW_BUYERS, 60)
    assert result["bgnbd"] is None and result["gamma_gamma"] is None


def test_fit_company_says_when_its_fit_cannot_be_trusted():
    # identical weekly buyers who never drop out: the rate runs to a bound
    spends = [5.0 + n % 10 for n in range(200)]
    result = clv.fit_company([50] * 200, [50.0] * 200, [50.0] * 200, spends)
    assert result["gamma_gamma"].status.converged
    assert result["verdict"] == clv.FitVerdict(False, clv.REASON_AT_BOUND, 200)
    assert result["bgnbd"].status.at_bound
    assert result["customers"] == 200


def test_fit_company_refuses_bad_columns():
    with pytest.raises(ValueError, match="m has 1 values for 2 customers"):
        clv.fit_company([1, 0], [1.0, 0.0], [2.0, 2.0], [3.0])
    with pytest.raises(ValueError, match="missing or infinite"):
        clv.fit_company([1], [1.0], [2.0], [float("nan")])
