"""Output files against hostile names and unlucky ends (issue 11, items 3, 7, 12 and 13).

Each test here failed before the fix it guards: CSV cells that a spreadsheet runs as a
formula were written raw; replacing a file copied its setuid and execute bits; a control
character in a name made the XES file not well-formed XML; temporary files were named
``.out.json.<random>.tmp`` (a 250-character file name could not be written at all) and
those of a killed run stayed for ever.
"""

from __future__ import annotations

import csv
import dataclasses
import fcntl
import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import procsim
from procsim.cli import app
from procsim.compare import compare
from procsim.engine import compile_model
from procsim.output import (
    FORMULA_TRIGGERS,
    TEMP_MARKER,
    EventLog,
    atomic_open,
    atomic_write,
    atomic_write_bytes,
    spreadsheet_safe,
    write_compare_csv,
    write_events_csv,
    write_json,
    write_xes,
)

runner = CliRunner()
XES = "{http://www.xes-standard.org/}"

# Cells a spreadsheet would run: OWASP's examples and one per trigger character.
FORMULAS = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
            "+1+1", "-1+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "\n=1+1", "'=1+1"]
# Text that is a plain number or harmless: written as it is.
PLAIN = ["-5", "+1.5e3", "-.5", "desk", "a=b", "5-1"]


def model_text(name: str, values: list[str], *, mean: float = 50.0) -> str:
    """A one-desk model named ``name`` whose cases draw ``team`` among ``values``."""
    share = 1 / len(values)
    teams = ", ".join(f"{json.dumps(v)}: {share!r}" for v in values)
    return textwrap.dedent(f"""\
        procsim: 1
        name: {json.dumps(name)}
        time_unit: minutes
        arrivals: {{interarrival: {{dist: exponential, mean: 5}}}}
        attributes:
          amount: {{dist: normal, mean: {mean}, sd: 1}}
          team: {{{teams}}}
        people: {{ann: {{}}, bob: {{}}}}
        resources: {{clerks: {{members: [ann, bob]}}}}
        activities: {{serve: {{resource: clerks, duration: {{dist: exponential, mean: 4}}}}}}
        flow: {{start: serve, serve: end}}
        """)


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- item 3: spreadsheet formulas --------------------------------------------------------------


@pytest.mark.parametrize("text", FORMULAS)
def test_text_a_spreadsheet_would_run_gets_a_quote(text: str) -> None:
    assert spreadsheet_safe(text) == "'" + text
    assert spreadsheet_safe(text).removeprefix("'") == text  # what a reader does


@pytest.mark.parametrize("value", [*PLAIN, -5.3, -1e-300, float("-inf"), 0, -7, True, None, ""])
def test_numbers_and_harmless_text_stay_as_they_are(value: Any) -> None:
    assert spreadsheet_safe(value) is value


def test_every_trigger_character_is_covered() -> None:
    for char in FORMULA_TRIGGERS:
        assert spreadsheet_safe(char + "x") == "'" + char + "x"


def test_event_log_cells_cannot_run_as_formulas(tmp_path: Path) -> None:
    model_file = tmp_path / "m.yaml"
    model_file.write_text(model_text("Desk", FORMULAS + PLAIN), encoding="utf-8")
    out = tmp_path / "log.csv"
    result = runner.invoke(app, ["run", str(model_file), "-r", "2", "--cases", "200", "--warmup",
                                 "0", "--jobs", "1", "--seed", "3", "-q", "--events", str(out)])
    assert result.exit_code == 0, result.output
    header, *rows = read_rows(out)
    column = {name: k for k, name in enumerate(header)}
    teams = {row[column["team"]] for row in rows}
    assert teams == {"'" + f for f in FORMULAS} | set(PLAIN)  # every value drawn, each safe
    for row in rows:
        for k, cell in enumerate(row):
            assert not cell.startswith(FORMULA_TRIGGERS) or is_float(cell), (header[k], cell)
        for name in ("enabled", "start", "end", "amount"):  # numbers stay numbers
            assert is_float(row[column[name]]), (name, row[column[name]])


def test_event_log_names_cannot_run_as_formulas() -> None:
    """Activity, pool and person names, should a model carry such names (the model checks
    refuse them today; the writer does not rely on that), and negative numbers."""
    model = procsim.parse_model(model_text("Desk", ["a", "b"]))
    plan = compile_model(model)
    people = {f"=p{k}": person for k, person in enumerate(model.people.values())}
    hostile = dataclasses.replace(
        plan, model=model.model_copy(update={"people": people}),
        activities=tuple("=" + a for a in plan.activities), pools=("@cmd",) * len(plan.pools))
    result = procsim.simulate(model, replications=1, cases=20, seed=1, warmup=0,
                              keep_records=True)
    fh = io.StringIO()
    log = EventLog(fh, hostile)
    for record in result.records or []:
        amount = record.attributes["amount"]
        log.write(dataclasses.replace(record, attributes={**record.attributes,
                                                          "amount": -amount}))
    header, *rows = list(csv.reader(io.StringIO(fh.getvalue(), newline="")))
    column = {name: k for k, name in enumerate(header)}
    assert {r[column["activity"]] for r in rows} == {"'=serve"}
    assert {r[column["resource"]] for r in rows} == {"'@cmd"}
    assert {r[column["person"]] for r in rows} <= {"'=p0", "'=p1"}
    assert all(float(r[column["amount"]]) < 0 for r in rows)  # -49.3, not '-49.3


def test_compare_csv_cells_cannot_run_as_formulas(tmp_path: Path) -> None:
    def desk(name: str, members: int) -> procsim.Model:
        text = model_text(name, ["a", "b"])
        people = ", ".join(f"p{k}: {{}}" for k in range(members))
        members_list = ", ".join(f"p{k}" for k in range(members))
        text = text.replace("{ann: {}, bob: {}}", f"{{{people}}}")
        return procsim.parse_model(text.replace("[ann, bob]", f"[{members_list}]"))

    evil = '=HYPERLINK("http://x","y")'
    result = compare(desk("-base", 2), [desk(evil, 3)], replications=3, cases=300, jobs=1)
    out = write_compare_csv(result, tmp_path / "cmp.csv")
    header, *rows = read_rows(out)
    assert header == list(result.rows()[0])
    assert len(rows) == len(result.rows())
    column = {name: k for k, name in enumerate(header)}
    assert {r[column["scenario"]] for r in rows} == {"'" + evil}
    numeric = ["baseline", "scenario_value", "scenario_ci_low", "scenario_ci_high",
               "difference", "difference_ci_low", "difference_ci_high", "relative_change",
               "confidence"]
    negative = 0
    for row in rows:
        for k, cell in enumerate(row):
            assert not cell.startswith(FORMULA_TRIGGERS) or is_float(cell), (header[k], cell)
        for name in numeric:
            assert is_float(row[column[name]]), (name, row)
            negative += row[column[name]].startswith("-")
    assert negative > 0  # negative differences are written as plain numbers
    # The table holds what rows() holds: text with its quote removed, numbers exactly.
    for row, expected in zip(rows, result.rows(), strict=True):
        assert row[column["scenario"]].removeprefix("'") == expected["scenario"]
        assert float(row[column["difference"]]) == expected["difference"] or \
            expected["difference"] != expected["difference"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp.csv"]


def test_compare_command_csv_cells_cannot_run_as_formulas(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text(model_text("Base", ["a", "b"]), encoding="utf-8")
    evil = "=cmd|' /C calc'!A0"
    scenario = tmp_path / "evil.yaml"
    scenario.write_text(f"procsim: 1\nname: {json.dumps(evil)}\nbase: base.yaml\n"
                        "changes: {activities.serve.duration.mean: 3}\n", encoding="utf-8")
    out = tmp_path / "cmp.csv"
    result = runner.invoke(app, ["compare", str(base), str(scenario), "-r", "3", "--cases",
                                 "300", "--jobs", "1", "-q", "--csv", str(out)])
    assert result.exit_code == 0, result.output
    header, *rows = read_rows(out)
    assert {r[header.index("scenario")] for r in rows} == {"'" + evil}


# --- item 12: permissions of a replaced file ---------------------------------------------------


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("old_mode", [0o4755, 0o2775, 0o1777, 0o7777, 0o755, 0o600, 0o640])
def test_replacing_a_file_never_copies_execute_setuid_setgid_or_sticky(
        tmp_path: Path, old_mode: int) -> None:
    model = procsim.parse_model(model_text("Desk", ["a", "b"]))
    result = procsim.simulate(model, replications=2, cases=10, seed=1, warmup=0,
                              keep_records=True)
    writers = {"out.json": lambda p: write_json(result, p),
               "out.csv": lambda p: write_events_csv(result, p),
               "out.xes": lambda p: write_xes(result, p),
               "out.png": lambda p: atomic_write_bytes(p, b"png"),
               "out.md": lambda p: atomic_write(p, lambda fh: fh.write("# report"))}
    with umask(0o022):
        for name, write in writers.items():
            path = tmp_path / name
            path.write_text("old")
            os.chmod(path, old_mode)
            write(path)
            mode = stat.S_IMODE(os.stat(path).st_mode)
            assert mode == old_mode & 0o666, (name, oct(mode))
            assert not mode & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX | 0o111)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077, 0o002])
def test_a_new_file_has_the_usual_mode_less_the_umask(tmp_path: Path, mask: int) -> None:
    with umask(mask):
        atomic_write(tmp_path / "new.json", lambda fh: fh.write("{}"))
        atomic_write_bytes(tmp_path / "new.png", b"png")
    for name in ("new.json", "new.png"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o666 & ~mask


# --- item 13: control characters and lone surrogates -------------------------------------------

CONTROL_NAME = "Desk\x01\x0b\x1b[31m\x7f"
CONTROL_VALUES = ["team\x00a", "Desk\x01\x0b", "esc\x1b]0;x\x07", "tab\tlf\ncr\r", "ok"]


def test_xes_with_control_characters_is_well_formed(tmp_path: Path) -> None:
    model_file = tmp_path / "m.yaml"
    model_file.write_text(model_text(CONTROL_NAME, CONTROL_VALUES), encoding="utf-8")
    xes, events, out_json = tmp_path / "log.xes", tmp_path / "log.csv", tmp_path / "r.json"
    result = runner.invoke(app, ["run", str(model_file), "-r", "2", "--cases", "100", "--warmup",
                                 "0", "--jobs", "1", "--seed", "3", "-q", "--xes", str(xes),
                                 "--events", str(events), "--json", str(out_json)])
    assert result.exit_code == 0, result.output
    root = ET.parse(xes).getroot()  # well-formed
    name = root.find(f"{XES}string[@key='concept:name']")
    assert name is not None and name.get("value") == "Desk\\x01\\x0b\\x1b[31m\x7f"
    teams = {a.get("value") for a in root.iter(f"{XES}string") if a.get("key") == "team"}
    # Forbidden characters as visible escapes; tab, line feed and carriage return kept.
    assert teams == {"team\\x00a", "Desk\\x01\\x0b", "esc\\x1b]0;x\\x07", "tab\tlf\ncr\r", "ok"}
    # The CSV log keeps the names exactly (CSV has no forbidden characters).
    header, *rows = read_rows(events)
    assert {r[header.index("team")] for r in rows} == set(CONTROL_VALUES)
    # The run JSON is valid and has the name exactly.
    assert json.loads(out_json.read_text(encoding="utf-8"))["model"] == CONTROL_NAME


def test_lone_surrogates_are_written_not_a_crash(tmp_path: Path) -> None:
    """A name that UTF-8 cannot encode, from the library (the model checks refuse it)."""
    model = procsim.parse_model(model_text("Desk", ["a", "b"]))
    odd = "A\ud800B\udcff"
    result = procsim.simulate(model.model_copy(update={"name": odd}), replications=1,
                              cases=10, seed=1, warmup=0, keep_records=True)
    root = ET.parse(write_xes(result, tmp_path / "a.xes")).getroot()
    name = root.find(f"{XES}string[@key='concept:name']")
    assert name is not None and name.get("value") == "A\\ud800B\\udcff"
    assert json.loads((write_json(result, tmp_path / "a.json")).read_text())["model"] == odd
    # JSON written with ensure_ascii=False (as procsim compare --json is) still round-trips.
    atomic_write(tmp_path / "b.json", lambda fh: json.dump({"name": odd}, fh, ensure_ascii=False))
    assert json.loads((tmp_path / "b.json").read_text(encoding="utf-8")) == {"name": odd}


# --- item 7: temporary files -------------------------------------------------------------------


def temp_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if TEMP_MARKER in p.name)


@pytest.mark.parametrize("name", ["out.json", "report.html", "log", ".hidden", "x.tmp",
                                  "é" * 60 + ".csv", "n" * 250 + ".xes"])
def test_temporary_name_is_hidden_marked_and_never_an_output(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    with atomic_open(target) as fh:
        fh.write("new")
        (tmp,) = [p for p in tmp_path.iterdir()]
        assert tmp.name.startswith("." + name[:150])
        assert TEMP_MARKER == ".procsim-tmp-" and re.fullmatch(
            r"\..+\.procsim-tmp-[0-9a-f]{8}-[0-9]+-[0-9a-f]{8}", tmp.name)
        assert not tmp.name.endswith(target.suffix or "\0")
        assert tmp.suffix != target.suffix or not target.suffix
        # No pattern for outputs finds it.
        if target.suffix:
            assert list(tmp_path.glob("*" + target.suffix)) == []
        assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == [name]
    assert target.read_text(encoding="utf-8") == "new"


class Terminated(KeyboardInterrupt):
    """What the command line raises on SIGTERM."""


@pytest.mark.parametrize("exc", [KeyboardInterrupt, Terminated, SystemExit, ValueError,
                                 MemoryError, GeneratorExit])
def test_temporary_file_removed_on_any_exception(tmp_path: Path, exc: type[BaseException]
                                                 ) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(exc):
        with atomic_open(target) as fh:
            fh.write("x" * 100_000)
            assert len(temp_files(tmp_path)) == 1
            raise exc
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    assert target.read_text() == "old"


def test_an_interrupt_stays_an_interrupt_when_the_file_cannot_be_flushed(tmp_path: Path
                                                                        ) -> None:
    """Ctrl-C on a full disk: the error of flushing the abandoned file must not replace
    the interrupt (the command line exits 130 for one and 2 for the other)."""
    target = tmp_path / "out.json"
    with pytest.raises(KeyboardInterrupt):
        with atomic_open(target, "wb") as fh:
            fh.write(b"x" * 100)  # still in the buffer
            os.close(fh.fileno())  # every flush now fails
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_temporary_file_removed_when_the_rename_fails(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.mkdir()
    (target / "keep").write_text("x")  # os.replace cannot put a file over a full directory
    with pytest.raises(OSError):
        atomic_write(target, lambda fh: fh.write("new"))
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


WRITER = """\
import os, signal, sys, time
from procsim.output import atomic_open

class Terminated(KeyboardInterrupt):
    pass

def terminate(signum, frame):
    raise Terminated

signal.signal(signal.SIGTERM, terminate)
try:
    with atomic_open(sys.argv[1]) as fh:
        fh.write("partial")
        fh.flush()
        print("ready", flush=True)
        time.sleep(60)
except KeyboardInterrupt:
    sys.exit(130)
"""


def start_writer(tmp_path: Path, target: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    with proc.stdout:
        assert proc.stdout.readline() == "ready\n"
    assert len(temp_files(tmp_path)) == 1
    return proc


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_removes_the_temporary_file(tmp_path: Path, signum: int) -> None:
    target = tmp_path / "out.json"
    proc = start_writer(tmp_path, target)
    try:
        proc.send_signal(signum)
        assert proc.wait(timeout=30) == 130
    finally:
        proc.kill()
        proc.wait()
    assert list(tmp_path.iterdir()) == []


def killed_writer(tmp_path: Path, target: Path) -> Path:
    """The temporary file of a writer killed with SIGKILL (nothing can clean up after it)."""
    proc = start_writer(tmp_path, target)
    proc.kill()
    proc.wait()
    (stale,) = temp_files(tmp_path)
    return stale


def test_temporary_file_of_a_killed_run_is_never_an_output_and_goes(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    stale = killed_writer(tmp_path, target)
    assert stale.name.startswith(".out.json" + TEMP_MARKER)
    assert list(tmp_path.glob("*.json")) == [] and not target.exists()
    other = tmp_path / "other.json"
    atomic_write(other, lambda fh: fh.write("{}"))
    assert stale.exists()  # another file's write leaves it alone
    atomic_write(target, lambda fh: fh.write('{"new": 1}'))
    assert json.loads(target.read_text()) == {"new": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.json", "out.json"]


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_only_abandoned_temporary_files_are_removed(tmp_path: Path) -> None:
    """Nothing but ``<prefix><dead pid>-<8 hex>``, a regular file of this user, unlocked."""
    target = tmp_path / "out.json"
    stale = killed_writer(tmp_path, target)
    prefix, pid, random_part = stale.name.rsplit("-", 2)
    assert pid.isdigit() and len(random_part) == 8
    host = prefix.removeprefix(".out.json" + TEMP_MARKER)
    dead = dead_pid()

    def name(pid: int | str = dead, rand: str = "0123abcd", host: str = host,
             target: str = "out.json") -> str:
        return f".{target}{TEMP_MARKER}{host}-{pid}-{rand}"

    kept = {
        name(pid=os.getpid()): "file",  # a live process (this one)
        name(pid=os.getppid()): "file",  # another live process
        name(host="0badc0de"): "file",  # another host: its pids mean nothing here
        name(rand="0123ABCD"): "file", name(rand="0123abc"): "file",
        name(pid="0"): "file", name(pid="-1"): "file",
        name() + ".json": "file", name()[1:]: "file", name(target="out.jso"): "file",
        name(rand="0123abce"): "dir", name(rand="0123abcf"): "link",
        name(rand="01234567"): "locked", name(rand="76543210"): "hardlink",
    }
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    locks = []
    for n, kind in kept.items():
        path = tmp_path / n
        if kind == "dir":
            path.mkdir()
        elif kind == "link":
            path.symlink_to(victim)
        elif kind == "hardlink":
            os.link(victim, path)
        else:
            path.write_text("stale")
        if kind == "locked":  # held by a live process (another pid namespace, say)
            fd = os.open(path, os.O_RDWR)
            fcntl.flock(fd, fcntl.LOCK_EX)
            locks.append(fd)
    removed = [stale, tmp_path / name(rand="fedcba98")]
    removed[1].write_text("stale")
    try:
        atomic_write(target, lambda fh: fh.write("{}"))
    finally:
        for fd in locks:
            os.close(fd)
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {*kept, "victim.txt", "out.json"}
    assert not any(p.exists() for p in removed)
    assert victim.read_text() == "keep me"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file to another user")
def test_another_users_temporary_file_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    stale = killed_writer(tmp_path, target)
    os.chown(stale, 65534, 65534)
    atomic_write(target, lambda fh: fh.write("{}"))
    assert stale.exists()


# Python 3.12 warns about fork() in a process with threads; the child here runs no Python
# but this block and os._exit.
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
@pytest.mark.parametrize("how", ["error", "normal end"])
def test_a_worker_forked_inside_the_block_leaves_the_file_to_its_parent(tmp_path: Path,
                                                                        how: str) -> None:
    """A forked child (a worker process) that leaves the block it inherited must neither
    remove nor rename its parent's temporary file."""
    target = tmp_path / "out.json"
    parent = os.getpid()
    try:
        with atomic_open(target) as fh:
            fh.write("parent")
            fh.flush()
            pid = os.fork()
            if pid == 0 and how == "error":
                raise SystemExit(0)
            if pid != 0:
                _, status = os.waitpid(pid, 0)
                assert os.waitstatus_to_exitcode(status) == 0
                assert len(temp_files(tmp_path)) == 1 and not target.exists()
                fh.write(" only")
    except BaseException:
        if os.getpid() == parent:
            raise
    finally:
        if os.getpid() != parent:
            ok = len(temp_files(tmp_path)) == 1 and not target.exists()
            os._exit(0 if ok else 3)
    assert target.read_text() == "parent only"


def test_the_sigterm_path_of_the_command_line_leaves_no_temporary_file(tmp_path: Path) -> None:
    """The real command: SIGTERM while the event log is being written."""
    model_file = tmp_path / "m.yaml"
    model_file.write_text(model_text("Desk", ["a", "b"]), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "procsim", "run", str(model_file), "--cases", "10000000", "-r",
         "1", "-j", "1", "--warmup", "0", "-q", "--events", str(tmp_path / "log.csv")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not temp_files(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        (tmp,) = temp_files(tmp_path)
        assert tmp.name.startswith(".log.csv" + TEMP_MARKER)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.yaml"]
