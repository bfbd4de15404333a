"""The command line against hostile input and unlucky arguments: what it prints, what it
refuses before simulating, and how it stops.

Each test here failed before the fix it guards (issue 11): escape sequences in names were
printed raw; two outputs on one path silently replaced each other; an unwritable directory
was found only after the whole simulation; ``--cases`` did not reach the JSON's horizon;
a 2,000-activity chain was stopped as "may loop".
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import procsim
from procsim import cli
from procsim.cli import app, printable

runner = CliRunner()

MODEL = """\
procsim: 1
name: {name}
time_unit: minutes
run: {{cases: 300, warmup: 20, replications: 2, seed: 11}}
arrivals: {{interarrival: {{dist: exponential, mean: 5}}}}
resources:
  clerks: {{capacity: 2, cost_per_hour: 30}}
activities:
  {activity}: {{resource: clerks, duration: {{dist: gamma, mean: 7, sd: 3}}}}
flow:
  start: {activity}
  {activity}: end
"""

# What a terminal would obey rather than show: a window-title OSC, a colour, a cursor
# movement, a carriage return, a bell, a C1 control and a right-to-left override.
HOSTILE = ['"\\e]0;owned\\a"', '"\\e[31mred\\e[0m"', '"\\e[2J\\e[H"', '"over\\rwrite"',
           '"\\x9b31m"', '"abc\\u202Efdp.exe"']
CONTROL = ["\x1b", "\x07", "\r", "\x9b", "\u202e"]


def write(tmp_path: Path, name: str = "Desk", activity: str = "serve") -> Path:
    path = tmp_path / "model.yaml"
    path.write_text(MODEL.format(name=name, activity=activity))
    return path


def assert_no_control(text: str) -> None:
    for char in CONTROL:
        assert char not in text, repr(text)


# --- terminal injection ------------------------------------------------------------------------


def test_printable_escapes_what_a_terminal_would_obey() -> None:
    assert printable("a\x1b]0;t\x07b") == "a\\x1b]0;t\\x07b"
    assert printable("x\ry\x9b\x7f") == "x\\ry\\x9b\\x7f"
    assert printable("left\u202eright") == "left\\u202eright"
    # Tabs, newlines and ordinary non-ASCII text stay as they are.
    assert printable("Bearbeitung\tÜberprüfung\n処理 → ✓") == "Bearbeitung\tÜberprüfung\n処理 → ✓"


@pytest.mark.parametrize("name", HOSTILE)
def test_run_summary_and_validate_escape_control_characters_in_names(
        tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name=name)
    for args in (["run", str(path), "--jobs", "1"], ["validate", str(path)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert_no_control(result.output)
    # The name itself is kept exactly in the JSON (only the terminal shows it escaped).
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["run", str(path), "--jobs", "1", "-q", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["model"] == procsim.load_model(path).name
    assert any(c in json.loads(out.read_text())["model"] for c in CONTROL)


def test_error_messages_escape_control_characters_in_unknown_keys(tmp_path: Path) -> None:
    path = write(tmp_path)
    path.write_text(path.read_text() + '"bogus\\e]0;owned\\a\\rkey": 1\n')
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "bogus" in result.output and "model.yaml:13:1" in result.output
    assert_no_control(result.output)


def test_errors_about_activity_names_escape_control_characters(tmp_path: Path) -> None:
    path = write(tmp_path)
    path.write_text(path.read_text().replace("  serve: end", '  serve: "en\\e[2Jd"'))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "\\x1b[2J" in result.output
    assert_no_control(result.output)


# --- outputs refused before anything is simulated ----------------------------------------------


@pytest.fixture
def no_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the command gets as far as simulating."""
    import importlib

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("simulated before refusing the outputs")

    # The modules, not the functions of the same name that ``procsim`` exports.
    monkeypatch.setattr(importlib.import_module("procsim.simulate"), "simulate", refuse)
    monkeypatch.setattr(importlib.import_module("procsim.compare"), "compare", refuse)


@pytest.mark.parametrize(("first", "second"), [
    ("--json", "--events"), ("--json", "--report"), ("--json", "--xes"),
    ("--events", "--xes"), ("--events", "--report"), ("--xes", "--report"),
])
def test_run_refuses_two_outputs_on_one_path(tmp_path: Path, no_simulation: None,
                                             first: str, second: str) -> None:
    path = write(tmp_path)
    out = tmp_path / "out.html"  # a valid report name, so only the clash is wrong
    out.write_text("kept")
    # The same file, spelled two ways.
    result = runner.invoke(app, ["run", str(path), first, str(out), second,
                                 str(tmp_path / "." / "out.html")])
    assert result.exit_code == 2
    assert f"{first} and {second} both name" in result.output
    assert out.read_text() == "kept"


@pytest.mark.parametrize(("first", "second"), [
    ("--json", "--csv"), ("--json", "--report"), ("--csv", "--report")])
def test_compare_refuses_two_outputs_on_one_path(tmp_path: Path, no_simulation: None,
                                                 first: str, second: str) -> None:
    path = write(tmp_path)
    other = tmp_path / "other.yaml"
    other.write_text(MODEL.format(name="Other", activity="serve"))
    out = tmp_path / "out.html"
    result = runner.invoke(app, ["compare", str(path), str(other), first, str(out), second,
                                 str(out)])
    assert result.exit_code == 2
    assert f"{first} and {second} both name" in result.output


@pytest.mark.parametrize("command", ["run", "compare", "export"])
def test_an_output_never_replaces_an_input(tmp_path: Path, no_simulation: None,
                                           command: str) -> None:
    path = write(tmp_path)
    before = path.read_text()
    other = tmp_path / "other.yaml"
    other.write_text(MODEL.format(name="Other", activity="serve"))
    args = {"run": ["run", str(path), "--json", str(path)],
            "compare": ["compare", str(path), str(other), "--csv", str(other)],
            "export": ["export", str(path), "--bpmn", str(path)]}[command]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "that is an input file" in result.output
    assert path.read_text() == before
    assert other.read_text() == MODEL.format(name="Other", activity="serve")


def test_unwritable_directory_is_refused_before_simulating(tmp_path: Path,
                                                          no_simulation: None) -> None:
    # /proc takes no new files, even for root (permission bits would not show that).
    result = runner.invoke(app, ["run", str(write(tmp_path)), "--json", "/proc/out.json"])
    assert result.exit_code == 2
    assert "--json /proc/out.json: cannot write in /proc" in result.output


def test_a_directory_is_not_an_output_file(tmp_path: Path, no_simulation: None) -> None:
    result = runner.invoke(app, ["run", str(write(tmp_path)), "--json", str(tmp_path)])
    assert result.exit_code == 2
    assert "is a directory" in result.output


def test_writability_probe_leaves_nothing_behind(tmp_path: Path) -> None:
    path = write(tmp_path)
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["run", str(path), "-q", "--jobs", "1", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.yaml", "r.json"]


# --- what the outputs say ----------------------------------------------------------------------


def test_json_horizon_is_what_was_run(tmp_path: Path) -> None:
    path = write(tmp_path)
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["run", str(path), "-q", "--jobs", "1", "--cases", "120",
                                 "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["horizon"] == "120 cases"
    result = runner.invoke(app, ["run", str(path), "-q", "--jobs", "1", "--duration", "3h",
                                 "--warmup", "0", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["horizon"] == "arrivals for 180 minutes"


def test_a_long_valid_chain_is_not_stopped_as_a_loop(tmp_path: Path) -> None:
    """The bound on activity instances scales with the visits per case (here 2,000)."""
    n = 2000
    lines = ["procsim: 1", "name: long chain", "run: {cases: 3, warmup: 0, replications: 1}",
             "arrivals: {interarrival: {dist: fixed, value: 1}}", "activities:"]
    lines += [f"  a{i}: {{duration: {{dist: fixed, value: 1}}}}" for i in range(n)]
    lines += ["flow:", "  start: a0"]
    lines += [f"  a{i}: a{i + 1}" for i in range(n - 1)] + [f"  a{n - 1}: end"]
    path = tmp_path / "chain.yaml"
    path.write_text("\n".join(lines) + "\n")
    model = procsim.load_model(path)
    result = procsim.simulate(model, replications=1, seed=1, jobs=1)
    assert result.kpi("cycle_time").mean == pytest.approx(n)


# --- how it stops ------------------------------------------------------------------------------


def test_out_of_memory_is_a_message_not_a_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def exhausted(path: object) -> None:
        raise MemoryError

    monkeypatch.setattr(cli, "load_scenario", exhausted)
    monkeypatch.setattr(sys, "argv", ["procsim", "validate", str(write(tmp_path))])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error: out of memory" in err and "Traceback" not in err


def test_sigterm_exits_143_without_a_traceback(tmp_path: Path) -> None:
    """SIGTERM is handled like Ctrl-C (the worker side is in test_signals.py)."""
    import time

    path = write(tmp_path)
    events = tmp_path / "events.csv"
    proc = subprocess.Popen(
        [sys.executable, "-m", "procsim", "run", str(path), "--cases", "10000000", "-r", "1",
         "-j", "1", "--warmup", "0", "--events", str(events)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # The event log's temporary file appears once the simulation has started.
        deadline = time.monotonic() + 60
        while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(list(tmp_path.iterdir())) == 2, "the run did not start"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == cli.EXIT_TERMINATED == 143
    assert "Traceback" not in err and "terminated" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.yaml"]


def test_workers_stopped_after_an_error_print_no_traceback(tmp_path: Path) -> None:
    """The parent stops its workers with SIGTERM; a worker must not run the parent's
    SIGTERM handler (inherited through fork) and print its traceback."""
    path = write(tmp_path)
    path.write_text(path.read_text().replace("seed: 11}", "seed: 11, max_activity_instances: 30}"))
    proc = subprocess.run([sys.executable, "-m", "procsim", "run", str(path), "-q", "-r", "6",
                           "-j", "2"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "more than 30 activity instances" in proc.stderr
    assert "Traceback" not in proc.stderr and "Terminated" not in proc.stderr


@pytest.mark.parametrize(("option", "value"), [
    ("--duration", "nan"), ("--duration", "inf"), ("--duration", "1e400"), ("--duration", "0"),
    ("--warmup", "-5"), ("--warmup", "nan"), ("--warmup", "1e400"), ("--warmup", "-2h"),
])
def test_non_finite_or_negative_times_on_the_command_line(tmp_path: Path, no_simulation: None,
                                                          option: str, value: str) -> None:
    result = runner.invoke(app, ["run", str(write(tmp_path)), option, value])
    assert result.exit_code == 2
    assert f"error: {option}: expected" in result.output and repr(value) in result.output
