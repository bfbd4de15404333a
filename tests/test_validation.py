"""Validation: the simulator against queueing theory.

Every expected value is computed here from a textbook formula (M/M/1, Erlang C,
Pollaczek–Khinchine, Jackson networks, Little's law, the maximum of two exponentials),
never pinned from an earlier run. Each check asserts two things:

* the analytic value lies inside the simulated confidence interval, at a Bonferroni-adjusted
  level so that the whole family of about 30 checks has a 5 % chance of a false alarm
  (each check at 1 − 0.05/30 ≈ 99.8 %), and
* the 95 % interval's half-width is below 5 % of the analytic value,

so that a check cannot pass merely because the interval is wide. At 99.8 % the interval is
about 1.6 times the 95 % one, so the coverage check still fails for a bias of a few percent.

Run lengths are chosen so that the half-widths sit well below 5 % (about half of it). Each
test has its own seed, fixed before the test was first run. When a check failed on its seed,
the run was made longer (more cases or replications); no seed was ever changed (see the
M/G/1 case for the false alarm that led to the family-wise level). All models start empty, so every
queueing run drops a warm-up of 1000 cases, many relaxation times at these loads.

With about 30 checks at 95 % each, a correct simulator would fail one of them most times the
random numbers change (a new seed, or a change to how streams are drawn); that is why the
coverage level is adjusted for the family. A failure is then worth investigating: look at
the z-value and rerun longer before suspecting the engine.

Note that one seed shared by two models gives both the same arrival stream (streams are keyed
by name): the seeds differ per test so that the checks below are not all correlated.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import procsim
from procsim.stats import Estimate, estimate

#: Hours in one model time unit, written out here rather than taken from procsim.units so that
#: a unit bug in the library cannot cancel out of the Little's law checks.
HOURS_PER_UNIT = {"seconds": 1 / 3600, "minutes": 1 / 60, "hours": 1.0, "days": 24.0}

#: The largest half-width of the 95 % interval accepted, relative to the analytic value.
MAX_RELATIVE_HALF_WIDTH = 0.05

#: Number of coverage checks in this file (an upper bound), and the per-check confidence that
#: keeps the family-wise false-alarm rate at 5 % (Bonferroni).
FAMILY_SIZE = 30
COVERAGE_CONFIDENCE = 1 - 0.05 / FAMILY_SIZE

EXAMPLE_MODELS = sorted(Path(__file__).parent.parent.glob("models/*.yaml"))


# --- analytic formulas ------------------------------------------------------------------------


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability of waiting in an M/M/c queue (Erlang C), via the Erlang B recursion.

    ``offered_load`` is a = λ/μ in Erlangs; stable only for a < servers.
    """
    blocking = 1.0  # Erlang B with zero servers
    for k in range(1, servers + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    return servers * blocking / (servers - offered_load * (1.0 - blocking))


def mmc_waiting_time(servers: int, arrival_rate: float, service_mean: float) -> float:
    """Mean time in queue of an M/M/c queue: Wq = C(c, a) / (cμ − λ)."""
    mu = 1.0 / service_mean
    return erlang_c(servers, arrival_rate * service_mean) / (servers * mu - arrival_rate)


def pollaczek_khinchine(arrival_rate: float, service_mean: float, service_scv: float) -> float:
    """Mean time in queue of an M/G/1 queue: Wq = ρ·S·(1 + Cs²) / (2(1 − ρ))."""
    rho = arrival_rate * service_mean
    return rho * service_mean * (1.0 + service_scv) / (2.0 * (1.0 - rho))


def test_erlang_c_matches_the_closed_form() -> None:
    # The oracle itself: the recursion against the textbook sum, and M/M/1 where C = ρ.
    for servers, a in [(1, 0.7), (2, 1.5), (3, 2.4), (4, 3.0), (10, 8.5)]:
        rho = a / servers
        top = a**servers / math.factorial(servers) / (1.0 - rho)
        bottom = sum(a**k / math.factorial(k) for k in range(servers)) + top
        assert erlang_c(servers, a) == pytest.approx(top / bottom, rel=1e-12)
    assert erlang_c(1, 0.7) == pytest.approx(0.7, rel=1e-12)


# --- helpers ----------------------------------------------------------------------------------


def mismatches(checks: dict[str, tuple[Estimate, float]]) -> list[str]:
    """Every check whose analytic value is outside the 95 % CI or whose CI is too wide.

    Returns an empty list when all hold; otherwise one line per failed check, so that a
    failing test shows every problem at once, with the numbers.
    """
    problems = []
    for name, (est, expected) in checks.items():
        lo, hi = est.ci
        # Widen the 95 % interval to the family-adjusted level (same t distribution).
        scale = (stats.t.ppf(0.5 + COVERAGE_CONFIDENCE / 2, est.n - 1)
                 / stats.t.ppf(0.975, est.n - 1))
        wide_lo, wide_hi = est.mean - scale * est.half_width, est.mean + scale * est.half_width
        z = (est.mean - expected) / (est.half_width / stats.t.ppf(0.975, est.n - 1))
        text = (f"{name}: analytic {expected:.6g}, simulated {est.mean:.6g} "
                f"95% CI [{lo:.6g}, {hi:.6g}] (n={est.n}, t={z:+.2f})")
        if not wide_lo <= expected <= wide_hi:
            problems.append(f"{text}: analytic value outside the {COVERAGE_CONFIDENCE:.2%} "
                            f"CI [{wide_lo:.6g}, {wide_hi:.6g}]")
        if not est.half_width < MAX_RELATIVE_HALF_WIDTH * abs(expected):
            problems.append(f"{text}: half-width {est.half_width:.3g} is not below "
                            f"{MAX_RELATIVE_HALF_WIDTH:.0%} of the analytic value; run longer")
    return problems


def share_waiting(result: procsim.RunResult) -> Estimate:
    """t-interval of the per-replication share of cases that waited at all."""
    return estimate([np.mean(w > 0.0) for w in result.case_values("waiting_time")])


def single_station(servers: int, interarrival: float, service: str) -> str:
    return f"""
procsim: 1
name: single station
arrivals: {{interarrival: {{dist: exponential, mean: {interarrival}}}}}
resources: {{desk: {{capacity: {servers}}}}}
activities: {{serve: {{resource: desk, duration: {service}}}}}
flow: {{start: serve, serve: end}}
"""


# --- 1. M/M/1 ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_mm1_against_closed_form() -> None:
    lam, mu = 1 / 10, 1 / 7  # ρ = 0.7
    rho = lam / mu
    model = procsim.parse_model(single_station(1, 10, "{dist: exponential, mean: 7}"))
    assert procsim.offered_load(model)["desk"].utilization == pytest.approx(rho)

    r = procsim.simulate(model, replications=20, cases=20_000, warmup=1000, seed=8101, jobs=2)

    assert not mismatches({
        "Wq = ρ/(μ−λ)": (r.kpi("waiting_time").estimate, rho / (mu - lam)),
        "W = 1/(μ−λ)": (r.kpi("cycle_time").estimate, 1 / (mu - lam)),
        "utilisation ρ": (r.resource("desk", "utilization"), rho),
        "Lq = ρ²/(1−ρ)": (r.resource("desk", "queue_length"), rho**2 / (1 - rho)),
    })


# --- 2. M/M/c ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_mmc_against_erlang_c() -> None:
    servers, interarrival, service = 3, 5.0, 11.25  # a = 2.25 Erlangs, ρ = 0.75
    lam, mu = 1 / interarrival, 1 / service
    rho = lam / (servers * mu)
    prob_wait = erlang_c(servers, lam / mu)
    wq = prob_wait / (servers * mu - lam)
    model = procsim.parse_model(
        single_station(servers, interarrival, f"{{dist: exponential, mean: {service}}}"))
    assert procsim.offered_load(model)["desk"].utilization == pytest.approx(rho)

    # First run: 20 × 30,000 cases. On this seed utilisation and P(wait > 0) fell just outside
    # their CIs, because replications 0–19 happened to draw long inter-arrival times (their
    # mean 5.016, z ≈ +2.4) and short services (z ≈ −2), i.e. a real ρ of 0.7456. As the
    # module docstring says, the run was made longer rather than the seed changed.
    r = procsim.simulate(model, replications=40, cases=25_000, warmup=1000, seed=8102, jobs=2)

    assert not mismatches({
        "P(wait > 0) = C(c, a)": (share_waiting(r), prob_wait),
        "Wq = C/(cμ−λ)": (r.kpi("waiting_time").estimate, wq),
        "W = Wq + 1/μ": (r.kpi("cycle_time").estimate, wq + service),
        "utilisation ρ": (r.resource("desk", "utilization"), rho),
        "Lq = λ·Wq": (r.resource("desk", "queue_length"), lam * wq),
    })


# --- 3. M/D/1 and M/G/1 -----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("service", "scv", "seed", "replications", "cases"),
    [
        pytest.param("{dist: fixed, value: 7}", 0.0, 8103, 20, 20_000, id="M/D/1"),
        # Cs² = 2: more variable than exponential, so P–K is not just the M/M/1 formula. The
        # waits vary more, so the run is longer (at 20 × 20,000 the half-width of Wq was 3.4 %
        # of it, too close to the 5 % bound).
        #
        # History, kept on purpose: on this seed Wq came out low at every size tried against
        # an unadjusted 95 % interval (t = −2.05 at 20 × 30,000, −2.8 at 40 × 30,000). 12 other
        # seeds (9000–9011) at 40 × 30,000 gave t between −1.6 and +1.6 and a pooled Wq of
        # 24.53 ± 0.13 over 480 replications against the analytic 24.5: chance, not a bias.
        # It was one of the false alarms that ~30 unadjusted checks produce; the family-wise
        # (Bonferroni) level above is the cure, and the seed stays the one first fixed.
        pytest.param(f"{{dist: gamma, mean: 7, sd: {7 * math.sqrt(2)!r}}}", 2.0, 8104, 40,
                     30_000, id="M/G/1-gamma"),
    ],
)
def test_mg1_against_pollaczek_khinchine(
    service: str, scv: float, seed: int, replications: int, cases: int
) -> None:
    lam, mean = 1 / 10, 7.0  # ρ = 0.7
    model = procsim.parse_model(single_station(1, 10, service))
    duration = model.activities["serve"].duration
    # The test's own Cs² must be the one the library samples from.
    assert duration.mean == pytest.approx(mean)
    assert duration.variance / mean**2 == pytest.approx(scv, abs=1e-12)

    r = procsim.simulate(model, replications=replications, cases=cases, warmup=1000, seed=seed,
                         jobs=2)

    wq = pollaczek_khinchine(lam, mean, scv)
    assert not mismatches({
        "Wq (Pollaczek–Khinchine)": (r.kpi("waiting_time").estimate, wq),
        "W = Wq + S": (r.kpi("cycle_time").estimate, wq + mean),
        "utilisation ρ": (r.resource("desk", "utilization"), lam * mean),
    })


# --- 4. Jackson networks ----------------------------------------------------------------------


@pytest.mark.slow
def test_tandem_jackson_network() -> None:
    lam, s1, s2 = 1 / 10, 6.0, 7.5  # ρ1 = 0.6, ρ2 = 0.75
    model = procsim.parse_model(f"""
procsim: 1
name: tandem
arrivals: {{interarrival: {{dist: exponential, mean: {1 / lam}}}}}
resources: {{one: {{capacity: 1}}, two: {{capacity: 1}}}}
activities:
  first: {{resource: one, duration: {{dist: exponential, mean: {s1}}}}}
  second: {{resource: two, duration: {{dist: exponential, mean: {s2}}}}}
flow: {{start: first, first: second, second: end}}
""")
    loads = procsim.offered_load(model)
    assert loads["one"].utilization == pytest.approx(lam * s1)
    assert loads["two"].utilization == pytest.approx(lam * s2)

    r = procsim.simulate(model, replications=20, cases=12_000, warmup=1000, seed=8105, jobs=2)

    # Burke: the departures of an M/M/1 are Poisson, so each station is an M/M/1.
    sojourn = [1 / (1 / s - lam) for s in (s1, s2)]
    assert not mismatches({
        "W = Σ 1/(μi−λ)": (r.kpi("cycle_time").estimate, sum(sojourn)),
        "utilisation one": (r.resource("one", "utilization"), loads["one"].utilization),
        "utilisation two": (r.resource("two", "utilization"), loads["two"].utilization),
    })


@pytest.mark.slow
def test_jackson_network_with_feedback() -> None:
    lam, s1, s2, p = 1 / 10, 5.0, 5.5, 0.25
    model = procsim.parse_model(f"""
procsim: 1
name: tandem with rework
arrivals: {{interarrival: {{dist: exponential, mean: {1 / lam}}}}}
resources: {{one: {{capacity: 1}}, two: {{capacity: 1}}}}
activities:
  first: {{resource: one, duration: {{dist: exponential, mean: {s1}}}}}
  second: {{resource: two, duration: {{dist: exponential, mean: {s2}}}}}
flow: {{start: first, first: second, second: {{first: {p}, end: {1 - p}}}}}
""")
    visits = 1 / (1 - p)
    lam_eff = lam * visits  # traffic equations: λi = λ/(1−p) at both stations
    loads = procsim.offered_load(model)
    assert loads["one"].utilization == pytest.approx(lam_eff * s1)  # 0.667
    assert loads["two"].utilization == pytest.approx(lam_eff * s2)  # 0.733

    r = procsim.simulate(model, replications=20, cases=12_000, warmup=1000, seed=8106, jobs=2)

    # Jackson: each station behaves as an M/M/1 with arrival rate λ/(1−p) (the internal flows
    # are not Poisson, but the stationary distribution is product form), so the mean time per
    # case is the number of visits times the sojourn per visit.
    per_visit = [1 / (1 / s - lam_eff) for s in (s1, s2)]
    assert not mismatches({
        "W = v·Σ 1/(μi−λ/(1−p))": (r.kpi("cycle_time").estimate, visits * sum(per_visit)),
        "utilisation one": (r.resource("one", "utilization"), loads["one"].utilization),
        "utilisation two": (r.resource("two", "utilization"), loads["two"].utilization),
    })


# --- 5. Little's law and cost per case --------------------------------------------------------


@pytest.mark.slow
def test_littles_law_and_cost_on_mm2_with_rework() -> None:
    lam, service, check, p = 1 / 10, 12.0, 3.0, 0.2
    rate_per_hour, serve_cost, check_cost = 45.0, 5.0, 2.0
    model = procsim.parse_model(f"""
procsim: 1
name: M/M/2 with rework
time_unit: minutes
arrivals: {{interarrival: {{dist: exponential, mean: {1 / lam}}}}}
resources: {{clerks: {{capacity: 2, cost_per_hour: {rate_per_hour}}}}}
activities:
  serve: {{resource: clerks, duration: {{dist: exponential, mean: {service}}}, cost: {serve_cost}}}
  check: {{duration: {{dist: exponential, mean: {check}}}, cost: {check_cost}}}
flow: {{start: serve, serve: check, check: {{serve: {p}, end: {1 - p}}}}}
""")
    visits = 1 / (1 - p)
    lam_eff = lam * visits
    assert procsim.offered_load(model)["clerks"].utilization == pytest.approx(
        lam_eff * service / 2)  # 0.75

    r = procsim.simulate(model, replications=20, cases=15_000, warmup=1000, seed=8107, jobs=2)

    # A Jackson network of an M/M/2 station and an infinite-server delay, each visited
    # 1/(1−p) times per case.
    cycle = visits * (mmc_waiting_time(2, lam_eff, service) + service + check)
    busy_cost = visits * (serve_cost + service / 60 * rate_per_hour) + visits * check_cost
    # The full cost adds idle time: both clerks are paid all the time, 2 × 45 EUR/h × 1/λ
    # hours per case in all, busy or not.
    cost = visits * (serve_cost + check_cost) + 2 * rate_per_hour * (1 / lam) / 60
    wip = r.kpi("wip").estimate
    throughput = r.kpi("throughput_per_hour").estimate
    assert not mismatches({
        "W (Jackson)": (r.kpi("cycle_time").estimate, cycle),
        "L = λW": (wip, lam * cycle),
        "throughput = 60λ per hour": (throughput, 60 * lam),
        "busy cost per case = Σ v·(cost + mean·rate/60)": (
            r.kpi("busy_cost_per_case").estimate, busy_cost),
        "cost per case = Σ v·cost + c·rate/(60λ)": (r.kpi("cost_per_case").estimate, cost),
    })

    # Little's law inside the simulation: WIP against throughput × mean cycle time, replication
    # by replication. Both sides come from the same sample path, so the interval of their
    # per-replication difference (the combined CI) is far tighter than either interval alone;
    # its only noise is the cases in the system at the two ends of the window.
    per_minute = HOURS_PER_UNIT[model.time_unit]  # throughput is per hour, time in minutes
    difference = estimate([
        rep.values["wip"]
        - rep.values["throughput_per_hour"] * per_minute * rep.cases["cycle_time"].mean()
        for rep in r.per_replication
    ])
    lo, hi = difference.ci
    assert lo <= 0.0 <= hi, f"WIP − throughput·W: {difference.mean:.4g}, CI [{lo:.4g}, {hi:.4g}]"
    assert difference.half_width < MAX_RELATIVE_HALF_WIDTH * lam * cycle
    # The same through the summaries alone (the product of two means).
    assert wip.mean == pytest.approx(
        throughput.mean * per_minute * r.kpi("cycle_time").mean, rel=0.01)


# --- 6. Little's law on the example models ----------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLE_MODELS, ids=[p.stem for p in EXAMPLE_MODELS])
def test_littles_law_on_example_model(path: Path) -> None:
    model = procsim.load_model(path)
    run = model.run
    # The model's own settings, capped to keep the test fast. Cases are only cut when the
    # warm-up is a number of cases, so that a shorter run cannot eat into the warm-up; a run
    # defined by a duration keeps it (the warm-up is then usually a duration too).
    cases = None
    if run.cases is not None and isinstance(run.warmup, int):
        cases = min(run.cases, run.warmup + 5000)
    r = procsim.simulate(
        model,
        replications=min(run.replications, 10),
        cases=cases,
        seed=run.seed if run.seed is not None else 8110,  # no drawn seeds in a test
        jobs=2,
    )

    wip = r.kpi("wip").mean
    rate = r.kpi("throughput_per_hour").mean * HOURS_PER_UNIT[model.time_unit]
    cycle = r.kpi("cycle_time").mean
    # Why 3 %: over a finite window L = λW holds only up to edge effects: the cases already in
    # the system when the window opens and those still in it when it closes, whose share is
    # about W / (window length) per replication. In order_to_cash, when this was written, a
    # case took about as long (16 days) as the window it is measured in (15 days), so single
    # replications deviated by up to 6 %; over 30 seeds the mean of 10 replications deviated
    # by −0.6 % ± 0.9 % (sd), 2.3 % at most. The other examples stay within 0.5 %.
    assert wip == pytest.approx(rate * cycle, rel=0.03), (
        f"{path.name}: WIP {wip:.4g} against throughput × cycle time {rate * cycle:.4g}")


# --- 7. Parallel split and join ---------------------------------------------------------------


def parallel_model(a: str, b: str) -> procsim.Model:
    return procsim.parse_model(f"""
procsim: 1
name: parallel delays
arrivals: {{interarrival: {{dist: exponential, mean: 1}}}}
gateways: {{split: {{type: parallel}}, join: {{type: parallel}}}}
activities:
  A: {{duration: {a}}}
  B: {{duration: {b}}}
  C: {{duration: {{dist: fixed, value: 2}}}}
flow: {{start: split, split: [A, B], A: join, B: join, join: C, C: end}}
""")


def test_parallel_fixed_delays_take_the_longer_branch() -> None:
    model = parallel_model("{dist: fixed, value: 3}", "{dist: fixed, value: 5}")
    r = procsim.simulate(model, replications=3, cases=2000, seed=8108)

    # max(3, 5) + 2, for every single case (up to rounding of the clock's absolute times).
    for cycle in r.case_values("cycle_time"):
        np.testing.assert_allclose(cycle, 7.0, rtol=0, atol=1e-9)
    for waiting in r.case_values("waiting_time"):
        assert np.all(waiting == 0.0)  # no resources, so never a queue
    # Without resources every duration is delay time, summed over both branches.
    for processing in r.case_values("processing_time"):
        assert np.all(processing == 0.0)
    for delay in r.case_values("delay_time"):
        np.testing.assert_allclose(delay, 3.0 + 5.0 + 2.0, rtol=0, atol=1e-9)


def test_parallel_exponential_delays_take_the_expected_maximum() -> None:
    a, b = 4.0, 6.0
    model = parallel_model(f"{{dist: exponential, mean: {a}}}",
                           f"{{dist: exponential, mean: {b}}}")
    r = procsim.simulate(model, replications=10, cases=5000, seed=8109)

    # E[max(X, Y)] = E[X] + E[Y] − E[min(X, Y)] for independent exponentials, and the minimum
    # is exponential with rate 1/a + 1/b.
    expected_max = a + b - a * b / (a + b)
    assert not mismatches({
        "W = E[max(X, Y)] + 2": (r.kpi("cycle_time").estimate, expected_max + 2.0),
        "delay = a + b + 2 (both branches)": (r.kpi("delay_time").estimate, a + b + 2.0),
    })
