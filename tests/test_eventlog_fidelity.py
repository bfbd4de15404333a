"""Back-testing: distances between a log and simulated logs, and KPIs side by side."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("log_distance_measures")

import procsim  # noqa: E402
from procsim.eventlog import EventLog  # noqa: E402
from procsim.eventlog.fidelity import (  # noqa: E402
    DEFAULT_MEASURES,
    backtest,
    backtest_distances,
    compare_kpis,
    distances,
    prediction_interval,
)
from procsim.eventlog.simulated import simulated_log  # noqa: E402

MODEL = """
procsim: 1
name: Two steps
time_unit: hours
start: 2026-01-05T08:00
arrivals: {{interarrival: {{dist: exponential, mean: 1}}}}
resources: {{clerk: {{capacity: 3}}, expert: {{capacity: 2}}}}
activities:
  check: {{resource: clerk, duration: {{dist: gamma, mean: {check}, sd: 0.5}}}}
  decide: {{resource: expert, duration: {{dist: gamma, mean: 1.0, sd: 0.5}}}}
  rework: {{resource: clerk, duration: {{dist: exponential, mean: 0.5}}}}
flow: {{start: check, check: {{decide: 0.8, rework: 0.2}}, rework: decide, decide: end}}
"""

CASES = 300


def model(check: float = 1.0) -> procsim.Model:
    return procsim.parse_model(MODEL.format(check=check))


def logs(m: procsim.Model, seed: int, replications: int = 3) -> list[EventLog]:
    result = procsim.simulate(m, replications=replications, warmup=0, cases=CASES, seed=seed,
                              keep_records=True)
    return [simulated_log(result, r) for r in range(replications)]


@pytest.fixture(scope="module")
def real() -> EventLog:
    return logs(model(), seed=101, replications=1)[0]


@pytest.fixture(scope="module")
def right(real: EventLog) -> list[EventLog]:
    return logs(model(), seed=7, replications=5)


@pytest.fixture(scope="module")
def wrong(real: EventLog) -> list[EventLog]:
    return logs(model(check=2.0), seed=7, replications=5)


def test_distances_of_a_log_with_itself_are_zero(real: EventLog) -> None:
    d = distances(real, real)
    assert list(d) == list(DEFAULT_MEASURES)
    assert all(v == 0 for v in d.values()), d


def test_same_model_is_close_and_a_wrong_duration_is_far(
        real: EventLog, right: list[EventLog], wrong: list[EventLog]) -> None:
    good = backtest_distances(real, right[:3])
    bad = backtest_distances(real, wrong[:3])
    assert good["n_gram"].mean < 0.05
    assert bad["cycle_time"].mean > 2 * good["cycle_time"].mean
    assert bad["cycle_time"].ci[0] > good["cycle_time"].ci[1]
    assert bad["relative_event"].mean > good["relative_event"].mean
    # The duration changes no path: the control-flow distance is as small for both.
    assert bad["n_gram"].mean < 0.05


def test_kpis_side_by_side_flag_the_wrong_model(
        real: EventLog, right: list[EventLog], wrong: list[EventLog]) -> None:
    # Five replications: with three, t(2) = 4.3 makes every prediction interval wide.
    good = compare_kpis(real, right)
    bad = compare_kpis(real, wrong)
    assert set(good) == {"cycle_time.mean", "cycle_time.p90", "waiting_time.mean",
                         "processing_time.mean"}
    assert good["cycle_time.mean"].inside and good["processing_time.mean"].inside
    assert not bad["cycle_time.mean"].inside
    assert not bad["processing_time.mean"].inside
    assert bad["processing_time.mean"].simulated.mean > good["processing_time.mean"].log + 0.5


def test_distances_match_the_package_on_its_own_column_names(
        real: EventLog, right: list[EventLog]) -> None:
    from log_distance_measures.config import DEFAULT_CSV_IDS
    from log_distance_measures.n_gram_distribution import n_gram_distribution_distance

    def csv(log: EventLog) -> object:
        f = log.frame
        return pd.DataFrame({"case_id": f["case"], "Activity": f["activity"],
                             "start_time": f["start"], "end_time": f["end"],
                             "Resource": f["resource"]})

    expected = n_gram_distribution_distance(csv(real), DEFAULT_CSV_IDS, csv(right[0]),
                                            DEFAULT_CSV_IDS, n=3)
    assert distances(real, right[0], measures=["n_gram"]) == {"n_gram": expected}
    assert distances(real, right[0], measures=["n_gram"], reference=True) == {
        "n_gram": expected}


def test_time_zones_are_aligned(real: EventLog) -> None:
    frame = real.frame.copy()
    for column in ("start", "end", "enabled"):
        frame[column] = frame[column].dt.tz_localize("Europe/Amsterdam")
    aware = EventLog(frame, time_zone="Europe/Amsterdam")
    utc = frame.copy()
    for column in ("start", "end", "enabled"):
        utc[column] = utc[column].dt.tz_convert("UTC")
    assert all(v == 0 for v in distances(aware, EventLog(utc, time_zone="UTC")).values())
    assert all(v == 0 for v in distances(aware, real).values())


def test_prediction_interval_is_wider_than_the_confidence_interval() -> None:
    values = [9.0, 10.0, 11.0, 10.5]
    lo, hi = prediction_interval(values)
    e = procsim.stats.estimate(values)
    assert lo < e.ci[0] and hi > e.ci[1]
    assert math.isclose((hi - lo) / (e.ci[1] - e.ci[0]), math.sqrt(1 + len(values)))
    assert all(math.isnan(x) for x in prediction_interval([1.0]))


def test_backtest_result_summary_and_json(real: EventLog, right: list[EventLog]) -> None:
    import json

    result = backtest(real, right[:2], measures=["n_gram", "cycle_time"])
    d = result.to_dict()
    json.dumps(d)
    assert set(d["distances"]) == {"n_gram", "cycle_time"}
    assert d["kpis"]["cycle_time.mean"]["inside"] in (True, False)
    assert "cycle_time.mean" in result.summary()


def test_bad_input() -> None:
    empty = EventLog(pd.DataFrame({c: [] for c in ("case", "activity", "resource", "start",
                                                   "end", "enabled", "line")}))
    with pytest.raises(ValueError, match="no activity instances"):
        distances(empty, empty)
    with pytest.raises(ValueError, match="unknown distance measure"):
        distances(empty, empty, measures=["ngram"])
    with pytest.raises(ValueError, match="at least one"):
        backtest_distances(empty, [])


def test_missing_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch,
                                             real: EventLog) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "log_distance_measures", None)
    with pytest.raises(ImportError, match=r"procsim\[fidelity\]"):
        distances(real, real, reference=True)
    # The default implementation does not need the package.
    assert distances(real, real, measures=["n_gram"]) == {"n_gram": 0.0}


def test_cli_backtest(tmp_path: Path, real: EventLog) -> None:
    import json

    from typer.testing import CliRunner

    from procsim.cli import app

    model_file = tmp_path / "m.yaml"
    model_file.write_text(MODEL.format(check=1.0))
    log_file = tmp_path / "log.csv"
    real.frame.head(120).rename(columns={"case": "case_id", "start": "start_time",
                                         "end": "end_time"})[
        ["case_id", "activity", "resource", "start_time", "end_time"]].to_csv(log_file,
                                                                            index=False)
    out = tmp_path / "out.json"
    runner = CliRunner()
    result = runner.invoke(app, ["backtest", str(model_file), str(log_file), "--replications",
                                 "2", "--seed", "3", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "cycle_time.mean" in result.output
    data = json.loads(out.read_text())
    assert data["seed"] == 3 and set(data["distances"]) == set(DEFAULT_MEASURES)
    bad = runner.invoke(app, ["backtest", str(model_file), str(tmp_path / "missing.csv")])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def _frame(rows: list[tuple[str, str, str | None, str, str, str | None]]) -> EventLog:
    case, activity, resource, start, end, enabled = zip(*rows, strict=True)
    return EventLog(pd.DataFrame({
        "case": list(case), "activity": list(activity),
        "resource": [pd.NA if r is None else r for r in resource],
        "start": pd.to_datetime(list(start)), "end": pd.to_datetime(list(end)),
        "enabled": pd.to_datetime(list(enabled)), "line": list(range(2, len(rows) + 2))}))


def test_match_activities_by_name_description_and_folded_name() -> None:
    from procsim.eventlog.fidelity import match_activities

    t = "2026-01-05 09:00"
    log = _frame([("c", a, "x", t, t, None) for a in
                  ("check", "Approve claim", "Send Letter", "Pay-out", "Pay out", "Archive")])
    m = procsim.parse_model("""
procsim: 1
name: Claims
arrivals: {interarrival: {dist: exponential, mean: 30}}
activities:
  check: {duration: {dist: fixed, value: 1}}
  approve: {description: Approve claim, duration: {dist: fixed, value: 1}}
  send_letter: {duration: {dist: fixed, value: 1}}
  pay_out: {duration: {dist: fixed, value: 1}}
  wait_before_check: {description: Waiting before check, duration: {dist: fixed, value: 1}}
flow: {start: wait_before_check, wait_before_check: check, check: approve,
       approve: send_letter, send_letter: pay_out, pay_out: end}
""")
    match = match_activities(m, log)
    # pay_out folds to two log names ("Pay-out", "Pay out"): no guess, it is unlogged.
    assert match.names == {"check": "check", "approve": "Approve claim",
                           "send_letter": "Send Letter"}
    assert match.unlogged == ("pay_out", "wait_before_check")
    assert match.unsimulated == ("Pay-out", "Pay out", "Archive")
    other = _frame([("c", "Something else", "x", t, t, None)])
    with pytest.raises(ValueError, match="none of the model's activities"):
        match_activities(m, other)


def test_as_logged_moves_the_enabled_time_back_through_unlogged_delays() -> None:
    from procsim.eventlog.fidelity import ActivityMatch, as_logged

    sim = _frame([
        ("1", "a", "x", "2026-01-05 09:00", "2026-01-05 09:10", "2026-01-05 09:00"),
        ("1", "wait1", None, "2026-01-05 09:10", "2026-01-05 10:00", "2026-01-05 09:10"),
        ("1", "wait2", None, "2026-01-05 10:00", "2026-01-05 11:00", "2026-01-05 10:00"),
        ("1", "b", "x", "2026-01-05 11:30", "2026-01-05 11:40", "2026-01-05 11:00"),
        ("2", "b", "x", "2026-01-05 10:00", "2026-01-05 10:20", "2026-01-05 09:00"),
    ])
    out = as_logged(sim, ActivityMatch(names={"a": "A", "b": "B"},
                                       unlogged=("wait1", "wait2"))).frame
    assert out["activity"].tolist() == ["A", "B", "B"]
    # Case 1's b was enabled by wait2, itself enabled by wait1 at a's end (09:10).
    assert out["enabled"].tolist() == pd.to_datetime(
        ["2026-01-05 09:00", "2026-01-05 09:10", "2026-01-05 09:00"]).tolist()
    # Case 2 has no delay, although its enabled time (09:00) is no delay's end in case 2.
    assert out["start"].tolist() == sim.frame["start"][[0, 3, 4]].tolist()


def test_backtest_model_maps_names_and_scores_a_discovered_model_like_the_truth() -> None:
    """Discover from one log of a known model; against a fresh log of the same model, the
    discovered model's distances are as small as the true model's (the intervals of the
    difference contain 0 or favour the discovered model), n_gram included: the discovered
    activities' snake_case names are mapped back to the log's."""
    from procsim.eventlog.discover import discover
    from procsim.eventlog.fidelity import backtest_model

    truth = procsim.parse_model("""
procsim: 1
name: Known
start: 2026-01-05T08:00
arrivals: {interarrival: {dist: exponential, mean: 25}}
resources: {clerk: {capacity: 1}}  # a simulated log names the pool, not the person
activities:
  check: {description: Check Claim, resource: clerk,
          duration: {dist: gamma, mean: 12, sd: 6}}
  pay: {description: Pay Out, resource: clerk, duration: {dist: exponential, mean: 4}}
  reject: {description: Reject, resource: clerk, duration: {dist: fixed, value: 3}}
flow: {start: check, check: {pay: 0.6, reject: 0.4}, pay: end, reject: end}
""")
    names = {"check": "Check Claim", "pay": "Pay Out", "reject": "Reject"}

    def log_of(seed: int) -> EventLog:
        log = simulated_log(procsim.simulate(truth, replications=1, cases=1500, seed=seed,
                                             warmup=0, keep_records=True))
        # A real log's names: spaces and capitals, which procsim names cannot have.
        return EventLog(log.frame.assign(activity=log.frame["activity"].map(names)))

    discovered = procsim.parse_model(discover(log_of(1)))
    assert "check_claim" in discovered.activities        # renamed: mapping is needed
    fresh = log_of(2)
    own = backtest_model(truth, fresh, replications=5, seed=3)
    found = backtest_model(discovered, fresh, replications=5, seed=3)
    assert found.activities is not None and found.activities.names["check_claim"] == \
        "Check Claim"
    assert set(found.simulated_logs[0].frame["activity"]) <= {"Check Claim", "Pay Out",
                                                              "Reject"}
    for measure, e in found.distances.items():
        if measure in ("absolute_event", "case_arrival"):
            continue   # the arrival clock: the same for both, only noise (a random walk)
        t = own.distances[measure]
        assert e.mean <= t.mean + 2 * (e.half_width + t.half_width) + 1e-9, (measure, e, t)
    assert found.distances["n_gram"].mean < 0.05
    assert found.kpis["cycle_time.mean"].inside
