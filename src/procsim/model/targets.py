"""KPI kinds, statistics and target values as written in models (``<= 30min``, ``>= 80%``).

Shared by the model checks and the OKR evaluation, so both read targets the same way: the
direction of a key result (:func:`read_key_result`, :func:`natural_direction`) and the
working-time units ``wd`` and ``wh`` (:func:`working_time`).
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from typing import Any

from procsim.errors import UsageError, close_match_hint, quote
from procsim.units import (
    SECONDS_PER,
    WORKING_ONLY,
    WORKING_UNITS,
    parse_duration,
    short_unit,
    working_amount,
)

__all__ = ["CASE_KPIS", "DIRECTIONS", "OPERATOR_SYMBOLS", "SYSTEM_KPIS", "KeyResultTarget",
           "Threshold", "WorkingTime", "comparison_error", "format_target", "kpi_kind",
           "kpi_target", "natural_direction", "parse_direction", "parse_stat", "parse_target",
           "parse_threshold", "parse_value", "read_key_result", "working_day", "working_time"]

#: Per-case KPIs and what their values are. ``cost_per_case`` is the full cost (the case's
#: work plus its share of paid idle staff time), ``busy_cost_per_case`` the work alone.
CASE_KPIS = {"cycle_time": "time", "waiting_time": "time", "processing_time": "time",
             "delay_time": "time", "cost_per_case": "money", "busy_cost_per_case": "money",
             "working_cycle_time": "time"}
#: System KPIs (one value per replication). ``cost_per_case_with_idle`` is the mean of
#: ``cost_per_case``, kept for compatibility.
SYSTEM_KPIS = {"throughput_per_hour": "rate", "wip": "count", "idle_cost_per_hour": "money",
               "cost_per_case_with_idle": "money"}

_THRESHOLD_RE = re.compile(r"^\s*(<=|>=|<|>)\s*(.+?)\s*$")
# Operators written the other way round or as one character, and what they mean.
_OPERATOR_TYPOS = {"=>": ">=", "=<": "<=", "≥": ">=", "≤": "<=", "⩾": ">=", "⩽": "<=",
                   "≧": ">=", "≦": "<="}
_TYPO_RE = re.compile(r"^\s*(=>|=<|≥|≤|⩾|⩽|≧|≦|==|=|!=|<>)\s*(.*?)\s*$")
_STAT_RE = re.compile(r"^p(\d+(?:\.\d+)?)$")


def kpi_kind(name: str, custom: dict[str, Any]) -> str | None:
    """"time", "money", "rate", "count" or "share"; ``None`` for an unknown KPI."""
    if name in CASE_KPIS:
        return CASE_KPIS[name]
    if name in SYSTEM_KPIS:
        return SYSTEM_KPIS[name]
    spec = custom.get(name)
    if spec is None:
        return None
    of = getattr(spec, "of", None)
    return kpi_kind(of, {}) if of else "share"


def parse_stat(stat: str) -> float | None:
    """``None`` for the mean, else the percentile (``median`` is 50); ValueError otherwise."""
    if stat == "mean":
        return None
    if stat == "median":
        return 50.0
    m = _STAT_RE.match(stat)
    if m and 0 < float(m.group(1)) < 100:
        return float(m.group(1))
    raise UsageError(f"expected mean, median or a percentile such as p90, got {stat!r}")


def parse_value(raw: Any, kind: str, time_unit: str, *,
                working: WorkingTime | None = None) -> float:
    """A target value in the KPI's own unit: durations with units, shares as ``85%`` or 0.85.

    Every target is a finite number, and none is negative (times, costs, rates, counts and
    shares never are). A duration in working time (``2wd``, ``6wh``) needs ``working``, the
    working time of the KPI (see :func:`working_time`); without it, or when the KPI is not
    measured in working time, it is refused with the reason.

    Examples
    --------
    >>> parse_value("85%", "share", "minutes"), parse_value("2h", "time", "minutes")
    (0.85, 120.0)
    >>> parse_value("2wd", "time", "minutes", working=WorkingTime(480.0))
    960.0
    >>> parse_value("45min", "share", "minutes")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    procsim.errors.UsageError: expected a share ... got '45min' (a share ... no unit of time)
    """
    if isinstance(raw, bool):
        raise UsageError(f"expected a number, got {str(raw).lower()}")
    if kind == "share":
        expected = "a share between 0 and 1 or a percentage such as 85%"
        text = raw.strip() if isinstance(raw, str) else raw
        try:
            value = (_number(text[:-1]) / 100 if isinstance(text, str) and text.endswith("%")
                     else _number(text))
        except ValueError:
            unit = isinstance(raw, str) and re.search(r"[0-9.]\s*(s|sec|min|h|d|w|wd|wh)\s*$",
                                                      raw)
            raise UsageError(f"expected {expected}, got {_shown(raw)}"
                             + (" (a share of cases has no unit of time)" if unit else "")
                             ) from None
        if not (math.isfinite(value) and 0 <= value <= 1):
            raise UsageError(f"expected {expected}, got {_shown(raw)}")
        return value
    in_working_time = working_amount(raw)
    if kind == "time" and in_working_time is not None:
        amount, working_unit = in_working_time
        context = working or WorkingTime()
        if context.day is None:
            raise UsageError(f"got {_shown(raw)}, in {WORKING_UNITS[working_unit]}: "
                             f"{context.why_not}")
        value = amount * (context.day if working_unit == "wd"
                          else 3600.0 / SECONDS_PER[time_unit])
    elif kind == "time":
        value = parse_duration(raw, time_unit)
    else:
        try:
            value = _number(raw)
        except ValueError:
            raise UsageError(f"expected a number, got {_shown(raw)}") from None
    if not math.isfinite(value):
        raise UsageError(f"expected a finite number, got {_shown(raw)}")
    if value < 0:
        raise UsageError(f"expected a number >= 0, got {_shown(raw)}")
    return value


def _number(raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise UsageError(raw)
    return float(raw)


def _shown(raw: Any) -> str:
    if isinstance(raw, float):
        return f"{raw:g}"
    return quote(raw) if isinstance(raw, str) else str(raw)


def comparison_error(text: Any, *, relative: bool = False) -> str:
    """What is wrong with a target that is not a comparison, with the likely fix.

    Examples
    --------
    >>> comparison_error("=> 5")
    "expected a comparison such as '<= 30min' or '>= 80%', got '=> 5' (did you mean '>= 5'?)"
    """
    example = "'<= +5%'" if relative else "'<= 30min' or '>= 80%'"
    message = f"expected a comparison such as {example}, got {_shown(text)}"
    if not isinstance(text, str):
        return message
    hint = _typo_hint(text)
    if hint:
        return message + hint
    if text.strip():
        return message + " (start with the direction: '<=' or '>=')"
    return message


def _typo_hint(text: str) -> str:
    """`` (did you mean '>= 5'?)`` for an operator written the other way round, and so on."""
    typo = _TYPO_RE.match(text)
    if typo and typo.group(1) in _OPERATOR_TYPOS:
        meant = f"{_OPERATOR_TYPOS[typo.group(1)]} {typo.group(2)}"
        return f" (did you mean {quote(meant)}?)"
    if typo:
        return " (a target is a bound: write '<=' or '>=')"
    return ""


@dataclass(frozen=True)
class Threshold:
    """``op value``, e.g. ``<= 30`` (in the KPI's unit), or a relative change (``<= +5%``)."""

    op: str
    value: float
    text: str

    def holds(self, x: float) -> bool:
        return {"<=": x <= self.value, "<": x < self.value, ">=": x >= self.value,
                ">": x > self.value}[self.op]

    @property
    def lower_is_better(self) -> bool:
        return self.op in ("<=", "<")


def parse_threshold(text: Any, kind: str, time_unit: str, *, relative: bool = False,
                    working: WorkingTime | None = None) -> Threshold:
    """Parse ``"<= 30min"``, ``">= 80%"`` or, with ``relative``, ``"<= +5%"`` (a change).

    ``working`` reads ``wd`` and ``wh`` for a KPI measured in working time (see
    :func:`parse_value`).
    """
    m = _THRESHOLD_RE.match(str(text)) if isinstance(text, str) else None
    if not m:
        raise UsageError(comparison_error(text, relative=relative))
    op, raw = m.groups()
    if relative:
        if not raw.endswith("%"):
            raise UsageError(f"expected a relative change in percent such as '+5%', "
                             f"got {quote(raw)}")
        try:
            change = float(raw[:-1]) / 100
        except ValueError:
            change = math.nan
        if not math.isfinite(change):
            raise UsageError(f"expected a relative change in percent such as '+5%', "
                             f"got {quote(raw)}")
        return Threshold(op, change, str(text).strip())
    return Threshold(op, parse_value(raw, kind, time_unit, working=working), str(text).strip())


def kpi_target(model: Any, name: str) -> Threshold:
    """The health target of the custom KPI ``name`` of ``model`` (which must have one).

    Reads it as :func:`parse_threshold` does, with the KPI's kind, the model's time unit and,
    for a KPI measured in working time, its working day (so ``"<= 2wd"`` works).
    """
    spec = model.kpis[name]
    kind = kpi_kind(name, model.kpis) or "time"
    return parse_threshold(spec.target, kind, model.time_unit,
                           working=working_time(model, name))


# --- working time ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkingTime:
    """How ``wd`` and ``wh`` read for thresholds and targets on one KPI.

    ``day`` is the length of one working day in the model's time unit; ``None`` when
    working-time units do not apply to the KPI, and ``why_not`` says why.
    """

    day: float | None = None
    why_not: str = WORKING_ONLY


_MINUTES_PER_DAY = 24 * 60
_MINUTES_PER_WEEK = 7 * _MINUTES_PER_DAY


def working_day(calendar: Any, time_unit: str) -> float:
    """Length of one working day (``1wd``) of a calendar specification, in ``time_unit``.

    A working day is the calendar's open time in a week (holidays aside, overlapping
    intervals counted once) divided by the number of weekdays on which it opens (the days
    named in its intervals' ``days``; a night shift counts on the day it starts). For
    Mon–Fri 09:00–17:00 that is 40 h / 5 = 8 h; with Saturday 10:00–14:00 as well,
    44 h / 6 ≈ 7.33 h; for a calendar open around the clock, 24 h.

    Examples
    --------
    >>> from procsim.calendars import CalendarSpec
    >>> office = CalendarSpec.model_validate([{"days": "mon-fri", "from": "09:00",
    ...                                        "to": "17:00"}])
    >>> working_day(office, "minutes"), working_day(office, "hours")
    (480.0, 8.0)
    """
    pieces: list[tuple[int, int]] = []
    days: set[int] = set()
    for interval in calendar.hours:
        for day in interval.day_indices:
            days.add(day)
            a = day * _MINUTES_PER_DAY + interval.from_
            b = a + interval.length
            if b <= _MINUTES_PER_WEEK:
                pieces.append((a, b))
            else:  # Sunday night into Monday morning
                pieces += [(a, _MINUTES_PER_WEEK), (0, b - _MINUTES_PER_WEEK)]
    pieces.sort()
    total, end = 0, 0
    for a, b in pieces:
        a = max(a, end)
        if b > a:
            total += b - a
            end = b
    return total / len(days) * 60.0 / SECONDS_PER[time_unit]


def _working_kpi(kpi: str, custom: dict[str, Any]) -> bool:
    spec = custom.get(kpi)
    if spec is not None:
        kpi = getattr(spec, "of", None) or ""
    return kpi == "working_cycle_time"


def working_time(model: Any, kpi: str) -> WorkingTime:
    """How ``wd`` and ``wh`` read for a threshold or target on ``kpi`` of ``model``.

    They apply to ``working_cycle_time`` (and a custom statistic of it), measured in the
    model's working calendar: ``working_calendar``, else the arrival calendar. A custom share
    KPI names no calendar of its own: its ``within: 2wd`` is measured in the same calendar as
    the working cycle time it is compared with.
    """
    if not _working_kpi(kpi, model.kpis):
        of = getattr(model.kpis.get(kpi), "of", None)  # a custom statistic: say of what
        return WorkingTime(None, f"{quote(of or kpi)} is measured in calendar time, and "
                           f"{WORKING_ONLY}; use a unit such as '16h' or '2d', or the KPI "
                           "working_cycle_time")
    name = model.working_calendar or model.arrivals.calendar
    spec = model.calendars.get(name) if name else None
    if spec is None:
        return WorkingTime(None, "a working day is measured against the working calendar, and "
                           "this model has none; name one with working_calendar: (or give "
                           "the arrivals a calendar)")
    return WorkingTime(working_day(spec, model.time_unit))


# --- the direction of a key result ------------------------------------------------------------

#: Words a key result may give as its ``direction``, and the operator each stands for.
DIRECTIONS: dict[str, str] = {
    "increase": ">=", "up": ">=", "higher": ">=", "at_least": ">=", "maximise": ">=",
    "maximize": ">=",
    "decrease": "<=", "down": "<=", "lower": "<=", "at_most": "<=", "minimise": "<=",
    "minimize": "<=", "reduce": "<=",
}
#: How the operators read in a sentence.
OPERATOR_SYMBOLS = {"<=": "≤", ">=": "≥", "<": "<", ">": ">"}


def parse_direction(word: Any) -> str:
    """The operator a ``direction`` stands for: ``">="`` for increase, ``"<="`` for decrease.

    Examples
    --------
    >>> parse_direction("increase"), parse_direction("At most")
    ('>=', '<=')
    >>> parse_direction("sideways")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    procsim.errors.UsageError: expected increase or decrease ... got 'sideways'
    """
    if isinstance(word, str):
        key = re.sub(r"[\s\-]+", "_", word.strip().lower())
        if key in DIRECTIONS:
            return DIRECTIONS[key]
    hint = close_match_hint(str(word).strip().lower(), list(DIRECTIONS)) \
        if isinstance(word, str) else ""
    return _raise(f"expected increase or decrease (or up/down, higher/lower, at least/at most), "
                  f"got {_shown(word)}{hint}")


def _raise(message: str) -> Any:
    raise UsageError(message)


def parse_target(raw: Any, kind: str, time_unit: str, *,
                 working: WorkingTime | None = None) -> tuple[str | None, float]:
    """``(operator, value)`` of a key result's ``to``: ``">= 85%"`` or just ``85%``.

    The operator is ``None`` when ``to`` gives only a value. Operators as in
    :func:`parse_threshold`; one written the other way round (``=>``) is refused with a hint.

    Examples
    --------
    >>> parse_target(">= 85%", "share", "minutes"), parse_target("40min", "time", "minutes")
    (('>=', 0.85), (None, 40.0))
    >>> parse_target("=> 85%", "share", "minutes")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    procsim.errors.UsageError: expected a value ... got '=> 85%' (did you mean '>= 85%'?)
    """
    if isinstance(raw, str):
        m = _THRESHOLD_RE.match(raw)
        if m:
            return m.group(1), parse_value(m.group(2), kind, time_unit, working=working)
        hint = _typo_hint(raw)
        if hint:
            raise UsageError(f"expected a value such as '85%' or '45min', or a comparison "
                             f"such as '>= 85%' or '<= 45min', got {_shown(raw)}{hint}")
    return None, parse_value(raw, kind, time_unit, working=working)


def format_target(value: float, kind: str, time_unit: str, currency: str = "") -> str:
    """A target value as a key result shows it: ``85%``, ``45 min``, ``12.5 EUR``.

    >>> format_target(0.855, "share", "minutes"), format_target(45.0, "time", "minutes")
    ('85.5%', '45 min')
    """
    if kind == "share":
        return f"{value * 100:.4g}%"
    if kind == "time":
        return f"{value:.4g} {short_unit(time_unit)}"
    if kind == "money":
        return f"{value:.4g} {currency}".rstrip()
    return f"{value:.4g}"


def natural_direction(kpi: str, custom: dict[str, Any]) -> tuple[str, str] | None:
    """``(operator, why)`` of the direction in which ``kpi`` gets better, if it has one.

    Times, costs and work in progress are better lower, throughput higher; a share of cases
    *within* a limit is better higher, *over* a limit lower. A share of cases visiting an
    activity has none (fewer escalations, but more approvals?).

    Examples
    --------
    >>> natural_direction("cycle_time", {})
    ('<=', 'lower is better for a time')
    """
    spec = custom.get(kpi)
    if spec is not None:
        if getattr(spec, "share", None) is not None:
            if getattr(spec, "within", None) is not None:
                return ">=", "higher is better for a share of cases within a limit"
            return "<=", "lower is better for a share of cases over a limit"
        of = getattr(spec, "of", None)
        if of is None:
            return None
        kpi = of
    return {"time": ("<=", "lower is better for a time"),
            "money": ("<=", "lower is better for a cost"),
            "rate": (">=", "higher is better for a throughput"),
            "count": ("<=", "lower is better for work in progress"),
            }.get(kpi_kind(kpi, {}) or "")


@dataclass(frozen=True)
class KeyResultTarget:
    """The target of a key result with ``to``, as far as the model alone says it.

    ``op`` is the direction when the key result states it: an operator in ``to``
    (``how="operator"``), ``direction`` (``"direction"``), or ``from`` and ``to``
    (``"from"``, the sign of the change). Otherwise it is ``None`` and is inferred once the
    baseline is known (:func:`procsim.okr.key_results`). ``why`` says how it was read.
    """

    value: float
    shown: str
    op: str | None = None
    how: str = ""
    why: str = ""


def read_key_result(kr: Any, kind: str, time_unit: str, *, currency: str = "",
                    working: WorkingTime | None = None
                    ) -> tuple[KeyResultTarget | None, list[tuple[str, str]]]:
    """Read a key result's ``to``, ``direction`` and ``from``: its target and stated direction.

    Returns the target (``None`` when something is wrong) and the problems found, each as
    ``(field, message)``: a value that cannot be read, an unknown direction, ``from`` equal
    to ``to``, and directions that contradict each other.
    """
    issues: list[tuple[str, str]] = []
    if kr.to is None:
        if getattr(kr, "direction", None) is not None:
            issues.append(("direction", "a change states its direction with its operator "
                           f"({quote(kr.change)}); remove direction"))
        return None, issues
    op: str | None = None
    value: float | None = None
    try:
        op, value = parse_target(kr.to, kind, time_unit, working=working)
    except ValueError as exc:
        issues.append(("to", str(exc)))
    direction = None
    if getattr(kr, "direction", None) is not None:
        try:
            direction = parse_direction(kr.direction)
        except ValueError as exc:
            issues.append(("direction", str(exc)))
    start = None
    if kr.from_ is not None and kr.from_ != "baseline":
        try:
            start = parse_value(kr.from_, kind, time_unit, working=working)
        except ValueError as exc:
            issues.append(("from", str(exc)))
    if issues or value is None:
        return None, issues
    shown = format_target(value, kind, time_unit, currency)
    m = _THRESHOLD_RE.match(kr.to) if isinstance(kr.to, str) else None
    written = working_amount(m.group(2) if m else kr.to)
    if written is not None:
        shown += f" ({written[0]:g}{written[1]})"
    stated: list[tuple[str, str, str]] = []  # (how, operator, why)
    if op is not None:
        stated.append(("operator", op, "as written"))
    if direction is not None:
        stated.append(("direction", direction, f"direction: {kr.direction}"))
    if start is not None:
        start_shown = format_target(start, kind, time_unit, currency)
        if start == value:
            issues.append(("from", f"expected from different from to, got both {start_shown}: "
                           "the change gives no direction; state it with to: '>= …' or "
                           "'<= …', or with direction: increase / decrease"))
            return None, issues
        change = "an increase" if value > start else "a decrease"
        stated.append(("from", ">=" if value > start else "<=",
                       f"from {start_shown} to {shown} is {change}"))
    for (how, first, _), (other, second, why) in itertools.pairwise(stated):
        if first[0] != second[0]:
            said = {"operator": f"to: {quote(kr.to)}",
                    "direction": f"direction: {kr.direction}"}[how]
            means = "at least" if first[0] == ">" else "at most"
            issues.append((other, f"{why}, which contradicts {said} ({means} {shown}); "
                           "give one direction"))
            return None, issues
    if not stated:
        return KeyResultTarget(value, shown), issues
    how, _, why = stated[0]
    return KeyResultTarget(value, shown, op or stated[0][1], how, why), issues
