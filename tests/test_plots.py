"""Plots: every Display draws what it computed, with units, consistent colours and exact data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from procsim import load_model, parse_model, simulate
from procsim.compare import ComparisonResult, compare
from procsim.model import apply_changes, expected_visits
from procsim.model.scenario import load_scenario, with_okrs
from procsim.report.plots import (
    PALETTE,
    ActivityTimeDisplay,
    DistributionDisplay,
    ProcessMapDisplay,
    QueueDisplay,
    UtilizationDisplay,
    series_of,
)


@pytest.fixture(scope="module")
def comparison() -> ComparisonResult:
    base = with_okrs(load_model("models/service_desk.yaml"), "okrs/service_desk.yaml")
    scenarios = [load_scenario("scenarios/service_desk_more_agents.yaml"),
                 load_scenario("scenarios/service_desk_specialist_on_call.yaml")]
    return compare(base, scenarios, replications=3, cases=1500, warmup=200, seed=5)


def test_series_colours_follow_the_palette(comparison: ComparisonResult) -> None:
    series = series_of(comparison)
    assert [s.name for s in series] == ["baseline", *(s.name for s in comparison.scenarios)]
    assert [s.color for s in series] == PALETTE[:3]
    with pytest.raises(TypeError, match="expected a RunResult"):
        series_of([1, 2])


def test_colours_are_the_same_in_every_figure(comparison: ComparisonResult) -> None:
    ecdf = DistributionDisplay.from_result(comparison).plot(kind="ecdf")
    util = UtilizationDisplay.from_result(comparison).plot()
    line_colours = [line.get_color() for line in ecdf.ax_.get_lines()[:3]]
    bar_colours = []
    from matplotlib.container import BarContainer

    bars = [c for c in util.ax_.containers if isinstance(c, BarContainer)]
    assert len(bars) == 3
    for container in bars:
        rgba = container.patches[0].get_facecolor()
        bar_colours.append("#{:02x}{:02x}{:02x}".format(*(round(c * 255) for c in rgba[:3])))
    assert [c.lower() for c in line_colours] == [c.lower() for c in PALETTE[:3]]
    assert bar_colours == [c.lower() for c in PALETTE[:3]]


def test_distribution_display_kinds(comparison: ComparisonResult) -> None:
    d = DistributionDisplay.from_result(comparison, kpi="cycle_time",
                                        target={"KR": 100.0, "health": 60.0})
    base = np.concatenate(comparison.baseline.case_values("cycle_time"))
    # The stored quantiles are the pooled case values' quantiles, not an approximation.
    assert d.quantiles[0][100] == pytest.approx(np.median(base))
    assert d.means[0] == pytest.approx(base.mean())
    assert d.counts[0].sum() == pytest.approx(np.mean(base <= d.bins[-1]), abs=1e-12)

    ecdf = d.plot(kind="ecdf")
    assert ecdf.ax_.get_xlabel() == "Cycle time (min)"
    labels = [t.get_text() for t in ecdf.ax_.get_legend().get_texts()]
    assert labels == ["baseline", *(s.name for s in comparison.scenarios), "KR", "health"]
    hist = DistributionDisplay.from_result(comparison, kpi="cost_per_case").plot(kind="hist")
    assert hist.ax_.get_xlabel() == "Cost per case (EUR)"
    box = d.plot(Figure().add_subplot(), kind="box")
    assert len(box.ax_.get_yticklabels()) == 3
    with pytest.raises(ValueError, match="expected kind"):
        d.plot(kind="violin")


def test_activity_display_bars(comparison: ComparisonResult) -> None:
    d = ActivityTimeDisplay.from_result(comparison).plot()
    # The scenario with self-service adds an activity; it shows up, absent elsewhere (0).
    assert "self_service" in d.activities
    k = d.activities.index("self_service")
    assert d.waiting[0, k] == 0 and d.processing[0, k] == 0 and d.processing[1, k] > 0
    assert len(d.ax_.patches) == 2 * 3 * len(d.activities)
    base = comparison.baseline
    j = d.activities.index("triage")
    assert d.waiting[0, j] == pytest.approx(base.activity("triage", "waiting_time").mean)
    assert d.delay[d.activities.index("await_customer")] is True
    assert "(min)" in d.ax_.get_xlabel()


def test_utilization_display(comparison: ComparisonResult) -> None:
    d = UtilizationDisplay.from_result(comparison).plot()
    assert d.pools == ["agents", "specialists"]
    assert d.capacities[1] == [7, 3]  # the more-agents scenario has 7
    assert d.estimates[0][0].mean == pytest.approx(
        comparison.baseline.resource("agents", "utilization").mean)


def test_queue_display_defaults_to_the_longest_queue(comparison: ComparisonResult) -> None:
    d = QueueDisplay.from_result(comparison).plot()
    base = comparison.baseline
    longest = max(base.model.resources, key=lambda p: base.resource(p, "queue_length").mean)
    assert d.pool == longest
    assert len(d.ax_.get_lines()) == 3 + 1  # three series and the end of the warm-up
    assert d.ax_.get_xlabel().startswith("Simulated time")
    assert all(np.all(m >= 0) for m in d.mean)
    with pytest.raises(ValueError, match="no resource pools"):
        QueueDisplay.from_result(simulate(parse_model(DELAY_ONLY), replications=2, seed=1))


DELAY_ONLY = """
procsim: 1
name: Only delays
arrivals: {interarrival: {dist: exponential, mean: 5}}
activities: {think: {duration: {dist: exponential, mean: 4}}}
flow: {start: think, think: end}
"""


def test_queue_series_is_exact() -> None:
    """The windows' averages integrate back to the recorded queue area, exactly."""
    run = simulate(load_model("models/service_desk.yaml"), replications=2, cases=2000,
                   warmup=100, seed=3, keep_records=True)
    assert run.records is not None
    for record, kpis in zip(run.records, run.per_replication, strict=True):
        q = kpis.queue
        assert q is not None
        area = (q.values * np.diff(q.edges)[:, None]).sum(axis=0)
        first = int(np.searchsorted(record.arrival, q.edges[0]))
        last = int(np.searchsorted(record.arrival, q.edges[-1]))
        np.testing.assert_allclose(area, record.queue_area[last] - record.queue_area[first],
                                   rtol=1e-9)
        assert q.warmup_end == record.arrival[100]


def test_process_map_flows_are_conserved() -> None:
    """Tokens along the flows: what enters an activity leaves it, and the per-case flows agree
    with the traffic equations."""
    model = load_model("models/service_desk.yaml")
    run = simulate(model, replications=5, cases=4000, warmup=0, seed=8)
    d = ProcessMapDisplay.from_result(run)
    inflow: dict[str, float] = {}
    outflow: dict[str, float] = {}
    for (u, v), f in d.flows.items():
        outflow[u] = outflow.get(u, 0.0) + f
        inflow[v] = inflow.get(v, 0.0) + f
    for node in model.activities:
        assert inflow[node] == pytest.approx(outflow[node], rel=1e-12)
    assert outflow["start"] == 1.0 and inflow["end"] == 1.0
    visits = expected_visits(model)
    for node in model.activities:
        assert inflow[node] == pytest.approx(visits[node], rel=0.03)
    assert d.back_edges == {("confirm", "triage")}
    d.plot()
    arrows = [c for c in d.ax_.get_children() if type(c).__name__ == "Annotation"]
    assert len(arrows) == len(d.edges)


def test_process_map_orientation_and_parallel_flows() -> None:
    run = simulate(load_model("models/loan_application.yaml"), replications=2, seed=1)
    vertical = ProcessMapDisplay.from_result(run)            # 9 steps deep: top to bottom
    assert vertical.orientation == "vertical"
    horizontal = ProcessMapDisplay.from_result(run, orientation="horizontal")
    xs = {x for x, _ in horizontal.positions.values()}
    assert horizontal.positions["start"][0] == min(xs)
    assert horizontal.positions["end"][0] == max(xs)
    # A parallel split sends one token down every branch.
    model = run.model
    split = next(g for g, spec in model.gateways.items() if spec.type == "parallel"
                 and isinstance(model.flow.get(g), list))
    into = sum(f for (u, v), f in vertical.flows.items() if v == split)
    for target in model.flow[split]:
        assert vertical.flows[(split, target)] == pytest.approx(into)
    with pytest.raises(ValueError, match="orientation"):
        ProcessMapDisplay.from_result(run, orientation="diagonal")
    with pytest.raises(TypeError, match="one map per run"):
        ProcessMapDisplay.from_result({"a": run})  # type: ignore[arg-type]


def test_displays_draw_on_given_axes(comparison: ComparisonResult) -> None:
    fig = Figure()
    axes = fig.subplots(2, 2).ravel()
    DistributionDisplay.from_result(comparison).plot(axes[0])
    ActivityTimeDisplay.from_result(comparison).plot(axes[1])
    UtilizationDisplay.from_result(comparison).plot(axes[2])
    display = ProcessMapDisplay.from_result(comparison.baseline).plot(axes[3])
    assert display.figure_ is fig and display.ax_ is axes[3]
    assert all(ax.has_data() or ax.texts for ax in axes)


def test_scenario_from_python_in_plots() -> None:
    base = load_model("models/service_desk.yaml")
    more = apply_changes(base, {"resources.agents.capacity": 6}, name="Six agents")
    runs = {"five": simulate(base, replications=2, cases=800, warmup=100, seed=2),
            "six": simulate(more, replications=2, cases=800, warmup=100, seed=2)}
    d = UtilizationDisplay.from_result(runs)
    assert d.names == ["five", "six"]
    assert d.estimates[1][0].mean < d.estimates[0][0].mean


# --- plots of event logs --------------------------------------------------------------------------

def _log(per_case: dict | None = None, **fields: object) -> object:
    """A stand-in for LogKpis with just what a Display reads."""
    from types import SimpleNamespace

    return SimpleNamespace(time_unit="minutes", per_case=per_case or {}, **fields)


def test_log_distribution_display_says_what_lies_beyond_the_axis() -> None:
    from procsim.report.plots import LogDistributionDisplay

    k = _log({"cycle_time": np.arange(1000.0)})
    d = LogDistributionDisplay.from_result(k)
    # The axis ends at the 99.5th percentile taken as a case's value: 995 of 0, 1, …, 999.
    assert d.bins[-1] == 995.0 and d.above == [4]
    # The histogram holds every other case: its shares add up to what is drawn.
    assert float(d.counts[0].sum()) == pytest.approx(1 - 4 / 1000)
    assert "cases above 995 min not shown: 4 of 1,000" in d.plot(kind="hist").ax_.get_xlabel()
    both = LogDistributionDisplay.from_result({"log": k, "simulation": [k, k]})
    assert both.cases == [1000, 2000] and both.above == [4, 8]
    assert "log 4 of 1,000; simulation 8 of 2,000" in both.plot().ax_.get_xlabel()
    # A small log keeps its largest case on the axis.
    small = LogDistributionDisplay.from_result(_log({"cycle_time": np.array([1.0, 2.0, 9.0])}))
    assert small.bins[-1] == 9.0 and small.above == [0]
    assert small.plot().ax_.get_xlabel() == "Cycle time (min)"


def test_profile_display_shares_and_replication_ranges() -> None:
    from matplotlib.container import BarContainer

    from procsim.report.plots import ProfileDisplay

    hours = [0] * 24
    hours[9], hours[10] = 30, 10
    log = _log(events_by_hour=tuple(hours))
    rep1, rep2 = list(hours), list(hours)
    rep1[9], rep2[9] = 10, 30  # shares of 9:00: 0.5 and 0.75
    sims = [_log(events_by_hour=tuple(rep1)), _log(events_by_hour=tuple(rep2))]
    d = ProfileDisplay.from_result({"log": log, "simulation": sims}).plot()
    assert d.shares[0][9] == pytest.approx(0.75) and d.totals == [40, 60]
    assert d.shares[1][9] == pytest.approx(40 / 60)  # pooled
    assert (d.low[1][9], d.high[1][9]) == (pytest.approx(0.5), pytest.approx(0.75))
    bars = [c for c in d.ax_.containers if isinstance(c, BarContainer)]
    colours = ["#{:02x}{:02x}{:02x}".format(*(round(v * 255) for v in b.patches[0]
                                                .get_facecolor()[:3])) for b in bars]
    assert colours == [c.lower() for c in PALETTE[:2]]  # the log grey, the simulation blue
    labels = [t.get_text() for t in d.ax_.get_xticklabels()]
    assert labels == [f"{h:02d}" for h in range(0, 24, 2)]  # every other hour named


def test_wip_display_keeps_its_legend_off_the_line() -> None:
    import pandas as pd

    from procsim.report.plots import WipDisplay

    times = pd.date_range("2026-01-05", periods=50, freq="h", tz="Europe/Paris")
    wip = np.r_[np.full(25, 1.0), np.full(25, 8.0)]  # high at the right, where legends go
    d = WipDisplay.from_result(_log(wip_series=tuple(zip(times, wip, strict=True)),
                                    values={"wip": 4.5})).plot()
    assert d.times[0].hour == 0  # the log's wall clock, not UTC
    d.figure_.draw_without_rendering()
    legend = d.ax_.get_legend().get_window_extent()
    assert legend.y0 >= d.ax_.get_window_extent().y1
    assert [t.get_text() for t in d.ax_.get_legend().get_texts()] == [
        "per window", "time-average 4.5"]


def test_log_waiting_display_picks_by_wait_per_case_and_draws_by_wait_per_visit() -> None:
    from procsim.report.plots import LogWaitingDisplay

    k = _log(activities={
        "rare": {"waiting_time": 10.0, "visits_per_case": 0.1},   # 1 per case
        "often": {"waiting_time": 5.0, "visits_per_case": 1.0},   # 5 per case
        "quick": {"waiting_time": 0.5, "visits_per_case": 1.0},   # 0.5 per case
    })
    d = LogWaitingDisplay.from_result(k, top=2).plot()
    assert d.activities == ["rare", "often"] and d.left_out == 1
    assert [t.get_text() for t in d.ax_.get_yticklabels()] == ["rare", "often"]
    assert "shown: 2 of 3 activities" in d.ax_.get_xlabel()
    assert d.mean[0].tolist() == [10.0, 5.0]


def test_docs_plots_of_event_logs_example_runs(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    pytest.importorskip("pandas")
    root = Path(__file__).resolve().parent.parent
    doc = (root / "docs" / "report.md").read_text(encoding="utf-8")
    section = doc.split("## Plots of event logs", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "docs/report.md", "exec"), namespace)
    for name in ("log_overview.png", "log_vs_simulation.png"):
        assert (tmp_path / "out" / name).stat().st_size > 10_000
    # What the example draws is the log's: four replications, the first one the log.
    assert namespace["kpis"].cases == 1000 and len(namespace["overlay"]["simulation"]) == 3
