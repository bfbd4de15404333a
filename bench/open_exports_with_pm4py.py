"""Open procsim's CSV and XES event logs with pm4py, in a throwaway virtual environment.

pm4py is AGPL-3.0, so it is not a dependency of procsim, not even for the tests (which check
the logs at the level of the XES schema, tests/test_export.py). This script is the check
with the real thing: it writes both logs for a model, creates a temporary virtual
environment, installs pm4py there (network access needed), reads the logs with
``pm4py.read_xes`` and ``pandas.read_csv`` + ``pm4py.format_dataframe``, and compares the
numbers of cases and events with what procsim wrote. Not run by the tests.

Usage::

    python bench/open_exports_with_pm4py.py                       # models/order_to_cash.yaml
    python bench/open_exports_with_pm4py.py models/loan_application.yaml --keep
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

READER = r'''
import sys
import pandas as pd
import pm4py

xes, csv_file = sys.argv[1], sys.argv[2]
log = pm4py.read_xes(xes)
print(f"pm4py read_xes: {log['case:concept:name'].nunique()} cases, {len(log)} events")
print("lifecycle transitions:", dict(log["lifecycle:transition"].value_counts()))
frame = pd.read_csv(csv_file)
frame = pm4py.format_dataframe(frame, case_id="case_id", activity_key="activity",
                               timestamp_key="end")
print(f"pm4py format_dataframe: {frame['case:concept:name'].nunique()} cases, "
      f"{len(frame)} activity instances")
print(pm4py.get_start_activities(log), pm4py.get_end_activities(log))
'''


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", default=str(ROOT / "models" / "order_to_cash.yaml"))
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="procsim-pm4py-"))
    xes, csv_file = folder / "log.xes", folder / "log.csv"
    subprocess.run([sys.executable, "-m", "procsim", "run", args.model, "-r", "2", "--cases",
                    "200", "--warmup", "0", "--seed", "1", "-q", "--xes", str(xes),
                    "--events", str(csv_file)], check=True)
    with csv_file.open(encoding="utf-8") as fh:
        rows = sum(1 for _ in fh) - 1
    print(f"procsim wrote: 400 cases, {rows} activity instances, {3 * rows} XES events "
          "(schedule, start, complete)")
    env = folder / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "pm4py"], check=True)
    subprocess.run([str(python), "-c", READER, str(xes), str(csv_file)], check=True)
    if args.keep:
        print(f"kept {folder}")
    else:
        import shutil

        shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
