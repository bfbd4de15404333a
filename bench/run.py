"""procsim's speed and memory against the heapq loop, measured in the same run.

Four tables, in markdown, for docs/performance.md:

1. **The command line, whole process** (the headline): ``python -m procsim run
   bench/support_tickets.yaml --cases N --replications 1`` from start to exit, against
   ``python bench/heapq_loop.py --cases N`` (default N = 200,000), best of ``--repeat``,
   alternating the two so that both see the same load on a shared machine.
2. **Size**: the support workload at 1k, 10k, 100k and 1M cases (``--sizes``), one
   replication through ``procsim.simulate``, and the heapq loop on the same cases: CPU
   seconds of the run (imports excluded), cases/s, activity instances/s, peak RSS of the
   whole process, and procsim's time over the heapq loop's.
3. **The example models** (``models/*.yaml``) at ``--model-cases`` (100k): the same columns.
4. **Parallel replications**: ``--scale-replications`` replications of ``--scale-cases``
   cases on 1 and on 2 local worker processes (wall time), and on a Dask cluster when
   ``--scheduler tcp://HOST:PORT`` is given or ``--dask-local`` starts one here (a
   scheduler and two one-thread workers on 127.0.0.1).

Every measurement runs in a fresh interpreter, so that peak memory (``VmHWM``) is that of
one run alone, and times exclude the interpreter's start and the imports unless they are
whole-process times. ``--quick`` uses tiny sizes (a smoke test, run by tests/test_bench.py).

Usage::

    python bench/run.py                  # the tables in docs/performance.md, a few minutes
    python bench/run.py --dask-local     # ... with a Dask run on a local two-worker cluster
    python bench/run.py --quick          # seconds
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_examples import machine, peak_rss_kib, time_command

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = ROOT / "bench" / "support_tickets.yaml"
HEAPQ = ROOT / "bench" / "heapq_loop.py"
SEED = 1


# --- one measurement, in a fresh interpreter ---------------------------------------------------


def child(kind: str, cases: int, model: str, replications: int, jobs: int,
          scheduler: str | None) -> dict[str, Any]:
    """Run one measurement here; return its figures (printed as JSON by ``main``)."""
    if kind == "heapq":
        from heapq_loop import simulate_support

        base = peak_rss_kib()
        c0, w0 = time.process_time(), time.perf_counter()
        result = simulate_support(cases, seed=SEED)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        return {"cpu": cpu, "wall": wall, "base_kib": base, "peak_kib": peak_rss_kib(),
                "cases": result.cases, "instances": result.instances}
    import procsim

    m = procsim.load_model(ROOT / model)
    base = peak_rss_kib()
    c0, w0 = time.process_time(), time.perf_counter()
    if scheduler:
        from procsim.simulate import dask_executor

        with dask_executor(scheduler) as executor:
            result = procsim.simulate(m, replications=replications, cases=cases, seed=SEED,
                                      warmup=0, executor=executor)
    else:
        result = procsim.simulate(m, replications=replications, cases=cases, seed=SEED,
                                  warmup=0, jobs=jobs)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    instances = sum(r.activities[a]["count"] for r in result.per_replication
                    for a in r.activities)
    return {"cpu": cpu, "wall": wall, "base_kib": base, "peak_kib": peak_rss_kib(),
            "cases": cases * replications, "instances": int(instances),
            "utilization": {p: result.resource(p, "utilization").mean
                            for p in m.resources}}


def measure(kind: str, cases: int, *, model: Path = SUPPORT, replications: int = 1,
            jobs: int = 1, scheduler: str | None = None) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind,
               "--cases", str(cases), "--model", model.relative_to(ROOT).as_posix(),
               "--replications", str(replications), "--jobs", str(jobs)]
    if scheduler:
        command += ["--scheduler", scheduler]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{kind} {model.name} {cases}: {last}")
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def best(runs: list[dict[str, Any]], key: str = "cpu") -> dict[str, Any]:
    return min(runs, key=lambda r: r[key])


# --- the tables ---------------------------------------------------------------------------------


def whole_process(cases: int, repeat: int) -> None:
    print(f"## The command line, whole process, {cases:,} cases\n")
    commands = {
        "procsim": [sys.executable, "-m", "procsim", "run", "bench/support_tickets.yaml",
                    "--cases", str(cases), "--replications", "1", "--seed", str(SEED)],
        "heapq": [sys.executable, str(HEAPQ), "--cases", str(cases)],
    }
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            outcome = time_command(command, timeout=900)
            if isinstance(outcome, str):
                print(f"{name} failed: {outcome}\n")
                return
            times[name].append(outcome)
    print("| command | wall s (best) | CPU s (best) | wall ÷ heapq loop | CPU ÷ heapq loop |")
    print("|---|---|---|---|---|")
    heapq_wall = min(w for w, _ in times["heapq"])
    heapq_cpu = min(c for _, c in times["heapq"])
    labels = {"procsim": f"`python -m procsim run bench/support_tickets.yaml --cases {cases} "
                         "--replications 1`",
              "heapq": f"`python bench/heapq_loop.py --cases {cases}`"}
    for name in commands:
        wall = min(w for w, _ in times[name])
        cpu = min(c for _, c in times[name])
        print(f"| {labels[name]} | {wall:.2f} | {cpu:.2f} | {wall / heapq_wall:.2f} "
              f"| {cpu / heapq_cpu:.2f} |")
    spread = max(max(w for w, _ in t) / min(w for w, _ in t) for t in times.values())
    print(f"\nBest of {repeat}, the two commands alternating; the slowest run of a command "
          f"took up to {spread:.2f}× its fastest.\n")


ROW = ("| {label} | {cases:,} | {instances:,} | {cpu:.3f} | {cps:,.0f} | {ips:,.0f} "
       "| {peak:.0f} | {ratio} |")
HEADER = ("| run | cases | activity instances | CPU s | cases/s | instances/s | peak RSS MiB "
          "| time ÷ heapq loop |\n|---|---|---|---|---|---|---|---|")


def row(label: str, m: dict[str, Any], ratio: str = "") -> str:
    return ROW.format(label=label, cases=m["cases"], instances=m["instances"], cpu=m["cpu"],
                      cps=m["cases"] / m["cpu"], ips=m["instances"] / m["cpu"],
                      peak=m["peak_kib"] / 1024, ratio=ratio)


def sizes(sizes: list[int], repeat: int) -> None:
    print("## Size: the support workload, one replication\n")
    print("CPU seconds of the run alone (no interpreter start, no imports); peak RSS of the "
          "whole process, imports included.\n")
    print(HEADER)
    for n in sizes:
        heapq = best([measure("heapq", n) for _ in range(repeat)])
        procsim = best([measure("procsim", n) for _ in range(repeat)])
        print(row(f"heapq loop, {n:,}", heapq), flush=True)
        print(row(f"procsim simulate, {n:,}", procsim,
                  f"{procsim['cpu'] / heapq['cpu']:.2f}"), flush=True)
    print()


def examples(cases: int, repeat: int) -> None:
    print(f"## The example models, one replication of {cases:,} cases\n")
    print(HEADER)
    for path in sorted((ROOT / "models").glob("*.yaml")):
        m = best([measure("procsim", cases, model=path) for _ in range(repeat)])
        print(row(path.relative_to(ROOT).as_posix(), m), flush=True)
    print()


def scaling(replications: int, cases: int, scheduler: str | None, repeat: int) -> None:
    print(f"## Parallel replications: {replications} × {cases:,} cases of the support "
          "workload\n")
    print("| where | wall s | replications/s | speed-up |")
    print("|---|---|---|---|")
    runs = [("1 local process (`--jobs 1`)", {"jobs": 1}),
            ("2 local worker processes (`--jobs 2`)", {"jobs": 2})]
    if scheduler:
        runs.append(("Dask, 2 workers × 1 thread (`--executor dask`)",
                     {"scheduler": scheduler}))
    first = None
    for label, how in runs:
        m = best([measure("procsim", cases, replications=replications, **how)
                  for _ in range(repeat)], key="wall")
        first = first or m["wall"]
        print(f"| {label} | {m['wall']:.2f} | {replications / m['wall']:.2f} "
              f"| {first / m['wall']:.2f} |", flush=True)
    print()


def local_dask_cluster() -> tuple[str, list[subprocess.Popen[bytes]]]:
    """A scheduler and two one-thread workers on 127.0.0.1; the address and the processes."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host",
                                   "127.0.0.1", "--port", str(port), "--no-dashboard"], **quiet)]
    processes += [subprocess.Popen([sys.executable, "-m", "dask", "worker", address,
                                    "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                                    "--host", "127.0.0.1"], **quiet) for _ in range(2)]
    from distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(2, timeout=120)
    return address, processes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs per measurement, best reported (default 3; --quick 1)")
    parser.add_argument("--cli-cases", type=int, default=None, help="default 200000")
    parser.add_argument("--sizes", default=None, help="default 1000,10000,100000,1000000")
    parser.add_argument("--model-cases", type=int, default=None, help="default 100000")
    parser.add_argument("--scale-replications", type=int, default=None, help="default 8")
    parser.add_argument("--scale-cases", type=int, default=None, help="default 50000")
    parser.add_argument("--scheduler", default=None,
                        help="a Dask scheduler for the parallel table (tcp://HOST:PORT)")
    parser.add_argument("--dask-local", action="store_true",
                        help="start a local Dask cluster (2 workers) for the parallel table")
    parser.add_argument("--child", choices=("procsim", "heapq"), help=argparse.SUPPRESS)
    parser.add_argument("--cases", type=int, default=1000, help=argparse.SUPPRESS)
    parser.add_argument("--model", default="bench/support_tickets.yaml", help=argparse.SUPPRESS)
    parser.add_argument("--replications", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.cases, args.model, args.replications,
                               args.jobs, args.scheduler)))
        return 0

    quick = args.quick
    repeat = args.repeat or (1 if quick else 3)
    cli_cases = args.cli_cases or (2_000 if quick else 200_000)
    size_list = [int(s) for s in (args.sizes or ("1000,5000" if quick else
                                                 "1000,10000,100000,1000000")).split(",")]
    model_cases = args.model_cases or (2_000 if quick else 100_000)
    scale_replications = args.scale_replications or (2 if quick else 8)
    scale_cases = args.scale_cases or (2_000 if quick else 50_000)

    print("## Machine\n")
    for key, value in machine().items():
        print(f"- {key}: {value}")
    print(f"- date: {time.strftime('%Y-%m-%d')}\n")
    started = time.perf_counter()
    whole_process(cli_cases, repeat)
    sizes(size_list, repeat)
    examples(model_cases, repeat)
    processes: list[subprocess.Popen[bytes]] = []
    scheduler = args.scheduler
    try:
        if args.dask_local and not scheduler:
            scheduler, processes = local_dask_cluster()
        scaling(scale_replications, scale_cases, scheduler, repeat)
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    print(f"Measured in {time.perf_counter() - started:.0f} s; load average (1 min) at the end "
          f"{os.getloadavg()[0]:.2f}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
