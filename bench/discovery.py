"""Fidelity of discovered models (``procsim.eventlog.discover``) on the sample logs.

For each pair (training log → test log) it discovers a model from the training log, simulates
the test log's number of cases from the test log's first start (as ``procsim backtest`` does),
and prints the distances of :func:`procsim.eventlog.fidelity.backtest_distances` with their
confidence intervals, and the mean cycle time of the log against the simulated one (with the
simulated mean's interval). The figures in docs/eventlogs.md ("Discovering a model from a log")
come from this script.

Usage::

    python bench/discovery.py                  # LoanApp, Purchasing, BPIC 2012; 5 replications
    python bench/discovery.py loan purchasing  # some of them
    python bench/discovery.py -r 10 --seed 2
    python bench/discovery.py --save-models DIR  # also write the discovered models
    python bench/discovery.py --models DIR       # back-test saved models instead

It calls :func:`procsim.eventlog.fidelity.backtest_model`, as ``procsim backtest`` does: the
simulated logs get the log's activity names back (each discovered activity's
``description``), and the activities the log does not have (the waiting delays discovery
adds) are left out of them, so that the distances compare like with like.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import procsim
from procsim.eventlog import read_log
from procsim.eventlog.discover import discover
from procsim.eventlog.fidelity import backtest_model

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "eventlogs"
DATA = ROOT / "tests" / "data" / "eventlogs"

PAIRS = {
    "loan": (DATA / "LoanApp_simplified_train.csv.gz", SHARED / "LoanApp_simplified_test.csv.gz"),
    "purchasing": (DATA / "PurchasingExample.csv.gz", DATA / "PurchasingExample.csv.gz"),
    "bpic2012": (SHARED / "BPIC_2012_train_transformed.csv.gz",
                 DATA / "BPIC_2012_test_transformed.csv.gz"),
}


def run(name: str, replications: int, seed: int, save: Path | None,
        models: Path | None) -> None:
    train_file, test_file = PAIRS[name]
    t0 = time.perf_counter()
    train = read_log(train_file, on_error="drop")
    test = read_log(test_file, on_error="drop")
    text = (models / f"{name}.yaml").read_text() if models is not None else discover(train)
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        (save / f"{name}.yaml").write_text(text)
    model = procsim.parse_model(text)
    report = backtest_model(model, test, replications=replications, seed=seed)
    seconds = time.perf_counter() - t0
    print(f"== {name}: {train_file.name} → {test_file.name}, {test.cases} cases, "
          f"{replications} replications, seed {seed} ({seconds:.0f} s)")
    for measure, e in report.distances.items():
        print(f"  {measure:<16} {e.mean:10.4g}  [{e.ci[0]:.4g}, {e.ci[1]:.4g}]")
    for key, k in report.kpis.items():
        if key.startswith(("cycle_time", "waiting_time", "processing_time")):
            s = k.simulated
            print(f"  {key:<16} log {k.log:10.4g}  simulated {s.mean:10.4g} "
                  f"[{s.ci[0]:.4g}, {s.ci[1]:.4g}] {model.time_unit}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="*", metavar="LOG", help=f"some of {', '.join(PAIRS)}")
    parser.add_argument("-r", "--replications", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save-models", type=Path, default=None, metavar="DIR")
    parser.add_argument("--models", type=Path, default=None, metavar="DIR",
                        help="back-test DIR/<log>.yaml instead of discovering (e.g. models "
                        "saved by an earlier version)")
    args = parser.parse_args()
    unknown = [n for n in args.logs if n not in PAIRS]
    if unknown:
        parser.error(f"unknown log {unknown[0]!r}: expected some of {', '.join(PAIRS)}")
    for name in args.logs or list(PAIRS):
        run(name, args.replications, args.seed, args.save_models, args.models)


if __name__ == "__main__":
    main()
