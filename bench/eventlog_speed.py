"""Speed and peak memory of the event-log commands: reading, discovering, back-testing.

Each step runs in a fresh Python process (so that its peak resident memory is its own) and
prints its wall time and peak RSS:

- ``read-csv``: ``read_log`` of a CSV log of ``--events`` activity instances (default a
  million): the BPI Challenge 2012 test half, repeated with shifted case ids and times, gzip-
  compressed, as the shipped logs are;
- ``read-xes``: ``read_log`` of procsim's own XES export of a run of about as many instances
  (start and complete events: twice as many XES events);
- ``discover``: ``discover`` on the first 100,000 instances of the CSV log (the issue's
  target: under 30 s);
- ``backtest``: ``backtest_model`` of the model discovered from the BPIC 2012 training half
  against the test half (2,976 cases), 10 replications, as ``procsim backtest -r 10`` runs it
  (the issue's target: under a minute on 2 cores).

Usage::

    python bench/eventlog_speed.py                 # every step; figures in docs/performance.md
    python bench/eventlog_speed.py read-csv --events 200000
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "eventlogs"
SHARED = ROOT.parent / "shared" / "eventlogs"
STEPS = ("read-csv", "read-xes", "discover", "backtest")


def make_csv(path: Path, events: int) -> None:
    """The BPIC 2012 test half repeated (case ids and times shifted) to ``events`` rows."""
    import pandas as pd

    base = pd.read_csv(DATA / "BPIC_2012_test_transformed.csv.gz")
    times = [c for c in base.columns if c.endswith(("time", "timestamp"))]
    for c in times:
        base[c] = pd.to_datetime(base[c], format="ISO8601")
    span = max(base[c].max() for c in times) - min(base[c].min() for c in times)
    copies = []
    rows, k = 0, 0
    while rows < events:
        copy = base.copy()
        copy["case_id"] = copy["case_id"].astype(str) + f"-{k}"
        for c in times:
            copy[c] = copy[c] + k * span
        copies.append(copy)
        rows += len(copy)
        k += 1
    frame = pd.concat(copies, ignore_index=True).head(events)
    for c in times:
        frame[c] = frame[c].dt.strftime("%Y-%m-%dT%H:%M:%S.%f%z")
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        frame.to_csv(fh, index=False)


def make_xes(path: Path, events: int) -> None:
    """procsim's XES export of a run with about ``events`` activity instances."""
    import procsim
    from procsim.output import write_xes

    model = procsim.load_model(ROOT / "models" / "service_desk.yaml")
    probe = procsim.simulate(model, replications=1, cases=2000, seed=1, warmup=0,
                             keep_records=True)
    per_case = len(probe.records[0].instance_activity) / 2000
    run = procsim.simulate(model, replications=1, cases=int(events / per_case) + 1, seed=1,
                           warmup=0, keep_records=True)
    write_xes(run, path)


def step(name: str, file: Path) -> dict[str, float]:
    """Run one step in this process; its time and peak RSS."""
    import resource

    t0 = time.perf_counter()
    if name in ("read-csv", "read-xes"):
        from procsim.eventlog import read_log

        log = read_log(file)
        detail = {"instances": len(log), "cases": log.cases}
    elif name == "discover":
        from procsim.eventlog import EventLog, read_log
        from procsim.eventlog.discover import discover

        log = read_log(file)
        frame = log.frame.head(100_000)
        first = EventLog(frame[frame["case"].isin(frame["case"].unique()[:-1])],
                         file=log.file, time_zone=log.time_zone)
        t0 = time.perf_counter()   # discovery alone
        discover(first)
        detail = {"instances": len(first), "cases": first.cases}
    else:
        import procsim
        from procsim.eventlog import read_log
        from procsim.eventlog.discover import discover
        from procsim.eventlog.fidelity import backtest_model

        train = read_log(SHARED / "BPIC_2012_train_transformed.csv.gz", on_error="drop")
        test = read_log(DATA / "BPIC_2012_test_transformed.csv.gz", on_error="drop")
        model = procsim.parse_model(discover(train))
        t0 = time.perf_counter()   # the back-test alone, as the command runs it
        result = backtest_model(model, test, replications=10, seed=1, jobs=None)
        detail = {"instances": len(test), "cases": test.cases,
                  "n_gram": result.distances["n_gram"].mean}
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KiB on Linux
    return {"seconds": seconds, "peak_mb": peak, **detail}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("steps", nargs="*", choices=[[], *STEPS], metavar="STEP",
                        help=f"some of {', '.join(STEPS)} (default: all)")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--run", nargs=2, metavar=("STEP", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:   # the child process
        print(json.dumps(step(args.run[0], Path(args.run[1]))))
        return
    steps = args.steps or list(STEPS)
    with tempfile.TemporaryDirectory() as tmp:
        csv_file = Path(tmp) / "log.csv.gz"
        xes_file = Path(tmp) / "log.xes.gz"
        if {"read-csv", "discover"} & set(steps):
            make_csv(csv_file, args.events)
        if "read-xes" in steps:
            make_xes(xes_file, args.events)
        for name in steps:
            file = xes_file if name == "read-xes" else csv_file
            out = subprocess.run([sys.executable, __file__, "--run", name, str(file)],
                                 check=True, capture_output=True, text=True)
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            size = file.stat().st_size / 1e6 if file.exists() and name != "backtest" else 0
            print(f"{name:<9} {figures['seconds']:7.1f} s  peak {figures['peak_mb']:6.0f} MB  "
                  f"{int(figures['instances']):,} instances, {int(figures['cases']):,} cases"
                  + (f", file {size:.0f} MB" if size else "")
                  + (f", n_gram {figures['n_gram']:.4f}" if "n_gram" in figures else ""))


if __name__ == "__main__":
    main()
