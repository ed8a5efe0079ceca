"""Predictive lifetime value, method ``bgnbd`` (see docs/rules.md).

BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy way")
for the number of purchases and the probability that a customer is alive,
Gamma-Gamma (Fader, Hardie and Lee 2005, "RFM and CLV") for the spend per
purchase. Time is counted in weeks. Per customer: ``frequency`` x = repeat
purchases, ``recency`` t_x = weeks from the first to the last purchase,
``T`` = weeks from the first purchase to the as-of date, ``monetary`` = average
spend of the repeat purchases.

Domain: columns of finite numbers, 0 <= t_x <= T, whole x >= 0 (t_x = 0 when
x = 0), else ValueError. A purchase is a day, so x <= 7 t_x and a fitted rate
r / alpha is at most 7 a week; the predictions are finite and in range for
r, a, b up to 100 and alpha up to 1000 (tests/test_properties_clv.py).

numpy and scipy are optional for the module: they are imported inside the
functions, so that importing this file costs nothing and works without them;
``predictive_dependencies()`` says whether they are there.
"""

import dataclasses
import math
from dataclasses import dataclass

MIN_REPEAT_BUYERS = 50
WEEKS_PER_MONTH = 365.25 / 12 / 7
# Both models are fitted on log-parameters inside these bounds; a fit that ends
# on one of them is degenerate (a rate or a dropout that the data cannot pin).
PARAMETER_BOUNDS = (1e-4, 1e4)
_BOUND_TOLERANCE = 1e-3  # in log space: within 0.1 % of a bound is "at" it
_NEAR_ONE = 1e-6  # BG/NBD's a this close to 1 is taken as 1 + 1e-6 (0 / 0 at 1)

# Reason codes of a fit that cannot be trusted (the model translates them).
REASON_DEPENDENCIES = "dependencies_missing"
REASON_FEW_BUYERS = "too_few_repeat_buyers"
REASON_NOT_CONVERGED = "not_converged"
REASON_AT_BOUND = "parameter_at_bound"
REASON_NO_MEAN_SPEND = "spend_mean_undefined"


def predictive_dependencies():
    """Return ``(True, "")`` when numpy and scipy import, else ``(False, why)``."""
    try:
        import numpy  # noqa: F401
        import scipy.optimize  # noqa: F401
        import scipy.special  # noqa: F401
    except ImportError as error:
        return False, str(error)
    return True, ""


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    v: float


@dataclass(frozen=True)
class FitStatus:
    """How a maximum-likelihood fit ended."""

    customers: int  # customers in the fit
    repeat_buyers: int  # of them, those with at least one repeat purchase
    converged: bool
    at_bound: bool
    iterations: int
    evaluations: int
    log_likelihood: float  # total, at the returned parameters
    message: str  # the optimiser's own words, for the log


@dataclass(frozen=True)
class BgNbdFit(BgNbdParams):
    status: FitStatus


@dataclass(frozen=True)
class GammaGammaFit(GammaGammaParams):
    status: FitStatus


@dataclass(frozen=True)
class FitVerdict:
    trusted: bool
    reason: str  # "" when trusted, else one of the REASON_* codes
    repeat_buyers: int


# ---------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------


def _columns(*columns):
    """Equal-length float arrays of ``columns``; ValueError on bad input."""
    import numpy as np

    arrays = [np.asarray(column, dtype=float).reshape(-1) for column in columns]
    if len({len(array) for array in arrays}) > 1:
        raise ValueError(
            "The customer columns have different lengths: "
            + ", ".join(str(len(array)) for array in arrays)
        )
    for array in arrays:
        if not np.all(np.isfinite(array)):
            raise ValueError("The customer columns contain a missing or infinite value")
    return arrays


def _rfm_columns(frequency, recency, T):
    import numpy as np

    x, t_x, age = _columns(frequency, recency, T)
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("Repeat purchases must be whole numbers >= 0")
    if np.any(t_x < 0) or np.any(t_x > age * (1 + 1e-9) + 1e-9):
        raise ValueError("Recency must lie between 0 and the customer's age")
    if np.any((x == 0) & (t_x != 0)):
        raise ValueError("A customer without repeat purchase has a recency of 0")
    return x, t_x, age


def _read_params(params, names):
    """Parameters from a fit or params object, a mapping or a sequence in order."""
    if isinstance(params, dict):
        values = [params[name] for name in names]
    elif all(hasattr(params, name) for name in names):
        values = [getattr(params, name) for name in names]
    else:
        values = list(params)
        if len(values) != len(names):
            raise ValueError(f"Expected the parameters {', '.join(names)}")
    return tuple(float(value) for value in values)


def _bgnbd_params(params):
    return _read_params(params, ("r", "alpha", "a", "b"))


def _gamma_gamma_params(params):
    return _read_params(params, ("p", "q", "v"))


# ---------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------


def _maximise(negative_mean_ll, start, names, total, customers, repeat_buyers):
    """Minimise ``negative_mean_ll``, the mean over ``total`` (weighted)
    customers, over log-parameters within the bounds: ``({name: value},
    FitStatus)``."""
    import numpy as np
    from scipy.optimize import minimize

    low, high = (math.log(bound) for bound in PARAMETER_BOUNDS)
    start = np.clip(np.log(np.asarray(start, dtype=float)), low + 1, high - 1)
    with np.errstate(all="ignore"):
        result = minimize(
            negative_mean_ll,
            start,
            method="L-BFGS-B",
            bounds=[(low, high)] * len(names),
            options={"maxiter": 500, "ftol": 1e-12, "gtol": 1e-7},
        )
    log_params = result.x
    at_bound = bool(
        np.any(np.abs(log_params - low) < _BOUND_TOLERANCE)
        or np.any(np.abs(log_params - high) < _BOUND_TOLERANCE)
    )
    found = dict(zip(names, np.exp(log_params).tolist(), strict=True))
    return found, FitStatus(
        customers=customers,
        repeat_buyers=repeat_buyers,
        converged=bool(result.success) and bool(np.isfinite(result.fun)),
        at_bound=at_bound,
        iterations=int(result.nit),
        evaluations=int(result.nfev),
        log_likelihood=-float(result.fun) * float(total),
        message=str(result.message),
    )


def _bgnbd_log_likelihood(log_params, x, t_x, age, weights, x_values, x_index):
    """Weighted total BG/NBD log-likelihood (Fader, Hardie and Lee 2005, eq. 6)."""
    import numpy as np
    from scipy.special import betaln, gammaln

    r, alpha, a, b = np.exp(log_params)
    # terms of x only, over its distinct values
    by_x = (
        gammaln(r + x_values)
        - gammaln(r)
        + r * np.log(alpha)
        + betaln(a, b + x_values)
        - betaln(a, b)
    )
    log_t = -(r + x) * np.log(alpha + age)
    repeat = x > 0
    log_tx = np.where(
        repeat,
        np.log(a)
        - np.log(np.where(repeat, b + x - 1, 1.0))
        - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return float(np.dot(weights, by_x[x_index] + np.logaddexp(log_t, log_tx)))


def fit_bgnbd(frequency, recency, T):
    """Fit BG/NBD by maximum likelihood; return a ``BgNbdFit`` (``r, alpha, a, b``).

    Customers with the same (x, t_x, T) are counted once with a weight, which
    makes invoice data (whole days) much smaller. The fit never raises on
    degenerate data: its ``status`` says whether it converged and whether a
    parameter ended at a bound; ``fit_verdict`` turns that into trust.
    """
    import numpy as np

    x, t_x, age = _rfm_columns(frequency, recency, T)
    if not len(x):
        raise ValueError("No customer to fit")
    rows, weights = np.unique(
        np.column_stack((x, t_x, age)), axis=0, return_counts=True
    )
    x_u, t_x_u, age_u = rows.T
    weights = weights.astype(float)
    x_values, x_index = np.unique(x_u, return_inverse=True)
    total = weights.sum()

    def negative_mean_ll(log_params):
        ll = _bgnbd_log_likelihood(
            log_params, x_u, t_x_u, age_u, weights, x_values, x_index
        )
        return -ll / total if np.isfinite(ll) else 1e10

    # start: r = 1 and alpha from the mean purchase rate, a = b = 1
    rate = max(x.sum(), 1.0) / max(age.sum(), 1e-9)
    found, status = _maximise(
        negative_mean_ll,
        [1.0, 1.0 / rate, 1.0, 1.0],
        ("r", "alpha", "a", "b"),
        total=total,
        customers=len(x),
        repeat_buyers=int(np.count_nonzero(x)),
    )
    return BgNbdFit(status=status, **found)


def fit_gamma_gamma(frequency, monetary):
    """Fit Gamma-Gamma by maximum likelihood; return a ``GammaGammaFit`` (``p, q, v``).

    Only customers with x >= 1 and an average spend > 0 take part (see docs/rules.md);
    ``status.customers`` counts them.
    """
    import numpy as np
    from scipy.special import gammaln

    x, m = _columns(frequency, monetary)
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]
    if not len(x):
        raise ValueError("No repeat buyer with a positive spend to fit")
    log_m, log_x, total = np.log(m), np.log(x), float(len(x))

    def negative_mean_ll(log_params):
        p, q, v = np.exp(log_params)
        px = p * x
        ll = np.sum(
            gammaln(px + q)
            - gammaln(px)
            - gammaln(q)
            + q * math.log(v)
            + (px - 1) * log_m
            + px * log_x
            - (px + q) * np.log(v + x * m)
        )
        return -ll / total if np.isfinite(ll) else 1e10

    found, status = _maximise(
        negative_mean_ll,
        [1.0, 1.0, float(np.mean(m))],
        ("p", "q", "v"),
        total=total,
        customers=len(x),
        repeat_buyers=len(x),
    )
    return GammaGammaFit(status=status, **found)


def fit_verdict(bgnbd, gamma_gamma=None, min_repeat_buyers=MIN_REPEAT_BUYERS):
    """May the company use these fits? Not with fewer than
    ``min_repeat_buyers`` repeat buyers, without convergence, nor with a
    parameter at a bound; nor with q <= 1, where the mean spend is infinite.
    ``bgnbd`` None means the fit was not attempted (too few buyers).
    """
    if bgnbd is None:
        return FitVerdict(False, REASON_FEW_BUYERS, 0)
    buyers = bgnbd.status.repeat_buyers
    fits = [bgnbd] + ([gamma_gamma] if gamma_gamma is not None else [])
    if buyers < min_repeat_buyers or (
        gamma_gamma is not None and gamma_gamma.status.customers < min_repeat_buyers
    ):
        reason = REASON_FEW_BUYERS
    elif not all(fit.status.converged for fit in fits):
        reason = REASON_NOT_CONVERGED
    elif any(fit.status.at_bound for fit in fits):
        reason = REASON_AT_BOUND
    elif gamma_gamma is not None and gamma_gamma.q <= 1:
        reason = REASON_NO_MEAN_SPEND
    else:
        reason = ""
    return FitVerdict(not reason, reason, buyers)


# ---------------------------------------------------------------------------
# Predictions
# ---------------------------------------------------------------------------


def _alive_log_odds(r, alpha, a, b, x, t_x, age):
    """log of a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x), -inf at x = 0."""
    import numpy as np

    repeat = x > 0
    with np.errstate(divide="ignore"):
        return np.where(
            repeat,
            np.log(a)
            - np.log(np.where(repeat, b + x - 1, 1.0))
            + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x)),
            -np.inf,
        )


def probability_alive(params, frequency, recency, T):
    """The probability that each customer is still alive (see docs/rules.md):

        1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)),

    evaluated on the log scale so that no power overflows.
    """
    from scipy.special import expit

    r, alpha, a, b = _bgnbd_params(params)
    x, t_x, age = _rfm_columns(frequency, recency, T)
    return expit(-_alive_log_odds(r, alpha, a, b, x, t_x, age))


def _purchases_if_alive(r, alpha, a, b, x, age, t):
    """E[Y(t) | alive, x, T]: (a + b + x - 1) / (a - 1) * (1 - tail), t_x free.

    The tail ((alpha + T) / (alpha + T + t))^(r + x) 2F1(r + x, b + x;
    a + b + x - 1; z), z = t / (alpha + T + t), is evaluated after Euler's
    transformation as (1 - z)^(a - 1) 2F1(a + b - 1 - r, a - 1; a + b + x - 1; z),
    whose series stays tame for customers with many purchases. Where scipy's
    hyp2f1 overflows there (a dropout parameter a near 100 and z near 1), the
    tail as published is summed term by term instead (``_gauss_series``).

    At a = 1 the formula is 0 / 0, with a finite limit: a within 1e-6 of 1 is
    taken as 1 + 1e-6 (a relative error of about 1e-6, far below that of a fit).
    """
    import numpy as np
    from scipy.special import hyp2f1

    if abs(a - 1) < _NEAR_ONE:
        a = 1 + _NEAR_ONE
    z = t / (alpha + age + t)
    with np.errstate(all="ignore"):
        tail = (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
    tail = np.array(tail, dtype=float, ndmin=1)
    x, z = np.broadcast_arrays(x, z)
    for i in np.flatnonzero(~np.isfinite(tail)):
        series = _gauss_series(r + x[i], b + x[i], a + b + x[i] - 1, z[i])
        tail[i] = (1 - z[i]) ** (r + x[i]) * series
    return (a + b + x - 1) / (a - 1) * (1 - tail)


def _gauss_series(a, b, c, z):
    """2F1(a, b; c; z) for 0 <= z < 1 by Gauss's series, NaN when it does not
    settle within 100,000 terms."""
    total = term = 1.0
    for k in range(100_000):
        term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z
        total += term
        if abs(term) <= 1e-17 * abs(total):
            return total
    return math.nan


def expected_purchases(params, t, frequency, recency, T):
    """BG/NBD E[Y(t) | x, t_x, T]: purchases expected in the next ``t`` weeks
    (Fader, Hardie and Lee 2005, eq. 10). ``t`` is one number of weeks or one
    per customer.
    """
    import numpy as np
    from scipy.special import expit

    r, alpha, a, b = _bgnbd_params(params)
    x, t_x, age = _rfm_columns(frequency, recency, T)
    t = np.broadcast_to(np.asarray(t, dtype=float), x.shape)
    alive = expit(-_alive_log_odds(r, alpha, a, b, x, t_x, age))
    return _purchases_if_alive(r, alpha, a, b, x, age, t) * alive


def expected_average_spend(params, frequency, monetary):
    """Gamma-Gamma E[spend per purchase]: for x >= 1 the conditional expectation
    p (v + x m) / (p x + q - 1), for x = 0 the population mean p v / (q - 1).

    A repeat buyer whose net spend is <= 0 (credit notes) counts m as 0. The
    result is >= 0, and infinite where the mean is (q <= 1 for x = 0,
    p x + q <= 1 for x >= 1): ``fit_verdict`` trusts no fit with q <= 1.
    """
    import numpy as np

    p, q, v = _gamma_gamma_params(params)
    x, m = _columns(frequency, monetary)
    if np.any(x < 0):
        raise ValueError("Repeat purchases must be >= 0")
    m = np.maximum(m, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        denominator = p * x + q - 1
        conditional = np.where(denominator > 0, p * (v + x * m) / denominator, np.inf)
    population = p * v / (q - 1) if q > 1 else math.inf
    return np.where(x > 0, conditional, population)


def predicted_purchases(params, frequency, recency, T):
    """E[N(12 months)]: purchases expected in the next 12 months."""
    return expected_purchases(params, 12 * WEEKS_PER_MONTH, frequency, recency, T)


def lifetime_value(
    params,
    frequency,
    recency,
    T,
    expected_spend,
    margin_rate=0.30,
    discount_rate=0.10,
    horizon_years=5,
):
    """Sum over months k = 1..12H of margin rate * E[m] * (E[N(k)] - E[N(k - 1)])
    / (1 + d)^(k / 12), with E[N(k)] the purchases expected in the next k months
    (``expected_purchases``) and ``expected_spend`` E[m] per customer.
    """
    import numpy as np
    from scipy.special import expit

    r, alpha, a, b = _bgnbd_params(params)
    x, t_x, age = _rfm_columns(frequency, recency, T)
    (spend,) = _columns(expected_spend)
    if len(spend) != len(x):
        raise ValueError(
            f"expected_spend has {len(spend)} values for {len(x)} customers"
        )
    months = round(12 * horizon_years)
    if months < 0:
        raise ValueError("The horizon must be >= 0 years")
    # E[N(k)] if alive depends on x and T only: compute it once per distinct pair
    pairs, inverse = np.unique(np.column_stack((x, age)), axis=0, return_inverse=True)
    x_u, age_u = pairs.T
    discounted = np.zeros(len(pairs))
    previous = np.zeros(len(pairs))
    for month in range(1, months + 1):
        current = _purchases_if_alive(
            r, alpha, a, b, x_u, age_u, month * WEEKS_PER_MONTH
        )
        discounted += (current - previous) / (1 + discount_rate) ** (month / 12)
        previous = current
    alive = expit(-_alive_log_odds(r, alpha, a, b, x, t_x, age))
    return margin_rate * spend * alive * discounted[inverse.reshape(-1)]


# ---------------------------------------------------------------------------
# One company
# ---------------------------------------------------------------------------


def fit_company(x, t_x, age, m, min_repeat_buyers=None):
    """Fit both models on one company's customers who ever bought: repeat
    purchases ``x``, recency ``t_x`` and age ``age`` in weeks, spend per repeat
    purchase ``m`` in the company currency (one value per customer, as numbers
    or arrays; bad columns raise ValueError).

    Return ``{"bgnbd", "gamma_gamma", "verdict", "customers"}``: with fewer than
    ``min_repeat_buyers`` (default ``MIN_REPEAT_BUYERS``) repeat buyers, or
    none with a spend > 0, nothing is
    fitted (both fits None, verdict ``too_few_repeat_buyers``). Gamma-Gamma's v
    is in currency: it is fitted on the spends divided by their mean, so that
    its bounds do not depend on the currency (p and q are free of it), and
    scaled back; a VND company gets the same verdict as a EUR one.
    Needs numpy and scipy (``predictive_dependencies``); see docs/rules.md.
    """
    import numpy as np

    if min_repeat_buyers is None:
        min_repeat_buyers = MIN_REPEAT_BUYERS
    x, t_x, age = _rfm_columns(x, t_x, age)
    (m,) = _columns(m)
    if len(m) != len(x):
        raise ValueError(f"m has {len(m)} values for {len(x)} customers")
    repeat_buyers = int(np.count_nonzero(x))
    result = {"bgnbd": None, "gamma_gamma": None, "customers": len(x)}
    spending = (x > 0) & (m > 0)
    if repeat_buyers < min_repeat_buyers or not np.any(spending):
        result["verdict"] = FitVerdict(False, REASON_FEW_BUYERS, repeat_buyers)
        return result
    result["bgnbd"] = fit_bgnbd(x, t_x, age)
    scale = float(np.mean(m[spending]))
    fit = fit_gamma_gamma(x, m / scale)
    result["gamma_gamma"] = dataclasses.replace(fit, v=fit.v * scale)
    result["verdict"] = fit_verdict(
        result["bgnbd"], result["gamma_gamma"], min_repeat_buyers
    )
    return result
