"""procsim import never shows a traceback: mutated BPMN files and Prosimos parameters give
either a model or a ProcsimError with the file and line; legacy and foreign parameters."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from procsim.errors import ModelError, ProcsimError
from procsim.interop import import_bpmn
from procsim.model import parse_model

DATA = Path(__file__).parent / "data" / "bpmn"
PEERS = Path(__file__).resolve().parents[2] / "shared" / "peers" / "prosimos" / "models"
needs_peers = pytest.mark.skipif(not PEERS.is_dir(), reason=f"peer models not found at {PEERS}")
SOURCES = sorted(p for p in DATA.glob("*.bpmn") if p.name != "malformed.bpmn")


def int_below(rng: np.random.Generator, n: int, high: int | None = None) -> int:
    """A random integer in [0, n), or in [n, high) when high is given."""
    return int(rng.integers(n, high)) if high is not None else int(rng.integers(n))


def mutate_xml(text: str, rng: np.random.Generator) -> str:
    """One random edit: drop a line, swap two attribute values, rename a tag, cut the file."""
    lines = text.splitlines()
    if not lines:
        return text
    kind = int_below(rng, 5)
    i = int_below(rng, len(lines))
    if kind == 0:
        del lines[i]
    elif kind == 1:
        lines[i] = lines[i].replace('sourceRef="', 'targetRef="', 1).replace(
            'targetRef="', 'sourceRef="', 1)
    elif kind == 2:
        for old, new in (("Task", "Gateway"), ("Event", "Task"), ("Gateway", "Event"),
                         ("sequenceFlow", "messageFlow"), ('id="', 'name="')):
            if old in lines[i]:
                lines[i] = lines[i].replace(old, new, 1)
                break
    elif kind == 3:
        return text[:int_below(rng, len(text))]
    else:
        ids = [w.split('"')[0] for w in text.split('id="')[1:] if '"' in w]
        if ids:
            old, new = (ids[int_below(rng, len(ids))] for _ in range(2))
            lines[i] = lines[i].replace(old, new)
    return "\n".join(lines)


def test_mutated_bpmn_files_never_crash(tmp_path: Path) -> None:
    rng = np.random.default_rng(20261204)
    outcomes = {"model": 0, "error": 0}
    for k in range(240):
        source = SOURCES[k % len(SOURCES)]
        text = source.read_text()
        for _ in range(int_below(rng, 1, 4)):
            text = mutate_xml(text, rng)
        path = tmp_path / f"m{k}.bpmn"
        path.write_text(text)
        try:
            result = import_bpmn(path)
        except ProcsimError as err:
            issues = getattr(err, "issues", [])
            assert issues and all(i.file for i in issues), str(err)
            outcomes["error"] += 1
            continue
        parse_model(result.text)  # what imports, loads
        outcomes["model"] += 1
    # The mutations exercise both outcomes.
    assert outcomes["model"] > 20 and outcomes["error"] > 20, outcomes


def mutate_json(data: Any, rng: np.random.Generator) -> Any:
    """Replace one value anywhere in the document by a value of another type."""
    data = copy.deepcopy(data)
    paths: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node) \
            if isinstance(node, list) else []
        for key, value in items:
            paths.append((node, key))
            walk(value)

    walk(data)
    node, key = paths[int_below(rng, len(paths))]
    values: list[Any] = [None, 0, -1, "x", [], {}, 1e308, [1, 2], {"a": 1}, True]
    node[key] = values[int_below(rng, len(values))]
    return data


@needs_peers
def test_mutated_prosimos_parameters_never_crash(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    bpmn = PEERS / "and_join" / "and_join.bpmn"
    base = json.loads((PEERS / "and_join" / "and_join.json").read_text())
    errors = 0
    for k in range(30):
        path = tmp_path / f"p{k}.json"
        path.write_text(json.dumps(mutate_json(base, rng), indent=1))
        try:
            import_bpmn(bpmn, params=path)
        except ProcsimError as err:
            issues = getattr(err, "issues", [])
            # At the JSON, or (a value procsim rejects) at the BPMN element it went to.
            assert issues and all(i.file in (str(path), str(bpmn)) and i.line for i in issues), \
                str(err)
            errors += 1
    assert errors > 5


def pix(name: str, *values: float) -> dict[str, Any]:
    return {"distribution_name": name, "distribution_params": [{"value": v} for v in values]}


@needs_peers
def test_legacy_mapping_layout_gives_the_same_model(tmp_path: Path) -> None:
    bpmn = PEERS / "purchasing_qbp" / "purchasing_qbp.bpmn"
    data = json.loads((PEERS / "purchasing_qbp" / "purchasing_qbp.json").read_text())
    legacy = dict(data)
    legacy["resource_profiles"] = {p["id"]: {"name": p["name"], "resource_list":
                                             p["resource_list"]}
                                   for p in data["resource_profiles"]}
    legacy["gateway_branching_probabilities"] = {
        g["gateway_id"]: {p["path_id"]: p["value"] for p in g["probabilities"]}
        for g in data["gateway_branching_probabilities"]}
    legacy["task_resource_distribution"] = {
        t["task_id"]: {r["resource_id"]: {k: v for k, v in r.items() if k != "resource_id"}
                       for r in t["resources"]}
        for t in data["task_resource_distribution"]}
    for folder, content in (("new", data), ("old", legacy)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "p.json").write_text(json.dumps(content, indent=1))
    new = import_bpmn(bpmn, params=tmp_path / "new" / "p.json")
    old = import_bpmn(bpmn, params=tmp_path / "old" / "p.json")
    assert old.data == new.data
    assert any("resource_profiles: the legacy layout" in w.message for w in old.warnings)


@needs_peers
@pytest.mark.parametrize(("arrivals", "message"), [
    (pix("expon", 10, 20, 100), "expon [mean, min, max] needs its mean above its min"),
    (pix("fix", 0), "expected a mean time between arrivals > 0, got fix(0)"),
])
def test_degenerate_distributions_are_errors_at_their_json_path(
        tmp_path: Path, arrivals: dict[str, Any], message: str) -> None:
    data = json.loads((PEERS / "and_join" / "and_join.json").read_text())
    data["arrival_time_distribution"] = arrivals
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(ModelError) as err:
        import_bpmn(PEERS / "and_join" / "and_join.bpmn", params=path)
    (issue,) = err.value.issues
    assert issue.path == "arrival_time_distribution" and issue.line is not None
    assert message in issue.message


@needs_peers
def test_parameters_of_another_bpmn_file_are_an_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        import_bpmn(PEERS / "loan_application" / "loan_application.bpmn",
                    params=PEERS / "purchasing_qbp" / "purchasing_qbp.json")
    (issue,) = err.value.issues
    assert issue.path == "task_resource_distribution" and issue.line is not None
    assert "these parameters belong to another BPMN file" in issue.message


@needs_peers
def test_a_section_of_the_wrong_type_is_one_error(tmp_path: Path) -> None:
    data = json.loads((PEERS / "and_join" / "and_join.json").read_text())
    data["resource_calendars"] = "office hours"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(ModelError) as err:
        import_bpmn(PEERS / "and_join" / "and_join.bpmn", params=path)
    (issue,) = err.value.issues  # no follow-on 'unknown calendar' errors
    assert issue.path == "resource_calendars"
    assert "expected a list (Prosimos 2.1.0) or a mapping by id" in issue.message


@needs_peers
def test_cli_refuses_parameters_of_another_bpmn_file_with_exit_2(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from procsim.cli import app

    out = tmp_path / "m.yaml"
    result = CliRunner().invoke(app, [
        "import", str(PEERS / "loan_application" / "loan_application.bpmn"),
        "--params", str(PEERS / "purchasing_qbp" / "purchasing_qbp.json"), "-o", str(out)])
    assert result.exit_code == 2 and not out.exists()
    assert "purchasing_qbp.json:" in result.stderr
    assert "these parameters belong to another BPMN file" in result.stderr
    assert "Traceback" not in result.output
