"""KPI kinds, statistics and target values as written in models (``<= 30min``, ``>= 80%``).

Shared by the model checks and the OKR evaluation, so both read targets the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from procsim.units import parse_duration

__all__ = ["CASE_KPIS", "SYSTEM_KPIS", "Threshold", "kpi_kind", "parse_stat", "parse_threshold",
           "parse_value"]

#: Per-case KPIs and what their values are.
CASE_KPIS = {"cycle_time": "time", "waiting_time": "time", "processing_time": "time",
             "delay_time": "time", "cost_per_case": "money", "working_cycle_time": "time"}
#: System KPIs (one value per replication).
SYSTEM_KPIS = {"throughput_per_hour": "rate", "wip": "count", "idle_cost_per_hour": "money",
               "cost_per_case_with_idle": "money"}

_THRESHOLD_RE = re.compile(r"^\s*(<=|>=|<|>)\s*(.+?)\s*$")
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
    """A target value in the KPI's own unit: durations with units, shares as ``85%`` or 0.85."""
    if isinstance(raw, bool):
        raise ValueError(f"expected a number, got {raw!r}")
    if kind == "share":
        if isinstance(raw, str) and raw.strip().endswith("%"):
            return float(raw.strip()[:-1]) / 100
        value = float(raw)
        if not 0 <= value <= 1:
            raise ValueError(f"expected a share between 0 and 1 or a percentage such as 85%, "
                             f"got {raw!r}")
        return value
    if kind == "time":
        return parse_duration(raw, time_unit)
    if isinstance(raw, str):
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"expected a number, got {raw!r}") from None
    return float(raw)


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
        example = "'<= +5%'" if relative else "'<= 30min' or '>= 80%'"
        raise ValueError(f"expected a comparison such as {example}, got {text!r}")
    op, raw = m.groups()
    if relative:
        if not raw.endswith("%"):
            raise ValueError(f"expected a relative change in percent such as '+5%', got {raw!r}")
        return Threshold(op, float(raw[:-1]) / 100, str(text).strip())
    return Threshold(op, parse_value(raw, kind, time_unit), str(text).strip())
