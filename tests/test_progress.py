"""The progress bar: what it draws, when, and when not at all."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from procsim.progress import ProgressBar

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = ROOT / "bench" / "support_tickets.yaml"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def lines(stream: io.StringIO) -> list[str]:
    """What each redraw showed (without the terminal's control sequences)."""
    return [part.replace("\x1b[K", "") for part in stream.getvalue().split("\r") if part]


def test_nothing_is_drawn_in_the_first_second() -> None:
    out, clock = Terminal(), Clock()
    bar = ProgressBar(out, interval=0, clock=clock)
    bar(0, 10)
    clock.now += 0.5
    bar(3, 10)
    assert out.getvalue() == ""
    clock.now += 0.6
    bar(4, 10)
    assert lines(out) == ["4/10 replications [########............]  40%  0:01 elapsed, "
                          "~0:02 to go"]


def test_runs_in_a_row_add_up_and_the_total_grows_as_needed() -> None:
    out, clock = Terminal(), Clock()
    bar = ProgressBar(out, total=6, delay=0, interval=0, clock=clock)
    bar(0, 3)  # the baseline of a comparison
    assert bar.done == 0 and bar.total == 6
    bar(3, 3)
    bar(1, 3)  # a scenario
    assert (bar.done, bar.total) == (4, 6)
    bar(3, 3)
    bar(2, 5)  # a second round with more replications
    assert (bar.done, bar.total) == (8, 11)
    assert lines(out)[-1].startswith("8/11 replications")


def test_eta_and_long_runs() -> None:
    out, clock = Terminal(), Clock()
    bar = ProgressBar(out, delay=0, interval=0, clock=clock)
    clock.now += 3723  # 1 h 2 min 3 s
    bar(1, 3)
    assert lines(out)[-1].endswith("1:02:03 elapsed, ~2:04:06 to go")
    bar(3, 3)
    assert lines(out)[-1] == "3/3 replications [####################] 100%  1:02:03 elapsed"


def test_close_clears_the_line_for_what_comes_next() -> None:
    out, clock = Terminal(), Clock()
    with ProgressBar(out, delay=0, interval=0, clock=clock) as bar:
        bar(1, 2)
    assert out.getvalue().endswith("\r\x1b[K")
    assert lines(out)[-1] == ""


def test_not_a_terminal_nothing_at_all_but_it_still_counts() -> None:
    out, clock = io.StringIO(), Clock()
    with ProgressBar(out, delay=0, interval=0, clock=clock) as bar:
        clock.now += 5
        bar(2, 4)
    assert out.getvalue() == ""
    assert (bar.done, bar.total) == (2, 4)
    quiet = Terminal()
    with ProgressBar(quiet, enabled=False, delay=0, interval=0, clock=clock) as bar:
        bar(1, 4)
    assert quiet.getvalue() == ""


def test_the_line_moves_while_one_long_replication_runs() -> None:
    out, clock = Terminal(), Clock()
    with ProgressBar(out, interval=0.01, clock=clock) as bar:
        bar(0, 1)
        clock.now += 65
        deadline = time.monotonic() + 30
        while "1:05 elapsed" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
    assert "0/1 replications [....................]   0%  1:05 elapsed" in lines(out)


class HungUp(Terminal):
    """A terminal that has gone: every write fails, as on a hung-up tty."""

    def write(self, text: str) -> int:
        raise OSError(5, "Input/output error")


def test_a_terminal_that_has_gone_stops_the_bar_not_the_run() -> None:
    clock = Clock()
    with ProgressBar(HungUp(), delay=0, interval=0.01, clock=clock) as bar:
        bar(1, 4)  # raises nothing
        assert not bar.enabled
        time.sleep(0.05)  # the redrawing thread meets it too: no exception there either
        bar(4, 4)
    assert (bar.done, bar.total) == (4, 4)
    closed = Terminal()
    with ProgressBar(closed, delay=0, interval=0, clock=clock) as bar:
        bar(1, 4)
        closed.close()
        bar(2, 4)
    assert bar.done == 2


# --- on the command line --------------------------------------------------------------------------


def stderr_in_terminal(args: list[str]) -> tuple[int, str]:
    """Run ``python -m procsim ARGS`` with stderr on a pseudo-terminal; its stderr."""
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "procsim", *args], cwd=ROOT,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child has gone and closed its end
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    return process.wait(timeout=300), seen.decode()


# Long enough (several seconds) for the bar to show after its first second.
LONG_RUN = ["run", str(SUPPORT), "-r", "8", "--cases", "40000", "--seed", "1", "--jobs", "1"]


def test_a_long_run_shows_the_bar_on_a_terminal() -> None:
    code, stderr = stderr_in_terminal(LONG_RUN)
    assert code == 0
    assert "/8 replications [" in stderr
    assert stderr.endswith("\r\x1b[K")  # and clears it before exiting


def test_quiet_shows_no_bar() -> None:
    code, stderr = stderr_in_terminal([*LONG_RUN, "--quiet"])
    assert code == 0
    assert stderr == ""


def test_no_bar_when_stderr_is_not_a_terminal() -> None:
    done = subprocess.run([sys.executable, "-m", "procsim", *LONG_RUN], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert done.stderr == ""
    assert "replications" in done.stdout  # the table, which says how many
