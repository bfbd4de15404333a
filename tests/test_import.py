"""procsim import: BPMN 2.0 (with or without Prosimos parameters) → procsim models."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from procsim.cli import app
from procsim.errors import ModelError
from procsim.interop import import_bpmn, import_processes
from procsim.interop.bpmn_import import _iso_duration, snake_case
from procsim.interop.prosimos import arrival_factor, dist_mean_var, map_calendar, map_distribution
from procsim.model import load_model, parse_model

DATA = Path(__file__).parent / "data" / "bpmn"
PEERS = Path(__file__).resolve().parents[2] / "shared" / "peers" / "prosimos" / "models"
PEER_MODELS = ["purchasing_qbp", "loan_application", "and_join", "event_attributes"]
needs_peers = pytest.mark.skipif(not PEERS.is_dir(), reason=f"peer models not found at {PEERS}")
runner = CliRunner()


def peer(name: str) -> tuple[Path, Path]:
    return PEERS / name / f"{name}.bpmn", PEERS / name / f"{name}.json"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


BPMN_HEAD = '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">\n<process id="p">\n'
BPMN_TAIL = "</process>\n</definitions>\n"


# --- peer models --------------------------------------------------------------------------------


@needs_peers
@pytest.mark.parametrize("name", PEER_MODELS)
def test_every_peer_model_imports_with_its_parameters_and_loads(name: str,
                                                                tmp_path: Path) -> None:
    bpmn, params = peer(name)
    result = import_bpmn(bpmn, params=params)
    out = result.write(tmp_path / f"{name}.yaml")
    model = load_model(out)
    assert model.activities and model.resources
    assert not result.placeholders  # the parameters fill in everything
    # Every BPMN task id is kept for traceability.
    for bpmn_id, procsim_name in result.ids.items():
        if procsim_name in model.activities:
            assert bpmn_id in model.activities[procsim_name].description


@needs_peers
@pytest.mark.parametrize("name", PEER_MODELS)
def test_every_peer_model_imports_as_a_skeleton_without_parameters(name: str,
                                                                   tmp_path: Path) -> None:
    result = import_bpmn(peer(name)[0])
    model = load_model(result.write(tmp_path / "m.yaml"))
    assert "arrivals.interarrival" in result.placeholders
    durations = [p for p in result.placeholders if p.endswith(".duration")]
    assert len(durations) == len(model.activities)
    assert result.text.count("# PLACEHOLDER") >= len(result.placeholders)


@needs_peers
def test_purchasing_maps_pools_durations_and_probabilities() -> None:
    result = import_bpmn(*peer("purchasing_qbp")[:1], params=peer("purchasing_qbp")[1])
    model = parse_model(result.text)
    # Six Prosimos profiles, each a pool of identical people → anonymous capacity.
    assert {k: r.capacity for k, r in model.resources.items()} == {
        "role_4": 3, "role_5": 2, "role_1": 14, "role_3": 3, "role_2": 5, "system": 20}
    assert model.resources["role_1"].cost_per_hour == 20.0
    # "Start" and "End" are tasks there: reserved names get a suffix.
    assert {"start_task", "end_task"} <= set(model.activities)
    # uniform(240, 240) s is a fixed 4 minutes (time_unit hours).
    assert model.activities["analyze_purchase_requisition"].duration.mean == pytest.approx(4 / 60)
    # Branch probabilities by sequence-flow id, exactly.
    choice = next(v for v in result.data["flow"].values()
                  if isinstance(v, dict) and "create_request_for_quotation" in v)
    assert choice == {"create_request_for_quotation": pytest.approx(0.9853479853479854),
                      "amend_purchase_requisition": pytest.approx(0.014652014652014652)}


@needs_peers
def test_loan_application_has_people_with_own_calendars_and_durations() -> None:
    bpmn, params = peer("loan_application")
    data = json.loads(params.read_text())
    result = import_bpmn(bpmn, params=params)
    model = parse_model(result.text)
    assert model.resources["clerk"].members is not None
    assert len(model.resources["clerk"].members) == 8
    assert model.people["clerk_000004"].calendar == "clerk_000004_timetable"
    # Each clerk's duration of the first task is the cut, shifted exponential Prosimos
    # samples: mean and variance preserved (scipy's truncexpon, computed independently).
    task = next(t for t in data["task_resource_distribution"]
                if t["task_id"] == "sid-9703AD2C-3219-4B4A-9A91-F4A81EF91130")
    activity = model.activities["check_application_form_completeness"]
    for r in task["resources"]:
        mean, lo, hi = (p["value"] for p in r["distribution_params"])
        law = stats.truncexpon(b=(hi - lo) / (mean - lo), loc=lo, scale=mean - lo)
        person = r["resource_id"].lower().replace("-", "_")
        dist = (activity.durations or {}).get(person, activity.duration)
        assert dist.mean * 3600 == pytest.approx(law.mean(), rel=1e-9)
        assert dist.variance * 3600**2 == pytest.approx(law.var(), rel=1e-9)


@needs_peers
def test_loan_application_calendars_keep_prosimos_open_hours() -> None:
    bpmn, params = peer("loan_application")
    data = json.loads(params.read_text())
    model = parse_model(import_bpmn(bpmn, params=params).text)
    for c in data["resource_calendars"]:
        seconds = 0.0
        for p in c["time_periods"]:
            h0, m0, *_ = (int(x) for x in p["beginTime"].split(":")[:2])
            h1, m1, *_ = (int(x) for x in p["endTime"].split(":")[:2])
            seconds += (h1 * 60 + m1 - h0 * 60 - m0) * 60
        name = c["name"].lower().replace("-", "_").replace(" ", "_")
        assert model.calendar(name).open_fraction() == pytest.approx(seconds / (7 * 86400))


@needs_peers
def test_unmappable_parts_are_warned_about_and_written_as_comments() -> None:
    result = import_bpmn(*peer("event_attributes")[:1], params=peer("event_attributes")[1])
    messages = [str(w) for w in result.warnings]
    assert any("branch_rules" in m for m in messages)
    assert any("event_attributes has no procsim equivalent" in m for m in messages)
    assert any("inclusive split mapped to an exclusive choice" in m for m in messages)
    header = result.text.split("procsim: 1")[0]
    assert "event_attributes has no procsim equivalent" in header
    # Each warning names where it comes from: file:line:col.
    located = [w for w in result.warnings if w.path == "event_attributes"]
    assert located and located[0].line is not None and located[0].file.endswith(".json")


@needs_peers
def test_an_imported_peer_model_simulates() -> None:
    from procsim.simulate import simulate

    model = parse_model(import_bpmn(*peer("purchasing_qbp")[:1],
                                    params=peer("purchasing_qbp")[1]).text)
    result = simulate(model, replications=2, cases=300, seed=3, jobs=1)
    cycle = result.kpi("cycle_time").mean
    # Every case does Create Purchase Requisition (5 min) and Deliver Goods (195 min) at least.
    assert cycle > 200 / 60
    assert result.kpi("processing_time").mean <= cycle


# --- element coverage ---------------------------------------------------------------------------


def test_every_element_kind_of_the_hand_written_file() -> None:
    result = import_bpmn(DATA / "all_elements.bpmn")
    model = parse_model(result.text)
    kinds = {name: a.description.split()[1] for name, a in model.activities.items()}
    assert sorted(set(kinds.values())) == sorted(
        {"userTask", "serviceTask", "sendTask", "manualTask", "scriptTask", "businessRuleTask",
         "task", "receiveTask", "intermediateCatchEvent"})
    # The timer's PT2H30M is a fixed 2.5 hours, a delay without resource.
    timer = model.activities["wait_for_the_expert"]
    assert timer.resource is None and timer.duration.mean == 2.5
    # Sub-process flattened, names prefixed; the flow passes through it.
    assert model.flow["wait_for_the_expert"] == "payment_decide_amount"
    assert model.flow["payment_pay"] == "receive_receipt"
    # Two end events both lead to end.
    assert model.flow["send_rejection"] == "end" and model.flow["end_task"] == "end"
    # Names that collide once snake_cased stay unique; reserved names get a suffix.
    assert {"archive", "archive_2", "end_task"} <= set(model.activities)
    assert model.gateways["split_1"].type == "parallel"
    assert model.flow["split_1"] == ["inspect_damage", "compute_estimate"]
    assert model.gateways["valid"].type == "exclusive"
    # The lane becomes a pool (placeholder capacity) for its tasks.
    assert model.activities["register_claim"].resource == "front_office"
    assert "resources.front_office.capacity" in result.placeholders
    assert "flow.valid" in result.placeholders
    assert result.ids["t_user"] == "register_claim"


def test_placeholder_arrivals_keep_the_skeleton_stable() -> None:
    from procsim.model import offered_load

    model = parse_model(import_bpmn(DATA / "all_elements.bpmn").text)
    assert max(load.utilization for load in offered_load(model).values()) <= 0.5


def test_implicit_split_and_mixed_gateway(tmp_path: Path) -> None:
    bpmn = write(tmp_path, "m.bpmn", BPMN_HEAD + """
      <startEvent id="s"/>
      <task id="a" name="Receive order"/>
      <task id="b" name="Pick"/><task id="c" name="Invoice"/>
      <parallelGateway id="j"/>
      <exclusiveGateway id="x" name="OK"/>
      <task id="d" name="Fix"/>
      <endEvent id="e"/>
      <sequenceFlow id="f0" sourceRef="s" targetRef="a"/>
      <sequenceFlow id="f1" sourceRef="a" targetRef="b"/>
      <sequenceFlow id="f2" sourceRef="a" targetRef="c"/>
      <sequenceFlow id="f3" sourceRef="b" targetRef="j"/>
      <sequenceFlow id="f4" sourceRef="c" targetRef="j"/>
      <sequenceFlow id="f5" sourceRef="j" targetRef="x"/>
      <sequenceFlow id="f6" sourceRef="d" targetRef="x"/>
      <sequenceFlow id="f7" sourceRef="x" targetRef="d"/>
      <sequenceFlow id="f8" sourceRef="x" targetRef="e"/>
    """ + BPMN_TAIL)
    model = parse_model(import_bpmn(bpmn).text)
    # A task with two outgoing flows is a parallel split in BPMN.
    assert model.flow["receive_order"] == "split_after_receive_order"
    assert model.gateways["split_after_receive_order"].type == "parallel"
    # A gateway that joins and splits becomes a merge, then the choice.
    assert model.flow["join_1"] == "ok_merge"
    assert model.flow["ok_merge"] == "ok"
    assert model.flow["fix"] == "ok_merge"
    assert set(model.flow["ok"]) == {"fix", "end"}


def test_inclusive_gateway_maps_to_an_exclusive_choice_with_a_warning() -> None:
    result = import_bpmn(DATA / "inclusive.bpmn")
    model = parse_model(result.text)
    assert model.gateways["choice_1"].type == "exclusive"
    assert model.gateways["merge_1"].type == "exclusive"
    assert [w.line for w in result.warnings if "inclusive" in w.message] == [5, 8]


def test_inclusive_gateway_with_every_branch_certain_is_parallel(tmp_path: Path) -> None:
    params = write(tmp_path, "p.json", json.dumps({
        "arrival_time_distribution": {"distribution_name": "expon",
                                      "distribution_params": [{"value": 3600}, {"value": 0},
                                                              {"value": 1e9}]},
        "gateway_branching_probabilities": [{"gateway_id": "or_split", "probabilities": [
            {"path_id": "fa", "value": 1}, {"path_id": "fb", "value": 1}]}],
        "resource_profiles": [], "task_resource_distribution": [], "resource_calendars": []}))
    result = import_bpmn(DATA / "inclusive.bpmn", params=params)
    model = parse_model(result.text)
    assert model.gateways["split_1"].type == "parallel"
    assert model.gateways["join_1"].type == "parallel"
    assert model.arrivals.interarrival is not None
    assert model.arrivals.interarrival.mean == 1.0  # 3600 s in hours, exactly exponential
    # Tasks without parameters are listed, never silently given a duration.
    assert any("has no resources or durations" in str(w) for w in result.warnings)


def test_names_become_readable_unique_ids() -> None:
    assert snake_case("Check  application  form completeness") == \
        "check_application_form_completeness"
    assert snake_case("Prüfen & Freigeben") == "prufen_freigeben"
    assert snake_case("") == ""


def test_iso_durations() -> None:
    assert _iso_duration("PT2H30M") == 9000
    assert _iso_duration("P1DT12H") == 129600
    assert _iso_duration("P1W") == 604800
    assert _iso_duration("R3/PT1H") is None


# --- parameter mapping exactness ----------------------------------------------------------------


def pix(name: str, *values: float) -> dict[str, Any]:
    return {"distribution_name": name, "distribution_params": [{"value": v} for v in values]}


@pytest.mark.parametrize(("spec", "law"), [
    (pix("gamma", 600, 90000, 0, 1e7), stats.gamma(4, scale=150)),
    (pix("lognorm", 600, 40000, 0, 1e7),
     stats.lognorm(math.sqrt(math.log1p(40000 / 600**2)),
                   scale=600 / math.sqrt(1 + 40000 / 600**2))),
    (pix("expon", 900, 0, 1e7), stats.expon(scale=900)),
    (pix("uniform", 60, 300), stats.uniform(60, 240)),
    (pix("norm", 1382.8, 518.3, 0, 6565.8), stats.truncnorm(-1382.8 / 518.3, np.inf,
                                                             loc=1382.8, scale=518.3)),
    # Cut or shifted laws: the moments of what Prosimos samples.
    (pix("expon", 3918.99, 3600, 7200), stats.truncexpon(3600 / 318.99, loc=3600, scale=318.99)),
    (pix("norm", 100, 80, 50, 200), stats.truncnorm(-50 / 80, 100 / 80, loc=100, scale=80)),
    # gamma with shape 1 is the exponential: cut at 1200 it is scipy's truncexpon.
    (pix("gamma", 600, 360000, 0, 1200), stats.truncexpon(2, scale=600)),
])
def test_distribution_mean_and_variance_are_preserved(spec: dict[str, Any], law: Any) -> None:
    law_mean, law_var = law.mean(), law.var()
    dist, _ = map_distribution(spec)
    mean, var = dist_mean_var(dist)
    assert mean == pytest.approx(law_mean, rel=1e-7)
    assert var == pytest.approx(law_var, rel=1e-6)


def test_exact_mappings_say_nothing_approximations_say_what() -> None:
    assert map_distribution(pix("fix", 60)) == ({"dist": "fixed", "value": 60.0}, [])
    assert map_distribution(pix("expon", 900, 0, 1e7))[1] == []
    dist, notes = map_distribution(pix("expon", 3918.99, 3600, 7200))
    assert dist["dist"] == "gamma" and "no procsim equivalent" in notes[0]
    dist, notes = map_distribution(pix("exponnorm", 2.0, 100.0, 10.0))
    assert dist_mean_var(dist) == pytest.approx((120.0, 500.0))
    assert "exponnorm" in notes[0]
    dist, notes = map_distribution(pix("triang", 0.25, 60, 120))
    assert dist == {"dist": "triangular", "min": 60.0, "mode": 90.0, "max": 180.0}


def test_histogram_sampling_is_the_empirical_law_of_the_bins() -> None:
    spec = {"distribution_name": "histogram_sampling",
            "histogram_data": {"cdf": [0.2, 0.2, 0.7, 1.0], "bin_midpoints": [10, 30, 50, 70]}}
    dist, notes = map_distribution(spec)
    assert notes == []
    assert dist == {"dist": "empirical", "values": [10.0, 50.0, 70.0],
                    "weights": [0.2, pytest.approx(0.5), pytest.approx(0.3)]}
    # Prosimos draws searchsorted(cdf, u): the same probabilities.
    u = np.random.default_rng(0).random(200_000)
    drawn = np.array([10, 30, 50, 70])[np.searchsorted([0.2, 0.2, 0.7, 1.0], u)]
    assert drawn.mean() == pytest.approx(dist_mean_var(dist)[0], rel=0.01)


def test_unknown_distribution_is_an_error_with_a_hint() -> None:
    with pytest.raises(ValueError, match=r"'exponential_x'.*did you mean 'exponnorm'|known"):
        map_distribution(pix("exponential_x", 1))


def test_calendar_periods_and_rounding() -> None:
    intervals, notes = map_calendar([
        {"from": "MONDAY", "to": "FRIDAY", "beginTime": "09:00:00", "endTime": "17:00:00"},
        {"from": "SATURDAY", "to": "SATURDAY", "beginTime": "00:00:00.000",
         "endTime": "23:59:59.999"},
        {"from": "SUNDAY", "to": "SUNDAY", "beginTime": "10:00:00", "endTime": "10:00:00"}])
    assert intervals == [{"days": "mon-fri", "from": "09:00", "to": "17:00"},
                         {"days": "sat", "from": "00:00", "to": "24:00"}]
    assert "rounded" in notes[0] and "empty" in notes[1]


def test_arrival_factor_on_an_always_open_calendar_is_one() -> None:
    from datetime import datetime

    always = [{"days": "all", "from": "00:00", "to": "24:00"}]
    factor = arrival_factor({"dist": "exponential", "mean": 600.0}, always,
                            datetime(2026, 1, 5), samples=2000)
    assert factor == pytest.approx(1.0, abs=1e-9)


# --- errors -------------------------------------------------------------------------------------


def test_malformed_xml_is_reported_at_its_line() -> None:
    with pytest.raises(ModelError) as err:
        import_bpmn(DATA / "malformed.bpmn")
    assert str(err.value).splitlines()[0] == (
        f"{DATA / 'malformed.bpmn'}:6:5: error: malformed XML: mismatched tag")


def test_unknown_elements_are_reported_once_with_their_names_and_lines() -> None:
    with pytest.raises(ModelError) as err:
        import_bpmn(DATA / "unsupported.bpmn")
    issues = err.value.issues
    # The boundary event is mapped (it has no outgoing flow: left out with a warning); the
    # isolated complex gateway is unreachable; the typo is an unknown element with a hint.
    assert [(i.line, i.path) for i in issues] == [
        (7, "complexGateway[cg]"), (8, "taks[typo 'Typo']")]
    assert "did you mean 'task'" in issues[1].message
    assert str(err.value).endswith("2 errors in " + str(DATA / "unsupported.bpmn"))


def test_flows_to_an_unknown_element_are_not_reported_again() -> None:
    """Only root causes: no 'dangling flow', no 'no incoming flow' around an unknown element."""
    with pytest.raises(ModelError) as err:
        import_bpmn(DATA / "follow_on.bpmn")
    found = [(i.line, i.path, i.message) for i in err.value.issues]
    assert [(line, path) for line, path, _ in found] == [
        (6, "taks[typo 'Typo task']"), (7, "weirdThing[w 'Custom element']"),
        (13, "sequenceFlow[f5]")]
    assert "(did you mean 'task'?)" in found[0][2]
    assert "did you mean" not in found[1][2]  # no wrong hint
    assert found[2][2] == "dangling flow: targetRef 'gone' names no element of the file"
    assert all(i.file == str(DATA / "follow_on.bpmn") and i.line for i in err.value.issues)


def test_dangling_flows_and_unreachable_tasks() -> None:
    with pytest.raises(ModelError) as err:
        import_bpmn(DATA / "dangling.bpmn")
    messages = {(i.line, i.message.split(":")[0]) for i in err.value.issues}
    # t1's flow is dangling; that t1 then has no (valid) outgoing flow is not reported again.
    assert messages == {(9, "dangling flow"),
                        (6, "expected an incoming sequence flow, got none")}


def test_a_flow_to_a_non_flow_element_says_what_it_names(tmp_path: Path) -> None:
    bpmn = write(tmp_path, "m.bpmn", BPMN_HEAD + """
      <startEvent id="s"/><dataObject id="doc" name="Invoice"/><endEvent id="e"/>
      <sequenceFlow id="f1" sourceRef="s" targetRef="doc"/>
      <sequenceFlow id="f2" sourceRef="s" targetRef="e"/>
    """ + BPMN_TAIL)
    with pytest.raises(ModelError) as err:
        import_bpmn(bpmn)
    (issue,) = err.value.issues
    assert issue.line == 5 and issue.path == "sequenceFlow[f1]"
    assert issue.message == ("targetRef 'doc' names a dataObject, expected a flow element of "
                             "this process")


def test_processes_of_a_collaboration() -> None:
    # The process with the most flow nodes by default, said in a warning with the pools' names.
    result = import_bpmn(DATA / "collaboration.bpmn")
    assert result.process == "shop" and result.data["name"] == "Shop"
    chosen = next(w for w in result.warnings if w.path == "process")
    assert "imported 'shop' (Shop)" in chosen.message
    assert "'customer' (Customer / Customer process)" in chosen.message and chosen.line == 18
    flows = next(w for w in result.warnings if w.path == "messageFlow")
    assert flows.message.startswith("2 message flow(s) between pools are not simulated")
    # One of them by id; all of them, each its own model.
    assert import_bpmn(DATA / "collaboration.bpmn", process="customer").process == "customer"
    both = import_processes(DATA / "collaboration.bpmn")
    assert [r.process for r in both] == ["customer", "shop"]
    for r in both:
        parse_model(r.text)
    with pytest.raises(ModelError) as err:
        import_bpmn(DATA / "collaboration.bpmn", process="shp")
    (issue,) = err.value.issues
    assert issue.line == 2 and "'shop' (Shop)" in issue.message
    assert "got 'shp' (did you mean 'shop'?)" in issue.message


def test_not_bpmn_and_no_process(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"expected a BPMN 2\.0 <definitions>"):
        import_bpmn(write(tmp_path, "x.bpmn", "<svg/>"))
    empty = '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>'
    with pytest.raises(ModelError, match=r"x.bpmn:1:1: error: expected a process"):
        import_bpmn(write(tmp_path, "x.bpmn", empty))
    only_events = BPMN_HEAD + '<startEvent id="s"/><endEvent id="e"/>' \
        '<sequenceFlow id="f" sourceRef="s" targetRef="e"/>' + BPMN_TAIL
    with pytest.raises(ModelError) as err:
        import_bpmn(write(tmp_path, "y.bpmn", only_events))
    (issue,) = err.value.issues
    assert issue.line == 2 and "expected at least one task" in issue.message
    with pytest.raises(ModelError, match="no such file"):
        import_bpmn(tmp_path / "missing.bpmn")


def test_entity_declarations_are_refused(tmp_path: Path) -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><definitions/>'
    with pytest.raises(ModelError, match="entity declarations are not allowed"):
        import_bpmn(write(tmp_path, "bomb.bpmn", bomb))


def test_bad_parameters_are_errors_at_their_json_line(tmp_path: Path) -> None:
    params = write(tmp_path, "p.json", json.dumps({
        "arrival_time_distribution": {"distribution_name": "gama",
                                      "distribution_params": [{"value": 1}]},
        "resource_profiles": [], "resource_calendars": [],
        "task_resource_distribution": [{"task_id": "a", "resources": [
            {"resource_id": "nobody", "distribution_name": "fix",
             "distribution_params": [{"value": 1}]}]}]}, indent=2))
    with pytest.raises(ModelError) as err:
        import_bpmn(DATA / "inclusive.bpmn", params=params)
    text = str(err.value)
    assert f"{params}:2:32: error: arrival_time_distribution: unknown Prosimos distribution " \
           "'gama'" in text
    assert "unknown resource 'nobody'" in text
    broken = write(tmp_path, "broken.json", '{"a": 1,}')
    with pytest.raises(ModelError, match=r"broken.json:1:9: error: malformed JSON"):
        import_bpmn(DATA / "inclusive.bpmn", params=broken)


def test_a_result_procsim_rejects_points_at_the_bpmn_element(tmp_path: Path) -> None:
    # A parallel join after an exclusive choice: a case would wait there forever.
    bpmn = write(tmp_path, "m.bpmn", BPMN_HEAD + """
      <startEvent id="s"/><exclusiveGateway id="x"/>
      <task id="a" name="A"/><task id="b" name="B"/>
      <parallelGateway id="j" name="Both done"/><endEvent id="e"/>
      <sequenceFlow id="f0" sourceRef="s" targetRef="x"/>
      <sequenceFlow id="f1" sourceRef="x" targetRef="a"/>
      <sequenceFlow id="f2" sourceRef="x" targetRef="b"/>
      <sequenceFlow id="f3" sourceRef="a" targetRef="j"/>
      <sequenceFlow id="f4" sourceRef="b" targetRef="j"/>
      <sequenceFlow id="f5" sourceRef="j" targetRef="e"/>
    """ + BPMN_TAIL)
    with pytest.raises(ModelError) as err:
        import_bpmn(bpmn)
    (issue,) = err.value.issues
    assert issue.file == str(bpmn) and issue.line == 6
    assert "parallel join 'both_done' does not close a parallel split" in issue.message
    assert "(BPMN parallelGateway j)" in issue.message
    assert "the imported model is not valid" in issue.message and "BPMN" in issue.message


# --- command line -------------------------------------------------------------------------------


def test_cli_import_writes_the_model_and_lists_placeholders(tmp_path: Path) -> None:
    out = tmp_path / "m.yaml"
    result = runner.invoke(app, ["import", str(DATA / "inclusive.bpmn"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "placeholder(s) to fill in" in result.stderr
    assert "warning: inclusiveGateway[or_split]" in result.stderr
    load_model(out)
    again = runner.invoke(app, ["import", str(DATA / "inclusive.bpmn"), "-o", str(out)])
    assert again.exit_code == 2 and "--force" in again.stderr
    forced = runner.invoke(app, ["import", str(DATA / "inclusive.bpmn"), "-o", str(out),
                                 "--force", "--time-unit", "minutes"])
    assert forced.exit_code == 0
    assert load_model(out).time_unit == "minutes"
    validated = runner.invoke(app, ["validate", str(out)])
    assert validated.exit_code == 0


def test_cli_import_prints_to_stdout_without_output() -> None:
    result = runner.invoke(app, ["import", str(DATA / "all_elements.bpmn")])
    assert result.exit_code == 0
    assert parse_model(result.stdout).name == "Claims handling"


def test_cli_import_errors_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "m.yaml"
    result = runner.invoke(app, ["import", str(DATA / "malformed.bpmn"), "-o", str(out)])
    assert result.exit_code == 2
    assert "malformed.bpmn:6:5: error: malformed XML" in result.stderr
    assert not out.exists()
    bad_unit = runner.invoke(app, ["import", str(DATA / "inclusive.bpmn"), "--time-unit", "weeks"])
    assert bad_unit.exit_code == 2 and "--time-unit" in bad_unit.stderr
    no_dir = runner.invoke(app, ["import", str(DATA / "inclusive.bpmn"), "-o",
                                 str(tmp_path / "nope" / "m.yaml")])
    assert no_dir.exit_code == 2 and "does not exist" in no_dir.stderr


@pytest.mark.parametrize("name", ["procsim.interop.bpmn_import", "procsim.interop.prosimos"])
def test_docstring_examples_run(name: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), raise_on_error=False)
    assert result.attempted > 0 and result.failed == 0


def test_validate_lists_the_placeholders_of_a_skeleton(tmp_path: Path) -> None:
    """Without parameters the import is a skeleton; `procsim validate` says what to fill in."""
    out = tmp_path / "skeleton.yaml"
    assert runner.invoke(app, ["import", str(DATA / "inclusive.bpmn"), "-o", str(out)]
                         ).exit_code == 0
    result = runner.invoke(app, ["validate", str(out)])
    assert result.exit_code == 0  # it runs; the numbers are stand-ins
    lines = out.read_text(encoding="utf-8").splitlines()
    marked = [n for n, line in enumerate(lines, start=1) if "# PLACEHOLDER" in line]
    warnings = [w for w in result.output.splitlines() if ": warning: " in w]
    assert marked and [int(w.split(":")[1]) for w in warnings] == marked
    assert any(": warning: arrivals.interarrival: placeholder to fill in" in w
               for w in warnings)
    assert f"{len(marked)} placeholder value(s) to fill in" in result.output
