"""A progress bar for replications on a terminal: done / total, elapsed time, time to go.

The command line shows it on standard error, only when that is a terminal and only for
runs longer than a second; the library never prints (see :func:`procsim.simulate`'s
``progress`` argument, which this bar is a callable for).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """One self-updating line: ``12/40 replications [#####.......] 30%  0:04 elapsed, ~0:09 to go``.

    Call it as ``bar(done, total)``: it is a ``progress`` callback for :func:`procsim.simulate`.
    Several runs in a row (the baseline and scenarios of a comparison) add up: when a run
    reports ``done == total`` its replications are counted as done and the next run's
    count starts on top of them. Use it as a context manager; while it is open a
    background thread redraws the line so that elapsed time moves even while one long
    replication runs. Nothing is written before ``delay`` seconds, so short runs print
    nothing; nothing at all when the stream is not a terminal (unless ``enabled=True``).

    Parameters
    ----------
    stream : file, optional
        Where to draw (default: ``sys.stderr``).
    total : int
        Replications expected in all, if known before the first run reports (e.g. the
        baseline and every scenario of a comparison). A run may raise it.
    enabled : bool, optional
        Draw at all; default: when ``stream`` is a terminal.
    delay : float
        Seconds before the first drawing.
    interval : float
        Seconds between redraws by the background thread (0: no thread).
    clock : callable
        Seconds, monotonic (tests pass a fake one).

    Examples
    --------
    >>> import io
    >>> now = [0.0]
    >>> out = io.StringIO()
    >>> with ProgressBar(out, enabled=True, interval=0, clock=lambda: now[0]) as bar:
    ...     now[0] = 3.0
    ...     bar(1, 4)
    >>> out.getvalue().split("\\r")[1].split("\\x1b")[0]
    '1/4 replications [#####...............]  25%  0:03 elapsed, ~0:09 to go'
    >>> bar.done, bar.total
    (1, 4)
    """

    WIDTH = 20

    def __init__(self, stream: TextIO | None = None, *, total: int = 0,
                 enabled: bool | None = None, delay: float = 1.0, interval: float = 0.5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.delay, self.interval, self.clock = delay, interval, clock
        self._planned = total
        self._finished = 0      # replications of runs that reported done == total
        self._current = (0, 0)  # (done, total) of the run reporting now
        self._start = clock()
        self._drawn = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- counting -----------------------------------------------------------------------------

    def __call__(self, done: int, total: int) -> None:
        with self._lock:
            self._current = (done, total)
            if done >= total:
                self._finished += total
                self._current = (0, 0)
            self._draw()

    @property
    def done(self) -> int:
        """Replications finished so far, over every run."""
        return self._finished + self._current[0]

    @property
    def total(self) -> int:
        """Replications expected in all, as far as known."""
        return max(self._planned, self._finished + self._current[1])

    @property
    def elapsed(self) -> float:
        """Seconds since the bar was made."""
        return self.clock() - self._start

    # --- drawing ------------------------------------------------------------------------------

    def line(self) -> str:
        """The text of the bar as it stands."""
        done, total, elapsed = self.done, self.total, self.elapsed
        share = done / total if total else 0.0
        filled = int(share * self.WIDTH)
        text = (f"{done}/{total} replications [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
                f"{share:4.0%}  {_clock(elapsed)} elapsed")
        if 0 < done < total:
            text += f", ~{_clock(elapsed / done * (total - done))} to go"
        return text

    def _draw(self) -> None:
        if not self.enabled or self.elapsed < self.delay:
            return
        # \r back to the start of the line, \x1b[K clears what a longer line left behind.
        if self._write("\r" + self.line() + "\x1b[K"):
            self._drawn = True

    def _write(self, text: str) -> bool:
        """Write and flush ``text``; on a terminal that has gone (hung up, closed), stop drawing.

        A progress bar never stops a run, nor prints a traceback from its thread.
        """
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # ValueError: the stream was closed
            self.enabled = self._drawn = False
            return False
        return True

    def close(self) -> None:
        """Stop redrawing and clear the line, so that what is printed next starts clean."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            if self._drawn:
                self._write("\r\x1b[K")
                self._drawn = False

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                self._draw()

    def __enter__(self) -> ProgressBar:
        if self.enabled and self.interval > 0:
            self._thread = threading.Thread(target=self._tick, name="procsim-progress",
                                            daemon=True)
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


def _clock(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
