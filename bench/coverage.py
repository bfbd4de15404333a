"""Coverage of the confidence intervals a user gets with procsim's defaults.

Four queues whose answers are known exactly are simulated with many seeds, each exactly as
``procsim run MODEL`` would run it (no ``run`` section: the default run length, warm-up and
replications). For each seed, each reported 95 % interval (the mean cycle time, and its p90
and p95 where the distribution is known) either covers the analytic value or not; the share
of seeds whose interval covers it is the *coverage*, which should be near 95 %.

* **M/M/1, ρ = 0.9**: the time in system is exponential with rate μ − λ (mean 10 min; p90
  ln 10 / (μ − λ), p95 ln 20 / (μ − λ)).
* **M/M/4, ρ = 0.8**: Erlang C. A customer waits with probability C, then an exponential
  time with rate cμ − λ; the time in system is that plus an exponential service.
* **M/D/1, ρ = 0.8**: Pollaczek–Khinchine, W = ρ D / (2 (1 − ρ)) + D (mean only).
* **Tandem line** of two exponential stations at ρ = 0.8 and 0.7: by Burke's and Reich's
  theorems the times at the two stations are independent exponentials, so the time in
  system is hypoexponential (Jackson).

``--before`` runs the defaults procsim had before issue 12 instead (10 replications of
1,000 cases, no warm-up, percentile intervals as t-intervals of the replications'
percentiles), for the comparison in docs/statistics.md.

Usage::

    python bench/coverage.py                  # 200 seeds per queue, today's defaults
    python bench/coverage.py --before         # the old defaults
    python bench/coverage.py --seeds 1000     # the table in docs/statistics.md

``tests/test_coverage.py`` runs this study (200 seeds) and asserts on it.
"""

from __future__ import annotations

import argparse
import itertools
import math
import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from scipy import optimize


@dataclass(frozen=True)
class Queue:
    """A model without a ``run`` section, and the exact values of its cycle-time KPIs."""

    name: str
    text: str
    truth: dict[str, float] = field(default_factory=dict)


def _station(name: str, servers: int, service: str) -> tuple[str, str]:
    return (f"  {name}: {{capacity: {servers}}}",
            f"  {name}_step: {{resource: {name}, duration: {service}}}")


def _model(name: str, interarrival: float, stations: list[tuple[str, int, str]]) -> str:
    resources, activities = zip(*(_station(*s) for s in stations), strict=True)
    steps = [f"{s[0]}_step" for s in stations]
    flow = [f"  start: {steps[0]}"] + [f"  {a}: {b}" for a, b in itertools.pairwise(steps)]
    flow.append(f"  {steps[-1]}: end")
    return "\n".join([
        "procsim: 1", f"name: {name}", "time_unit: minutes",
        f"arrivals: {{interarrival: {{dist: exponential, mean: {interarrival!r}}}}}",
        "resources:", *resources, "activities:", *activities, "flow:", *flow]) + "\n"


def _quantile(cdf: Callable[[float], float], p: float, upper: float) -> float:
    return float(optimize.brentq(lambda t: cdf(t) - p, 0.0, upper, xtol=1e-12))


def _hypoexponential_cdf(a: float, b: float) -> Callable[[float], float]:
    """P(X + Y <= t) for independent exponentials of rates a != b."""
    return lambda t: 1.0 - (b * math.exp(-a * t) - a * math.exp(-b * t)) / (b - a)


def erlang_c(servers: int, offered: float) -> float:
    """Probability of waiting in M/M/c (offered load in Erlangs)."""
    term, total = 1.0, 1.0
    for k in range(1, servers):
        term *= offered / k
        total += term
    last = term * offered / servers / (1 - offered / servers)
    return last / (total + last)


def queues() -> list[Queue]:
    out = []
    lam, mu = 0.9, 1.0
    out.append(Queue("M/M/1 rho=0.9", _model("M/M/1", 1 / lam, [
        ("server", 1, "{dist: exponential, mean: 1}")]),
        {"mean": 1 / (mu - lam), "p90": math.log(10) / (mu - lam),
         "p95": math.log(20) / (mu - lam)}))

    c, lam = 4, 3.2
    wait = erlang_c(c, lam / mu)
    rate = c * mu - lam
    mixed = _hypoexponential_cdf(rate, mu)

    def mmc_cdf(t: float) -> float:
        return (1 - wait) * (1 - math.exp(-mu * t)) + wait * mixed(t)

    out.append(Queue("M/M/4 rho=0.8", _model("M/M/4", 1 / lam, [
        ("servers", c, "{dist: exponential, mean: 1}")]),
        {"mean": wait / rate + 1 / mu, "p90": _quantile(mmc_cdf, 0.90, 200),
         "p95": _quantile(mmc_cdf, 0.95, 200)}))

    lam, d = 0.8, 1.0
    out.append(Queue("M/D/1 rho=0.8", _model("M/D/1", 1 / lam, [
        ("server", 1, "{dist: fixed, value: 1}")]),
        {"mean": lam * d * d / (2 * (1 - lam * d)) + d}))

    lam, s1, s2 = 0.8, 1.0, 0.875
    a, b = 1 / s1 - lam, 1 / s2 - lam
    tandem = _hypoexponential_cdf(a, b)
    out.append(Queue("Tandem rho=0.8, 0.7", _model("Tandem", 1 / lam, [
        ("first", 1, f"{{dist: exponential, mean: {s1}}}"),
        ("second", 1, f"{{dist: exponential, mean: {s2}}}")]),
        {"mean": 1 / a + 1 / b, "p90": _quantile(tandem, 0.90, 500),
         "p95": _quantile(tandem, 0.95, 500)}))
    return out


def one_seed(args: tuple[Queue, int, bool]) -> dict[str, float]:
    """Whether each interval of one seed's run covers the truth (1.0 or 0.0), and the run."""
    import numpy as np

    import procsim
    from procsim.stats import estimate

    queue, seed, before = args
    model = procsim.parse_model(queue.text)
    if before:
        result = procsim.simulate(model, seed=seed, replications=10, cases=1000, warmup=0)
    else:
        result = procsim.simulate(model, seed=seed)
    kpi = result.kpi("cycle_time")
    out = {"replications": float(result.replications),
           "cases": float(sum(r.cases["cycle_time"].size for r in result.per_replication)
                          + sum(result.warmup)),
           "cut": float(np.mean(result.warmup)) / float(result.per_replication[0].cases[
               "cycle_time"].size + result.warmup[0])}
    for stat, truth in queue.truth.items():
        if stat == "mean":
            est = kpi.estimate
        elif before:  # the old percentile interval: a t-interval of per-replication values
            est = estimate(result.values("cycle_time", stat))
        else:
            est = kpi.percentile_estimates[stat]
        lo, hi = est.ci
        out[stat] = float(lo <= truth <= hi)
        out[f"{stat}_width"] = est.half_width / truth
    return out


def study(seeds: int, *, before: bool = False, jobs: int | None = None,
          first_seed: int = 1) -> dict[str, dict[str, float]]:
    """Coverage per queue and statistic, over ``seeds`` seeds, in ``jobs`` processes."""
    tasks = [(q, first_seed + s, before) for q in queues() for s in range(seeds)]
    jobs = jobs or os.cpu_count() or 1
    if jobs > 1 and "fork" in multiprocessing.get_all_start_methods():
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            rows = pool.map(one_seed, tasks, chunksize=4)
    else:
        rows = [one_seed(t) for t in tasks]
    out: dict[str, dict[str, float]] = {}
    for (queue, _, _), row in zip(tasks, rows, strict=True):
        table = out.setdefault(queue.name, {"seeds": 0.0})
        table["seeds"] += 1
        for key, value in row.items():
            table[key] = table.get(key, 0.0) + value
    for table in out.values():
        n = table.pop("seeds")
        for key in table:
            table[key] /= n
        table["seeds"] = n
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--before", action="store_true", help="the defaults before issue 12")
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    start = time.perf_counter()
    table = study(args.seeds, before=args.before, jobs=args.jobs)
    print(f"{'before' if args.before else 'now'}: {args.seeds} seeds per queue, "
          f"{time.perf_counter() - start:.0f} s")
    print("| queue | mean | p90 | p95 | replications (mean) | cases per replication | "
          "warm-up cut |")
    print("|---|---|---|---|---|---|---|")
    for name, t in table.items():
        cells = [f"{t[s]:.1%}" if s in t else "–" for s in ("mean", "p90", "p95")]
        per = t["cases"] / t["replications"]
        print(f"| {name} | {' | '.join(cells)} | {t['replications']:.1f} | {per:,.0f} | "
              f"{t['cut']:.1%} |")


if __name__ == "__main__":
    main()
