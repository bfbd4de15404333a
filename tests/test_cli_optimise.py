"""procsim sweep and procsim optimise (optimize): tables, outputs, the scenario written being
one that procsim compare takes as it is, refusals (exit 2, one line, no traceback)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from procsim.cli import app

runner = CliRunner()

#: One arrival a minute; 2.4 Erlangs of work: 1 and 2 clerks are unstable. Erlang C: a mean
#: wait of 2.6 min with 3 clerks, 0.45 with 4, 0.11 with 5.
MODEL = """\
procsim: 1
name: Desk
currency: EUR
run: {cases: 500, warmup: 50, replications: 4, seed: 3}
arrivals: {interarrival: {dist: exponential, mean: 1}}
resources: {clerks: {capacity: 3, cost_per_hour: 30}}
activities: {serve: {resource: clerks, duration: {dist: exponential, mean: 2.4}}}
flow: {start: serve, serve: end}
"""
OKRS = """\
okrs:
  - objective: Short queues
    key_results:
      - {kpi: waiting_time, to: "<= 1 min"}
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "models").mkdir()
    model = tmp_path / "models" / "desk.yaml"
    model.write_text(MODEL)
    okrs = tmp_path / "okrs.yaml"
    okrs.write_text(OKRS)
    return model, okrs


def test_sweep_table_knee_unstable_and_targets(files: tuple[Path, Path], tmp_path: Path) -> None:
    model, okrs = files
    json_out, csv_out, html_out = tmp_path / "s.json", tmp_path / "s.csv", tmp_path / "s.html"
    result = runner.invoke(app, ["sweep", str(model), "--vary", "resources.clerks.capacity=2..7",
                                 "--okrs", str(okrs), "--json", str(json_out), "--csv",
                                 str(csv_out), "--report", str(html_out), "-j", "1"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "sweep of resources.clerks.capacity: 6 points, 5 simulated" in out
    assert "skipped: unstable: 'clerks' would need 2.4 busy servers" in out
    assert "← knee (cycle_time)" in out
    lines = {line.split()[0]: line for line in out.splitlines()
             if line.strip()[:1].isdigit() and "skipped" not in line}
    assert "✓" not in lines["3"] and "✓" in lines["5"] and "✓" in lines["7"]
    data = json.loads(json_out.read_text())
    points = {p["changes"]["resources.clerks.capacity"]: p for p in data["points"]}
    assert points[2]["skipped"].startswith("unstable")
    assert points[3]["meets_targets"] is False and points[5]["meets_targets"] is True
    lo, hi = points[4]["kpis"]["waiting_time"]["ci"]
    assert lo < points[4]["kpis"]["waiting_time"]["mean"] < hi
    with csv_out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["kpi"] for r in rows} == {"cycle_time", "waiting_time", "cost_per_case"}
    assert len(rows) == 6 * 3
    assert "<img" in html_out.read_text() and "Desk" in html_out.read_text()


def test_sweep_grid_of_two_paths(files: tuple[Path, Path]) -> None:
    model, _ = files
    result = runner.invoke(app, ["sweep", str(model), "--vary",
                                 "activities.serve.duration.mean=2,2.4",
                                 "--vary", "resources.clerks.capacity=3..5", "--kpi",
                                 "waiting_time", "-j", "1"])
    assert result.exit_code == 0, result.output
    assert "6 points, 6 simulated" in result.stdout
    assert result.stdout.count("waiting_time") >= 1


def test_optimise_writes_a_scenario_compare_accepts(files: tuple[Path, Path],
                                                    tmp_path: Path) -> None:
    model, okrs = files
    best, json_out, html_out = tmp_path / "best.yaml", tmp_path / "o.json", tmp_path / "o.html"
    result = runner.invoke(app, ["optimise", str(model), "--okrs", str(okrs), "--vary",
                                 "resources.clerks.capacity=1..8", "--seed", "5", "-o",
                                 str(best), "--json", str(json_out), "--report", str(html_out),
                                 "-j", "1"])
    assert result.exit_code == 0, result.output
    assert "Recommended: resources.clerks.capacity = 4" in result.stdout
    assert "confirmed: every constraint attained" in result.stdout
    data = json.loads(json_out.read_text())
    assert data["best"]["changes"] == {"resources.clerks.capacity": 4} and data["confirmed"]
    assert data["seed"] == 5 and data["replications"] > 0
    assert "<img" in html_out.read_text()
    # the scenario round trip: compare takes it as it is, against the model it came from
    compared = runner.invoke(app, ["compare", str(model), str(best), "--okrs", str(okrs),
                                   "-r", "5", "--json", str(tmp_path / "c.json"), "-q"])
    assert compared.exit_code == 0, compared.output
    comparison = json.loads((tmp_path / "c.json").read_text())
    assert comparison["changes"]["Desk (optimised)"] == [
        {"path": "resources.clerks.capacity", "kind": "set", "before": 3, "after": 4}]
    # an existing file is not overwritten without --force
    again = runner.invoke(app, ["optimize", str(model), "--okrs", str(okrs), "--vary",
                                "resources.clerks.capacity=3..5", "-o", str(best)])
    assert again.exit_code == 2 and "exists; pass --force" in again.output
    forced = runner.invoke(app, ["optimize", str(model), "--okrs", str(okrs), "--vary",
                                 "resources.clerks.capacity=4..6", "-o", str(best), "--force",
                                 "-q"])
    assert forced.exit_code == 0, forced.output


def test_optimise_with_nothing_feasible_exits_1(files: tuple[Path, Path],
                                                tmp_path: Path) -> None:
    model, okrs = files
    best = tmp_path / "best.yaml"
    result = runner.invoke(app, ["optimise", str(model), "--okrs", str(okrs), "--vary",
                                 "resources.clerks.capacity=3..6", "--budget",
                                 "staffing_cost_per_hour <= 100", "-o", str(best)])
    assert result.exit_code == 1
    assert "No candidate was found" in result.stdout and not best.exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--vary", "resources.clerks.capacity=9..3"], "the range is empty"),
    (["--vary", "resources.clerks.capacity=3,x"], "expected numbers, got 'x'"),
    (["--vary", "resources.clerks.capacity"], "expected PATH=VALUES"),
    (["--vary", "resources.clerk.capacity=3..5"], "did you mean 'clerks'"),
    ([], "give at least one --vary"),
    (["--vary", "resources.clerks.capacity=3..5", "--objective", "cost"],
     "unknown objective 'cost'"),
    (["--vary", "resources.clerks.capacity=3..5", "--budget", "money <= 3"],
     "unknown KPI 'money'"),
    (["--vary", "resources.clerks.capacity=3..5", "--confidence", "1.2"],
     "--confidence: expected a probability"),
    (["--vary", "resources.clerks.capacity=3..5", "--report", "x.txt"], "ending in .html"),
])
def test_optimise_bad_input_is_one_line_exit_2(files: tuple[Path, Path], args: list[str],
                                               message: str) -> None:
    model, okrs = files
    result = runner.invoke(app, ["optimise", str(model), "--okrs", str(okrs), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_an_okr_on_an_unknown_kpi_is_refused(files: tuple[Path, Path], tmp_path: Path) -> None:
    model, _ = files
    bad = tmp_path / "bad.yaml"
    bad.write_text("okrs:\n  - objective: x\n    key_results: [{kpi: wait_time, to: 1}]\n")
    for command in ("optimise", "sweep"):
        result = runner.invoke(app, [command, str(model), "--okrs", str(bad), "--vary",
                                     "resources.clerks.capacity=3..4"])
        assert result.exit_code == 2, result.output
        assert f"{bad}:3:" in result.output and "wait_time" in result.output
        assert "Traceback" not in result.output


def test_sweep_bad_input_exit_2(files: tuple[Path, Path]) -> None:
    model, _ = files
    for args, message in [(["--vary", "resources.clerks.capacity=a..b"], "expected numbers"),
                          (["--vary", "x=1,2"], "no field 'x'"),
                          (["--vary", "resources.clerks.capacity=3", "--kpi", "speed"],
                           "unknown KPI 'speed'")]:
        result = runner.invoke(app, ["sweep", str(model), *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output


ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_worked_example_of_docs_optimise_runs_as_printed(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    import re
    import shlex

    doc = (ROOT / "docs" / "optimise.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n\$ (.*?)\n(.*?)```", doc, re.DOTALL)
    assert block is not None
    command, expected = block.group(1), block.group(2)
    args = shlex.split(command)
    assert args[0] == ".venv/bin/procsim" and args[1] == "optimise"
    out = tmp_path / "best.yaml"
    args[args.index("-o") + 1] = str(out)
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, [*args[1:], "-j", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip() == expected.rstrip()
    written = out.read_text(encoding="utf-8")
    shown = re.search(r"```yaml\n(procsim: 1\nname: IT service desk \(optimised\).*?)```", doc,
                      re.DOTALL)
    assert shown is not None
    # the same scenario, but for the base, which is relative to where it is written
    assert re.sub(r"base: .*", "", written) == re.sub(r"base: .*", "", shown.group(1))


def test_ctrl_c_prints_the_best_so_far_and_writes_nothing(files: tuple[Path, Path],
                                                          tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    import procsim.optimise as optimise_module

    real = optimise_module.optimise

    def interrupted(*args: object, **kwargs: object) -> object:
        starts = []

        def progress(done: int, total: int) -> None:
            starts.extend([1] if done == 0 else [])
            if len(starts) == 4 and done == 2:   # in the middle of the third candidate
                raise KeyboardInterrupt

        kwargs["progress"] = progress
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(optimise_module, "optimise", interrupted)
    model, okrs = files
    best = tmp_path / "best.yaml"
    result = runner.invoke(app, ["optimise", str(model), "--okrs", str(okrs), "--vary",
                                 "resources.clerks.capacity=3..8", "-o", str(best), "-j", "1"])
    assert result.exit_code == 130, result.output
    assert "INTERRUPTED: the best found so far" in result.stdout
    assert "Recommended: resources.clerks.capacity = 4" in result.stdout
    assert "no output files were written" in result.output and not best.exists()


def test_sweep_judges_a_change_relative_to_the_base_model(files: tuple[Path, Path],
                                                          tmp_path: Path) -> None:
    model, _ = files
    okrs = tmp_path / "cost.yaml"
    okrs.write_text("okrs:\n  - objective: Cheap\n    key_results:\n"
                    "      - {kpi: cost_per_case, change: '<= +5%'}\n")
    out = tmp_path / "s.json"
    result = runner.invoke(app, ["sweep", str(model), "--okrs", str(okrs), "--vary",
                                 "resources.clerks.capacity=3..4", "--json", str(out), "-q"])
    assert result.exit_code == 0, result.output
    points = {p["changes"]["resources.clerks.capacity"]: p
              for p in json.loads(out.read_text())["points"]}
    (target,) = points[3]["targets"]
    # the base model's own staffing: paired with itself on common random numbers, no change
    assert points[3]["targets"][target]["value"] == 0.0
    assert points[3]["targets"][target]["status"] == "met"
    # a fourth clerk: a third more staff cost per case
    assert points[4]["targets"][target]["value"] == pytest.approx(1 / 3, abs=0.03)
    assert points[4]["targets"][target]["status"] == "not_met"


@pytest.mark.slow
def test_the_python_example_of_docs_optimise_runs(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    doc = (ROOT / "docs" / "optimise.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", doc, re.DOTALL)
    assert block is not None
    code = block.group(1).replace('"out/service_desk_best.yaml"',
                                  repr(str(tmp_path / "best.yaml")))
    monkeypatch.chdir(ROOT)
    exec(compile(code, "docs/optimise.md", "exec"), {})
    from procsim import load_scenario

    scenario = load_scenario(tmp_path / "best.yaml")
    assert scenario.resources["agents"].capacity in range(4, 10)
