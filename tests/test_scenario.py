"""Scenarios: a base model plus dotted-path changes; typos never pass silently."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import procsim
from procsim import ModelError
from procsim.cli import app
from procsim.engine import compile_model
from procsim.model import load_model, load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))

BASE = """\
procsim: 1
name: Desk
description: The base desk
arrivals: {interarrival: {dist: exponential, mean: 5}}
resources:
  clerks: {capacity: 2, cost_per_hour: 30}
activities:
  serve: {resource: clerks, duration: {dist: exponential, mean: 8}}
  check: {duration: {dist: fixed, value: 1}}
flow:
  start: serve
  serve: {check: 0.5, end: 0.5}
  check: end
kpis:
  checked: {visits: check}
"""


@pytest.fixture
def base(tmp_path: Path) -> Path:
    (tmp_path / "models").mkdir()
    path = tmp_path / "models" / "desk.yaml"
    path.write_text(BASE)
    (tmp_path / "scenarios").mkdir()
    return path


def scenario(tmp_path: Path, changes: str, name: str = "More clerks") -> Path:
    path = tmp_path / "scenarios" / "s.yaml"
    path.write_text(f"procsim: 1\nname: {name}\nbase: ../models/desk.yaml\nchanges:\n"
                    + textwrap.indent(textwrap.dedent(changes), "  "))
    return path


def error_of(path: Path) -> ModelError:
    with pytest.raises(ModelError) as info:
        load_scenario(path)
    return info.value


def test_changes_are_applied_and_recorded(base: Path, tmp_path: Path) -> None:
    path = scenario(tmp_path, """\
        resources.clerks.capacity: 3
        flow.serve: {check: 0.2, express: 0.3, end: 0.5}
        activities.express: {resource: clerks, duration: {dist: fixed, value: 2min}}
        flow.express: end
        kpis.checked: null
    """)
    model = load_scenario(path)
    assert model.name == "More clerks" and model.description == ""
    assert Path(model.base_file or "").resolve() == base.resolve()
    assert model.resources["clerks"].capacity == 3
    assert model.activities["express"].duration.mean == 2.0
    assert "checked" not in model.kpis
    assert [(c.path, c.kind) for c in model.changes] == [
        ("resources.clerks.capacity", "set"), ("flow.serve", "set"),
        ("activities.express", "add"), ("flow.express", "add"), ("kpis.checked", "remove")]
    assert model.changes[0].before == 2 and model.changes[0].after == 3
    assert model.changes[4].before == {"visits": "check"} and model.changes[4].after is None


def test_list_items_by_index(base: Path, tmp_path: Path) -> None:
    (tmp_path / "models" / "desk.yaml").write_text(BASE.replace(
        "  serve: {check: 0.5, end: 0.5}",
        "  serve: [{to: check, when: {size: big}}, {to: end}]").replace(
        "kpis:", "attributes: {size: {big: 0.4, small: 0.6}}\nkpis:"))
    model = load_scenario(scenario(tmp_path, "flow.serve.1.to: check\n"))
    assert [b.to for b in model.flow["serve"]] == ["check", "check"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("resources.clerk.capacity: 3",
         "no field 'clerk' in resources (did you mean 'clerks'?)"),
        ("resources.clerks.capasity: 3",
         "no field 'capasity' in resources.clerks (did you mean 'capacity'?)"),
        ("activites.serve.cost: 1", "no field 'activites' in the base model (did you mean "
                                    "'activities'?)"),
        ("arrivals.interarrival.mean.x: 1", "arrivals.interarrival.mean is a single value"),
        ("name: Other", "'name' cannot be changed here"),
    ],
)
def test_a_typo_in_a_path_is_an_error_with_a_hint(base: Path, tmp_path: Path, change: str,
                                                   message: str) -> None:
    path = scenario(tmp_path, change + "\n")
    (issue,) = error_of(path).issues
    assert issue.file == str(path) and issue.line == 5 and issue.column == 3
    assert issue.path == f"changes.{change.split(':')[0]}"
    assert message in issue.message


def test_an_invalid_new_value_points_into_the_scenario(base: Path, tmp_path: Path) -> None:
    path = scenario(tmp_path, """\
        resources.clerks.capacity: 3
        activities.serve.duration: {dist: gamma, mean: -8, sd: 2}
    """)
    (issue,) = error_of(path).issues
    assert (issue.file, issue.line) == (str(path), 6)
    assert issue.path == "activities.serve.duration.mean"
    assert issue.message == "expected a number > 0, got -8"


def test_a_change_that_breaks_the_flow_is_reported(base: Path, tmp_path: Path) -> None:
    path = scenario(tmp_path, "activities.check: null\n")
    issues = error_of(path).issues
    assert any(i.path == "flow.serve.check" and "unknown node 'check'" in i.message
               for i in issues)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("procsim: 1\nname: S\nbase: ../models/nope.yaml\nchanges: {run.seed: 1}\n",
         "no such base model"),
        ("procsim: 1\nname: S\nbase: ../models/desk.yaml\nchanges: {}\n",
         "expected a mapping of dotted paths"),
        ("procsim: 1\nname: S\nbase: ../models/desk.yaml\nchanges: {run.seed: 1}\nresources: {}\n",
         "unknown field 'resources' in a scenario"),
    ],
)
def test_malformed_scenarios(base: Path, tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "scenarios" / "bad.yaml"
    path.write_text(text)
    assert message in str(error_of(path))


def test_a_scenario_cannot_be_a_base(base: Path, tmp_path: Path) -> None:
    first = scenario(tmp_path, "run.seed: 3\n")
    second = tmp_path / "scenarios" / "second.yaml"
    second.write_text(f"procsim: 1\nname: S2\nbase: {first.name}\nchanges: {{run.seed: 4}}\n")
    (issue,) = error_of(second).issues
    assert (issue.path, issue.line) == ("base", 3)
    assert "s.yaml is itself a scenario" in issue.message


def test_an_invalid_base_reports_the_base_file(base: Path, tmp_path: Path) -> None:
    base.write_text(BASE.replace("capacity: 2", "capacity: -2"))
    err = error_of(scenario(tmp_path, "run.seed: 3\n"))
    assert err.issues[0].file == str(base) and err.issues[0].path == "resources.clerks.capacity"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("flow.serve.5.to: check", "no item 5 in flow.serve: it has 2 items, numbered 0 to 1"),
        ("flow.serve.2: {to: end}", "no item 2 in flow.serve: it has 2 items, numbered 0 to 1"),
        ("flow.serve.-1.to: check", "expected an item number >= 0 in flow.serve, got -1 (it "
         "has 2 items, numbered 0 to 1; negative numbers do not count from the end)"),
        ("flow.serve.last.to: check", "flow.serve is a list: expected an item number, got "
         "'last' (it has 2 items, numbered 0 to 1)"),
        ("flow.serve.0.to.x: 1", "flow.serve.0.to is a single value, not a mapping; change "
         "'flow.serve.0.to' itself"),
    ],
)
def test_a_list_index_out_of_range_or_negative(base: Path, tmp_path: Path, change: str,
                                               message: str) -> None:
    # Before: "no field '5' in flow.serve (it is not a mapping)" for an item in the middle
    # of a path, and "no field '-1'" for a negative one.
    (tmp_path / "models" / "desk.yaml").write_text(BASE.replace(
        "  serve: {check: 0.5, end: 0.5}",
        "  serve: [{to: check, when: {size: big}}, {to: end}]").replace(
        "kpis:", "attributes: {size: {big: 0.4, small: 0.6}}\nkpis:"))
    path = scenario(tmp_path, change + "\n")
    (issue,) = error_of(path).issues
    assert (issue.file, issue.line, issue.column) == (str(path), 5, 3)
    assert issue.message == message


PASSWD = b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (PASSWD, "is not a procsim model (expected a mapping of model fields, got a text)"),
        (b"db:\n  password: root:x:0:0\n", "is not a procsim model (it has no 'procsim: 1'; a "
         "model starts with it)"),
        (b"\x7fELF\x02\x01\x01\x00\x00root:x:0:0\xff", "is not a procsim model (a binary "
         "file, not YAML text)"),
        (b"root:x:0:0: [\n", "is not a procsim model (not valid YAML, and no 'procsim: 1' in "
         "it)"),
        (b"", "is not a procsim model (it is empty)"),
    ],
    ids=["passwd", "other yaml", "binary", "not yaml", "empty"],
)
def test_a_base_that_is_not_a_model_is_not_quoted(base: Path, tmp_path: Path, content: bytes,
                                                  message: str) -> None:
    # Before: "base: /etc/passwd" printed the file's first line in "expected a mapping of model
    # fields, got 'root:x:0:0:...'"; other YAML listed its keys as unknown fields.
    outside = tmp_path / "elsewhere" / "passwd"
    outside.parent.mkdir()
    outside.write_bytes(content)
    path = tmp_path / "scenarios" / "s.yaml"
    path.write_text(f"procsim: 1\nname: S\nbase: {outside}\nchanges: {{run.seed: 1}}\n")
    err = error_of(path)
    (issue,) = err.issues
    assert (issue.file, issue.line, issue.column, issue.path) == (str(path), 3, 7, "base")
    assert issue.message == f"{outside} {message}"
    assert "root:x" not in str(err) and "password" not in str(err)


def test_a_base_model_with_a_mistake_shows_its_own_errors(base: Path, tmp_path: Path) -> None:
    # A model (it says 'procsim:') that is not valid YAML: its own errors, with its own lines.
    base.write_text(BASE.replace("capacity: 2, cost_per_hour: 30}", "capacity: 2"))
    err = error_of(scenario(tmp_path, "run.seed: 3\n"))
    assert err.issues[0].file == str(base) and "invalid YAML" in err.issues[0].message


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ('"desk\\0.yaml"', "expected the path of the base model, got 'desk\\x00.yaml' (a path "
         "holds no control characters)"),
        ('"../models/desk.yaml\\n"', "expected the path of the base model, got "
         "'../models/desk.yaml\\n' (a path holds no control characters)"),
        ('""', "expected the path of the base model, got ''"),
        ("{a: 1}", "expected the path of the base model, got a mapping"),
        ("../models", "expected a model file as base, got a directory: "),
    ],
)
def test_a_base_path_that_cannot_be_a_file(base: Path, tmp_path: Path, ref: str,
                                           message: str) -> None:
    # Before: "no such base model: .../desk\x00.yaml", the line break printed raw, and a
    # directory reported as missing.
    path = tmp_path / "scenarios" / "s.yaml"
    path.write_text(f"procsim: 1\nname: S\nbase: {ref}\nchanges: {{run.seed: 1}}\n")
    (issue,) = error_of(path).issues
    assert (issue.line, issue.path) == (3, "base")
    assert issue.message.startswith(message)


def test_a_scenario_that_lost_its_base_is_still_a_scenario(base: Path, tmp_path: Path) -> None:
    path = tmp_path / "scenarios" / "s.yaml"
    path.write_text("procsim: 1\nname: S\nbsae: ../models/desk.yaml\nchanges: {run.seed: 1}\n")
    messages = {(i.line, i.message) for i in error_of(path).issues}
    assert (3, "unknown field 'bsae' (did you mean 'base'?) in a scenario (it holds procsim, "
               "name, description, base, changes)") in messages
    assert any(m.startswith("expected the path of the base model, got nothing")
               for _, m in messages)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"- kpis\n- okrs\n", "not a procsim OKR file (expected a mapping with 'kpis' and/or "
         "'okrs', got a list)"),
        (PASSWD, "not a procsim OKR file (expected a mapping with 'kpis' and/or 'okrs', got a "
         "text)"),
        (b"{}\n", "expected a mapping with 'kpis' and/or 'okrs', got an empty mapping"),
        (b"", "expected a mapping with 'kpis' and/or 'okrs', got an empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a procsim model (a binary file, not YAML text)"),
    ],
)
def test_an_okr_file_that_is_not_a_mapping(base: Path, tmp_path: Path, content: bytes,
                                           message: str) -> None:
    from procsim.model.scenario import with_okrs

    path = tmp_path / "okrs.yaml"
    path.write_bytes(content)
    with pytest.raises(ModelError) as info:
        with_okrs(load_model(base), path)
    (issue,) = info.value.issues
    assert (issue.file, issue.line, issue.message) == (str(path), 1, message)


def test_a_plain_model_loads_as_a_scenario_without_changes(base: Path) -> None:
    model = load_scenario(base)
    assert model.changes == () and model.base_file is None
    assert model.model_dump() == load_model(base).model_dump()  # and no serializer warning


def test_scenario_and_base_share_random_numbers(base: Path, tmp_path: Path) -> None:
    # Common random numbers: a scenario that changes one thing leaves every other draw alone.
    path = scenario(tmp_path, "resources.clerks.capacity: 3\n")
    runs = [procsim.simulate(m, replications=2, cases=300, seed=4, keep_records=True, jobs=1)
            for m in (load_model(base), load_scenario(path))]
    serve = compile_model(load_model(base)).activities.index("serve")
    for rec_base, rec_scen in zip(runs[0].records or [], runs[1].records or [], strict=True):
        np.testing.assert_array_equal(rec_base.arrival, rec_scen.arrival)
        durations = [
            np.sort(r.instance_end[r.instance_activity == serve]
                    - r.instance_start[r.instance_activity == serve])
            for r in (rec_base, rec_scen)
        ]
        np.testing.assert_allclose(durations[0], durations[1], rtol=1e-9)


def test_cli_show_prints_changes_and_a_loadable_model(base: Path, tmp_path: Path) -> None:
    path = scenario(tmp_path, "resources.clerks.capacity: 3\nflow.check: end\n")
    result = CliRunner().invoke(app, ["show", str(path)])
    assert result.exit_code == 0, result.output
    assert "#   resources.clerks.capacity: 2 -> 3" in result.stdout
    body = "\n".join(line for line in result.stdout.splitlines() if not line.startswith("#"))
    merged = tmp_path / "merged.yaml"
    merged.write_text(body)
    assert load_model(merged).model_dump() == load_scenario(path).model_dump()


def test_cli_run_and_validate_accept_scenarios(base: Path, tmp_path: Path) -> None:
    path = scenario(tmp_path, "resources.clerks.capacity: 3\n")
    runner = CliRunner()
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 0
    result = runner.invoke(app, ["run", str(path), "-r", "2", "--cases", "200", "--jobs", "1"])
    assert result.exit_code == 0 and result.stdout.startswith("More clerks: 2 replications")
    bad = scenario(tmp_path, "resources.clerk.capacity: 3\n")
    result = runner.invoke(app, ["run", str(bad)])
    assert result.exit_code == 2 and "did you mean 'clerks'" in result.stderr


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_bundled_scenarios(path: Path) -> None:
    model = load_scenario(path)
    assert model.changes and model.base_file and Path(model.base_file).is_file()
    assert all(load.utilization < 1 for load in procsim.offered_load(model).values())
    result = procsim.simulate(model, replications=2, cases=300, warmup=0, jobs=1)
    assert np.isfinite(result.kpi("cycle_time").mean)


def test_every_example_model_has_two_scenarios() -> None:
    bases = [Path(load_scenario(p).base_file or "").resolve() for p in SCENARIOS]
    for model in sorted((ROOT / "models").glob("*.yaml")):
        assert bases.count(model.resolve()) >= 2, f"{model.name} has fewer than 2 scenarios"


def _doc_scenarios() -> list[str]:
    doc = ROOT / "docs" / "scenarios.md"
    if not doc.exists():
        return []
    blocks = re.findall(r"```yaml\n(.*?)```", doc.read_text(), flags=re.S)
    return [b for b in blocks if re.search(r"^base:", b, flags=re.M)]


@pytest.mark.parametrize("block", _doc_scenarios())
def test_doc_scenarios_load(block: str, tmp_path: Path) -> None:
    # The doc's scenarios name their base relative to scenarios/, as real ones do.
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "models").symlink_to(ROOT / "models")
    path = tmp_path / "scenarios" / "doc.yaml"
    path.write_text(block)
    data = yaml.safe_load(block)
    model = load_scenario(path)
    assert len(model.changes) == len(data["changes"])


@pytest.mark.parametrize("path", sorted((ROOT / "models").glob("*.yaml")), ids=lambda p: p.name)
def test_models_serialise_without_warnings(path: Path) -> None:
    # Reports and JSON outputs dump models; the tagged unions must serialise cleanly
    # (pytest turns any serializer warning into an error).
    import json

    model = load_model(path)
    data = model.model_dump(mode="json")
    assert json.loads(json.dumps(data))["name"] == model.name
    assert type(model).model_validate(model.model_dump(), context={
        "time_unit": model.time_unit}).model_dump() == model.model_dump()
