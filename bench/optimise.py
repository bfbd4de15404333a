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

With ``--sampled``, the sampled search of a space too large to screen one candidate at a
time and not capacities alone (optuna's TPE sampler, ``pip install 'procsim[optimise]'``):
two pools in tandem (2.0 and 1.5 minutes, 30 and 47 per hour, 1–12 servers each) and pool
b's mean service time (1.0–2.0 minutes by 0.2, a change that costs nothing here), 864
candidates of which 650 are stable; the key result a mean total wait of at most 0.7 minutes.
The exact cheapest configuration, again by Erlang C, is 4 and 2 servers at 1.0 minutes; the
script records, for each seed, the answer, the trials, the candidates simulated, the
replications and the wall time.

Usage::

    python bench/optimise.py              # 5 seeds, the table in docs/performance.md
    python bench/optimise.py --seeds 1    # one seed (tests/test_bench.py runs it)
    python bench/optimise.py --sampled --seeds 20 --jobs 1   # the sampled search
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


#: The sampled search's problem: (pool, mean service, cost per hour, capacities searched),
#: and pool b's mean service times searched.
SAMPLED_POOLS = [("a", 2.0, 30, range(1, 13)), ("b", 1.5, 47, range(1, 13))]
SAMPLED_MEANS = [round(1.0 + 0.2 * k, 1) for k in range(6)]
SAMPLED_TARGET = 0.7


def sampled_model_text() -> str:
    return f"""procsim: 1
name: Two pools in tandem, a faster pool b
currency: EUR
arrivals: {{interarrival: {{dist: exponential, mean: 1}}}}
resources: {{a: {{capacity: 9, cost_per_hour: 30}}, b: {{capacity: 9, cost_per_hour: 47}}}}
activities:
  do_a: {{resource: a, duration: {{dist: exponential, mean: 2.0}}}}
  do_b: {{resource: b, duration: {{dist: exponential, mean: 1.5}}}}
flow: {{start: do_a, do_a: do_b, do_b: end}}
okrs:
  - objective: Short waits
    key_results: [{{kpi: waiting_time, to: "<= {SAMPLED_TARGET}"}}]
"""


def sampled_exact() -> tuple[tuple[float, ...], int, int]:
    """The cheapest (a, b, mean of b) whose mean total wait is within the target; the grid's
    size and its stable candidates."""
    (_, sa, ha, ra), (_, _, hb, rb) = SAMPLED_POOLS
    rows = []
    for a, b, m in itertools.product(ra, rb, SAMPLED_MEANS):
        wait = erlang_wait(a, sa, sa) + erlang_wait(b, m, m)
        rows.append((a * ha + b * hb, (a, b, m), wait))
    best = min((cost, point) for cost, point, wait in rows if wait <= SAMPLED_TARGET)
    return best[1], len(rows), sum(math.isfinite(w) for _, _, w in rows)


def sampled(seeds: int, cases: int, jobs: int, trials: int) -> None:
    truth, size, stable = sampled_exact()
    model = procsim.parse_model(sampled_model_text())
    vary: dict[str, list[float]] = {f"resources.{n}.capacity": list(r)
                                    for n, _, _, r in SAMPLED_POOLS}
    vary["activities.do_b.duration.mean"] = SAMPLED_MEANS
    print(f"sampled search: {size} candidates ({stable} stable); exact answer {truth}; "
          f"{cases} cases per replication, {trials} trials at most, {jobs} jobs, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"{'seed':>4} {'answer':>16} {'exact':>6} {'confirmed':>9} {'trials':>6} "
          f"{'simulated':>9} {'replications':>12} {'wall s':>7}")
    hits = 0
    for seed in range(seeds):
        start = time.perf_counter()
        result = optimise(model, vary=vary, seed=seed, cases=cases, warmup=cases // 10,
                          jobs=jobs, trials=trials)
        wall = time.perf_counter() - start
        answer = tuple(result.best.values.values()) if result.best else None
        hits += answer == truth and result.confirmed
        print(f"{seed:>4} {answer!s:>16} {answer == truth!s:>6} {result.confirmed!s:>9} "
              f"{result.trials:>6} {len(result.simulated):>9} {result.replications:>12,} "
              f"{wall:>7.1f}")
    print(f"exact answer found and confirmed in {hits} of {seeds} seeds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--target", type=float, default=0.9)
    parser.add_argument("--cases", type=int, default=None,
                        help="cases per replication (2000; 500 with --sampled)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sampled", action="store_true",
                        help="the sampled search of a large space instead (needs optuna)")
    parser.add_argument("--trials", type=int, default=60)
    args = parser.parse_args()
    if args.sampled:
        sampled(args.seeds, args.cases or 500, args.jobs, args.trials)
        return
    args.cases = args.cases or 2000
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
