#!/usr/bin/env python3
"""Benchmark the BG/NBD and Gamma-Gamma fits of crm_relationship/tools/clv.py.

Simulates customers of a BG/NBD world (CDNOW-like parameters, first purchases
spread over three years, whole purchase days as invoices give), then fits both
models and computes every prediction the classification stores, printing time,
iterations and peak memory. No Odoo, no database: it measures the maths alone.

    python3 scripts/benchmark_clv.py [--customers 100000] [--seed 42]

``measure(customers, seed)`` returns the figures as a dict for scripts/benchmark.py.
"""

import argparse
import importlib.util
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TRUE_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
TRUE_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}


def load_clv():
    """Import tools/clv.py as a file: the addon package imports Odoo."""
    spec = importlib.util.spec_from_file_location(
        "crm_relationship_clv", REPO / "crm_relationship" / "tools" / "clv.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def simulate(customers, seed=42, max_age_days=3 * 365):
    """Per customer (x, t_x, T, average repeat spend) of a simulated world."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rate = rng.gamma(TRUE_BGNBD["r"], 1 / TRUE_BGNBD["alpha"], customers)  # per week
    dropout = rng.beta(TRUE_BGNBD["a"], TRUE_BGNBD["b"], customers)
    age_days = rng.integers(1, max_age_days + 1, customers)
    age = age_days / 7.0
    now = np.zeros(customers)
    last = np.zeros(customers)
    purchases = np.zeros(customers, dtype=int)
    alive = np.ones(customers, dtype=bool)
    while alive.any():
        now[alive] += rng.exponential(1 / np.maximum(rate[alive], 1e-12))
        alive &= now <= age
        purchases[alive] += 1
        last[alive] = now[alive]
        alive &= rng.random(customers) >= dropout
    # whole days, as invoice dates give; a second purchase on a day is no new day
    t_x = np.minimum(np.floor(last * 7) / 7, age)
    x = np.where(t_x > 0, purchases, 0)
    t_x = np.where(x > 0, t_x, 0.0)
    p, q, v = TRUE_GAMMA_GAMMA["p"], TRUE_GAMMA_GAMMA["q"], TRUE_GAMMA_GAMMA["v"]
    nu = rng.gamma(q, 1 / v, customers)
    spend = rng.gamma(p * np.maximum(x, 1), 1 / (nu * np.maximum(x, 1)))
    monetary = np.where(x > 0, spend, 0.0)
    return x, t_x, age, monetary


def fit_and_predict(clv, x, t_x, age, monetary):
    """What a classification computes for one company: ``clv.fit_company``
    (both fits, spends scaled to their mean), then, when the fit is trusted,
    every figure it stores per customer."""
    fit = clv.fit_company(x, t_x, age, monetary)
    if fit["verdict"].trusted:
        bgnbd, gamma_gamma = fit["bgnbd"], fit["gamma_gamma"]
        clv.probability_alive(bgnbd, x, t_x, age)
        clv.predicted_purchases(bgnbd, x, t_x, age)
        spend = clv.expected_average_spend(gamma_gamma, x, monetary)
        clv.lifetime_value(bgnbd, x, t_x, age, spend)
    return fit


def measure(customers=100_000, seed=42):
    import numpy as np

    clv = load_clv()
    x, t_x, age, monetary = simulate(customers, seed)
    clv.predictive_dependencies()  # import numpy and scipy before timing
    started = time.perf_counter()
    bgnbd = clv.fit_bgnbd(x, t_x, age)
    bgnbd_seconds = time.perf_counter() - started
    started = time.perf_counter()
    gamma_gamma = clv.fit_gamma_gamma(x, monetary)
    gamma_gamma_seconds = time.perf_counter() - started
    started = time.perf_counter()
    verdict = clv.fit_verdict(bgnbd, gamma_gamma)
    alive = clv.probability_alive(bgnbd, x, t_x, age)
    purchases = clv.predicted_purchases(bgnbd, x, t_x, age)
    spend = clv.expected_average_spend(gamma_gamma, x, monetary)
    value = clv.lifetime_value(bgnbd, x, t_x, age, spend)
    predict_seconds = time.perf_counter() - started
    started = time.perf_counter()
    fit_and_predict(clv, x, t_x, age, monetary)
    total_seconds = time.perf_counter() - started
    # peak memory in a run of its own: tracemalloc slows the code it traces
    tracemalloc.start()
    fit_and_predict(clv, x, t_x, age, monetary)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "customers": customers,
        "distinct_rows": len(np.unique(np.column_stack((x, t_x, age)), axis=0)),
        "repeat_buyers": bgnbd.status.repeat_buyers,
        "bgnbd": {k: round(getattr(bgnbd, k), 4) for k in TRUE_BGNBD},
        "bgnbd_seconds": bgnbd_seconds,
        "bgnbd_iterations": bgnbd.status.iterations,
        "bgnbd_evaluations": bgnbd.status.evaluations,
        "gamma_gamma": {k: round(getattr(gamma_gamma, k), 4) for k in TRUE_GAMMA_GAMMA},
        "gamma_gamma_seconds": gamma_gamma_seconds,
        "gamma_gamma_iterations": gamma_gamma.status.iterations,
        "predict_seconds": predict_seconds,
        "total_seconds": total_seconds,
        "verdict": verdict.reason or "trusted",
        "peak_memory_mb": peak / 2**20,
        "mean_probability_alive": float(alive.mean()),
        "mean_predicted_purchases": float(purchases.mean()),
        "mean_lifetime_value": float(value.mean()),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    figures = measure(args.customers, args.seed)
    report(figures)
    return 0


def report(figures):
    print(
        f"customers {figures['customers']:,} ({figures['distinct_rows']:,} distinct"
        f" (x, t_x, T) rows, {figures['repeat_buyers']:,} repeat buyers)"
    )
    print(
        f"BG/NBD fit: {figures['bgnbd_seconds']:.2f} s,"
        f" {figures['bgnbd_iterations']} iterations,"
        f" {figures['bgnbd_evaluations']} evaluations, {figures['bgnbd']}"
        f" (simulated with {TRUE_BGNBD})"
    )
    print(
        f"Gamma-Gamma fit: {figures['gamma_gamma_seconds']:.2f} s,"
        f" {figures['gamma_gamma_iterations']} iterations, {figures['gamma_gamma']}"
        f" (simulated with {TRUE_GAMMA_GAMMA})"
    )
    print(
        f"predictions (alive, 12-month purchases, spend, 5-year value):"
        f" {figures['predict_seconds']:.2f} s; verdict: {figures['verdict']}"
    )
    print(
        f"fit_company and every figure (one company, as a classification): "
        f"{figures['total_seconds']:.2f} s"
    )
    print(
        f"peak memory of fit_company and the figures (tracemalloc, numpy arrays):"
        f" {figures['peak_memory_mb']:.1f} MB"
    )


if __name__ == "__main__":
    sys.exit(main())
