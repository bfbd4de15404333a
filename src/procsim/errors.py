"""Exceptions raised by procsim.

The library raises; only the command line formats. Every exception a user can
provoke with bad input derives from :class:`ProcsimError`, so a traceback means
a bug in procsim, never a mistake in a model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Issue",
    "LogError",
    "ModelError",
    "OptimiseError",
    "ProcsimError",
    "SimulationError",
    "UnknownKpiError",
    "UnknownNameError",
    "UnstableModelError",
    "UsageError",
    "WrongTypeError",
    "close_match_hint",
    "dotted",
    "format_error",
    "quote",
    "readable",
]

#: Longest user text quoted whole in a message; longer values keep their start and length.
QUOTE_LIMIT = 60
# Characters a message never shows raw: C0 controls (line breaks and tabs included: an
# issue is one line), DEL, C1 controls, and the bidirectional overrides that reorder text.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# A run of text without spaces too long to read, wherever it comes from.
_LONG_RUN = re.compile(r"\S{200,}")


def readable(text: str) -> str:
    r"""``text`` on one line, with control characters escaped and absurdly long runs cut.

    Every message of an :class:`Issue` goes through it, so that a name holding a line break,
    an escape sequence or 10,000 characters still gives a one-line, readable error.

    Examples
    --------
    >>> readable("unknown node 'serve\n'")
    "unknown node 'serve\\n'"
    >>> readable("got " + "x" * 1000)[:20], len(readable("got " + "x" * 1000)) < 100
    ('got xxxxxxxxxxxxxxxx', True)
    """
    text = _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
    return _LONG_RUN.sub(lambda m: _cut(m.group()), text)


def _cut(text: str) -> str:
    return f"{text[:QUOTE_LIMIT]}…({len(text):,} characters)"


def quote(value: Any, limit: int | None = None) -> str:
    r"""``value`` quoted for a message: as Python writes it (escapes included), cut when long
    (beyond ``limit`` characters, :data:`QUOTE_LIMIT` by default).

    Examples
    --------
    >>> quote("triage")
    "'triage'"
    >>> quote("serve\n")
    "'serve\\n'"
    >>> quote("x" * 10_000)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'…(10,000 characters)"
    """
    text = str(value)
    limit = QUOTE_LIMIT if limit is None else limit
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}…({len(text):,} characters)"


def dotted(path: Iterable[Any]) -> str:
    """A path of keys and list indexes as written in messages: ``flow.triage[0].to``.

    A key too long to read is cut like a quoted value.

    >>> dotted(("okrs", 0, "key_results", 1, "to"))
    'okrs[0].key_results[1].to'
    """
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            text = str(part)
            text = text if len(text) <= QUOTE_LIMIT else _cut(text)
            out += ("." if out else "") + text
    return out


class ProcsimError(Exception):
    """Root of every error procsim raises on purpose."""


@dataclass(frozen=True)
class Issue:
    """One problem found in a model file.

    Parameters
    ----------
    path : str
        Dotted path of the offending field, e.g. ``"activities.triage.duration.mean"``.
    message : str
        What was expected and what was found.
    file : str or None
        The model file, when the model came from one.
    line, column : int or None
        1-based position of the field in the file, when known.
    """

    path: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def __post_init__(self) -> None:
        # User text reaches messages and paths in many ways; none may break the line or
        # drown it (a key 'serve\n', a 10,000-character name, an escape sequence).
        object.__setattr__(self, "path", readable(self.path))
        object.__setattr__(self, "message", readable(self.message))

    def __str__(self) -> str:
        where = self.file or "<model>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        prefix = f"{self.path}: " if self.path else ""
        return f"{where}: error: {prefix}{self.message}"


class ModelError(ProcsimError):
    """A model (or scenario) file is invalid; ``issues`` lists every problem found.

    Examples
    --------
    >>> err = ModelError([Issue("run.seed", "expected an integer, got 'x'", "m.yaml", 3, 9)])
    >>> print(err)
    m.yaml:3:9: error: run.seed: expected an integer, got 'x'
    1 error in m.yaml
    """

    def __init__(self, issues: Iterable[Issue], file: str | None = None) -> None:
        self.issues: list[Issue] = sorted(
            issues, key=lambda i: (i.line if i.line is not None else 10**9, i.column or 0, i.path)
        )
        self.file = file or next((i.file for i in self.issues if i.file), None)
        super().__init__(self.render())

    def render(self) -> str:
        lines = [str(i) for i in self.issues]
        n = len(self.issues)
        lines.append(f"{n} error{'s' if n != 1 else ''} in {self.file or '<model>'}")
        return "\n".join(lines)


class UnstableModelError(ModelError):
    """The offered load on some pool is at or above its capacity."""


class SimulationError(ProcsimError):
    """A run could not complete (for instance, it exceeded its bound on activity instances).

    When the cause sits at a place in the model file (the batch that never filled, the
    ``run.max_activity_instances`` that was reached), ``issue`` holds its file, line and path
    and the error reads like a model error.

    Examples
    --------
    >>> print(SimulationError("no more cases arrive; give the batch a timeout"))
    no more cases arrive; give the batch a timeout
    >>> err = SimulationError("2 case(s) still wait; give the batch a timeout",
    ...                       file="m.yaml", line=9, column=5, path="activities.pack.batch")
    >>> print(format_error(err))
    m.yaml:9:5: error: activities.pack.batch: 2 case(s) still wait; give the batch a timeout
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 column: int | None = None, path: str = "") -> None:
        super().__init__(message)
        self.issue: Issue | None = (Issue(path, message, file, line, column)
                                    if file is not None or path else None)

    def __reduce__(self) -> Any:
        # Raised in a worker process, it must reach the parent with its place in the file.
        issue = self.issue
        where = ({"file": issue.file, "line": issue.line, "column": issue.column,
                  "path": issue.path} if issue is not None else {})
        return (_simulation_error, (type(self), str(self), where))

    @classmethod
    def at(cls, model: Any, path: Sequence[Any], message: str) -> SimulationError:
        """The error ``message`` placed at ``path`` of ``model`` (its file, line and column).

        ``model`` is a :class:`procsim.model.Model`; a model built in Python has no file, and
        the error then names the path only.
        """
        position = model.position(*path) if getattr(model, "file", None) else None
        line, column = position or (None, None)
        return cls(message, file=getattr(model, "file", None), line=line, column=column,
                   path=dotted(path))


class UsageError(ProcsimError, ValueError):
    """A function of the library was called with a value it cannot use (an unknown option,
    values of the wrong shape, a result of the wrong kind): a ``ValueError`` too, so that
    callers that catch those keep working.

    Examples
    --------
    >>> print(UsageError("expected kind 'ecdf', 'hist' or 'box', got 'pie'"))
    expected kind 'ecdf', 'hist' or 'box', got 'pie'
    >>> isinstance(UsageError("x"), ValueError)
    True
    """


class WrongTypeError(ProcsimError, TypeError):
    """A function of the library was given an object of the wrong kind (a ``TypeError`` too).

    Examples
    --------
    >>> print(WrongTypeError("expected a RunResult, got 'str'"))
    expected a RunResult, got 'str'
    """


class UnknownKpiError(ProcsimError, KeyError):
    """A KPI name that the result does not have: a ``KeyError`` too (results are looked up
    by KPI name), whose message reads as a sentence rather than a quoted key.

    Examples
    --------
    >>> err = UnknownKpiError("unknown KPI 'cycle_tim' (did you mean 'cycle_time'?)")
    >>> print(err), isinstance(err, KeyError)
    unknown KPI 'cycle_tim' (did you mean 'cycle_time'?)
    (None, True)
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UnknownNameError(ProcsimError, KeyError):
    """A name the model does not define (a calendar, a pool, an activity) asked of it: a
    ``KeyError`` too, whose message reads as a sentence rather than a quoted key.

    Examples
    --------
    >>> err = UnknownNameError("unknown calendar 'ofice' (did you mean 'office'?)")
    >>> print(err), isinstance(err, KeyError)
    unknown calendar 'ofice' (did you mean 'office'?)
    (None, True)
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class OptimiseError(ProcsimError, ValueError):
    """An optimisation or sweep was asked for something it cannot do: a parameter range that
    is empty or not numeric, a key result on an unknown KPI, an objective that is no KPI,
    nothing to meet, a budget that cannot be read (see :func:`procsim.optimise.optimise`).

    Examples
    --------
    >>> print(OptimiseError("--vary resources.agents.capacity=9..3: the range is empty"))
    --vary resources.agents.capacity=9..3: the range is empty
    """


class LogError(ProcsimError, ValueError):
    """An event log could not be read: a whole-file problem (``message``), or bad rows.

    ``problems`` are the bad rows (objects whose ``str`` is ``FILE:LINE: message``, such as
    :class:`procsim.eventlog.RowProblem`), ``count`` how many there are; the message lists
    the first :attr:`SHOWN` of them and the count.

    Examples
    --------
    >>> print(LogError("log.csv: the file is empty"))
    log.csv: the file is empty
    >>> print(LogError(problems=["log.csv:3: missing end time"] * 12, file="log.csv"))
    log.csv:3: missing end time
    ...
    log.csv:3: missing end time
    … and 2 more
    12 bad rows in log.csv (pass on_error="drop" to read the others)
    """

    #: bad rows listed in the message
    SHOWN = 10

    def __init__(self, message: str = "", *, problems: Sequence[Any] = (),
                 file: str | None = None) -> None:
        self.problems = tuple(problems)
        self.count = len(self.problems)
        self.file = file
        if self.problems:
            lines = [readable(str(p)) for p in self.problems[:self.SHOWN]]
            if self.count > self.SHOWN:
                lines.append(f"… and {self.count - self.SHOWN:,} more")
            rows = "row" if self.count == 1 else "rows"
            lines.append(message or f"{self.count:,} bad {rows} in {file or '<log>'} "
                         '(pass on_error="drop" to read the others)')
            message = "\n".join(lines)
        super().__init__(message)


def _simulation_error(cls: type[SimulationError], message: str, where: dict[str, Any]
                      ) -> SimulationError:
    return cls(message, **where)


def format_error(err: ProcsimError) -> str:
    """What the command line prints for ``err``: ``file:line:col: error: ...`` lines where the
    error has a place in a file, ``error: message`` otherwise.

    >>> format_error(SimulationError("expected at least 1 replication, got 0"))
    'error: expected at least 1 replication, got 0'
    """
    if isinstance(err, ModelError) or (isinstance(err, LogError) and err.problems):
        return str(err)
    issue = getattr(err, "issue", None)
    if isinstance(issue, Issue):
        return str(issue)
    return f"error: {readable(str(err))}"


def close_match_hint(word: str, candidates: Sequence[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest candidate, or ``""``.

    Examples
    --------
    >>> close_match_hint("aprove", ["approve", "reject"])
    " (did you mean 'approve'?)"
    """
    import difflib

    names = [str(c) for c in candidates]
    match = difflib.get_close_matches(str(word), names, n=1, cutoff=0.6)
    if not match and len(str(word)) >= 3:  # an abbreviation: 'expo' for 'exponential'
        match = [n for n in names if n.startswith(str(word))][:1]
    return f" (did you mean {quote(match[0])}?)" if match else ""
