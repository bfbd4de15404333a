"""KPIs from an event log (``procsim kpis``): the same numbers as the run that wrote the log,
hand-computed tiny logs, and the command-line contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")

import procsim  # noqa: E402
from procsim.eventlog import EventLog  # noqa: E402
from procsim.eventlog.kpis import load_log_targets, log_kpis  # noqa: E402
from procsim.eventlog.simulated import simulated_log  # noqa: E402

MODEL = """
procsim: 1
name: Two steps with rework
start: 2026-01-05T08:00
time_unit: minutes
arrivals: {interarrival: {dist: exponential, mean: 5}}
resources: {clerk: {capacity: 1}, expert: {capacity: 3}}
activities:
  triage: {resource: clerk, duration: {dist: exponential, mean: 3}}
  check: {resource: expert, duration: {dist: exponential, mean: 7}}
  fix: {resource: clerk, duration: {dist: exponential, mean: 1}}
flow: {start: triage, triage: check, check: {fix: 0.3, end: 0.7}, fix: check}
"""


@pytest.fixture(scope="module")
def run() -> object:
    model = procsim.parse_model(MODEL)
    return procsim.simulate(model, replications=1, cases=300, seed=3, warmup=0,
                            keep_records=True)


def test_log_of_a_run_gives_the_kpis_the_run_reported(run: object) -> None:
    result = run
    log = simulated_log(result, 0)
    assert log.cases == 300 and log.time_zone is None
    kpis = log_kpis(log, model=result.model)
    for name in ("cycle_time", "waiting_time", "processing_time"):
        # Same cases (warm-up 0), same definitions: equal up to the nanosecond clock.
        assert kpis.kpi(name) == pytest.approx(result.kpi(name).mean, rel=1e-9, abs=1e-9)
        for q in (50, 90, 95):
            assert kpis.kpi(name, f"p{q}") == pytest.approx(
                float(pd.Series(result.case_values(name)[0]).quantile(q / 100)),
                rel=1e-9, abs=1e-9)
    for activity in ("triage", "check", "fix"):
        for metric in ("visits_per_case", "share_of_cases", "waiting_time", "processing_time"):
            assert kpis.activities[activity][metric] == pytest.approx(
                result.activity(activity, metric).mean, rel=1e-9, abs=1e-9)
    assert kpis.kpi("delay_time") == 0.0


def test_simulated_log_follows_the_event_log_invariants(run: object) -> None:
    frame = simulated_log(run).frame
    assert list(frame.columns) == ["case", "activity", "resource", "start", "end", "enabled",
                                   "line"]
    assert (frame["start"] <= frame["end"]).all()
    assert (frame["enabled"] <= frame["start"]).all()
    assert frame.equals(frame.sort_values(["case", "start"], kind="stable"))
    with pytest.raises(ValueError, match="out of range"):
        simulated_log(run, 1)


def _log(rows: list[tuple], *, enabled: bool = False) -> EventLog:
    """rows: (case, activity, resource, start, end[, enabled]) with times as 'HH:MM'."""
    def at(text: str | None) -> object:
        return pd.NaT if text is None else pd.Timestamp(f"2026-01-05 {text}")

    frame = pd.DataFrame({
        "case": [r[0] for r in rows],
        "activity": [r[1] for r in rows],
        "resource": pd.Series([r[2] if r[2] else pd.NA for r in rows], dtype=object),
        "start": pd.to_datetime([at(r[3]) for r in rows]),
        "end": pd.to_datetime([at(r[4]) for r in rows]),
        "enabled": pd.to_datetime([at(r[5]) if enabled else pd.NaT for r in rows]),
        "line": list(range(2, len(rows) + 2)),
    })
    return EventLog(frame.sort_values(["case", "start"]).reset_index(drop=True), file="t.csv")


def test_waiting_from_the_previous_end_without_enabled_times() -> None:
    log = _log([
        ("c1", "a", "ann", "09:00", "09:10"),
        ("c1", "b", "bob", "09:30", "09:45"),   # waits 20 min after a's end
        ("c2", "a", "ann", "10:00", "10:05"),
        ("c2", "b", "bob", "10:02", "10:20"),   # overlaps a: no waiting
        ("c2", "c", None, "10:30", "10:40"),    # after the latest end (10:20): 10 min
    ])
    k = log_kpis(log)
    assert k.per_case["waiting_time"].tolist() == [20.0, 10.0]
    assert k.per_case["processing_time"].tolist() == [25.0, 33.0]
    assert k.per_case["cycle_time"].tolist() == [45.0, 40.0]
    assert k.activities["b"]["waiting_time"] == 10.0
    assert k.activities["c"]["share_of_cases"] == 0.5
    assert k.resources["ann"]["busy_time"] == 15.0
    assert "(none)" not in k.resources  # a missing resource is no resource
    # Span 09:00–10:40 = 100 min; ann busy 15 of them.
    assert k.resources["ann"]["utilization"] == pytest.approx(0.15)
    assert k.resources["ann"]["utilization_of_active_span"] == pytest.approx(15 / 65)
    assert k.values["wip"] == pytest.approx(85 / 100)
    assert k.values["throughput_per_hour"] == pytest.approx(2 / (100 / 60))


def test_waiting_from_enabled_times_where_the_log_has_them() -> None:
    log = _log([
        ("c1", "a", "ann", "09:05", "09:10", "09:00"),   # waits 5 from enabled
        ("c1", "b", "bob", "09:30", "09:45", "09:20"),   # waits 10 (not 20)
        ("c2", "a", "ann", "10:00", "10:05", None),      # first, no enabled: 0
        ("c2", "b", "bob", "10:15", "10:20", None),      # from the previous end: 10
    ], enabled=True)
    k = log_kpis(log)
    assert k.per_case["waiting_time"].tolist() == [15.0, 10.0]
    # c1's cycle starts at its first enabled time, 09:00.
    assert k.per_case["cycle_time"].tolist() == [45.0, 20.0]
    d = log_kpis(log, time_unit="hours").to_dict()
    assert d["time_unit"] == "hours"
    assert d["kpis"]["cycle_time"]["mean"] == pytest.approx(65 / 2 / 60)


def test_an_empty_log_is_refused() -> None:
    frame = _log([("c1", "a", "ann", "09:00", "09:10")]).frame.iloc[0:0]
    with pytest.raises(ValueError, match="no activity instances"):
        log_kpis(EventLog(frame))


def _targets(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "okrs.yaml"
    path.write_text(text)
    return path


def test_targets_are_judged_on_the_measured_values(tmp_path: Path) -> None:
    log = _log([
        ("c1", "a", "ann", "09:00", "09:10"),
        ("c1", "b", "bob", "09:30", "09:45"),
        ("c2", "a", "ann", "10:00", "10:05"),
    ])
    path = _targets(tmp_path, """
kpis:
  fast: {of: cycle_time, stat: mean, target: "<= 30min"}
  within_40: {share: cycle_time, within: 40min, target: ">= 50%"}
  with_b: {visits: b, target: ">= 90%"}
  slow_p90: {of: cycle_time, stat: p90, target: "<= 1h"}
""")
    model = load_log_targets(path, activities=["a", "b"])
    k = log_kpis(log, model=model)
    assert k.kpi("fast") == pytest.approx(25.0)
    assert k.custom["within_40"] == 0.5 and k.custom["with_b"] == 0.5
    assert {n: h.status for n, h in k.health.items()} == {
        "fast": "on_track", "within_40": "on_track", "with_b": "off_track",
        "slow_p90": "on_track"}
    assert k.off_track == ["with_b"]
    assert "✗ off track  with_b: 50.0% (target >= 90%)" in k.summary()


def test_a_visits_kpi_must_name_an_activity_of_the_log(tmp_path: Path) -> None:
    path = _targets(tmp_path, "kpis:\n  esc: {visits: escalate, target: '<= 5%'}\n")
    with pytest.raises(procsim.ModelError, match=r"okrs.yaml:2:.*unknown activity 'escalate'"):
        load_log_targets(path, activities=["escalation", "triage"])


# --- command line -------------------------------------------------------------------------------

CSV = """case_id,activity,resource,start_time,end_time
c1,a,ann,2026-01-05T09:00:00,2026-01-05T09:10:00
c1,b,bob,2026-01-05T09:30:00,2026-01-05T09:45:00
c2,a,ann,2026-01-05T10:00:00,2026-01-05T10:05:00
c2,b,bob,2026-01-05T10:15:00,2026-01-05T10:20:00
"""


def _cli(*args: str) -> object:
    from typer.testing import CliRunner

    from procsim.cli import app

    return CliRunner().invoke(app, ["kpis", *args])


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    path = tmp_path / "log.csv"
    path.write_text(CSV)
    return path


def test_cli_json_contract(log_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "kpis.json"
    result = _cli(str(log_file), "--json", str(out), "-q")
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["time_unit"] == "minutes" and data["cases"] == 2 and data["events"] == 4
    assert data["file"].endswith("log.csv")
    assert data["period"]["first"].startswith("2026-01-05T09:00:00")
    assert data["period"]["last"].startswith("2026-01-05T10:20:00")
    for name in ("cycle_time", "processing_time", "waiting_time"):
        assert set(data["kpis"][name]) >= {"mean", "p50", "p90", "p95"}
    assert data["kpis"]["cycle_time"]["mean"] == 32.5
    assert data["kpis"]["waiting_time"]["mean"] == 15.0
    assert data["activities"]["b"]["visits_per_case"] == 1.0


def test_cli_fail_on_off_track(log_file: Path, tmp_path: Path) -> None:
    good = _targets(tmp_path, "kpis:\n  ct: {of: cycle_time, target: '<= 1h'}\n")
    result = _cli(str(log_file), "--okrs", str(good), "--fail-on-off-track")
    assert result.exit_code == 0, result.output
    assert "on track" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("kpis:\n  ct: {of: cycle_time, target: '<= 30min'}\n")
    result = _cli(str(log_file), "--okrs", str(bad), "--fail-on-off-track")
    assert result.exit_code == 1
    assert "off track" in result.output
    # Without the flag an off-track KPI is reported, not a failure.
    assert _cli(str(log_file), "--okrs", str(bad)).exit_code == 0


def test_cli_bad_input_exits_2_without_a_traceback(log_file: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    for args in ([str(empty)], [str(tmp_path / "missing.csv")],
                 [str(log_file), "--time-unit", "weeks"],
                 [str(log_file), "--okrs", str(_targets(tmp_path, "kpis:\n  x: {of: nope}\n"))],
                 [str(log_file), "--json", str(log_file)]):
        result = _cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit)
