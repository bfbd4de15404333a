"""Cost of the back-testing distance measures: ``log-distance-measures`` against the fast ones.

Times each measure of :data:`procsim.eventlog.fidelity.MEASURES` with one log as the "real"
log and another as the "simulated" one (by default the test and training halves of the BPI
Challenge 2012 log: about 25,000 and 22,000 activity instances, 3,000 cases each), computed
twice: by ``log-distance-measures`` (``procsim.eventlog.fidelity.distances``; per-case Python
loops, so its cost grows with the number of cases) and by
``procsim.eventlog.distances.log_distances`` (numpy), and checks that both give the same
value. The fast side is timed as the best of ``--repeat`` runs, and also for all measures in
one call (what one replication of ``procsim backtest`` costs); the package's side once.

The package's ``work_in_progress`` loops over every hour of both logs against every case:
it is timed only with ``--wip`` (minutes on these logs). On pandas 2.3 it raises TypeError
(``np.minimum`` of a datetime Series and a Timestamp, pandas issue 50864); it is then timed
with those two calls made element-wise, the rest of its code unchanged ("patched").

Usage::

    python bench/fidelity.py                          # the figures in docs/eventlogs.md
    python bench/fidelity.py LOG.csv.gz OTHER.csv.gz  # any two logs
    python bench/fidelity.py --wip                    # also the package's work in progress
    python bench/fidelity.py --cases 100              # the first 100 cases of each log
"""

from __future__ import annotations

import argparse
import importlib
import math
import time
import types
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

from procsim.eventlog import EventLog, read_log
from procsim.eventlog.distances import log_distances
from procsim.eventlog.fidelity import DEFAULT_MEASURES, MEASURES, distances

SHARED = Path(__file__).resolve().parents[2] / "shared" / "eventlogs"
COLUMNS = ["case", "activity", "resource", "start", "end"]


def first_cases(log: EventLog, cases: int | None) -> EventLog:
    """``log`` cut to its first ``cases`` cases in order of arrival (all for None)."""
    if cases is None:
        return log
    frame = log.frame
    arrival = frame.groupby("case")["start"].min().sort_values(kind="stable")
    kept = frame[frame["case"].isin(arrival.index[:cases]).to_numpy()].reset_index(drop=True)
    return EventLog(kept, file=log.file, time_zone=log.time_zone)


def frames(log: EventLog, other: EventLog) -> tuple[Any, Any]:
    """The two frames on comparable times, as ``fidelity.distances`` prepares them."""
    a, b = log.frame[COLUMNS], other.frame[COLUMNS]
    tz_a, tz_b = a["start"].dt.tz, b["start"].dt.tz
    if tz_a is not None and tz_b is not None:
        return a, b.assign(start=b["start"].dt.tz_convert(tz_a), end=b["end"].dt.tz_convert(tz_a))
    if tz_a is not None:
        a = a.assign(start=a["start"].dt.tz_localize(None), end=a["end"].dt.tz_localize(None))
    if tz_b is not None:
        b = b.assign(start=b["start"].dt.tz_localize(None), end=b["end"].dt.tz_localize(None))
    return a, b


def _instants(x: Any) -> Any:
    import pandas as pd

    if isinstance(x, pd.Series):
        return (x.dt.tz_convert(None) if x.dt.tz is not None else x).to_numpy("datetime64[ns]")
    return np.datetime64(x.as_unit("ns").value, "ns")


def patched_package_wip(log: EventLog, other: EventLog) -> float:
    """The package's work in progress with np.minimum / np.maximum made element-wise."""
    import pandas as pd
    from log_distance_measures import config, work_in_progress

    elementwise = types.SimpleNamespace(
        minimum=lambda s, t: pd.Series(np.minimum(_instants(s), _instants(t)), index=s.index),
        maximum=lambda s, t: pd.Series(np.maximum(_instants(s), _instants(t)), index=s.index))
    ids = config.EventLogIDs(case="case", activity="activity", start_time="start",
                             end_time="end", resource="resource")
    a, b = frames(log, other)
    with mock.patch.object(work_in_progress, "np", elementwise):
        return float(work_in_progress.work_in_progress_distance(a, ids, b, ids,
                                                                normalize=False))


def timed(function: Any, repeat: int = 1) -> tuple[Any, float]:
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - t0)
    return value, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", nargs="?", default=SHARED / "BPIC_2012_test_transformed.csv.gz")
    parser.add_argument("other", nargs="?",
                        default=SHARED / "BPIC_2012_train_transformed.csv.gz")
    parser.add_argument("--wip", action="store_true",
                        help="also time the package's work_in_progress (minutes)")
    parser.add_argument("--cases", type=int, default=None,
                        help="only the first CASES cases of each log")
    parser.add_argument("--repeat", type=int, default=5,
                        help="time the fast measures as the best of REPEAT runs")
    args = parser.parse_args()
    log = first_cases(read_log(args.log, on_error="drop"), args.cases)
    other = first_cases(read_log(args.other, on_error="drop"), args.cases)
    print(f"log: {len(log)} instances, {log.cases} cases; other: {len(other)} instances, "
          f"{other.cases} cases")
    a, b = frames(log, other)
    for module in ("absolute_event_distribution", "case_arrival_distribution",
                   "circadian_event_distribution", "cycle_time_distribution",
                   "n_gram_distribution", "relative_event_distribution", "work_in_progress"):
        importlib.import_module(f"log_distance_measures.{module}")  # imports not timed
    print(f"{'measure':<18} {'value':>12}  {'package s':>9}  {'fast s':>8}  {'ratio':>6}  same")
    total_package = total_fast = 0.0
    for measure in MEASURES:
        fast, fast_s = timed(lambda m=measure: log_distances(a, b, measures=[m])[m],
                             args.repeat)
        total_fast += fast_s if measure in DEFAULT_MEASURES else 0.0
        label = ""
        if measure in DEFAULT_MEASURES or args.wip:
            try:
                value, package_s = timed(
                    lambda m=measure: distances(log, other, measures=[m])[m])
            except TypeError:  # work_in_progress on pandas 2.3 (see the docstring)
                value, package_s = timed(lambda: patched_package_wip(log, other))
                label = " (package patched)"
            total_package += package_s if measure in DEFAULT_MEASURES else 0.0
            if value == fast or (math.isnan(value) and math.isnan(fast)):
                same = "yes"
            else:
                same = f"{abs(value - fast) / abs(value):.1e} rel." if value else "NO"
            print(f"{measure:<18} {value:>12.6g}  {package_s:9.2f}  {fast_s:8.4f}  "
                  f"{package_s / fast_s:6.0f}  {same}{label}")
        else:
            print(f"{measure:<18} {fast:>12.6g}  {'(--wip)':>9}  {fast_s:8.4f}")
    _, together = timed(lambda: log_distances(a, b, measures=DEFAULT_MEASURES), args.repeat)
    _, everything = timed(lambda: log_distances(a, b, measures=MEASURES), args.repeat)
    print(f"{'defaults, summed':<18} {'':>12}  {total_package:9.2f}  {total_fast:8.4f}")
    print(f"{'defaults, 1 call':<18} {'':>12}  {'':>9}  {together:8.4f}")
    print(f"{'all, 1 call':<18} {'':>12}  {'':>9}  {everything:8.4f}")


if __name__ == "__main__":
    main()
