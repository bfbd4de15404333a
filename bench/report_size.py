"""Time and peak memory of ``procsim run --report`` against the size of the model.

For each size N, a model with N activities in a line, each with its own pool of 2 servers,
is written to a temporary folder and ``procsim run MODEL --cases 300 --replications 2
--jobs 1 --report out.html`` (and ``out.md``) runs in its own process; the table gives the
wall time of the whole command and its peak resident memory (``ru_maxrss`` of the child).
The simulation itself is a small part of the time: the report (plots of every activity
and pool, the process map) is what grows with N.

Usage::

    python bench/report_size.py                  # the numbers in docs/performance.md
    python bench/report_size.py --sizes 10 30    # other sizes
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def chain_model(n: int) -> str:
    lines = ["procsim: 1", f"name: chain of {n}", "time_unit: minutes",
             "arrivals: {interarrival: {dist: exponential, mean: 1.0}}", "resources:"]
    lines += [f"  pool{i}: {{capacity: 2, cost_per_hour: 30}}" for i in range(n)]
    lines.append("activities:")
    lines += [f"  step{i}: {{resource: pool{i}, duration: {{dist: exponential, mean: 1.2}}}}"
              for i in range(n)]
    lines.append("flow:")
    lines.append("  start: step0")
    lines += [f"  step{i}: step{i + 1}" for i in range(n - 1)]
    lines.append(f"  step{n - 1}: end")
    lines.append("run: {cases: 300, replications: 2, warmup: 0, seed: 1}")
    return "\n".join(lines) + "\n"


def measure(n: int, suffix: str, folder: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one ``procsim run --report`` in a fresh process."""
    model = folder / f"chain{n}.yaml"
    model.write_text(chain_model(n))
    out = folder / f"report{n}{suffix}"
    script = (
        "import resource, sys, time\n"
        "from procsim.cli import main\n"
        "sys.argv = ['procsim', 'run', sys.argv[1], '--jobs', '1', '--report', sys.argv[2]]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
    )
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, "-c", script, str(model), str(out)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    # ru_maxrss of the children is the largest of any child so far: sizes grow, so this
    # is the child just run (KiB on Linux).
    peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    return wall, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000, 3000])
    args = parser.parse_args()
    print("| activities | HTML report: wall | peak RSS | Markdown report: wall | peak RSS |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sorted(args.sizes):
            html = measure(n, ".html", Path(tmp))
            md = measure(n, ".md", Path(tmp))
            print(f"| {n:,} | {html[0]:.1f} s | {html[1]:.0f} MB | {md[0]:.1f} s "
                  f"| {md[1]:.0f} MB |", flush=True)


if __name__ == "__main__":
    main()
