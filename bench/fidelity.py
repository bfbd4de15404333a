"""Cost of the back-testing distance measures (``procsim.eventlog.fidelity``).

Times each measure of :data:`procsim.eventlog.fidelity.MEASURES` once, with one log as the
"real" log and another as the "simulated" one (by default the test and training halves of
the BPI Challenge 2012 log: about 25,000 and 22,000 activity instances, 3,000 cases each).
The measures are those of ``log-distance-measures``; most of their cost is per-case Python
loops of that package, so it grows with the number of cases. ``work_in_progress`` (off by
default in ``distances``) is timed only with ``--wip``: it takes minutes on this log.

Usage::

    python bench/fidelity.py                          # the figures in docs/eventlogs.md
    python bench/fidelity.py LOG.csv.gz OTHER.csv.gz  # any two logs
    python bench/fidelity.py --wip                    # also work in progress (slow)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from procsim.eventlog import read_log
from procsim.eventlog.fidelity import DEFAULT_MEASURES, MEASURES, distances

SHARED = Path(__file__).resolve().parents[2] / "shared" / "eventlogs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", nargs="?", default=SHARED / "BPIC_2012_test_transformed.csv.gz")
    parser.add_argument("other", nargs="?",
                        default=SHARED / "BPIC_2012_train_transformed.csv.gz")
    parser.add_argument("--wip", action="store_true", help="also time work_in_progress")
    args = parser.parse_args()
    log, other = read_log(args.log, on_error="drop"), read_log(args.other, on_error="drop")
    print(f"log: {len(log)} instances, {log.cases} cases; other: {len(other)} instances, "
          f"{other.cases} cases")
    total = 0.0
    for measure in MEASURES if args.wip else DEFAULT_MEASURES:
        t0 = time.perf_counter()
        value = distances(log, other, measures=[measure])[measure]
        seconds = time.perf_counter() - t0
        total += seconds
        print(f"{measure:<18} {value:>12.4g}  {seconds:6.2f} s")
    print(f"{'total':<18} {'':>12}  {total:6.2f} s")


if __name__ == "__main__":
    main()
