"""Writing results to files: JSON, the activity-instance event log (CSV) and XES, atomically.

A file is written to a temporary sibling and renamed into place, so a reader never
sees a half-written file and an interrupted run leaves what was there before intact.
The event logs are written one replication at a time (:class:`EventLog`, :class:`XesLog`)
so that they never have to be held in memory as a whole.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

import numpy as np

from procsim.engine import Plan, ReplicationRecord, compile_model
from procsim.kpi import RunResult
from procsim.units import SECONDS_PER

__all__ = [
    "TIME_ORIGIN",
    "EventLog",
    "XesLog",
    "atomic_open",
    "atomic_write",
    "atomic_write_bytes",
    "write_events_csv",
    "write_json",
    "write_xes",
]

#: Simulated time 0 in the XES log of a model without ``start`` (and written with the offset
#: ``+00:00``, as every absolute time in the logs: a model's ``start`` has no time zone).
TIME_ORIGIN = datetime(1970, 1, 1)


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
    with atomic_open(path, mode) as fh:
        write(fh)
    return Path(path)


@contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; rename it to ``path`` when the block ends.

    An exception in the block (Ctrl-C included) removes the temporary file and leaves
    ``path`` as it was. ``mode`` is ``"w"`` (UTF-8 text, no newline translation) or ``"wb"``.
    Several can be nested (``contextlib.ExitStack``) to write files side by side.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_open(folder / "a.txt") as fh:
    ...     _ = fh.write("hello")
    ...     sorted(p.name for p in folder.iterdir())[0].startswith(".a.txt.")
    True
    >>> (folder / "a.txt").read_text()
    'hello'
    """
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
        fh: IO[Any]
        if mode == "w":
            fh = os.fdopen(fd, "w", encoding="utf-8", newline="")
        else:
            fh = os.fdopen(fd, "wb")
        fd = -1  # now owned by fh
        with fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(result: RunResult, path: str | os.PathLike[str]) -> Path:
    """Write ``result.to_dict()`` as JSON (see docs/cli.md for the structure)."""
    data = result.to_dict()
    return atomic_write(path, lambda fh: json.dump(data, fh, indent=2, allow_nan=False))


def write_events_csv(result: RunResult, path: str | os.PathLike[str]) -> Path:
    """Write the activity-instance log: one row per activity instance, all replications.

    Columns: ``replication, case_id, activity, resource, enabled, start, end``, then one column
    per case attribute. Times are in the model's time unit from the start of the replication.
    ``case_id`` is ``<replication>-<case number>`` so that it is unique across replications.
    A model with named people (pools with ``members``) gets a ``person`` column after
    ``resource``; a model with a ``start`` date-time gets ``enabled_time, start_time,
    end_time`` after ``end`` (see :class:`EventLog`).
    Requires a result from ``simulate(..., keep_records=True)``; to write the log while
    simulating, without keeping the records, pass :meth:`EventLog.write` as ``on_record``.
    """
    records = _records_of(result)

    def write(fh: IO[str]) -> None:
        log = EventLog(fh, compile_model(result.model))
        for record in records:
            log.write(record)

    return atomic_write(path, write)


def write_xes(result: RunResult, path: str | os.PathLike[str]) -> Path:
    """Write the event log as IEEE 1849 XES (see :class:`XesLog`), all replications.

    Requires a result from ``simulate(..., keep_records=True)``; to write the log while
    simulating, pass :meth:`XesLog.write` as ``on_record`` and call :meth:`XesLog.close`.
    """
    records = _records_of(result)

    def write(fh: IO[str]) -> None:
        log = XesLog(fh, compile_model(result.model))
        for record in records:
            log.write(record)
        log.close()

    return atomic_write(path, write)


def _records_of(result: RunResult) -> list[ReplicationRecord]:
    if result.records is None:
        raise ValueError("the result holds no records; simulate with keep_records=True")
    return list(result.records)


# --- what both logs need ------------------------------------------------------------------------


class _LogColumns:
    """What the CSV and the XES writer share: names per activity, people, times, attributes."""

    def __init__(self, plan: Plan, reserved: Sequence[str]) -> None:
        model = plan.model
        self.activities = plan.activities
        self.pools = [plan.pools[p] if p >= 0 else "" for p in plan.activity_pool]
        # Named people (``model.people``): the engine records who did each instance.
        self.people_names = tuple(model.people)
        self.has_people = bool(self.people_names)
        self.start = model.start
        self.ms_per_unit = SECONDS_PER[model.time_unit] * 1000.0
        self.attributes = list(plan.attributes)
        # A case attribute named like a fixed column is written as ``case:<name>``.
        self.attribute_keys = [f"case:{a}" if a in reserved else a for a in self.attributes]

    def people(self, record: ReplicationRecord, rows: np.ndarray) -> list[str] | None:
        """The person who performed each instance in ``rows``, ``""`` where none is known.

        ``None`` when the record says nothing about servers (an engine without named people).
        """
        # ``instance_server``: the person's index in ``model.people``, -1 for anonymous
        # servers and delays; ``None`` (or missing) from an engine that does not name people.
        servers = getattr(record, "instance_server", None)
        if servers is None or not self.has_people:
            return None
        names = self.people_names
        return [names[k] if 0 <= k < len(names) else ""
                for k in np.asarray(servers)[rows].tolist()]

    def timestamps(self, times: np.ndarray, origin: datetime) -> list[str]:
        """ISO 8601 date-times, to the millisecond, of simulated ``times`` after ``origin``."""
        ms = np.rint(np.asarray(times, dtype=np.float64) * self.ms_per_unit).astype(np.int64)
        moments = np.datetime64(origin, "ms") + ms.astype("timedelta64[ms]")
        return [f"{text}+00:00" for text in np.datetime_as_string(moments, unit="ms").tolist()]


def _cell(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return str(value)


# --- CSV ----------------------------------------------------------------------------------------


class EventLog:
    """The activity-instance log of :func:`write_events_csv`, written one replication at a time.

    The header is written at once; :meth:`write` adds a replication's rows in chunks, so
    that memory does not grow with the size of the log.

    Columns: ``replication, case_id, activity, resource``, then ``person`` when the model
    has named people (the member of the pool who did the work; empty for a delay), then
    ``enabled, start, end`` in the model's time unit from the start of the replication,
    then, when the model has a ``start`` date-time, ``enabled_time, start_time, end_time``
    as ISO 8601 date-times to the millisecond (the model's local time, written ``+00:00``),
    then one column per case attribute (``case:<name>`` if the name is one of the columns).

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
        fixed = ["replication", "case_id", "activity", "resource"]
        columns = _LogColumns(plan, reserved=[*fixed, "person", "enabled", "start", "end",
                                              "enabled_time", "start_time", "end_time"])
        self._columns = columns
        self._activities = plan.activities
        self._resources = columns.pools
        self._attributes = columns.attributes
        header = [*fixed, *(["person"] if columns.has_people else []), "enabled", "start",
                  "end", *(["enabled_time", "start_time", "end_time"]
                           if columns.start is not None else []),
                  *columns.attribute_keys]
        self._out.writerow(header)

    def write(self, record: ReplicationRecord) -> None:
        """Append the rows of one replication, sorted by case and then by start."""
        r = record.replication
        order = np.lexsort((record.instance_start, record.instance_case))
        case_attrs = [record.attributes[a] for a in self._attributes]
        activities, resources, columns = self._activities, self._resources, self._columns
        for lo in range(0, len(order), self.CHUNK):
            rows = order[lo:lo + self.CHUNK]
            cases = record.instance_case[rows].tolist()
            kinds = record.instance_activity[rows].tolist()
            times = [record.instance_enabled[rows], record.instance_start[rows],
                     record.instance_end[rows]]
            people: list[list[str]] = []
            if columns.has_people:
                people = [columns.people(record, rows) or [""] * len(rows)]
            clock: list[list[str]] = []
            if columns.start is not None:
                clock = [columns.timestamps(t, columns.start) for t in times]
            table = [
                [r] * len(rows),
                [f"{r}-{case}" for case in cases],
                [activities[a] for a in kinds],
                [resources[a] for a in kinds],
                *people,
                # repr: the shortest text that reads back as the same float
                *(list(map(repr, t.tolist())) for t in times),
                *clock,
                *([_cell(values[case]) for case in cases] for values in case_attrs),
            ]
            self._out.writerows(zip(*table, strict=True))


# --- XES ----------------------------------------------------------------------------------------

#: The standard XES extensions the log uses: (name, prefix, uri).
XES_EXTENSIONS = (
    ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
    ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
    ("Organizational", "org", "http://www.xes-standard.org/org.xesext"),
    ("Time", "time", "http://www.xes-standard.org/time.xesext"),
)


def _attr(value: str) -> str:
    """``value`` quoted for an XML attribute."""
    return escape(value, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _xes_float(value: float) -> str:
    """An ``xs:double`` literal (``NaN``, ``INF`` and ``-INF`` as XML Schema spells them)."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "INF" if value > 0 else "-INF"
    return repr(float(value))


class XesLog:
    """The event log as IEEE 1849 XES (XML), written one replication at a time.

    The header (extensions, global attributes, classifiers, the log's name) is written at
    once, :meth:`write` adds a replication's traces in chunks, :meth:`close` ends the
    document. One ``<trace>`` per case, named ``<replication>-<case number>`` as
    ``case_id`` in the CSV log, with the replication (``int``) and the case attributes
    (``float`` or ``string``) as trace attributes. Each activity instance gives two events,
    ``lifecycle:transition`` ``start`` and ``complete``, with ``concept:name`` (the
    activity), ``org:resource`` (the person who did the work when the model names people,
    else the pool; none for a delay), ``org:group`` (the pool, when the model names people)
    and ``time:timestamp``: the model's ``start`` (or :data:`TIME_ORIGIN`) plus the simulated
    time, to the millisecond, written with the offset ``+00:00``. Events in a trace are in
    order of time.

    Examples
    --------
    >>> import io, procsim
    >>> from procsim.engine import compile_model
    >>> m = procsim.parse_model('''
    ... procsim: 1
    ... name: One desk
    ... start: 2026-01-05T08:00
    ... arrivals: {interarrival: {dist: exponential, mean: 5}}
    ... resources: {clerk: {capacity: 1}}
    ... activities: {serve: {resource: clerk, duration: {dist: exponential, mean: 4}}}
    ... flow: {start: serve, serve: end}
    ... ''')
    >>> fh = io.StringIO()
    >>> log = XesLog(fh, compile_model(m))
    >>> _ = procsim.simulate(m, replications=2, cases=3, seed=1, warmup=0, on_record=log.write)
    >>> log.close()
    >>> text = fh.getvalue()
    >>> text.count("<trace>"), text.count("<event>")
    (6, 12)
    >>> text.split('<trace>')[1].split('time:timestamp" value="')[1][:29]
    '2026-01-05T08:02:15.500+00:00'
    """

    #: activity instances formatted at once
    CHUNK = 32_768

    def __init__(self, fh: IO[str], plan: Plan) -> None:
        self._fh = fh
        self._columns = columns = _LogColumns(plan, reserved=["replication"])
        self._origin = columns.start if columns.start is not None else TIME_ORIGIN
        self._name = [f'<string key="concept:name" value="{_attr(a)}"/>'
                      for a in plan.activities]
        self._pool = [f'<string key="org:resource" value="{_attr(p)}"/>' if p else ""
                      for p in columns.pools]
        self._group = [f'<string key="org:group" value="{_attr(p)}"/>' if p else ""
                       for p in columns.pools]
        self._closed = False
        model = plan.model
        head = ['<?xml version="1.0" encoding="UTF-8"?>',
                f"<!-- written by procsim; time 0 of the simulation is "
                f"{self._origin.isoformat()}+00:00 -->",
                '<log xes.version="1.0" xmlns="http://www.xes-standard.org/">']
        head += [f'  <extension name="{n}" prefix="{p}" uri="{u}"/>' for n, p, u in XES_EXTENSIONS]
        epoch = f"{TIME_ORIGIN.isoformat(timespec='milliseconds')}+00:00"
        head += ['  <global scope="trace">',
                 '    <string key="concept:name" value="UNKNOWN"/>',
                 "  </global>",
                 '  <global scope="event">',
                 '    <string key="concept:name" value="UNKNOWN"/>',
                 '    <string key="lifecycle:transition" value="complete"/>',
                 f'    <date key="time:timestamp" value="{epoch}"/>',
                 "  </global>",
                 '  <classifier name="Activity" keys="concept:name"/>',
                 '  <classifier name="Activity_lifecycle" '
                 'keys="concept:name lifecycle:transition"/>',
                 f'  <string key="concept:name" value="{_attr(model.name)}"/>',
                 '  <string key="lifecycle:model" value="standard"/>']
        fh.write("\n".join(head) + "\n")

    def write(self, record: ReplicationRecord) -> None:
        """Append one replication's traces, in order of case number."""
        if self._closed:
            raise ValueError("the XES log is closed")
        columns = self._columns
        r = record.replication
        n_cases = record.cases
        order = np.lexsort((record.instance_start, record.instance_case))
        first = np.searchsorted(record.instance_case[order], np.arange(n_cases + 1))
        attributes = [record.attributes[a] for a in columns.attributes]
        keys = [_attr(k) for k in columns.attribute_keys]
        kinds = ["float" if v.dtype.kind == "f" else "string" for v in attributes]
        write = self._fh.write
        lo_case = 0
        while lo_case < n_cases:
            # Cases [lo_case, hi_case) with at most CHUNK instances (at least one case).
            hi_case = int(np.searchsorted(first, first[lo_case] + self.CHUNK, side="right")) - 1
            hi_case = min(max(hi_case, lo_case + 1), n_cases)
            rows = order[first[lo_case]:first[hi_case]]
            events = self._events(record, rows)
            case_of_event = np.concatenate([record.instance_case[rows]] * 2)[events[0]]
            bounds = np.searchsorted(case_of_event, np.arange(lo_case, hi_case + 1))
            lines = events[1]
            parts: list[str] = []
            for case in range(lo_case, hi_case):
                parts.append(f'  <trace>\n    <string key="concept:name" value="{r}-{case}"/>\n'
                             f'    <int key="replication" value="{r}"/>\n')
                for key, kind, values in zip(keys, kinds, attributes, strict=True):
                    value = values[case]
                    text = _xes_float(float(value)) if kind == "float" else _attr(str(value))
                    parts.append(f'    <{kind} key="{key}" value="{text}"/>\n')
                k = case - lo_case
                parts.extend(lines[bounds[k]:bounds[k + 1]])
                parts.append("  </trace>\n")
            write("".join(parts))
            lo_case = hi_case

    def _events(self, record: ReplicationRecord, rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """The start and complete events of the instances ``rows``, sorted by case and time.

        Returns the sorting permutation of ``[starts, completes]`` and the events' XML lines
        in that order. Ties in time keep the order in which things happened: instances in
        order of start, an instance's start before its complete.
        """
        columns = self._columns
        n = len(rows)
        case = np.concatenate([record.instance_case[rows]] * 2)
        time = np.concatenate([record.instance_start[rows], record.instance_end[rows]])
        position = np.concatenate([rows, rows])
        phase = np.repeat(np.array([0, 1], dtype=np.int8), n)
        order = np.lexsort((phase, position, time, case))
        instance = (order % n) if n else order
        stamps = columns.timestamps(time[order], self._origin)
        activity = record.instance_activity[rows].tolist()
        people = columns.people(record, rows)
        if people is not None:
            who = [f'<string key="org:resource" value="{_attr(p)}"/>{self._group[a]}' if p
                   else self._pool[a] for p, a in zip(people, activity, strict=True)]
        else:
            who = [self._pool[a] for a in activity]
        names = [self._name[a] for a in activity]
        transition = ('<string key="lifecycle:transition" value="start"/>',
                      '<string key="lifecycle:transition" value="complete"/>')
        lines = [f'    <event>{names[i]}{transition[p]}{who[i]}'
                 f'<date key="time:timestamp" value="{stamp}"/></event>\n'
                 for i, p, stamp in zip(instance.tolist(), phase[order].tolist(), stamps,
                                        strict=True)]
        return order, lines

    def close(self) -> None:
        """End the document (``</log>``); the file itself is left open for its owner."""
        if not self._closed:
            self._fh.write("</log>\n")
            self._closed = True
