"""What a pool's policy costs: the same workload with and without calendars or named people.

Issue 15's targets, measured on one replication through ``run_replication`` (the engine
alone, CPU time, best of ``--repeat``), each run in its own subprocess so that imports and
caches do not mix:

* ``support`` — ``bench/support_tickets.yaml``, no realistic feature (the fast path);
* ``support+calendar`` — the same with a calendar on the specialists that is open all week,
  round the clock, with one holiday years after the run (so that it is a calendar the engine
  must consult, not one that changes nothing): the same work and the same records, only the
  pool's policy differs;
* ``support+people`` — the same with the specialists as two named people (speed 1);
* ``support+office`` — the specialists on an office calendar (mon–fri 08:00–18:00, with
  arrivals slowed so that the pool keeps up): a calendar that actually opens and closes;
* ``purchasing``, ``loan`` — Prosimos' examples imported with ``procsim import`` (calendars
  and named people everywhere);
* the hand-written heapq loop of ``bench/heapq_loop.py`` on the support workload, in the
  same run, so that figures taken on a loaded machine can be compared as ratios.

``--cli N`` also times the whole command ``python -m procsim run bench/support_tickets.yaml
--cases N --replications 1`` (process CPU time, start to exit) for each source folder,
alternating, beside the heapq loop run as a whole process the same way.

``--src DIR`` runs the procsim found in ``DIR`` (e.g. a worktree of an older commit) instead
of this checkout, for before/after figures measured in the same session::

    git worktree add /tmp/old <commit>
    python bench/engine_policies.py --src /tmp/old/src --src src --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT.parent / "shared" / "peers" / "prosimos" / "models"

CHILD = r"""
import json, re, sys, time
from pathlib import Path
import procsim
from procsim.engine import compile_model, run_replication
from procsim.model import parse_model

name, cases, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
root, peers = Path(sys.argv[4]), Path(sys.argv[5])
support = (root / "bench" / "support_tickets.yaml").read_text()
support = support.replace("time_unit: minutes", "time_unit: minutes\nstart: 2026-01-05T00:00")

def variant(text, name):
    if name == "support":
        return text
    if name == "support+calendar":
        return (text.replace("specialists: {capacity: 2, cost_per_hour: 60}",
                             "specialists: {capacity: 2, cost_per_hour: 60, calendar: always}")
                + '\ncalendars:\n  always: {hours: [{days: all, from: "00:00", to: "24:00"}], '
                'holidays: [2036-01-01]}\n')
    if name == "support+people":
        return (text.replace("specialists: {capacity: 2, cost_per_hour: 60}",
                             "specialists: {members: [sam, sue], cost_per_hour: 60}")
                + "\npeople:\n  sam: {}\n  sue: {}\n")
    if name == "support+office":
        text = text.replace("interarrival: {dist: exponential, mean: 3}",
                            "interarrival: {dist: exponential, mean: 12}")
        return (text.replace("specialists: {capacity: 2, cost_per_hour: 60}",
                             "specialists: {capacity: 2, cost_per_hour: 60, calendar: office}")
                + '\ncalendars:\n  office: [{days: mon-fri, from: "08:00", to: "18:00"}]\n')
    raise SystemExit(f"unknown variant {name}")

if name in ("purchasing", "loan"):
    from procsim.interop import import_bpmn
    base = {"purchasing": "purchasing_qbp", "loan": "loan_application"}[name]
    folder = peers / base
    result = import_bpmn(folder / f"{base}.bpmn", params=folder / f"{base}.json")
    model = parse_model(result.text, file=f"{base}.yaml")
else:
    model = parse_model(variant(support, name), file=f"{name}.yaml")
plan = compile_model(model)
best = float("inf")
for _ in range(repeat):
    t = time.process_time()
    record = run_replication(plan, seed=1, replication=0, cases=cases)
    best = min(best, time.process_time() - t)
print(json.dumps({"seconds": best, "instances": int(len(record.instance_activity))}))
"""

HEAPQ = r"""
import json, sys, time
sys.path.insert(0, sys.argv[3])
from heapq_loop import simulate_support
cases, repeat = int(sys.argv[1]), int(sys.argv[2])
best = float("inf")
for _ in range(repeat):
    t = time.process_time()
    simulate_support(cases, seed=1)
    best = min(best, time.process_time() - t)
print(json.dumps({"seconds": best}))
"""

VARIANTS = ("support", "support+calendar", "support+people", "support+office",
            "purchasing", "loan")


def measure(src: str, name: str, cases: int, repeat: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
    out = subprocess.run([sys.executable, "-c", CHILD, name, str(cases), str(repeat),
                          str(ROOT), str(PEERS)], env=env, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def heapq(cases: int, repeat: int) -> float:
    out = subprocess.run([sys.executable, "-c", HEAPQ, str(cases), str(repeat),
                          str(ROOT / "bench")], check=True, capture_output=True,
                         text=True).stdout
    return float(json.loads(out.strip().splitlines()[-1])["seconds"])


def whole_process(src: str | None, cases: int, repeat: int) -> float:
    """Best CPU time (user + system of the child) of the whole command, start to exit."""
    import resource

    if src is None:   # the heapq loop as a whole process
        command = [sys.executable, str(ROOT / "bench" / "heapq_loop.py"), "--cases", str(cases)]
        env = dict(os.environ)
    else:
        command = [sys.executable, "-m", "procsim", "run", str(ROOT / "bench" /
                   "support_tickets.yaml"), "--cases", str(cases), "--replications", "1"]
        env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
    best = float("inf")
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, env=env, check=True, capture_output=True, cwd=ROOT)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", action="append", default=None,
                        help="procsim source folder to measure (repeatable; default: src)")
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--prosimos-cases", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=list(VARIANTS))
    parser.add_argument("--cli", type=int, default=0, metavar="N",
                        help="also time the whole `procsim run` command at N cases")
    args = parser.parse_args()
    sources = args.src or [str(ROOT / "src")]
    if args.cli:
        loop_process = whole_process(None, args.cli, args.repeat)
        print(f"whole process, support workload, {args.cli:,} cases (CPU s, best of "
              f"{args.repeat}): heapq loop {loop_process:.2f}")
        for src in sources:
            seconds = whole_process(src, args.cli, args.repeat)
            print(f"  procsim run ({src}): {seconds:.2f} s, {seconds / loop_process:.2f}× the loop")
        print()
    loop = heapq(args.cases, args.repeat)
    print(f"heapq loop, support workload, {args.cases:,} cases: {loop:.3f} s CPU\n")
    print("| model | cases | " + " | ".join(f"{s}: s / cases/s / ÷heapq / ÷support"
                                          for s in sources) + " |")
    print("|---|---|" + "---|" * len(sources))
    base: dict[str, float] = {}
    for name in args.only:
        cases = args.prosimos_cases if name in ("purchasing", "loan") else args.cases
        cells = []
        for src in sources:
            r = measure(src, name, cases, args.repeat)
            seconds = r["seconds"]
            if name == "support":
                base[src] = seconds
            per_case = seconds / cases * args.cases
            ratio = f"{seconds / base[src]:.2f}×" if src in base and cases == args.cases else "–"
            cells.append(f"{seconds:.3f} / {cases / seconds:,.0f} / "
                         f"{per_case / loop:.2f}× / {ratio}")
        print(f"| {name} | {cases:,} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
