"""Working-time units: ``wd`` (working day) and ``wh`` (working hour) in the working calendar.

A back office open Monday to Friday, 09:00–17:00 (one working day = 8 working hours). One
case arrives every day at noon and waits 49 hours for documents (a delay, so nothing else
moves its end): the working time of each case follows from the calendar by hand.

=================  =====================  ==========================  ============
arrives at 12:00   ends at 13:00 on       working time                within 2wd?
=================  =====================  ==========================  ============
Monday             Wednesday              5 + 8 + 4 = 17 h            no
Tuesday            Thursday               5 + 8 + 4 = 17 h            no
Wednesday          Friday                 5 + 8 + 4 = 17 h            no
Thursday           Saturday               5 + 8 = 13 h                yes
Friday             Sunday                 5 h                         yes
Saturday           Monday                 4 h                         yes
Sunday             Tuesday                8 + 4 = 12 h                yes
=================  =====================  ==========================  ============

70 cases are 10 of each weekday, so the share within 2wd (16 h) is exactly 4/7, within 1wd
(8 h) 2/7, and the mean working cycle time 85/7 h. Read as 24-hour days, ``2d`` would be
48 h and the share exactly 1: the silent answer these units replace.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from procsim import parse_model, simulate
from procsim.calendars import CalendarSpec
from procsim.cli import app
from procsim.compare import compare
from procsim.errors import ModelError
from procsim.model.check import bare_duration_warning
from procsim.model.targets import working_day
from procsim.units import WorkingDuration, parse_duration

OFFICE = """\
procsim: 1
name: Back office
time_unit: TIME_UNIT
start: 2026-01-05T12:00
calendars:
  office: [{days: mon-fri, from: "09:00", to: "17:00"}]
working_calendar: office
run: {cases: 70, warmup: 0, replications: 2, seed: 1}
arrivals: {interarrival: {dist: fixed, value: 1d}}
activities:
  wait_for_documents: {duration: {dist: fixed, value: WAIT}}
flow: {start: wait_for_documents, wait_for_documents: end}
kpis:
  closed_in_2_working_days: {share: working_cycle_time, within: 2wd, target: ">= 50%"}
  closed_in_1_working_day: {share: working_cycle_time, within: 1wd}
  closed_in_6_working_hours: {share: working_cycle_time, within: 6wh}
  open_over_2_working_days: {share: working_cycle_time, over: 2wd}
  closed_in_2_days: {share: working_cycle_time, within: 2d}
  mean_working_time: {of: working_cycle_time, target: "<= 2wd"}
"""


def office(time_unit: str = "minutes", wait: str = "49h", extra: str = "") -> str:
    return OFFICE.replace("TIME_UNIT", time_unit).replace("WAIT", wait) + extra


@pytest.mark.parametrize("time_unit", ["minutes", "hours", "seconds"])
def test_share_within_working_days_matches_the_hand_computation(time_unit: str) -> None:
    model = parse_model(office(time_unit))
    hour = {"minutes": 60.0, "hours": 1.0, "seconds": 3600.0}[time_unit]
    assert model.kpis["closed_in_2_working_days"].within == 16 * hour  # type: ignore[union-attr]
    result = simulate(model)
    assert result.values("closed_in_2_working_days").tolist() == [4 / 7, 4 / 7]
    assert result.values("open_over_2_working_days").tolist() == [3 / 7, 3 / 7]
    assert result.values("closed_in_1_working_day").tolist() == [2 / 7, 2 / 7]
    assert result.values("closed_in_6_working_hours").tolist() == [2 / 7, 2 / 7]  # 5 h, 4 h
    assert result.values("closed_in_2_days").tolist() == [1.0, 1.0]  # 48 h: every case
    hours = sorted({round(float(v) / hour, 9) for v in result.case_values(
        "working_cycle_time")[0]})
    assert hours == [4.0, 5.0, 12.0, 13.0, 17.0]
    assert result.kpi("working_cycle_time").mean == pytest.approx(85 / 7 * hour, rel=1e-12)
    # The same threshold given to RunResult.share as text.
    assert result.share("working_cycle_time", within="2wd").tolist() == [4 / 7, 4 / 7]
    assert result.share("working_cycle_time", within="13wh").tolist() == [4 / 7, 4 / 7]


def test_health_target_and_key_result_in_working_days() -> None:
    # Mean 85/7 h ≈ 12.1 h is within 2wd = 16 h; a 25-hour wait closes every case within it.
    base = parse_model(office(extra=(
        "okrs:\n  - objective: Close in time\n    key_results:\n"
        "      - {kpi: closed_in_2_working_days, to: '>= 50%'}\n"
        "      - {kpi: working_cycle_time, to: '<= 1.5wd'}\n")))
    faster = parse_model(office(wait="25h").replace("Back office", "Faster"))
    result = compare(base, [faster], replications=2)
    assert result.baseline_health["mean_working_time"].status == "met"
    assert result.baseline_health["mean_working_time"].threshold.value == 960.0
    share, time = result.key_results
    assert share.baseline == pytest.approx(4 / 7) and share.reading == "read as ≥ 50%: as written"
    assert time.threshold.value == 720.0 and time.text.endswith("<= 720 min (1.5wd)")
    assert [v.status for v in result.scenarios[0].verdicts] == ["met", "met"]


def test_the_claims_case_in_working_days_is_refused_until_the_direction_is_stated() -> None:
    # The baseline closes 4/7 ≈ 57 % within 2 working days; "to: 50%" is already met.
    text = office(extra=("okrs:\n  - objective: Close in time\n    key_results:\n"
                         "      - {kpi: closed_in_2_working_days, to: 50%}\n"))
    with pytest.raises(ModelError) as err:
        compare(parse_model(text), [parse_model(office(wait="25h").replace("Back office",
                                                                            "Faster"))])
    assert "the baseline (57.14%) already meets 50% read as '≥ 50%'" in str(err.value)


def test_working_day_definition() -> None:
    def spec(*hours: dict[str, str]) -> CalendarSpec:
        return CalendarSpec.model_validate(list(hours))

    office = {"days": "mon-fri", "from": "09:00", "to": "17:00"}
    assert working_day(spec(office), "hours") == 8.0
    assert working_day(spec(office), "minutes") == 480.0
    # Saturday mornings too: 44 working hours on 6 days.
    assert working_day(spec(office, {"days": "sat", "from": "10:00", "to": "14:00"}),
                       "hours") == pytest.approx(44 / 6)
    # A night shift counts on the day it starts; overlapping intervals count once.
    assert working_day(spec({"days": "mon-fri", "from": "22:00", "to": "06:00"}), "hours") == 8.0
    assert working_day(spec(office, {"days": "mon-fri", "from": "12:00", "to": "18:00"}),
                       "hours") == 9.0
    assert working_day(spec({"days": "all", "from": "00:00", "to": "00:00"}), "hours") == 24.0


def test_working_duration_keeps_what_was_written() -> None:
    import pickle

    limit = WorkingDuration.written(2, "wd").resolve(480.0)
    again = pickle.loads(pickle.dumps(limit))
    assert (float(again), again.text, again.resolved) == (960.0, "2wd", True)
    assert not WorkingDuration.written(2, "wd").resolved


def _error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output.replace(str(path), "m.yaml")


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_working_units_without_a_calendar_are_an_error(tmp_path: Path) -> None:
    text = (office().replace("working_calendar: office\n", "")
            .replace('calendars:\n  office: [{days: mon-fri, from: "09:00", to: "17:00"}]\n',
                     ""))
    out = _error(tmp_path, text)
    line = _line(text, "closed_in_2_working_days:")
    assert (f"m.yaml:{line}:" in out and "error: kpis.closed_in_2_working_days.within: got "
            "'2wd', in working days: a working day is measured against the working calendar, "
            "and this model has none" in out)
    assert "kpis.mean_working_time.target: got '2wd', in working days" in out


@pytest.mark.parametrize(("old", "new", "path", "message"), [
    ("{share: working_cycle_time, within: 2d}", "{share: cycle_time, within: 2wd}",
     "kpis.closed_in_2_days.within",
     "got '2wd', in working days: 'cycle_time' is measured in calendar time, and working-time "
     "units (wd, wh) apply only to thresholds and targets of working_cycle_time"),
    ('{of: working_cycle_time, target: "<= 2wd"}', '{of: cycle_time, target: "<= 2wh"}',
     "kpis.mean_working_time.target", "got '2wh', in working hours: 'cycle_time' is measured"),
    ("value: 49h}", "value: 2wd}", "activities.wait_for_documents.duration.value",
     "got '2wd' in working days: working-time units (wd, wh) apply only to thresholds and "
     "targets of working_cycle_time"),
    ("{share: working_cycle_time, within: 2d}", "{share: cost_per_case, within: 2wd}",
     "kpis.closed_in_2_days", "expected a number (an amount of money)"),
])
def test_working_units_where_they_do_not_apply(tmp_path: Path, old: str, new: str, path: str,
                                               message: str) -> None:
    text = office().replace(old, new)
    assert text != office()
    out = _error(tmp_path, text)
    assert f"m.yaml:{_line(text, new)}:" in out
    assert f"error: {path}: " in out and message in out


def test_key_result_in_working_days_on_a_calendar_time_kpi(tmp_path: Path) -> None:
    text = office(extra=("okrs:\n  - objective: X\n    key_results:\n"
                         "      - {kpi: cycle_time, to: 2wd}\n"))
    out = _error(tmp_path, text)
    assert f"m.yaml:{_line(text, 'to: 2wd')}:" in out
    assert "okrs[0].key_results[0].to: got '2wd', in working days: 'cycle_time'" in out


def test_parse_duration_refuses_working_units() -> None:
    with pytest.raises(ValueError, match="in working hours: working-time units"):
        parse_duration("3wh", "minutes")


BARE = """\
procsim: 1
name: Hours
time_unit: hours
arrivals: {interarrival: {dist: exponential, mean: 0.5}}
resources: {clerk: {capacity: 1}}
activities:
  check: {resource: clerk, duration: {dist: exponential, mean: 15min}}
  file: {resource: clerk, duration: {dist: triangular, min: 0.05, mode: 0.1, max: 0.2}}
flow: {start: check, check: file, file: end}
"""


def test_validate_warns_once_about_bare_durations(tmp_path: Path) -> None:
    path = tmp_path / "hours.yaml"
    path.write_text(BARE)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0
    warnings = [line for line in result.output.splitlines() if ": warning: " in line]
    assert warnings == [
        f"{path}:4:52: warning: arrivals.interarrival.mean: 4 durations are bare numbers, read "
        "in hours (time_unit: hours): this one, 0.5, is 0.5 h; write durations with their "
        "unit ('90s', '30min', '2h', '1.5d') so that none is misread"]


def test_no_warning_with_units_or_in_minutes() -> None:
    with_units = (BARE.replace("mean: 0.5}", "mean: 30min}")
                  .replace("min: 0.05, mode: 0.1, max: 0.2", "min: 3min, mode: 6min, max: 12min"))
    assert bare_duration_warning(parse_model(with_units)) is None
    assert bare_duration_warning(parse_model(BARE.replace("time_unit: hours",
                                                          "time_unit: minutes"))) is None
    # Shapes and probabilities are not durations; nor is a warm-up counted in cases.
    model = parse_model(with_units.replace("name: Hours", "name: Hours\nrun: {warmup: 100}"))
    assert bare_duration_warning(model) is None
    okr = parse_model(with_units + "okrs:\n  - objective: X\n    key_results:\n"
                      "      - {kpi: cycle_time, to: 0.25}\n")
    warning = bare_duration_warning(okr)
    assert warning is not None and warning.path == "okrs[0].key_results[0].to"
    assert warning.message.startswith("a duration is a bare number, read in hours")
