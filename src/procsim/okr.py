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

from procsim.errors import Issue, ModelError, dotted, quote
from procsim.kpi import RunResult
from procsim.model.schema import Model
from procsim.model.targets import (
    OPERATOR_SYMBOLS,
    Threshold,
    format_target,
    kpi_kind,
    kpi_target,
    natural_direction,
    parse_threshold,
    read_key_result,
    working_time,
)
from procsim.stats import Estimate, estimate

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
    """A key result made concrete against a baseline run.

    ``reading`` says how the target was read, e.g. ``"read as ≥ 85%: as written"`` or
    ``"read as ≤ 30 min: lower is better for a time"``; ``direction_source`` is
    ``"stated"`` when the key result gives the direction (an operator in ``to``, or
    ``direction``) and ``"inferred"`` otherwise (from ``from`` and ``to``, the KPI's natural
    direction, or the baseline). ``direction`` is ``"increase"`` (higher is better) or
    ``"decrease"``; ``baseline`` the baseline's value of the statistic.
    """

    objective: str
    kpi: str
    stat: str
    threshold: Threshold
    relative: bool
    text: str
    kind: str = "time"
    reading: str = ""
    direction_source: str = "stated"
    baseline: float = math.nan

    @property
    def direction(self) -> str:
        return "decrease" if self.threshold.lower_is_better else "increase"

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
                "relative": self.relative, "direction": self.direction,
                "direction_source": self.direction_source, "reading": self.reading,
                "baseline": _num(self.baseline)}


def kpi_values(result: RunResult, kpi: str, stat: str, model: Model) -> np.ndarray:
    """Per-replication values of ``kpi`` (defined in ``model``, e.g. the baseline) in ``result``."""
    if kpi in model.kpis:
        return result.custom_values(model.kpis[kpi])
    return result.values(kpi, stat)


def kpi_health(result: RunResult, model: Model, *, confidence: float = 0.95
               ) -> dict[str, Verdict]:
    """The verdict of every KPI of ``model`` that has a ``target`` (its mean) in ``result``.

    ``model`` defines the KPIs and targets (for a comparison: the baseline's).
    """
    out = {}
    for name, spec in model.kpis.items():
        if getattr(spec, "target", None):
            out[name] = judge(kpi_values(result, name, "mean", model), kpi_target(model, name),
                              confidence=confidence)
    return out


def key_results(model: Model, baseline: RunResult) -> list[KeyResultSpec]:
    """The key results of ``model.okrs``, each with its direction read and said.

    The direction of ``to`` is the one the key result states: an operator (``to: ">= 85%"``),
    ``direction: increase`` / ``decrease``, or ``from`` and ``to`` (the sign of the change).
    Without any, it is the KPI's natural direction (:func:`~procsim.model.targets.
    natural_direction`: lower for times and costs, higher for a share within a limit), and
    for a KPI without one (a share of cases visiting an activity), towards the target from
    the baseline's value. A target the baseline already meets in the direction inferred is
    ambiguous (a target to keep, or a misread one?): it is refused, never read the other way.

    Raises
    ------
    ModelError
        Naming the key result's ``to`` (file, line and path), with both readings, when the
        baseline already meets a target whose direction was not stated.
    """
    out = []
    issues: list[Issue] = []
    file = model.okrs_file or model.file
    for i, okr in enumerate(model.okrs):
        for j, kr in enumerate(okr.key_results):
            where = ("okrs", i, "key_results", j)
            kind = kpi_kind(kr.kpi, model.kpis) or "time"
            stat = kr.stat or "mean"
            label = kr.kpi if kr.kpi in model.kpis else f"{kr.kpi} {stat}"
            start = float(np.mean(kpi_values(baseline, kr.kpi, stat, model)))
            if kr.change is not None:
                threshold = parse_threshold(kr.change, kind, model.time_unit, relative=True)
                text = f"{label}: change {threshold.text} vs baseline"
                reading = f"read as a change {_symbol(threshold.text)} vs baseline: as written"
                out.append(KeyResultSpec(okr.objective, kr.kpi, stat, threshold, True, text,
                                         kind, reading, "stated", start))
                continue
            target, problems = read_key_result(kr, kind, model.time_unit,
                                               currency=model.currency,
                                               working=working_time(model, kr.kpi))
            if target is None:  # a model built without its checks
                for field, message in problems:
                    issues.append(_issue(model, file, (*where, field), message))
                continue
            shown = target.shown
            if target.op is not None:
                op, why = target.op, target.why
                source = "stated" if target.how in ("operator", "direction") else "inferred"
            else:
                source = "inferred"
                natural = natural_direction(kr.kpi, model.kpis)
                base = format_target(start, kind, model.time_unit, model.currency)
                if natural is not None:
                    op, why = natural
                    met = Threshold(op, target.value, "").holds(start)
                else:
                    op = "<=" if target.value < start else ">="
                    why = (f"the baseline ({base}) is {'above' if op == '<=' else 'below'} it, "
                           f"and {quote(kr.kpi)} is better neither higher nor lower")
                    met = target.value == start
                if met:
                    issues.append(_issue(model, file, (*where, "to"),
                                         _ambiguous(kr.to, base, shown, op, why)))
                    continue
            threshold = Threshold(op, target.value, f"{op} {shown}")
            reading = f"read as {OPERATOR_SYMBOLS[op]} {shown}: {why}"
            out.append(KeyResultSpec(okr.objective, kr.kpi, stat, threshold, False,
                                     f"{label} {op} {shown}", kind, reading, source, start))
    if issues:
        raise ModelError(issues, file)
    return out


def _symbol(text: str) -> str:
    for op, symbol in sorted(OPERATOR_SYMBOLS.items(), key=lambda item: -len(item[0])):
        if text.startswith(op):
            return symbol + text[len(op):]
    return text


def _issue(model: Model, file: str | None, path: tuple[Any, ...], message: str) -> Issue:
    line, col = model.position(*path) or (None, None)
    return Issue(dotted(path), message, file, line, col)


def _ambiguous(raw: Any, base: str, shown: str, op: str, why: str) -> str:
    """The refusal of a target that the baseline already meets, with both readings."""
    other = {"<=": ">=", ">=": "<=", "<": ">", ">": "<"}[op]
    value = str(raw).strip() if isinstance(raw, str) else f"{raw:g}"
    words = {">": ("increase", "at least"), "<": ("decrease", "at most")}
    meant, against = words[op[0]], words[other[0]]
    return (f"the baseline ({base}) already meets {shown} read as "
            f"'{OPERATOR_SYMBOLS[op]} {shown}' ({why}), and fails it read as "
            f"'{OPERATOR_SYMBOLS[other]} {shown}'; a target met before any change is "
            f"ambiguous: state the direction with to: {quote(f'{op} {value}')} "
            f"({meant[1]}, already met) or to: {quote(f'{other} {value}')} ({against[1]}), "
            f"or direction: {meant[0]} / {against[0]}")
