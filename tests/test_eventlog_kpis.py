"""KPIs from an event log (``procsim kpis``): the same numbers as the run that wrote the log,
hand-computed tiny logs, and the command-line contract."""

from __future__ import annotations

import json
import math
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


# --- utilisation against working hours -----------------------------------------------------------

OFFICE_MODEL = """
procsim: 1
name: Office hours
start: 2026-01-05T00:00
time_unit: minutes
calendars:
  office: [{days: mon-fri, from: "09:00", to: "17:00"}]
arrivals: {interarrival: {dist: exponential, mean: 240}}
resources:
  clerk: {capacity: 2, calendar: office, preempt: true}
  desk: {capacity: 1}
activities:
  triage: {resource: desk, duration: {dist: exponential, mean: 20}}
  handle: {resource: clerk, duration: {dist: gamma, mean: 60, sd: 30}}
flow: {start: triage, triage: handle, handle: end}
"""


@pytest.fixture(scope="module")
def office_run() -> object:
    model = procsim.parse_model(OFFICE_MODEL)
    return procsim.simulate(model, replications=1, cases=1500, seed=11, warmup=0,
                            keep_records=True)


def test_utilisation_of_working_hours_is_the_runs_utilisation_of_a_calendared_pool(
        office_run: object) -> None:
    from datetime import datetime, timedelta, timezone

    from procsim.engine import compile_model

    result = office_run
    model = result.model
    log = simulated_log(result)
    discovered = log_kpis(log, model=model)
    given = log_kpis(log, model=model, calendars=model)
    hours = discovered.working_hours["clerk"]
    # The clerks start and end work only on shift: the discovered hours are the calendar's.
    assert hours.source == "discovered" and hours.text == "Mon–Fri 09:00–17:00"
    assert given.working_hours["clerk"].calendar == "office"
    measured = given.resources["clerk"]["utilization_of_working_hours"]
    assert discovered.resources["clerk"]["utilization_of_working_hours"] == pytest.approx(
        measured, rel=1e-12)
    # The run measures busy time on shift over the servers' on-shift time from the first to
    # the last arrival; the log from its first arrival to its last end. The two differ only
    # by the on-shift time after the last arrival, a share `tail` of the log's on-shift time,
    # and by at most that share: |difference| <= tail.
    record = result.records[0]
    office = model.calendar("office")
    first, last_arrival = float(record.arrival[0]), float(record.arrival[-1])
    last_end = float(record.end.max())
    tail = office.working_time(last_arrival, last_end) / office.working_time(first, last_end)
    assert 0 < tail < 0.02  # else the comparison would say little
    simulated = result.resource("clerk", "utilization").mean
    assert abs(measured - simulated) <= tail
    assert given.resources["clerk"]["available_time"] == pytest.approx(
        2 * office.working_time(first, last_end), rel=1e-9)
    # Work pauses off shift (preempt): the busy time in working hours is the work the run
    # did, while the log's clock durations also hold the nights and weekends.
    handle = record.instance_activity == compile_model(model).activities.index("handle")
    work = float(record.instance_work[handle].sum())
    assert given.resources["clerk"]["busy_time_in_working_hours"] == pytest.approx(work,
                                                                                    rel=1e-9)
    assert given.resources["clerk"]["busy_time"] > 1.5 * work
    # Wall-clock hours: the same log in a zone two hours east measures the same.
    zoned = simulated_log(result, origin=datetime(2026, 1, 5, tzinfo=timezone(timedelta(
        hours=2))))
    assert log_kpis(zoned, model=model).resources["clerk"][
        "utilization_of_working_hours"] == pytest.approx(measured, rel=1e-12)


HOURS_MODEL = """
procsim: 1
name: Shifts
start: 2026-01-05T00:00
time_unit: minutes
calendars:
  office: [{days: mon-fri, from: "09:00", to: "17:00"}]
  early: [{days: mon-fri, from: "07:00", to: "12:00"}]
arrivals: {interarrival: {dist: exponential, mean: 60}}
people: {ann: {}, bob: {calendar: early}}
resources:
  clerks: {members: [ann, bob], calendar: office}
  experts: {capacity: 2, calendar: office}
activities:
  a: {resource: clerks, duration: {dist: fixed, value: 10}}
  b: {resource: experts, duration: {dist: fixed, value: 10}}
flow: {start: a, a: b, b: end}
"""


def _week_log(rows: list[tuple]) -> EventLog:
    """rows: (case, resource, start, end) with times as 'Mon 09:00' in the week of 2026-01-05."""
    days = {"Mon": "2026-01-05", "Tue": "2026-01-06"}

    def at(text: str) -> object:
        day, clock = text.split()
        return pd.Timestamp(f"{days[day]} {clock}")

    frame = pd.DataFrame({
        "case": [r[0] for r in rows], "activity": ["a"] * len(rows),
        "resource": pd.Series([r[1] for r in rows], dtype=object),
        "start": pd.to_datetime([at(r[2]) for r in rows]),
        "end": pd.to_datetime([at(r[3]) for r in rows]),
        "enabled": pd.to_datetime([pd.NaT] * len(rows)), "line": list(range(2, len(rows) + 2)),
    })
    return EventLog(frame.sort_values(["case", "start"]).reset_index(drop=True), file="w.csv")


def test_utilisation_against_given_calendars_by_pool_person_and_prefix() -> None:
    log = _week_log([
        ("c1", "ann", "Mon 09:00", "Mon 11:00"),         # 2 h on shift
        ("c2", "ann", "Mon 16:00", "Tue 10:00"),         # 1 h Monday + 1 h Tuesday
        ("c3", "bob", "Mon 11:00", "Mon 13:00"),         # 1 h before 12:00 (early)
        ("c4", "Experts-01", "Tue 08:00", "Tue 10:00"),  # 1 h from 09:00
        ("c5", "clerks", "Mon 10:00", "Mon 14:00"),      # 4 h: ann's or bob's hours
        ("c6", "zed", "Tue 12:00", "Tue 17:00"),         # ends the span: Mon 09:00–Tue 17:00
    ])
    model = procsim.parse_model(HOURS_MODEL)
    k = log_kpis(log, calendars=model, time_unit="hours")
    r, h = k.resources, k.working_hours
    # Open in the span: office 8 h + 8 h; early 3 h (from 09:00) + 5 h.
    assert (h["ann"].match, h["ann"].calendar) == ("person", "office")  # her pool's
    assert r["ann"]["available_time"] == pytest.approx(16.0)
    assert r["ann"]["busy_time_in_working_hours"] == pytest.approx(4.0)
    assert r["ann"]["utilization_of_working_hours"] == pytest.approx(4 / 16)
    assert r["ann"]["utilization"] == pytest.approx(20 / 32)  # clock durations over the span
    assert (h["bob"].match, h["bob"].calendar) == ("person", "early")
    assert r["bob"]["utilization_of_working_hours"] == pytest.approx(1 / 8)
    assert (h["Experts-01"].match, h["Experts-01"].pool) == ("prefix", "experts")
    assert r["Experts-01"]["capacity"] == 1.0  # one of the pool's servers
    assert r["Experts-01"]["utilization_of_working_hours"] == pytest.approx(1 / 16)
    # The pool itself: its members' hours summed (16 + 8), busy time counted while either
    # works (the log does not say who did it).
    assert (h["clerks"].match, r["clerks"]["capacity"]) == ("pool", 2.0)
    assert r["clerks"]["available_time"] == pytest.approx(24.0)
    assert r["clerks"]["utilization_of_working_hours"] == pytest.approx(4 / 24)
    assert r["clerks"]["utilization"] == pytest.approx(4 / (2 * 32))
    # A resource the model does not name: discovered, here from too few starts and ends.
    assert h["zed"].source == "unknown" and h["zed"].events == 2
    assert math.isnan(r["zed"]["utilization_of_working_hours"])
    d = k.to_dict()
    assert d["calendars_from"] == "model 'Shifts'"
    assert d["resources"]["bob"]["working_hours"]["calendar"] == "early"
    assert d["resources"]["zed"]["utilization_of_working_hours"] is None
    text = k.summary()
    assert "working hours: the calendars of model 'Shifts' for 4 of 5 resources" in text
    # Without calendars every one of these has too few starts and ends to discover hours.
    assert {w.source for w in log_kpis(log).working_hours.values()} == {"unknown"}


def _office_days(weeks: int) -> list[tuple]:
    """Seven instances a weekday by ann: starts 09:00 to 15:00, ends on the half hour but the
    last, at 17:00 on the dot: her starts and ends fall in the hours 9 to 16 (an end on the
    hour counts in the hour before)."""
    rows = []
    for day in pd.bdate_range("2026-01-05", periods=5 * weeks):
        for hour in range(9, 16):
            start = day + pd.Timedelta(hours=hour)
            end = start + pd.Timedelta(minutes=120 if hour == 15 else 30)
            rows.append((f"{day:%m%d}-{hour}", "a", "ann", start, end))
    return rows


def test_utilisation_against_discovered_hours_is_exact() -> None:
    rows = _office_days(4)  # 140 instances: 280 starts and ends
    frame = pd.DataFrame(rows, columns=["case", "activity", "resource", "start", "end"])
    frame["enabled"] = pd.NaT
    frame["line"] = range(2, len(frame) + 2)
    k = log_kpis(EventLog(frame.astype({"enabled": "datetime64[ns]"})), time_unit="hours")
    hours = k.working_hours["ann"]
    assert (hours.source, hours.events, hours.text) == ("discovered", 280, "Mon–Fri 09:00–17:00")
    # Busy 6 × 0.5 h + 2 h a day for 20 days; open 8 h a day, the span being Monday 09:00 of
    # the first week to Friday 17:00 of the fourth.
    m = k.resources["ann"]
    assert m["busy_time_in_working_hours"] == pytest.approx(100.0)
    assert m["available_time"] == pytest.approx(20 * 8.0)
    assert m["utilization_of_working_hours"] == pytest.approx(100.0 / 160.0)
    assert m["utilization"] == pytest.approx(100.0 / (3 * 168 + 4 * 24 + 8))
    # Below MIN_CALENDAR_EVENTS the hours are not discovered.
    few = frame.iloc[:119].astype({"enabled": "datetime64[ns]"})
    assert log_kpis(EventLog(few)).working_hours["ann"].source == "unknown"


def test_discovered_hours_are_the_calendar_procsim_discover_writes() -> None:
    from procsim.eventlog.discover import discover

    rows = _office_days(4)
    frame = pd.DataFrame(rows, columns=["case", "activity", "resource", "start", "end"])
    frame["enabled"] = pd.NaT
    frame["line"] = range(2, len(frame) + 2)
    log = EventLog(frame.astype({"enabled": "datetime64[ns]"}))
    model = procsim.parse_model(discover(log))
    (calendar,) = model.calendars.values()
    hours = log_kpis(log).working_hours["ann"]
    assert [(tuple(i.days), i.model_dump()["from"], i.model_dump()["to"])
            for i in calendar.hours] == list(hours.intervals)


def test_cli_calendars_gives_working_hours(tmp_path: Path) -> None:
    log_file = tmp_path / "week.csv"
    log_file.write_text("case_id,activity,resource,start_time,end_time\n"
                        "c1,a,ann,2026-01-05T09:00,2026-01-05T11:00\n"
                        "c2,a,ann,2026-01-05T16:00,2026-01-06T10:00\n"
                        "c3,a,zed,2026-01-06T12:00,2026-01-06T17:00\n")
    model_file = tmp_path / "shifts.yaml"
    model_file.write_text(HOURS_MODEL)
    out = tmp_path / "k.json"
    result = _cli(str(log_file), "--calendars", str(model_file), "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "ann" in result.stdout and "office (given: person ann)" in result.stdout
    assert "names no pool or person for 1 of the log's 2 resources (zed)" in result.stderr
    data = json.loads(out.read_text())
    assert data["calendars_from"] == str(model_file)
    ann = data["resources"]["ann"]
    assert ann["utilization_of_working_hours"] == pytest.approx(4 / 16)
    assert ann["available_time"] == pytest.approx(16 * 60)
    assert ann["working_hours"]["source"] == "given"
    assert data["resources"]["zed"]["working_hours"]["source"] == "unknown"


@pytest.mark.parametrize(("content", "expected"), [
    ("kpis:\n  ct: {of: cycle_time}\n", "expected a procsim model with calendars: and "
     "resources:, got a file without procsim: (OKR files go to --okrs)"),
    ("case_id,activity\n1,a\n", "not a procsim model"),
    (None, "no such file"),
])
def test_cli_calendars_that_are_no_model_exit_2_in_one_line(
        log_file: Path, tmp_path: Path, content: str | None, expected: str) -> None:
    path = tmp_path / "hours.yaml"
    if content is not None:
        path.write_text(content)
    result = _cli(str(log_file), "--calendars", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: --calendars {path}: {expected}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_models_delay_is_found_by_name_or_by_its_description() -> None:
    """With a model, a log activity the model runs as a delay (no resource) is delay time,
    not processing: found by its name, or by the description that holds the log's name."""
    log = _log([
        ("c1", "a", "ann", "09:00", "09:10"),
        ("c1", "Wait for customer", None, "09:10", "10:10"),
        ("c1", "b", "bob", "10:10", "10:20"),
    ])
    model = procsim.parse_model("""
procsim: 1
name: With a delay
arrivals: {interarrival: {dist: exponential, mean: 60}}
resources: {clerk: {capacity: 1}}
activities:
  a: {resource: clerk, duration: {dist: fixed, value: 10}}
  wait_for_customer: {description: Wait for customer, duration: {dist: fixed, value: 60}}
  b: {resource: clerk, duration: {dist: fixed, value: 10}}
flow: {start: a, a: wait_for_customer, wait_for_customer: b, b: end}
""")
    without = log_kpis(log)
    assert without.per_case["processing_time"].tolist() == [80.0]
    k = log_kpis(log, model=model)
    assert k.per_case["processing_time"].tolist() == [20.0]
    assert k.per_case["cycle_time"].tolist() == [80.0]


def test_a_simulated_log_names_the_person_who_did_the_work() -> None:
    """Where a pool names its members, the simulated log's resource is the person (as a real
    log's), and the busy time per person adds up to the pool's."""
    model = procsim.parse_model("""
procsim: 1
name: Named clerks
start: 2026-01-05T08:00
arrivals: {interarrival: {dist: exponential, mean: 5}}
people: {ann: {}, bob: {}}
resources: {clerks: {members: [ann, bob]}, expert: {capacity: 1}}
activities:
  serve: {resource: clerks, duration: {dist: exponential, mean: 8}}
  check: {resource: expert, duration: {dist: exponential, mean: 2}}
flow: {start: serve, serve: check, check: end}
""")
    run = procsim.simulate(model, replications=1, cases=200, seed=5, warmup=0,
                           keep_records=True)
    log = simulated_log(run)
    frame = log.frame
    serve = frame[frame["activity"] == "serve"]
    assert set(serve["resource"]) == {"ann", "bob"}
    assert set(frame.loc[frame["activity"] == "check", "resource"]) == {"expert"}
    work = (serve["end"] - serve["start"]).dt.total_seconds().sum() / 60
    record = run.records[0]
    rows = record.instance_activity == list(model.activities).index("serve")
    assert work == pytest.approx(float((record.instance_end - record.instance_start)[rows].sum()))
