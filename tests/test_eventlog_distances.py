"""The fast distance measures give exactly the values of ``log-distance-measures``.

Every test computes the measures twice, with :func:`procsim.eventlog.distances.log_distances`
and with the package's own functions called as :func:`procsim.eventlog.fidelity.distances`
calls them, and compares: equal to the last bit, except ``work_in_progress`` (values with
weights instead of the package's expanded sample: the same distance summed in another order),
within 1e-9 relative.

The package's ``work_in_progress`` fails on pandas 2.3 (``np.minimum`` of a datetime Series
and a Timestamp raises TypeError, pandas issue 50864): :func:`package` then runs it with
that one call replaced by the element-wise minimum it means (``Series.clip``), the rest of
the package's code unchanged.
"""

from __future__ import annotations

import math
import subprocess
import sys
import types
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pd = pytest.importorskip("pandas")
pytest.importorskip("log_distance_measures")

from log_distance_measures import (  # noqa: E402
    absolute_event_distribution,
    case_arrival_distribution,
    circadian_event_distribution,
    config,
    cycle_time_distribution,
    n_gram_distribution,
    relative_event_distribution,
    work_in_progress,
)

from procsim.eventlog import fidelity, read_log  # noqa: E402
from procsim.eventlog.distances import MEASURES, log_distances  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "eventlogs"
LOAN, PURCHASING, BPIC = ("LoanApp_simplified_train", "PurchasingExample",
                          "BPIC_2012_test_transformed")
COLUMNS = ["case", "activity", "resource", "start", "end"]
IDS = config.EventLogIDs(case="case", activity="activity", start_time="start",
                         end_time="end", resource="resource")
DAY = pd.Timedelta(days=1)




def _instants(x: Any) -> Any:
    """Absolute instants as numpy datetime64[ns] (UTC for zone-aware times)."""
    if isinstance(x, pd.Series):
        return (x.dt.tz_convert(None) if x.dt.tz is not None else x).to_numpy("datetime64[ns]")
    return np.datetime64(x.as_unit("ns").value, "ns")


# np.minimum / np.maximum of a datetime Series and a Timestamp, element-wise on the instants
# (see above); the package only subtracts the two results.
ELEMENTWISE = types.SimpleNamespace(
    minimum=lambda s, t: pd.Series(np.minimum(_instants(s), _instants(t)), index=s.index),
    maximum=lambda s, t: pd.Series(np.maximum(_instants(s), _instants(t)), index=s.index))

def package_wip(a: Any, b: Any) -> float:
    """The package's work in progress; NaN where it finds none (as ``log_distances``)."""
    wip = work_in_progress.work_in_progress_distance
    try:
        try:
            return float(wip(a, IDS, b, IDS, normalize=False))
        except TypeError:  # pandas issue 50864; raised on the first hour, so cheap
            with mock.patch.object(work_in_progress, "np", ELEMENTWISE):
                return float(wip(a, IDS, b, IDS, normalize=False))
    except ValueError as error:
        assert "Distribution can't be empty" in str(error)
        return math.nan


def package(a: Any, b: Any, measures: Sequence[str] = MEASURES,
            bin_hours: float = 1.0) -> dict[str, float]:
    """The package's values, with the arguments of ``fidelity.distances``."""
    bins = timedelta(hours=bin_hours)
    calls = {
        "n_gram": lambda: n_gram_distribution.n_gram_distribution_distance(
            a, IDS, b, IDS, n=3, normalize=True),
        "absolute_event": lambda: absolute_event_distribution
        .absolute_event_distribution_distance(a, IDS, b, IDS),
        "circadian_event": lambda: circadian_event_distribution
        .circadian_event_distribution_distance(a, IDS, b, IDS),
        "relative_event": lambda: relative_event_distribution
        .relative_event_distribution_distance(a, IDS, b, IDS),
        "case_arrival": lambda: case_arrival_distribution
        .case_arrival_distribution_distance(a, IDS, b, IDS),
        "inter_arrival": lambda: (
            case_arrival_distribution.inter_arrival_distribution_distance(
                a, IDS, b, IDS, bin_size=bins)
            if min(a["case"].nunique(), b["case"].nunique()) > 1 else math.nan),
        "cycle_time": lambda: cycle_time_distribution.cycle_time_distribution_distance(
            a, IDS, b, IDS, bin_size=bins),
        "work_in_progress": lambda: package_wip(a, b),
    }
    return {m: float(calls[m]()) for m in MEASURES if m in measures}


def assert_same(a: Any, b: Any, measures: Sequence[str] = MEASURES,
                bin_hours: float = 1.0) -> dict[str, float]:
    fast = log_distances(a, b, measures=measures, bin_hours=bin_hours)
    slow = package(a, b, measures, bin_hours)
    assert list(fast) == list(slow)
    for m, value in slow.items():
        if math.isnan(value):
            assert math.isnan(fast[m]), m
        elif m == "work_in_progress":
            assert fast[m] == pytest.approx(value, rel=1e-9, abs=1e-12), m
        else:
            assert fast[m] == value, (m, fast[m], value)
    return fast


def aligned(a: Any, b: Any) -> tuple[Any, Any]:
    """The two frames on comparable times (as ``fidelity`` aligns a log and a simulation)."""
    tz_a, tz_b = a["start"].dt.tz, b["start"].dt.tz
    if tz_a is not None and tz_b is not None:
        return a, b.assign(start=b["start"].dt.tz_convert(tz_a), end=b["end"].dt.tz_convert(tz_a))
    if tz_a is None and tz_b is None:
        return a, b

    def wall(f: Any) -> Any:
        if f["start"].dt.tz is None:
            return f
        return f.assign(start=f["start"].dt.tz_localize(None), end=f["end"].dt.tz_localize(None))

    return wall(a), wall(b)


def chunk(frame: Any, count: int, *, skip: int = 0, since: str | None = None,
          longest: float | None = None) -> Any:
    """``count`` consecutive cases in order of arrival, from number ``skip`` or from the
    first arrival ``since`` a date, of at most ``longest`` hours each (the package's work in
    progress costs a loop over every hour of both logs)."""
    cases = frame.groupby("case").agg(first=("start", "min"), last=("end", "max"))
    cases = cases.sort_values("first", kind="stable")
    if since is not None:
        cases = cases[cases["first"] >= pd.Timestamp(since, tz=frame["start"].dt.tz)]
    if longest is not None:
        cases = cases[cases["last"] - cases["first"] <= pd.Timedelta(hours=longest)]
    keep = frame["case"].isin(cases.index[skip:skip + count])
    return frame[keep.to_numpy()].reset_index(drop=True)


def same_day(frame: Any, like: Any) -> Any:
    """``frame`` moved by whole days to start on ``like``'s first day (a simulation starts
    when the log does; the package's work in progress loops over every hour of both)."""
    days = (like["start"].min().floor("D") - frame["start"].min().floor("D")) // DAY
    return frame.assign(start=frame["start"] + days * DAY, end=frame["end"] + days * DAY)


@pytest.fixture(scope="module")
def shipped() -> dict[str, Any]:
    return {name: read_log(DATA / f"{name}.csv.gz", on_error="drop").frame[COLUMNS]
            for name in (LOAN, PURCHASING, BPIC)}


def test_measures_are_those_of_fidelity() -> None:
    assert MEASURES == fidelity.MEASURES


# --- the shipped logs against each other -------------------------------------------------

@pytest.mark.parametrize(("real", "skip", "count", "other", "other_skip"), [
    (LOAN, 0, 30, BPIC, 0),
    (BPIC, 0, 30, LOAN, 300),
    (BPIC, 0, 30, BPIC, 1000),
    (PURCHASING, 0, 10, LOAN, 0),  # zone-aware against naive: on wall-clock times
])
def test_shipped_logs_from_the_same_day(shipped: dict[str, Any], real: str, skip: int,
                                        count: int, other: str, other_skip: int) -> None:
    # Cases of at most a day (100 hours for Purchasing, whose cases are long): a few hundred
    # hours for the package's work in progress to loop over.
    longest = 100 if real == PURCHASING else 24
    a = chunk(shipped[real], count, skip=skip, longest=longest)
    b = chunk(shipped[other], 40, skip=other_skip, longest=longest)
    a, b = aligned(a, b)
    fast = assert_same(a, same_day(b, a))
    assert all(v > 0 for v in fast.values()), fast  # two different logs: no measure is 0


@pytest.mark.parametrize(("real", "other"), [(LOAN, PURCHASING), (PURCHASING, BPIC),
                                             (BPIC, LOAN)])
def test_shipped_logs_years_apart(shipped: dict[str, Any], real: str, other: str) -> None:
    # Years apart, all cases: the package's work in progress would loop over every hour
    # between them.
    a, b = aligned(chunk(shipped[real], 100), chunk(shipped[other], 100, skip=50))
    assert_same(a, b, MEASURES[:-1])


@pytest.mark.parametrize("bin_hours", [0.25, 1 / 3, 24.0, 100.0])
def test_bins_of_other_widths(shipped: dict[str, Any], bin_hours: float) -> None:
    # 1/3 hour is not a whole number of microseconds: timedelta rounds it, as here.
    a, b = chunk(shipped[BPIC], 100), chunk(shipped[BPIC], 100, skip=2000)
    assert_same(a, b, ["inter_arrival", "cycle_time"], bin_hours=bin_hours)


def test_a_log_against_itself_is_zero(shipped: dict[str, Any]) -> None:
    a = chunk(shipped[BPIC], 50, longest=24)
    fast = assert_same(a, a.sample(frac=1.0, random_state=3))  # rows in another order
    assert fast == dict.fromkeys(MEASURES, 0.0)


# --- time zones and resolutions -----------------------------------------------------------

@pytest.mark.parametrize("zone", [None, "UTC", "Europe/Amsterdam", "Asia/Kolkata",
                                  "America/St_Johns"])
def test_time_zones(shipped: dict[str, Any], zone: str | None) -> None:
    # LoanApp's wall-clock times in a zone: from Friday 24 March 2023, over the change to
    # summer time in Europe on the 26th (a day of 23 hours for the work in progress);
    # Kolkata and St John's have half-hour offsets (the package floors to hours in local
    # time).
    def local(f: Any) -> Any:
        if zone is None:
            return f
        return f.assign(start=f["start"].dt.tz_localize(zone, nonexistent="shift_forward"),
                        end=f["end"].dt.tz_localize(zone, nonexistent="shift_forward"))

    a = chunk(shipped[LOAN], 30, since="2023-03-24", longest=24)
    b = same_day(chunk(shipped[LOAN], 30, since="2023-04-10", longest=24), a)
    assert_same(local(a), local(b))


def test_logs_in_different_zones(shipped: dict[str, Any]) -> None:
    a = chunk(shipped[BPIC], 30, longest=24)
    b = same_day(chunk(shipped[BPIC], 30, skip=1000, longest=24), a)
    a = a.assign(start=a["start"].dt.tz_convert("Asia/Kolkata"),
                 end=a["end"].dt.tz_convert("Asia/Kolkata"))
    fast = assert_same(a, b)
    # The circadian measure reads each log's own local hours.
    assert fast["circadian_event"] != log_distances(
        a.assign(start=a["start"].dt.tz_convert("UTC"), end=a["end"].dt.tz_convert("UTC")), b,
        measures=["circadian_event"])["circadian_event"]


@pytest.mark.parametrize("unit", ["s", "ms", "us"])
def test_coarser_time_resolutions(shipped: dict[str, Any], unit: str) -> None:
    a = chunk(shipped[LOAN], 20, longest=24)
    b = same_day(chunk(shipped[LOAN], 20, skip=200, longest=24), a)

    def coarse(f: Any) -> Any:
        return f.assign(start=f["start"].dt.floor(unit).dt.as_unit(unit),
                        end=f["end"].dt.floor(unit).dt.as_unit(unit))

    assert_same(coarse(a), coarse(b))


# --- edge cases ---------------------------------------------------------------------------

def log(rows: Sequence[tuple[str, str, str, str]], zone: str | None = None) -> Any:
    """A frame from (case, activity, start, end) rows."""
    frame = pd.DataFrame(rows, columns=["case", "activity", "start", "end"])
    frame["resource"] = "r"
    for column in ("start", "end"):
        frame[column] = pd.to_datetime(frame[column], format="ISO8601")
        if zone is not None:
            frame[column] = frame[column].dt.tz_localize(zone)
    return frame[COLUMNS]


def test_one_case_each() -> None:
    a = log([("c1", "a", "2026-01-05 09:00", "2026-01-05 10:30")])
    b = log([("x", "a", "2026-01-05 09:20", "2026-01-05 09:40"),
             ("x", "b", "2026-01-05 11:00", "2026-01-06 09:40")])
    fast = assert_same(a, b)
    assert math.isnan(fast["inter_arrival"])
    # (a) vs (a, b): 3 + 4 3-grams, of which only (start, start, a) is in both.
    assert fast["n_gram"] == 5 / 7


def test_short_cases_and_identical_times() -> None:
    # Cases of one and two events (a 3-gram of a short case is mostly padding), and events
    # with identical start and end times: the package orders those as the frame does.
    # Events with the same start are ordered by their end.
    t, later = "2026-01-07 10:00", "2026-01-07 11:00"
    a = log([("c1", "a", t, t), ("c1", "b", t, t), ("c1", "c", t, t),
             ("c2", "a", t, later), ("c3", "b", t, t), ("c3", "a", t, t),
             ("c4", "b", t, later), ("c4", "a", t, t)])
    b = log([("c1", "c", t, t), ("c1", "b", t, t), ("c1", "a", t, t), ("c2", "a", t, t),
             ("c4", "a", t, t), ("c4", "b", t, later)])
    fast = assert_same(a, b)
    assert 0 < fast["n_gram"] < 1
    # c4 is (a, b) in both logs: only the frame's order differs.
    assert assert_same(a[a["case"] == "c4"], b[b["case"] == "c4"], ["n_gram"]) == {
        "n_gram": 0.0}


def test_every_case_without_duration() -> None:
    # No work in progress at all: the package raises scipy's "Distribution can't be empty";
    # log_distances gives NaN.
    t = "2026-01-07 10:00"
    a = log([("c1", "a", t, t), ("c2", "b", t, t)])
    with mock.patch.object(work_in_progress, "np", ELEMENTWISE), \
            pytest.raises(ValueError, match="Distribution can't be empty"):
        work_in_progress.work_in_progress_distance(a, IDS, a, IDS, normalize=False)
    assert math.isnan(assert_same(a, a)["work_in_progress"])


def test_a_weekday_in_one_log_only() -> None:
    # Monday and Tuesday in one log, Monday and Sunday in the other: two days count 23.
    a = log([("c1", "a", "2026-01-05 09:00", "2026-01-05 10:00"),
             ("c2", "a", "2026-01-06 09:00", "2026-01-06 10:00")])
    b = log([("c1", "a", "2026-01-05 09:00", "2026-01-05 10:00"),
             ("c2", "a", "2026-01-11 09:00", "2026-01-11 10:00")])
    fast = assert_same(a, b)
    assert fast["circadian_event"] == pytest.approx(46 / 7)


def test_events_spanning_days_and_weeks() -> None:
    a = log([("c1", "a", "2026-01-04 23:30", "2026-01-05 00:30"),  # Sunday to Monday
             ("c1", "b", "2026-01-09 22:00", "2026-01-12 07:00"),  # Friday to Monday
             ("c2", "a", "2026-01-10 12:00", "2026-01-10 12:00")])
    b = log([("c1", "a", "2026-01-05 00:00", "2026-01-06 00:00"),
             ("c2", "b", "2026-01-18 23:59:59.999999999", "2026-01-19 00:00")])
    assert_same(a, b)


def test_nanoseconds_are_dropped_as_pandas_total_seconds_drops_them() -> None:
    # 1 ns before an hour, ten years after the first: seconds / 3600 as ns / 1e9 rounds up
    # to the next hour; pandas' total_seconds() (microseconds) does not, nor does the package.
    a = log([("c1", "a", "2016-01-04 00:00", "2016-01-04 00:00")])
    b = log([("c1", "a", "2026-01-05 00:00", "2026-01-05 00:00")])
    b["end"] = b["end"] - pd.Timedelta(1, unit="ns")
    b["start"] = b["end"]
    ns = b["start"].iloc[0].value - a["start"].iloc[0].value
    assert math.floor(ns / 1e9 / 3600) == 87_696  # the wrong way rounds up
    assert assert_same(a, b, ["absolute_event"]) == {"absolute_event": 87_695.0}


def test_cycle_time_bins_divide_nanoseconds_as_doubles() -> None:
    # A cycle time of 1 ns less than 87,696 hours: pandas divides the nanoseconds as doubles,
    # which rounds them up to the bin's edge; an exact integer division would not.
    a = log([("c1", "a", "2016-01-04 00:00", "2016-01-04 00:00")])
    b = log([("c1", "a", "2016-01-04 00:00", "2026-01-05 00:00")])
    b["end"] = b["end"] - pd.Timedelta(1, unit="ns")
    ns = b["end"].iloc[0].value - b["start"].iloc[0].value
    assert ns // 3_600_000_000_000 == 87_695
    assert assert_same(a, b, ["cycle_time"]) == {"cycle_time": 87_696.0}


def test_missing_cases_are_left_out_of_the_case_measures() -> None:
    a = log([("c1", "a", "2026-01-05 09:00", "2026-01-05 10:00"),
             ("c2", "b", "2026-01-05 11:00", "2026-01-05 13:00"),
             ("c3", "a", "2026-01-05 12:00", "2026-01-05 15:00")])
    a["case"] = a["case"].astype(object)
    a.loc[1, "case"] = None
    b = log([("c1", "a", "2026-01-05 09:30", "2026-01-05 10:00"),
             ("c2", "b", "2026-01-05 10:00", "2026-01-05 12:00")])
    assert_same(a, b)


def test_bad_input() -> None:
    a = log([("c1", "a", "2026-01-05 09:00", "2026-01-05 10:00")])
    with pytest.raises(ValueError, match="unknown distance measure 'ngram'"):
        log_distances(a, a, measures=["ngram"])
    with pytest.raises(ValueError, match="bin_hours: expected a number > 0, got 0"):
        log_distances(a, a, measures=["cycle_time"], bin_hours=0)
    with pytest.raises(ValueError, match="the simulated log: no activity instances"):
        log_distances(a, a.iloc[:0], measures=["cycle_time"])
    with pytest.raises(ValueError, match=r"the original log: .* missing activity"):
        log_distances(a.drop(columns="activity"), a, measures=["cycle_time"])


# --- random small logs --------------------------------------------------------------------

ZONES = [None, "UTC", "Europe/Amsterdam", "Asia/Kolkata"]
# A Saturday before the change to summer time in Europe (Sunday 29 March 2026, 02:00).
ORIGIN = pd.Timestamp("2026-03-28 00:00")
SETTINGS = {"deadline": None, "derandomize": True, "database": None,
            "suppress_health_check": [HealthCheck.too_slow]}


@st.composite
def small_logs(draw: st.DrawFn, zone: str | None, days: int) -> Any:
    """1–4 cases of 1–4 events starting within ``days`` days from a Saturday (ties, zero
    durations, events over midnight and nanoseconds likely), rows in any order."""
    minute = st.one_of(st.integers(0, days * 24 * 60), st.sampled_from([0, 60, 61, 24 * 60]))
    nanoseconds = st.sampled_from([0, 0, 1, 999, 1000, 999_999_999])
    minutes = st.sampled_from([0, 0, 1, 59, 60, 61, 600])
    rows = []
    for case in range(draw(st.integers(1, 4))):
        for _ in range(draw(st.integers(1, 4))):
            start = (ORIGIN + pd.Timedelta(minutes=draw(minute))
                     + pd.Timedelta(draw(nanoseconds), unit="ns"))
            rows.append((f"c{case}", draw(st.sampled_from("abc")), start,
                         start + pd.Timedelta(minutes=draw(minutes))))
    order = draw(st.permutations(range(len(rows))))
    frame = pd.DataFrame([rows[i] for i in order], columns=["case", "activity", "start", "end"])
    frame["resource"] = "r"
    if zone is not None:
        for column in ("start", "end"):
            frame[column] = frame[column].dt.tz_localize(zone, nonexistent="shift_forward")
    return frame[COLUMNS]


@settings(max_examples=100, **SETTINGS)
@given(st.data())
def test_random_small_logs(data: st.DataObject) -> None:
    # Over the week after ORIGIN: every weekday, some in one log only.
    zone = data.draw(st.sampled_from(ZONES))
    a, b = data.draw(small_logs(zone, days=7)), data.draw(small_logs(zone, days=7))
    assert_same(a, b, MEASURES[:-1], bin_hours=data.draw(st.sampled_from([1.0, 0.5, 7.0])))


@settings(max_examples=40, **SETTINGS)
@given(st.data())
def test_random_small_logs_work_in_progress(data: st.DataObject) -> None:
    # Within two days (the package loops over each of their hours), over the 23-hour Sunday
    # in Amsterdam.
    zone = data.draw(st.sampled_from(ZONES))
    a, b = data.draw(small_logs(zone, days=2)), data.draw(small_logs(zone, days=2))
    assert_same(a, b, ["work_in_progress"])


# --- the benchmark ------------------------------------------------------------------------

def test_benchmark_runs_and_finds_the_same_values() -> None:
    loan = str(DATA / f"{LOAN}.csv.gz")
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "fidelity.py"), loan, loan, "--cases", "20",
         "--repeat", "1", "--wip"],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line for line in done.stdout.splitlines()[2:]}
    assert set(MEASURES) <= set(rows)
    for measure in MEASURES:
        same = rows[measure].split()[5]  # after measure, value, two times and their ratio
        assert same == "yes" or (measure == "work_in_progress" and float(same) <= 1e-9), \
            rows[measure]
