"""Killed or signalled, a parallel run never leaves worker processes or files behind.

``procsim run --jobs 2`` runs its replications in worker processes. Whatever happens to the
parent, they go with it: SIGKILL of the parent (no clean-up code runs there) ends them within
moments, and so does the death of a script that calls :func:`procsim.simulate` itself; they
hold neither standard input nor standard output, so ``procsim run … | cat`` ends when
procsim does. SIGTERM, to the parent or to its whole process group (as ``kill -- -PGID``
does), cleans up exactly like Ctrl-C: workers stopped, no output or temporary file left, exit
code 143 (130 for SIGINT), no traceback.

Every test starts the command in its own session and kills that group when it ends, so that a
failing test leaves nothing running.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import procsim

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and ps")

ROOT = Path(__file__).resolve().parent.parent
DESK = ROOT / "models" / "service_desk.yaml"
# About 1.5 s per replication on one core: far longer than any test waits for it.
LONG_RUN = ["run", str(DESK), "--cases", "200000", "-r", "50", "--jobs", "2", "--seed", "1"]
GONE_WITHIN = 10.0  # seconds: generous; on Linux the workers go at once


@pytest.fixture(scope="module")
def desk() -> procsim.Model:
    return procsim.load_model(DESK)


# --- processes, as ps sees them -----------------------------------------------------------------


def ps() -> dict[int, tuple[int, str, str]]:
    """Every process: pid → (parent pid, state, command line)."""
    out = subprocess.run(["ps", "-ww", "-eo", "pid=,ppid=,stat=,args="], capture_output=True,
                         text=True, check=True).stdout
    table = {}
    for line in out.splitlines():
        pid, ppid, stat, *args = line.split(None, 3)
        table[int(pid)] = (int(ppid), stat, args[0] if args else "")
    return table


def children(pid: int) -> list[int]:
    return [p for p, (ppid, _, _) in ps().items() if ppid == pid]


def running(pids: list[int]) -> list[int]:
    """Those of ``pids`` still running procsim (a zombie has ended; a reused pid is another)."""
    table = ps()
    return [p for p in pids if p in table and not table[p][1].startswith("Z")
            and "procsim" in table[p][2]]


def still(pids: list[int]) -> str:
    """What ps says of those of ``pids`` still running, for a failure message."""
    table = ps()
    return "still running: " + "; ".join(f"{p} {table[p]}" for p in running(pids))


def wait_for(condition: Callable[[], Any], timeout: float) -> Any:
    """Poll ``condition`` until it is true or ``timeout`` seconds have passed; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


@contextlib.contextmanager
def started(command: list[str], cwd: Path, **popen: Any) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` in a session of its own; whatever is left of that group is killed at the end."""
    process = subprocess.Popen(command, cwd=cwd, stdin=subprocess.DEVNULL,
                               start_new_session=True, **popen)
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # workers stay in the group when orphaned
        process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def start_procsim(args: list[str], cwd: Path, **popen: Any
                  ) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    return started([sys.executable, "-m", "procsim", *args], cwd, **popen)


def mid_run(process: subprocess.Popen[bytes], out: Path) -> list[int]:
    """Wait until both workers run and a first replication reached the event log; their pids."""
    def written() -> bool:
        sizes = []
        for f in out.iterdir():
            with contextlib.suppress(FileNotFoundError):  # a temporary file renamed meanwhile
                sizes.append(f.stat().st_size)
        return any(size > 100_000 for size in sizes)

    assert wait_for(lambda: written() or process.poll() is not None, 120), "no replication done"
    assert process.poll() is None, "the run ended before it could be interrupted"
    workers = running(children(process.pid))
    assert len(workers) == 2, workers
    return workers


def long_run(out: Path) -> list[str]:
    return [*LONG_RUN, "--json", str(out / "r.json"), "--events", str(out / "events.csv")]


# --- the parent killed --------------------------------------------------------------------------


def test_workers_die_with_a_killed_parent(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with start_procsim(long_run(out), tmp_path, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL) as process:
        workers = mid_run(process, out)
        process.kill()  # SIGKILL: nothing runs in the parent
        process.wait()
        assert wait_for(lambda: not running(workers), GONE_WITHIN) is True, still(workers)


def test_workers_die_with_a_script_that_dies_of_sigterm(tmp_path: Path) -> None:
    # A script calling simulate() has no SIGTERM handler: it dies at once, cleaning nothing.
    marker = tmp_path / "first-record"
    script = textwrap.dedent(f"""
        import pathlib, procsim
        model = procsim.load_model({str(DESK)!r})
        mark = pathlib.Path({str(marker)!r})
        procsim.simulate(model, replications=50, cases=200000, seed=1, jobs=2,
                         on_record=lambda record: mark.touch())
    """)
    with started([sys.executable, "-c", script], tmp_path, stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL) as process:
        assert wait_for(lambda: marker.exists() or process.poll() is not None, 120)
        assert process.poll() is None
        workers = running(children(process.pid))
        assert len(workers) == 2, workers
        process.terminate()
        assert process.wait() == -signal.SIGTERM
        assert wait_for(lambda: not running(workers), GONE_WITHIN) is True, still(workers)


def test_a_pipe_from_procsim_ends_when_procsim_is_killed(tmp_path: Path) -> None:
    """``procsim run … --jobs 2 | cat``: ``cat`` sees the end of its input, though the workers
    were forked with that pipe as their standard output."""
    out = tmp_path / "out"
    out.mkdir()
    with start_procsim(long_run(out), tmp_path, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE) as process:
        mid_run(process, out)
        process.kill()
        assert process.stdout is not None and process.stderr is not None
        open_ends = {process.stdout.fileno(), process.stderr.fileno()}
        deadline = time.monotonic() + GONE_WITHIN
        while open_ends and time.monotonic() < deadline:
            ready, _, _ = select.select(list(open_ends), [], [], 0.1)
            for fd in ready:
                if not os.read(fd, 65536):
                    open_ends.discard(fd)
        assert not open_ends, "a worker still holds the pipe"


def test_without_the_parent_death_signal_a_worker_still_leaves_with_its_parent(
        tmp_path: Path) -> None:
    """The portable safeguard, without Linux's parent-death signal: the worker watches its
    parent's end of a pipe, and leaves when it closes."""
    # _exit_with_parent is that safeguard alone (the workers' initializer adds the signal).
    script = textwrap.dedent("""
        import os, sys, time
        from concurrent.futures import ProcessPoolExecutor
        from procsim.simulate import _exit_with_parent

        pool = ProcessPoolExecutor(1, initializer=_exit_with_parent)
        print(pool.submit(os.getpid).result(), flush=True)
        pool.submit(time.sleep, 600)
        time.sleep(600)
    """)
    with started([sys.executable, "-c", script], tmp_path, stdout=subprocess.PIPE,
                 stderr=subprocess.DEVNULL) as process:
        assert process.stdout is not None
        worker = int(process.stdout.readline())
        assert running([worker]) == [worker]
        process.kill()
        process.wait()
        assert wait_for(lambda: not running([worker]), GONE_WITHIN) is True, still([worker])


def test_a_worker_killed_under_a_run_is_an_error_not_a_traceback(desk: procsim.Model) -> None:
    # As when the kernel's out-of-memory killer picks a worker.
    killed: list[int] = []
    others = set(multiprocessing.active_children())

    def kill_a_worker(record: object) -> None:
        if not killed:
            (worker, _) = set(multiprocessing.active_children()) - others
            killed.append(worker.pid or 0)
            os.kill(killed[0], signal.SIGKILL)

    with pytest.raises(procsim.SimulationError, match="a worker process ended abruptly"):
        procsim.simulate(desk, replications=8, cases=50_000, seed=1, jobs=2,
                         on_record=kill_a_worker)
    assert killed
    assert set(multiprocessing.active_children()) <= others


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_the_caller_giving_up_stops_the_workers_at_once(
        desk: procsim.Model, error: type[BaseException]) -> None:
    # Stopped, not left to finish the replications they run: they end by SIGTERM.
    workers: list[multiprocessing.process.BaseProcess] = []
    others = set(multiprocessing.active_children())

    def give_up(record: object) -> None:
        workers.extend(set(multiprocessing.active_children()) - others)
        raise error

    with pytest.raises(error):
        procsim.simulate(desk, replications=8, cases=50_000, seed=1, jobs=2, on_record=give_up)
    assert len(workers) == 2
    assert [w.exitcode for w in workers] == [-signal.SIGTERM] * 2


# --- SIGTERM cleans up like Ctrl-C ---------------------------------------------------------------


def test_sigterm_stops_a_run_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with start_procsim(long_run(out), tmp_path, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE) as process:
        workers = mid_run(process, out)
        process.terminate()  # SIGTERM to the parent alone, waiting for its workers' results
        stdout, stderr = process.communicate(timeout=60)
        assert wait_for(lambda: not running(workers), GONE_WITHIN) is True, still(workers)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert b"terminated after " in stderr and b"no output files were written" in stderr
    assert b"Traceback" not in stderr
    assert stdout == b""
    assert list(out.iterdir()) == []  # not even a temporary file


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_to_the_whole_group_stops_a_run_cleanly(
        tmp_path: Path, signum: signal.Signals, code: int) -> None:
    # What a terminal (Ctrl-C) or a shell's ``kill -- -PGID`` does: parent and workers get it.
    out = tmp_path / "out"
    out.mkdir()
    with start_procsim(long_run(out), tmp_path, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE) as process:
        workers = mid_run(process, out)
        os.killpg(process.pid, signum)
        stdout, stderr = process.communicate(timeout=60)
        assert wait_for(lambda: not running(workers), GONE_WITHIN) is True, still(workers)
    assert process.returncode == code, stderr
    assert b"no output files were written" in stderr
    assert b"Traceback" not in stderr and b"Error" not in stderr, stderr
    assert stdout == b""
    assert list(out.iterdir()) == []


def test_more_signals_while_a_run_stops_still_stop_it(tmp_path: Path) -> None:
    # An impatient user, or a supervisor: Ctrl-C, then SIGTERM twice while the first is being
    # handled. Each used to be able to cut the stopping short, leaving the workers to finish
    # the run while the parent waited for them at exit.
    out = tmp_path / "out"
    out.mkdir()
    with start_procsim(long_run(out), tmp_path, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE) as process:
        workers = mid_run(process, out)
        os.killpg(process.pid, signal.SIGINT)
        for _ in range(2):
            time.sleep(0.002)
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        assert wait_for(lambda: not running(workers), GONE_WITHIN) is True, still(workers)
    # -15: the last SIGTERM came as the interpreter was ending, its handlers already reset.
    assert process.returncode in (130, 143, -signal.SIGTERM), stderr
    assert b"no output files were written" in stderr
    assert list(out.iterdir()) == []


# --- a warm-up must leave something to measure --------------------------------------------------


@pytest.mark.parametrize(("settings", "message"), [
    ({"cases": 500, "warmup": 500},
     "warm-up of 500 cases leaves nothing to measure of a run of 500 cases"),
    ({"cases": 500, "warmup": 5000},
     "warm-up of 5,000 cases leaves nothing to measure of a run of 500 cases"),
    ({"cases": 500, "warmup": 499},
     "warm-up of 499 cases leaves 1 case to measure of a run of 500 cases"),
    ({"duration": "1d", "warmup": "1d"},
     "warm-up of 1,440 min leaves nothing to measure of a run with arrivals for 1,440 min"),
    ({"duration": "1d", "warmup": "2d"},
     "warm-up of 2,880 min leaves nothing to measure of a run with arrivals for 1,440 min"),
])
def test_a_warmup_at_or_beyond_the_run_length_is_refused(
        desk: procsim.Model, settings: dict[str, Any], message: str) -> None:
    with pytest.raises(procsim.SimulationError) as caught:
        procsim.simulate(desk, replications=2, seed=1, jobs=1, **settings)
    assert message in str(caught.value)
    assert "expected a warm-up" in str(caught.value)


def test_a_warmup_shorter_than_the_run_is_accepted(desk: procsim.Model) -> None:
    result = procsim.simulate(desk, replications=2, seed=1, jobs=1, cases=500, warmup=498)
    assert result.warmup == [498, 498]
    by_time = procsim.simulate(desk, replications=2, seed=1, jobs=1, duration="1d", warmup="1h")
    assert all(w > 0 for w in by_time.warmup)


@pytest.mark.parametrize(("settings", "message"), [
    ({"cases": 0}, "expected at least 1 case per replication, got 0"),
    ({"duration": -5.0}, "expected a duration > 0, got -5"),
    ({"duration": 0}, "expected a duration > 0, got 0"),
    ({"cases": 500, "warmup": -1}, "expected a warm-up of 0 or more, got -1"),
    ({"cases": 500, "warmup": float("nan")}, "expected a warm-up of 0 or more, got nan"),
])
def test_run_lengths_that_mean_nothing_are_refused(
        desk: procsim.Model, settings: dict[str, Any], message: str) -> None:
    with pytest.raises(procsim.SimulationError, match=message):
        procsim.simulate(desk, replications=2, seed=1, jobs=1, **settings)


def test_a_lost_worker_breaks_the_pool_even_when_the_executor_waits_for_ever() -> None:
    # A worker killed while it sends a record leaves half a message in the result pipe: the
    # executor's thread waits for the rest and never reports the pool broken. The wait for
    # records asks the pool itself whether a worker has ended.
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from procsim.simulate import _in_order

    class Stuck:
        def submit(self, fn: object, *args: object) -> Future[object]:
            return Future()  # never completes, as under a stuck executor thread

    checks: list[int] = []

    def lost() -> bool:
        checks.append(1)
        return len(checks) >= 2

    with pytest.raises(BrokenProcessPool):
        list(_in_order(Stuck(), lambda r: r, range(3), None, lost=lost))  # type: ignore[arg-type]
    assert len(checks) == 2
