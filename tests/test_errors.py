"""Errors a model author sees: one bad YAML file per kind of mistake.

Each test writes a small model into ``tmp_path``, loads it, and checks the file, the line
(and column), the dotted path and the message of every issue. No bad input may end in a
Python traceback: anything but a :class:`procsim.ModelError` is a bug.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

import procsim
from procsim import ModelError, UnstableModelError, load_model
from procsim.errors import Issue

BASE = """\
procsim: 1
name: Claims
arrivals:
  interarrival: {dist: exponential, mean: 10}
resources:
  clerk: {capacity: 2}
activities:
  triage:
    resource: clerk
    duration: {dist: exponential, mean: 6}
  approve:
    resource: clerk
    duration: {dist: fixed, value: 3}
flow:
  start: triage
  triage: approve
  approve: end
"""

PARALLEL = """\
procsim: 1
name: Parallel
arrivals:
  interarrival: {dist: exponential, mean: 10}
activities:
  check_id: {duration: {dist: fixed, value: 1}}
  check_credit: {duration: {dist: fixed, value: 2}}
gateways:
  split: {type: parallel}
  join: {type: parallel}
flow:
  start: split
  split: [check_id, check_credit]
  check_id: join
  check_credit: join
  join: end
"""

CONDITIONS = """\
procsim: 1
name: Conditions
arrivals:
  interarrival: {dist: exponential, mean: 10}
attributes:
  tier: {gold: 0.2, silver: 0.8}
  amount: {dist: lognormal, mean: 5000, sd: 2000}
activities:
  fast: {duration: {dist: fixed, value: 1}}
  slow: {duration: {dist: fixed, value: 5}}
gateways:
  route: {type: exclusive}
flow:
  start: route
  route:
    - {to: fast, when: {tier: gold}}
    - {to: slow}
  fast: end
  slow: end
"""


def edit(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` (which must occur exactly once) replaced by ``new``."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def where(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based (line, column) of the ``occurrence``-th ``needle`` in ``text``."""
    at = -1
    for _ in range(occurrence):
        at = text.index(needle, at + 1)
    before = text[:at]
    return before.count("\n") + 1, at - (before.rfind("\n") + 1) + 1


def errors(tmp_path: Path, text: str, name: str = "model.yaml") -> tuple[ModelError, str]:
    """Load ``text`` from a file and return the ModelError it raises (and the file name)."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ModelError) as info:
        load_model(path)
    err = info.value
    assert err.file == str(path)
    for issue in err.issues:
        assert issue.file == str(path)
        assert issue.message and "Traceback" not in issue.message
    return err, str(path)


def only(tmp_path: Path, text: str) -> Issue:
    """The single issue of a model with one mistake."""
    err, file = errors(tmp_path, text)
    assert len(err.issues) == 1, str(err)
    assert str(err).endswith(f"\n1 error in {file}")
    return err.issues[0]


def test_the_base_models_are_valid(tmp_path: Path) -> None:
    for i, text in enumerate((BASE, PARALLEL, CONDITIONS)):
        path = tmp_path / f"m{i}.yaml"
        path.write_text(text)
        assert load_model(path).file == str(path)


# --- malformed YAML -----------------------------------------------------------------------------


def test_unclosed_bracket_points_at_the_parser_line_and_names_the_bracket(tmp_path: Path) -> None:
    text = edit(BASE, "  start: triage\n", "  start: [triage\n")
    issue = only(tmp_path, text)
    # The parser notices on the next line, at the ':' of 'triage: approve'.
    assert (issue.line, issue.column) == where(text, ": approve")
    assert issue.path == ""
    line, col = where(text, "[triage")
    assert issue.message == (f"invalid YAML: the '[' at line {line}, column {col} is not closed: "
                             "expected ',' or ']', but got ':'")


def test_bad_indentation(tmp_path: Path) -> None:
    text = edit(BASE, "    resource: clerk\n    duration: {dist: exponential",
                "   resource: clerk\n    duration: {dist: exponential")
    issue = only(tmp_path, text)
    line, _ = where(text, "    duration: {dist: exponential")
    assert issue.line == line
    assert issue.message.startswith("invalid YAML: mapping values are not allowed here")
    assert "indentation" in issue.message


def test_dedented_key_in_a_block_mapping(tmp_path: Path) -> None:
    text = edit(BASE, "  clerk: {capacity: 2}\n", "  clerk: {capacity: 2}\n capacity: 3\n")
    issue = only(tmp_path, text)
    assert issue.line == where(text, " capacity: 3")[0]
    assert issue.message.startswith("invalid YAML:") and "check the indentation" in issue.message


def test_tab_indentation(tmp_path: Path) -> None:
    text = edit(BASE, "  approve: end\n", "\tapprove: end\n")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "\tapprove")
    assert issue.message.endswith("indent with spaces, not tabs")


def test_two_documents(tmp_path: Path) -> None:
    text = BASE + "---\nname: Other\n"
    issue = only(tmp_path, text)
    assert issue.line == where(text, "---")[0]
    assert "single document" in issue.message and "'---'" in issue.message


def test_control_character(tmp_path: Path) -> None:
    text = edit(BASE, "name: Claims", "name: Cla\x00ims")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "\x00")
    assert issue.message == ("invalid YAML: unacceptable character #x0000: special characters "
                             "are not allowed")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(BASE.replace("Claims", "Caf\xe9").encode("latin-1"))
    with pytest.raises(ModelError) as info:
        load_model(path)
    (issue,) = info.value.issues
    line, col = where(BASE, "Claims")
    assert (issue.line, issue.column) == (line, col + 3)
    assert issue.message == "expected UTF-8 text, got the byte 0xe9; save the file as UTF-8"


def test_utf8_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    assert load_model(path).name == "Claims"


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        load_model(tmp_path / "nope.yaml")
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}: error: no such file\n1 error in " \
                              f"{tmp_path / 'nope.yaml'}"
    with pytest.raises(ModelError, match="expected a model file, got a directory"):
        load_model(tmp_path)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    issue = only(tmp_path, text)
    assert (issue.line, issue.column, issue.path) == (1, 1, "")
    assert issue.message == "expected a mapping of model fields, got an empty file"


@pytest.mark.parametrize(
    ("text", "got"),
    [("- a\n- b\n", "a list"), ("just text\n", "a text"), ("42\n", "a number"),
     ("root:x:0:0:root:/root:/bin/bash\n", "a text")],
)
def test_top_level_not_a_mapping(tmp_path: Path, text: str, got: str) -> None:
    # What the file says is never quoted: it may be any file at all (issue 11, item 11).
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == (1, 1)
    assert issue.message == ("not a procsim model (expected a mapping of model fields, "
                             f"got {got})")


def test_duplicate_key(tmp_path: Path) -> None:
    text = edit(BASE, "  approve:\n", "  triage:\n    duration: {dist: fixed, value: 1}\n"
                                     "  approve:\n")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "triage:", 2)
    assert issue.path == "activities.triage"
    assert issue.message == f"duplicate key 'triage' (first on line {where(text, 'triage:')[0]})"


# --- schema: types, bounds, missing and unknown fields ------------------------------------------


def test_wrong_type_string_for_capacity(tmp_path: Path) -> None:
    text = edit(BASE, "capacity: 2", "capacity: two")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "two")
    assert issue.path == "resources.clerk.capacity"
    assert issue.message == "expected an integer, got 'two'"


def test_negative_duration_mean(tmp_path: Path) -> None:
    text = edit(BASE, "mean: 6", "mean: -5")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "-5")
    assert issue.path == "activities.triage.duration.mean"
    assert issue.message == "expected a number > 0, got -5"


def test_zero_capacity(tmp_path: Path) -> None:
    text = edit(BASE, "capacity: 2", "capacity: 0")
    issue = only(tmp_path, text)
    line, col = where(text, "capacity: 0")
    assert (issue.line, issue.column) == (line, col + len("capacity: "))
    assert issue.path == "resources.clerk.capacity"
    assert issue.message == "expected a number >= 1, got 0"


def test_activity_without_duration(tmp_path: Path) -> None:
    text = edit(BASE, "    duration: {dist: fixed, value: 3}\n", "")
    issue = only(tmp_path, text)
    # A block mapping is placed at its key, the entry the message is about.
    assert (issue.line, issue.column) == where(text, "approve:")
    assert issue.path == "activities.approve"
    assert issue.message == "missing required field 'duration'"


def test_missing_arrivals(tmp_path: Path) -> None:
    text = edit(BASE, "arrivals:\n  interarrival: {dist: exponential, mean: 10}\n", "")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column, issue.path) == (1, 1, "")
    assert issue.message == "missing required field 'arrivals'"


def test_unknown_field_with_did_you_mean(tmp_path: Path) -> None:
    text = edit(BASE, "capacity: 2", "capasity: 2")
    # The hint says what is missing: no second issue about the missing 'capacity'.
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "capasity")
    assert issue.path == "resources.clerk.capasity"
    assert issue.message == "unknown field 'capasity' (did you mean 'capacity'?)"


def test_unknown_field_without_close_match_lists_the_fields(tmp_path: Path) -> None:
    text = edit(BASE, "capacity: 2", "capacity: 2, colour: red")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "colour")
    assert issue.message == ("unknown field 'colour'; expected one of capacity, members, "
                             "cost_per_hour, calendar, preempt, "
                             "description")


def test_unknown_parameter_of_a_distribution(tmp_path: Path) -> None:
    text = edit(BASE, "{dist: exponential, mean: 6}", "{dist: exponential, mean: 6, sd: 2}")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "sd: 2")
    assert issue.path == "activities.triage.duration.sd"
    assert issue.message == "unknown field 'sd' (exponential takes mean)"


def test_unknown_distribution(tmp_path: Path) -> None:
    text = edit(BASE, "dist: exponential, mean: 6", "dist: expo, mean: 6")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "expo,")
    assert issue.path == "activities.triage.duration.dist"
    assert issue.message.startswith("expected a distribution (fixed, uniform, triangular, ")
    assert issue.message.endswith("got 'expo' (did you mean 'exponential'?)")


def test_distribution_given_as_a_number(tmp_path: Path) -> None:
    text = edit(BASE, "{dist: fixed, value: 3}", "3")
    issue = only(tmp_path, text)
    assert issue.path == "activities.approve.duration"
    assert issue.message == ("expected a distribution such as {dist: exponential, mean: 5}, "
                             "got 3; for a constant write {dist: fixed, value: 3}")


@pytest.mark.parametrize(
    ("written", "advice"),
    [
        ("5m", "write '5min'"),
        ("30 minutes", "write '30min'"),
        ("2 hours", "write '2h'"),
        ("2H", "write '2h'"),
        ("3 fortnights", "unknown unit 'fortnights'"),
    ],
)
def test_duration_with_a_bad_unit(tmp_path: Path, written: str, advice: str) -> None:
    text = edit(BASE, "mean: 6", f"mean: {written}")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, written)
    assert issue.path == "activities.triage.duration.mean"
    assert issue.message == (
        f"expected a number or a duration such as '90s', '30min', '2h', '1.5d', got "
        f"'{written}'; {advice} (units: s, sec, min, h, d, w)"
    )


@pytest.mark.parametrize(("written", "minutes"), [("30min", 30), ("90s", 1.5), ("2h", 120),
                                                  ("30 min", 30), ("1.5d", 2160)])
def test_durations_with_a_unit_are_accepted(tmp_path: Path, written: str,
                                            minutes: float) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(edit(BASE, "{dist: fixed, value: 3}", f"{{dist: fixed, value: {written}}}"))
    assert load_model(path).activities["approve"].duration.mean == pytest.approx(minutes)


def test_invalid_time_unit(tmp_path: Path) -> None:
    text = edit(BASE, "name: Claims\n", "name: Claims\ntime_unit: minute\n")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "minute\n")
    assert issue.path == "time_unit"
    assert issue.message == ("expected 'seconds', 'minutes', 'hours' or 'days', got 'minute' "
                             "(did you mean 'minutes'?)")


def test_cases_and_duration_both_given(tmp_path: Path) -> None:
    text = edit(BASE, "name: Claims\n", "name: Claims\nrun: {cases: 100, duration: 8h}\n")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "{cases")
    assert issue.path == "run"
    assert issue.message == ("expected either cases or duration, got both (cases=100, "
                             "duration=480.0)")


def test_bad_warmup(tmp_path: Path) -> None:
    text = edit(BASE, "name: Claims\n", "name: Claims\nrun: {warmup: autom}\n")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "autom")
    assert issue.path == "run.warmup"
    assert issue.message == ("expected a number of cases, a duration such as '2h', or 'auto', "
                             "got 'autom' (did you mean 'auto'?)")


def test_format_version_as_text(tmp_path: Path) -> None:
    text = edit(BASE, "procsim: 1", "procsim: '1'")
    issue = only(tmp_path, text)
    assert (issue.path, issue.message) == ("procsim", "expected 1, got '1' (a number, not a text)")


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        ("capacity: 2", "capacity: true", "resources.clerk.capacity",
         "expected an integer, got true"),
        ("procsim: 1", "procsim: yes", "procsim", "expected 1, got true"),
        ("triage: approve", "triage: {approve: yes, end: no}", "flow.triage.approve",
         "expected a number, got true"),
        ("mean: 6", "mean: true", "activities.triage.duration.mean",
         "expected a number or a duration such as '90s', '30min', '2h', '1.5d', got true"),
        ("name: Claims", "name: yes", "name", "expected a text, got true"),
    ],
)
def test_booleans_are_not_numbers(tmp_path: Path, old: str, new: str, path: str,
                                  message: str) -> None:
    text = edit(BASE, old, new)
    err, _ = errors(tmp_path, text)
    assert err.issues[0].path == path
    assert err.issues[0].message == message
    assert err.issues[0].line == where(text, new)[0]


# --- names and flow -----------------------------------------------------------------------------


def test_unknown_resource_with_hint(tmp_path: Path) -> None:
    text = edit(BASE, "resource: clerk\n    duration: {dist: fixed",
                "resource: clerks\n    duration: {dist: fixed")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "clerks")
    assert issue.path == "activities.approve.resource"
    assert issue.message == "unknown resource 'clerks' (did you mean 'clerk'?); declared: clerk"


def test_unknown_node_in_flow_with_hint(tmp_path: Path) -> None:
    text = edit(BASE, "triage: approve", "triage: aprove")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "aprove")
    assert issue.path == "flow.triage"
    assert issue.message == "unknown node 'aprove' (did you mean 'approve'?)"


def test_unknown_source_in_flow(tmp_path: Path) -> None:
    text = BASE + "  archive: end\n"
    issue = only(tmp_path, text)
    assert issue.path == "flow.archive"
    assert issue.line == where(text, "archive")[0]
    assert issue.message == "unknown node 'archive'; declare it under activities or gateways"


def test_probabilities_not_summing_to_one(tmp_path: Path) -> None:
    text = edit(BASE, "triage: approve", "triage: {approve: 0.5, end: 0.4}")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "{approve")
    assert issue.path == "flow.triage"
    assert issue.message == "expected probabilities summing to 1, got 0.9"


def test_probability_out_of_range(tmp_path: Path) -> None:
    text = edit(BASE, "triage: approve", "triage: {approve: 1.5, end: -0.5}")
    err, _ = errors(tmp_path, text)
    assert [(i.path, i.message) for i in err.issues] == [
        ("flow.triage.approve", "expected a number <= 1.0, got 1.5"),
        ("flow.triage.end", "expected a number >= 0.0, got -0.5"),
    ]
    assert [i.column for i in err.issues] == [where(text, "1.5")[1], where(text, "-0.5")[1]]


def test_node_unreachable_from_start(tmp_path: Path) -> None:
    text = edit(BASE, "activities:\n", "activities:\n  archive:\n"
                                       "    duration: {dist: fixed, value: 1}\n")
    text += "  archive: end\n"
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "archive:")
    assert issue.path == "activities.archive"
    assert issue.message == "'archive' can never be reached from start"


def test_node_from_which_end_cannot_be_reached(tmp_path: Path) -> None:
    # 'approve' sends every case back to itself: it is a dead end, and the message says so.
    text = edit(BASE, "approve: end", "approve: approve")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "approve", 4)
    assert issue.path == "flow.approve"
    assert issue.message == ("'approve' leads only back to itself, a loop that can never exit "
                             "(no branch with a positive probability leaves it)")


def test_loop_that_can_never_exit(tmp_path: Path) -> None:
    # The exit has probability 0: the loop triage -> approve -> triage is closed.
    text = edit(BASE, "triage: approve", "triage: {approve: 1.0, end: 0.0}")
    text = edit(text, "approve: end", "approve: triage")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "{approve")
    assert issue.path == "flow.triage"
    assert issue.message == ("'triage', 'approve' form a loop that can never exit (no branch "
                             "with a positive probability leaves it)")


def test_rework_loop_with_an_exit_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "rework.yaml"
    text = edit(BASE, "approve: end", "approve: {triage: 0.2, end: 0.8}")
    path.write_text(text)
    assert load_model(path).flow["approve"] == {"triage": 0.2, "end": 0.8}


def test_activity_missing_from_flow(tmp_path: Path) -> None:
    text = edit(BASE, "  approve: end\n", "")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "approve:")
    assert issue.path == "activities.approve"
    assert issue.message == "'approve' has no outgoing flow; add flow.approve (e.g. 'approve: end')"


def test_start_used_as_target(tmp_path: Path) -> None:
    text = edit(BASE, "approve: end", "approve: start")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "start", 2)
    assert issue.path == "flow.approve"
    assert issue.message == "'start' cannot be the target of a flow"


def test_reserved_name_for_an_activity(tmp_path: Path) -> None:
    text = edit(BASE, "  approve:\n", "  end:\n")
    text = edit(text, "triage: approve", "triage: end")
    err, _ = errors(tmp_path, text)
    assert (err.issues[0].path, err.issues[0].message) == (
        "activities.end", "'end' is reserved for the flow's entry and exit; choose another name")


def test_flow_target_of_the_wrong_type(tmp_path: Path) -> None:
    text = edit(BASE, "triage: approve", "triage: 5")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "5\n")
    assert issue.path == "flow.triage"
    assert issue.message == (
        "expected what follows: a node name, a mapping of node names to probabilities, a list of "
        "branches, or a list of node names after a parallel gateway, got 5")


# --- parallel gateways --------------------------------------------------------------------------


def test_parallel_split_not_closed_by_a_join(tmp_path: Path) -> None:
    text = edit(PARALLEL, "  check_id: join\n  check_credit: join\n  join: end\n",
                "  check_id: end\n  check_credit: end\n")
    text = edit(text, "  join: {type: parallel}\n", "")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "[check_id")
    assert issue.path == "flow.split"
    assert issue.message == (
        "parallel split 'split' is not closed by a parallel join: its branches first meet at "
        "'end'; add a gateway of type parallel where they meet")


def test_join_without_split(tmp_path: Path) -> None:
    text = edit(PARALLEL, "  split: {type: parallel}\n", "  split: {type: exclusive}\n")
    text = edit(text, "split: [check_id, check_credit]",
                "split: {check_id: 0.5, check_credit: 0.5}")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "{type: parallel}")
    assert issue.path == "gateways.join"
    assert issue.message == (
        "parallel join 'join' does not close a parallel split, so a case would wait there "
        "forever; use an exclusive gateway to merge alternative paths")


def test_join_with_more_inputs_than_branches(tmp_path: Path) -> None:
    # A choice inside a branch whose two paths both end at the join: 3 flows, 2 branches.
    text = edit(PARALLEL, "  check_id: join\n", "  check_id: {join: 0.5, recheck: 0.5}\n"
                                              "  recheck: join\n")
    text = edit(text, "gateways:\n", "  recheck: {duration: {dist: fixed, value: 1}}\n"
                                     "gateways:\n")
    issue = only(tmp_path, text)
    assert issue.path == "flow.split"
    assert issue.message.startswith(
        "parallel join 'join' expected 2 incoming flows (one per branch of 'split'), got 3")


def test_list_of_targets_from_an_activity(tmp_path: Path) -> None:
    text = edit(BASE, "triage: approve", "triage: [approve, end]")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "[approve")
    assert issue.path == "flow.triage"
    assert issue.message == (
        "a list of nodes starts parallel branches, which needs a parallel gateway; declare one "
        "under gateways (type: parallel), or give probabilities for a choice")


def test_start_with_a_list(tmp_path: Path) -> None:
    text = edit(BASE, "  start: triage\n  triage: approve\n",
                "  start: [triage, approve]\n  triage: end\n")
    issue = only(tmp_path, text)
    assert issue.path == "flow.start"
    assert issue.message.startswith("a list of nodes starts parallel branches")


def test_parallel_gateway_with_probabilities(tmp_path: Path) -> None:
    text = edit(PARALLEL, "split: [check_id, check_credit]",
                "split: {check_id: 0.5, check_credit: 0.5}")
    err, _ = errors(tmp_path, text)
    assert (err.issues[0].path, err.issues[0].message) == (
        "flow.split", "parallel gateway 'split' expected a node or a list of nodes, got a choice; "
        "use an exclusive gateway to choose")
    assert err.issues[0].line == where(text, "split: {check_id")[0]


def test_gateway_that_both_joins_and_splits(tmp_path: Path) -> None:
    text = edit(PARALLEL, "  join: end\n", "  join: [check_id, end]\n")
    err, _ = errors(tmp_path, text)
    assert "parallel gateway 'join' both joins and splits; use two gateways" in str(err)


# --- conditions on case attributes --------------------------------------------------------------


def test_condition_on_an_unknown_attribute(tmp_path: Path) -> None:
    text = edit(CONDITIONS, "when: {tier: gold}", "when: {teir: gold}")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "gold}")
    assert issue.path == "flow.route[0].when.teir"
    assert issue.message == "unknown case attribute 'teir' (did you mean 'tier'?)"


def test_condition_on_an_unknown_category_value(tmp_path: Path) -> None:
    text = edit(CONDITIONS, "when: {tier: gold}", "when: {tier: golden}")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "golden")
    assert issue.path == "flow.route[0].when.tier"
    assert issue.message == ("attribute 'tier' has no value 'golden' (did you mean 'gold'?); "
                             "its values are gold, silver")


def test_conditional_choice_without_default(tmp_path: Path) -> None:
    text = edit(CONDITIONS, "    - {to: slow}\n", "    - {to: slow, when: {amount: '< 100'}}\n")
    issue = only(tmp_path, text)
    # The block list is placed at its key: 'route:' in the flow.
    assert (issue.line, issue.column) == where(text, "route:\n")
    assert issue.path == "flow.route"
    assert issue.message == (
        "expected a default branch without 'when' as the last branch (or conditions that cover "
        "every value of one categorical attribute)")


def test_exhaustive_categorical_conditions_need_no_default(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(edit(CONDITIONS, "    - {to: slow}\n",
                         "    - {to: slow, when: {tier: silver}}\n"))
    assert load_model(path).name == "Conditions"


def test_default_branch_not_last(tmp_path: Path) -> None:
    text = edit(CONDITIONS, "    - {to: slow}\n",
                "    - {to: slow}\n    - {to: fast, when: {tier: silver}}\n")
    issue = only(tmp_path, text)
    assert issue.path == "flow.route"
    assert issue.message == "expected one default branch (without 'when'), as the last branch"


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("{amount: gold}", "expected a comparison such as '> 10000' or a number for numeric "
         "attribute 'amount', got 'gold'"),
        ("{amount: true}", "expected a comparison such as '> 10000', a number or a list of "
         "numbers for numeric attribute 'amount', got true"),
        ("{amount: [1, x]}", "expected a comparison such as '> 10000', a number or a list of "
         "numbers for numeric attribute 'amount', got [1, 'x']"),
        ("{amount: '> lots'}", "expected a number after '>' for numeric attribute 'amount', "
         "got 'lots'"),
        ("{tier: '> 5'}", "expected '==', '!=' or a value for categorical attribute 'tier', "
         "got '> 5'"),
        ("{tier: null}", "expected a value, a list of values, or a comparison such as '> 10000', "
         "got nothing"),
    ],
)
def test_malformed_conditions(tmp_path: Path, condition: str, message: str) -> None:
    text = edit(CONDITIONS, "{tier: gold}", condition)
    issue = only(tmp_path, text)
    attribute = condition[1:].split(":")[0]
    assert issue.path == f"flow.route[0].when.{attribute}"
    assert (issue.line, issue.column) == where(text, condition[len(attribute) + 3:])
    assert issue.message == message


def test_empty_condition(tmp_path: Path) -> None:
    text = edit(CONDITIONS, "when: {tier: gold}", "when: {}")
    issue = only(tmp_path, text)
    assert issue.path == "flow.route[0].when"
    assert issue.message == ("expected at least one condition; leave out 'when' for the default "
                             "branch")


def test_branches_mixed_with_names(tmp_path: Path) -> None:
    text = edit(CONDITIONS, "    - {to: slow}\n", "    - slow\n")
    issue = only(tmp_path, text)
    assert issue.path == "flow.route[0]"
    assert issue.message.startswith("expected a node name, got a mapping; a list of branches")


def test_categorical_attribute_not_summing_to_one(tmp_path: Path) -> None:
    text = edit(CONDITIONS, "{gold: 0.2, silver: 0.8}", "{gold: 0.2, silver: 0.7}")
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "{gold")
    assert issue.path == "attributes.tier"
    assert issue.message == "expected probabilities summing to 1, got 0.9"


# --- numbers the arithmetic cannot use ----------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        ("{dist: exponential, mean: 10}", "{dist: fixed, value: 0}", "arrivals.interarrival",
         "expected a mean inter-arrival time > 0, got 0"),
        ("mean: 6", "mean: 1e12", "activities.triage.duration",
         "expected a mean duration below 1e+09 minutes, got 1e+12"),
        ("mean: 6", "mean: 1e300", "activities.triage.duration",
         "expected parameters that give a finite mean and variance"),
        ("capacity: 2", "capacity: 100000000000000000000000000", "resources.clerk.capacity",
         "expected a capacity <= 1,000,000,000, got a number of 27 digits"),
        ("capacity: 2", "capacity: 2, cost_per_hour: .inf", "resources.clerk.cost_per_hour",
         "expected a cost below 1e+12, got inf"),
        ("{dist: exponential, mean: 6}", "{dist: weibull, shape: 0.001, scale: 1}",
         "activities.triage.duration", "expected a finite mean and variance"),
        ("{dist: exponential, mean: 6}", "{dist: normal, mean: -1e200, sd: 1}",
         "activities.triage.duration", "expected parameters that give a finite mean"),
        ("mean: 6", "mean: 1e400", "activities.triage.duration.mean",
         "expected a finite duration, got '1e400'"),
        ("mean: 6", "mean: .nan", "activities.triage.duration.mean",
         "expected a finite duration, got nan"),
    ],
)
def test_extreme_numbers(tmp_path: Path, old: str, new: str, path: str, message: str) -> None:
    text = edit(BASE, old, new)
    issue = only(tmp_path, text)
    assert issue.path == path
    assert issue.message.startswith(message)
    assert issue.line == where(text, new)[0]


# --- several errors at once ---------------------------------------------------------------------


def test_every_schema_error_is_reported_sorted_by_line(tmp_path: Path) -> None:
    text = edit(BASE, "name: Claims\n", "name: Claims\ntime_unit: hour\n")
    text = edit(text, "capacity: 2", "capacity: -1")
    text = edit(text, "mean: 6", "mean: 5m")
    text = edit(text, "{dist: fixed, value: 3}", "{dist: fixd, value: 3}")
    err, file = errors(tmp_path, text)
    assert [i.path for i in err.issues] == [
        "time_unit",
        "resources.clerk.capacity",
        "activities.triage.duration.mean",
        "activities.approve.duration.dist",
    ]
    lines = [i.line for i in err.issues]
    assert lines == sorted(lines) and None not in lines
    rendered = str(err).splitlines()
    assert rendered[-1] == f"4 errors in {file}"
    assert rendered[0].startswith(f"{file}:{where(text, 'hour')[0]}:{where(text, 'hour')[1]}: "
                                  "error: time_unit: expected 'seconds'")


def test_every_semantic_error_is_reported_sorted_by_line(tmp_path: Path) -> None:
    text = edit(BASE, "resource: clerk\n    duration: {dist: fixed",
                "resource: clerks\n    duration: {dist: fixed")
    text = edit(text, "triage: approve", "triage: {aprove: 0.5, end: 0.5}")
    text = edit(text, "approve: end", "approve: start")
    err, file = errors(tmp_path, text)
    assert [(i.path, i.message.split(" (")[0]) for i in err.issues] == [
        ("activities.approve.resource", "unknown resource 'clerks'"),
        ("flow.triage.aprove", "unknown node 'aprove'"),
        ("flow.approve", "'start' cannot be the target of a flow"),
    ]
    assert str(err).endswith(f"\n3 errors in {file}")


def test_issue_rendering(tmp_path: Path) -> None:
    text = edit(BASE, "mean: 6", "mean: -5")
    err, file = errors(tmp_path, text)
    line, col = where(text, "-5")
    assert str(err) == (f"{file}:{line}:{col}: error: activities.triage.duration.mean: "
                        f"expected a number > 0, got -5\n1 error in {file}")


# --- stability ----------------------------------------------------------------------------------


def test_unstable_model(tmp_path: Path) -> None:
    path = tmp_path / "unstable.yaml"
    text = edit(BASE, "capacity: 2", "capacity: 1").replace("mean: 6", "mean: 9")
    path.write_text(text)
    model = load_model(path)  # loading is fine: stability is a property of a run
    with pytest.raises(UnstableModelError) as info:
        procsim.simulate(model, replications=1, cases=50, seed=1)
    (issue,) = info.value.issues
    assert isinstance(info.value, ModelError)
    assert issue.path == "resources.clerk.capacity"
    assert (issue.file, issue.line, issue.column) == (str(path), *where(text, "1}"))
    assert "pool 'clerk' is unstable" in issue.message
    assert "utilisation of 120%" in issue.message
    assert issue.message.endswith("--allow-unstable")
    result = procsim.simulate(model, replications=2, cases=200, seed=1, allow_unstable=True)
    assert result.resource("clerk", "utilization").mean > 0.9


# --- nasty inputs: never a traceback ------------------------------------------------------------


NASTY = {
    "merge key overriding a field": (
        "defaults: &d {dist: exponential, mean: 6}\n" + BASE, None, "unknown field 'defaults'"),
    "list at top level": ("- procsim: 1\n- name: x\n", "", "not a procsim model (expected a "
                          "mapping of model fields, got a list)"),
    "numbers as names": (
        edit(BASE, "  approve:\n", "  2:\n").replace("approve", "2"), "activities.2",
        "expected a name of letters, digits, '_' or '-' starting with a letter, got '2'"),
    "null capacity": (edit(BASE, "capacity: 2", "capacity: null"), "resources.clerk.capacity",
                      "expected an integer, got nothing"),
    "empty flow entry": (edit(BASE, "triage: approve", "triage:"), "flow.triage",
                         "expected what follows:"),
    "null activity": (edit(BASE, "  approve:\n    resource: clerk\n    duration: {dist: fixed, "
                           "value: 3}\n", "  approve:\n"), "activities.approve",
                      "expected a mapping, got nothing"),
    "null section": (edit(BASE, "resources:\n  clerk: {capacity: 2}\n", "resources: ~\n"),
                     "resources", "expected a mapping, got nothing"),
    "huge integer": (edit(BASE, "capacity: 2", "capacity: " + "9" * 5000), "",
                     "invalid YAML: expected a number of a reasonable size, got one of 5000 "
                     "digits"),
    "huge integer for pydantic": (edit(BASE, "procsim: 1", "procsim: " + "9" * 400), "procsim",
                                  "expected an integer of a reasonable size, got one of 400 "
                                  "digits"),
    "impossible date": (edit(BASE, "name: Claims", "name: 2024-13-45"), "",
                        "invalid YAML: cannot read '2024-13-45': month must be in 1..12"),
    "empty name": (edit(BASE, "name: Claims", "name: ''"), "name",
                   "expected a non-empty text, got ''"),
    "boolean name": (edit(BASE, "name: Claims", "name: no"), "name", "expected a text, got false"),
    "nested list target": (edit(BASE, "triage: approve", "triage: [[approve], end]"),
                           "flow.triage[0]", "expected a node name, got [approve]"),
    "mapping as key": ("? {a: 1}\n: 2\n" + BASE, "", "expected a name as key, got a mapping"),
    "undefined alias": (edit(BASE, "capacity: 2", "capacity: *two"), "",
                        "invalid YAML: found undefined alias 'two'"),
    "unknown tag": (edit(BASE, "capacity: 2", "capacity: !big 2"), "",
                    "unsupported YAML tag '!big'; procsim models are plain YAML"),
    "merge of a scalar": (edit(BASE, "capacity: 2", "<<: 2"), "", "invalid YAML: expected a "
                          "mapping or list of mappings for merging"),
    "date as duration": (edit(BASE, "mean: 6", "mean: 2024-01-01"),
                         "activities.triage.duration.mean", "expected a number or a duration "
                         "such as '90s', '30min', '2h', '1.5d', got 2024-01-01"),
    "erlang with a huge k": (edit(BASE, "{dist: exponential, mean: 6}",
                                  "{dist: erlang, k: 100000000000000000000, mean: 1}"),
                             "activities.triage.duration", "expected parameters that give"),
    "billion laughs": (
        "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)),
        None, "aliases (*name) and merge keys (<<) expand to too much data"),
    "nested lists as a value": (edit(BASE, "capacity: 2", "capacity: " + "[" * 40 + "]" * 40),
                                "resources.clerk.capacity", "expected an integer, got [[[[[["),
    "deep nesting": ("a: " + "[" * 1500 + "]" * 1500 + "\n", "",
                     "nested more than 100 levels deep; a model needs only a few levels"),
}


@pytest.mark.parametrize("name", list(NASTY))
def test_nasty_inputs_give_a_clean_model_error(tmp_path: Path, name: str) -> None:
    text, path, message = NASTY[name]
    err, _ = errors(tmp_path, text)
    assert all(i.line is not None for i in err.issues), str(err)
    if path is not None:
        assert any(i.path == path and i.message.startswith(message) for i in err.issues), str(err)
    else:
        assert any(message in i.message for i in err.issues), str(err)


def test_merge_keys_may_override_merged_values(tmp_path: Path) -> None:
    path = tmp_path / "merge.yaml"
    path.write_text(textwrap.dedent("""\
        procsim: 1
        name: Merge
        arrivals:
          interarrival: &slow {dist: exponential, mean: 10}
        activities:
          a: {duration: {<<: *slow, mean: 3}}
          b: {duration: *slow}
        flow: {start: a, a: b, b: end}
        """))
    model = load_model(path)
    assert model.activities["a"].duration.mean == 3
    assert model.activities["b"].duration.mean == 10


def test_duplicate_key_next_to_a_merge_key_is_still_reported(tmp_path: Path) -> None:
    text = textwrap.dedent("""\
        procsim: 1
        name: Merge
        arrivals:
          interarrival: &slow {dist: exponential, mean: 10}
        activities:
          a: {duration: {<<: *slow, mean: 3, mean: 4}}
        flow: {start: a, a: end}
        """)
    issue = only(tmp_path, text)
    assert (issue.line, issue.column) == where(text, "mean: 4")
    assert issue.message == "duplicate key 'mean' (first on line 6)"


def test_schema_and_name_errors_are_reported_together(tmp_path: Path) -> None:
    # A schema error must not hide the name and flow problems of the same file.
    path = tmp_path / "mixed.yaml"
    path.write_text(
        "procsim: 1\n"
        "name: Mixed\n"
        "arrivals: {interarrival: {dist: exponential, mean: -6}}\n"
        "resources: {agents: {capacity: 2}}\n"
        "activities:\n"
        "  triage: {resource: agent, duration: {dist: fixed, value: 1}}\n"
        "  resolve: {resource: agents, duration: {dist: fixed, value: 1}}\n"
        "flow:\n"
        "  start: triage\n"
        "  triage: {resolve: 0.75, end: 0.3}\n"
        "  resolve: confirm\n"
    )
    with pytest.raises(ModelError) as info:
        load_model(path)
    found = {(i.path, i.line) for i in info.value.issues}
    assert found == {
        ("arrivals.interarrival.mean", 3),
        ("activities.triage.resource", 6),
        ("flow.triage", 10),
        ("flow.resolve", 11),
    }
    messages = {i.path: i.message for i in info.value.issues}
    assert messages["activities.triage.resource"].startswith(
        "unknown resource 'agent' (did you mean 'agents'?)")
    assert messages["flow.resolve"] == "unknown node 'confirm'"
    assert str(info.value).endswith(f"4 errors in {path}")


# --- issue 11: nonsense that was accepted, positions that were missing, limits -----------------


OKRS = BASE + """\
kpis:
  quick: {share: cycle_time, within: 30min, target: ">= 50%"}
okrs:
  - objective: Faster
    key_results:
      - {kpi: cycle_time, stat: p90, to: 40min}
      - {kpi: cost_per_case, change: "<= +5%"}
      - {kpi: quick, to: 60%}
"""


def test_the_okr_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "okrs.yaml"
    path.write_text(OKRS)
    assert len(load_model(path).okrs[0].key_results) == 3


@pytest.mark.parametrize(
    ("run", "message"),
    [
        ("{cases: 500, warmup: 500}", "expected a warm-up of at most 498 cases (run.cases is "
         "500, and at least 2 cases must be left to measure), got 500"),
        ("{cases: 500, warmup: 499}", "expected a warm-up of at most 498 cases"),
        ("{warmup: 5000}", "expected a warm-up of at most 998 cases (run.cases is 1,000 by "
         "default, and at least 2 cases must be left to measure), got 5,000"),
        ("{duration: 10h, warmup: 2d}", "expected a warm-up shorter than run.duration "
         "(600 min), got 2,880 min: every case would arrive during the warm-up"),
        ("{duration: 2d, warmup: 48h}", "expected a warm-up shorter than run.duration"),
    ],
)
def test_a_warmup_that_leaves_nothing_to_measure(tmp_path: Path, run: str, message: str) -> None:
    text = edit(BASE, "name: Claims\n", f"name: Claims\nrun: {run}\n")
    issue = only(tmp_path, text)
    assert issue.path == "run.warmup"
    assert issue.message.startswith(message)
    line, col = where(text, "warmup: ")
    assert (issue.line, issue.column) == (line, col + len("warmup: "))


@pytest.mark.parametrize("run", ["{cases: 500, warmup: 498}", "{duration: 10h, warmup: 9h}",
                                 "{cases: 500, warmup: 2d}", "{duration: 10h, warmup: 5000}",
                                 "{warmup: auto}"])
def test_a_warmup_that_leaves_cases_to_measure_is_fine(tmp_path: Path, run: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(edit(BASE, "name: Claims\n", f"name: Claims\nrun: {run}\n"))
    load_model(path)


@pytest.mark.parametrize(
    ("old", "new", "tag"),
    [
        ("resources:\n", "resources: !!python/object/new:os.system\n",
         "!!python/object/new:os.system"),
        ("capacity: 2", "capacity: !!python/object/apply:os.system [touch OWNED]",
         "!!python/object/apply:os.system"),
        ("name: Claims", "name: !!binary Q2xhaW1z", "!!binary"),
        ("name: Claims", "name: !foo Claims", "!foo"),
        ("capacity: 2", "capacity: !!set {2}", "!!set"),
        ("capacity: 2", "capacity: !<tag:example.com,2000:big> 2", "!<tag:example.com,2000:big>"),
        ("flow:\n", "flow: !!omap\n", "!!omap"),
        ("  clerk:", "  ? !!python/name:os.system\n  : {capacity: 1}\n  clerk:",
         "!!python/name:os.system"),
    ],
)
def test_unsupported_tags_are_refused_where_they_stand(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str, tag: str) -> None:
    # Before: a tag on a mapping was silently ignored, '!!binary' made bytes, '!!set' a
    # mapping of nulls. Nothing may be constructed: the refusal comes while composing.
    monkeypatch.chdir(tmp_path)
    text = edit(BASE, old, new)
    issue = only(tmp_path, text)
    assert issue.message == (f"unsupported YAML tag '{tag}'; procsim models are plain YAML "
                             "(mappings, lists, texts and numbers)")
    assert (issue.line, issue.column) == where(text, "!")
    assert not (tmp_path / "OWNED").exists()


def test_the_core_tags_are_plain_yaml(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(edit(edit(BASE, "name: Claims", "name: !!str 2024"),
                         "capacity: 2", 'capacity: !!int "2"'))
    model = load_model(path)
    assert (model.name, model.resources["clerk"].capacity) == ("2024", 2)


@pytest.mark.parametrize(("value", "tag"), [("maybe", "!!bool"), ("soon", "!!timestamp"),
                                            ("ten", "!!int"), ("x", "!!float")])
def test_a_core_tag_on_a_value_it_cannot_read(tmp_path: Path, value: str, tag: str) -> None:
    # Before: KeyError or AttributeError tracebacks from the YAML constructor.
    text = edit(BASE, "capacity: 2", f"capacity: {tag} {value}")
    issue = only(tmp_path, text)
    assert issue.message == f"invalid YAML: cannot read '{value}' as {tag}; leave out the tag"
    assert (issue.line, issue.column) == where(text, tag)


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        ("to: 40min", "to: .nan", "okrs[0].key_results[0].to",
         "expected a finite duration, got nan"),
        ("to: 40min", "to: .inf", "okrs[0].key_results[0].to",
         "expected a finite duration, got inf"),
        ("to: 40min", "to: -.inf", "okrs[0].key_results[0].to",
         "expected a finite duration, got -inf"),
        ("to: 40min", "to: nan", "okrs[0].key_results[0].to",
         "expected a finite duration, got 'nan'"),
        ("to: 40min", "to: -5", "okrs[0].key_results[0].to", "expected a number >= 0, got -5"),
        ('"<= +5%"', '"<= +nan%"', "okrs[0].key_results[1].change",
         "expected a relative change in percent such as '+5%', got '+nan%'"),
        ('"<= +5%"', '"<= +inf%"', "okrs[0].key_results[1].change",
         "expected a relative change in percent such as '+5%', got '+inf%'"),
        ("to: 60%", "to: nan%", "okrs[0].key_results[2].to",
         "expected a share between 0 and 1 or a percentage such as 85%, got 'nan%'"),
        ("to: 60%", "to: .inf", "okrs[0].key_results[2].to",
         "expected a share between 0 and 1 or a percentage such as 85%, got inf"),
        ('">= 50%"', '">= inf%"', "kpis.quick.target",
         "expected a share between 0 and 1 or a percentage such as 85%, got 'inf%'"),
        ("stat: p90, to: 40min", "stat: p90, from: .nan, to: 40min", "okrs[0].key_results[0].from",
         "expected 'baseline' or a finite number, got nan"),
    ],
)
def test_non_finite_targets_and_key_results(tmp_path: Path, old: str, new: str, path: str,
                                            message: str) -> None:
    # Before: all accepted, and judged against a target of nan or inf.
    text = edit(OKRS, old, new)
    issue = only(tmp_path, text)
    assert (issue.path, issue.message) == (path, message)
    assert issue.line == where(text, new)[0]


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        ('to: 60%', 'to: 45min', "okrs[0].key_results[2].to",
         "expected a share between 0 and 1 or a percentage such as 85%, got '45min' (a share of "
         "cases has no unit of time)"),
        ('">= 50%"', '"<= 45min"', "kpis.quick.target",
         "expected a share between 0 and 1 or a percentage such as 85%, got '45min' (a share of "
         "cases has no unit of time)"),
        ('">= 50%"', '"=> 0.5"', "kpis.quick.target",
         "expected a comparison such as '<= 30min' or '>= 80%', got '=> 0.5' (did you mean "
         "'>= 0.5'?)"),
        ('">= 50%"', '"=< 50%"', "kpis.quick.target", "(did you mean '<= 50%'?)"),
        ('">= 50%"', '"≥ 50%"', "kpis.quick.target", "(did you mean '>= 50%'?)"),
        ('">= 50%"', '"== 50%"', "kpis.quick.target", "(a target is a bound: write '<=' or "
         "'>=')"),
        ('">= 50%"', '"50%"', "kpis.quick.target", "(start with the direction: '<=' or '>=')"),
        ('"<= +5%"', '"=> +5%"', "okrs[0].key_results[1].change",
         "expected a comparison such as '<= +5%', got '=> +5%' (did you mean '>= +5%'?)"),
    ],
)
def test_targets_of_the_wrong_kind_or_with_a_misspelt_operator(
        tmp_path: Path, old: str, new: str, path: str, message: str) -> None:
    # Before: "could not convert string to float: '45min'", and "expected a name of letters,
    # digits, '_' or '-'" for an operator written '=>'.
    text = edit(OKRS, old, new)
    issue = only(tmp_path, text)
    assert issue.path == path
    assert message in issue.message
    assert issue.line == where(text, new)[0]


@pytest.mark.parametrize(
    ("capacity", "message"),
    [
        ("1e308", "expected an integer <= 1,000,000,000, got 1e308; for a pool that never makes "
         "cases wait, leave out the activity's resource"),
        ("1.0e+308", "expected an integer <= 1,000,000,000, got 1e+308; for a pool that never "
         "makes cases wait, leave out the activity's resource"),
        ("1e15", "expected an integer <= 1,000,000,000, got 1e15; for a pool that never makes "
         "cases wait, leave out the activity's resource"),
        ("1e3", "expected an integer, got 1e3; write it in digits: 1000"),
        (".inf", "expected a finite number, got inf"),
        (".nan", "expected a finite number, got nan"),
    ],
)
def test_absurd_capacities_name_the_bound(tmp_path: Path, capacity: str, message: str) -> None:
    # Before: "expected an integer, got '1e308'", or "an integer of a reasonable size, got one
    # of 0 digits" for 1.0e+308.
    text = edit(BASE, "capacity: 2", f"capacity: {capacity}")
    issue = only(tmp_path, text)
    assert (issue.path, issue.message) == ("resources.clerk.capacity", message)
    assert (issue.line, issue.column) == where(text, capacity)


def test_long_names_and_values_are_cut_in_messages(tmp_path: Path) -> None:
    long = "x" * 10_000
    text = edit(edit(BASE, "triage: approve", f"triage: {long}"), "name: Claims",
                f"name: Claims\n? {long}y\n: 1")
    err, _ = errors(tmp_path, text)
    rendered = str(err)
    assert len(rendered) < 1_000, rendered
    shown = f"'{'x' * 60}'…(10,000 characters)"
    messages = {i.path: i.message for i in err.issues}
    assert messages["flow.triage"] == f"unknown node {shown}"
    key = f"{'x' * 60}…(10,001 characters)"
    assert messages[key].startswith(f"unknown field '{'x' * 60}'…(10,001 characters)")
    # A value: cut the same way.
    issue = only(tmp_path, edit(BASE, "capacity: 2", f"capacity: {long}"))
    assert issue.message == f"expected an integer, got {shown}"


def test_names_with_line_breaks_or_escapes_are_shown_escaped(tmp_path: Path) -> None:
    # Before: the line break was printed raw in the path and in three follow-up errors
    # "unknown node 'triage' (did you mean 'triage\n'?)".
    text = edit(BASE, "  triage:\n    resource", '  "triage\\n":\n    resource')
    issue = only(tmp_path, text)
    assert issue.path == "activities.triage\\n"
    assert issue.message == ("expected a name of letters, digits, '_' or '-' starting with a "
                             "letter, got 'triage\\n' (remove the spaces or line breaks around "
                             "it)")
    assert (issue.line, issue.column) == where(text, '"triage')
    text = edit(BASE, "capacity: 2", '"capacity\\e]0;x\\a": 2')
    issue = next(i for i in errors(tmp_path, text)[0].issues if "unknown" in i.message)
    assert issue.message.startswith("unknown field 'capacity\\x1b]0;x\\x07' (did you mean "
                                    "'capacity'?)")
    assert "\x1b" not in str(issue) and "\x07" not in str(issue)


def test_an_issue_is_always_one_readable_line() -> None:
    issue = Issue("flow.a\nb", "got 'x\x1b[2Jy\u202e' and\r" + "z" * 500, "m.yaml", 1, 1)
    assert str(issue).count("\n") == 0
    assert "\\n" in issue.path and "\\x1b[2J" in issue.message and "\\u202e" in issue.message
    assert issue.message.endswith("characters)") and len(str(issue)) < 200


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a: " + "[" * 1500 + "]" * 1500 + "\n", 1, "nested more than 100 levels deep"),
        ("a:\n" + "".join(f"{'  ' * i}b{i}:\n" for i in range(150)) + "  " * 150 + "c: 1\n",
         101, "nested more than 100 levels deep"),
        ("a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 300)), None,
         "nested more than 100 levels deep"),
    ],
    ids=["flow lists", "block mappings", "alias chain"],
)
def test_deep_nesting_is_refused_at_a_line(tmp_path: Path, text: str, line: int | None,
                                           message: str) -> None:
    # Before: "invalid YAML: nested too deeply" without a line (a RecursionError caught), or,
    # for aliases, a RecursionError elsewhere.
    issue = only(tmp_path, text)
    assert issue.message.startswith(message)
    assert issue.line is not None
    if line is not None:
        assert issue.line == line


def test_merge_key_bombs_are_bounded(tmp_path: Path) -> None:
    # A 2,000-key mapping merged 400 times: 800,000 keys to merge (PyYAML's own merging had
    # no bound; a larger one hung).
    text = ("big: &big {" + ", ".join(f"k{i}: {i}" for i in range(2000)) + "}\n"
            + "all: {<<: [" + ", ".join(["*big"] * 400) + "]}\n" + BASE)
    issue = only(tmp_path, text)
    assert issue.message == ("expected at most 200,000 values in a model, got more; aliases "
                             "(*name) and merge keys (<<) expand to too much data")
    assert issue.line is not None


def test_files_above_the_size_limit_are_refused_before_they_are_read(tmp_path: Path) -> None:
    from procsim.model.load import MAX_FILE_BYTES

    assert MAX_FILE_BYTES == 10_000_000
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as fh:  # sparse: 52.4 MB on paper, nothing on disk
        fh.write(BASE.encode())
        fh.truncate(52_400_000)
    with pytest.raises(ModelError) as info:
        load_model(path)
    assert str(info.value) == (f"{path}: error: file is 52.4 MB; procsim reads model, scenario "
                               f"and OKR files up to 10 MB\n1 error in {path}")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_is_read_only_up_to_the_limit() -> None:
    with pytest.raises(ModelError, match="file holds more than 10 MB; procsim reads"):
        load_model("/dev/zero")


def test_a_large_model_is_checked_in_about_linear_time() -> None:
    # 10,000 activities in a chain: the traffic equations were solved densely (n³: half a
    # minute and 2 GB); now sparsely above 500 nodes.
    import time

    from procsim.model import model_from_data, offered_load

    n = 10_000
    data = {"procsim": 1, "name": "Chain",
            "arrivals": {"interarrival": {"dist": "exponential", "mean": 5}},
            "resources": {"clerks": {"capacity": 1}},
            "activities": {f"a{i}": {"resource": "clerks",
                                     "duration": {"dist": "fixed", "value": 0.0001}}
                           for i in range(n)},
            "flow": {"start": "a0", **{f"a{i}": f"a{i + 1}" for i in range(n - 1)},
                     f"a{n - 1}": "end"}}
    started = time.perf_counter()
    model = model_from_data(data)
    load = offered_load(model)["clerks"]
    assert time.perf_counter() - started < 15
    assert load.work_per_case == pytest.approx(n * 0.0001)


def test_traffic_equations_solved_sparsely_agree_with_the_dense_solution(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from procsim.model import check

    model = procsim.load_model(Path(__file__).resolve().parent.parent / "models"
                               / "order_to_cash.yaml")
    dense = check.expected_visits(model)
    monkeypatch.setattr(check, "_DENSE_NODES", 0)
    sparse = check.expected_visits(model)
    assert sparse == pytest.approx(dense, rel=1e-12)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n",
         "not a procsim model (expected a mapping of model fields, got a text)"),
        (b"- root\n- /bin/bash\n", "not a procsim model (expected a mapping of model fields, "
         "got a list)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR/bin/bash\xff", "not a procsim model (a binary "
         "file, not YAML text)"),
        ("procsim: 1\nname: /bin/bash\n".encode("utf-16"), "expected UTF-8 text, got UTF-16; "
         "save the file as UTF-8"),
    ],
    ids=["text", "list", "binary", "utf-16"],
)
def test_a_file_that_is_not_a_model_is_not_quoted(tmp_path: Path, content: bytes,
                                                  message: str) -> None:
    # Before: "expected a mapping of model fields, got 'root:x:0:0:root:/root:/bin/bash
    # daemon:x:1:1:...'" (the file's first line), or "got the byte 0x89" for an image.
    path = tmp_path / "not_a_model.yaml"
    path.write_bytes(content)
    with pytest.raises(ModelError) as info:
        load_model(path)
    (issue,) = info.value.issues
    assert (issue.message, issue.line, issue.column) == (message, 1, 1)
    assert "/bin/bash" not in str(info.value)


def test_simulation_errors_can_name_their_place(tmp_path: Path) -> None:
    from procsim.errors import SimulationError, format_error

    path = tmp_path / "m.yaml"
    path.write_text(BASE)
    model = load_model(path)
    err = SimulationError.at(model, ("activities", "approve"), "2 case(s) still wait")
    line, col = where(BASE, "approve:", 1)
    assert format_error(err) == f"{path}:{line}:{col}: error: activities.approve: 2 case(s) " \
                                "still wait"
    assert str(err) == "2 case(s) still wait"
    # Raised in a worker process, it reaches the parent with its place.
    import pickle

    assert format_error(pickle.loads(pickle.dumps(err))) == format_error(err)
    assert format_error(SimulationError("no file")) == "error: no file"
    assert format_error(ModelError([Issue("x", "bad", "m.yaml", 1, 2)])) == \
        "m.yaml:1:2: error: x: bad\n1 error in m.yaml"
    python_built = procsim.parse_model(BASE)
    assert format_error(SimulationError.at(python_built, ("run",), "too many")) == \
        "<model>: error: run: too many"


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        ("name: Claims", "name: Claims\nrun: {cases: 10000000000}", "run.cases",
         "expected at most 1,000,000,000 cases per replication, got 10,000,000,000"),
        ("name: Claims", "name: Claims\nrun: {replications: 10000000}", "run.replications",
         "expected at most 1,000,000 replications, got 10,000,000"),
        ("name: Claims", "name: Claims\nrun: {duration: 1e308}", "run.duration",
         "expected a duration below 1e+12 minutes, got 1e+308"),
        ("name: Claims", "name: Claims\nrun: {duration: 1e11}", "run.duration",
         "expected at most 1,000,000,000 arrivals per replication, got about 1e+10 (the "
         "arrival rate × run.duration); shorten the duration"),
        ("{dist: exponential, mean: 6}", "{dist: lognormal, mean: 6, sd: 1e30}",
         "activities.triage.duration", "expected a standard deviation below 1e+09 minutes, "
         "got 1e+30"),
        ("value: 3}", "value: 3}\n    batch: {size: 1000000000000, timeout: 1h}",
         "activities.approve.batch.size", "expected a batch size <= 1,000,000,000, got 1e+12"),
        ("value: 3}", "value: 3}\n    batch: {size: 5, timeout: 1e300}",
         "activities.approve.batch.timeout", "expected a time-out below 1e+09 minutes, got "
         "1e+300"),
    ],
)
def test_runs_that_could_never_end_name_the_bound(tmp_path: Path, old: str, new: str,
                                                  path: str, message: str) -> None:
    # Before: accepted, and a run that would take years (or a hang at its first batch).
    text = edit(BASE, old, new)
    issue = only(tmp_path, text)
    assert (issue.path, issue.message) == (path, message)
    assert issue.line == where(text, new.splitlines()[-1].strip())[0]


def test_errors_a_caller_can_cause_are_procsim_errors_and_the_builtin_kind() -> None:
    """Issue 15: what a user of the library can get wrong raises a ProcsimError, with the
    builtin class callers expect mixed in (KeyError for a name, ValueError for a value,
    TypeError for an object of the wrong kind)."""
    import numpy as np

    import procsim
    from procsim.errors import ProcsimError
    from procsim.report.plots import DistributionDisplay
    from procsim.sweep import find_knee

    model = procsim.parse_model("""
procsim: 1
name: Desk
arrivals: {interarrival: {dist: exponential, mean: 5}}
resources: {clerk: {capacity: 1}}
activities: {serve: {resource: clerk, duration: {dist: exponential, mean: 3}}}
flow: {start: serve, serve: end}
""")
    result = procsim.simulate(model, replications=2, cases=100, seed=1, warmup=0)
    with pytest.raises(ProcsimError) as info:
        result.kpi("cycle_tim")
    assert isinstance(info.value, KeyError)
    assert str(info.value) == "unknown KPI 'cycle_tim' (did you mean 'cycle_time'?)"
    with pytest.raises(ProcsimError) as info:
        find_knee(np.array([1.0, 2.0]), np.array([1.0]))
    assert isinstance(info.value, ValueError)
    with pytest.raises(ProcsimError) as info:
        DistributionDisplay.from_result("not a result")
    assert isinstance(info.value, TypeError)


# --- issue 15, item 4: one mistake per module, each a ProcsimError with the builtin kind -------

DESK = """\
procsim: 1
name: Desk
start: 2026-01-05T08:00
arrivals: {interarrival: {dist: exponential, mean: 5}}
resources: {clerk: {capacity: 1}}
activities: {serve: {resource: clerk, duration: {dist: exponential, mean: 3}}}
flow: {start: serve, serve: end}
"""


@pytest.fixture(scope="module")
def desk() -> procsim.Model:
    return procsim.parse_model(DESK)


@pytest.fixture(scope="module")
def desk_run(desk: procsim.Model) -> procsim.RunResult:
    return procsim.simulate(desk, replications=2, cases=60, seed=1, warmup=0, keep_records=True)


def raised(kind: type[BaseException], call: Any, *args: Any, **kwargs: Any) -> str:
    """The message of the ProcsimError that ``call`` raises, checked to be a ``kind`` too."""
    from procsim.errors import ProcsimError

    with pytest.raises(ProcsimError) as info:
        call(*args, **kwargs)
    assert isinstance(info.value, kind), type(info.value).__mro__
    return str(info.value)


def test_simulate_refuses_what_is_not_a_model_and_a_plan_of_another_model(
        desk: procsim.Model) -> None:
    from procsim.engine import compile_model

    assert raised(TypeError, procsim.simulate, "models/claims.yaml") == (
        "model: expected a Model (from procsim.load_model), got str")
    other = procsim.parse_model(DESK.replace("name: Desk", "name: Other"))
    message = raised(ValueError, procsim.simulate, desk, replications=1, cases=10, seed=1,
                     plan=compile_model(other))
    assert message == "plan: expected compile_model(model) of the model simulated, got the " \
                      "plan of 'Other'"


def test_compare_names_the_argument_of_the_wrong_kind(desk: procsim.Model) -> None:
    from procsim.compare import compare

    assert raised(TypeError, compare, "base.yaml", [desk]).startswith("baseline: expected a Model")
    assert raised(TypeError, compare, desk, desk) == (
        "scenarios: expected a list of Models, got Model")
    assert raised(TypeError, compare, desk, [desk, "s.yaml"]).startswith(
        "scenarios[1]: expected a Model")


def test_sweep_and_optimise_refuse_what_is_not_a_model(desk: procsim.Model) -> None:
    from procsim.optimise import optimise
    from procsim.sweep import sweep, sweep_grid

    for call in (lambda: sweep("desk.yaml", "resources.clerk.capacity", [1, 2]),
                 lambda: sweep_grid("desk.yaml", {"resources.clerk.capacity": [1, 2]}),
                 lambda: optimise("desk.yaml", vary={"resources.clerk.capacity": "1..3"})):
        assert raised(TypeError, call).startswith("model: expected a Model")
    assert "expected distinct values" in raised(
        ValueError, sweep, desk, "resources.clerk.capacity", [2, 2])


def test_stats_refuses_bad_levels_and_statistics() -> None:
    from procsim.stats import estimate, mser5, parse_percentile, replications_needed

    assert raised(ValueError, estimate, [1.0, 2.0, 3.0], confidence=95) == (
        "expected a confidence level between 0 and 1, got 95")
    assert raised(ValueError, estimate, [[1.0, 2.0]]).startswith("expected a 1-d array")
    assert raised(ValueError, parse_percentile, "q9") == (
        "expected mean, median or pXX such as p90, got 'q9'")
    assert raised(ValueError, mser5, [1.0, 2.0], batch=0).startswith("expected batch")
    assert raised(ValueError, replications_needed, estimate([1.0, 2.0, 4.0]), 0).startswith(
        "expected relative_precision > 0")


def test_output_refuses_results_without_records_or_of_the_wrong_kind(
        desk: procsim.Model, tmp_path: Path) -> None:
    from procsim.output import write_events_csv, write_json, write_scenario, write_xes

    bare = procsim.simulate(desk, replications=1, cases=10, seed=1, warmup=0)
    assert raised(ValueError, write_events_csv, bare, tmp_path / "e.csv") == (
        "the result holds no records; simulate with keep_records=True")
    assert raised(TypeError, write_xes, "run.json", tmp_path / "e.xes").startswith(
        "result: expected a RunResult")
    assert raised(TypeError, write_json, object(), tmp_path / "r.json") == (
        "expected a result with to_dict() or a dict, got object")
    assert raised(TypeError, write_scenario, bare, tmp_path / "best.yaml") == (
        "expected an OptimiseResult, got RunResult")
    assert not list(tmp_path.iterdir())  # nothing written, not even a temporary file


def test_reports_refuse_results_of_the_wrong_kind(desk_run: procsim.RunResult,
                                                  tmp_path: Path) -> None:
    from procsim.report.optimise import write_optimise_report

    assert raised(TypeError, procsim.write_report, "run.json", tmp_path / "r.html") == (
        "expected a RunResult or a ComparisonResult, got str")
    assert raised(TypeError, write_optimise_report, desk_run, tmp_path / "o.html") == (
        "expected an OptimiseResult, got RunResult")


def test_eventlog_mistakes_are_procsim_errors(desk_run: procsim.RunResult,
                                              tmp_path: Path) -> None:
    pytest.importorskip("pandas")
    from procsim.eventlog import read_log
    from procsim.eventlog.discover import discover, fit_duration
    from procsim.eventlog.distances import check_measures
    from procsim.eventlog.fidelity import cases_from
    from procsim.eventlog.kpis import log_kpis
    from procsim.eventlog.simulated import simulated_log

    assert raised(TypeError, simulated_log, "run.json").startswith("result: expected a RunResult")
    assert raised(ValueError, simulated_log, desk_run, 5) == (
        "replication 5 out of range: the result has 2")
    log = simulated_log(desk_run)
    kpis = log_kpis(log)
    assert raised(KeyError, kpis.kpi, "cycle_tim") == (
        "unknown KPI 'cycle_tim' (did you mean 'cycle_time'?)")
    assert raised(ValueError, log_kpis, log, time_unit="fortnights").startswith("time unit:")
    assert raised(ValueError, check_measures, ["ngram"], 1.0).startswith(
        "unknown distance measure 'ngram'")
    assert raised(ValueError, cases_from, log, "not a date").startswith(
        "expected a date or date-time")
    assert raised(ValueError, discover, log, min_frequency=1.5).startswith("min_frequency:")
    assert raised(ValueError, fit_duration, []) == "expected at least one duration to fit, got none"
    path = tmp_path / "log.csv"
    path.write_text("case,activity,start,end\n1,a,2026-01-05 08:00,2026-01-05 08:05\n",
                    encoding="utf-8")
    assert raised(ValueError, read_log, path, on_error="ignore").startswith("on_error must be")


def test_run_options_are_given_once_and_run_settings_are_named_right(
        desk: procsim.Model) -> None:
    from procsim.errors import ProcsimError
    from procsim.simulate import RunOptions
    from procsim.sweep import sweep

    options = RunOptions.resolve(desk, replications=2, cases=30, seed=1)
    assert raised(ValueError, procsim.simulate, desk, options=options, seed=2) == (
        "expected the run settings in options= or as arguments, not both: got options and seed")
    assert raised(TypeError, procsim.simulate, desk, options={"seed": 1}) == (
        "options: expected RunOptions, got dict")
    assert raised(ValueError, sweep, desk, "resources.clerk.capacity", [1, 2],
                  replication=3) == (
        "unknown run setting 'replication' (did you mean 'replications'?)")
    assert raised(ProcsimError, RunOptions.resolve, desk, replications=0) == (
        "expected at least 1 replication, got 0")


def test_interop_and_log_reports_refuse_objects_of_the_wrong_kind(tmp_path: Path) -> None:
    from procsim.interop.bpmn_export import format_bpmn, write_bpmn
    from procsim.interop.prosimos import map_distribution
    from procsim.report.logs import log_report_html, write_backtest_report
    from procsim.report.optimise import write_sweep_report

    assert raised(TypeError, format_bpmn, "claims.yaml").startswith("model: expected a Model")
    assert raised(TypeError, write_bpmn, {"procsim": 1}, tmp_path / "m.bpmn").startswith(
        "model: expected a Model")
    assert raised(ValueError, map_distribution, {"distribution_name": "nope"}).startswith(
        "unknown Prosimos distribution 'nope'")
    assert raised(TypeError, log_report_html, "log.csv") == (
        "expected the KPIs of a log (procsim.eventlog.kpis.log_kpis), got str")
    assert raised(TypeError, write_backtest_report, {}, tmp_path / "b.html") == (
        "expected a BacktestResult (procsim.eventlog.fidelity.backtest), got dict")
    assert raised(TypeError, write_sweep_report, [], tmp_path / "s.html") == (
        "expected a GridSweepResult (procsim.sweep.sweep_grid), got list")
    assert not list(tmp_path.iterdir())


def test_log_functions_refuse_what_is_not_an_event_log(desk: procsim.Model) -> None:
    pytest.importorskip("pandas")
    from procsim.eventlog.discover import discover
    from procsim.eventlog.fidelity import backtest_model, cases_from, match_activities
    from procsim.eventlog.kpis import log_kpis

    for call in (lambda: log_kpis("log.csv"), lambda: discover("log.csv"),
                 lambda: cases_from("log.csv", "2026-01-01"),
                 lambda: match_activities(desk, "log.csv"),
                 lambda: backtest_model(desk, "log.csv")):
        assert raised(TypeError, call) == (
            "log: expected an EventLog (from procsim.eventlog.read_log), got str")
