"""KPI kinds, statistics and target values as written in models (``<= 30min``, ``>= 80%``).

Shared by the model checks and the OKR evaluation, so both read targets the same way.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from procsim.errors import quote
from procsim.units import parse_duration

__all__ = ["CASE_KPIS", "SYSTEM_KPIS", "Threshold", "comparison_error", "kpi_kind", "parse_stat",
           "parse_threshold", "parse_value"]

#: Per-case KPIs and what their values are.
CASE_KPIS = {"cycle_time": "time", "waiting_time": "time", "processing_time": "time",
             "delay_time": "time", "cost_per_case": "money", "working_cycle_time": "time"}
#: System KPIs (one value per replication).
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
    raise ValueError(f"expected mean, median or a percentile such as p90, got {stat!r}")


def parse_value(raw: Any, kind: str, time_unit: str) -> float:
    """A target value in the KPI's own unit: durations with units, shares as ``85%`` or 0.85.

    Every target is a finite number, and none is negative (times, costs, rates, counts and
    shares never are).

    Examples
    --------
    >>> parse_value("85%", "share", "minutes"), parse_value("2h", "time", "minutes")
    (0.85, 120.0)
    >>> parse_value("45min", "share", "minutes")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: expected a share ... got '45min' (a share of cases has no unit of time)
    """
    if isinstance(raw, bool):
        raise ValueError(f"expected a number, got {str(raw).lower()}")
    if kind == "share":
        expected = "a share between 0 and 1 or a percentage such as 85%"
        text = raw.strip() if isinstance(raw, str) else raw
        try:
            value = (_number(text[:-1]) / 100 if isinstance(text, str) and text.endswith("%")
                     else _number(text))
        except ValueError:
            unit = isinstance(raw, str) and re.search(r"[0-9.]\s*(s|sec|min|h|d|w)\s*$", raw)
            raise ValueError(f"expected {expected}, got {_shown(raw)}"
                             + (" (a share of cases has no unit of time)" if unit else "")
                             ) from None
        if not (math.isfinite(value) and 0 <= value <= 1):
            raise ValueError(f"expected {expected}, got {_shown(raw)}")
        return value
    if kind == "time":
        value = parse_duration(raw, time_unit)
    else:
        try:
            value = _number(raw)
        except ValueError:
            raise ValueError(f"expected a number, got {_shown(raw)}") from None
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {_shown(raw)}")
    if value < 0:
        raise ValueError(f"expected a number >= 0, got {_shown(raw)}")
    return value


def _number(raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError(raw)
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
    typo = _TYPO_RE.match(text)
    if typo and typo.group(1) in _OPERATOR_TYPOS:
        meant = f"{_OPERATOR_TYPOS[typo.group(1)]} {typo.group(2)}"
        return message + f" (did you mean {quote(meant)}?)"
    if typo:
        return message + " (a target is a bound: write '<=' or '>=')"
    if text.strip():
        return message + " (start with the direction: '<=' or '>=')"
    return message


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


def parse_threshold(text: Any, kind: str, time_unit: str, *, relative: bool = False) -> Threshold:
    """Parse ``"<= 30min"``, ``">= 80%"`` or, with ``relative``, ``"<= +5%"`` (a change)."""
    m = _THRESHOLD_RE.match(str(text)) if isinstance(text, str) else None
    if not m:
        raise ValueError(comparison_error(text, relative=relative))
    op, raw = m.groups()
    if relative:
        if not raw.endswith("%"):
            raise ValueError(f"expected a relative change in percent such as '+5%', "
                             f"got {quote(raw)}")
        try:
            change = float(raw[:-1]) / 100
        except ValueError:
            change = math.nan
        if not math.isfinite(change):
            raise ValueError(f"expected a relative change in percent such as '+5%', "
                             f"got {quote(raw)}")
        return Threshold(op, change, str(text).strip())
    return Threshold(op, parse_value(raw, kind, time_unit), str(text).strip())
