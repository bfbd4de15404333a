"""procsim import of real-world BPMN patterns: a small hand-written corpus (tests/data/bpmn).

Each file holds one pattern; each test states the model it must give. Every imported model
must validate and run (a few cases).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from procsim.cli import app
from procsim.interop import ImportResult, import_bpmn
from procsim.model import load_model, parse_model
from procsim.simulate import simulate

DATA = Path(__file__).parent / "data" / "bpmn"
runner = CliRunner()
PATTERNS = ["boundary_interrupting", "boundary_non_interrupting", "event_based_gateway",
            "call_activity_same_file", "calls/invoice", "collapsed_subprocess",
            "parallel_open_ends", "parallel_exclusive_merge", "implicit_end", "collaboration",
            "no_lanes", "all_elements", "inclusive", "error_boundary_subprocess"]


def imported(name: str, **kwargs: Any) -> tuple[ImportResult, Any]:
    result = import_bpmn(DATA / f"{name}.bpmn", **kwargs)
    return result, parse_model(result.text)


def messages(result: ImportResult) -> str:
    return "\n".join(str(w) for w in result.warnings)


@pytest.mark.parametrize("name", PATTERNS)
def test_every_pattern_imports_validates_and_runs(name: str, tmp_path: Path) -> None:
    result = import_bpmn(DATA / f"{name}.bpmn")
    out = result.write(tmp_path / "m.yaml")
    validated = runner.invoke(app, ["validate", str(out)])
    assert validated.exit_code == 0, validated.output
    model = load_model(out)
    run = simulate(model, replications=1, cases=20, seed=1, jobs=1, warmup=0)
    assert run.kpi("cycle_time").mean > 0
    # Never a silently resource-free model: every task has a pool, placeholder or not.
    assert model.resources
    # Every approximation is a warning and a comment in the YAML header.
    for warning in result.warnings:
        assert warning.message[:40] in result.text.replace("\n#     ", " ")


def test_interrupting_boundary_event_is_a_placeholder_choice_after_the_task() -> None:
    result, model = imported("boundary_interrupting")
    assert model.flow["review_claim"] == "review_claim_outcome"
    assert model.gateways["review_claim_outcome"].type == "exclusive"
    assert model.flow["review_claim_outcome"] == {"pay_claim": 0.9, "escalate": 0.1}
    assert "flow.review_claim_outcome" in result.placeholders
    assert ("  review_claim_outcome: {pay_claim: 0.9, escalate: 0.1}  # PLACEHOLDER: probability "
            "of leaving by the boundary event(s)") in result.text
    warning = next(w for w in result.warnings if w.path.startswith("boundaryEvent"))
    assert warning.line == 6 and "interrupting timer boundary event on userTask[review" in str(
        warning)


def test_non_interrupting_boundary_event_is_a_joined_side_branch() -> None:
    result, model = imported("boundary_non_interrupting")
    assert model.flow["pack_order"] == "split_after_pack_order"
    assert model.flow["split_after_pack_order"] == ["ship_order", "answer_customer"]
    # The side branch ends on its own in BPMN: both are joined before the end.
    assert model.flow["ship_order"] == model.flow["answer_customer"] == "join_open_branches"
    assert model.gateways["join_open_branches"].type == "parallel"
    assert model.flow["join_open_branches"] == "end"
    assert "taken by every case" in messages(result)
    assert "# the branches of the parallel split end separately" in result.text


def test_error_end_in_a_sub_process_leads_to_its_error_boundary_event(tmp_path: Path) -> None:
    result, model = imported("error_boundary_subprocess")
    # Exact: the branch that ends with the error is the boundary event's path.
    assert model.flow["checkout_accepted"] == {"ship": 0.5, "cancel_order": 0.5}
    assert model.flow["cancel_order"] == model.flow["ship"] == "end"
    assert "flow.checkout_outcome" not in result.placeholders  # no placeholder choice
    assert "taken where the sub-process ends with its error end event(s)" in messages(result)
    # Without the boundary event, the error end is a plain end, said so.
    bpmn = tmp_path / "m.bpmn"
    bpmn.write_text((DATA / "error_boundary_subprocess.bpmn").read_text().replace(
        '<boundaryEvent id="caught" attachedToRef="checkout"><errorEventDefinition/>'
        '</boundaryEvent>', "").replace('<sequenceFlow id="f4" sourceRef="caught" '
                                        'targetRef="cancel"/>', '<sequenceFlow id="f4" '
                                        'sourceRef="s" targetRef="cancel"/>'))
    uncaught = import_bpmn(bpmn)
    assert "no boundary event of the sub-process catches it" in messages(uncaught)


def test_event_based_gateway_is_an_exclusive_choice_with_placeholders() -> None:
    result, model = imported("event_based_gateway")
    assert model.gateways["reply_or_timeout"].type == "exclusive"
    assert model.flow["reply_or_timeout"] == {"reply_received": 0.5, "one_week": 0.5}
    assert "flow.reply_or_timeout" in result.placeholders
    assert model.activities["one_week"].duration.mean == 7 * 24  # the timer, in hours
    assert model.activities["one_week"].resource is None
    assert "# event-based gateway: the race between its events is approximated" in result.text


def test_call_activity_inlines_the_called_process_of_the_same_file() -> None:
    result, model = imported("call_activity_same_file")
    assert result.process == "main"  # the called process is not the main one
    assert model.flow["sign_contract"] == "set_up_account_create_login"
    assert model.flow["set_up_account_check_rights"] == "welcome"
    assert "the called process 'account' is inlined" in messages(result)


def test_call_activity_from_a_sibling_file_or_a_placeholder(tmp_path: Path) -> None:
    result, model = imported("calls/invoice")
    assert model.flow["prepare_invoice"] == "bill_customer_send_bill"
    assert model.activities["bill_customer_payment_due"].duration.mean == 14 * 24
    assert "of billing.bpmn is inlined" in messages(result)
    # Not found anywhere: one placeholder activity, marked so.
    assert model.flow["bill_customer_payment_due"] == "audit"
    assert "PLACEHOLDER: a call activity that calls 'no_such_process'" in \
        model.activities["audit"].description
    # Elsewhere, found through --search-path only.
    moved = tmp_path / "invoice.bpmn"
    moved.write_text((DATA / "calls" / "invoice.bpmn").read_text())
    alone = import_bpmn(moved)
    assert "bill_customer" in parse_model(alone.text).activities
    found = import_bpmn(moved, search_path=[DATA / "calls"])
    assert "bill_customer_send_bill" in parse_model(found.text).activities


def test_collapsed_and_ad_hoc_sub_processes_are_one_activity() -> None:
    result, model = imported("collapsed_subprocess")
    assert list(model.flow) == ["start", "run_interviews", "make_offer_draft_offer", "onboard"]
    assert "collapsed or empty sub-process: one activity" in \
        model.activities["run_interviews"].description
    assert "ad-hoc sub-process" in model.activities["onboard"].description
    assert "  run_interviews:  # collapsed or empty sub-process: one activity" in result.text


def test_parallel_branches_that_end_separately_are_joined_before_the_end() -> None:
    result, model = imported("parallel_open_ends")
    assert model.flow["split_1"] == ["ship_goods", "send_invoice"]
    # The branch with two ends merges them first (exclusive), then both branches join.
    assert model.flow["ship_goods"] == "join_open_branches"
    assert model.flow["paid"] == {"merge_open_branches": 0.5, "send_reminder": 0.5}
    assert model.flow["send_reminder"] == "merge_open_branches"
    assert model.flow["merge_open_branches"] == "join_open_branches"
    assert model.gateways["merge_open_branches"].type == "exclusive"
    assert model.flow["join_open_branches"] == "end"
    warning = next(w for w in result.warnings if "end separately" in w.message)
    assert warning.line == 5 and warning.path == "parallelGateway[fork]"


def test_parallel_branches_meeting_at_an_exclusive_merge_are_joined_there() -> None:
    result, model = imported("parallel_exclusive_merge")
    assert model.flow["check_credit"] == model.flow["check_identity"] == "join_open_branches"
    assert model.flow["join_open_branches"] == "merge_1"
    assert model.flow["merge_1"] == "decide"
    assert "meet at exclusiveGateway[merge], not at a parallel join" in messages(result)


def test_implicit_end_where_the_flow_stops() -> None:
    result, model = imported("implicit_end")
    assert model.flow["file"] == model.flow["reject"] == "end"
    stops = [w for w in result.warnings if "implicit end" in w.message]
    assert [(w.line, w.path) for w in stops] == [(7, "task[b 'File']"), (8, "task[c 'Reject']")]


def test_no_start_event_starts_at_the_elements_without_incoming_flow(tmp_path: Path) -> None:
    bpmn = tmp_path / "m.bpmn"
    bpmn.write_text((DATA / "implicit_end.bpmn").read_text().replace(
        '<startEvent id="s"/>', "").replace('<sequenceFlow id="f1" sourceRef="s" '
                                            'targetRef="a"/>', ""))
    result = import_bpmn(bpmn)
    assert parse_model(result.text).flow["start"] == "register"
    assert "no start event: cases begin at task[a 'Register']" in messages(result)


def test_several_start_events_are_a_placeholder_choice(tmp_path: Path) -> None:
    bpmn = tmp_path / "m.bpmn"
    bpmn.write_text((DATA / "implicit_end.bpmn").read_text().replace(
        '<startEvent id="s"/>', '<startEvent id="s"/><startEvent id="s2"/>').replace(
        '<sequenceFlow id="f2"', '<sequenceFlow id="f0" sourceRef="s2" targetRef="x"/>'
        '<sequenceFlow id="f2"'))
    result = import_bpmn(bpmn)
    model = parse_model(result.text)
    assert model.flow["start"] == "start_event_choice"
    assert model.flow["start_event_choice"] == {"register": 0.5, "complete_merge": 0.5}
    assert "flow.start_event_choice" in result.placeholders


def test_tasks_without_lanes_get_placeholder_pools_per_performer_or_shared() -> None:
    result, model = imported("no_lanes")
    assert {a: model.activities[a].resource for a in ("enter_data", "approve", "archive")} == {
        "enter_data": "clerk", "approve": "manager", "archive": "staff"}
    assert {"resources.clerk.capacity", "resources.manager.capacity",
            "resources.staff.capacity"} <= set(result.placeholders)
    assert "PLACEHOLDER" in model.resources["staff"].description
    assert "share one placeholder pool 'staff'" in messages(result)


def test_validate_lists_the_placeholder_pools(tmp_path: Path) -> None:
    out = import_bpmn(DATA / "no_lanes.bpmn").write(tmp_path / "m.yaml")
    result = runner.invoke(app, ["validate", str(out)])
    assert result.exit_code == 0
    warned = [w for w in result.output.splitlines() if ": warning: resources." in w]
    assert len(warned) == 3 and all("placeholder" in w for w in warned)


def test_harmless_children_are_ignored() -> None:
    # categoryValueRef in a sub-process and in a task: no error.
    _, model = imported("collapsed_subprocess")
    assert "make_offer_draft_offer" in model.activities


def test_link_events_continue_at_their_catch(tmp_path: Path) -> None:
    bpmn = tmp_path / "m.bpmn"
    bpmn.write_text("""<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">
      <process id="p"><startEvent id="s"/><task id="a" name="A"/>
        <intermediateThrowEvent id="go"><linkEventDefinition name="L"/></intermediateThrowEvent>
        <intermediateCatchEvent id="on"><linkEventDefinition name="L"/></intermediateCatchEvent>
        <task id="b" name="B"/><endEvent id="e"/>
        <sequenceFlow id="f1" sourceRef="s" targetRef="a"/>
        <sequenceFlow id="f2" sourceRef="a" targetRef="go"/>
        <sequenceFlow id="f3" sourceRef="on" targetRef="b"/>
        <sequenceFlow id="f4" sourceRef="b" targetRef="e"/></process></definitions>""")
    assert parse_model(import_bpmn(bpmn).text).flow == {"start": "a", "a": "b", "b": "end"}


def test_cli_process_all_writes_one_model_per_process(tmp_path: Path) -> None:
    out = tmp_path / "shop.yaml"
    result = runner.invoke(app, ["import", str(DATA / "collaboration.bpmn"), "--process", "all",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in tmp_path.iterdir())
    # Named after the process's name, else its pool's.
    assert written == ["shop-customer_process.yaml", "shop-shop.yaml"]
    assert load_model(tmp_path / "shop-customer_process.yaml").name == "Customer process"
    assert "process shop: " in result.stderr and "message flow(s)" in result.stderr
    again = runner.invoke(app, ["import", str(DATA / "collaboration.bpmn"), "--process", "all",
                                "-o", str(out)])
    assert again.exit_code == 2 and "--force" in again.stderr


def test_cli_default_process_is_said_on_stderr_and_search_path(tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", str(DATA / "collaboration.bpmn")])
    assert result.exit_code == 0
    assert "imported 'shop' (Shop), the one with the most flow nodes" in result.stderr
    moved = tmp_path / "invoice.bpmn"
    moved.write_text((DATA / "calls" / "invoice.bpmn").read_text())
    found = runner.invoke(app, ["import", str(moved), "--search-path", str(DATA / "calls")])
    assert found.exit_code == 0 and "bill_customer_send_bill:" in found.stdout


def test_call_activity_of_a_global_task_is_that_task(tmp_path: Path) -> None:
    bpmn = tmp_path / "m.bpmn"
    bpmn.write_text("""<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">
      <globalUserTask id="g1" name="Approve"/>
      <process id="p"><startEvent id="s"/>
        <callActivity id="c" name="Approve order" calledElement="g1"/><endEvent id="e"/>
        <sequenceFlow id="f1" sourceRef="s" targetRef="c"/>
        <sequenceFlow id="f2" sourceRef="c" targetRef="e"/></process></definitions>""")
    result = import_bpmn(bpmn)
    model = parse_model(result.text)
    assert model.flow == {"start": "approve_order", "approve_order": "end"}
    assert "PLACEHOLDER: a call activity" not in model.activities["approve_order"].description
    assert "call activity of the globalUserTask 'g1': one activity" in messages(result)


def test_side_branch_of_a_non_interrupting_event_into_a_parallel_join(tmp_path: Path) -> None:
    """As in the MIWG reference B.2.0: the side branch ends at the join of an outer split."""
    bpmn = tmp_path / "m.bpmn"
    bpmn.write_text("""<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">
      <process id="p"><startEvent id="s"/><parallelGateway id="pg1"/>
        <userTask id="t8" name="User Task 8"/><task id="t5" name="Task 5"/>
        <boundaryEvent id="b" attachedToRef="t5" cancelActivity="false">
          <conditionalEventDefinition/></boundaryEvent>
        <task id="t6" name="Task 6"/><parallelGateway id="pg2"/><endEvent id="e"/>
        <sequenceFlow id="f1" sourceRef="s" targetRef="pg1"/>
        <sequenceFlow id="f2" sourceRef="pg1" targetRef="t8"/>
        <sequenceFlow id="f3" sourceRef="pg1" targetRef="t5"/>
        <sequenceFlow id="f4" sourceRef="t8" targetRef="pg2"/>
        <sequenceFlow id="f5" sourceRef="t5" targetRef="pg2"/>
        <sequenceFlow id="f6" sourceRef="b" targetRef="t6"/>
        <sequenceFlow id="f7" sourceRef="t6" targetRef="pg2"/>
        <sequenceFlow id="f8" sourceRef="pg2" targetRef="e"/></process></definitions>""")
    model = parse_model(import_bpmn(bpmn).text)
    assert model.flow["split_after_task_5"] == ["join_open_branches", "task_6"]
    assert model.flow["task_6"] == "join_open_branches"
    assert model.flow["join_open_branches"] == model.flow["user_task_8"] == "join_1"
    simulate(model, replications=1, cases=10, seed=1, jobs=1, warmup=0)


def test_inclusive_split_closed_by_a_parallel_join_with_side_branches(tmp_path: Path) -> None:
    """As in the MIWG reference B.2.0: an inclusive split whose branches meet at a parallel
    join (read as parallel: the join waits for all), one branch with a side branch that ends
    on its own, the other with one into the same join."""
    bpmn = tmp_path / "m.bpmn"
    bpmn.write_text("""<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">
      <process id="p"><startEvent id="s"/><inclusiveGateway id="or" name="Which"/>
        <task id="a" name="A"/><task id="b" name="B"/><task id="c" name="C"/>
        <task id="d" name="D"/>
        <boundaryEvent id="ba" attachedToRef="a" cancelActivity="false">
          <escalationEventDefinition/></boundaryEvent>
        <boundaryEvent id="bb" attachedToRef="b" cancelActivity="false">
          <signalEventDefinition/></boundaryEvent>
        <parallelGateway id="pg" name="All done"/><endEvent id="e1"/><endEvent id="e2"/>
        <sequenceFlow id="f1" sourceRef="s" targetRef="or"/>
        <sequenceFlow id="f2" sourceRef="or" targetRef="a"/>
        <sequenceFlow id="f3" sourceRef="or" targetRef="b"/>
        <sequenceFlow id="f4" sourceRef="a" targetRef="pg"/>
        <sequenceFlow id="f5" sourceRef="b" targetRef="pg"/>
        <sequenceFlow id="f6" sourceRef="ba" targetRef="c"/>
        <sequenceFlow id="f7" sourceRef="c" targetRef="e1"/>
        <sequenceFlow id="f8" sourceRef="bb" targetRef="d"/>
        <sequenceFlow id="f9" sourceRef="d" targetRef="pg"/>
        <sequenceFlow id="f10" sourceRef="pg" targetRef="e2"/></process></definitions>""")
    result = import_bpmn(bpmn)
    model = parse_model(result.text)
    assert model.gateways["which"].type == "parallel"
    assert model.flow["which"] == ["a", "b"]
    # a's side branch (c) ends alone: joined with a's main path just before the join.
    join_a = model.flow["c"]
    assert model.flow["split_after_a"] == [join_a, "c"]
    assert model.flow[join_a] == "all_done" and model.gateways[join_a].type == "parallel"
    # b's side branch (d) goes into the same join: joined with b first.
    join_b = model.flow["d"]
    assert model.flow["split_after_b"] == [join_b, "d"] and join_b != join_a
    assert model.flow[join_b] == "all_done"
    assert "a parallel split, every case taking every branch" in messages(result)
    simulate(model, replications=1, cases=10, seed=1, jobs=1, warmup=0)


def test_a_process_called_twice_or_with_the_callers_ids_is_inlined_each_time(
        tmp_path: Path) -> None:
    # bpmn.io names the first start event of every file StartEvent_1: ids repeat across files.
    (tmp_path / "main.bpmn").write_text("""<definitions
        xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">
      <process id="main"><startEvent id="StartEvent_1"/>
        <callActivity id="c1" name="Check" calledElement="check"/>
        <callActivity id="c2" name="Check again" calledElement="check"/>
        <endEvent id="EndEvent_1"/>
        <sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="c1"/>
        <sequenceFlow id="Flow_2" sourceRef="c1" targetRef="c2"/>
        <sequenceFlow id="Flow_3" sourceRef="c2" targetRef="EndEvent_1"/></process>
    </definitions>""")
    (tmp_path / "check.bpmn").write_text("""<definitions
        xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">
      <process id="check"><startEvent id="StartEvent_1"/><task id="Activity_1" name="Look"/>
        <endEvent id="EndEvent_1"/>
        <sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Activity_1"/>
        <sequenceFlow id="Flow_2" sourceRef="Activity_1" targetRef="EndEvent_1"/></process>
    </definitions>""")
    model = parse_model(import_bpmn(tmp_path / "main.bpmn").text)
    assert model.flow == {"start": "check_look", "check_look": "check_again_look",
                          "check_again_look": "end"}


def test_several_start_events_of_a_sub_process_are_alternatives(tmp_path: Path) -> None:
    bpmn = tmp_path / "m.bpmn"
    bpmn.write_text("""<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">
      <process id="p"><startEvent id="s"/>
        <subProcess id="sp" name="Handle"><startEvent id="s1"/>
          <startEvent id="s2"><conditionalEventDefinition/></startEvent>
          <task id="a" name="A"/><task id="b" name="B"/><endEvent id="e1"/>
          <sequenceFlow id="g1" sourceRef="s1" targetRef="a"/>
          <sequenceFlow id="g2" sourceRef="s2" targetRef="b"/>
          <sequenceFlow id="g3" sourceRef="a" targetRef="e1"/>
          <sequenceFlow id="g4" sourceRef="b" targetRef="e1"/></subProcess>
        <endEvent id="e"/>
        <sequenceFlow id="f1" sourceRef="s" targetRef="sp"/>
        <sequenceFlow id="f2" sourceRef="sp" targetRef="e"/></process></definitions>""")
    result = import_bpmn(bpmn)
    model = parse_model(result.text)
    assert model.flow["start"] == "handle_start_choice"
    assert model.flow["handle_start_choice"] == {"handle_a": 0.5, "handle_b": 0.5}
    assert "flow.handle_start_choice" in result.placeholders
