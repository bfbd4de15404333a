"""The event log as procsim holds it: one row per activity instance.

Every reader (:func:`procsim.eventlog.read_log`) returns an :class:`EventLog`, and every
consumer (KPIs from a log, discovery, back-testing) takes one, so that a log from a CSV file,
a XES file or a simulation looks the same.

Invariants of ``EventLog.frame`` (a pandas DataFrame, one row per activity instance, sorted
by case and then by start):

- ``case`` (str), ``activity`` (str): never missing;
- ``resource`` (str): missing values are ``pandas.NA`` (an activity without a resource);
- ``start``, ``end`` (``datetime64[ns, tz]`` or naive ``datetime64[ns]`` when the log has no
  time zone, the same for every time column): never missing, ``start <= end``;
- ``enabled`` (same dtype): the enabled time where the log has one, else ``NaT``;
- ``line`` (int): the physical line of the row in the file (header = line 1); for XES, the
  line of the instance's start event; for a simulated log, the 1-based index of the
  instance; messages quote it.

pandas is an optional dependency (``pip install 'procsim[logs]'``): it is imported only
when a log is read or built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["COLUMNS", "EventLog", "RowProblem", "expect_log"]

#: The columns of ``EventLog.frame``, in order.
COLUMNS = ("case", "activity", "resource", "start", "end", "enabled", "line")


@dataclass(frozen=True)
class RowProblem:
    """A row that could not be read as an activity instance, and why."""

    file: str | None
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file or '<log>'}:{self.line}: {self.message}"


@dataclass(frozen=True)
class EventLog:
    """An event log: the activity instances of ``frame`` (see the module's invariants).

    ``file`` is where it was read from (``None`` for a simulated log); ``time_zone`` the
    zone of its times (``None`` for naive local times); ``dropped`` the rows left out because
    the user chose to drop bad rows (``on_error="drop"``).
    """

    frame: Any  # pandas.DataFrame
    file: str | None = None
    time_zone: str | None = None
    dropped: tuple[RowProblem, ...] = field(default=())

    @property
    def cases(self) -> int:
        """Number of distinct cases."""
        return int(self.frame["case"].nunique())

    def __len__(self) -> int:
        return len(self.frame)


def expect_log(log: Any, what: str = "log") -> EventLog:
    """``log`` when it is an :class:`EventLog`, else a
    :class:`~procsim.errors.WrongTypeError` naming ``what`` (the argument's name).

    >>> expect_log("loans.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    procsim.errors.WrongTypeError: log: expected an EventLog (from ...read_log), got str
    """
    from procsim.errors import WrongTypeError

    if not isinstance(log, EventLog):
        raise WrongTypeError(f"{what}: expected an EventLog (from procsim.eventlog.read_log), "
                             f"got {type(log).__name__}")
    return log
