"""Tests for the benchmark in bench/: the script runs, and its workload is simulated correctly.

No timing is asserted anywhere: the benchmark measures speed, the tests only check that it
runs and that both implementations of the support-ticket workload reproduce its exact
utilisations and cost per case (``bench/support_tickets.yaml`` derives them in a comment).
"""

from __future__ import annotations

import doctest
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import procsim

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
SUPPORT = BENCH / "support_tickets.yaml"

EXACT = {"agents": 0.8148148148148148, "specialists": 0.75, "cost_per_case": 8.166666666666666}


@pytest.fixture(scope="module")
def heapq_loop() -> ModuleType:
    spec = importlib.util.spec_from_file_location("heapq_loop", BENCH / "heapq_loop.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["heapq_loop"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def test_quick_benchmark_runs_and_prints_the_table() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "bench_examples.py"), "--quick"],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "| model | cases | instances | events | simulate s | cases/s |" in done.stdout
    assert "bench/support_tickets.yaml" in done.stdout
    assert "time ÷ heapq loop" in done.stdout
    assert "peak RSS MiB" in done.stdout


def test_run_py_measures_everything_and_compares_with_the_heapq_loop() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--quick", "--sizes", "1000",
         "--model-cases", "1000", "--cli-cases", "1000", "--scale-cases", "1000"],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "| `python -m procsim run bench/support_tickets.yaml --cases 1000 " in out
    assert "wall ÷ heapq loop" in out and "peak RSS MiB" in out
    assert "| procsim simulate, 1,000 | 1,000 |" in out
    for model in ("loan_application", "order_to_cash", "service_desk"):
        assert f"| models/{model}.yaml | 1,000 |" in out
    assert "| 2 local worker processes (`--jobs 2`) |" in out


def test_heapq_loop_docstring_examples_run(heapq_loop: ModuleType) -> None:
    result = doctest.testmod(heapq_loop, raise_on_error=False)
    assert result.attempted > 0
    assert result.failed == 0


def test_analytic_values_match_the_model_file(heapq_loop: ModuleType) -> None:
    # The heapq loop's constants and the YAML describe the same workload: procsim's own
    # offered-load computation from the YAML gives the same utilisations.
    assert heapq_loop.ANALYTIC == pytest.approx(EXACT, rel=1e-12)
    loads = procsim.offered_load(procsim.load_model(SUPPORT))
    assert loads["agents"].utilization == pytest.approx(EXACT["agents"], rel=1e-12)
    assert loads["specialists"].utilization == pytest.approx(EXACT["specialists"], rel=1e-12)


def test_heapq_loop_matches_the_exact_values(heapq_loop: ModuleType) -> None:
    r = heapq_loop.simulate_support(200_000, seed=1)
    assert r.cases == 200_000
    # 2 × (1/0.9) activity instances per case on average.
    assert r.instances / r.cases == pytest.approx(2 / 0.9, rel=0.01)
    assert r.utilization["agents"] == pytest.approx(EXACT["agents"], rel=0.02)
    assert r.utilization["specialists"] == pytest.approx(EXACT["specialists"], rel=0.02)
    assert r.cost_per_case == pytest.approx(EXACT["cost_per_case"], rel=0.02)


def test_procsim_matches_the_exact_values_within_its_confidence_interval() -> None:
    model = procsim.load_model(SUPPORT)
    r = procsim.simulate(model, replications=10, cases=20_000, seed=2026, warmup=500, jobs=1)
    estimates = {
        "agents": r.resource("agents", "utilization"),
        "specialists": r.resource("specialists", "utilization"),
        # The exact value is the cost of the work (busy time), as the heapq loop computes.
        "cost_per_case": r.kpi("busy_cost_per_case").estimate,
    }
    for name, est in estimates.items():
        lo, hi = est.ci
        assert lo <= EXACT[name] <= hi, (name, est)
        # Narrow enough that a 2 % bias would be caught.
        assert est.half_width < 0.02 * EXACT[name], (name, est)


def test_engine_policies_benchmark_runs() -> None:
    """bench/engine_policies.py (a pool's policy: the same workload with a calendar or named
    people on one pool) runs and prints a row per variant, with its ratio to the plain one."""
    done = subprocess.run(
        [sys.executable, str(BENCH / "engine_policies.py"), "--cases", "400", "--repeat", "1",
         "--only", "support", "support+calendar", "support+people", "support+office"],
        capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| support")]
    assert [row.split("|")[1].strip() for row in rows] == [
        "support", "support+calendar", "support+people", "support+office"]
    assert rows[0].rstrip(" |").endswith("1.00×")
