"""Writing results to files: JSON and the activity-instance event log, always atomically.

A file is written to a temporary sibling and renamed into place, so a reader never
sees a half-written file and an interrupted run leaves what was there before intact.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from procsim.engine import Plan, ReplicationRecord, compile_model
from procsim.kpi import RunResult

__all__ = ["atomic_write", "atomic_write_bytes", "write_events_csv", "write_json"]


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[str]], Any]) -> Path:
    """Call ``write(fh)`` on a temporary file beside ``path``, then rename it to ``path``.

    Raises ``OSError`` when the directory cannot be written; the temporary file is removed.
    The file gets the permissions of the file it replaces, or the usual ones for a new file.
    """
    return _atomic(path, "w", write)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary sibling file and a rename."""
    return _atomic(path, "wb", lambda fh: fh.write(data))


def _atomic(path: str | os.PathLike[str], mode: str, write: Callable[[Any], Any]) -> Path:
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        # mkstemp creates the file readable by its owner only; a report or a JSON result is
        # for others to read too: keep the old file's mode, or apply the umask as open() does.
        try:
            permissions = target.stat().st_mode & 0o7777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            permissions = 0o666 & ~umask
        os.chmod(tmp, permissions)
        if mode == "w":
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                write(fh)
        else:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_json(result: RunResult, path: str | os.PathLike[str]) -> Path:
    """Write ``result.to_dict()`` as JSON (see docs/cli.md for the structure)."""
    data = result.to_dict()
    return atomic_write(path, lambda fh: json.dump(data, fh, indent=2, allow_nan=False))


def write_events_csv(result: RunResult, path: str | os.PathLike[str]) -> Path:
    """Write the activity-instance log: one row per activity instance, all replications.

    Columns: ``replication, case_id, activity, resource, enabled, start, end``, then one column
    per case attribute. Times are in the model's time unit from the start of the replication.
    ``case_id`` is ``<replication>-<case number>`` so that it is unique across replications.
    Requires a result from ``simulate(..., keep_records=True)``; to write the log while
    simulating, without keeping the records, pass :meth:`EventLog.write` as ``on_record``.
    """
    if result.records is None:
        raise ValueError("the result holds no records; simulate with keep_records=True")
    records = result.records

    def write(fh: IO[str]) -> None:
        log = EventLog(fh, compile_model(result.model))
        for record in records:
            log.write(record)

    return atomic_write(path, write)


class EventLog:
    """The activity-instance log of :func:`write_events_csv`, written one replication at a time.

    The header is written at once; :meth:`write` adds a replication's rows in chunks, so
    that memory does not grow with the size of the log.

    Examples
    --------
    >>> import io, procsim
    >>> from procsim.engine import Plan, ReplicationRecord, compile_model
    >>> m = procsim.parse_model('''
    ... procsim: 1
    ... name: One desk
    ... arrivals: {interarrival: {dist: exponential, mean: 5}}
    ... resources: {clerk: {capacity: 1}}
    ... activities: {serve: {resource: clerk, duration: {dist: exponential, mean: 4}}}
    ... flow: {start: serve, serve: end}
    ... ''')
    >>> fh = io.StringIO()
    >>> log = EventLog(fh, compile_model(m))
    >>> _ = procsim.simulate(m, replications=2, cases=3, seed=1, warmup=0, on_record=log.write)
    >>> fh.getvalue().splitlines()[0]
    'replication,case_id,activity,resource,enabled,start,end'
    >>> len(fh.getvalue().splitlines())
    7
    """

    #: rows formatted at once
    CHUNK = 65_536

    def __init__(self, fh: IO[str], plan: Plan) -> None:
        self._out = csv.writer(fh)
        self._activities = plan.activities
        self._resources = [plan.pools[p] if p >= 0 else "" for p in plan.activity_pool]
        self._attributes = list(plan.attributes)
        self._out.writerow(["replication", "case_id", "activity", "resource", "enabled",
                            "start", "end", *self._attributes])

    def write(self, record: ReplicationRecord) -> None:
        """Append the rows of one replication, sorted by case and then by start."""
        r = record.replication
        order = np.lexsort((record.instance_start, record.instance_case))
        case_attrs = [record.attributes[a] for a in self._attributes]
        activities, resources = self._activities, self._resources
        for lo in range(0, len(order), self.CHUNK):
            rows = order[lo:lo + self.CHUNK]
            cases = record.instance_case[rows].tolist()
            kinds = record.instance_activity[rows].tolist()
            columns = [
                [r] * len(rows),
                [f"{r}-{case}" for case in cases],
                [activities[a] for a in kinds],
                [resources[a] for a in kinds],
                # repr: the shortest text that reads back as the same float
                list(map(repr, record.instance_enabled[rows].tolist())),
                list(map(repr, record.instance_start[rows].tolist())),
                list(map(repr, record.instance_end[rows].tolist())),
                *([_cell(values[case]) for case in cases] for values in case_attrs),
            ]
            self._out.writerows(zip(*columns, strict=True))


def _cell(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return str(value)
