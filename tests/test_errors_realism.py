"""Errors in calendars, people, priorities and batches: file, line, path and a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from procsim import load_model
from procsim.errors import Issue
from test_errors import BASE, CONDITIONS, edit, errors, only, where

CALENDAR = edit(BASE, "resources:\n  clerk: {capacity: 2}",
                'start: 2026-01-05T08:00\ncalendars:\n'
                '  office: [{days: mon-fri, from: "09:00", to: "17:00"}]\n'
                "resources:\n  clerk: {capacity: 2, calendar: office}")

PEOPLE = edit(BASE, "resources:\n  clerk: {capacity: 2}",
              "people:\n  anna: {speed: 1.25}\n  ben: {}\n"
              "resources:\n  clerk: {members: [anna, ben]}")


def test_the_realism_examples_load(tmp_path: Path) -> None:
    for i, text in enumerate((CALENDAR, PEOPLE)):
        path = tmp_path / f"m{i}.yaml"
        path.write_text(text, encoding="utf-8")
        model = load_model(path)
        assert model.resources["clerk"].capacity == 2


def test_unknown_calendar_with_hint(tmp_path: Path) -> None:
    text = edit(CALENDAR, "calendar: office}", "calendar: ofice}")
    issue = only(tmp_path, text)
    assert issue.path == "resources.clerk.calendar"
    assert issue.message == "unknown calendar 'ofice' (did you mean 'office'?); declared: office"
    assert (issue.line, issue.column) == where(text, "ofice")


def test_calendar_needs_a_start(tmp_path: Path) -> None:
    issue = only(tmp_path, edit(CALENDAR, "start: 2026-01-05T08:00\n", ""))
    assert issue.path == "resources.clerk.calendar"
    assert "needs the model's start date-time, e.g. 'start: 2026-01-05T08:00'" in issue.message


def test_calendar_time_out_of_range(tmp_path: Path) -> None:
    text = edit(CALENDAR, '"17:00"', '"25:00"')
    err, _ = errors(tmp_path, text)
    (issue,) = err.issues
    assert issue.path.startswith("calendars.office")
    assert "25:00" in issue.message and "HH:MM" in issue.message
    assert issue.line == where(text, "25:00")[0]


def test_arrivals_need_exactly_one_process(tmp_path: Path) -> None:
    text = edit(CALENDAR, "  interarrival: {dist: exponential, mean: 10}",
                "  interarrival: {dist: exponential, mean: 10}\n  rate: {mon-fri: 6}")
    issue = only(tmp_path, text)
    assert issue.path == "arrivals"
    assert "expected exactly one of interarrival or rate, got both" in issue.message


def test_rate_profile_needs_a_start(tmp_path: Path) -> None:
    text = edit(BASE, "  interarrival: {dist: exponential, mean: 10}", "  rate: {mon-fri: 6}")
    issue = only(tmp_path, text)
    assert issue.path == "arrivals.rate"
    assert "a rate profile needs the model's start date-time" in issue.message


def test_unknown_member(tmp_path: Path) -> None:
    text = edit(PEOPLE, "members: [anna, ben]", "members: [anna, bne]")
    err, _ = errors(tmp_path, text)
    messages = {i.path: i.message for i in err.issues}
    assert messages["resources.clerk.members[1]"] == (
        "unknown person 'bne' (did you mean 'ben'?); declared under people: anna, ben")
    assert messages["people.ben"] == "'ben' is a member of no pool; add them to a pool's members"


def test_capacity_must_match_members(tmp_path: Path) -> None:
    issue = only(tmp_path, edit(PEOPLE, "{members: [anna, ben]}",
                                "{members: [anna, ben], capacity: 3}"))
    assert issue.path == "resources.clerk"
    assert "expected capacity equal to the number of members (2) or no capacity, got 3" \
        in issue.message


def test_durations_by_person_must_name_members(tmp_path: Path) -> None:
    text = edit(PEOPLE, "    duration: {dist: fixed, value: 3}",
                "    duration: {dist: fixed, value: 3}\n"
                "    durations: {anne: {dist: fixed, value: 2}}")
    issue = only(tmp_path, text)
    assert issue.path == "activities.approve.durations.anne"
    assert issue.message == ("'anne' is not a member of pool 'clerk' (did you mean 'anna'?); "
                             "members: anna, ben")


@pytest.mark.parametrize("priority, path, message", [
    ("{attribute: tire, order: [gold, silver]}", "priority.attribute",
     "unknown attribute 'tire' (did you mean 'tier'?); declared: tier, amount"),
    ("{attribute: tier, order: [gold, silvr]}", "priority.order",
     "'silvr' is not a value of 'tier' (did you mean 'silver'?); its values: gold, silver"),
    ("{attribute: tier}", "priority",
     "expected order: the values of 'tier' from highest priority to lowest, e.g. order: "
     "[gold, silver]"),
    ("{attribute: amount, order: [low, high]}", "priority.order",
     "'amount' is numeric: its value is the rank itself (lower first); remove order"),
])
def test_priority_errors(tmp_path: Path, priority: str, path: str, message: str) -> None:
    text = edit(CONDITIONS, "activities:", f"priority: {priority}\nactivities:")
    err, _ = errors(tmp_path, text)
    issues: list[Issue] = [i for i in err.issues if i.path == path]
    assert [i.message for i in issues][:1] == [message], str(err)


def test_batch_size_at_least_two(tmp_path: Path) -> None:
    text = edit(BASE, "    duration: {dist: fixed, value: 3}",
                "    duration: {dist: fixed, value: 3}\n    batch: {size: 1}")
    issue = only(tmp_path, text)
    assert issue.path == "activities.approve.batch.size"
    line, column = where(text, "size: 1")
    assert (issue.line, issue.column) == (line, column + len("size: "))


def test_speed_must_be_positive(tmp_path: Path) -> None:
    text = edit(PEOPLE, "{speed: 1.25}", "{speed: 0}")
    issue = only(tmp_path, text)
    assert issue.path == "people.anna.speed"
    assert issue.message == "expected a number > 0.0, got 0"


def test_preempt_is_a_yes_no_field(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(CALENDAR.replace("calendar: office}", "calendar: office, preempt: true}"),
                    encoding="utf-8")
    assert load_model(path).resources["clerk"].preempt is True
    # Elsewhere a boolean is still refused where a number is expected.
    issue = only(tmp_path, edit(CALENDAR, "{capacity: 2,", "{capacity: true,"))
    assert issue.path == "resources.clerk.capacity"
    assert issue.message == "expected an integer, got true"


def test_person_in_pools_that_disagree_needs_their_own_calendar(tmp_path: Path) -> None:
    text = edit(CALENDAR, "resources:\n  clerk: {capacity: 2, calendar: office}",
                "people:\n  anna: {}\n"
                "resources:\n  clerk: {members: [anna], calendar: office}\n"
                "  desk: {members: [anna]}")
    issue = only(tmp_path, text)
    assert issue.path == "people.anna"
    assert issue.message == ("'anna' works in pools with different calendar values "
                             "(clerk: office, desk: None); give them their own calendar")
    fixed = tmp_path / "ok.yaml"
    fixed.write_text(text.replace("anna: {}", "anna: {calendar: office}"), encoding="utf-8")
    assert load_model(fixed).people["anna"].calendar == "office"


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        ("anna: {speed: 1.25}", "anna: {speed: .inf}", "people.anna.speed",
         "expected a speed <= 1,000,000, got inf"),
        ("anna: {speed: 1.25}", "anna: {speed: 1e300}", "people.anna.speed",
         "expected a speed <= 1,000,000, got 1e+300"),
        ("anna: {speed: 1.25}", "anna: {speed: 1.25, cost_per_hour: .inf}",
         "people.anna.cost_per_hour", "expected a cost below 1e+12, got inf"),
    ],
)
def test_a_person_of_infinite_speed_or_cost(tmp_path: Path, old: str, new: str, path: str,
                                            message: str) -> None:
    # Before: accepted (issue 11: non-finite numbers anywhere a number is expected).
    text = edit(PEOPLE, old, new)
    issue = only(tmp_path, text)
    assert (issue.path, issue.message) == (path, message)
    assert issue.line == where(text, new)[0]
