"""Key results and KPI targets: verdicts from per-replication values.

A verdict compares a confidence interval with a target: **met** when the whole interval
lies on the right side, **not met** when it lies wholly on the wrong side, **inconclusive**
when it straddles the target. With it come the estimated probability that the true value
attains the target (from the same Student-t distribution) and, when inconclusive, roughly
how many replications in all would settle it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from procsim.kpi import RunResult
from procsim.model.schema import Model
from procsim.model.targets import Threshold, kpi_kind, parse_threshold, parse_value
from procsim.stats import Estimate, estimate
from procsim.units import SHORT_UNITS

__all__ = ["KeyResultSpec", "Verdict", "judge", "key_results", "kpi_health", "kpi_values"]

Status = Literal["met", "not_met", "inconclusive"]
SYMBOLS = {"met": "✓", "not_met": "✗", "inconclusive": "?"}


@dataclass(frozen=True)
class Verdict:
    """The judgement of one statistic against one threshold."""

    status: Status
    estimate: Estimate
    threshold: Threshold
    probability: float
    replications_needed: int | None = None

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.status]

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.estimate.ci
        return {"value": _num(self.estimate.mean), "ci": [_num(lo), _num(hi)],
                "confidence": self.estimate.confidence, "status": self.status,
                "probability": _num(self.probability),
                "replications_needed": self.replications_needed}


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def judge(values: np.ndarray, threshold: Threshold, *, confidence: float = 0.95) -> Verdict:
    """Judge per-replication ``values`` against ``threshold``.

    Examples
    --------
    >>> from procsim.model.targets import Threshold
    >>> judge(np.array([28.0, 29.0, 30.0, 29.5]), Threshold("<=", 35.0, "<= 35")).status
    'met'
    >>> judge(np.array([28.0, 36.0, 30.0, 41.0]), Threshold("<=", 35.0, "<= 35")).status
    'inconclusive'
    """
    est = estimate(values, confidence)
    lo, hi = est.ci
    target = threshold.value
    if threshold.lower_is_better:
        status: Status = ("met" if threshold.holds(hi) else
                          "not_met" if not threshold.holds(lo) else "inconclusive")
    else:
        status = ("met" if threshold.holds(lo) else
                  "not_met" if not threshold.holds(hi) else "inconclusive")
    if est.n >= 2 and est.sd > 0:
        se = est.sd / math.sqrt(est.n)
        from scipy.special import stdtr  # = scipy.stats.t.cdf, imported in a third of the time

        below = float(stdtr(est.n - 1, (target - est.mean) / se))
        probability = below if threshold.lower_is_better else 1.0 - below
    else:
        probability = 1.0 if threshold.holds(est.mean) else 0.0
    needed = None
    gap = abs(est.mean - target)
    if status == "inconclusive" and gap > 0 and math.isfinite(est.half_width):
        needed = max(est.n + 1, math.ceil(est.n * (est.half_width / gap) ** 2))
    return Verdict(status, est, threshold, probability, needed)


@dataclass(frozen=True)
class KeyResultSpec:
    """A key result made concrete against a baseline run."""

    objective: str
    kpi: str
    stat: str
    threshold: Threshold
    relative: bool
    text: str
    kind: str = "time"

    def format(self, value: float) -> str:
        """A value of this key result's statistic, in its unit."""
        if self.relative:
            # No "-0.0%": a change that rounds to zero is shown as +0.0%.
            return f"{value:+.1%}" if round(value, 3) != 0 else "+0.0%"
        if self.kind == "share":
            return f"{value:.1%}"
        return f"{value:.4g}"

    def to_dict(self) -> dict[str, Any]:
        return {"kpi": self.kpi, "stat": self.stat, "target": self.text,
                "relative": self.relative}


def kpi_values(result: RunResult, kpi: str, stat: str, model: Model) -> np.ndarray:
    """Per-replication values of ``kpi`` (defined in ``model``, e.g. the baseline) in ``result``."""
    if kpi in model.kpis:
        return result._custom(model.kpis[kpi])
    return result.values(kpi, stat)


def kpi_health(result: RunResult, model: Model, *, confidence: float = 0.95
               ) -> dict[str, Verdict]:
    """The verdict of every KPI of ``model`` that has a ``target`` (its mean) in ``result``.

    ``model`` defines the KPIs and targets (for a comparison: the baseline's).
    """
    out = {}
    for name, spec in model.kpis.items():
        if getattr(spec, "target", None):
            kind = kpi_kind(name, model.kpis) or "time"
            threshold = parse_threshold(spec.target, kind, model.time_unit)
            out[name] = judge(kpi_values(result, name, "mean", model), threshold,
                              confidence=confidence)
    return out


def key_results(model: Model, baseline: RunResult) -> list[KeyResultSpec]:
    """The key results of ``model.okrs``, with directions read from the baseline's values.

    ``to: 45min`` below the baseline's value means "at most 45 min"; above it, "at least".
    """
    out = []
    for okr in model.okrs:
        for kr in okr.key_results:
            kind = kpi_kind(kr.kpi, model.kpis) or "time"
            stat = kr.stat or "mean"
            label = kr.kpi if kr.kpi in model.kpis else f"{kr.kpi} {stat}"
            if kr.change is not None:
                threshold = parse_threshold(kr.change, kind, model.time_unit, relative=True)
                text = f"{label}: change {threshold.text} vs baseline"
                out.append(KeyResultSpec(okr.objective, kr.kpi, stat, threshold, True, text,
                                         kind))
                continue
            target = parse_value(kr.to, kind, model.time_unit)
            start = float(np.mean(kpi_values(baseline, kr.kpi, stat, model)))
            op = "<=" if target < start else ">="
            unit = {"time": f" {SHORT_UNITS[model.time_unit]}",
                    "money": f" {model.currency}".rstrip()}
            shown = f"{target:.0%}" if kind == "share" else f"{target:.4g}{unit.get(kind, '')}"
            threshold = Threshold(op, target, f"{op} {shown}")
            text = f"{label} {op} {shown}"
            out.append(KeyResultSpec(okr.objective, kr.kpi, stat, threshold, False, text, kind))
    return out
