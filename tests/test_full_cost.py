"""Cost per case is the full cost: the case's own work plus its share of paid idle staff time.

``cost_per_case`` = ``busy_cost_per_case`` + (staff time paid in the measurement window but
not busy) × cost per hour / measured cases, for every model (issue 12, item 5). So adding a
server, busy or not, raises the mean cost per case by its hourly cost × window / cases.
"""

from __future__ import annotations

import numpy as np
import pytest

import procsim
from procsim import parse_model
from procsim.engine import compile_model, run_replication
from procsim.kpi import replication_kpis
from procsim.stats import estimate, paired_difference

RATE = 60.0          # EUR per hour and server
LAM = 0.5            # arrivals per minute
MMC = """
procsim: 1
name: M/M/{c}
time_unit: minutes
currency: EUR
arrivals: {{interarrival: {{dist: exponential, mean: 2}}}}
resources: {{clerks: {{capacity: {c}, cost_per_hour: {rate}}}}}
activities: {{serve: {{resource: clerks, duration: {{dist: exponential, mean: 5}}, cost: 1.5}}}}
flow: {{start: serve, serve: end}}
"""


def mmc(c: int) -> procsim.Model:
    return parse_model(MMC.format(c=c, rate=RATE))


@pytest.fixture(scope="module")
def runs() -> tuple[procsim.RunResult, procsim.RunResult]:
    # Common random numbers: the same seed, so the same arrivals and service times.
    settings = {"replications": 10, "cases": 5000, "warmup": 500, "seed": 12, "jobs": 1,
                "keep_records": True}
    return procsim.simulate(mmc(3), **settings), procsim.simulate(mmc(4), **settings)


def _window_hours(result: procsim.RunResult) -> np.ndarray:
    """The measurement window of each replication, first measured arrival to last arrival."""
    assert result.records is not None
    return np.array([(rec.arrival[-1] - rec.arrival[w]) / 60
                     for rec, w in zip(result.records, result.warmup, strict=True)])


def test_an_extra_server_costs_its_hourly_rate_times_the_window_per_case(runs) -> None:
    three, four = runs
    measured = np.array([r.cases["cycle_time"].size for r in three.per_replication])
    window = _window_hours(three)
    assert np.array_equal(window, _window_hours(four))   # the same arrivals
    expected = RATE * window / measured                    # per replication, EUR per case
    delta = four.values("cost_per_case") - three.values("cost_per_case")
    # What is left is the busy time that moved across the window's ends as the fourth
    # server starts work sooner: a few service times' worth over 4,500 cases.
    rest = estimate(delta - expected)
    lo, hi = rest.ci
    assert lo <= 0 <= hi, rest
    assert rest.half_width < 0.003 * expected.mean(), rest
    assert np.all(np.abs(delta - expected) < 0.01 * expected)
    # Theory: a stationary run has a window of (cases − 1) interarrival times, 1/λ each, so
    # the extra server adds RATE × (1/λ) hours per case = 2 EUR (× (n−1)/n).
    theory = RATE * (1 / LAM) / 60 * (measured - 1) / measured
    total = estimate(delta)
    assert total.ci[0] <= theory.mean() <= total.ci[1], (total, theory.mean())
    assert total.half_width < 0.05 * theory.mean()
    # The percentage a scenario shows: about +2 EUR on the three-server cost.
    assert four.kpi("cost_per_case").mean > three.kpi("cost_per_case").mean + 1.9


def test_busy_cost_does_not_change_with_an_idle_server(runs) -> None:
    three, four = runs
    diff = paired_difference(three.values("busy_cost_per_case"),
                             four.values("busy_cost_per_case"))
    lo, hi = diff.ci
    assert lo <= 0 <= hi, diff
    # The work alone: the activity's cost plus its busy time, 1.5 + 5 min × 60 EUR/h.
    busy = three.kpi("busy_cost_per_case").estimate
    assert busy.ci[0] <= 1.5 + 5 / 60 * RATE <= busy.ci[1], busy
    assert busy.half_width < 0.02 * busy.mean


def test_full_cost_is_busy_cost_plus_an_equal_share_of_idle_cost(runs) -> None:
    three, _ = runs
    for rep in three.per_replication:
        share = rep.cases["cost_per_case"] - rep.cases["busy_cost_per_case"]
        assert np.ptp(share) < 1e-9 and share[0] > 0    # the same for every case
        assert rep.values["cost_per_case_with_idle"] == rep.cases["cost_per_case"].mean()
    kpi = three.kpi("cost_per_case")
    assert kpi.percentiles["p90"] > kpi.percentiles["p50"] > three.kpi(
        "busy_cost_per_case").percentiles["p50"]
    assert "busy_cost_per_case" in three.kpi_names and "idle_cost_per_hour" in three.kpi_names
    data = three.to_dict()["kpis"]
    assert data["cost_per_case"]["p95_ci95"] is not None   # still a per-case KPI


OFFICE = """
procsim: 1
name: office hours
time_unit: hours
start: 2026-01-05T08:00
calendars: {office: [{days: mon-fri, from: "09:00", to: "17:00"}]}
"""


def _kpis(text: str, cases: int) -> object:
    model = parse_model(text)
    plan = compile_model(model)
    return replication_kpis(plan, run_replication(plan, seed=1, replication=0, cases=cases), 0)


def test_a_calendar_pool_is_paid_only_on_shift() -> None:
    text = OFFICE + """
arrivals: {interarrival: {dist: fixed, value: 6}}
resources: {clerk: {capacity: 2, calendar: office, cost_per_hour: 10}}
activities: {serve: {resource: clerk, duration: {dist: fixed, value: 1}}}
flow: {start: serve, serve: end}
"""
    kpis = _kpis(text, 5)
    # Arrivals Mon 14:00, 20:00, Tue 02:00, 08:00, 14:00 (t = 6 … 30): the window holds
    # 3 h on shift on Monday and 5 h on Tuesday, × 2 clerks = 16 h paid; busy in it: the
    # first case (14:00-15:00) and the three night cases from 09:00 Tuesday = 4 h.
    # Idle 12 h × 10 EUR = 120 EUR over 5 cases: 24 EUR each on top of 1 h × 10 EUR.
    assert kpis.cases["busy_cost_per_case"].tolist() == [10.0] * 5
    assert kpis.cases["cost_per_case"].tolist() == pytest.approx([34.0] * 5)
    assert kpis.values["idle_cost_per_hour"] == pytest.approx(120 / 24)


def test_people_are_paid_their_own_rate_on_shift() -> None:
    text = """
procsim: 1
name: team
time_unit: hours
arrivals: {interarrival: {dist: fixed, value: 1.5}}
people:
  ann: {speed: 2, cost_per_hour: 40}
  bob: {}
resources: {team: {members: [ann, bob], cost_per_hour: 20}}
activities:
  serve:
    resource: team
    duration: {dist: fixed, value: 2}
    durations: {bob: {dist: fixed, value: 3}}
flow: {start: serve, serve: end}
"""
    kpis = _kpis(text, 4)
    # Cases 0, 2, 3 by Ann (1 h at 40 EUR), case 1 by Bob (3 h at the pool's 20 EUR).
    # Window 1.5..6.0 (4.5 h): Ann busy 2 h of it (idle 2.5 h × 40), Bob 3 h (1.5 h × 20):
    # 130 EUR idle, 32.50 EUR per case.
    assert kpis.cases["busy_cost_per_case"].tolist() == [40.0, 60.0, 40.0, 40.0]
    assert kpis.cases["cost_per_case"].tolist() == pytest.approx([72.5, 92.5, 72.5, 72.5])
