"""Writing results to files: JSON, the activity-instance event log (CSV) and XES, atomically.

A file is written to a temporary sibling and renamed into place, so a reader never
sees a half-written file and an interrupted run leaves what was there before intact.
The temporary sibling is hidden and marked, ``.out.json.procsim-tmp-<host>-<pid>-<random>``,
so that it is never taken for an output (see :func:`atomic_open`); a data file gets the
usual permissions (``0o666`` less the umask), never an execute, setuid, setgid or sticky bit.
The event logs are written one replication at a time (:class:`EventLog`, :class:`XesLog`)
so that they never have to be held in memory as a whole.

User text is written so that no reader runs or chokes on it: a CSV text cell that a
spreadsheet would take for a formula gets a leading ``'`` (:func:`spreadsheet_safe`), and a
character that XML 1.0 forbids is written into XES as a visible escape such as ``\\x01``.
"""

from __future__ import annotations

import csv
import errno
import functools
import hashlib
import json
import os
import re
import secrets
import socket
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar, overload
from xml.sax.saxutils import escape

import numpy as np

from procsim.engine import Plan, ReplicationRecord, compile_model
from procsim.errors import UsageError, WrongTypeError
from procsim.kpi import RunResult
from procsim.simulate import expect_result
from procsim.units import SECONDS_PER

if TYPE_CHECKING:
    from procsim.compare import ComparisonResult
    from procsim.optimise import OptimiseResult

__all__ = [
    "FORMULA_TRIGGERS",
    "TEMP_MARKER",
    "TIME_ORIGIN",
    "EventLog",
    "XesLog",
    "atomic_open",
    "atomic_write",
    "atomic_write_bytes",
    "spreadsheet_safe",
    "write_compare_csv",
    "write_events_csv",
    "write_json",
    "write_rows_csv",
    "write_scenario",
    "write_xes",
]

#: Simulated time 0 in the XES log of a model without ``start`` (and written with the offset
#: ``+00:00``, as every absolute time in the logs: a model's ``start`` has no time zone).
TIME_ORIGIN = datetime(1970, 1, 1)


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[str]], Any]) -> Path:
    """Call ``write(fh)`` on a temporary file beside ``path``, then rename it to ``path``.

    Raises ``OSError`` when the directory cannot be written; the temporary file is removed.
    The file gets the usual permissions of a new data file (see :func:`atomic_open`).
    """
    return _atomic(path, "w", write)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary sibling file and a rename."""
    return _atomic(path, "wb", lambda fh: fh.write(data))


def _atomic(path: str | os.PathLike[str], mode: str, write: Callable[[Any], Any]) -> Path:
    with atomic_open(path, mode) as fh:
        write(fh)
    return Path(path)


#: The mark in the name of a temporary file: ``.<name>.procsim-tmp-<host>-<pid>-<random>``.
TEMP_MARKER = ".procsim-tmp-"

# A file name has at most 255 bytes; the temporary name adds up to 42 to the target's.
_NAME_BYTES_KEPT = 200


@contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; rename it to ``path`` when the block ends.

    Any exception in the block (Ctrl-C, SIGTERM turned into one by the command line, and
    ``SystemExit`` included) removes the temporary file and leaves ``path`` as it was.
    ``mode`` is ``"w"`` (UTF-8 text, no newline translation; a character UTF-8 cannot encode,
    a lone surrogate, is written as a backslash escape such as ``\\udc80``) or ``"wb"``.
    Several can be nested (``contextlib.ExitStack``) to write files side by side.

    The temporary file is named ``.<name>.procsim-tmp-<host>-<pid>-<random>``: hidden,
    marked, and never ending in the target's suffix, so that no tool and no pattern such as
    ``*.json`` takes it for an output. ``<host>`` is a hash of the host name, ``<pid>`` the
    writing process. A temporary file left by a process that was killed (SIGKILL, a power
    cut) is nothing that procsim reads; the next write of the same file on the same host
    removes it, once the process that wrote it has ended and nothing holds its lock.

    The new file has the usual permissions of a new data file, ``0o666`` less the umask;
    replacing a file keeps that file's read and write bits, never its execute, setuid,
    setgid or sticky bits.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_open(folder / "a.txt") as fh:
    ...     _ = fh.write("hello")
    ...     [p.name.startswith(".a.txt.procsim-tmp-") for p in folder.iterdir()]
    [True]
    >>> (folder / "a.txt").read_text()
    'hello'
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    prefix = _temp_prefix(target)
    _remove_abandoned_temp_files(directory, prefix)
    permissions = _replacement_permissions(target)
    fd, tmp = _create_temp(directory, prefix)
    owner = os.getpid()
    fh: IO[Any] | None = None
    try:
        _lock(fd)
        if permissions is not None:
            os.chmod(fd if os.chmod in os.supports_fd else tmp, permissions)
        if mode == "w":
            fh = os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="")
        else:
            fh = os.fdopen(fd, "wb")
        yield fh
        if os.getpid() != owner:
            raise RuntimeError(f"{target}: the file of atomic_open belongs to the process "
                               "that opened it, not to a forked one")
        fh.close()
        os.replace(tmp, target)
    except BaseException:
        # A forked worker that inherited this block must not remove its parent's file.
        if os.getpid() == owner:
            # Remove first: the file goes even if closing it fails or is interrupted.
            with suppress(OSError):
                os.unlink(tmp)
            with suppress(OSError, ValueError):
                if fh is not None:
                    fh.close()
                else:
                    os.close(fd)
        raise


def _temp_prefix(target: Path) -> str:
    """``.<name>.procsim-tmp-<host>-``: the temporary files of ``target`` start with it."""
    name = target.name
    raw = os.fsencode(name)
    if len(raw) > _NAME_BYTES_KEPT:
        digest = hashlib.sha256(raw).hexdigest()[:8]
        name = f"{os.fsdecode(raw[:_NAME_BYTES_KEPT - 9])}~{digest}"
    return f".{name}{TEMP_MARKER}{_host_tag()}-"


@functools.cache
def _host_tag() -> str:
    """Eight hex digits of the host name: a process id means something on its own host only."""
    return hashlib.sha256(socket.gethostname().encode("utf-8", "surrogateescape")).hexdigest()[:8]


def _create_temp(directory: Path, prefix: str) -> tuple[int, Path]:
    """Create ``<prefix><pid>-<8 random hex digits>`` in ``directory``, for this process only."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = directory / f"{prefix}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            # 0o666: the system takes the umask (and a default ACL) off, as for any new file.
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free name for a temporary file", str(directory))


def _replacement_permissions(target: Path) -> int | None:
    """The read and write bits of the regular file ``target``; ``None`` for a new file."""
    try:
        status = os.stat(target)
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode):
        return None
    # A data file is never executable, setuid, setgid or sticky, whatever it replaces.
    return status.st_mode & 0o666


def _lock(fd: int) -> None:
    """Hold a lock on the temporary file while writing: it tells a later run that the file
    is not abandoned, across process-id namespaces and in forked workers that inherit it."""
    if os.name != "posix":
        return
    import fcntl

    with suppress(OSError):  # a file system without locks: the process id still protects it
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _remove_abandoned_temp_files(directory: Path, prefix: str) -> None:
    """Remove temporary files of the same target left by a killed process on this host.

    Only a name ``<prefix><pid>-<8 hex digits>``, only a regular file of this user with one
    link, only when no process ``pid`` is alive here and nobody holds the file's lock.
    Anything doubtful is left alone; this never fails.
    """
    if os.name != "posix":
        return
    pattern = re.compile(re.escape(prefix) + r"([1-9][0-9]{0,9})-[0-9a-f]{8}")
    try:
        with os.scandir(directory) as entries:
            names = [e.name for e in entries if e.name.startswith(prefix)]
    except OSError:
        return
    for name in names:
        match = pattern.fullmatch(name)
        if match is not None and not _process_alive(int(match.group(1))):
            _remove_if_abandoned(directory / name)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # another user's process, or no such pid: leave it
        return True
    return True


def _remove_if_abandoned(path: Path) -> None:
    import fcntl

    try:
        before = os.lstat(path)
        if not stat.S_ISREG(before.st_mode):
            return
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return
    try:
        status = os.fstat(fd)
        if (not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid()
                or status.st_nlink != 1
                or (status.st_dev, status.st_ino) != (before.st_dev, before.st_ino)):
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held (a process still writes it) or no locks here: leave it
            return
        now = os.lstat(path)
        if (now.st_dev, now.st_ino) == (status.st_dev, status.st_ino):
            os.unlink(path)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_json(result: Any, path: str | os.PathLike[str], *, ensure_ascii: bool = True
               ) -> Path:
    """Write ``result.to_dict()`` (or ``result`` itself, a dict) as JSON, atomically.

    A :class:`RunResult` (see docs/cli.md for the structure), a comparison, KPIs of a log, a
    back-test: anything with ``to_dict()``. ``ensure_ascii=False`` writes non-ASCII text as
    it is (UTF-8) rather than as ``\\u`` escapes.
    """
    if not isinstance(result, dict) and not callable(getattr(result, "to_dict", None)):
        raise WrongTypeError(f"expected a result with to_dict() or a dict, got "
                             f"{type(result).__name__}")
    data = result if isinstance(result, dict) else result.to_dict()
    return atomic_write(path, lambda fh: json.dump(data, fh, indent=2, allow_nan=False,
                                                   ensure_ascii=ensure_ascii))


def write_scenario(result: OptimiseResult, path: str | os.PathLike[str], *,
                   name: str | None = None) -> Path:
    """Write the recommendation of an optimisation as a scenario file (``base:`` relative to
    ``path``, then the changes), atomically; see :meth:`OptimiseResult.scenario_yaml`."""
    from procsim.optimise import OptimiseResult  # only here: optimise is slow to import

    if not isinstance(result, OptimiseResult):
        raise WrongTypeError(f"expected an OptimiseResult, got {type(result).__name__}")
    text = result.scenario_yaml(path, name=name)
    return atomic_write(path, lambda fh: fh.write(text))


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
        log = EventLog(fh, result.plan or compile_model(result.model))
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
        log = XesLog(fh, result.plan or compile_model(result.model))
        for record in records:
            log.write(record)
        log.close()

    return atomic_write(path, write)


def _records_of(result: RunResult) -> list[ReplicationRecord]:
    records = expect_result(result).records
    if records is None:
        raise UsageError("the result holds no records; simulate with keep_records=True")
    return list(records)


def write_compare_csv(result: ComparisonResult, path: str | os.PathLike[str]) -> Path:
    """Write the table of ``procsim compare --csv``: one row per (scenario, KPI statistic).

    Every KPI the comparison shows is there, with those the key results and KPI targets use.
    The columns are those of :meth:`ComparisonResult.rows` (the baseline's interval,
    ``baseline_ci_low`` and ``baseline_ci_high``, last, so that older readers by position
    still work); a difference that is floating-point rounding is an exact 0; text cells go through
    :func:`spreadsheet_safe`, numbers are written as they are (the shortest text that reads
    back as the same float).
    """
    rows = result.rows()
    fields = list(rows[0]) if rows else ["scenario"]

    def write(fh: IO[str]) -> None:
        out = csv.writer(fh)
        out.writerow([spreadsheet_safe(f) for f in fields])
        out.writerows([spreadsheet_safe(row[f]) for f in fields] for row in rows)

    return atomic_write(path, write)


def write_rows_csv(rows: list[dict[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Write ``rows`` (dictionaries with the same keys, e.g. :meth:`procsim.sweep.
    GridSweepResult.rows`) as CSV: a header, then one line per row; text cells through
    :func:`spreadsheet_safe`, numbers as they are, ``None`` as an empty cell."""
    fields = list(rows[0]) if rows else []

    def write(fh: IO[str]) -> None:
        out = csv.writer(fh)
        out.writerow([spreadsheet_safe(f) for f in fields])
        out.writerows([spreadsheet_safe("" if row[f] is None else row[f]) for f in fields]
                      for row in rows)

    return atomic_write(path, write)


# --- spreadsheets -------------------------------------------------------------------------------

#: First characters that make a spreadsheet (Excel, LibreOffice, Google Sheets) read a cell
#: as a formula, after OWASP's "CSV injection": ``= + - @``, tab, carriage return, and the
#: line feed and NUL of OWASP ASVS 1.2.10.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")

# A plain decimal number, which a spreadsheet reads as that number, never as a formula.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

_T = TypeVar("_T")


@overload
def spreadsheet_safe(value: str) -> str: ...


@overload
def spreadsheet_safe(value: _T) -> _T: ...


def spreadsheet_safe(value: Any) -> Any:
    """``value`` for a CSV cell that a spreadsheet shows as text, never runs as a formula.

    A text (``str``) that begins with one of :data:`FORMULA_TRIGGERS` gets a leading single
    quote, as OWASP recommends: ``=HYPERLINK(...)`` becomes ``'=HYPERLINK(...)``. So does a
    text that begins with a quote, so that a reader recovers every text exactly by removing
    one leading ``'`` from a text cell that has one. A text that is a plain number
    (``-5``, ``+1.5e3``) is left as it is: a spreadsheet reads it as that number. Anything
    else (numbers, negative ones included, ``None``, booleans) is returned unchanged.

    Examples
    --------
    >>> spreadsheet_safe("=cmd|' /C calc'!A0")
    "'=cmd|' /C calc'!A0"
    >>> spreadsheet_safe("@SUM(A1)"), spreadsheet_safe("'quoted"), spreadsheet_safe("desk")
    ("'@SUM(A1)", "''quoted", 'desk')
    >>> spreadsheet_safe(-5.3), spreadsheet_safe("-5.3"), spreadsheet_safe("-5+3")
    (-5.3, '-5.3', "'-5+3")
    """
    if (isinstance(value, str) and value.startswith((*FORMULA_TRIGGERS, "'"))
            and _PLAIN_NUMBER.fullmatch(value) is None):
        return "'" + value
    return value


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

    def people(self, record: ReplicationRecord, rows: np.ndarray,
               names: Sequence[str] | None = None) -> list[str] | None:
        """The person who performed each instance in ``rows``, ``""`` where none is known.

        ``names`` are the people's names as written (default: as in the model).
        ``None`` when the record says nothing about servers (an engine without named people).
        """
        # ``instance_server``: the person's index in ``model.people``, -1 for anonymous
        # servers and delays; ``None`` (or missing) from an engine that does not name people.
        servers = getattr(record, "instance_server", None)
        if servers is None or not self.has_people:
            return None
        if names is None:
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
    if isinstance(value, str):
        return spreadsheet_safe(value)
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
    Names and text attribute values go through :func:`spreadsheet_safe`; times are numbers.

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
        # Names as text cells: see spreadsheet_safe.
        self._activities = [spreadsheet_safe(a) for a in plan.activities]
        self._resources = [spreadsheet_safe(p) for p in columns.pools]
        self._people = [spreadsheet_safe(p) for p in columns.people_names]
        self._attributes = columns.attributes
        header = [*fixed, *(["person"] if columns.has_people else []), "enabled", "start",
                  "end", *(["enabled_time", "start_time", "end_time"]
                           if columns.start is not None else []),
                  *columns.attribute_keys]
        self._out.writerow([spreadsheet_safe(c) for c in header])

    def write(self, record: ReplicationRecord) -> None:
        """Append the rows of one replication, sorted by case and then by start."""
        r = record.replication
        order = np.lexsort((record.instance_start, record.instance_case))
        # Each case's cells once, not once per activity instance.
        case_attrs = [[_cell(v) for v in record.attributes[a].tolist()]
                      for a in self._attributes]
        activities, resources, columns = self._activities, self._resources, self._columns
        for lo in range(0, len(order), self.CHUNK):
            rows = order[lo:lo + self.CHUNK]
            cases = record.instance_case[rows].tolist()
            kinds = record.instance_activity[rows].tolist()
            times = [record.instance_enabled[rows], record.instance_start[rows],
                     record.instance_end[rows]]
            people: list[list[str]] = []
            if columns.has_people:
                people = [columns.people(record, rows, self._people) or [""] * len(rows)]
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
                *([values[case] for case in cases] for values in case_attrs),
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


# What XML 1.0 does not allow in a document, even as a character reference: the C0 controls
# but tab, line feed and carriage return; lone surrogates; U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _attr(value: str) -> str:
    r"""``value`` quoted for an XML attribute.

    A character that XML 1.0 forbids becomes its Python-style escape, visible as text: the
    control character U+0001 as the four characters ``\x01``, a lone surrogate as ``\ud800``.
    """
    return escape(_NOT_XML.sub(_visible, value),
                  {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


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
    (``float`` or ``string``) as trace attributes. Each activity instance gives three
    events, ``lifecycle:transition`` ``schedule`` (when the case reached the activity: the
    CSV's ``enabled``; without resource), ``start`` and ``complete``, with ``concept:name`` (the
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
    (6, 18)
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
            raise UsageError("the XES log is closed")
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
            case_of_event = np.concatenate([record.instance_case[rows]] * 3)[events[0]]
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
        """The schedule, start and complete events of the instances ``rows``, sorted by case
        and time.

        Returns the sorting permutation of ``[schedules, starts, completes]`` and the events'
        XML lines in that order. Ties in time keep the order in which things happened:
        instances in order of start, an instance's schedule before its start before its
        complete.
        """
        columns = self._columns
        n = len(rows)
        case = np.concatenate([record.instance_case[rows]] * 3)
        time = np.concatenate([record.instance_enabled[rows], record.instance_start[rows],
                               record.instance_end[rows]])
        position = np.concatenate([rows, rows, rows])
        phase = np.repeat(np.array([0, 1, 2], dtype=np.int8), n)
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
        transition = ('<string key="lifecycle:transition" value="schedule"/>',
                      '<string key="lifecycle:transition" value="start"/>',
                      '<string key="lifecycle:transition" value="complete"/>')
        # Nobody works on a case before it starts: a schedule event has no resource.
        lines = [f'    <event>{names[i]}{transition[p]}{who[i] if p else ""}'
                 f'<date key="time:timestamp" value="{stamp}"/></event>\n'
                 for i, p, stamp in zip(instance.tolist(), phase[order].tolist(), stamps,
                                        strict=True)]
        return order, lines

    def close(self) -> None:
        """End the document (``</log>``); the file itself is left open for its owner."""
        if not self._closed:
            self._fh.write("</log>\n")
            self._closed = True
