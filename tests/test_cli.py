"""The command line: every command, its outputs and its exit codes."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from procsim.cli import app

runner = CliRunner()

MODEL = """\
procsim: 1
name: Two desks
time_unit: minutes
run: {cases: 600, warmup: 50, replications: 3, seed: 11}
arrivals: {interarrival: {dist: exponential, mean: 5}}
attributes:
  priority: {high: 0.3, normal: 0.7}
resources:
  clerks: {capacity: 2, cost_per_hour: 30}
activities:
  serve: {resource: clerks, duration: {dist: gamma, mean: 7, sd: 3}, cost: 1.5}
  wait_for_customer: {duration: {dist: exponential, mean: 20min}}
flow:
  start: serve
  serve: {end: 0.8, wait_for_customer: 0.2}
  wait_for_customer: serve
"""


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "desks.yaml"
    path.write_text(MODEL)
    return path


def test_run_prints_table_with_units(model_file: Path) -> None:
    result = runner.invoke(app, ["run", str(model_file), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Two desks: 3 replications, seed 11" in out
    assert "cycle_time" in out and "minutes" in out and "95% CI" in out
    assert "clerks" in out and "utilisation" in out


def test_run_json_structure(model_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["run", str(model_file), "--json", str(out), "-r", "4",
                                 "--seed", "5", "--jobs", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["model"] == "Two desks" and data["seed"] == 5 and data["replications"] == 4
    assert data["time_unit"] == "minutes"
    for kpi in ("cycle_time", "waiting_time", "processing_time", "cost_per_case",
                "throughput_per_hour"):
        assert kpi in data["kpis"]
    ct = data["kpis"]["cycle_time"]
    lo, hi = ct["ci95"]
    assert lo <= ct["mean"] <= hi and ct["p50"] <= ct["p90"] <= ct["p95"] and ct["sd"] > 0
    assert set(data["activities"]) == {"serve", "wait_for_customer"}
    assert data["activities"]["serve"]["count"]["mean"] > 0
    assert 0 < data["resources"]["clerks"]["utilization"]["mean"] < 1
    assert "mean" in data["resources"]["clerks"]["queue_length"]
    assert result.stdout == ""  # --quiet


def test_run_events_csv(model_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "log.csv"
    result = runner.invoke(app, ["run", str(model_file), "--events", str(out), "-r", "2",
                                 "--cases", "100", "--warmup", "0", "--jobs", "1", "-q"])
    assert result.exit_code == 0, result.output
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["replication", "case_id", "activity", "resource", "enabled",
                             "start", "end", "priority"]
    assert {r["replication"] for r in rows} == {"0", "1"}
    assert len({r["case_id"] for r in rows}) == 200  # every case of both replications
    for r in rows:
        assert float(r["enabled"]) <= float(r["start"]) <= float(r["end"])
        assert r["resource"] == ("clerks" if r["activity"] == "serve" else "")
        assert r["priority"] in ("high", "normal")


def test_same_seed_same_json_any_jobs(model_file: Path, tmp_path: Path) -> None:
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"r{jobs}.json"
        result = runner.invoke(app, ["run", str(model_file), "--json", str(out), "-q",
                                     "--jobs", jobs])
        assert result.exit_code == 0, result.output
        outs.append(out.read_text())
    assert outs[0] == outs[1]


def test_run_without_seed_draws_and_prints_one(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(MODEL.replace(", seed: 11", ""))
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["run", str(path), "-q", "--json", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    seed = json.loads(out.read_text())["seed"]
    assert f"seed: {seed} (drawn" in result.stderr


def test_bad_model_exit_2_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(MODEL.replace("capacity: 2", "capacity: -1").replace("mean: 5}", "mean: x}"))
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert f"{path}:9:" in result.stderr and "resources.clerks.capacity" in result.stderr
    assert "arrivals.interarrival.mean" in result.stderr
    assert result.stderr.rstrip().endswith(f"2 errors in {path}")


def test_unstable_model_refused_unless_allowed(tmp_path: Path) -> None:
    path = tmp_path / "hot.yaml"
    path.write_text(MODEL.replace("capacity: 2", "capacity: 1"))
    result = runner.invoke(app, ["run", str(path), "--jobs", "1"])
    assert result.exit_code == 2
    assert "resources.clerks.capacity" in result.stderr and "--allow-unstable" in result.stderr
    allowed = runner.invoke(app, ["run", str(path), "--allow-unstable", "--cases", "200",
                                  "--jobs", "1", "-q"])
    assert allowed.exit_code == 0, allowed.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cases", "10", "--duration", "1d"], "either --cases or --duration"),
        (["--warmup", "soon"], "--warmup: expected a number of cases"),
        (["--duration", "forever"], "--duration: expected a number or a duration"),
        (["--json", "/nonexistent/dir/out.json"], "does not exist"),
        (["--warmup", "600"], "leaves nothing to measure"),
    ],
)
def test_bad_arguments_exit_2(model_file: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["run", str(model_file), "--jobs", "1", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_missing_file_and_usage_errors_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "no such file" in result.stderr
    assert runner.invoke(app, ["run", "x.yaml", "--replications", "0"]).exit_code == 2
    assert runner.invoke(app, ["frobnicate"]).exit_code == 2


def test_outputs_are_not_clobbered_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    out.write_text("precious")
    bad = tmp_path / "bad.yaml"
    bad.write_text("procsim: 1\nname: [\n")
    result = runner.invoke(app, ["run", str(bad), "--json", str(out)])
    assert result.exit_code == 2 and "invalid YAML" in result.stderr
    assert out.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "r.json"]


def test_validate(model_file: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(model_file)])
    assert result.exit_code == 0
    assert "ok: Two desks" in result.stdout and "expected utilisation" in result.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(MODEL.replace("start: serve", "start: serv"))
    result = runner.invoke(app, ["validate", str(model_file), str(bad)])
    assert result.exit_code == 2
    assert "unknown node 'serv' (did you mean 'serve'?)" in result.stderr


def test_schema_is_json_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "procsim model"
    assert {"arrivals", "activities", "flow", "resources", "run"} <= set(schema["properties"])
    assert set(schema["required"]) >= {"procsim", "name", "arrivals", "activities", "flow"}


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("procsim ")


def test_real_subprocess_help_and_module() -> None:
    for cmd in (["procsim", "--help"], [sys.executable, "-m", "procsim", "--help"]):
        exe = Path(sys.executable).parent / "procsim" if cmd[0] == "procsim" else None
        argv = [str(exe), *cmd[1:]] if exe else cmd
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "run" in done.stdout and "validate" in done.stdout


def test_run_with_event_logs_compiles_the_model_once(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The event logs name activities and pools by the plan the replications ran on: one
    compilation, shared by the run, the logs, and the result (``RunResult.plan``)."""
    import importlib

    import procsim.engine

    simulate_module = importlib.import_module("procsim.simulate")
    compiled = []
    original = procsim.engine.compile_model

    def counting(model: object, **kwargs: object) -> object:
        compiled.append(model)
        return original(model, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(procsim.engine, "compile_model", counting)
    monkeypatch.setattr(simulate_module, "compile_model", counting)
    root = Path(__file__).resolve().parent.parent
    out = runner.invoke(app, ["run", str(root / "models" / "service_desk.yaml"), "--cases",
                              "800", "--replications", "2", "--seed", "1", "-q",
                              "--events", str(tmp_path / "events.csv"),
                              "--xes", str(tmp_path / "log.xes")])
    assert out.exit_code == 0, out.output
    assert len(compiled) == 1
    assert (tmp_path / "events.csv").stat().st_size > 0 and (tmp_path / "log.xes").exists()
