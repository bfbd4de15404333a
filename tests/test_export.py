"""Exports: the CSV event log, XES (IEEE 1849) and BPMN 2.0 with a diagram.

The logs are read back with the standard library only (pm4py is AGPL-3.0 and not a
dependency; ``bench/open_exports_with_pm4py.py`` opens them with pm4py in a throwaway venv):
the XES at the level of the standard's schema, the CSV with the csv module, both against
each other (same cases, two events per activity instance).
"""

from __future__ import annotations

import csv
import dataclasses
import importlib
import io
import itertools
import re
import shlex
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import procsim
from procsim.cli import app
from procsim.engine import compile_model
from procsim.interop.bpmn_export import (
    BPMN_NAMESPACES,
    build_bpmn_graph,
    find_back_edges,
    format_bpmn,
    lay_out_layers,
    write_bpmn,
)
from procsim.output import TIME_ORIGIN, EventLog, XesLog, write_events_csv, write_xes

ROOT = Path(__file__).resolve().parent.parent
MODELS = sorted((ROOT / "models").glob("*.yaml"))
runner = CliRunner()

XES = "{http://www.xes-standard.org/}"
XES_TYPES = {"string", "date", "int", "float", "boolean", "id", "list"}
B = "{" + BPMN_NAMESPACES["bpmn"] + "}"
BPMNDI = "{" + BPMN_NAMESPACES["bpmndi"] + "}"
DC = "{" + BPMN_NAMESPACES["dc"] + "}"
DI = "{" + BPMN_NAMESPACES["di"] + "}"

ATTRIBUTES_MODEL = """
procsim: 1
name: Desk & "back office" <test>
time_unit: minutes
{start}
arrivals: {{interarrival: {{dist: exponential, mean: 5}}}}
attributes:
  amount: {{dist: uniform, min: 10, max: 20}}
  team: {{"R&D <lab>": 0.5, 'say "hi"': 0.5}}
  replication: {{dist: fixed, value: 3}}
resources: {{clerk: {{capacity: 2}}}}
gateways:
  fork: {{type: parallel}}
  join: {{type: parallel}}
activities:
  serve: {{resource: clerk, duration: {{dist: exponential, mean: 4}}}}
  check: {{resource: clerk, duration: {{dist: exponential, mean: 2}}}}
  wait: {{duration: {{dist: fixed, value: 0}}}}
  post: {{duration: {{dist: fixed, value: 3}}}}
flow:
  start: serve
  serve: {{serve: 0.2, fork: 0.8}}
  fork: [check, wait]
  check: join
  wait: join
  join: post
  post: end
"""


def attributes_model(start: str | None = None) -> Any:
    return procsim.parse_model(ATTRIBUTES_MODEL.format(start=f"start: {start}" if start else ""))


def run_logs(tmp_path: Path, model_file: Path, *extra: str) -> tuple[Path, Path]:
    csv_out, xes_out = tmp_path / "log.csv", tmp_path / "log.xes"
    result = runner.invoke(app, ["run", str(model_file), "--events", str(csv_out),
                                 "--xes", str(xes_out), "-r", "3", "--cases", "60",
                                 "--warmup", "0", "--jobs", "1", "--seed", "4", "-q", *extra])
    assert result.exit_code == 0, result.output
    assert f"wrote {csv_out}" in result.output and f"wrote {xes_out}" in result.output
    return csv_out, xes_out


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def attribute_value(element: ET.Element) -> Any:
    kind, text = element.tag.removeprefix(XES), element.get("value")
    assert text is not None
    if kind == "date":
        return datetime.fromisoformat(text)
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    return text


def check_xes(path: Path) -> list[dict[str, Any]]:
    """Check ``path`` against the structure of IEEE 1849 XES; return its traces, read back."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{XES}log"
    assert re.fullmatch(r"\d+(\.\d+)?", root.get("xes.version", "")), "xs:decimal version"
    # The schema's sequence: extensions, globals, classifiers, attributes, traces.
    order = ["extension", "global", "classifier", "attribute", "trace"]
    seen = [("attribute" if c.tag.removeprefix(XES) in XES_TYPES else c.tag.removeprefix(XES))
            for c in root]
    assert [order.index(s) for s in seen] == sorted(order.index(s) for s in seen)
    extensions = {e.get("prefix"): e for e in root.findall(f"{XES}extension")}
    assert set(extensions) == {"concept", "lifecycle", "org", "time"}
    for prefix, ext in extensions.items():
        assert ext.get("name") and ext.get("uri") == f"http://www.xes-standard.org/{prefix}.xesext"
    globals_ = {g.get("scope"): {a.get("key"): a for a in g} for g in root.findall(f"{XES}global")}
    assert set(globals_["trace"]) == {"concept:name"}
    assert set(globals_["event"]) == {"concept:name", "lifecycle:transition", "time:timestamp"}
    assert globals_["event"]["time:timestamp"].tag == f"{XES}date"
    for classifier in root.findall(f"{XES}classifier"):
        assert re.fullmatch(r"[A-Za-z_][\w.-]*", classifier.get("name", "")), "xs:NCName"
        assert set(classifier.get("keys", "").split()) <= set(globals_["event"])
    log_attributes = {a.get("key"): a.get("value") for a in root if a.tag.removeprefix(XES)
                      in XES_TYPES}
    assert log_attributes["lifecycle:model"] == "standard"
    traces = []
    for trace in root.findall(f"{XES}trace"):
        attributes = {a.get("key"): attribute_value(a) for a in trace
                      if a.tag != f"{XES}event"}
        assert all(a.tag.removeprefix(XES) in XES_TYPES | {"event"} for a in trace)
        assert trace.find(f"{XES}string[@key='concept:name']") is not None
        events = []
        for event in trace.findall(f"{XES}event"):
            keys = [a.get("key") for a in event]
            assert len(keys) == len(set(keys)), "a key occurs once per element"
            assert all(a.tag.removeprefix(XES) in XES_TYPES for a in event)
            values = {a.get("key"): attribute_value(a) for a in event}
            assert event.find(f"{XES}date[@key='time:timestamp']") is not None
            assert values["time:timestamp"].utcoffset() == timedelta(0)
            assert values["lifecycle:transition"] in ("schedule", "start", "complete")
            events.append(values)
        times = [e["time:timestamp"] for e in events]
        assert times == sorted(times), "events of a trace in order of time"
        traces.append({"attributes": attributes, "events": events})
    return traces


# --- CSV and XES, from the command line ---------------------------------------------------------


def test_csv_and_xes_together_match(tmp_path: Path) -> None:
    model_file = tmp_path / "m.yaml"
    model_file.write_text(ATTRIBUTES_MODEL.format(start=""), encoding="utf-8")
    csv_out, xes_out = run_logs(tmp_path, model_file)
    columns, rows = read_csv(csv_out)
    assert columns == ["replication", "case_id", "activity", "resource", "enabled", "start",
                       "end", "amount", "team", "case:replication"]
    assert len({r["case_id"] for r in rows}) == 180  # 3 replications x 60 cases
    for r in rows:
        assert float(r["enabled"]) <= float(r["start"]) <= float(r["end"])
        assert r["resource"] == ("clerk" if r["activity"] in ("serve", "check") else "")
        assert r["case_id"].startswith(f"{r['replication']}-")
    instances = Counter(r["case_id"] for r in rows)
    by_case = {r["case_id"]: r for r in rows}

    traces = check_xes(xes_out)
    assert len(traces) == 180
    names = [t["attributes"]["concept:name"] for t in traces]
    assert len(set(names)) == len(names) and set(names) == set(instances)
    for trace in traces:
        case = trace["attributes"]["concept:name"]
        events = trace["events"]
        assert len(events) == 3 * instances[case]
        row = by_case[case]
        assert trace["attributes"]["replication"] == int(row["replication"])
        assert trace["attributes"]["amount"] == float(row["amount"])
        assert trace["attributes"]["team"] == row["team"]  # escaped and read back
        assert trace["attributes"]["case:replication"] == 3.0
        # Every instance starts before it completes, and each activity is counted alike.
        open_ = Counter[str]()
        for e in events:
            step = {"schedule": 0, "start": 1, "complete": -1}[e["lifecycle:transition"]]
            open_[e["concept:name"]] += step
            assert open_[e["concept:name"]] >= 0
            if e["lifecycle:transition"] == "schedule":
                assert "org:resource" not in e  # nobody works on it yet
            elif e["concept:name"] in ("serve", "check"):
                assert e["org:resource"] == "clerk"
            else:
                assert "org:resource" not in e
        assert all(v == 0 for v in open_.values())
        csv_counts = Counter(r["activity"] for r in rows if r["case_id"] == case)
        assert Counter(e["concept:name"] for e in events) == \
            Counter({a: 3 * n for a, n in csv_counts.items()})
    # No model start: simulated time from the documented epoch.
    first = traces[0]["events"][0]["time:timestamp"]
    assert first.replace(tzinfo=None) - TIME_ORIGIN == timedelta(
        milliseconds=round(float(rows[0]["enabled"]) * 60_000))
    name = ET.parse(xes_out).getroot().find(f"{XES}string[@key='concept:name']")
    assert name is not None and name.get("value") == 'Desk & "back office" <test>'


def test_xes_has_schedule_start_and_complete_of_every_instance_in_order(tmp_path: Path) -> None:
    """The three lifecycle transitions, so that a process-mining tool measures the wait before
    the first activity too (the CSV's enabled, start, end), without pm4py."""
    model_file = tmp_path / "m.yaml"
    model_file.write_text(ATTRIBUTES_MODEL.format(start="start: 2026-01-05T08:00"),
                          encoding="utf-8")
    csv_out, xes_out = run_logs(tmp_path, model_file)
    _, rows = read_csv(csv_out)
    expected: dict[tuple[str, str], list[tuple[datetime, ...]]] = defaultdict(list)
    for r in rows:  # in order of start within a case
        expected[r["case_id"], r["activity"]].append(tuple(
            datetime.fromisoformat(r[k]) for k in ("enabled_time", "start_time", "end_time")))
    seen = 0
    for trace in check_xes(xes_out):  # events in order of time (checked there)
        case = trace["attributes"]["concept:name"]
        by_activity: dict[str, dict[str, list[datetime]]] = defaultdict(lambda: defaultdict(list))
        for e in trace["events"]:
            by_activity[e["concept:name"]][e["lifecycle:transition"]].append(e["time:timestamp"])
        for activity, stamps in by_activity.items():
            assert len(stamps["schedule"]) == len(stamps["start"]) == len(stamps["complete"])
            for times in zip(stamps["schedule"], stamps["start"], stamps["complete"],
                             strict=True):
                assert times[0] <= times[1] <= times[2]
            # The k-th instance of an activity: the CSV's k-th row, to the millisecond.
            assert sorted(zip(stamps["schedule"], stamps["start"], stamps["complete"],
                              strict=True)) == sorted(expected[case, activity])
            seen += len(stamps["start"])
        # A case's first event is the schedule of its first activity.
        assert trace["events"][0]["lifecycle:transition"] == "schedule"
    assert seen == len(rows)


def test_model_start_gives_absolute_times(tmp_path: Path) -> None:
    model_file = tmp_path / "m.yaml"
    model_file.write_text(ATTRIBUTES_MODEL.format(start="start: 2026-01-05T08:00"),
                          encoding="utf-8")
    csv_out, xes_out = run_logs(tmp_path, model_file)
    columns, rows = read_csv(csv_out)
    assert columns[4:10] == ["enabled", "start", "end", "enabled_time", "start_time", "end_time"]
    origin = datetime(2026, 1, 5, 8, 0)
    for r in rows:
        for simulated, clock in (("enabled", "enabled_time"), ("start", "start_time"),
                                 ("end", "end_time")):
            moment = datetime.fromisoformat(r[clock])
            assert moment.utcoffset() == timedelta(0)
            expected = origin + timedelta(minutes=float(r[simulated]))
            assert abs(moment.replace(tzinfo=None) - expected) <= timedelta(milliseconds=0.5)
    traces = check_xes(xes_out)
    starts = {(t["attributes"]["concept:name"], e["concept:name"]): e["time:timestamp"]
              for t in traces for e in t["events"] if e["lifecycle:transition"] == "start"}
    r = rows[0]
    assert starts[r["case_id"], r["activity"]] == datetime.fromisoformat(r["start_time"])


def test_interrupted_run_leaves_neither_log(tmp_path: Path, monkeypatch: Any) -> None:
    # The module, not the function procsim.simulate that shadows it.
    simulate_module = importlib.import_module("procsim.simulate")
    real = simulate_module.simulate

    def interrupted(model: Any, **kwargs: Any) -> Any:
        def first_then_stop(record: Any) -> None:
            kwargs["on_record"](record)
            raise KeyboardInterrupt

        return real(model, **{**kwargs, "on_record": first_then_stop})

    monkeypatch.setattr(simulate_module, "simulate", interrupted)
    out = tmp_path / "out"
    out.mkdir()
    (out / "log.xes").write_text("old", encoding="utf-8")
    result = runner.invoke(app, ["run", str(ROOT / "models" / "service_desk.yaml"), "-r", "3",
                                 "--cases", "50", "--warmup", "0", "--jobs", "1", "-q", "--events",
                                 str(out / "log.csv"), "--xes", str(out / "log.xes")])
    assert result.exit_code == 130, result.output
    assert sorted(p.name for p in out.iterdir()) == ["log.xes"]  # no temporary files either
    assert (out / "log.xes").read_text(encoding="utf-8") == "old"  # the old file is intact


def test_xes_errors_exit_2(tmp_path: Path) -> None:
    model = str(ROOT / "models" / "service_desk.yaml")
    result = runner.invoke(app, ["run", model, "--xes", str(tmp_path / "no" / "log.xes")])
    assert result.exit_code == 2 and "directory" in result.output
    same = str(tmp_path / "log")
    result = runner.invoke(app, ["run", model, "--xes", same, "--events", same])
    assert result.exit_code == 2 and "both name" in result.output
    assert list(tmp_path.iterdir()) == []


# --- the writers, as a library ------------------------------------------------------------------


def test_xes_is_written_one_replication_at_a_time() -> None:
    model = attributes_model()
    fh = io.StringIO()
    log = XesLog(fh, compile_model(model))
    sizes = []

    def write(record: Any) -> None:
        log.write(record)
        sizes.append((len(fh.getvalue()), fh.getvalue().count("<trace>")))

    procsim.simulate(model, replications=3, cases=20, seed=2, warmup=0, on_record=write)
    assert [n for _, n in sizes] == [20, 40, 60]  # each replication's traces as it arrives
    assert "</log>" not in fh.getvalue()
    log.close()
    log.close()  # once only
    assert fh.getvalue().endswith("</log>\n") and fh.getvalue().count("</log>") == 1
    with pytest.raises(ValueError, match="closed"):
        log.write(None)  # type: ignore[arg-type]


def test_small_chunks_give_the_same_logs(monkeypatch: Any) -> None:
    model = attributes_model("2026-01-05")
    result = procsim.simulate(model, replications=2, cases=40, seed=3, warmup=0,
                              keep_records=True)
    plan = compile_model(model)

    def both() -> tuple[str, str]:
        x, c = io.StringIO(), io.StringIO()
        xes, events = XesLog(x, plan), EventLog(c, plan)
        for record in result.records or []:
            xes.write(record)
            events.write(record)
        xes.close()
        return x.getvalue(), c.getvalue()

    whole = both()
    monkeypatch.setattr(XesLog, "CHUNK", 3)
    monkeypatch.setattr(EventLog, "CHUNK", 5)
    assert both() == whole


def test_write_functions_need_records(tmp_path: Path) -> None:
    model = attributes_model()
    kept = procsim.simulate(model, replications=2, cases=10, seed=1, warmup=0, keep_records=True)
    write_xes(kept, tmp_path / "a.xes")
    write_events_csv(kept, tmp_path / "a.csv")
    assert len(check_xes(tmp_path / "a.xes")) == 20
    assert len({r["case_id"] for r in read_csv(tmp_path / "a.csv")[1]}) == 20
    bare = procsim.simulate(model, replications=2, cases=10, seed=1, warmup=0)
    with pytest.raises(ValueError, match="keep_records"):
        write_xes(bare, tmp_path / "b.xes")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "a.xes"]


PEOPLE_MODEL = """
procsim: 1
name: People
arrivals: {interarrival: {dist: exponential, mean: 5}}
people: {ann: {}, bob: {}}
resources:
  clerk: {members: [ann, bob]}
  boss: {capacity: 1}
activities:
  serve: {resource: clerk, duration: {dist: exponential, mean: 4}}
  sign: {resource: boss, duration: {dist: exponential, mean: 1}}
  wait: {duration: {dist: fixed, value: 1}}
flow: {start: serve, serve: sign, sign: wait, wait: end}
"""


def test_people_named_in_both_logs() -> None:
    # Records as the engine writes them for named people: instance_server is the person's
    # index in model.people, -1 for anonymous servers and delays.
    people = procsim.parse_model(PEOPLE_MODEL)
    anonymous = procsim.parse_model(PEOPLE_MODEL.replace("members: [ann, bob]", "capacity: 2")
                                    .replace("people: {ann: {}, bob: {}}", ""))
    result = procsim.simulate(anonymous, replications=1, cases=30, seed=5, warmup=0,
                              keep_records=True)
    (record,) = result.records or []
    activity = record.instance_activity
    record.instance_server = np.where(activity == 0, np.arange(len(activity)) % 2, -1)
    plan = dataclasses.replace(compile_model(anonymous), model=people)
    c, x = io.StringIO(), io.StringIO()
    EventLog(c, plan).write(record)
    log = XesLog(x, plan)
    log.write(record)
    log.close()
    rows = list(csv.DictReader(io.StringIO(c.getvalue())))
    assert list(rows[0])[:5] == ["replication", "case_id", "activity", "resource", "person"]
    assert {r["person"] for r in rows if r["activity"] == "serve"} == {"ann", "bob"}
    assert {r["person"] for r in rows if r["activity"] != "serve"} == {""}
    assert {r["resource"] for r in rows if r["activity"] == "serve"} == {"clerk"}
    root = ET.fromstring(x.getvalue())
    who = defaultdict(set)
    for event in root.iter(f"{XES}event"):
        values = {a.get("key"): a.get("value") for a in event}
        if values["lifecycle:transition"] == "schedule":
            assert "org:resource" not in values and "org:group" not in values
            continue
        who[values["concept:name"]].add((values.get("org:resource"), values.get("org:group")))
    assert who["serve"] == {("ann", "clerk"), ("bob", "clerk")}
    assert who["sign"] == {("boss", None)}
    assert who["wait"] == {(None, None)}


def test_people_from_a_real_run_when_the_engine_names_them() -> None:
    model = procsim.parse_model(PEOPLE_MODEL)
    try:
        result = procsim.simulate(model, replications=1, cases=30, seed=5, warmup=0,
                                  keep_records=True)
    except procsim.ProcsimError as err:
        pytest.skip(f"this engine does not simulate named people yet: {err}")
    c = io.StringIO()
    for record in result.records or []:
        EventLog(c, compile_model(model)).write(record)
    rows = list(csv.DictReader(io.StringIO(c.getvalue())))
    assert {r["person"] for r in rows if r["activity"] == "serve"} <= {"ann", "bob"}
    assert {r["person"] for r in rows if r["activity"] == "serve"}


# --- BPMN ---------------------------------------------------------------------------------------


BPMN_NODE_TAGS = {"startEvent", "endEvent", "userTask", "task", "intermediateCatchEvent",
                  "exclusiveGateway", "parallelGateway"}

CHOICE_FROM_ACTIVITY = """
procsim: 1
name: Choices without gateways
arrivals: {interarrival: {dist: exponential, mean: 10}}
attributes: {amount: {dist: uniform, min: 0, max: 100}, tier: {gold: 0.5, basic: 0.5}}
resources: {clerk: {capacity: 3}}
gateways:
  fork: {type: parallel}
  join: {type: parallel}
  triage_split: {type: exclusive}
activities:
  triage: {resource: clerk, duration: {dist: exponential, mean: 2}}
  route: {resource: clerk, duration: {dist: exponential, mean: 1}}
  a: {resource: clerk, duration: {dist: exponential, mean: 2}}
  b: {duration: {dist: fixed, value: 90}}
  c: {resource: clerk, duration: {dist: exponential, mean: 1}}
  d: {resource: clerk, duration: {dist: exponential, mean: 1}}
flow:
  start: triage
  triage: {route: 0.6, fork: 0.3, triage_split: 0.1}
  triage_split: {end: 0.5, triage: 0.5}
  route:
    - {to: a, when: {amount: "> 50", tier: gold}}
    - {to: b, when: {tier: [gold, basic]}}
    - {to: end}
  fork: [c, d]
  c: join
  d: join
  join: end
  a: end
  b: end
"""


def bpmn_models() -> list[Any]:
    return [*(pytest.param(procsim.load_model(p), id=p.stem) for p in MODELS),
            pytest.param(procsim.parse_model(CHOICE_FROM_ACTIVITY), id="implicit-gateways")]


def read_bpmn(text: str) -> dict[str, Any]:
    root = ET.fromstring(text)
    assert root.tag == f"{B}definitions" and root.get("targetNamespace")
    (process,) = root.findall(f"{B}process")
    ids = [e.get("id") for e in root.iter() if e.get("id") is not None]
    assert len(ids) == len(set(ids)), "ids are unique in the document"
    assert all(re.fullmatch(r"[A-Za-z_][\w.-]*", i or "") for i in ids), "xs:ID"
    nodes = {e.get("id"): e for e in process if e.tag.removeprefix(B) in BPMN_NODE_TAGS}
    flows = {e.get("id"): e for e in process.findall(f"{B}sequenceFlow")}
    shapes = {s.get("bpmnElement"): s for s in root.iter(f"{BPMNDI}BPMNShape")}
    edges = {s.get("bpmnElement"): s for s in root.iter(f"{BPMNDI}BPMNEdge")}
    (plane,) = root.iter(f"{BPMNDI}BPMNPlane")
    assert plane.get("bpmnElement") == process.get("id")
    return {"root": root, "nodes": nodes, "flows": flows, "shapes": shapes, "edges": edges}


def bounds(element: ET.Element) -> tuple[float, float, float, float]:
    b = element.find(f"{DC}Bounds")
    assert b is not None
    return tuple(float(b.get(k, "nan")) for k in ("x", "y", "width", "height"))  # type: ignore


def crosses(box: tuple[float, ...], a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Does the axis-parallel segment a-b pass through the inside of ``box``?"""
    x, y, w, h = box
    if a[1] == b[1]:
        return y < a[1] < y + h and max(min(a[0], b[0]), x) < min(max(a[0], b[0]), x + w)
    return x < a[0] < x + w and max(min(a[1], b[1]), y) < min(max(a[1], b[1]), y + h)


def on_border(box: tuple[float, ...], p: tuple[float, float]) -> bool:
    x, y, w, h = box
    return ((p[0] in (x, x + w) and y <= p[1] <= y + h)
            or (p[1] in (y, y + h) and x <= p[0] <= x + w))


@pytest.mark.parametrize("model", bpmn_models())
def test_bpmn_has_every_node_flow_shape_and_edge(model: Any) -> None:
    doc = read_bpmn(format_bpmn(model))
    nodes, flows, shapes, edges = doc["nodes"], doc["flows"], doc["shapes"], doc["edges"]
    # Every node of the model, under its own name, as the right kind of element.
    for name, activity in model.activities.items():
        element = "userTask" if activity.resource else "intermediateCatchEvent"
        assert nodes[name].tag == f"{B}{element}"
        assert nodes[name].get("name") == name.replace("_", " ")
    for name, gateway in model.gateways.items():
        assert nodes[name].tag == f"{B}{gateway.type}Gateway"
    assert nodes["start"].tag == f"{B}startEvent" and nodes["end"].tag == f"{B}endEvent"
    added = set(nodes) - {"start", "end", *model.activities, *model.gateways}
    assert all(nodes[n].tag.endswith("Gateway") for n in added)
    # Every flow of the model: directly, or through a gateway the export added.
    pairs = {(f.get("sourceRef"), f.get("targetRef")) for f in flows.values()}
    bpmn = nx.DiGraph(pairs)
    for source, target in procsim.build_graph(model).edges:
        assert (source, target) in pairs or any(
            (source, gw) in pairs and (gw, target) in pairs for gw in added), (source, target)
    # incoming/outgoing agree with the flows.
    for node_id, node in nodes.items():
        assert {i.text for i in node.findall(f"{B}incoming")} == \
            {f for f, e in flows.items() if e.get("targetRef") == node_id}
        assert {o.text for o in node.findall(f"{B}outgoing")} == \
            {f for f, e in flows.items() if e.get("sourceRef") == node_id}
    assert set(bpmn) <= set(nodes)
    # The diagram: a shape per node, an edge per flow, no overlaps, flows around shapes.
    assert set(shapes) == set(nodes) and set(edges) == set(flows)
    boxes = {n: bounds(s) for n, s in shapes.items()}
    for (m, a), (n, b) in itertools.combinations(boxes.items(), 2):
        assert (a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0] or a[1] + a[3] <= b[1]
                or b[1] + b[3] <= a[1]), f"shapes {m} and {n} overlap"
    for flow_id, edge in edges.items():
        points = [(float(p.get("x", "nan")), float(p.get("y", "nan")))
                  for p in edge.findall(f"{DI}waypoint")]
        assert len(points) >= 2
        source, target = flows[flow_id].get("sourceRef"), flows[flow_id].get("targetRef")
        assert on_border(boxes[source], points[0]) and on_border(boxes[target], points[-1])
        for p, q in itertools.pairwise(points):
            assert p[0] == q[0] or p[1] == q[1], "orthogonal segments"
            for node, box in boxes.items():
                assert not crosses(box, p, q), f"flow {flow_id} runs through {node}"


def test_bpmn_keeps_conditions_probabilities_and_adds_gateways() -> None:
    model = procsim.parse_model(CHOICE_FROM_ACTIVITY)
    doc = read_bpmn(format_bpmn(model))
    nodes, flows = doc["nodes"], doc["flows"]
    by_pair = {(f.get("sourceRef"), f.get("targetRef")): f for f in flows.values()}
    # triage chooses without a gateway: the export adds one (its id avoids the user's name).
    assert nodes["triage_split_2"].tag == f"{B}exclusiveGateway"
    assert set(by_pair) >= {("triage", "triage_split_2"), ("triage_split_2", "route"),
                            ("triage_split_2", "fork"), ("triage_split_2", "triage_split")}
    assert by_pair["triage_split_2", "route"].get("name") == "60%"
    assert by_pair["triage_split_2", "route"].findtext(f"{B}documentation") == "probability 0.6"
    # route has conditions: an added gateway, a condition per branch, the last the default.
    split = nodes["route_split"]
    assert split.tag == f"{B}exclusiveGateway"
    conditions = {t: by_pair["route_split", t].find(f"{B}conditionExpression")
                  for t in ("a", "b", "end")}
    assert conditions["a"].text == "amount > 50 and tier == gold"
    assert conditions["b"].text == "tier in [gold, basic]"
    assert conditions["a"].get("{http://www.w3.org/2001/XMLSchema-instance}type") == \
        "bpmn:tFormalExpression"
    assert conditions["end"] is None
    assert split.get("default") == by_pair["route_split", "end"].get("id")
    # Pools become resources; tasks refer to them; the delay is a timer of its mean.
    resources = {r.get("id"): r.get("name") for r in doc["root"].findall(f"{B}resource")}
    assert resources[nodes["a"].findtext(f"{B}performer/{B}resourceRef")] == "clerk"
    assert nodes["b"].findtext(f"{B}timerEventDefinition/{B}timeDuration") == "PT1H30M"


@pytest.mark.parametrize("model", bpmn_models())
def test_bpmn_round_trip_through_the_import_gives_the_same_model(model: Any,
                                                                 tmp_path: Path) -> None:
    from procsim.interop import import_bpmn

    result = import_bpmn(write_bpmn(model, tmp_path / "m.bpmn"))
    assert procsim.parse_model(result.text).model_dump() == model.model_dump()
    assert not result.placeholders and not result.warnings


def strip_procsim_extensions(text: str) -> str:
    """The export as a BPMN editor that drops other tools' extensions would save it."""
    return re.sub(r"\s*<bpmn:extensionElements>.*?</bpmn:extensionElements>", "", text,
                  flags=re.DOTALL)


@pytest.mark.parametrize("model", bpmn_models())
def test_bpmn_round_trip_without_procsim_extensions_keeps_the_flow_graph(
        model: Any, tmp_path: Path) -> None:
    from procsim.interop import import_bpmn

    path = tmp_path / "m.bpmn"
    path.write_text(strip_procsim_extensions(format_bpmn(model)), encoding="utf-8")
    assert "procsim:" not in path.read_text(encoding="utf-8").split("<bpmn:process", 1)[1]
    result = import_bpmn(path)
    imported = procsim.parse_model(result.text)
    exported = build_bpmn_graph(model)

    def kinds(g: nx.DiGraph, kind: Any) -> nx.DiGraph:
        out = nx.DiGraph(g.edges)
        nx.set_node_attributes(out, {n: kind(n, g) for n in g}, "kind")
        return out

    def exported_kind(n: Any, g: nx.DiGraph) -> str:
        element = g.nodes[n]["element"]
        return "gateway" if element.endswith("Gateway") else \
            n if n in ("start", "end") else "activity"

    def imported_kind(n: Any, g: nx.DiGraph) -> str:
        kind = g.nodes[n]["kind"]
        return str(kind if kind != "gateway" else "gateway")

    assert nx.is_isomorphic(kinds(exported, exported_kind),
                            kinds(procsim.build_graph(imported), imported_kind),
                            node_match=lambda a, b: a["kind"] == b["kind"])
    # The performers give the pools back (capacities are placeholders).
    pools = {a.resource for a in model.activities.values() if a.resource}
    assert {a.resource for a in imported.activities.values() if a.resource} == pools


def test_export_command(tmp_path: Path) -> None:
    out = tmp_path / "loan.bpmn"
    result = runner.invoke(app, ["export", str(ROOT / "models" / "loan_application.yaml"),
                                 "--bpmn", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"wrote {out}"
    assert read_bpmn(out.read_text(encoding="utf-8"))["nodes"]["checks"].tag == \
        f"{B}parallelGateway"
    assert [p.name for p in tmp_path.iterdir()] == ["loan.bpmn"]


@pytest.mark.parametrize(("args", "message"), [
    (["--bpmn", "{tmp}/missing/out.bpmn"], "directory"),
    ([], "nothing to export"),
])
def test_export_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    args = [a.format(tmp=tmp_path) for a in args]
    result = runner.invoke(app, ["export", str(ROOT / "models" / "service_desk.yaml"), *args])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_export_of_a_bad_model_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("procsim: 1\nname: x\n", encoding="utf-8")
    result = runner.invoke(app, ["export", str(bad), "--bpmn", str(tmp_path / "o.bpmn")])
    assert result.exit_code == 2 and "bad.yaml" in result.output
    assert not (tmp_path / "o.bpmn").exists()


# --- the layout on any graph --------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), max_size=25))
def test_layering_of_any_graph(pairs: list[tuple[int, int]]) -> None:
    g = nx.DiGraph()
    g.add_node("start")
    g.add_edges_from(("start" if u == 0 else u, v if v else "start") for u, v in pairs)
    lay = lay_out_layers(g, sink=None)
    back = find_back_edges(g)
    assert nx.is_directed_acyclic_graph(nx.DiGraph(g.edges - back))
    assert lay.back_edges == back
    for u, v in g.edges - back:
        assert lay.layer[v] > lay.layer[u]
        # The bends of a long edge fill every layer in between.
        assert [layer for layer, _ in lay.bends[u, v]] == list(range(lay.layer[u] + 1,
                                                                     lay.layer[v]))
    slots = defaultdict(list)
    for n in g:
        slots[lay.layer[n]].append(lay.row[n])
    for bends in lay.bends.values():
        for layer, row in bends:
            slots[layer].append(row)
    for rows in slots.values():
        assert len(rows) == len(set(rows)) <= lay.rows  # one node or bend per slot


# --- docs/interop.md ----------------------------------------------------------------------------


def export_section() -> str:
    text = (ROOT / "docs" / "interop.md").read_text(encoding="utf-8")
    return text.split("\n## Export", 1)[1].split("\n## ", 1)[0]


def test_docs_export_commands_run(tmp_path: Path) -> None:
    commands = re.findall(r"^\$ procsim (.+)$", export_section(), re.MULTILINE)
    assert any(c.startswith("export ") for c in commands)
    assert any("--xes" in c for c in commands)
    for command in commands:
        args = [str(ROOT / a) if a.startswith("models/") else str(tmp_path / a)
                if a.endswith((".csv", ".xes", ".bpmn")) else a for a in shlex.split(command)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (command, result.output)
    produced = {p.suffix for p in tmp_path.iterdir()}
    assert {".csv", ".xes", ".bpmn"} <= produced


def test_docs_show_the_real_csv_header(tmp_path: Path) -> None:
    section = export_section()
    headers = re.findall(r"^replication,case_id,.*$", section, re.MULTILINE)
    assert headers
    for command in re.findall(r"^\$ procsim (run .+--events .+)$", section, re.MULTILINE):
        args = [str(ROOT / a) if a.startswith("models/") else str(tmp_path / a)
                if a.endswith((".csv", ".xes")) else a for a in shlex.split(command)]
        assert runner.invoke(app, args).exit_code == 0
        csv_file = next(a for a in args if a.endswith(".csv"))
        header = Path(csv_file).read_text(encoding="utf-8").splitlines()[0]
        assert header in headers


# --- the examples in the docstrings -------------------------------------------------------------


@pytest.mark.parametrize("name", ["procsim.output", "procsim.interop.bpmn_export"])
def test_docstring_examples(name: str, monkeypatch: Any) -> None:
    import doctest

    monkeypatch.chdir(ROOT)  # examples read models/*.yaml
    result = doctest.testmod(importlib.import_module(name), raise_on_error=False)
    assert result.attempted > 0 and result.failed == 0


def test_xes_schedule_events_give_read_log_the_enabled_times(tmp_path: Path) -> None:
    """procsim run --xes, then read_log: the waits come back (from the schedule events), and
    the KPIs of the XES equal those of the CSV log, which has the enabled times as columns."""
    from procsim.eventlog import read_log
    from procsim.eventlog.kpis import log_kpis

    model = attributes_model("2026-01-05T08:00")
    run = procsim.simulate(model, replications=1, cases=80, seed=3, warmup=0,
                           keep_records=True)
    csv_log = read_log(write_events_csv(run, tmp_path / "e.csv"))
    xes_log = read_log(write_xes(run, tmp_path / "e.xes"))
    columns = ["case", "activity", "enabled", "start", "end"]
    assert csv_log.frame[columns].equals(xes_log.frame[columns])
    (record,) = run.records or []
    waits = record.instance_start - record.instance_enabled
    assert waits.max() > 0  # the model queues: the test could fail
    from_xes = xes_log.frame["start"] - xes_log.frame["enabled"]
    assert from_xes.max().total_seconds() == pytest.approx(waits.max() * 60, abs=1e-3)
    kpis_csv, kpis_xes = log_kpis(csv_log, model=model), log_kpis(xes_log, model=model)
    for name in ("cycle_time", "waiting_time", "processing_time"):
        assert np.array_equal(kpis_xes.per_case[name], kpis_csv.per_case[name])
    assert kpis_xes.values == kpis_csv.values
    assert kpis_xes.kpi("waiting_time") > 0
