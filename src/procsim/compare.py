"""Compare improvement scenarios with a baseline on common random numbers.

Every model runs with the same seed, replications and horizon; replication ``r`` of a
scenario is paired with replication ``r`` of the baseline (their random streams are keyed
by source, so unchanged parts of the process draw identical numbers). Differences are
therefore paired t-intervals, far narrower than the difference of two independent runs.
With more than one scenario, every interval and verdict uses the Bonferroni-adjusted level
``1 − 0.05/m`` so that the whole family of scenario comparisons keeps a 95 % guarantee.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from procsim.errors import WrongTypeError
from procsim.kpi import RunResult
from procsim.model.schema import Model
from procsim.okr import KeyResultSpec, Verdict, judge, key_results, kpi_health, kpi_values
from procsim.simulate import (
    RunOptions,
    expect_model,
    precision_targets,
    replications_for_precision,
    simulate,
)
from procsim.stats import Estimate, estimate, paired_difference, replications_needed
from procsim.units import SECONDS_PER, short_unit

#: A verdict's symbol and label in scorecards.
VERDICT_LABELS = {"met": ("✓", "met"), "not_met": ("✗", "not met"),
                  "inconclusive": ("?", "inconclusive")}

__all__ = [
    "VERDICT_LABELS",
    "ComparisonResult",
    "KpiComparison",
    "ScenarioComparison",
    "compare",
    "format_comparison",
    "format_key_result",
    "gap_text",
    "key_result_cell",
    "row_scale",
    "scorecard_data",
    "scorecard_html",
    "settle_text",
]


@dataclass(frozen=True)
class KpiComparison:
    """One KPI statistic, baseline against one scenario."""

    key: str
    label: str
    unit: str
    baseline: Estimate
    scenario: Estimate
    difference: Estimate

    @property
    def relative_change(self) -> float:
        base = self.baseline.mean
        return self.difference.mean / base if base else math.nan

    @property
    def distinguishable(self) -> bool:
        """Does the interval of the paired difference exclude zero (beyond rounding noise)?"""
        lo, hi = self.difference.ci
        return bool(lo > self.noise or hi < -self.noise)

    @property
    def noise(self) -> float:
        """Differences this small are floating-point rounding (sums of the same numbers in
        another order), not a change: a billionth of the KPI's scale."""
        return 1e-9 * max(abs(self.baseline.mean), abs(self.scenario.mean), 0.0)

    def exact(self, value: float) -> float:
        """``value`` (a difference), with rounding noise (:attr:`noise`) made an exact 0."""
        return 0.0 if abs(value) <= self.noise else value

    @property
    def exact_relative_change(self) -> float:
        """The relative change, an exact 0 when the difference is rounding noise."""
        return 0.0 if abs(self.difference.mean) <= self.noise else self.relative_change

    def to_dict(self) -> dict[str, Any]:
        d = self.difference
        return {"mean": _num(self.exact(d.mean)), "ci": [_num(self.exact(v)) for v in d.ci],
                "relative": _num(self.exact_relative_change),
                "distinguishable": self.distinguishable}

    def formatted(self, scale: float | None = None) -> dict[str, str]:
        """The comparison as people read it (see :func:`format_comparison`)."""
        return format_comparison(self, scale)


@dataclass(frozen=True)
class ScenarioComparison:
    """A scenario's results, its KPI differences from the baseline and its verdicts."""

    model: Model
    result: RunResult
    kpis: list[KpiComparison]
    verdicts: list[Verdict]
    health: dict[str, Verdict] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def met(self) -> int:
        return sum(v.status == "met" for v in self.verdicts)


@dataclass(frozen=True)
class ComparisonResult:
    """The outcome of :func:`compare`."""

    baseline: RunResult
    scenarios: list[ScenarioComparison]
    key_results: list[KeyResultSpec]
    baseline_health: dict[str, Verdict]
    confidence: float
    #: With ``replications="auto"``: the precision asked for and the replications of each round.
    precision: float | None = None
    rounds: tuple[int, ...] = ()

    @property
    def adjustment(self) -> str:
        m = len(self.scenarios)
        return f"Bonferroni for {m} scenarios" if m > 1 else "none (one scenario)"

    @property
    def any_not_met(self) -> bool:
        return any(v.status == "not_met" for s in self.scenarios for v in s.verdicts)

    def baseline_key_results(self) -> list[Verdict]:
        """The baseline against each key result: how far today is from the target.

        The verdict of the baseline's own values (at the comparison's confidence level), as
        for a scenario. For a change relative to the baseline, the estimate is the baseline's
        value of the statistic (the reference the change is measured from) and the verdict
        is that of "no change".
        """
        out = []
        model = self.baseline.model
        for kr in self.key_results:
            values = kpi_values(self.baseline, kr.kpi, kr.stat, model)
            verdict = judge(values * 0.0 if kr.relative else values, kr.threshold,
                            confidence=self.confidence)
            if kr.relative:
                verdict = Verdict(verdict.status, estimate(values, self.confidence),
                                  kr.threshold, verdict.probability, None)
            out.append(verdict)
        return out

    # --- the recommendation -------------------------------------------------------------------

    def recommendation(self) -> str:
        """One sentence: which scenario meets the most key results, and at what cost."""
        if not self.scenarios:
            return "No scenario to compare."
        if not self.key_results:
            best = min(self.scenarios, key=lambda s: s.result.kpi("cycle_time").mean)
            return (f"No key results are defined; the shortest mean cycle time is "
                    f"{best.name}'s ({_change(best, 'cycle_time:mean')}), {self._cost(best)}.")
        def attainment(s: ScenarioComparison) -> float:
            return sum(v.probability for v in s.verdicts)

        def cost(s: ScenarioComparison) -> float:
            return s.result.kpi("cost_per_case").mean

        # Most key results met; then the highest total probability of attainment; then cost.
        best = max(self.scenarios, key=lambda s: (s.met, attainment(s), -cost(s)))
        total = len(self.key_results)
        if best.met == 0:
            return f"No scenario meets any of the {total} key results."
        others = [s for s in self.scenarios if s.met == best.met and s is not best]
        tie = ""
        if others:
            why = ("the probability of attaining the rest"
                   if all(attainment(best) > attainment(s) for s in others)
                   else "cost per case" if all(cost(best) < cost(s) for s in others)
                   else "nothing clear")
            tie = f" (as many as {', '.join(s.name for s in others)}; ahead on {why})"
        return (f"{best.name} meets {best.met} of {total} key results{tie}, "
                f"{self._cost(best)}.")

    def _cost(self, s: ScenarioComparison) -> str:
        currency = self.baseline.model.currency or "currency units"
        cost = s.result.kpi("cost_per_case").mean
        staff = _staffing(s.model) - _staffing(self.baseline.model)
        staff_text = f"; staffing {staff:+,.0f} {currency}/h" if staff else ""
        return (f"at {cost:,.2f} {currency} per case ({_change(s, 'cost_per_case:mean')} vs "
                f"baseline{staff_text})")

    # --- output -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The structure of ``procsim compare --json`` (see docs/compare.md)."""
        from procsim.version import __version__

        base = self.baseline
        kpis: dict[str, Any] = {}
        for i, kc in enumerate(self.scenarios[0].kpis if self.scenarios else []):
            entry: dict[str, Any] = {"label": kc.label, "unit": kc.unit,
                                     "baseline": _estimate_dict(kc.baseline)}
            for s in self.scenarios:
                entry[s.name] = _estimate_dict(s.kpis[i].scenario)
            entry["delta"] = {s.name: s.kpis[i].to_dict() for s in self.scenarios}
            kpis[kc.key] = entry
        okrs: list[dict[str, Any]] = []
        today = self.baseline_key_results()
        for j, kr in enumerate(self.key_results):
            if not okrs or okrs[-1]["objective"] != kr.objective:
                okrs.append({"objective": kr.objective, "key_results": []})
            okrs[-1]["key_results"].append({
                **kr.to_dict(),
                "results": {s.name: s.verdicts[j].to_dict() for s in self.scenarios},
                # The baseline's value with its interval and verdict (for a change: its value
                # of the statistic, the reference).
                "baseline_result": today[j].to_dict(),
            })
        return {
            "procsim_version": __version__,
            "baseline": base.model.name,
            "baseline_file": base.model.file,
            "scenarios": [s.name for s in self.scenarios],
            "scenario_files": [s.model.file for s in self.scenarios],
            "changes": {s.name: [c.to_dict() for c in s.model.changes] for s in self.scenarios},
            "seed": base.seed,
            "replications": base.replications,
            "time_unit": base.time_unit,
            "currency": base.model.currency,
            "confidence": self.confidence,
            "adjustment": self.adjustment,
            "precision": self.precision,
            "replication_rounds": list(self.rounds),
            "kpis": kpis,
            "okrs": okrs,
            "health": {
                name: {"target": v.threshold.text, "baseline": v.to_dict(),
                       **{s.name: s.health[name].to_dict() for s in self.scenarios}}
                for name, v in self.baseline_health.items()
            },
            "recommendation": self.recommendation(),
        }

    def _repr_html_(self) -> str:
        """The OKR scorecard and recommendation, as Jupyter shows the result
        (:func:`scorecard_html`)."""
        return scorecard_html(self)

    def rows(self) -> list[dict[str, Any]]:
        """One row per (scenario, KPI statistic): the table of ``procsim compare --csv``."""
        out = []
        for s in self.scenarios:
            for kc in s.kpis:
                lo, hi = (kc.exact(v) for v in kc.difference.ci)
                out.append({
                    "scenario": s.name, "kpi": kc.key, "label": kc.label, "unit": kc.unit,
                    "baseline": kc.baseline.mean, "scenario_value": kc.scenario.mean,
                    "scenario_ci_low": kc.scenario.ci[0], "scenario_ci_high": kc.scenario.ci[1],
                    "difference": kc.exact(kc.difference.mean), "difference_ci_low": lo,
                    "difference_ci_high": hi,
                    "relative_change": kc.exact_relative_change,
                    "distinguishable": kc.distinguishable, "confidence": self.confidence,
                    "baseline_ci_low": kc.baseline.ci[0], "baseline_ci_high": kc.baseline.ci[1],
                })
        return out

    def _scorecard_lines(self, pct: str) -> list[str]:
        """The key results, one block each: the baseline today, then every scenario."""
        currency = self.baseline.model.currency or ""
        unit = self.baseline.time_unit
        today = self.baseline_key_results()
        names = ["baseline (today)", *(s.name for s in self.scenarios)]
        width = min(max(len(n) for n in names), 40) + 2
        lines = ["", f"{'Key results':<{width + 6}}{'value [' + pct + ' CI]':<30}"
                     f"{'verdict':<18}{'P':>5}"]
        objective = None
        for j, kr in enumerate(self.key_results):
            if kr.objective != objective:
                objective = kr.objective
                lines.append(f"  Objective: {objective}")
            lines.append(f"    {kr.text}")
            if kr.reading and kr.direction_source == "inferred":
                # say how a direction that was not stated was read
                lines.append(f"      ({kr.reading})")
            verdicts = [today[j], *(s.verdicts[j] for s in self.scenarios)]
            scale = max((abs(v.estimate.mean) for v in verdicts
                         if math.isfinite(v.estimate.mean)), default=0.0)
            values = []
            for k, v in enumerate(verdicts):
                reference = k == 0 and kr.relative   # the baseline's value, not a change
                values.append(format_key_result(
                    _absolute(kr) if reference else kr, v.estimate.mean, ci=v.estimate.ci,
                    currency=currency, time_unit=unit, scale=None if reference else scale))
            column = max(30, *(len(v) + 2 for v in values))
            if j == 0:
                lines[1] = (f"{'Key results':<{width + 6}}{'value [' + pct + ' CI]':<{column}}"
                            f"{'verdict':<18}{'P':>5}")
            for k, (name, v) in enumerate(zip(names, verdicts, strict=True)):
                baseline = k == 0
                value = values[k]
                if baseline and kr.relative:
                    verdict, p, note = "(reference)", "", ""
                else:
                    verdict = f"{v.symbol} {_STATUS_WORDS[v.status]}"
                    p = f"{v.probability:.0%}"
                    note = (gap_text(kr, v, currency=currency, time_unit=unit) if baseline
                            else settle_text(v, kr, currency=currency, time_unit=unit)
                            if v.status == "inconclusive" else "")
                label = name if len(name) <= width - 2 else name[:width - 3] + "…"
                line = f"      {label:<{width}}{value:<{column}}{verdict:<18}{p:>5}"
                lines.append((line + (f"   {note}" if baseline and note else "")).rstrip())
                if note and not baseline:
                    lines.append(f"      {'':<{width}}{note}")
        lines.append("  ✓ met (the interval on the right side of the target), ✗ not met, "
                     "? inconclusive; P = estimated probability of attainment")
        return lines

    def summary(self) -> str:
        """The terminal report: KPI differences per scenario, the scorecard, the recommendation."""
        base = self.baseline
        pct = f"{self.confidence:.1%}".replace(".0%", "%")
        lines = [
            f"Baseline: {base.model.name} — {base.replications} replications, seed {base.seed}; "
            f"{len(self.scenarios)} scenario(s) on common random numbers; intervals {pct} "
            f"(adjustment: {self.adjustment})",
        ]
        lines.append(f"Warm-up: {min(base.warmup):,}"
                     + (f"–{max(base.warmup):,}" if max(base.warmup) != min(base.warmup) else "")
                     + " cases dropped per replication"
                     + (" (MSER-5)" if base.warmup_setting == "auto" else ""))
        lines += [f"Note: {note}" for note in base.notes]
        if self.precision is not None:
            rounds = " → ".join(str(n) for n in self.rounds)
            reached = ("the KPIs of the key results and targets, and their differences, "
                       "within" if replications_for_comparison(self, self.precision)
                       <= base.replications else "cap reached before the KPIs of the key "
                       "results and targets, and their differences, were within")
            lines.append(f"Replications chosen automatically: {rounds} ({reached} "
                         f"±{self.precision:.0%} of the baseline's value)")
        scales = [row_scale([s.kpis[i] for s in self.scenarios])
                  for i in range(len(self.scenarios[0].kpis) if self.scenarios else 0)]
        for s in self.scenarios:
            lines += ["", f"== {s.name}" + (f"  ({s.model.file})" if s.model.file else "")]
            lines += [f"   {c.describe(arrow='→', width=50)}" for c in s.model.changes]
            width = max([30, *(len(kc.label) + 1 for kc in s.kpis)])
            lines.append(f"{'KPI':<{width}}{'unit':<11}{'baseline':>10}{'scenario':>10}"
                         f" {'difference [' + pct + ' CI]':>32}{'change':>9}")
            for kc, scale in zip(s.kpis, scales, strict=True):
                shown = kc.formatted(scale)
                mark = " *" if kc.distinguishable else ""
                diff = f"{shown['difference']} {shown['difference_ci']}"
                lines.append(
                    f"{kc.label:<{width}}{shown['unit'][:10]:<11}{shown['baseline']:>10}"
                    f"{shown['scenario']:>10} {diff:>32}{shown['relative']:>9}{mark}")
            lines.append("   * the interval of the difference excludes zero; shares in %, "
                         "their differences in percentage points")
        if self.key_results:
            lines += self._scorecard_lines(pct)
        if self.baseline_health:
            lines += ["", "KPI health" + " " * 34 + "  ".join(
                f"{n[:14]:>14}" for n in ["baseline", *(s.name for s in self.scenarios)])]
            for name, v in self.baseline_health.items():
                cells = [_health(v)] + [_health(s.health[name]) for s in self.scenarios]
                lines.append(f"  {name + ' ' + v.threshold.text:<42}"
                             + "  ".join(f"{c:>14}" for c in cells))
        lines += ["", f"Recommendation: {self.recommendation()}"]
        return "\n".join(lines)


_STATUS_WORDS = {"met": "met", "not_met": "not met", "inconclusive": "inconclusive"}


def _absolute(kr: KeyResultSpec) -> KeyResultSpec:
    """The key result's statistic as a value in its own unit (for the baseline of a change)."""
    from dataclasses import replace

    return replace(kr, relative=False)


def _health(v: Verdict) -> str:
    return {"met": "on track", "not_met": "off track", "inconclusive": "unclear"}[v.status]


def _staffing(model: Model) -> float:
    return sum(r.capacity * r.cost_per_hour for r in model.resources.values())


def _change(s: ScenarioComparison, key: str) -> str:
    for kc in s.kpis:
        if kc.key == key:
            # A baseline of 0 (placeholder costs) has no relative change.
            return format_change(kc.relative_change)
    return "n/a"


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _estimate_dict(e: Estimate) -> dict[str, Any]:
    return {"mean": _num(e.mean), "ci": [_num(v) for v in e.ci]}


# --- numbers for people ---------------------------------------------------------------------
#
# Every value of a KPI is shown to the *resolution* of that KPI in the comparison: four
# significant digits of the larger of its values (baseline and scenarios), a tenth of a
# percentage point for shares. A difference below the resolution is shown as 0 (no "-5.3e-16"
# from rounding in sums of equal numbers, no "-0.00"). Times smaller than one of the model's
# time unit are shown in the largest unit in which they are at least 1 (0.004 h → 14.4 s).

#: Beyond this many replications, settling a verdict is not practical (see :func:`settle_text`).
PRACTICAL_REPLICATIONS = 1000


def readable_unit(unit: str, scale: float) -> tuple[str, float]:
    """The unit to show amounts of about ``scale`` (in ``unit``) in, and the factor to it.

    A time unit is kept, unless the amounts are below one of it: then the largest smaller
    unit in which they are at least 1. Other units (a currency, a rate) are kept.

    >>> readable_unit("hours", 0.004), readable_unit("minutes", 72.5)
    (('seconds', 3600.0), ('minutes', 1.0))
    """
    if unit not in SECONDS_PER or not math.isfinite(scale) or scale == 0:
        return unit, 1.0
    seconds = abs(scale) * SECONDS_PER[unit]
    for smaller in ("days", "hours", "minutes", "seconds"):
        if SECONDS_PER[smaller] <= SECONDS_PER[unit] and (
                seconds >= SECONDS_PER[smaller] or smaller == "seconds"):
            return smaller, SECONDS_PER[unit] / SECONDS_PER[smaller]
    return unit, 1.0  # pragma: no cover - "seconds" always returns


def decimals_for(scale: float, digits: int = 4) -> int:
    """Decimals that show ``digits`` significant digits of ``scale`` (none for large ones).

    >>> decimals_for(72.56), decimals_for(0.0123), decimals_for(23380)
    (2, 5, 0)
    """
    if not math.isfinite(scale) or scale == 0:
        return 0
    return max(0, digits - 1 - math.floor(math.log10(abs(scale))))


def format_amount(value: float, decimals: int, *, signed: bool = False) -> str:
    """``value`` with ``decimals`` decimals and thousands separators; what rounds to zero is
    ``0`` (never ``-0.00``); ``signed`` puts ``+`` before positive values.

    >>> format_amount(-5.3e-16, 2, signed=True), format_amount(0.5, 2, signed=True)
    ('0', '+0.50')
    >>> format_amount(1234.5, 1)
    '1,234.5'
    """
    if not math.isfinite(value):
        return "n/a"
    text = f"{value:,.{decimals}f}"
    if float(text.replace(",", "")) == 0:
        return "0"
    return f"+{text}" if signed and value > 0 else text


def format_change(relative: float) -> str:
    """A relative change in percent, ``0.0%`` when it rounds to zero (no ``-0.0%``)."""
    if not math.isfinite(relative):
        return "n/a"
    return "0.0%" if round(relative * 100, 1) == 0 else f"{relative:+.1%}"


def format_comparison(kc: KpiComparison, scale: float | None = None) -> dict[str, str]:
    """A KPI comparison as text: ``unit``, ``baseline``, ``baseline_ci``, ``scenario``,
    ``scenario_ci``, ``difference``, ``difference_ci``, ``difference_unit`` and ``relative``.

    ``scale`` (default: the larger of the baseline's and the scenario's value) sets the unit
    of a time and the resolution; pass the largest value of a row of several scenarios so
    that the row reads in one unit. Shares are shown in percent and their differences in
    percentage points (``pts``).
    """
    values = (kc.baseline.mean, kc.scenario.mean)
    if scale is None:
        scale = max((abs(v) for v in values if math.isfinite(v)), default=0.0)
    if kc.unit == "share":
        unit, factor, decimals, difference_unit = "%", 100.0, 1, "pts"
    else:
        unit, factor = readable_unit(kc.unit, scale)
        unit = short_unit(unit)
        decimals = decimals_for(scale * factor)
        difference_unit = unit

    def amount(v: float, signed: bool = False) -> str:
        return format_amount(v * factor, decimals, signed=signed)

    def interval(e: Estimate, signed: bool = False) -> str:
        return f"[{amount(e.ci[0], signed)}, {amount(e.ci[1], signed)}]"

    difference = kc.difference
    shown_zero = amount(difference.mean) == "0"
    return {
        "unit": unit, "difference_unit": difference_unit,
        "baseline": amount(kc.baseline.mean), "baseline_ci": interval(kc.baseline),
        "scenario": amount(kc.scenario.mean), "scenario_ci": interval(kc.scenario),
        "difference": amount(difference.mean, signed=True),
        "difference_ci": interval(difference, signed=True),
        "relative": "0.0%" if shown_zero else format_change(kc.relative_change),
    }


def row_scale(comparisons: list[KpiComparison]) -> float:
    """The scale of one KPI's row over several scenarios: its largest value."""
    return max((abs(v) for kc in comparisons for v in (kc.baseline.mean, kc.scenario.mean)
                if math.isfinite(v)), default=0.0)


def format_key_result(kr: KeyResultSpec, value: float, *, scale: float | None = None,
                      currency: str = "", time_unit: str = "minutes", signed: bool = False,
                      ci: tuple[float, float] | None = None, digits: int = 4) -> str:
    """A value of a key result's statistic with its unit: ``139.6 min``, ``46.5%``,
    ``+0.0%`` for a change, ``30.16 EUR``; small times in a smaller unit (``14.4 s``).

    With ``ci``, the interval follows the value, the unit comes once at the end:
    ``139.6 [132.0, 147.2] min``. ``scale`` (default: the value) sets the unit of a time and
    the resolution, so that several values can be shown alike; ``digits`` the significant
    digits of the scale that are shown.
    """
    if kr.relative:
        text = kr.format(value)
        return text if ci is None else f"{text} [{kr.format(ci[0])}, {kr.format(ci[1])}]"
    if not math.isfinite(value):
        return "n/a"
    scale = abs(value) if scale is None else scale
    factor, decimals, suffix = 1.0, decimals_for(scale, digits), ""
    if kr.kind == "share":
        factor, decimals, suffix = 100.0, 1, "%"
    elif kr.kind == "time":
        unit, factor = readable_unit(time_unit, scale)
        decimals, suffix = decimals_for(scale * factor, digits), f" {short_unit(unit)}"
    elif kr.kind == "money" and currency:
        suffix = f" {currency}"

    def amount(x: float, signed: bool = signed) -> str:
        text = format_amount(x * factor, decimals, signed=signed)
        return f"{text}%" if kr.kind == "share" else text   # every share with its sign

    text = amount(value)
    if ci is not None:
        text += f" [{amount(ci[0], False)}, {amount(ci[1], False)}]"
    return text if kr.kind == "share" else text + suffix


def key_result_cell(kr: KeyResultSpec, est: Estimate, *, scale: float | None = None,
                    currency: str = "", time_unit: str = "minutes") -> tuple[str, str]:
    """``(value with its unit, "[low, high]")`` of a key result's estimate, for a table cell.

    >>> from procsim.model.targets import Threshold
    >>> kr = KeyResultSpec("o", "cycle_time", "p90", Threshold("<=", 100, "<= 100"), False, "")
    >>> key_result_cell(kr, Estimate(139.6, 5.0, 10, 7.6, 0.95), time_unit="minutes")
    ('139.6 min', '[132.0, 147.2]')
    """
    full = format_key_result(kr, est.mean, ci=est.ci, scale=scale, currency=currency,
                             time_unit=time_unit)
    value, _, rest = full.partition(" [")
    ci, _, suffix = rest.rpartition("]")
    return f"{value}{suffix}", f"[{ci}]"


def settle_text(verdict: Verdict, kr: KeyResultSpec | None = None, *,
                currency: str = "", time_unit: str = "minutes") -> str:
    """What would settle an inconclusive verdict, in words.

    The two-stage estimate of the replications needed grows with 1 / (distance to the
    target)²; above :data:`PRACTICAL_REPLICATIONS` it is said to be impractical: the estimate
    is then closer to the target than the run can resolve, and a gap that small is rarely
    worth resolving.
    """
    needed = verdict.replications_needed
    if not needed:
        return "the estimate sits on the target"
    rounded = _round_up(needed)
    if needed <= PRACTICAL_REPLICATIONS:
        return f"about {rounded:,} replications in all would settle it"
    gap = ""
    if kr is not None:
        distance = abs(verdict.estimate.mean - kr.threshold.value)
        shown = (f"{distance * 100:.2g} points" if kr.relative
                 else format_key_result(kr, distance, currency=currency, time_unit=time_unit,
                                        digits=2))
        gap = f" (it is {shown} away)"
    return (f"would need about {rounded:,} replications, too many to be practical: the "
            f"estimate is too close to the target to tell{gap}; treat it as at the target")


def _round_up(n: int) -> int:
    """``n`` rounded up to two significant digits: 227 → 230, 23,380 → 24,000."""
    if n < 100:
        return n
    step = 10 ** (len(str(n)) - 2)
    return -(-n // step) * step


def gap_text(kr: KeyResultSpec, verdict: Verdict, *, currency: str = "",
             time_unit: str = "minutes") -> str:
    """How far the baseline is from an absolute key result's target, in words."""
    if kr.relative:
        return "the reference for the change"
    value, target = verdict.estimate.mean, kr.threshold.value
    if kr.threshold.holds(value):
        return "meets the target today"
    distance = abs(value - target)
    shown = format_key_result(kr, distance, currency=currency, time_unit=time_unit, digits=3)
    if kr.kind == "share":
        shown = shown.replace("%", " points")
    return f"{shown} {'above' if value > target else 'below'} the target"


#: The standard KPI statistics every comparison shows (``None``: a system KPI, its mean).
STANDARD_COMPARED = (("cycle_time", ("mean", "p90")), ("waiting_time", ("mean",)),
                     ("processing_time", ("mean",)), ("delay_time", ("mean",)),
                     ("cost_per_case", ("mean",)), ("throughput_per_hour", (None,)),
                     ("wip", (None,)))


def _compared_kpis(baseline: RunResult) -> list[tuple[str, str, str, Any]]:
    """(key, label, unit, how) of every KPI statistic that is compared.

    The standard ones (:data:`STANDARD_COMPARED`), then every other standard KPI statistic
    that a key result refers to (``working_cycle_time``, ``idle_cost_per_hour``, a p95, …),
    then every custom KPI (those with a target, and those key results use, among them),
    then the utilisation of every pool.
    """
    from procsim.model.targets import SYSTEM_KPIS

    model = baseline.model
    out: list[tuple[str, str, str, Any]] = []

    def add(kpi: str, stat: str | None) -> None:
        key = f"{kpi}:{stat or 'mean'}"
        if all(key != k for k, *_ in out):
            label = f"{kpi} ({stat})" if stat else kpi
            out.append((key, label, baseline.kpi(kpi).unit, (kpi, stat or "mean")))

    for kpi, stats in STANDARD_COMPARED:
        for stat in stats:
            add(kpi, stat)
    for okr in model.okrs:
        for kr in okr.key_results:
            if kr.kpi not in model.kpis:
                add(kr.kpi, None if kr.kpi in SYSTEM_KPIS else (kr.stat or "mean"))
    for name in model.kpis:
        out.append((name, name, baseline.kpi(name).unit, (name, "mean")))
    for pool in model.resources:
        out.append((f"utilization:{pool}", f"utilisation {pool}", "share", ("pool", pool)))
    return out


def _values(result: RunResult, how: Any, baseline_model: Model) -> np.ndarray:
    if how[0] == "pool":
        if how[1] not in result.model.resources:
            return np.full(result.replications, np.nan)
        return np.array([r.resources[how[1]]["utilization"] for r in result.per_replication])
    return kpi_values(result, how[0], how[1], baseline_model)


def scorecard_data(result: ComparisonResult) -> dict[str, Any]:
    """The OKR scorecard: one row per key result; the baseline today, then every scenario.

    The baseline's cell says how far today is from the target (for a change relative to
    the baseline: its value of the statistic, the reference). Values of a row share one
    unit and resolution (:func:`format_key_result`). Drawn by :func:`scorecard_html`, and
    as a Markdown table by the report.
    """
    currency = result.baseline.model.currency or ""
    unit = result.baseline.time_unit
    today = result.baseline_key_results()
    objectives: list[dict[str, Any]] = []
    for j, kr in enumerate(result.key_results):
        if not objectives or objectives[-1]["objective"] != kr.objective:
            objectives.append({"objective": kr.objective, "rows": []})
        verdicts = [s.verdicts[j] for s in result.scenarios]
        scale = max((abs(v.estimate.mean) for v in [today[j], *verdicts]
                     if math.isfinite(v.estimate.mean)), default=0.0)

        def shown(v: Verdict, kr: Any = kr, scale: float | None = scale) -> tuple[str, str]:
            return key_result_cell(kr, v.estimate, scale=scale, currency=currency,
                                   time_unit=unit)

        cells = []
        for v in verdicts:
            symbol, label = VERDICT_LABELS[v.status]
            value, ci = shown(v)
            cells.append({"status": v.status, "symbol": symbol, "label": label,
                          "value": value, "ci": ci,
                          "probability": f"{v.probability:.0%}",
                          "settle": (settle_text(v, kr, currency=currency, time_unit=unit)
                                     if v.status == "inconclusive" else "")})
        base = today[j]
        if kr.relative:
            value, ci = shown(base, dataclasses.replace(kr, relative=False), None)
            baseline = {"status": "reference", "symbol": "", "label": "reference",
                        "value": value, "ci": ci, "probability": "",
                        "note": "the value the change is measured from"}
        else:
            symbol, label = VERDICT_LABELS[base.status]
            value, ci = shown(base)
            baseline = {"status": base.status, "symbol": symbol, "label": label,
                        "value": value, "ci": ci,
                        "probability": f"{base.probability:.0%}",
                        "note": gap_text(kr, base, currency=currency, time_unit=unit)}
        objectives[-1]["rows"].append({"text": kr.text, "target": kr.threshold.text,
                                       "reading": kr.reading, "baseline": baseline,
                                       "cells": cells})
    return {"scenarios": [s.name for s in result.scenarios], "objectives": objectives,
            "confidence": f"{result.confidence:.1%}".replace(".0%", "%")}


# What the scorecard's cells look like in a notebook; the full report has its own style sheet
# for the same classes (report/templates/report.html.j2).
_SCORECARD_STYLE = """<style>
  .procsim-scorecard .badge { display: inline-block; font-weight: 700; border-radius: 4px; padding: 0 6px; color: #fff; }
  .procsim-scorecard .met .badge { background: #1a7f37; }
  .procsim-scorecard .not_met .badge { background: #b42318; }
  .procsim-scorecard .inconclusive .badge { background: #9a6700; }
  .procsim-scorecard .reference .badge { background: #5f6b73; }
  .procsim-scorecard .ci, .procsim-scorecard .prob, .procsim-scorecard .settle, .procsim-scorecard .reading { color: #5f6b73; font-size: 0.85em; }
  .procsim-scorecard .prob, .procsim-scorecard .settle, .procsim-scorecard .reading { display: block; }
  .procsim-scorecard .reading { font-weight: normal; }
  .procsim-scorecard td.baseline { background: #f5f7f8; }
  .procsim-scorecard td, .procsim-scorecard th { text-align: left; vertical-align: top; }
</style>"""  # noqa: E501 (CSS rules, one per line)


def scorecard_html(result: ComparisonResult, *, standalone: bool = True) -> str:
    """The OKR scorecard (:func:`scorecard_data`) and the recommendation as an HTML fragment,
    every text escaped: what a notebook shows (``standalone``: with its own small style sheet,
    so that verdicts keep their colours in Jupyter) and what the HTML report embeds.

    It lives here, not in ``procsim.report``, because a result draws itself in a notebook
    and compare never imports the report (tests/test_layering.py).
    """
    from html import escape

    out: list[str] = []
    if standalone:
        out += [_SCORECARD_STYLE, '<div class="procsim-scorecard">']
    card = scorecard_data(result) if result.key_results else None
    if card is not None:
        names = card["scenarios"]
        out += ['<table class="scorecard">',
                "  <caption>Key results × the baseline today and every scenario: value of the "
                f"statistic with its {escape(card['confidence'])} interval,\n"
                "    verdict, and P = estimated probability that the key result is attained. "
                "The baseline column says how far today is from the target;\n"
                "    for a change relative to the baseline it shows the baseline's value, the "
                "reference.</caption>",
                "  <thead>",
                '    <tr><th scope="col">Key result</th><th scope="col" class="baseline">'
                "Baseline today</th>"
                + "".join(f'<th scope="col">{escape(n)}</th>' for n in names) + "</tr>",
                "  </thead>", "  <tbody>"]
        for objective in card["objectives"]:
            out.append(f'    <tr class="objective"><th colspan="{len(names) + 2}" '
                       f'scope="rowgroup">Objective: {escape(objective["objective"])}</th></tr>')
            for row in objective["rows"]:
                reading = (f'<span class="reading">{escape(row["reading"])}</span>'
                           if row["reading"] else "")
                b = row["baseline"]
                symbol = f"{escape(b['symbol'])} " if b["symbol"] else ""
                out += ["    <tr>",
                        f'      <th scope="row">{escape(row["text"])}{reading}</th>',
                        f'      <td class="baseline {escape(b["status"])}">',
                        f'        <span class="badge">{symbol}{escape(b["label"])}</span>',
                        f'        <span class="value">{escape(b["value"])}</span> '
                        f'<span class="ci">{escape(b["ci"])}</span>']
                if b["probability"]:
                    out.append(f'        <span class="prob">P = {escape(b["probability"])}</span>')
                if b["note"]:
                    out.append(f'        <span class="settle">{escape(b["note"])}</span>')
                out.append("      </td>")
                for cell in row["cells"]:
                    out += [f'      <td class="verdict {escape(cell["status"])}">',
                            f'        <span class="badge">{escape(cell["symbol"])} '
                            f'{escape(cell["label"])}</span>',
                            f'        <span class="value">{escape(cell["value"])}</span> '
                            f'<span class="ci">{escape(cell["ci"])}</span>',
                            f'        <span class="prob">P = {escape(cell["probability"])}</span>']
                    if cell["settle"]:
                        out.append(f'        <span class="settle">{escape(cell["settle"])}</span>')
                    out.append("      </td>")
                out.append("    </tr>")
        out += ["  </tbody>", "</table>"]
    recommendation = result.recommendation()
    if recommendation:
        out.append('<p class="recommendation"><strong>Recommendation.</strong> '
                   f"{escape(recommendation)}</p>")
    if standalone:
        out.append("</div>")
    return "\n".join(out) + "\n"


def compare(
    baseline: Model,
    scenarios: list[Model],
    *,
    replications: int | str | None = None,
    precision: float | None = None,
    max_replications: int | None = None,
    seed: int | None = None,
    cases: int | None = None,
    duration: float | str | None = None,
    warmup: int | float | str | None = None,
    jobs: int | None = 1,
    allow_unstable: bool = False,
    options: RunOptions | None = None,
) -> ComparisonResult:
    """Run a baseline and scenarios on common random numbers and judge the key results.

    The key results and KPI targets are the baseline's (``baseline.okrs``, ``baseline.kpis``);
    every model runs with the baseline's run settings unless overridden here.

    ``replications``, ``precision`` and ``max_replications`` default to the baseline's
    ``run`` section. With ``replications="auto"`` (the default unless the model fixes a
    number), the comparison starts with ``run.min_replications`` (20) and is rerun with more
    (the two-stage rule n · (half-width / (precision · |value|))²) until the KPIs that the
    key results and KPI targets use (the mean cycle time without any), in every model, and
    every scenario's paired difference from the baseline in them, have an interval
    half-width within ``precision`` of the baseline's value (see
    :func:`replications_for_comparison`), or ``max_replications`` is reached. Each round
    extends the last (replication r is the same in every round; the warm-up is the one the
    first round chose), so no replication runs twice.

    ``options`` (a :class:`~procsim.simulate.RunOptions`, e.g. resolved once by the caller)
    replaces ``replications``, ``precision``, ``max_replications``, ``seed``, ``cases``,
    ``duration``, ``warmup`` and ``jobs``, which must then be left out.

    Examples
    --------
    >>> from procsim import parse_model
    >>> text = '''
    ... procsim: 1
    ... name: Desk
    ... run: {cases: 2000, warmup: 200, replications: 5, seed: 3}
    ... arrivals: {interarrival: {dist: exponential, mean: 5}}
    ... resources: {clerks: {capacity: CAPACITY, cost_per_hour: 30}}
    ... activities: {serve: {resource: clerks, duration: {dist: exponential, mean: 8}}}
    ... flow: {start: serve, serve: end}
    ... okrs:
    ...   - objective: Faster service
    ...     key_results: [{kpi: cycle_time, to: 12min}]
    ... '''
    >>> base = parse_model(text.replace("CAPACITY", "2"))
    >>> more = parse_model(text.replace("CAPACITY", "3").replace("name: Desk", "name: Three"))
    >>> result = compare(base, [more])
    >>> result.scenarios[0].verdicts[0].status
    'met'
    """
    expect_model(baseline, "baseline")
    if isinstance(scenarios, Model) or not isinstance(scenarios, (list, tuple)):
        raise WrongTypeError(f"scenarios: expected a list of Models, got "
                             f"{type(scenarios).__name__}")
    for i, s in enumerate(scenarios):
        expect_model(s, f"scenarios[{i}]")
    # The run settings are the baseline's, resolved once and shared by every model (so that
    # their replications pair up on common random numbers).
    settings = {"seed": seed, "replications": replications, "precision": precision,
                "max_replications": max_replications, "cases": cases, "duration": duration,
                "warmup": warmup}
    options, _ = RunOptions.split(baseline, {
        **{k: v for k, v in settings.items() if v is not None},
        **({"jobs": jobs} if jobs != 1 else {}),
        **({"options": options} if options is not None else {})})
    if options.replications != "auto":
        return _compare_once(baseline, scenarios, options, allow_unstable)
    rounds = []
    cap = options.max_replications
    n = min(options.min_replications, cap)
    previous: ComparisonResult | None = None
    while True:
        result = previous = _compare_once(baseline, scenarios,
                                          options.replace(replications=n), allow_unstable,
                                          previous)
        rounds.append(n)
        needed = replications_for_comparison(result, options.precision)
        if needed <= n or n >= cap:
            return ComparisonResult(result.baseline, result.scenarios, result.key_results,
                                    result.baseline_health, result.confidence,
                                    options.precision, tuple(rounds))
        n = min(needed, cap)


def replications_for_comparison(result: ComparisonResult, precision: float) -> int:
    """Replications that would bring what decides the comparison within ``precision``.

    The two-stage rule (:func:`procsim.stats.replications_needed`) on: every model's estimate
    of the KPIs its key results and KPI targets use (:func:`procsim.simulate.precision_targets`
    of the baseline), and every scenario's paired difference from the baseline in those KPIs,
    whose half-width is wanted within ``precision`` of the *baseline's* value (a difference
    can be zero, so not of itself). A KPI whose value is 0 has no relative precision and is
    left out.
    """
    base = result.baseline
    targets = precision_targets(base.model)
    needed = replications_for_precision(base, targets, precision)
    for s in result.scenarios:
        needed = max(needed, replications_for_precision(s.result, targets, precision))
        for kpi, stat in targets:
            scale = base.estimate(kpi, stat).mean
            b = kpi_values(base, kpi, stat, base.model)
            v = kpi_values(s.result, kpi, stat, base.model)
            delta = paired_difference(b, v, result.confidence)
            if delta.n >= 2 and scale and math.isfinite(scale) and math.isfinite(
                    delta.half_width):
                needed = max(needed, replications_needed(
                    Estimate(scale, delta.sd, delta.n, delta.half_width, delta.confidence),
                    precision))
    return needed


def _compare_once(baseline: Model, scenarios: list[Model], options: RunOptions,
                  allow_unstable: bool, previous: ComparisonResult | None = None,
                  ) -> ComparisonResult:
    """One comparison; with ``previous`` (the last round), each model's replications are
    extended rather than run again."""
    base_result = simulate(baseline, options=options, allow_unstable=allow_unstable,
                           extend=previous.baseline if previous is not None else None)
    m = max(len(scenarios), 1)
    confidence = 1 - 0.05 / m
    krs = key_results(baseline, base_result)
    def health(result: RunResult) -> dict[str, Verdict]:
        return kpi_health(result, baseline, confidence=confidence)

    compared = _compared_kpis(base_result)
    comparisons = []
    for i, scenario in enumerate(scenarios):
        result = simulate(scenario, options=options, allow_unstable=allow_unstable, extend=(
            previous.scenarios[i].result if previous is not None else None))
        kpis = []
        for key, label, unit, how in compared:
            b = _values(base_result, how, baseline)
            s = _values(result, how, baseline)
            kpis.append(KpiComparison(key, label, unit, estimate(b, confidence),
                                      estimate(s, confidence),
                                      paired_difference(b, s, confidence)))
        verdicts = []
        for kr in krs:
            s = kpi_values(result, kr.kpi, kr.stat, baseline)
            if kr.relative:
                b = kpi_values(base_result, kr.kpi, kr.stat, baseline)
                s = s / b - 1.0
            verdicts.append(judge(s, kr.threshold, confidence=confidence))
        comparisons.append(ScenarioComparison(scenario, result, kpis, verdicts, health(result)))
    return ComparisonResult(base_result, comparisons, krs, health(base_result), confidence)
