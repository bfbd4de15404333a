"""The support-ticket workload as a bare ``heapq`` event loop: the pure-Python speed limit.

This is the same workload as ``bench/support_tickets.yaml``, hand-written for the benchmark
only: one function, one heap of ``(time, sequence, kind, case, activity)`` tuples, FIFO
pools as deques, durations drawn from numpy in blocks and handed out one Python float at a
time. It keeps only what the correctness check needs (time integrals of busy servers, work
per pool, end time per case), so it is what a discrete-event simulation of this workload
costs in CPython when nothing is general. ``bench/bench_examples.py`` divides procsim's
time by this loop's.

Run it alone with ``python bench/heapq_loop.py --cases 200000``.
"""

from __future__ import annotations

import argparse
import heapq
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["ANALYTIC", "HeapqResult", "analytic", "simulate_support"]

# The workload (time unit: minutes), as in bench/support_tickets.yaml.
INTERARRIVAL_MEAN = 3.0
TRIAGE = (1.0, 2.0, 4.2)              # triangular min, mode, max
RESOLVE_L1 = (6.0, 4.0)               # lognormal mean, sd
RESOLVE_L2 = (13.5, 9.0)
P_L1 = 0.7                            # after triage: resolve_l1, else resolve_l2
P_BACK = 0.1                          # after either resolution: back to triage, else end
POOLS = ("agents", "specialists")
CAPACITY = (3, 2)
COST_PER_HOUR = (30.0, 60.0)

# Activities and the pool each one uses.
A_TRIAGE, A_L1, A_L2 = 0, 1, 2
ACTIVITY_POOL = (0, 0, 1)
ARRIVAL, FINISH = 0, 1


def analytic() -> dict[str, float]:
    """Exact steady-state utilisations and mean cost per case of the workload.

    A case passes through triage a geometric number of times with mean ``1 / (1 - P_BACK)``;
    each pass is followed by resolve_l1 (``P_L1``) or resolve_l2. Utilisation is the offered
    load (arrival rate × work per case) over the capacity; neither it nor the mean cost
    depends on the queueing discipline or on the shape of the distributions.

    Examples
    --------
    >>> a = analytic()
    >>> round(a["agents"], 4), round(a["specialists"], 4), round(a["cost_per_case"], 4)
    (0.8148, 0.75, 8.1667)
    """
    passes = 1.0 / (1.0 - P_BACK)
    triage_mean = sum(TRIAGE) / 3.0
    work = (
        passes * (triage_mean + P_L1 * RESOLVE_L1[0]),   # agents: 7.3333 min per case
        passes * (1.0 - P_L1) * RESOLVE_L2[0],           # specialists: 4.5 min per case
    )
    rate = 1.0 / INTERARRIVAL_MEAN
    out = {pool: rate * w / c for pool, w, c in zip(POOLS, work, CAPACITY, strict=True)}
    out["cost_per_case"] = sum(w * c / 60.0 for w, c in zip(work, COST_PER_HOUR, strict=True))
    return out


#: ``analytic()`` evaluated once: agents 0.8148, specialists 0.75, cost per case 8.1667.
ANALYTIC = analytic()


@dataclass(frozen=True)
class HeapqResult:
    """What one run of the loop measured.

    Utilisation is averaged from the first to the last arrival (as procsim's KPIs are); cost
    per case is the busy time of every activity instance, priced per pool, over all cases.
    """

    cases: int
    instances: int
    utilization: dict[str, float]
    cost_per_case: float
    mean_cycle_time: float

    @property
    def events(self) -> int:
        """Arrivals plus the start and the end of every activity instance."""
        return self.cases + 2 * self.instances


def _block_sampler(draw: Callable[[int], np.ndarray], block: int) -> Callable[[], float]:
    buffer: list[float] = []
    pop = buffer.pop

    def sample() -> float:
        if not buffer:
            buffer.extend(draw(block)[::-1].tolist())
        return pop()

    return sample


def _lognormal_parameters(mean: float, sd: float) -> tuple[float, float]:
    sigma2 = math.log1p((sd / mean) ** 2)
    return math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2)


def simulate_support(cases: int, *, seed: int = 1, block: int = 1024) -> HeapqResult:
    """Run the workload for ``cases`` arrivals, until every case has finished.

    Parameters
    ----------
    cases : int
        Number of arrivals (at least 2).
    seed : int
        Root seed; each random source gets its own stream spawned from it.
    block : int
        Random numbers drawn from numpy at a time.

    Examples
    --------
    >>> r = simulate_support(2000, seed=3)
    >>> r.cases, 0.6 < r.utilization["agents"] < 1.0
    (2000, True)
    """
    if cases < 2:
        raise ValueError(f"expected at least 2 cases, got {cases}")
    rng = [np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(seed).spawn(5)]
    mu1, s1 = _lognormal_parameters(*RESOLVE_L1)
    mu2, s2 = _lognormal_parameters(*RESOLVE_L2)
    interarrival = _block_sampler(lambda n: rng[0].exponential(INTERARRIVAL_MEAN, n), block)
    duration = (
        _block_sampler(lambda n: rng[1].triangular(*TRIAGE, n), block),
        _block_sampler(lambda n: rng[2].lognormal(mu1, s1, n), block),
        _block_sampler(lambda n: rng[3].lognormal(mu2, s2, n), block),
    )
    uniform = _block_sampler(rng[4].random, block)

    pool_of = ACTIVITY_POOL
    capacity = CAPACITY
    busy = [0, 0]
    queue: tuple[deque[tuple[int, int]], ...] = (deque(), deque())
    last = [0.0, 0.0]
    area = [0.0, 0.0]        # time integral of busy servers
    work = [0.0, 0.0]        # sum of durations started (= busy time once all have finished)
    arrival: list[float] = []
    end = [math.nan] * cases
    first_area: list[float] = []
    window_area: list[float] = []
    instances = 0

    heap: list[tuple[float, int, int, int, int]] = [(interarrival(), 0, ARRIVAL, 0, 0)]
    push, pop = heapq.heappush, heapq.heappop
    seq = 1
    while heap:
        now, _, kind, case, activity = pop(heap)
        if kind == ARRIVAL:
            arrival.append(now)
            if case + 1 < cases:
                push(heap, (now + interarrival(), seq, ARRIVAL, case + 1, 0))
                seq += 1
            if case == 0 or case + 1 == cases:
                # Utilisation window: first to last arrival (bring both integrals up to now).
                for p in (0, 1):
                    area[p] += busy[p] * (now - last[p])
                    last[p] = now
                (first_area if case == 0 else window_area).extend(area)
            activity = A_TRIAGE
        else:  # FINISH
            p = pool_of[activity]
            area[p] += busy[p] * (now - last[p])
            last[p] = now
            if queue[p]:
                waiting_case, waiting_activity = queue[p].popleft()
                d = duration[waiting_activity]()
                work[p] += d
                instances += 1
                push(heap, (now + d, seq, FINISH, waiting_case, waiting_activity))
                seq += 1
            else:
                busy[p] -= 1
            if activity == A_TRIAGE:
                activity = A_L1 if uniform() < P_L1 else A_L2
            elif uniform() < P_BACK:
                activity = A_TRIAGE
            else:
                end[case] = now
                continue
        # Request a server of the next activity's pool for the case.
        p = pool_of[activity]
        area[p] += busy[p] * (now - last[p])
        last[p] = now
        if busy[p] < capacity[p]:
            busy[p] += 1
            d = duration[activity]()
            work[p] += d
            instances += 1
            push(heap, (now + d, seq, FINISH, case, activity))
            seq += 1
        else:
            queue[p].append((case, activity))

    window = arrival[-1] - arrival[0]
    utilization = {
        pool: (window_area[p] - first_area[p]) / (capacity[p] * window)
        for p, pool in enumerate(POOLS)
    }
    cost = sum(w * c / 60.0 for w, c in zip(work, COST_PER_HOUR, strict=True)) / cases
    cycle = float(np.mean(np.asarray(end) - np.asarray(arrival)))
    return HeapqResult(cases, instances, utilization, cost, cycle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    t0 = time.perf_counter()
    r = simulate_support(args.cases, seed=args.seed)
    elapsed = time.perf_counter() - t0
    print(f"{r.cases:,} cases, {r.instances:,} activity instances in {elapsed:.3f} s "
          f"({r.cases / elapsed:,.0f} cases/s, {r.events / elapsed:,.0f} events/s)")
    for key, exact in ANALYTIC.items():
        value = r.utilization[key] if key in r.utilization else r.cost_per_case
        print(f"{key:<14} simulated {value:.4f}   analytic {exact:.4f}")


if __name__ == "__main__":
    main()
