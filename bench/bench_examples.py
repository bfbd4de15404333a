"""Throughput and memory of procsim on the example models and on the support-ticket workload.

For each ``models/*.yaml`` and for ``bench/support_tickets.yaml``, one replication of
``--cases`` arrivals is timed three ways: through ``procsim.simulate(..., replications=1,
jobs=1)`` (everything a user calls), through ``procsim.engine.run_replication`` alone (the
engine without KPIs), and ``procsim.kpi.replication_kpis`` alone on the engine's record.
Each timing is the best of ``--repeat`` runs, because on a shared machine noise only ever
adds time; by default the clock is the process's CPU time (``time.process_time``), which
other processes competing for the cores change much less than the wall clock. The report
says how far the runs spread and how much longer their wall time was.

Counting: *cases* are arrivals (every replication runs until all of them have finished);
*activity instances* are executions of an activity; *events* are arrivals plus the start
and the end of every activity instance (``cases + 2 × instances``). Of these only arrivals
and ends are entries in the event calendar; a start is a state change made inside the
callback of an arrival or an end, but it costs a comparable amount of work. The heapq
loop is counted the same way.

Also measured: the hand-written heapq loop of ``bench/heapq_loop.py`` on the same workload
and the ratio procsim/heapq; peak RSS (``VmHWM``; ``resource.getrusage`` off Linux), each in
its own subprocess so that peaks do not mix, at ``--rss-cases`` arrivals; the time of
``python -m procsim run bench/support_tickets.yaml --cases N --replications 1`` (skipped
with the reason if that command fails); and the support workload's utilisations and cost
per case beside their exact values.

Usage::

    python bench/bench_examples.py              # the numbers in docs/performance.md
    python bench/bench_examples.py --quick      # tiny sizes, a few seconds: a smoke test
    python bench/bench_examples.py --profile    # cProfile of run_replication
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# bench/ is on sys.path when this file runs as a script. procsim is imported inside the
# functions that use it, so that the heapq loop's memory child does not pay for its imports
# (importing scipy.stats alone peaks at about 96 MiB of RSS).
from heapq_loop import ANALYTIC, simulate_support

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = ROOT / "bench" / "support_tickets.yaml"
SEED = 1
TABLE_HEADER = (
    "| model | cases | instances | events | simulate s | cases/s | instances/s | events/s "
    "| run_replication s | engine events/s | KPIs s |"
)


# --- measuring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Seconds of the best of several runs, by the chosen clock, and what the runs spread."""

    seconds: float     # best run, by the chosen clock
    cpu: float         # process CPU time of that run
    wall: float        # wall time of that run
    spread: float      # slowest / fastest run, by the chosen clock


def best_of(repeat: int, run: Callable[[], Any], clock: str) -> tuple[Timing, Any]:
    """Time ``repeat`` calls of ``run``; return the best one and the last call's result.

    ``clock`` is ``"cpu"`` (``time.process_time``: the time this process was on a core, which
    other load on a shared machine changes much less than the wall clock) or ``"wall"``
    (``time.perf_counter``).
    """
    runs = []
    result = None
    for _ in range(repeat):
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        result = run()
        runs.append((time.process_time() - c0, time.perf_counter() - w0))
    key = 0 if clock == "cpu" else 1
    best = min(runs, key=lambda r: r[key])
    worst = max(runs, key=lambda r: r[key])
    return Timing(best[key], best[0], best[1], worst[key] / best[key]), result


def machine() -> dict[str, Any]:
    import numpy as np
    import simpy

    import procsim

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load average (1 min) at start": f"{os.getloadavg()[0]:.2f}",
        "versions": f"procsim {procsim.__version__}, simpy {simpy.__version__}, "
                    f"numpy {np.__version__}",
    }


def measure_model(path: Path, cases: int, repeat: int, clock: str) -> dict[str, Any]:
    """Time one replication of a model with and without the KPI post-processing."""
    import procsim
    from procsim.engine import compile_model, run_replication
    from procsim.kpi import replication_kpis

    model = procsim.load_model(path)
    plan = compile_model(model)
    engine, record = best_of(
        repeat, lambda: run_replication(plan, seed=SEED, replication=0, cases=cases), clock)
    # The KPIs of that record, timed on their own: simulate minus run_replication would be
    # the difference of two noisy numbers.
    kpis, _ = best_of(repeat, lambda: replication_kpis(plan, record, 0), clock)
    # Warm-up 0: every model is timed on the same number of measured cases.
    sim, result = best_of(
        repeat, lambda: procsim.simulate(model, replications=1, cases=cases, seed=SEED, jobs=1,
                                         warmup=0), clock)
    instances = len(record.instance_activity)
    return {
        "model": path.relative_to(ROOT).as_posix(),
        "cases": record.cases,
        "instances": instances,
        "events": record.cases + 2 * instances,
        "simulate": sim,
        "engine": engine,
        "kpis": kpis,
        "result": result,
    }


def row(m: dict[str, Any]) -> str:
    s, e, k = m["simulate"].seconds, m["engine"].seconds, m["kpis"].seconds
    return (
        f"| {m['model']} | {m['cases']:,} | {m['instances']:,} | {m['events']:,} | {s:.3f} "
        f"| {m['cases'] / s:,.0f} | {m['instances'] / s:,.0f} | {m['events'] / s:,.0f} "
        f"| {e:.3f} | {m['events'] / e:,.0f} | {k:.3f} |"
    )


# --- memory, one subprocess per measurement -------------------------------------------------


def peak_rss_kib() -> int:
    """Peak resident set size of this process so far, in KiB.

    On Linux this is ``VmHWM`` from ``/proc/self/status``: ``getrusage``'s ``ru_maxrss``
    survives ``exec``, so a child started by a 120 MB parent would report at least 120 MB.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS


def child(kind: str, cases: int) -> None:
    """Run one measurement and print its peak RSS as JSON (in a fresh process)."""
    if kind == "heapq":
        def run() -> object:
            return simulate_support(cases, seed=SEED)
    else:
        import procsim
        from procsim.engine import compile_model, run_replication

        model = procsim.load_model(SUPPORT)
        plan = compile_model(model)

        def run() -> object:
            if kind == "engine":
                return run_replication(plan, seed=SEED, replication=0, cases=cases)
            return procsim.simulate(model, replications=1, cases=cases, seed=SEED, jobs=1)

    base = peak_rss_kib()
    c0, w0 = time.process_time(), time.perf_counter()
    run()
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    peak = peak_rss_kib()
    print(json.dumps({"base_kib": base, "peak_kib": peak, "cpu": cpu, "wall": wall}))


MEMORY_KINDS = {
    "heapq": "heapq loop",
    "engine": "procsim run_replication",
    "simulate": "procsim simulate (1 replication)",
}


def measure_memory(cases: int, *, quick: bool) -> dict[str, dict[str, Any]]:
    """Peak RSS of each kind of run, each in its own interpreter.

    ``quick`` (a smoke test) leaves out the engine-only run, whose code ``simulate`` runs
    too, and starts the others at once: the peaks are per process either way.
    """
    kinds = [k for k in MEMORY_KINDS if not (quick and k == "engine")]
    commands = {k: [sys.executable, str(Path(__file__).resolve()), "--child", k,
                    "--cases", str(cases)] for k in kinds}
    if quick:
        procs = {k: subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True) for k, c in commands.items()}
        outputs = {k: (*p.communicate(), p.returncode) for k, p in procs.items()}
    else:
        outputs = {}
        for k, c in commands.items():
            done = subprocess.run(c, capture_output=True, text=True, check=False)
            outputs[k] = (done.stdout, done.stderr, done.returncode)
    out: dict[str, dict[str, Any]] = {}
    for k, (stdout, stderr, code) in outputs.items():
        if code != 0:
            out[k] = {"error": (stderr.strip().splitlines() or ["?"])[-1]}
        else:
            out[k] = json.loads(stdout.strip().splitlines()[-1])
    return out


def time_command(command: list[str], timeout: float) -> tuple[float, float] | str:
    """Whole-process (wall, CPU) seconds of a command, or why it failed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                              timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"{type(err).__name__}: {err}"
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"exit code {done.returncode}: {last}"
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


# --- where the time goes ---------------------------------------------------------------------


def profile_engine(cases: int, top: int = 15) -> None:
    """cProfile ``run_replication`` on the support workload; print the top functions."""
    import cProfile
    import pstats

    import procsim
    from procsim.engine import compile_model, run_replication

    plan = compile_model(procsim.load_model(SUPPORT))
    run_replication(plan, seed=SEED, replication=0, cases=1_000)  # first-call costs
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    run_replication(plan, seed=SEED, replication=0, cases=cases)
    profiler.disable()
    elapsed = time.perf_counter() - t0
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"## cProfile of run_replication, support workload, {cases:,} arrivals\n")
    print(f"{elapsed:.2f} s under the profiler (its overhead inflates small functions most); "
          f"top {top} by own time.\n")
    print("| function | calls | own s | own % | cumulative s |")
    print("|---|---|---|---|---|")
    entries = sorted(stats.stats.items(),  # type: ignore[attr-defined]
                     key=lambda item: item[1][2], reverse=True)
    for (filename, line, name), (_, calls, own, cumulative, _) in entries[:top]:
        where = name if filename == "~" else f"{Path(filename).name}:{line}({name})"
        print(f"| `{where}` | {calls:,} | {own:.3f} | {own / total:.1%} | {cumulative:.3f} |")


# --- the report -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=None,
                        help="arrivals per timed replication (default 100000; --quick: 2000)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs per timing, best one reported (default 3; --quick: 1)")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                        help="time the runs by process CPU time (default) or by wall clock")
    parser.add_argument("--rss-cases", type=int, default=None,
                        help="arrivals for the peak-RSS runs (default 200000; --quick: 2000)")
    parser.add_argument("--cli-cases", type=int, default=None,
                        help="arrivals for the CLI run (default 200000; --quick: 2000)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument("--profile", action="store_true",
                        help="only cProfile run_replication on the support workload")
    parser.add_argument("--child", choices=sorted(MEMORY_KINDS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    small = 2_000 if args.quick else None
    cases = args.cases or small or 100_000
    repeat = args.repeat or (1 if args.quick else 3)
    rss_cases = args.rss_cases or small or 200_000
    cli_cases = args.cli_cases or small or 200_000

    if args.child:
        child(args.child, cases)
        return 0
    if args.profile:
        profile_engine(cases)
        return 0
    import procsim

    clock = "CPU time of the process (`time.process_time`)" if args.clock == "cpu" \
        else "wall-clock time (`time.perf_counter`)"
    print("## Machine\n")
    for key, value in machine().items():
        print(f"- {key}: {value}")
    print(f"\nOne replication, seed {SEED}, {cases:,} arrivals, warm-up 0. Seconds are {clock}, "
          f"best of {repeat} run(s). events = arrivals + 2 × activity instances. "
          "KPIs s = `procsim.kpi.replication_kpis` on the engine's record, timed alone.\n")

    # -- throughput ------------------------------------------------------------------------
    print(TABLE_HEADER)
    print("|" + "---|" * (TABLE_HEADER.count(" | ") + 1))
    support: dict[str, Any] | None = None
    timings: list[Timing] = []
    for path in [*sorted((ROOT / "models").glob("*.yaml")), SUPPORT]:
        try:
            m = measure_model(path, cases, repeat, args.clock)
        except procsim.ProcsimError as err:
            first = str(err).splitlines()[0]
            print(f"| {path.relative_to(ROOT).as_posix()} | skipped: {first} |")
            continue
        timings += [m["simulate"], m["engine"], m["kpis"]]
        print(row(m), flush=True)
        if path == SUPPORT:
            support = m
    if timings:
        print(f"\nOf the same measurement, the slowest run took up to "
              f"{max(t.spread for t in timings):.2f}× the fastest; wall time of the best runs "
              f"was {min(t.wall / t.cpu for t in timings):.2f}–"
              f"{max(t.wall / t.cpu for t in timings):.2f}× their CPU time.")
    if support is None:
        print("\nThe support workload did not run; nothing to compare.")
        return 1

    # -- the heapq loop ---------------------------------------------------------------------
    heapq_time, h = best_of(repeat, lambda: simulate_support(cases, seed=SEED), args.clock)
    print(f"\n## Support workload against the heapq loop ({cases:,} arrivals)\n")
    print("| implementation | seconds | cases/s | instances/s | events/s | time ÷ heapq loop |")
    print("|---|---|---|---|---|---|")
    for name, seconds, instances in (
        ("heapq loop (bench/heapq_loop.py)", heapq_time.seconds, h.instances),
        ("procsim run_replication (engine)", support["engine"].seconds, support["instances"]),
        ("procsim simulate (engine + KPIs)", support["simulate"].seconds, support["instances"]),
    ):
        print(f"| {name} | {seconds:.3f} | {cases / seconds:,.0f} | {instances / seconds:,.0f} "
              f"| {(cases + 2 * instances) / seconds:,.0f} | {seconds / heapq_time.seconds:.2f} |")

    # -- correctness ------------------------------------------------------------------------
    r = support["result"]
    print("\n## Support workload against its exact values\n")
    print(f"The timed runs above: one replication of {cases:,} arrivals each, seed {SEED}.\n")
    print("| quantity | analytic | procsim | error | heapq loop | error |")
    print("|---|---|---|---|---|---|")
    simulated = {
        "agents": (r.resource("agents", "utilization").mean, h.utilization["agents"]),
        "specialists": (r.resource("specialists", "utilization").mean,
                        h.utilization["specialists"]),
        "cost_per_case": (r.kpi("cost_per_case").mean, h.cost_per_case),
    }
    for key, (p, q) in simulated.items():
        exact = ANALYTIC[key]
        label = key if key == "cost_per_case" else f"utilisation {key}"
        print(f"| {label} | {exact:.4f} | {p:.4f} | {p / exact - 1:+.2%} | {q:.4f} "
              f"| {q / exact - 1:+.2%} |")

    # -- memory -----------------------------------------------------------------------------
    print(f"\n## Peak memory, support workload, {rss_cases:,} arrivals\n")
    print("Each row is a fresh interpreter; baseline = peak RSS after the imports, before "
          "the run.\n")
    print("| run | baseline RSS MiB | peak RSS MiB | growth MiB | CPU s | wall s |")
    print("|---|---|---|---|---|---|")
    for kind, m in measure_memory(rss_cases, quick=args.quick).items():
        if "error" in m:
            print(f"| {MEMORY_KINDS[kind]} | failed: {m['error']} | | | | |")
            continue
        base, peak = m["base_kib"] / 1024, m["peak_kib"] / 1024
        print(f"| {MEMORY_KINDS[kind]} | {base:.0f} | {peak:.0f} | {peak - base:.0f} "
              f"| {m['cpu']:.2f} | {m['wall']:.2f} |")

    # -- the command line -------------------------------------------------------------------
    print(f"\n## Whole process: the command line, {cli_cases:,} arrivals\n")
    print("| command | CPU s | wall s |")
    print("|---|---|---|")
    commands = [
        (f"python -m procsim run bench/support_tickets.yaml --cases {cli_cases} "
         "--replications 1",
         [sys.executable, "-m", "procsim", "run", str(SUPPORT.relative_to(ROOT)),
          "--cases", str(cli_cases), "--replications", "1"]),
    ]
    if not args.quick:
        commands.append(('python -c "import procsim"',
                         [sys.executable, "-c", "import procsim"]))
    for label, command in commands:
        outcome = time_command(command, timeout=600)
        if isinstance(outcome, str):
            print(f"| `{label}` | skipped ({outcome}) | |")
        else:
            wall, cpu = outcome
            print(f"| `{label}` | {cpu:.2f} | {wall:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
