"""procsim's start-up: CPU seconds of `import procsim` and `procsim validate` beyond numpy.

Each row is a fresh interpreter run as a subprocess; its CPU time (user + system) is read
from ``resource.getrusage(RUSAGE_CHILDREN)`` before and after, and the best of ``--repeat``
runs is kept (the least disturbed by whatever else the machine does). The last column is
the time beyond ``python -c "import numpy"``, which every procsim command pays anyway:
the budget of issue 15 is about 0.3 s there.

The runs read compiled bytecode, as an installed procsim does: ``PYTHONDONTWRITEBYTECODE``
is dropped and ``PYTHONPYCACHEPREFIX`` points at a temporary directory (so the checkout is
left alone), and a first round, not counted, writes it. Without that, compiling procsim's
sources would be counted on every run (about 0.1 s).

The rows: ``import numpy``; ``import procsim``; ``python -m procsim --help``; and
``python -m procsim validate MODEL`` for each model in ``models/``.

Usage::

    python bench/startup.py              # markdown table, best of 7
    python bench/startup.py --repeat 3
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cpu_seconds(argv: list[str], env: dict[str, str]) -> float:
    """CPU seconds (user + system) of one run of ``argv`` to its exit."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per row; the best counts")
    args = parser.parse_args()
    python = sys.executable
    rows: list[tuple[str, list[str]]] = [
        ("import numpy", [python, "-c", "import numpy"]),
        ("import procsim", [python, "-c", "import procsim"]),
        ("procsim --help", [python, "-m", "procsim", "--help"]),
    ]
    rows += [(f"procsim validate {model.relative_to(ROOT)}",
              [python, "-m", "procsim", "validate", str(model.relative_to(ROOT))])
             for model in sorted((ROOT / "models").glob("*.yaml"))]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times: dict[str, list[float]] = {label: [] for label, _ in rows}
    with tempfile.TemporaryDirectory(prefix="procsim-pycache-") as cache:
        env["PYTHONPYCACHEPREFIX"] = cache
        for _, argv in rows:  # writes the bytecode; not counted
            cpu_seconds(argv, env)
        # Alternate the rows within each round so that every row sees the same machine load.
        for _ in range(args.repeat):
            for label, argv in rows:
                times[label].append(cpu_seconds(argv, env))
    numpy = min(times["import numpy"])
    print(f"CPU seconds, best of {args.repeat} runs, Python {sys.version.split()[0]}\n")
    print("| command | CPU s | beyond `import numpy` |")
    print("|---|---:|---:|")
    for label, _ in rows:
        cpu = min(times[label])
        beyond = "" if label == "import numpy" else f"{cpu - numpy:.3f}"
        print(f"| `{label}` | {cpu:.3f} | {beyond} |")


if __name__ == "__main__":
    main()
