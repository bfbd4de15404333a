"""The defaults a model without a ``run`` section gets: run length, warm-up, replications.

Their coverage is measured in test_coverage.py; here, that each default does what the docs
say, and that the outputs say what was chosen.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

import procsim
from procsim.cli import app
from procsim.simulate import default_cases, precision_targets, replications_for_precision

MM1 = """\
procsim: 1
name: One desk
time_unit: minutes
arrivals: {{interarrival: {{dist: exponential, mean: {gap}}}}}
resources: {{clerk: {{capacity: {c}, cost_per_hour: 30}}}}
activities: {{serve: {{resource: clerk, duration: {{dist: exponential, mean: 1}}}}}}
flow: {{start: serve, serve: end}}
"""


def model(rho: float, c: int = 1, extra: str = "") -> procsim.Model:
    return procsim.parse_model(MM1.format(gap=1 / (rho * c), c=c) + extra)


def relaxation_cases(rho: float) -> float:
    """Arrivals in one relaxation time of M/M/c, λ s / (c (1 − √ρ)²) = ρ / (1 − √ρ)²."""
    return rho / (1 - math.sqrt(rho)) ** 2


def test_default_run_length_follows_the_load() -> None:
    assert default_cases(model(0.5)) == 5000          # the floor
    assert default_cases(model(0.9)) == math.ceil(30 * relaxation_cases(0.9) / 100) * 100
    assert default_cases(model(0.9)) == 10_300
    assert default_cases(model(0.9, c=4)) == 10_300   # λτ does not depend on c
    assert default_cases(model(0.97)) > 100_000
    assert default_cases(model(0.9999)) == 1_000_000  # the cap


def test_the_defaults_are_auto_and_the_result_says_so() -> None:
    m = model(0.5)
    assert m.run.warmup == "auto" and m.run.replications == "auto"
    result = procsim.simulate(m, seed=4)
    assert result.warmup_setting == "auto"
    assert result.replications >= 20
    assert result.precision == 0.1 and result.precision_kpis == (("cycle_time", "mean"),)
    est = result.kpi("cycle_time").estimate
    assert est.half_width <= 0.1 * est.mean
    assert any("5,000 cases per replication" in note for note in result.notes)
    data = result.to_dict()
    assert data["horizon"] == "5000 cases"
    assert data["precision"]["target"] == 0.1
    assert data["precision"]["reached"]["cycle_time:mean"] <= 0.1
    assert data["notes"] == list(result.notes)
    summary = result.summary()
    assert "by MSER-5" in summary and "within ±10%" in summary


def test_a_fixed_number_of_replications_is_kept() -> None:
    m = model(0.5, extra="run: {replications: 3, cases: 500, warmup: 0}\n")
    result = procsim.simulate(m, seed=1)
    assert result.replications == 3 and result.precision is None and result.notes == ()
    assert result.warmup == [0, 0, 0]


def test_replications_are_added_until_the_precision() -> None:
    m = model(0.8, extra="run: {cases: 2000}\n")
    result = procsim.simulate(m, seed=2, precision=0.03)
    est = result.kpi("cycle_time").estimate
    assert result.replications > 20          # the first round is not enough at ±3 %
    # The two-stage rule aims at the precision; it may fall a little short.
    assert est.half_width <= 0.035 * est.mean
    # Replication r is the same whether it came in the first round or a later one.
    fixed = procsim.simulate(m, seed=2, replications=result.replications,
                             warmup=result.warmup[0])
    assert fixed.values("cycle_time") == pytest.approx(result.values("cycle_time"), rel=1e-12)


def test_the_cap_is_reported() -> None:
    m = model(0.8, extra="run: {cases: 1000, max_replications: 25}\n")
    result = procsim.simulate(m, seed=2, precision=0.005)
    assert result.replications == 25
    assert any("stopped at the cap of 25" in note for note in result.notes)
    assert replications_for_precision(result, precision_targets(m), 0.005) > 25


def test_precision_follows_the_key_results_and_targets() -> None:
    m = model(0.8, extra=(
        "kpis:\n  quick: {share: cycle_time, within: 5min, target: '>= 60%'}\n"
        "okrs:\n  - objective: Fast\n    key_results: [{kpi: waiting_time, stat: p90, "
        "to: 10min}]\n"))
    assert precision_targets(m) == (("waiting_time", "p90"), ("quick", "mean"))
    result = procsim.simulate(m, seed=5, cases=2000)
    p90 = result.kpi("waiting_time").percentile_estimates["p90"]
    assert p90.half_width <= 0.11 * p90.mean


def test_a_large_cut_is_a_note() -> None:
    # A run far too short for ρ = 0.95: MSER-5 cuts much of it, and the result says so.
    m = model(0.95, extra="run: {cases: 300, replications: 20}\n")
    result = procsim.simulate(m, seed=1)
    assert result.warmup[0] > 300 // 4
    assert any(f"cut {result.warmup[0]} of 300 cases (more than a quarter of the run)" in note
               for note in result.notes)
    # A run long enough for ρ = 0.5 has no such note.
    calm = procsim.simulate(model(0.5, extra="run: {cases: 5000, replications: 20}\n"), seed=1)
    assert calm.warmup[0] <= 5000 // 4 and calm.notes == ()


def test_min_replications_above_max_is_an_error() -> None:
    with pytest.raises(procsim.ModelError, match="min_replications <= max_replications"):
        model(0.5, extra="run: {min_replications: 30, max_replications: 10}\n")


def test_precision_as_a_percentage() -> None:
    assert model(0.5, extra="run: {precision: 5%}\n").run.precision == pytest.approx(0.05)
    with pytest.raises(procsim.ModelError, match="precision"):
        model(0.5, extra="run: {precision: 150%}\n")


def test_cli_replications_auto_and_bad_values(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(MM1.format(gap=2.0, c=1))
    runner = CliRunner()
    out = tmp_path / "r.json"
    done = runner.invoke(app, ["run", str(path), "-r", "auto", "--precision", "8%",
                               "--cases", "1000", "--seed", "3", "-j", "1", "--json", str(out)])
    assert done.exit_code == 0, done.output
    data = json.loads(out.read_text())
    assert data["replications"] >= 20 and data["precision"]["target"] == pytest.approx(0.08)
    for args, message in ((["-r", "many"], "--replications"), (["-r", "0"], "--replications"),
                          (["--precision", "200%"], "--precision"),
                          (["--precision", "x"], "--precision")):
        done = runner.invoke(app, ["run", str(path), *args])
        assert done.exit_code == 2 and message in done.output, (args, done.output)
        assert "Traceback" not in done.output


def test_extending_a_result_runs_only_the_new_replications() -> None:
    m = model(0.8, extra="run: {cases: 1500}\n")
    first = procsim.simulate(m, seed=7, replications=20)
    ran: list[int] = []
    more = procsim.simulate(m, seed=7, replications=30, extend=first,
                            on_record=lambda record: ran.append(record.replication))
    assert ran == list(range(20, 30))
    assert more.replications == 30 and more.warmup == [first.warmup[0]] * 30
    assert more.values("cycle_time")[:20] == pytest.approx(first.values("cycle_time"), rel=0)
    # The new replications are those a run of 30 would have, with the same warm-up.
    fresh = procsim.simulate(m, seed=7, replications=30, warmup=first.warmup[0])
    assert more.values("cycle_time") == pytest.approx(fresh.values("cycle_time"), rel=1e-12)
    with pytest.raises(procsim.SimulationError, match="same seed"):
        procsim.simulate(m, seed=8, replications=30, extend=first)


def test_compare_rounds_extend_rather_than_rerun() -> None:
    from procsim.compare import compare

    base = model(0.8, extra="run: {cases: 1500}\n")
    faster = procsim.parse_model(MM1.format(gap=1 / 0.8, c=1).replace(
        "name: One desk", "name: Faster").replace("mean: 1}", "mean: 0.9}")
        + "run: {cases: 1500}\n")
    seen: list[tuple[int, int]] = []
    from procsim.simulate import running

    with running(progress=lambda done, total: seen.append((done, total))):
        result = compare(base, [faster], replications="auto", precision=0.05, seed=3)
    assert len(result.rounds) >= 2
    # Every model ran each replication once: the totals of the rounds add up to the last.
    totals = [total for done, total in seen if done == 0]
    assert sum(totals) == 2 * result.rounds[-1]
