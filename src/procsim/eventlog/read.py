"""Reading event logs: CSV and XES (plain or gzip-compressed) into an :class:`EventLog`.

Both formats end in the same checks (:func:`read_log`): the times are parsed once, with
one rule for time zones, and every row that is not an activity instance (no case, no
activity, a missing or unparsable time, an end before its start) becomes a
:class:`RowProblem` quoting ``FILE:LINE``. The user chooses what happens then: refuse the
log (the default) or drop those rows and keep them in :attr:`EventLog.dropped`; never
silently.

Time zones: an offset (``+0000``, ``+02:00``, ``Z``) is kept; a log whose times all have the
same offset keeps it (``time_zone`` ``"UTC"`` or ``"UTC+02:00"``), a log whose offsets
differ (summer time: ``+02:00`` and ``+03:00``) is converted to UTC, which keeps every
instant; times without an offset stay naive local times (``time_zone`` ``None``). A log
mixing times with and without an offset is refused ("mixed time zones"): no rule says
which zone the naive times are in.

pandas is imported when a log is read (``pip install 'procsim[logs]'``).
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from typing import IO, Any
from xml.parsers import expat

from procsim.errors import LogError, UsageError, close_match_hint, quote
from procsim.eventlog.log import COLUMNS, EventLog, RowProblem

__all__ = ["CANDIDATES", "read_log"]

#: The column names :func:`read_log` looks for, per field, in order of preference (compared
#: without regard to case and surrounding spaces).
CANDIDATES: dict[str, tuple[str, ...]] = {
    "case": ("case_id", "case:concept:name", "case", "caseid", "case id"),
    "activity": ("activity", "concept:name", "activity_name", "task"),
    "resource": ("resource", "org:resource", "user"),
    "start": ("start_time", "start_timestamp", "start", "starttime"),
    "end": ("end_time", "end_timestamp", "time:timestamp", "end", "complete_timestamp",
            "endtime"),
    "enabled": ("enabled_time", "enabled_timestamp", "enabled", "enable_time"),
}
_REQUIRED = ("case", "activity", "start", "end")
# The columns of procsim's own `--events` CSV (see procsim.output.EventLog).
_PROCSIM_COLUMNS = {"replication", "case_id", "activity", "resource", "enabled", "start", "end"}
_GZIP_MAGIC = b"\x1f\x8b"
_PEEK = 65_536
# A UTC offset at the end of a date-time: Z, +hh:mm or +hhmm.
_OFFSET = re.compile(r"(?:[Zz]|([+-])(\d\d):?(\d\d))$")


def read_log(path: str | os.PathLike[str], *, case: str | None = None,
             activity: str | None = None, resource: str | None = None,
             start: str | None = None, end: str | None = None, enabled: str | None = None,
             on_error: str = "refuse") -> EventLog:
    """Read an event log (CSV or XES, plain or ``.gz``): one row per activity instance.

    Parameters
    ----------
    path : str or path-like
        The log. XES is recognised by its content (an XML document), CSV otherwise; gzip by
        its content too, whatever the file's name.
    case, activity, resource, start, end, enabled : str, optional
        CSV column names that override the automatic detection (see :data:`CANDIDATES`;
        ``resource`` and ``enabled`` may be absent from the log). Ignored for XES, whose keys
        are standard (``concept:name``, ``org:resource``, ``time:timestamp``,
        ``lifecycle:transition``).
    on_error : {"refuse", "drop"}
        What to do with rows that are not an activity instance: raise a
        :class:`procsim.errors.LogError` listing them (the default), or leave them out and
        list them in :attr:`EventLog.dropped`.

    Returns
    -------
    EventLog
        Sorted by case and then by start; see :mod:`procsim.eventlog.log`.

    Raises
    ------
    procsim.errors.LogError
        The file cannot be read, is empty, is not a log, lacks a column, mixes time zones,
        or (with ``on_error="refuse"``) has bad rows.

    Examples
    --------
    >>> import procsim.eventlog as el
    >>> log = el.read_log("tests/data/eventlogs/PurchasingExample.csv.gz")
    >>> len(log), log.cases, log.time_zone
    (9119, 608, 'UTC')
    >>> list(log.frame.columns)
    ['case', 'activity', 'resource', 'start', 'end', 'enabled', 'line']
    """
    if on_error not in ("refuse", "drop"):
        raise UsageError(f"on_error must be 'refuse' or 'drop', got {on_error!r}")
    pd = _pandas()
    file = os.fspath(path)
    head, compressed = _peek(file)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        table, problems = _read_xes(pd, file, compressed)
    else:
        overrides = {"case": case, "activity": activity, "resource": resource,
                     "start": start, "end": end, "enabled": enabled}
        table, problems = _read_csv(pd, file, compressed, overrides)
    return _build(pd, file, table, problems, on_error)


# --- files ----------------------------------------------------------------------------------


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError:  # an optional dependency
        raise LogError("reading event logs needs pandas: pip install 'procsim[logs]'") from None
    return pd


def _open(file: str, compressed: bool) -> IO[bytes]:
    if compressed:
        return gzip.open(file, "rb")  # type: ignore[return-value]  # a GzipFile reads bytes
    return open(file, "rb")


def _peek(file: str) -> tuple[bytes, bool]:
    """The first bytes of ``file`` (decompressed) and whether it is gzip-compressed."""
    try:
        with open(file, "rb") as fh:
            compressed = fh.read(2) == _GZIP_MAGIC
        with _open(file, compressed) as fh:
            head = fh.read(_PEEK)
    except FileNotFoundError:
        raise LogError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise LogError(f"{file}: expected an event log, got a directory") from None
    except (OSError, EOFError, zlib.error) as exc:  # a damaged .gz, a device, …
        raise LogError(f"{file}: cannot read the file: {exc}") from None
    if not head.strip():
        raise LogError(f"{file}: the file is empty (expected an event log, CSV or XES)")
    if b"\x00" in head[:8192] or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LogError(f"{file}: not an event log (a binary or UTF-16 file; expected "
                       "UTF-8 text, CSV or XES)")
    return head, compressed


# --- CSV ------------------------------------------------------------------------------------


def _read_csv(pd: Any, file: str, compressed: bool, overrides: dict[str, str | None]
              ) -> tuple[dict[str, Any], list[RowProblem]]:
    compression = "gzip" if compressed else None
    options: dict[str, Any] = {"compression": compression, "encoding": "utf-8-sig",
                               "dtype": str, "keep_default_na": False, "na_values": [""]}
    try:
        header = list(pd.read_csv(file, nrows=0, **options).columns)
        columns = _resolve(file, [str(c) for c in header], overrides)
        procsim = _PROCSIM_COLUMNS <= set(header)
        if procsim and not any(overrides.values()) and columns.get("start") == "start":
            raise LogError(
                f"{file}: a procsim event log without clock times (its enabled, start and "
                "end are numbers in the model's time unit); give the model a `start:` "
                "date-time and write the log again, so that it has start_time and end_time")
        person = procsim and "person" in header and overrides["resource"] is None
        wanted = {c for c in columns.values() if c is not None}
        if person:
            wanted.add("person")
        data = pd.read_csv(file, usecols=lambda c: c in wanted, **options)
    except LogError:
        raise
    except UnicodeDecodeError as exc:
        raise LogError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except pd.errors.EmptyDataError:
        raise LogError(f"{file}: the file is empty (expected an event log, CSV or XES)"
                       ) from None
    except (pd.errors.ParserError, ValueError, OSError, EOFError, zlib.error) as exc:
        raise LogError(f"{file}: not a readable CSV file: {exc}") from None
    if len(data) == 0:
        raise LogError(f"{file}: no events (the file has a header only)")
    table: dict[str, Any] = {}
    for field, name in columns.items():
        table[field] = data[name] if name is not None else None
    if person:
        # The person who did the work, as procsim's XES names it; the pool where none.
        who = data["person"]
        table["resource"] = who.where(who.notna(), data[columns["resource"]])
    if procsim:
        # Text cells written spreadsheet-safe: one leading ' to remove (docs/cli.md).
        for field in ("case", "activity", "resource"):
            if table[field] is not None:
                table[field] = _unquote(table[field])
    table["line"] = _csv_lines(pd, file, compressed, len(data))
    return table, []


def _resolve(file: str, header: Sequence[str], overrides: dict[str, str | None]
             ) -> dict[str, str | None]:
    """The column of the file holding each field (``None`` for an absent optional one)."""
    by_key = {h.strip().lower(): h for h in reversed(header)}
    found: dict[str, str | None] = {}
    problems: list[str] = []
    for field, candidates in CANDIDATES.items():
        given = overrides.get(field)
        if given is not None:
            if given in header:
                found[field] = given
            else:
                problems.append(f"no column {quote(given)} for {field}"
                                f"{close_match_hint(given, header)}")
            continue
        found[field] = next((by_key[c] for c in candidates if c in by_key), None)
        if found[field] is None and field in _REQUIRED:
            hint = close_match_hint(candidates[0], header)
            if not hint:
                hint = next((h for c in candidates[1:]
                             if (h := close_match_hint(c, header))), "")
            problems.append(f"no {field} column (looked for "
                            f"{', '.join(candidates)}){hint}")
    if problems:
        shown = ", ".join(quote(h) for h in header[:30])
        more = f", … ({len(header)} columns)" if len(header) > 30 else ""
        raise LogError(f"{file}: {'; '.join(problems)}; the columns are: {shown}{more} "
                       "(name them with case=, activity=, start=, end=, … or --case, "
                       "--activity, --start, --end, …)")
    return found


def _unquote(values: Any) -> Any:
    quoted = values.str.startswith("'", na=False)
    if quoted.any():
        values = values.copy()
        values[quoted] = values[quoted].str[1:]
    return values


def _csv_lines(pd: Any, file: str, compressed: bool, rows: int) -> Any:
    """The physical line (header = 1) of each of the ``rows`` records of a CSV file."""
    newlines, last = 0, b"\n"
    with _open(file, compressed) as fh:
        while chunk := fh.read(1 << 20):
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    lines = newlines + (last != b"\n")
    if lines == rows + 1:  # no blank lines, no line breaks inside cells: the usual case
        return pd.Series(range(2, rows + 2), dtype="int64")
    # Quoted line breaks or blank lines (which pandas skips): follow the records.
    starts: list[int] = []
    with _open(file, compressed) as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
        next(reader, None)
        before = reader.line_num
        for record in reader:
            if record and any(record):
                starts.append(before + 1)
            before = reader.line_num
    if len(starts) != rows:  # cannot happen for a file pandas read; never guess
        raise LogError(f"{file}: cannot tell the line of each row ({len(starts)} records "
                       f"found, {rows} read)")
    return pd.Series(starts, dtype="int64")


# --- XES ------------------------------------------------------------------------------------


#: The XES attribute keys of an event that are read, and the field each one fills.
_XES_FIELDS = {"concept:name": "activity", "lifecycle:transition": "transition",
               "org:resource": "resource", "time:timestamp": "time"}


class _Xes:
    """A streaming XES reader (expat): activity instances from start/complete event pairs.

    Document type declarations are refused, so no entity is ever expanded (neither external
    files nor the "billion laughs").
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.parser = expat.ParserCreate()
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.StartDoctypeDeclHandler = self.doctype
        self.parser.EntityDeclHandler = self.doctype
        self.stack: list[str] = []
        self.columns: dict[str, list[Any]] = {f: [] for f in
                                              ("case", "activity", "resource", "start",
                                               "end", "enabled", "line")}
        self.problems: list[RowProblem] = []
        self.trace: list[dict[str, Any]] = []
        self.trace_line = 0
        self.case: str | None = None
        self.event: dict[str, Any] | None = None
        self.starts = 0
        self.events = 0

    def doctype(self, *_: Any) -> None:
        raise LogError(f"{self.file}:{self.parser.CurrentLineNumber}: an XES file with a "
                       "document type declaration (<!DOCTYPE …>) is not read (its entities "
                       "could expand without bound or read other files)")

    def start(self, name: str, attrs: dict[str, str]) -> None:
        # Called for every element (about five per event): the attributes of an event, by
        # far the most, are handled first and with as little work as possible.
        stack = self.stack
        parent = stack[-1] if stack else None
        tag = name.rpartition(":")[2] if ":" in name else name
        stack.append(tag)
        if parent == "event":
            event = self.event
            if event is not None:
                field = _XES_FIELDS.get(attrs.get("key"))  # type: ignore[arg-type]
                if field is not None:
                    value = attrs.get("value")
                    event[field] = ((value or "").strip().lower() if field == "transition"
                                    else value)
        elif parent is None:
            if tag != "log":
                raise LogError(f"{self.file}: not an event log (an XML document whose root "
                               f"is <{_readable_tag(name)}>, expected XES <log>)")
        elif tag == "trace" and parent == "log":
            self.trace, self.case = [], None
            self.trace_line = self.parser.CurrentLineNumber
        elif tag == "event" and parent == "trace":
            self.event = {"line": self.parser.CurrentLineNumber}
            self.events += 1
        elif parent == "trace" and attrs.get("key") == "concept:name":
            self.case = attrs.get("value")

    def end(self, name: str) -> None:
        stack = self.stack
        tag = stack.pop()
        if tag == "event":
            if stack and stack[-1] == "trace" and self.event is not None:
                self.trace.append(self.event)
                self.event = None
        elif tag == "trace" and stack and stack[-1] == "log":
            self.pair()

    def pair(self) -> None:
        """The activity instances of the trace just read: each complete with the earliest
        open start of its activity; a schedule event gives the next start its enabled time."""
        opened: dict[Any, deque[dict[str, Any]]] = {}
        scheduled: dict[Any, deque[Any]] = {}
        for event in self.trace:
            activity = event.get("activity")
            transition = event.get("transition", "complete")
            if transition == "start":
                self.starts += 1
                waiting = scheduled.get(activity)
                event["enabled"] = waiting.popleft() if waiting else None
                opened.setdefault(activity, deque()).append(event)
            elif transition == "complete":
                waiting_starts = opened.get(activity)
                if waiting_starts:
                    self.add(waiting_starts.popleft(), event)
                else:
                    self.problems.append(RowProblem(
                        self.file, event["line"],
                        f"complete event of {quote(activity)} without a start event"))
            elif transition == "schedule":
                scheduled.setdefault(activity, deque()).append(event.get("time"))
            # Other transitions (assign, suspend, resume, …) do not bound an instance.
        for waiting_starts in opened.values():
            for event in waiting_starts:
                self.problems.append(RowProblem(
                    self.file, event["line"],
                    f"missing end: start event of {quote(event.get('activity'))} without a "
                    "complete event"))

    def add(self, first: dict[str, Any], last: dict[str, Any]) -> None:
        columns = self.columns
        columns["case"].append(self.case)
        columns["activity"].append(first.get("activity"))
        columns["resource"].append(last.get("resource", first.get("resource")))
        columns["start"].append(first.get("time"))
        columns["end"].append(last.get("time"))
        columns["enabled"].append(first.get("enabled"))
        columns["line"].append(first["line"])


def _readable_tag(name: str) -> str:
    return quote(name)[1:-1]


def _read_xes(pd: Any, file: str, compressed: bool
              ) -> tuple[dict[str, Any], list[RowProblem]]:
    reader = _Xes(file)
    try:
        with _open(file, compressed) as fh:
            while chunk := fh.read(1 << 20):
                reader.parser.Parse(chunk, False)
            reader.parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise LogError(f"{file}:{exc.lineno}: not a readable XES file: "
                       f"{expat.ErrorString(exc.code)}") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise LogError(f"{file}: cannot read the file: {exc}") from None
    if reader.events == 0:
        raise LogError(f"{file}: no events (an XES log without <event> in a <trace>)")
    if reader.starts == 0:
        raise LogError(f"{file}: no start events (lifecycle:transition 'start'); procsim "
                       "needs start and complete pairs to know how long each activity took")
    table: dict[str, Any] = {f: pd.Series(v, dtype=object) for f, v in reader.columns.items()
                             if f != "line"}
    table["line"] = pd.Series(reader.columns["line"], dtype="int64")
    return table, reader.problems


# --- checks common to every format ----------------------------------------------------------


def _build(pd: Any, file: str, table: dict[str, Any], problems: list[RowProblem],
           on_error: str) -> EventLog:
    n = len(table["line"])
    lines = table["line"].to_numpy()
    bad = pd.Series(False, index=range(n))
    problems = list(problems)

    def report(mask: Any, message: Callable[[int], str]) -> None:
        nonlocal bad
        new = mask & ~bad
        for i in new.to_numpy().nonzero()[0].tolist():
            problems.append(RowProblem(file, int(lines[i]), message(i)))
        bad = bad | new

    def fixed(text: str) -> Callable[[int], str]:
        return lambda i: text

    def unparsable(field: str, values: Any) -> Callable[[int], str]:
        return lambda i: (f"unparsable {field} time {quote(values.iat[i])} (expected "
                          "ISO 8601, e.g. 2026-01-05T08:00:00 or 2026-01-05 08:00:00+01:00)")

    report(table["case"].isna(), fixed("missing case id"))
    report(table["activity"].isna(), fixed("missing activity"))
    raw = {f: table[f] for f in ("start", "end", "enabled") if table.get(f) is not None}
    times, zone = _parse_times(pd, file, raw, lines)
    for field in ("start", "end"):
        report(raw[field].isna(), fixed(f"missing {field} time"))
    for field in ("start", "end", "enabled"):
        if field in raw:
            report(times[field].isna() & raw[field].notna(), unparsable(field, raw[field]))
    report(times["end"] < times["start"],
           lambda i: f"end before start (start {raw['start'].iat[i]}, end {raw['end'].iat[i]})")
    problems.sort(key=lambda p: p.line)
    if problems and on_error == "refuse":
        raise LogError(problems=problems, file=file)
    keep = ~bad.to_numpy()
    if not keep.any():
        raise LogError(f"{file}: no valid rows ({len(problems):,} bad rows dropped)",
                       problems=problems, file=file)
    resource = table.get("resource")
    if resource is None:
        resource = pd.Series(pd.NA, index=range(n), dtype=object)
    else:
        resource = resource.astype(object).where(resource.notna(), pd.NA)
    enabled = times.get("enabled")
    if enabled is None:
        enabled = pd.Series(pd.NaT, index=range(n), dtype=times["start"].dtype)
    def kept(values: Any) -> Any:
        return values[keep].reset_index(drop=True)

    frame = pd.DataFrame({
        "case": kept(table["case"].astype(str)),
        "activity": kept(table["activity"].astype(str)),
        "resource": kept(resource),
        "start": kept(times["start"]),
        "end": kept(times["end"]),
        "enabled": kept(enabled),
        "line": kept(table["line"]),
    }, columns=list(COLUMNS))
    frame = frame.sort_values(["case", "start", "end", "line"], kind="stable",
                              ignore_index=True)
    return EventLog(frame, file=file, time_zone=zone, dropped=tuple(problems))


def _parse_times(pd: Any, file: str, raw: dict[str, Any], lines: Any
                 ) -> tuple[dict[str, Any], str | None]:
    """The time columns parsed with one rule for zones (see the module), and the zone."""
    offsets: set[str] = set()
    aware_at: tuple[str, int] | None = None
    naive_at: tuple[str, int] | None = None
    for field, values in raw.items():
        # The offset is in the last 6 characters; the distinct tails are few.
        tails = values.str[-6:]
        for tail in tails.dropna().unique().tolist():
            match = _OFFSET.search(tail)
            if match is None:
                if naive_at is None:
                    naive_at = (field, int(lines[(tails == tail).to_numpy().argmax()]))
                continue
            sign, hours, minutes = match.groups()
            offsets.add("+00:00" if sign is None else
                        ("+00:00" if hours == minutes == "00" else f"{sign}{hours}:{minutes}"))
            if aware_at is None:
                aware_at = (field, int(lines[(tails == tail).to_numpy().argmax()]))
    if offsets and naive_at is not None and aware_at is not None:
        raise LogError(
            f"{file}: mixed time zones: line {aware_at[1]} has a time with a UTC offset "
            f"({aware_at[0]}), line {naive_at[1]} one without ({naive_at[0]}); write every "
            "time with its offset, or none")
    utc = len(offsets) > 1
    times = {field: pd.to_datetime(values, format="ISO8601", errors="coerce", utc=utc)
             for field, values in raw.items()}
    if not offsets:
        zone = None
    else:
        # A column without a single time (an empty enabled_time) parses naive.
        tz = next(t.dt.tz for t in times.values() if t.dt.tz is not None)
        times = {f: t if t.dt.tz is not None else t.dt.tz_localize(tz)
                 for f, t in times.items()}
        if utc or offsets == {"+00:00"}:
            zone = "UTC"
            times = {f: t.dt.tz_convert("UTC") for f, t in times.items()}
        else:
            zone = f"UTC{offsets.pop()}"
    for field, t in times.items():
        if t.dt.unit != "ns":
            times[field] = t.dt.as_unit("ns")
    return times, zone
