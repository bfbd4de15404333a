"""Where replications run never changes the numbers; Ctrl-C stops a run cleanly.

Serial, local worker processes and any ``concurrent.futures`` executor give bit-identical
results for the same seed; records are handed on in the order of replications; KPIs are
computed as records arrive so that memory does not grow with the number of replications;
and an interrupted ``procsim run`` or ``procsim compare`` ends its workers, leaves no
output file behind, says how far it got and exits with 130.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import procsim
from procsim.engine import ReplicationRecord
from procsim.simulate import running

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = ROOT / "bench" / "support_tickets.yaml"
RECORD_FIELDS = ("arrival", "end", "instance_case", "instance_activity", "instance_enabled",
                 "instance_start", "instance_end", "busy_area", "queue_area", "wip_area", "flow")


@pytest.fixture(scope="module")
def model() -> procsim.Model:
    return procsim.load_model(ROOT / "models" / "loan_application.yaml")


def run(model: procsim.Model, **kwargs: object) -> procsim.RunResult:
    settings: dict[str, object] = {"replications": 4, "cases": 400, "seed": 9, "warmup": 20}
    return procsim.simulate(model, **{**settings, **kwargs})  # type: ignore[arg-type]


def same_records(a: list[ReplicationRecord], b: list[ReplicationRecord]) -> None:
    assert [r.replication for r in a] == [r.replication for r in b]
    for x, y in zip(a, b, strict=True):
        for name in RECORD_FIELDS:
            assert np.array_equal(getattr(x, name), getattr(y, name)), name


def test_serial_processes_and_an_executor_give_identical_results(model: procsim.Model) -> None:
    serial = run(model, jobs=1, keep_records=True)
    processes = run(model, jobs=3, keep_records=True)
    with ThreadPoolExecutor(max_workers=2) as pool:
        threads = run(model, executor=pool, keep_records=True)
    reference = json.dumps(serial.to_dict(), sort_keys=True)
    for other in (processes, threads):
        assert json.dumps(other.to_dict(), sort_keys=True) == reference
        assert serial.records is not None and other.records is not None
        same_records(serial.records, other.records)


def test_records_are_handed_on_in_order_of_replication(model: procsim.Model) -> None:
    seen: list[ReplicationRecord] = []
    with ThreadPoolExecutor(max_workers=3) as pool:
        result = run(model, replications=6, executor=pool, on_record=seen.append,
                     keep_records=True)
    assert [r.replication for r in seen] == list(range(6))
    assert result.records is not None
    same_records(seen, result.records)


def test_kpis_computed_on_arrival_equal_those_computed_at_the_end(model: procsim.Model) -> None:
    # Without keep_records the engine's records are dropped as KPIs are made from them.
    dropped, kept = run(model), run(model, keep_records=True)
    assert dropped.records is None
    assert json.dumps(dropped.to_dict(), sort_keys=True) == \
        json.dumps(kept.to_dict(), sort_keys=True)
    # MSER-5 needs every replication at once; it still gets them.
    auto = run(model, warmup="auto")
    assert len(set(auto.warmup)) == 1


def test_progress_reports_every_replication(model: procsim.Model) -> None:
    calls: list[tuple[int, int]] = []
    run(model, jobs=2, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 4) and calls[-1] == (4, 4)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert {t for _, t in calls} == {4}


def test_running_sets_the_executor_and_progress_of_inner_calls(model: procsim.Model) -> None:
    calls: list[tuple[int, int]] = []
    submitted: list[int] = []

    class Counting(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            submitted.append(args[0])
            return super().submit(fn, *args, **kwargs)

    with Counting(max_workers=2) as pool, running(
            executor=pool, progress=lambda d, t: calls.append((d, t))):
        run(model, replications=3)
    assert sorted(submitted) == [0, 1, 2]
    assert calls[-1] == (3, 3)
    calls.clear()
    run(model, replications=2)  # outside the block: back to the defaults
    assert calls == []


def test_an_error_in_a_worker_stops_the_run_with_the_error() -> None:
    text = SUPPORT.read_text().replace("run:\n", "run:\n  max_activity_instances: 50\n")
    capped = procsim.parse_model(text, file="support.yaml")
    with pytest.raises(procsim.SimulationError, match="more than 50 activity instances"):
        procsim.simulate(capped, replications=6, cases=200, seed=1, jobs=2)


# --- Ctrl-C ---------------------------------------------------------------------------------------


def start_in_terminal(args: list[str], cwd: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``python -m procsim ARGS`` with stderr on a pseudo-terminal, in its own group."""
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "procsim", *args], cwd=cwd,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                               start_new_session=True)
    os.close(slave)
    return process, master


def read_until(master: int, text: bytes, seen: bytes = b"", timeout: float = 120) -> bytes:
    deadline = time.monotonic() + timeout
    while text not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the other end closed
                break
            if not chunk:
                break
            seen += chunk
    return seen


def group_is_gone(pgid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_stops_a_run_cleanly(tmp_path: Path, jobs: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    process, master = start_in_terminal(
        ["run", str(SUPPORT), "-r", "50", "--cases", "40000", "--seed", "1", "--jobs", jobs,
         "--json", str(out / "r.json"), "--events", str(out / "events.csv")], tmp_path)
    try:
        # The progress bar shows once the run has gone on for a second: it is simulating.
        seen = read_until(master, b"replications [")
        assert b"replications [" in seen, seen
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        stdout, _ = process.communicate(timeout=120)
        seen = read_until(master, b"were written", seen)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        os.close(master)
    assert process.returncode == 130
    match = re.search(r"interrupted after (\d+) of 50 replications; no output files were written",
                      seen.decode())
    assert match, seen
    assert int(match[1]) < 50
    assert "Traceback" not in seen.decode()
    assert stdout == b""
    assert list(out.iterdir()) == []  # not even a temporary file
    assert group_is_gone(process.pid)  # the workers ended too


def test_ctrl_c_stops_a_comparison_cleanly(tmp_path: Path) -> None:
    process, master = start_in_terminal(
        ["compare", "models/service_desk.yaml", "scenarios/service_desk_more_agents.yaml",
         "-r", "40", "--cases", "20000", "--seed", "1", "--jobs", "2",
         "--json", str(tmp_path / "c.json")], ROOT)
    try:
        seen = read_until(master, b"replications [")
        assert b"of 80 replications" in seen or b"/80 replications" in seen, seen
        os.killpg(process.pid, signal.SIGINT)
        process.communicate(timeout=120)
        seen = read_until(master, b"were written", seen)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        os.close(master)
    assert process.returncode == 130
    assert b" of 80 replications; no output files were written" in seen
    assert not (tmp_path / "c.json").exists()
    assert group_is_gone(process.pid)
