"""What the goal-seek spends: replications against exhaustive enumeration, on a 4-pool staffing
problem whose answer is known exactly.

The workload is a Jackson network: Poisson arrivals (one a minute) through four pools in
tandem, exponential service (2.0, 1.5, 0.8 and 3.0 minutes), hourly costs (30, 47, 22 and
35). The key result is a mean total wait of at most ``--target`` minutes (0.9 by default),
the objective the full cost per case. By Jackson's theorem each pool is an M/M/c queue fed
at the arrival rate, so the mean total wait of every staffing is the sum of four Erlang C
waits, and the cheapest feasible staffing is found exactly by enumeration.

For each seed, :func:`procsim.optimise.optimise` searches the grid (1,080 candidates: 2–7,
1–6, 1–5 and 3–8 servers) and the script records: whether its answer is the exact one, the
replications it spent (search, reference run and re-check), and what evaluating every stable
candidate with the final replication count (the re-check's, the count the answer was judged
on) would have cost; and the wall time.

Usage::

    python bench/optimise.py              # 5 seeds, the table in docs/performance.md
    python bench/optimise.py --seeds 1    # one seed (tests/test_bench.py runs it)
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import platform
import time

from scipy import stats

import procsim
from procsim.optimise import optimise

#: (pool, mean service time in minutes, cost per hour, capacities searched)
POOLS = [("intake", 2.0, 30, range(2, 8)), ("review", 1.5, 47, range(1, 7)),
         ("check", 0.8, 22, range(1, 6)), ("decide", 3.0, 35, range(3, 9))]


def erlang_wait(servers: int, offered: float, service: float) -> float:
    """Mean wait in queue of an M/M/c queue (Erlang C); inf when unstable."""
    if offered >= servers:
        return math.inf
    blocking = stats.poisson.pmf(servers, offered) / stats.poisson.cdf(servers, offered)
    c = servers * blocking / (servers - offered * (1.0 - blocking))
    return float(c / (servers / service - offered / service))


def model_text(target: float) -> str:
    resources = ", ".join(f"{n}: {{capacity: {r[-1]}, cost_per_hour: {h}}}"
                          for n, _, h, r in POOLS)
    activities = "\n".join(f"  {n}_work: {{resource: {n}, duration: {{dist: exponential, "
                           f"mean: {s}}}}}" for n, s, _, _ in POOLS)
    names = [f"{n}_work" for n, _, _, _ in POOLS]
    flow = ", ".join(f"{a}: {b}" for a, b in zip(names, [*names[1:], "end"], strict=True))
    return f"""procsim: 1
name: Four pools in tandem
currency: EUR
arrivals: {{interarrival: {{dist: exponential, mean: 1}}}}
resources: {{{resources}}}
activities:
{activities}
flow: {{start: {names[0]}, {flow}}}
okrs:
  - objective: Short waits
    key_results: [{{kpi: waiting_time, to: "<= {target}"}}]
"""


def exact(target: float) -> tuple[tuple[int, ...], int, int]:
    """The cheapest staffing whose mean total wait is within the target; the grid's size and
    its stable candidates."""
    best: tuple[float, tuple[int, ...]] | None = None
    stable = 0
    grid = list(itertools.product(*(r for *_, r in POOLS)))
    for caps in grid:
        wait = sum(erlang_wait(c, s, s) for c, (_, s, _, _) in zip(caps, POOLS, strict=True))
        stable += math.isfinite(wait)
        cost = sum(c * h for c, (_, _, h, _) in zip(caps, POOLS, strict=True))
        if wait <= target and (best is None or cost < best[0]):
            best = (cost, caps)
    assert best is not None
    return best[1], len(grid), stable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--target", type=float, default=0.9)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    truth, size, stable = exact(args.target)
    model = procsim.parse_model(model_text(args.target))
    vary = {f"resources.{n}.capacity": list(r) for n, _, _, r in POOLS}
    print(f"{size} candidates ({stable} stable); exact answer {truth}; "
          f"{args.cases} cases per replication, {args.jobs} jobs, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"{'seed':>4} {'answer':>16} {'exact':>6} {'confirmed':>9} {'simulated':>9} "
          f"{'replications':>12} {'final n':>7} {'exhaustive':>10} {'share':>6} {'wall s':>7}")
    shares = []
    for seed in range(args.seeds):
        start = time.perf_counter()
        result = optimise(model, vary=vary, seed=seed, cases=args.cases,
                          warmup=args.cases // 10, jobs=args.jobs, runner_ups=0)
        wall = time.perf_counter() - start
        answer = tuple(result.best.values.values()) if result.best else None
        share = result.replications / result.exhaustive_replications
        shares.append(share)
        print(f"{seed:>4} {answer!s:>16} {answer == truth!s:>6} {result.confirmed!s:>9} "
              f"{len(result.simulated):>9} {result.replications:>12,} "
              f"{result.final_replications:>7} {result.exhaustive_replications:>10,} "
              f"{share:>6.1%} {wall:>7.1f}")
    print(f"replications spent: {min(shares):.1%}–{max(shares):.1%} of exhaustive enumeration")


if __name__ == "__main__":
    main()
