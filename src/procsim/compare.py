"""Compare improvement scenarios with a baseline on common random numbers.

Every model runs with the same seed, replications and horizon; replication ``r`` of a
scenario is paired with replication ``r`` of the baseline (their random streams are keyed
by source, so unchanged parts of the process draw identical numbers). Differences are
therefore paired t-intervals, far narrower than the difference of two independent runs.
With more than one scenario, every interval and verdict uses the Bonferroni-adjusted level
``1 − 0.05/m`` so that the whole family of scenario comparisons keeps a 95 % guarantee.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from procsim.kpi import RunResult
from procsim.model.schema import Model
from procsim.okr import KeyResultSpec, Verdict, judge, key_results, kpi_health, kpi_values
from procsim.simulate import simulate
from procsim.stats import Estimate, estimate, paired_difference

__all__ = ["ComparisonResult", "KpiComparison", "ScenarioComparison", "compare"]


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
        """Does the interval of the paired difference exclude zero?"""
        lo, hi = self.difference.ci
        return bool(lo > 0 or hi < 0)

    def to_dict(self) -> dict[str, Any]:
        d = self.difference
        return {"mean": _num(d.mean), "ci": [_num(v) for v in d.ci],
                "relative": _num(self.relative_change),
                "distinguishable": self.distinguishable}


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
        from procsim import __version__

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
        for j, kr in enumerate(self.key_results):
            if not okrs or okrs[-1]["objective"] != kr.objective:
                okrs.append({"objective": kr.objective, "key_results": []})
            okrs[-1]["key_results"].append({
                **kr.to_dict(),
                "results": {s.name: s.verdicts[j].to_dict() for s in self.scenarios},
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
        """The OKR scorecard and recommendation, as Jupyter shows the result."""
        from procsim.report.writer import scorecard_html  # only when displayed

        return scorecard_html(self)

    def rows(self) -> list[dict[str, Any]]:
        """One row per (scenario, KPI statistic): the table of ``procsim compare --csv``."""
        out = []
        for s in self.scenarios:
            for kc in s.kpis:
                lo, hi = kc.difference.ci
                out.append({
                    "scenario": s.name, "kpi": kc.key, "label": kc.label, "unit": kc.unit,
                    "baseline": kc.baseline.mean, "scenario_value": kc.scenario.mean,
                    "scenario_ci_low": kc.scenario.ci[0], "scenario_ci_high": kc.scenario.ci[1],
                    "difference": kc.difference.mean, "difference_ci_low": lo,
                    "difference_ci_high": hi, "relative_change": kc.relative_change,
                    "distinguishable": kc.distinguishable, "confidence": self.confidence,
                })
        return out

    def summary(self) -> str:
        """The terminal report: KPI differences per scenario, the scorecard, the recommendation."""
        base = self.baseline
        pct = f"{self.confidence:.1%}".replace(".0%", "%")
        lines = [
            f"Baseline: {base.model.name} — {base.replications} replications, seed {base.seed}; "
            f"{len(self.scenarios)} scenario(s) on common random numbers; intervals {pct} "
            f"(adjustment: {self.adjustment})",
        ]
        if self.precision is not None:
            rounds = " → ".join(str(n) for n in self.rounds)
            reached = ("every KPI within" if _replications_for_precision(self, self.precision)
                       <= base.replications else "cap reached before every KPI was within")
            lines.append(f"Replications chosen automatically: {rounds} ({reached} "
                         f"±{self.precision:.0%} of its mean)")
        for s in self.scenarios:
            lines += ["", f"== {s.name}" + (f"  ({s.model.file})" if s.model.file else "")]
            lines += [f"   {c.describe(arrow='→', width=50)}" for c in s.model.changes]
            lines.append(f"{'KPI':<30}{'baseline':>11}{'scenario':>11}"
                         f" {'difference [' + pct + ' CI]':>32}{'change':>9}")
            for kc in s.kpis:
                lo, hi = kc.difference.ci
                mark = " *" if kc.distinguishable else ""
                rel = kc.relative_change
                rel_text = f"{rel:+.1%}" if math.isfinite(rel) else "n/a"
                diff = f"{kc.difference.mean:+.4g} [{lo:+.4g}, {hi:+.4g}]"
                lines.append(
                    f"{kc.label:<30}{kc.baseline.mean:>11.4g}{kc.scenario.mean:>11.4g}"
                    f" {diff:>32}{rel_text:>9}{mark}")
            lines.append("   * the interval of the difference excludes zero")
        if self.key_results:
            lines += ["", f"{'Key results':<54}" + "  ".join(
                f"{s.name[:24]:>24}" for s in self.scenarios)]
            objective = None
            for j, kr in enumerate(self.key_results):
                if kr.objective != objective:
                    objective = kr.objective
                    lines.append(f"  {objective}")
                cells = []
                for s in self.scenarios:
                    v = s.verdicts[j]
                    cells.append(f"{v.symbol} {kr.format(v.estimate.mean)}  P={v.probability:.0%}"
                                 .rjust(24))
                lines.append(f"    {kr.text[:50]:<50}" + "  ".join(cells))
            pending = [(s.name, kr.text, s.verdicts[j].replications_needed)
                       for s in self.scenarios for j, kr in enumerate(self.key_results)
                       if s.verdicts[j].status == "inconclusive"]
            for name, text, needed in pending:
                more = (f"about {needed} replications in all would settle it" if needed
                        else "the estimate sits on the target")
                lines.append(f"  ? {name}: {text}: inconclusive; {more}")
            lines.append("  ✓ met (interval on the right side of the target), ✗ not met, "
                         "? inconclusive; P = estimated probability of attainment")
        if self.baseline_health:
            lines += ["", "KPI health" + " " * 34 + "  ".join(
                f"{n[:14]:>14}" for n in ["baseline", *(s.name for s in self.scenarios)])]
            for name, v in self.baseline_health.items():
                cells = [_health(v)] + [_health(s.health[name]) for s in self.scenarios]
                lines.append(f"  {name + ' ' + v.threshold.text:<42}"
                             + "  ".join(f"{c:>14}" for c in cells))
        lines += ["", f"Recommendation: {self.recommendation()}"]
        return "\n".join(lines)


def _health(v: Verdict) -> str:
    return {"met": "on track", "not_met": "off track", "inconclusive": "unclear"}[v.status]


def _staffing(model: Model) -> float:
    return sum(r.capacity * r.cost_per_hour for r in model.resources.values())


def _change(s: ScenarioComparison, key: str) -> str:
    for kc in s.kpis:
        if kc.key == key:
            return f"{kc.relative_change:+.1%}"
    return "n/a"


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _estimate_dict(e: Estimate) -> dict[str, Any]:
    return {"mean": _num(e.mean), "ci": [_num(v) for v in e.ci]}


def _compared_kpis(baseline: RunResult) -> list[tuple[str, str, str, Any]]:
    """(key, label, unit, how) of every KPI statistic that is compared."""
    model = baseline.model
    out: list[tuple[str, str, str, Any]] = []
    for kpi, stats in (("cycle_time", ("mean", "p90")), ("waiting_time", ("mean",)),
                       ("processing_time", ("mean",)), ("delay_time", ("mean",)),
                       ("cost_per_case", ("mean",)), ("throughput_per_hour", (None,)),
                       ("wip", (None,))):
        unit = baseline.kpi(kpi).unit
        for stat in stats:
            label = f"{kpi} ({stat})" if stat else kpi
            out.append((f"{kpi}:{stat or 'mean'}", label, unit, (kpi, stat or "mean")))
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


def compare(
    baseline: Model,
    scenarios: list[Model],
    *,
    replications: int | str | None = None,
    precision: float = 0.05,
    max_replications: int = 200,
    seed: int | None = None,
    cases: int | None = None,
    duration: float | str | None = None,
    warmup: int | float | str | None = None,
    jobs: int | None = 1,
    allow_unstable: bool = False,
) -> ComparisonResult:
    """Run a baseline and scenarios on common random numbers and judge the key results.

    The key results and KPI targets are the baseline's (``baseline.okrs``, ``baseline.kpis``);
    every model runs with the baseline's run settings unless overridden here.

    With ``replications="auto"``, the comparison is rerun with more replications (the
    two-stage rule n · (half-width / (precision · |mean|))²) until every compared KPI of every
    model has an interval half-width within ``precision`` of its mean, or
    ``max_replications`` is reached. Replication r is the same in every round, so a larger
    run extends a smaller one.

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
    run = baseline.run
    seed = seed if seed is not None else run.seed
    if seed is None:
        from procsim.rng import draw_seed

        seed = draw_seed()
    settings: dict[str, Any] = {
        "replications": run.replications if replications in (None, "auto") else replications,
        "seed": seed, "warmup": warmup, "jobs": jobs, "allow_unstable": allow_unstable,
    }
    if duration is not None:
        settings["duration"] = duration
    elif cases is not None:
        settings["cases"] = cases
    elif run.duration is not None:
        settings["duration"] = run.duration
    else:
        settings["cases"] = run.cases_or_default
    if warmup is None:
        settings["warmup"] = run.warmup
    if replications != "auto":
        return _compare_once(baseline, scenarios, settings)
    rounds = []
    settings["replications"] = min(int(settings["replications"]), max_replications)
    while True:
        result = _compare_once(baseline, scenarios, settings)
        n = int(settings["replications"])
        rounds.append(n)
        needed = _replications_for_precision(result, precision)
        if needed <= n or n >= max_replications:
            return ComparisonResult(result.baseline, result.scenarios, result.key_results,
                                    result.baseline_health, result.confidence, precision,
                                    tuple(rounds))
        settings["replications"] = min(needed, max_replications)


def _replications_for_precision(result: ComparisonResult, precision: float) -> int:
    """Replications that would bring every compared KPI within ``precision`` (two-stage rule)."""
    from procsim.stats import replications_needed

    needed = 0
    for s in result.scenarios:
        for kc in s.kpis:
            for est in (kc.baseline, kc.scenario):
                if est.n >= 2 and est.mean and math.isfinite(est.half_width):
                    needed = max(needed, replications_needed(est, precision))
    return needed


def _compare_once(baseline: Model, scenarios: list[Model], settings: dict[str, Any]
                  ) -> ComparisonResult:
    base_result = simulate(baseline, **settings)
    m = max(len(scenarios), 1)
    confidence = 1 - 0.05 / m
    krs = key_results(baseline, base_result)
    def health(result: RunResult) -> dict[str, Verdict]:
        return kpi_health(result, baseline, confidence=confidence)

    compared = _compared_kpis(base_result)
    comparisons = []
    for scenario in scenarios:
        result = simulate(scenario, **settings)
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
