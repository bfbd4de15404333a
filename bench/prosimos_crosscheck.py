"""Cross-check procsim against Prosimos on Prosimos' own example models, and time both.

For each peer model (BPMN + Prosimos JSON, default ``../shared/peers/prosimos/models``):

1. ``procsim import`` it (:func:`procsim.interop.import_bpmn`);
2. run it in procsim: ``--replications`` replications of ``--cases`` cases;
3. run it in Prosimos (a separate virtual environment: ``--prosimos``, default
   ``$PROSIMOS`` or ``/tmp/prosimos-venv/bin/prosimos``) as many times, with the same number of
   cases and the same start date-time, each a fresh process (Prosimos has no seed option);
4. compare the mean cycle, waiting and processing times per case and each pool's
   utilisation: both means with their 95 % intervals across replications, the difference,
   and whether the intervals overlap.

Prosimos is not a procsim dependency (it needs Python < 3.13 and about 850 MB)::

    python3 -m venv /tmp/prosimos-venv && /tmp/prosimos-venv/bin/pip install prosimos==2.1.0
    python bench/prosimos_crosscheck.py                      # both models, 1000 cases, 5 reps
    python bench/prosimos_crosscheck.py --timing 1000 10000  # ... and time both on purchasing

What is compared, and how each simulator counts it, is in docs/interop.md ("Cross-check
with Prosimos"); the figures there come from this script.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT.parent / "shared" / "peers" / "prosimos" / "models"
START = "2026-01-05T00:00:00.000000+00:00"  # the imported models' start: Monday 00:00
KPIS = ("cycle_time", "waiting_time", "processing_time")
#: (row, procsim KPI, Prosimos KPI). Prosimos' cycle_time and processing_time leave out the
#: time a task stands paused off shift; its idle_cycle_time and idle_processing_time keep
#: it, as procsim's cycle_time and processing_time do (wall clock). Both are shown.
ROWS = (
    ("cycle_time", "cycle_time", "idle_cycle_time"),
    ("waiting_time", "waiting_time", "waiting_time"),
    ("processing_time", "processing_time", "idle_processing_time"),
    ("cycle_time vs Prosimos' without pauses", "cycle_time", "cycle_time"),
    ("processing_time vs Prosimos' without pauses", "processing_time", "processing_time"),
)
PROSIMOS_KPIS = {row[2] for row in ROWS}


def t_interval(values: list[float]) -> tuple[float, float]:
    """Mean and 95 % Student-t half-width of ``values`` (as procsim computes them)."""
    from scipy import stats

    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, math.nan
    sd = statistics.stdev(values)
    return mean, float(stats.t.ppf(0.975, len(values) - 1)) * sd / math.sqrt(len(values))


def prepare(name: str, peers: Path, workdir: Path) -> tuple[Path, Path]:
    """BPMN and JSON of a peer model; ``name@k`` is the model with arrival gaps k times longer
    (a stable variant of an overloaded model), written to ``workdir``."""
    import json
    import shutil

    base, _, factor = name.partition("@")
    bpmn, params = peers / base / f"{base}.bpmn", peers / base / f"{base}.json"
    if not factor:
        return bpmn, params
    data = json.loads(params.read_text())
    arrival = data["arrival_time_distribution"]
    if "histogram_data" in arrival:
        hist = arrival["histogram_data"]
        hist["bin_midpoints"] = [m * float(factor) for m in hist["bin_midpoints"]]
    else:
        for p in arrival["distribution_params"]:
            p["value"] = p["value"] * float(factor)
    out = workdir / name.replace("@", "_x")
    out.mkdir(exist_ok=True)
    shutil.copy(bpmn, out / bpmn.name)
    (out / params.name).write_text(json.dumps(data))
    return out / bpmn.name, out / params.name


def import_model(bpmn: Path, params: Path) -> Any:
    """The imported procsim model (pools with calendars pause work off shift, as in Prosimos)."""
    from procsim.interop import import_bpmn
    from procsim.model import parse_model

    result = import_bpmn(bpmn, params=params)
    return parse_model(result.text, file=f"{bpmn.stem}.yaml")


def run_procsim(model: Any, cases: int, replications: int, seed: int) -> dict[str, Any]:
    from procsim.simulate import simulate

    result = simulate(model, replications=replications, cases=cases, seed=seed,
                      allow_unstable=True, jobs=1)
    hours = {"seconds": 1 / 3600, "minutes": 1 / 60, "hours": 1.0, "days": 24.0}[model.time_unit]
    out: dict[str, Any] = {}
    for kpi in KPIS:
        e = result.kpi(kpi).estimate
        out[kpi] = (e.mean * hours, e.half_width * hours)
    for pool in model.resources:
        e = result.resource(pool, "utilization")
        out[f"utilisation {pool}"] = (e.mean, e.half_width)
    return out


def run_prosimos_once(prosimos: str, bpmn: Path, params: Path, cases: int,
                      workdir: Path, i: int) -> tuple[dict[str, float], dict[str, list[float]],
                                                      float]:
    stat = workdir / f"{bpmn.stem}_{i}.csv"
    began = time.perf_counter()
    subprocess.run([prosimos, "start-simulation", "--bpmn_path", str(bpmn),
                    "--json_path", str(params), "--total_cases", str(cases),
                    "--stat_out_path", str(stat), "--starting_at", START],
                   check=True, capture_output=True, cwd=workdir)
    elapsed = time.perf_counter() - began
    return (*parse_prosimos_stats(stat), elapsed)


def parse_prosimos_stats(path: Path) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Overall means (hours) and, per pool name, [worked, available] seconds."""
    kpis: dict[str, float] = {}
    pools: dict[str, list[float]] = {}
    section = ""
    with open(path, newline="") as fh:
        for row in csv.reader(fh):
            if len(row) == 1:
                section = row[0]
                continue
            if section == "Resource Utilization" and row[0] != "Resource ID":
                worked, available = float(row[4]), float(row[5])
                pool = pools.setdefault(row[7], [0.0, 0.0])
                pool[0] += worked
                pool[1] += available
            elif section == "Overall Scenario Statistics" and row[0] in PROSIMOS_KPIS:
                kpis[row[0]] = float(row[3]) / 3600
    return kpis, pools


def run_prosimos(prosimos: str, bpmn: Path, params: Path, cases: int, replications: int,
                 pool_names: dict[str, str], workers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(workers) as pool:
        runs = list(pool.map(lambda i: run_prosimos_once(prosimos, bpmn, params, cases,
                                                         Path(tmp), i), range(replications)))
    out: dict[str, Any] = {}
    for row, _, theirs in ROWS:
        out[row] = t_interval([r[0][theirs] for r in runs])
    # A procsim pool is a set of Prosimos resources: match them by the import's pool names.
    for procsim_pool, prosimos_pool in pool_names.items():
        shares = [r[1][prosimos_pool][0] / r[1][prosimos_pool][1] for r in runs
                  if r[1].get(prosimos_pool, [0, 0])[1] > 0]
        if shares:
            out[f"utilisation {procsim_pool}"] = t_interval(shares)
    return out


def pool_names(params: Path, model: Any) -> dict[str, str]:
    """procsim pool → Prosimos profile name, where the pool is exactly one profile's people."""
    import json

    data = json.loads(params.read_text())
    out = {}
    for pool, spec in model.resources.items():
        described = set(spec.description.removeprefix("Prosimos resources ").split(", "))
        for profile in data["resource_profiles"]:
            names = {r["name"] for r in profile["resource_list"]}
            if names == described:
                out[pool] = profile["name"]
    return out


def fmt(value: tuple[float, float], percent: bool = False) -> str:
    mean, half = value
    if percent:
        return f"{mean:.1%} ± {half:.1%}" if math.isfinite(half) else f"{mean:.1%}"
    return f"{mean:.3g} ± {half:.2g}" if math.isfinite(half) else f"{mean:.3g}"


def compare(name: str, args: argparse.Namespace) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        bpmn, params = prepare(name, args.peers, Path(tmp))
        model = import_model(bpmn, params)
        mine = run_procsim(model, args.cases, args.replications, args.seed)
        for row, kpi, _ in ROWS:
            mine[row] = mine[kpi]
        names = pool_names(params, model)
        theirs = run_prosimos(args.prosimos, bpmn, params, args.cases, args.replications,
                              names, args.workers)
    lines = [f"### {name}: {args.cases} cases, {args.replications} replications each", "",
             "| KPI | procsim | Prosimos | difference | intervals overlap |",
             "|---|---|---|---|---|"]
    for key, value in mine.items():
        if key not in theirs:
            continue
        other = theirs[key]
        percent = key.startswith("utilisation")
        diff = (value[0] - other[0]) / other[0] if other[0] else math.nan
        overlap = abs(value[0] - other[0]) <= (value[1] + other[1])
        unit = "" if percent else " h"
        lines.append(f"| {key} | {fmt(value, percent)}{unit} | {fmt(other, percent)}{unit} | "
                     f"{diff:+.1%} | {'yes' if overlap else 'no'} |")
    return [*lines, ""]


def timing(args: argparse.Namespace) -> list[str]:
    """Wall-clock time of one run of N cases of purchasing_qbp, whole process, both tools."""
    name = "purchasing_qbp"
    lines = [f"### Time for one run of {name} (whole process, wall clock, best of "
             f"{args.repeat})", "", "| cases | procsim | Prosimos | Prosimos / procsim |",
             "|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        yaml_file = Path(tmp) / f"{name}.yaml"
        from procsim.interop import import_bpmn

        import_bpmn(args.peers / name / f"{name}.bpmn",
                    params=args.peers / name / f"{name}.json").write(yaml_file)
        for cases in args.timing:
            mine, theirs = math.inf, math.inf
            for _ in range(args.repeat):
                began = time.perf_counter()
                subprocess.run([sys.executable, "-m", "procsim", "run", str(yaml_file),
                                "--cases", str(cases), "--replications", "1", "--jobs", "1",
                                "--seed", "1", "--quiet", "--allow-unstable"], check=True,
                               capture_output=True)
                mine = min(mine, time.perf_counter() - began)
                theirs = min(theirs, run_prosimos_once(
                    args.prosimos, args.peers / name / f"{name}.bpmn",
                    args.peers / name / f"{name}.json", cases, Path(tmp), 0)[2])
            lines.append(f"| {cases:,} | {mine:.2f} s | {theirs:.2f} s | {theirs / mine:.1f}x |")
    return [*lines, ""]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", help="Peer models; name@k stretches the arrival "
                        "gaps k times (a stable variant of an overloaded model).",
                        default=["purchasing_qbp", "loan_application", "loan_application@2"])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=int, default=2, help="Prosimos runs at once.")
    parser.add_argument("--peers", type=Path, default=PEERS)
    parser.add_argument("--prosimos", default=os.environ.get(
        "PROSIMOS", "/tmp/prosimos-venv/bin/prosimos"))
    parser.add_argument("--timing", type=int, nargs="*", default=[],
                        help="Also time one run of purchasing_qbp at these numbers of cases.")
    parser.add_argument("--repeat", type=int, default=1, help="Timing: best of this many.")
    args = parser.parse_args(argv)
    if not Path(args.prosimos).exists():
        sys.exit(f"Prosimos not found at {args.prosimos}; install it in a separate venv "
                 "(see the docstring) or pass --prosimos")
    for name in args.models:
        table = compare(name, args)
        print("\n".join(table), flush=True)
    if args.timing:
        print("\n".join(timing(args)), flush=True)


if __name__ == "__main__":
    main()
