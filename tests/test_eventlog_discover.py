"""Model discovery from an event log (``procsim discover``): a simulated log gives back the
model that wrote it, within sampling error; real logs give models that parse and run; the
command-line contract."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("scipy")

import procsim  # noqa: E402
from procsim.eventlog import read_log  # noqa: E402
from procsim.eventlog.discover import (  # noqa: E402
    arrival_profile,
    discover,
    fit_duration,
    queue_wait,
)
from procsim.eventlog.simulated import simulated_log  # noqa: E402

DATA = Path(__file__).parent / "data" / "eventlogs"
CASES = 2000

# Known probabilities and durations; `wait_customer` has no pool (a delay), `triage` and
# `check` share the clerk pool, `check` loops back to `fix`.
MODEL = """
procsim: 1
name: Known process
start: 2026-01-05T08:00
time_unit: minutes
arrivals: {interarrival: {dist: exponential, mean: 10}}
resources: {clerk: {capacity: 1}, expert: {capacity: 1}}
activities:
  triage: {resource: clerk, duration: {dist: gamma, mean: 3, sd: 1.5}}
  fix: {resource: expert, duration: {dist: lognormal, mean: 5, sd: 2}}
  check: {resource: clerk, duration: {dist: fixed, value: 1}}
  wait_customer: {duration: {dist: exponential, mean: 30}}
flow:
  start: triage
  triage: {fix: 0.7, wait_customer: 0.3}
  wait_customer: fix
  fix: check
  check: {end: 0.8, fix: 0.2}
"""


@pytest.fixture(scope="module")
def known() -> tuple[object, object, str]:
    result = procsim.simulate(procsim.parse_model(MODEL), replications=1, cases=CASES,
                              seed=13, warmup=0, keep_records=True)
    log = simulated_log(result, 0)
    return result, log, discover(log)


def _within(value: float, truth: float, standard_error: float) -> None:
    # 4 standard errors: a false alarm has probability about 6e-5.
    assert abs(value - truth) <= 4 * standard_error, (value, truth, standard_error)


def test_discovered_model_recovers_the_branch_probabilities(known: tuple) -> None:
    _, log, text = known
    model = procsim.parse_model(text)
    flow = model.flow
    assert flow["start"] == "triage" and flow["wait_customer"] == "fix"
    assert flow["fix"] == "check"
    # triage → fix: one binomial trial per case.
    _within(flow["triage"]["fix"], 0.7, math.sqrt(0.7 * 0.3 / CASES))
    # check → end: one trial per visit of check (about CASES / 0.8 of them).
    visits = int((log.frame["activity"] == "check").sum())
    _within(flow["check"]["end"], 0.8, math.sqrt(0.8 * 0.2 / visits))
    assert sum(flow["check"].values()) == pytest.approx(1.0, abs=1e-9)


def test_discovered_model_recovers_arrivals_and_durations(known: tuple) -> None:
    _, log, text = known
    model = procsim.parse_model(text)
    assert model.time_unit == "minutes"
    assert str(model.start).startswith("2026-01-05")
    # Mean of CASES - 1 exponential gaps of mean 10: standard error 10 / sqrt(n).
    _within(model.arrivals.interarrival.mean, 10.0, 10.0 / math.sqrt(CASES - 1))
    counts = log.frame["activity"].value_counts()
    for name, mean, sd in (("triage", 3.0, 1.5), ("fix", 5.0, 2.0),
                           ("wait_customer", 30.0, 30.0)):
        _within(model.activities[name].duration.mean, mean, sd / math.sqrt(counts[name]))
    check = model.activities["check"].duration
    assert check.dist == "fixed" and check.value == pytest.approx(1.0, abs=1e-6)
    # Every number says where it came from.
    assert f"# {counts['fix']} observations" in text
    assert f"mean of {CASES - 1} gaps" in text


def test_discovered_pools_and_delays(known: tuple) -> None:
    _, _, text = known
    model = procsim.parse_model(text)
    activities = model.activities
    assert activities["wait_customer"].resource is None  # no resource in the log: a delay
    assert activities["triage"].resource == activities["check"].resource == "clerk"
    assert activities["fix"].resource == "expert"
    assert {name: r.capacity for name, r in model.resources.items()} == {"clerk": 1,
                                                                          "expert": 1}
    assert text.count("# PLACEHOLDER: cost_per_hour") == 2


def test_discovered_model_runs_and_matches_the_cycle_time(known: tuple) -> None:
    result, _, text = known
    rerun = procsim.simulate(procsim.parse_model(text), replications=3, cases=1000,
                             warmup=0, seed=1)
    truth = result.kpi("cycle_time").mean
    # A loose check that the parts fit together (queues are the same M/G/1 ones).
    assert rerun.kpi("cycle_time").mean == pytest.approx(truth, rel=0.25)


@pytest.mark.parametrize("name", ["LoanApp_simplified_train.csv.gz",
                                  "PurchasingExample.csv.gz"])
@pytest.mark.parametrize("min_frequency", [0.0, 0.05])
def test_real_logs_give_models_that_parse_and_run(name: str, min_frequency: float) -> None:
    log = read_log(DATA / name)
    text = discover(log, min_frequency=min_frequency)
    model = procsim.parse_model(text)
    assert model.start is not None
    result = procsim.simulate(model, replications=2, cases=300, warmup=0, seed=2)
    assert result.kpi("cycle_time").mean > 0


def test_min_frequency_drops_rare_transitions_and_renormalises() -> None:
    log = read_log(DATA / "PurchasingExample.csv.gz")
    full = procsim.parse_model(discover(log)).flow
    pruned_text = discover(log, min_frequency=0.05)
    pruned = procsim.parse_model(pruned_text).flow
    edges = sum(len(t) if isinstance(t, dict) else 1 for t in full.values())
    kept = sum(len(t) if isinstance(t, dict) else 1 for t in pruned.values())
    assert kept < edges
    for targets in pruned.values():
        if isinstance(targets, dict):
            assert sum(targets.values()) == pytest.approx(1.0, abs=1e-9)
            assert min(targets.values()) >= 0.05 - 1e-6
    # Dropping every transition but each node's most frequent one still gives a valid model.
    procsim.parse_model(discover(log, min_frequency=0.99))


def test_min_frequency_out_of_range_is_refused(known: tuple) -> None:
    _, log, _ = known
    for bad in (-0.1, 1.0, float("nan")):
        with pytest.raises(ValueError, match="min_frequency"):
            discover(log, min_frequency=bad)


@pytest.mark.parametrize(("family", "draw"), [
    ("exponential", lambda rng: rng.exponential(4.0, 3000)),
    ("lognormal", lambda rng: rng.lognormal(1.0, 1.0, 3000)),
    ("gamma", lambda rng: rng.gamma(9.0, 0.5, 3000)),
    ("normal", lambda rng: np.abs(rng.normal(20.0, 2.0, 3000))),
])
def test_fit_duration_chooses_the_family_by_aic(family: str, draw: object) -> None:
    values = draw(np.random.default_rng(5))  # type: ignore[operator]
    fit = fit_duration(values)
    if family == "exponential" and fit.dist == "gamma":
        # Gamma nests the exponential (shape 1): AIC picks it for exponential data with
        # probability P(chi2_1 > 2) = 16 %, with an sd close to the mean.
        assert fit.params["sd"] == pytest.approx(fit.mean, rel=0.1)
    else:
        assert fit.dist == family
    assert fit.observations == 3000 and fit.aic is not None
    _within(fit.mean, float(np.mean(values)), float(np.std(values)) / math.sqrt(3000))


def test_fit_duration_fixed_and_zero_durations() -> None:
    assert fit_duration([2.0]).dist == "fixed"
    assert fit_duration([0.0, 0.0]).params == {"value": 0.0}
    # Zeros rule out lognormal and gamma, whose densities vanish at 0.
    assert fit_duration([0.0, 1.0, 2.0, 0.5, 3.0]).dist in ("exponential", "normal")


def test_names_are_made_valid_and_unique() -> None:
    frame = pd.DataFrame({
        "case": ["1", "1", "1", "2"],
        "activity": ["Start", "yes", "Check-in (desk)", "Check in desk"],
        "resource": pd.Series(["Ann", "SYSTEM", pd.NA, "Bob"], dtype=object),
        "start": pd.to_datetime(["2026-01-05 09:00", "2026-01-05 09:10", "2026-01-05 09:20",
                                 "2026-01-05 10:00"]),
        "end": pd.to_datetime(["2026-01-05 09:05", "2026-01-05 09:15", "2026-01-05 09:30",
                               "2026-01-05 10:07"]),
        "enabled": pd.to_datetime([pd.NaT] * 4),
        "line": [2, 3, 4, 5],
    })
    from procsim.eventlog import EventLog

    model = procsim.parse_model(discover(EventLog(frame)))
    assert set(model.activities) == {"start_activity", "yes_activity", "check-in_desk",
                                     "check_in_desk"}
    assert model.activities["yes_activity"].resource is None  # SYSTEM: a delay
    assert model.activities["check-in_desk"].resource is None  # missing: a delay
    assert model.activities["start_activity"].description == "Start"



def _frame(rows: list[tuple[str, str, str, str, str]]) -> object:
    """An EventLog from (case, activity, resource, start, end) rows, without enabled times."""
    from procsim.eventlog import EventLog

    frame = pd.DataFrame(rows, columns=["case", "activity", "resource", "start", "end"])
    frame["start"] = pd.to_datetime(frame["start"])
    frame["end"] = pd.to_datetime(frame["end"])
    frame["enabled"] = pd.to_datetime(pd.Series([pd.NaT] * len(frame)))
    frame["line"] = np.arange(2, len(frame) + 2)
    return EventLog(frame[["case", "activity", "resource", "start", "end", "enabled", "line"]])


def test_queue_wait_matches_queueing_theory() -> None:
    # M/M/1: rho / (mu - lambda); M/D/1: half of it (Pollaczek-Khinchine).
    assert queue_wait(0.8, 1.0, 1.0, 1) == pytest.approx(0.8 / 0.2)
    assert queue_wait(0.8, 1.0, 0.0, 1) == pytest.approx(0.8 / 0.2 / 2)
    # M/M/2 at lambda = 1, mu = 1: Erlang C = 1/3, Wq = C / (c mu - lambda) = 1/3.
    assert queue_wait(1.0, 1.0, 1.0, 2) == pytest.approx(1 / 3)
    assert queue_wait(2.0, 1.0, 1.0, 2) == math.inf
    assert queue_wait(0.0, 1.0, 1.0, 1) == 0.0


def test_an_overnight_wait_becomes_a_delay() -> None:
    # Every case: `a` 16:00-16:30 by Ann, then `b` the next morning 09:00-09:20 by Bob.
    # Ann and Bob are idle almost all the time: no queue explains the 16.5 h between them.
    rows = []
    for day in pd.date_range("2026-01-05", periods=60, freq="D"):
        d, n = day.strftime("%Y-%m-%d"), (day + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
        case = f"c{d}"
        rows.append((case, "a", "Ann", f"{d} 16:00", f"{d} 16:30"))
        rows.append((case, "b", "Bob", f"{n} 09:00", f"{n} 09:20"))
    text = discover(_frame(rows))
    model = procsim.parse_model(text)
    assert model.flow["start"] == "a"
    assert model.flow["a"] == "wait_before_b" and model.flow["wait_before_b"] == "b"
    wait = model.activities["wait_before_b"]
    assert wait.resource is None  # a pure delay
    assert wait.duration.dist == "histogram"
    assert wait.duration.mean == pytest.approx(16.5 * 60, rel=1e-3)
    assert "waiting the log does not explain" in text
    assert "60 observations of the wait" in text
    # The waits before `a` (from the case's arrival) and after a short queue are not delays.
    assert [name for name in model.activities if name.startswith("wait")] == ["wait_before_b"]
    # The model now reproduces the cycle time: 30 min + 16.5 h + 20 min.
    result = procsim.simulate(model, replications=2, cases=200, warmup=0, seed=3)
    assert result.kpi("cycle_time").mean == pytest.approx(17.0 * 60 + 20, rel=0.02)


def test_queueing_waits_are_not_delays(known: tuple) -> None:
    # The known model's waits are all queueing (its only delay is in the log).
    _, _, text = known
    assert not [n for n in procsim.parse_model(text).activities if n.startswith("wait_before")]
    assert "interarrival:" in text and "rate:" not in text  # flat arrivals stay flat
    assert "calendars:" not in text  # pools that work around the clock get no calendar


def test_office_hours_become_a_calendar_and_durations_working_time() -> None:
    # Ann works Mon-Fri 09:00-17:00: each task takes 30 working minutes, and one started at
    # 16:45 ends at 09:15 on the next working day.
    rows = []
    days = [d for d in pd.date_range("2026-01-05", periods=84, freq="D") if d.weekday() < 5]
    for i, day in enumerate(days[:-1]):
        for hour in range(9, 17):
            start = day + pd.Timedelta(hours=hour, minutes=45)
            end = (days[i + 1] + pd.Timedelta(hours=9, minutes=15) if hour == 16
                   else start + pd.Timedelta(minutes=30))
            rows.append((f"c{i}-{hour}", "task", "Ann", str(start), str(end)))
    text = discover(_frame(rows))
    model = procsim.parse_model(text)
    pool = model.activities["task"].resource
    assert pool is not None
    spec = model.resources[pool]
    assert spec.calendar == f"{pool}_hours" and spec.preempt is True
    assert '{days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}' in text
    duration = model.activities["task"].duration
    assert duration.dist == "fixed" and duration.value == pytest.approx(30.0)
    assert not [n for n in model.activities if n.startswith("wait_before")]


def test_a_wait_in_working_hours_becomes_a_delay_on_the_pools_calendar() -> None:
    # Ann and Bob work Mon-Fri 09:00-17:00. Each case: `a` by Ann, then `b` by Bob exactly
    # 2 working hours after `a` ends (a customer who answers in office hours): overnight
    # when `a` ends after 15:00. Bob is idle otherwise, so no queue explains the wait.
    rows = []
    days = [d for d in pd.date_range("2026-01-05", periods=90, freq="D") if d.weekday() < 5]
    for i, day in enumerate(days[:-1]):
        for hour in range(9, 17):
            a_start = day + pd.Timedelta(hours=hour)
            a_end = a_start + pd.Timedelta(minutes=30)
            if hour < 14:
                b_start = a_end + pd.Timedelta(hours=2)
            else:   # e.g. from 15:30: 1.5 h today, then 09:30 tomorrow
                left = pd.Timedelta(hours=17) - (a_end - day)
                b_start = days[i + 1] + pd.Timedelta(hours=9) + pd.Timedelta(hours=2) - left
            case = f"c{i}-{hour}"
            rows.append((case, "a", "Ann", str(a_start), str(a_end)))
            rows.append((case, "b", "Bob", str(b_start), str(b_start + pd.Timedelta(minutes=30))))
    log = _frame(rows)
    text = discover(log)
    model = procsim.parse_model(text)
    wait = model.activities["wait_before_b"]
    bob = model.activities["b"].resource
    assert bob is not None and wait.calendar == model.resources[bob].calendar is not None
    # 120 working minutes (the histogram spreads the equal waits over its last bin: 2 %).
    assert wait.duration.mean == pytest.approx(120.0, rel=0.02)
    # Simulated, the delay elapses in Bob's working time: its instances last its mean in
    # working time, and longer in calendar time (those that cross a night or a weekend).
    run = procsim.simulate(model, replications=1, cases=400, warmup=0, seed=4,
                           keep_records=True)
    record = run.records[0]
    plan_index = list(model.activities).index("wait_before_b")
    rows_ = record.instance_activity == plan_index
    starts, ends = record.instance_start[rows_], record.instance_end[rows_]
    calendar = model.calendar(wait.calendar)
    working = [calendar.working_time(a, b) for a, b in zip(starts, ends, strict=True)]
    assert np.mean(working) == pytest.approx(wait.duration.mean, rel=0.1)
    assert np.mean(ends - starts) > 1.5 * np.mean(working)


def test_a_day_and_night_arrival_pattern_gives_a_profile() -> None:
    # Poisson arrivals, 6 per hour 09:00-17:00 on weekdays, 0.5 per hour otherwise, 8 weeks.
    rng = np.random.default_rng(11)
    t0 = pd.Timestamp("2026-01-05")  # a Monday
    truth = np.full((7, 24), 0.5)
    truth[:5, 9:17] = 6.0
    weeks = 8
    times = []
    for hour in range(weeks * 7 * 24):
        day, h = divmod(hour, 24)
        count = rng.poisson(truth[day % 7, h])
        times += [t0 + pd.Timedelta(hours=hour + u) for u in np.sort(rng.random(count))]
    rows = [(f"c{i}", "serve", "Ann", str(t), str(t + pd.Timedelta(minutes=1)))
            for i, t in enumerate(times)]
    log = _frame(rows)
    profile = arrival_profile(pd.Series(times))
    assert profile is not None and profile.p_value < 1e-3
    assert int(profile.counts.sum()) == len(times)
    # Each slot's rate: count / hours, a Poisson mean over `hours` hours (7 or 8: the observed
    # period runs from the first arrival's hour to the last's).
    assert set(np.unique(profile.hours)) <= {7.0, 8.0}
    z = np.abs(profile.rates - truth) / np.sqrt(truth / profile.hours)
    assert np.all(z <= 4), float(np.max(z))
    model = procsim.parse_model(discover(log))
    rates = model.arrivals.rate
    assert model.arrivals.interarrival is None and rates is not None and rates.per == "hour"
    assert len(rates.days) == 7
    for d, day in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun")):
        assert np.allclose(rates.days[day], profile.rates[d], rtol=1e-3)


def test_flat_arrivals_give_no_profile() -> None:
    rng = np.random.default_rng(2)
    times = pd.Timestamp("2026-01-05") + pd.to_timedelta(np.cumsum(rng.exponential(600, 3000)),
                                                          unit="s")
    assert arrival_profile(pd.Series(times)) is None


# --- command line ---------------------------------------------------------------------------


def _cli(*args: str) -> object:
    from typer.testing import CliRunner

    from procsim.cli import app

    return CliRunner().invoke(app, ["discover", *args])


def test_cli_writes_a_model_and_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "model.yaml"
    log = str(DATA / "LoanApp_simplified_train.csv.gz")
    result = _cli(log, "-o", str(out), "--min-frequency", "0.05")
    assert result.exit_code == 0, result.output
    model = procsim.load_model(out)
    assert "check_credit_history" in model.activities
    before = out.read_text()
    result = _cli(log, "-o", str(out))
    assert result.exit_code == 2 and "--force" in result.output
    assert out.read_text() == before
    assert _cli(log, "-o", str(out), "--force").exit_code == 0


def test_cli_column_overrides(tmp_path: Path) -> None:
    csv = tmp_path / "log.csv"
    csv.write_text("ticket,step,who,began,finished\n"
                   "1,a,Ann,2026-01-05 09:00,2026-01-05 09:05\n"
                   "1,b,Bob,2026-01-05 09:06,2026-01-05 09:09\n"
                   "2,a,Ann,2026-01-05 09:30,2026-01-05 09:34\n")
    out = tmp_path / "m.yaml"
    result = _cli(str(csv), "-o", str(out), "--case", "ticket", "--activity", "step",
                  "--resource", "who", "--start", "began", "--end", "finished")
    assert result.exit_code == 0, result.output
    assert set(procsim.load_model(out).activities) == {"a", "b"}


def test_cli_bad_input_exits_2_without_a_traceback(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    log = str(DATA / "PurchasingExample.csv.gz")
    out = str(tmp_path / "m.yaml")
    for args in ([str(empty), "-o", out], [str(tmp_path / "missing.csv"), "-o", out],
                 [log, "-o", out, "--min-frequency", "1.5"],
                 [log, "-o", str(tmp_path / "no" / "m.yaml")],
                 [log, "-o", log],
                 [log]):
        result = _cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit)
    assert not Path(out).exists()


PARALLEL = """
procsim: 1
name: Parallel checks
start: 2026-01-05T08:00
time_unit: minutes
arrivals: {interarrival: {dist: exponential, mean: 20}}
resources: {clerk: {capacity: 1}, analyst: {capacity: 1}, auditor: {capacity: 1}}
gateways: {checks: {type: parallel}, checks_done: {type: parallel}}
activities:
  register: {resource: clerk, duration: {dist: gamma, mean: 4, sd: 2}}
  credit: {resource: analyst, duration: {dist: exponential, mean: 8}}
  fraud: {resource: auditor, duration: {dist: exponential, mean: 6}}
  decide: {resource: clerk, duration: {dist: gamma, mean: 5, sd: 2}}
  rework: {resource: clerk, duration: {dist: exponential, mean: 3}}
flow:
  start: register
  register: checks
  checks: [credit, fraud]
  credit: checks_done
  fraud: checks_done
  checks_done: decide
  decide: {end: 0.7, rework: 0.3}
  rework: end
"""


def test_activities_that_always_overlap_become_parallel_branches() -> None:
    """A parallel split is discovered as one (branches in either order, overlapping), and
    the discovered model reproduces the activity sequences as well as the true model."""
    from procsim.eventlog import EventLog
    from procsim.eventlog.fidelity import backtest_model

    truth = procsim.parse_model(PARALLEL)

    def log_of(seed: int) -> EventLog:
        return simulated_log(procsim.simulate(truth, replications=1, cases=1500, seed=seed,
                                              warmup=0, keep_records=True))

    train = log_of(5)
    text = discover(train)
    model = procsim.parse_model(text)
    splits = {name for name, g in model.gateways.items() if g.type == "parallel"
              and isinstance(model.flow[name], list)}
    assert len(splits) == 1
    (split,) = splits
    assert sorted(model.flow[split]) == ["credit", "fraud"]
    join = model.flow["credit"]
    assert model.flow["fraud"] == join and model.gateways[join].type == "parallel"
    # The join has one successor here: decide (through its waiting delay, if any).
    assert model.flow[join] in ("decide", "wait_before_decide")
    assert model.flow["register"] == split
    fresh = log_of(6)
    own = backtest_model(truth, fresh, replications=4, seed=2).distances["n_gram"]
    found = backtest_model(model, fresh, replications=4, seed=2).distances["n_gram"]
    assert found.mean <= own.mean + 2 * (own.half_width + found.half_width)


def test_overlaps_that_are_not_always_the_same_set_run_in_sequence() -> None:
    """`b` overlaps `a` in some cases only: no parallel block (the model could not take `b`
    both inside and outside it); both stay in the flow, in sequence."""
    rows = []
    for case in range(40):
        t0 = pd.Timestamp("2026-01-05 09:00") + pd.Timedelta(hours=case)
        a_end = t0 + pd.Timedelta(minutes=10)
        b_start = t0 + pd.Timedelta(minutes=5 if case % 2 else 15)
        rows += [(f"c{case}", "a", "x", t0, a_end),
                 (f"c{case}", "b", "y", b_start, b_start + pd.Timedelta(minutes=10))]
    frame = pd.DataFrame(rows, columns=["case", "activity", "resource", "start", "end"])
    frame = frame.assign(enabled=pd.NaT, line=range(2, len(frame) + 2))
    frame["enabled"] = frame["enabled"].astype(frame["start"].dtype)
    from procsim.eventlog import EventLog

    model = procsim.parse_model(discover(EventLog(frame)))
    assert not model.gateways
    assert model.flow["start"] == "a" and model.flow["a"] == "b" and model.flow["b"] == "end"


def test_people_shared_by_pools_with_their_own_hours_and_durations() -> None:
    """Ann does `a` and `b`, Bob only `a` (three times as slowly as Ann), Carl only `b`: two
    pools that share Ann as one member, Bob's own durations of `a`; Carl, who works only
    mornings, his own hours; the pools' other people keep theirs."""
    rows = []
    rng = np.random.default_rng(3)
    days = [d for d in pd.date_range("2026-01-05", periods=120, freq="D") if d.weekday() < 5]
    for i, day in enumerate(days):
        for hour in range(9, 17):
            case = f"c{i}-{hour}"
            t = day + pd.Timedelta(hours=hour)
            who_a = "Ann" if hour % 2 else "Bob"
            minutes = rng.exponential(6.0) * (3.0 if who_a == "Bob" else 1.0)
            end_a = t + pd.Timedelta(seconds=max(1, round(minutes * 60)))
            rows.append((case, "a", who_a, str(t), str(end_a)))
            who_b = "Carl" if hour < 13 else "Ann"
            start_b = end_a + pd.Timedelta(minutes=1)
            end_b = start_b + pd.Timedelta(seconds=max(1, round(rng.exponential(4.0) * 60)))
            rows.append((case, "b", who_b, str(start_b), str(end_b)))
    text = discover(_frame(rows))
    model = procsim.parse_model(text)
    pool_a, pool_b = model.activities["a"].resource, model.activities["b"].resource
    assert pool_a != pool_b
    assert set(model.resources[pool_a].members or ()) == {"ann", "bob"}
    assert set(model.resources[pool_b].members or ()) == {"ann", "carl"}
    assert model.resources[pool_a].capacity == 2    # Ann counts once in each, one server
    # Bob three times as slow as Ann: each far from the mean of both, each their own.
    durations = model.activities["a"].durations or {}
    assert set(durations) == {"ann", "bob"}

    def mean_of(person: str) -> float:
        return float(np.mean([(pd.Timestamp(e) - pd.Timestamp(s)).total_seconds() / 60
                              for _, a, r, s, e in rows if a == "a" and r == person]))

    assert durations["bob"].mean == pytest.approx(mean_of("Bob"), rel=0.05)
    assert durations["ann"].mean == pytest.approx(mean_of("Ann"), rel=0.05)
    assert mean_of("Bob") == pytest.approx(3 * mean_of("Ann"), rel=0.2)
    assert not model.activities["b"].durations      # Ann and Carl alike on `b`
    # Carl does `b` for cases from 09:00 to 12:00 only: his own hours, the mornings (his
    # last ends fall before 14:00), where the pool he shares with Ann works until 18:00.
    carl = model.people["carl"].calendar
    assert carl is not None and carl != model.resources[pool_b].calendar
    block = text[text.index(f"  {carl}:"):]
    assert block.splitlines()[1].strip() == \
        '- {days: [mon, tue, wed, thu, fri], from: "09:00", to: "14:00"}'
    calendar_b = text[text.index(f"  {model.resources[pool_b].calendar}:"):]
    assert 'from: "09:00", to: "18:00"' in calendar_b.splitlines()[1]
    # It runs, with Ann shared: the general engine takes members.
    result = procsim.simulate(model, replications=1, cases=200, warmup=0, seed=1)
    assert result.kpi("cycle_time").mean > 0
