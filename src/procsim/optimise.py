"""Goal-seek: the cheapest configuration that meets every key result, and how sure that is.

:func:`optimise` searches a grid of changes (dotted paths as in a scenario file, each with
a list or range of values) for the configuration with the lowest objective (by default the
full cost per case, paid idle staff time included) that meets every key result, KPI target
and budget with an estimated probability of at least ``confidence`` (0.9).

The statistics, in short (docs/optimise.md has the long form, with references):

* **Common random numbers.** Every candidate runs with the same seed: replication ``r`` of
  one candidate draws the same arrivals, durations and routes as replication ``r`` of every
  other, so candidates differ by their changes, not by luck, and paired differences are
  narrow (as in :mod:`procsim.compare` and :mod:`procsim.sweep`).
* **Nothing simulated that need not be.** Candidates whose offered load reaches a pool's
  capacity are skipped with the reason (no steady state), as are candidates over a budget
  on the staff cost per hour. With capacities alone, a candidate with fewer servers in
  every pool than one that clearly misses a key result on a time (a wait, a cycle time)
  misses it too, and is skipped as *implied infeasible* (and the other way round for a cost).
* **Sequential replications.** Each simulated candidate starts with ``initial_replications``
  (10) and gets more only while its verdict is close: a candidate is *feasible* once every
  constraint's probability of attainment (Student-t, as :func:`procsim.okr.judge` computes
  it) is at least ``confidence``, *infeasible* as soon as one constraint's is at most
  ``1 − screen`` (0.01), and otherwise gets replications by the two-stage rule, at most
  ``max_replications``. In an exhaustive search a candidate whose objective is clearly
  (one-sided ``screen``, paired) above that of the best feasible one is dropped as
  *dominated* (a sequential elimination in the spirit of Kim & Nelson's KN procedure).
* **Search.** Capacities alone with the cost per case as objective: candidates are visited
  cheapest first by their staff cost per hour, which orders the full cost per case (same
  arrivals, same work, so the cost per case is the staff cost over the throughput plus the
  cost of the work); the first feasible one is the answer. Otherwise every stable candidate
  within budget is screened (``search="exhaustive"``), up to 400 of them; beyond that,
  optuna's TPE sampler proposes candidates through its ask/tell interface
  (``search="sampled"``, the optional extra ``procsim[optimise]``), each one judged by the
  same sequential replications on the same common random numbers, and told a penalised
  objective; a neighbourhood search from the best feasible one follows, and the candidates
  found feasible are then screened against each other as in the exhaustive search. It finds
  the best of what it simulated, with no guarantee that nothing better was left unsampled.
* **Re-check.** The chosen configuration (and the baseline, for key results relative to
  it) is run again with fresh replications on another seed: the verdicts reported are those
  of the re-check, free of the selection bias of picking the best-looking candidate.

Ctrl-C during the search returns what is known so far, marked ``partial``.
"""

from __future__ import annotations

import itertools
import math
import numbers
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from procsim.errors import OptimiseError, close_match_hint, quote
from procsim.kpi import RunResult
from procsim.model.scenario import apply_changes, with_okrs
from procsim.model.schema import Model
from procsim.model.targets import (
    CASE_KPIS,
    SYSTEM_KPIS,
    Threshold,
    kpi_kind,
    kpi_target,
    parse_threshold,
)
from procsim.okr import SYMBOLS, KeyResultSpec, judge, key_results, kpi_values
from procsim.rng import draw_seed, stream_key
from procsim.simulate import Progress, RunOptions, expect_model, running, simulate
from procsim.stats import Estimate, estimate, paired_difference
from procsim.sweep import parse_values, unstable_reason

__all__ = ["Candidate", "Constraint", "ConstraintCheck", "OptimiseResult", "optimise",
           "parse_budget", "parse_values", "staffing_cost_per_hour"]

#: The deterministic budget quantity: Σ capacity × cost_per_hour of every pool.
STAFFING = "staffing_cost_per_hour"
_STAFFING_ALIASES = {"staffing_cost_per_hour", "staff_cost_per_hour", "staff_cost",
                     "staffing_cost"}
#: How each standard KPI moves when a pool gets more servers (−1 down, +1 up, 0 not at all or
#: not known): waits shrink, paid idle time grows.
_CAPACITY_TREND = {"cycle_time": -1, "waiting_time": -1, "working_cycle_time": -1, "wip": -1,
                   "cost_per_case": +1, "idle_cost_per_hour": +1, "cost_per_case_with_idle": +1}
#: Grids larger than this are refused for exhaustive search (narrow the ranges, or vary
#: capacities alone, which is searched cheapest first).
MAX_EXHAUSTIVE = 400
#: Two feasible candidates whose objectives are known to within this share of the best's
#: are not told apart further (the indifference zone of ranking and selection): both stay
#: feasible, the lower mean is recommended, the other is a runner-up.
INDIFFERENCE = 0.01
#: Candidates visited by the cheapest-first search before it gives up.
MAX_VISITED = 2000
#: Trials of the sampled search (optuna's TPE) by default, and how many trials in a row may
#: bring no better feasible candidate before it stops.
DEFAULT_TRIALS = 60
DEFAULT_PATIENCE = 20
#: The sampled search's neighbourhood search steps diagonally (3^d − 1 neighbours) up to
#: this many axes, and along one axis at a time (2d neighbours) beyond.
MAX_DIAGONAL_AXES = 4
#: A trial's penalty when it is not feasible is this many times the reference run's
#: objective (times one plus the shortfall), so that every infeasible candidate looks worse
#: to the sampler than any feasible one.
PENALTY = 10.0

Status = Literal["feasible", "infeasible", "undecided", "dominated", "unstable", "over_budget",
                 "implied_infeasible", "not_evaluated"]


def staffing_cost_per_hour(model: Model) -> float:
    """Σ capacity × cost_per_hour over the pools of ``model``: paid whether busy or idle."""
    return float(sum(p.capacity * p.cost_per_hour for p in model.resources.values()))


# --- what must be met -----------------------------------------------------------------------


@dataclass(frozen=True)
class Constraint:
    """One thing the configuration must meet: a key result, a KPI target or a budget.

    ``trend`` says how meeting it moves when pools get more servers: +1 easier (a wait), −1
    harder (a cost), 0 unknown; only capacities are pruned by it.
    """

    text: str
    source: Literal["key result", "KPI target", "budget"]
    kpi: str
    stat: str
    threshold: Threshold
    relative: bool = False
    kind: str = "time"
    trend: int = 0

    def values(self, result: RunResult, baseline: RunResult | None, model: Model) -> np.ndarray:
        """Per-replication values (for a change relative to the baseline: the paired ratios − 1)."""
        v = kpi_values(result, self.kpi, self.stat, model)
        if not self.relative:
            return v
        assert baseline is not None
        n = len(v)
        return v / kpi_values(baseline, self.kpi, self.stat, model)[:n] - 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "source": self.source, "kpi": self.kpi, "stat": self.stat,
                "target": self.threshold.text, "relative": self.relative}


def _trend(kpi: str, model: Model) -> int:
    """+1/−1/0: how the KPI moves with more servers (see ``_CAPACITY_TREND``)."""
    if kpi in _CAPACITY_TREND:
        return _CAPACITY_TREND[kpi]
    spec = model.kpis.get(kpi)
    of = getattr(spec, "of", None)
    if of is not None:
        return _CAPACITY_TREND.get(of, 0)
    share = getattr(spec, "share", None)
    if share is not None and _CAPACITY_TREND.get(share) == -1:
        # the share of cases within a time limit grows, the share over it shrinks
        return +1 if getattr(spec, "within", None) is not None else -1
    return 0


def _constraint(text: str, source: Any, kpi: str, stat: str, threshold: Threshold,
                relative: bool, model: Model) -> Constraint:
    kind = kpi_kind(kpi, model.kpis) or "time"
    moves = _trend(kpi, model)
    trend = -moves if threshold.lower_is_better else moves
    return Constraint(text, source, kpi, stat, threshold, relative, kind, trend)


def parse_budget(text: str, model: Model) -> tuple[str, Threshold]:
    """A budget such as ``"staffing_cost_per_hour <= 400"`` or ``"cost_per_case <= 45"``.

    The name is ``staffing_cost_per_hour`` (also written ``staff cost per hour``: Σ capacity
    × cost_per_hour, known without simulating) or a KPI of the model (its mean).

    Raises
    ------
    OptimiseError
        When the text is not ``NAME OP VALUE`` or names no KPI.
    """
    m = re.fullmatch(r"\s*(.+?)\s*(<=|>=|<|>)\s*(.+?)\s*", str(text))
    if not m:
        raise OptimiseError(f"budget {quote(text)}: expected NAME OP VALUE, e.g. "
                            "'staffing_cost_per_hour <= 400'")
    name = re.sub(r"[\s-]+", "_", m.group(1).strip().lower())
    if name in _STAFFING_ALIASES:
        name, kind = STAFFING, "money"
    else:
        found = kpi_kind(name, model.kpis)
        if found is None:
            names = [STAFFING, *CASE_KPIS, *SYSTEM_KPIS, *model.kpis]
            raise OptimiseError(f"budget {quote(text)}: unknown KPI {quote(m.group(1))}"
                                f"{close_match_hint(name, names)}; expected "
                                f"{STAFFING} or a KPI of the model")
        kind = found
    try:
        threshold = parse_threshold(f"{m.group(2)} {m.group(3)}", kind, model.time_unit)
    except ValueError as exc:
        raise OptimiseError(f"budget {quote(text)}: {exc}") from None
    return name, threshold


# --- candidates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ConstraintCheck:
    """A constraint judged on a candidate's replications: the estimate and the probability
    that the true value attains the target (Student-t, as :func:`procsim.okr.judge`)."""

    constraint: Constraint
    estimate: Estimate
    probability: float
    status: Literal["met", "not_met", "inconclusive"]

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.status]

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.estimate.ci
        return {"constraint": self.constraint.text, "value": _num(self.estimate.mean),
                "ci": [_num(lo), _num(hi)], "confidence": self.estimate.confidence,
                "probability": _num(self.probability), "status": self.status}


@dataclass(frozen=True)
class Candidate:
    """One configuration of the grid: its changes, what became of it, and its estimates.

    ``status`` is ``feasible`` (every constraint attained with probability ≥ the level),
    ``infeasible`` (one clearly missed), ``undecided`` (too close to tell within
    ``max_replications``), ``dominated`` (clearly costlier than a feasible one), or, without
    simulating, ``unstable``, ``over_budget``, ``implied_infeasible`` or ``not_evaluated``.
    """

    changes: tuple[tuple[str, float], ...]
    status: Status
    reason: str = ""
    replications: int = 0
    objective: Estimate | None = None
    checks: tuple[ConstraintCheck, ...] = ()
    staffing_cost_per_hour: float = math.nan

    @property
    def values(self) -> dict[str, float]:
        return dict(self.changes)

    def describe(self) -> str:
        return ", ".join(f"{path} = {value:g}" for path, value in self.changes)

    @property
    def min_probability(self) -> float:
        return min((c.probability for c in self.checks), default=math.nan)

    def to_dict(self) -> dict[str, Any]:
        return {"changes": dict(self.changes), "status": self.status, "reason": self.reason,
                "replications": self.replications,
                "objective": None if self.objective is None else _estimate_dict(self.objective),
                "staffing_cost_per_hour": _num(self.staffing_cost_per_hour),
                "checks": [c.to_dict() for c in self.checks]}


def _estimate_dict(e: Estimate) -> dict[str, Any]:
    lo, hi = e.ci
    return {"mean": _num(e.mean), "ci": [_num(lo), _num(hi)], "confidence": e.confidence,
            "n": e.n}


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


# --- the result -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OptimiseResult:
    """The outcome of :func:`optimise`.

    Attributes
    ----------
    model : Model
        The base model (with the key results and targets used).
    paths : tuple of str
        The varied dotted paths.
    objective : str
        The KPI minimised (its mean).
    confidence : float
        The probability of attainment required of every constraint.
    constraints : tuple of Constraint
        Key results, KPI targets and budgets.
    candidates : tuple of Candidate
        Every configuration of the grid, with its status.
    best : Candidate or None
        The recommended configuration (``None`` when no candidate was found feasible).
    recheck : tuple of ConstraintCheck
        The best's constraints judged on fresh replications (seed ``recheck_seed``): the
        verdicts to report, free of selection bias. Empty when interrupted or none found.
    runner_ups : tuple of Candidate
        The next feasible candidates by objective.
    search : str
        ``"cheapest-first"``, ``"exhaustive"`` or ``"sampled"`` (optuna's TPE sampler).
    seed, recheck_seed : int
        The search's seed (shared by every candidate) and the re-check's.
    simulations : int
        Runs of a model (a candidate, the baseline, the re-check), however many replications each.
    replications : int
        Replications spent in all (search, baseline and re-check).
    recheck_replications : int
        Of which the re-check (the best and, for relative key results, the baseline).
    partial : bool
        Interrupted (Ctrl-C): what was known when it stopped, not re-checked.
    notes : tuple of str
        What the reader should know (interruptions, the sampled search's limits).
    objective_unit : str
        The objective's unit (``currency`` for a cost).
    trials : int
        The sampled search's trials (candidates proposed by the sampler, repeats and
        unstable ones included; 0 for the other searches).
    screen : float
        The screening level: a candidate was dropped when a requirement's probability fell
        to ``1 - screen`` or less.
    """

    model: Model
    paths: tuple[str, ...]
    objective: str
    confidence: float
    constraints: tuple[Constraint, ...]
    candidates: tuple[Candidate, ...]
    best: Candidate | None
    recheck: tuple[ConstraintCheck, ...]
    runner_ups: tuple[Candidate, ...]
    search: str
    seed: int
    recheck_seed: int
    simulations: int
    replications: int
    recheck_replications: int
    partial: bool = False
    notes: tuple[str, ...] = ()
    objective_unit: str = ""
    trials: int = 0
    screen: float = 0.99

    @property
    def confirmed(self) -> bool:
        """Does the re-check meet every constraint with probability ≥ :attr:`confidence`?"""
        return bool(self.recheck) and all(c.probability >= self.confidence for c in self.recheck)

    @property
    def simulated(self) -> list[Candidate]:
        return [c for c in self.candidates if c.replications > 0]

    @property
    def final_replications(self) -> int:
        """The replications the recommendation was finally judged on: the re-check's (or,
        without one, the best's in the search; 0 without a best)."""
        if self.recheck:
            return self.recheck[0].estimate.n
        return self.best.replications if self.best is not None else 0

    @property
    def exhaustive_replications(self) -> int:
        """What evaluating every stable candidate within budget with
        :attr:`final_replications` would have cost."""
        stable = sum(c.status not in ("unstable", "over_budget") for c in self.candidates)
        return stable * self.final_replications

    def pareto_front(self, kpi: str | None = None) -> list[Candidate]:
        """Simulated candidates that no other beats on both the objective and ``kpi``.

        ``kpi`` is a constraint's text or KPI name (default: the first constraint that is
        not the objective); lower objective is better, and the KPI is better in the
        constraint's direction. Sorted by objective.
        """
        index = self.pareto_index(kpi)
        if index is None:
            return []
        sign = 1.0 if self.constraints[index].threshold.lower_is_better else -1.0
        points = [(c, c.objective.mean, sign * c.checks[index].estimate.mean)
                  for c in self.simulated
                  if c.objective is not None and len(c.checks) > index]
        front = [c for c, x, y in points
                 if not any((x2 <= x and y2 <= y) and (x2 < x or y2 < y)
                            for _, x2, y2 in points)]
        return sorted(front, key=lambda c: c.objective.mean if c.objective else math.inf)

    def pareto_index(self, kpi: str | None = None) -> int | None:
        """The index in :attr:`constraints` of the KPI of :meth:`pareto_front` (see there)."""
        for i, con in enumerate(self.constraints):
            if con.source == "budget" and con.kpi == STAFFING:
                continue
            if kpi is None and con.kpi != self.objective:
                return i
            if kpi is not None and kpi in (con.text, con.kpi):
                return i
        return None

    def scenario(self, *, base: str | None = None, name: str | None = None) -> dict[str, Any]:
        """The recommended configuration as scenario data (``base:`` + ``changes:``).

        ``base`` is the path written as the base (default: the model's file; a model that
        is itself a scenario keeps its own base and changes, ours applied after them).

        Raises
        ------
        OptimiseError
            When there is no recommendation, or no file to name as the base.
        """
        if self.best is None:
            raise OptimiseError("no configuration was found that meets every constraint: "
                                "there is no scenario to write")
        changes: dict[str, Any] = {}
        source = self.model.base_file or self.model.file
        if self.model.base_file:
            for change in self.model.changes:
                if change.kind != "remove":
                    changes[change.path] = change.after
                else:
                    changes[change.path] = None
        if base is None:
            if source is None:
                raise OptimiseError("the model has no file to name as the scenario's base; "
                                    "pass base=")
            base = source
        for path, value in self.best.changes:
            changes.pop(path, None)
            changes[path] = value
        verdict = ("meets every constraint with probability ≥ "
                   f"{self.confidence:.0%} on re-check" if self.confirmed else
                   "NOT confirmed by the re-check" if self.recheck else "not re-checked")
        return {
            "procsim": 1,
            "name": name or f"{self.model.name} (optimised)",
            "description": (f"The cheapest {self.objective} found by procsim optimise (seed "
                            f"{self.seed}): {self.best.describe()}; {verdict}."),
            "base": base,
            "changes": changes,
        }

    def scenario_yaml(self, path: str | os.PathLike[str], *, name: str | None = None) -> str:
        """:meth:`scenario` as the YAML text of a file to be written at ``path``: its
        ``base:`` relative to the folder of ``path``, as scenario files read it."""
        import yaml

        source = self.model.base_file or self.model.file
        if source is None:
            raise OptimiseError("the model has no file to name as the scenario's base")
        folder = os.path.dirname(os.path.abspath(os.fspath(path)))
        base = os.path.relpath(os.path.abspath(source), folder)
        data = self.scenario(base=base, name=name)
        return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100))

    # --- output -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        from procsim.version import __version__

        front = self.pareto_front()
        index = self.pareto_index(None)
        return {
            "procsim_version": __version__,
            "model": self.model.name,
            "model_file": self.model.file,
            "paths": list(self.paths),
            "objective": self.objective,
            "confidence": self.confidence,
            "search": self.search,
            "trials": self.trials,
            "screen": self.screen,
            "seed": self.seed,
            "recheck_seed": self.recheck_seed,
            "partial": self.partial,
            "constraints": [c.to_dict() for c in self.constraints],
            "best": None if self.best is None else self.best.to_dict(),
            "recheck": [c.to_dict() for c in self.recheck],
            "confirmed": self.confirmed,
            "runner_ups": [c.to_dict() for c in self.runner_ups],
            "pareto_front": {"kpi": None if index is None else self.constraints[index].text,
                             "candidates": [dict(c.changes) for c in front]},
            "simulations": self.simulations,
            "replications": self.replications,
            "recheck_replications": self.recheck_replications,
            "final_replications": self.final_replications,
            "exhaustive_replications": self.exhaustive_replications,
            "candidates": [c.to_dict() for c in self.candidates],
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        """The terminal report: the recommendation with its re-checked verdicts, the
        runner-ups, the Pareto front and what the search spent."""
        counts: dict[str, int] = {}
        for c in self.candidates:
            counts[c.status] = counts.get(c.status, 0) + 1
        level = f"{self.confidence:.0%}"
        lines = [f"{self.model.name}: the lowest mean {self.objective} meeting "
                 f"{len(self.constraints)} constraint(s) with probability ≥ {level} "
                 f"({self.search} search, seed {self.seed}, common random numbers)",
                 "  varied: " + "; ".join(
                     f"{p} ∈ {_span([c.values[p] for c in self.candidates])}"
                     for p in self.paths) + f" — {len(self.candidates)} candidates",
                 "  " + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(
                     counts.items(), key=lambda kv: _ORDER.index(kv[0])))]
        if self.search == "sampled":
            stable = sum(c.status not in ("unstable", "over_budget") for c in self.candidates)
            lines.append(f"  sampled search (optuna TPE): {len(self.simulated)} of {stable} "
                         f"stable candidates simulated in {self.trials} trials")
        spent = (f"  {self.replications:,} replications in {self.simulations} runs "
                 f"(re-check {self.recheck_replications:,})")
        if self.exhaustive_replications:
            share = self.replications / self.exhaustive_replications
            spent += (f"; every stable candidate at {self.final_replications} replications "
                      f"would take {self.exhaustive_replications:,} ({share:.0%})")
        lines.append(spent)
        if self.partial:
            lines.append("  INTERRUPTED: the best found so far, not re-checked")
        lines.append("")
        if self.best is None:
            lines.append("No candidate was found to meet every constraint with probability ≥ "
                         f"{level}.")
            close = sorted((c for c in self.simulated if c.checks),
                           key=lambda c: -c.min_probability)[:3]
            for c in close:
                lines.append(f"  closest: {c.describe()} ({c.status}; lowest P "
                             f"{c.min_probability:.0%})")
        else:
            best = self.best
            obj = best.objective
            lines.append(f"Recommended: {best.describe()}")
            if obj is not None:
                lo, hi = obj.ci
                currency = self.model.currency or ""
                unit = (currency if self.objective_unit == "currency"
                        else self.objective_unit)
                lines.append(f"  {self.objective} {obj.mean:.4g} [{lo:.4g}, {hi:.4g}] "
                             f"{unit}".rstrip() + f"; staff {best.staffing_cost_per_hour:,.4g} "
                             f"{currency} per hour".replace("  ", " "))
            if self.recheck:
                n = self.recheck[0].estimate.n
                lines.append(f"  re-checked on {n} fresh replications (seed {self.recheck_seed}):")
                width = max(len(c.constraint.text) for c in self.recheck) + 2
                for check in self.recheck:
                    lo, hi = check.estimate.ci
                    fmt = (_percent if check.constraint.relative or check.constraint.kind
                           == "share" else _general)
                    value = fmt(check.estimate.mean, check.constraint.relative)
                    lines.append(f"    {check.constraint.text:<{width}}{value:>10} "
                                 f"[{fmt(lo, False)}, {fmt(hi, False)}]  {check.symbol} "
                                 f"{check.status.replace('_', ' ')}  P {check.probability:.0%}")
                lines.append("  " + ("confirmed: every constraint attained with probability "
                                     f"≥ {level} on fresh replications" if self.confirmed else
                                     "NOT confirmed: on fresh replications a constraint's "
                                     f"probability is below {level}; treat it as borderline"))
            for c in self.runner_ups:
                text = f"  runner-up: {c.describe()}"
                if c.objective is not None:
                    text += f" ({self.objective} {c.objective.mean:.4g})"
                lines.append(text)
        front = self.pareto_front()
        index = self.pareto_index(None)
        if front and index is not None:
            con = self.constraints[index]
            lines += ["", f"Pareto front ({self.objective} against {con.kpi} {con.stat}, "
                          "simulated candidates):"]
            labels = [_describe(self.paths, [v for _, v in c.changes]) for c in front]
            width = max(len(label) for label in labels) + 2
            for label, c in zip(labels, front, strict=True):
                assert c.objective is not None
                mark = "  ← recommended" if c is self.best else ""
                lines.append(f"  {label:<{width}}{self.objective} {c.objective.mean:>8.4g}"
                             f"   {con.kpi} {c.checks[index].estimate.mean:>8.4g}{mark}")
        for note in self.notes:
            lines.append(f"note: {note}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.summary())}</pre>"


def _percent(x: float, signed: bool) -> str:
    return f"{x:+.1%}" if signed else f"{x:.1%}"


def _general(x: float, signed: bool) -> str:
    return f"{x:+.4g}" if signed else f"{x:.4g}"


_ORDER = ["feasible", "infeasible", "undecided", "dominated", "implied_infeasible", "unstable",
          "over_budget", "not_evaluated"]


def _span(values: Sequence[float]) -> str:
    distinct = sorted(set(values))
    if len(distinct) > 4 and all(isinstance(v, int) for v in distinct) and (
            distinct[-1] - distinct[0] == len(distinct) - 1):
        return f"{{{distinct[0]}..{distinct[-1]}}}"
    return "{" + ", ".join(f"{v:g}" for v in distinct) + "}"


# --- the search -----------------------------------------------------------------------------


class _State:
    """The runs so far: each candidate's result (extended as it gets replications)."""

    def __init__(self, options: RunOptions, model: Model, constraints: list[Constraint],
                 objective: str, confidence: float, screen: float) -> None:
        self.options = options
        self.model = model
        self.constraints = constraints
        self.objective = objective
        self.confidence = confidence
        self.screen = screen
        self.results: dict[int, RunResult] = {}
        self.baseline: RunResult | None = None
        self.simulations = 0
        self.replications = 0
        self.needs_baseline = any(c.relative for c in constraints)
        self.trials = 0   # the sampled search's, so far

    def run(self, model: Model, n: int, previous: RunResult | None, seed: int) -> RunResult:
        done = previous.replications if previous is not None else 0
        result = simulate(model, options=self.options.replace(seed=seed, replications=n),
                          extend=previous)
        self.simulations += 1
        self.replications += n - done
        return result

    def extend(self, key: int, model: Model, n: int) -> RunResult:
        previous = self.results.get(key)
        if previous is not None and previous.replications >= n:
            return previous
        if self.needs_baseline and (self.baseline is None or self.baseline.replications < n):
            self.baseline = self.run(self.model, n, self.baseline, self.options.seed)
        self.results[key] = self.run(model, n, previous, self.options.seed)
        return self.results[key]

    def checks(self, result: RunResult, baseline: RunResult | None = None
               ) -> list[tuple[ConstraintCheck, int | None]]:
        """Every constraint judged; with each, the replications that would settle it."""
        out = []
        level = 2 * self.confidence - 1   # two-sided level whose upper end is the one-sided
        for con in self.constraints:
            values = con.values(result, baseline if baseline is not None else self.baseline,
                                self.model)
            verdict = judge(values, con.threshold, confidence=level)
            out.append((ConstraintCheck(con, verdict.estimate, verdict.probability,
                                        verdict.status), verdict.replications_needed))
        return out

    def objective_values(self, result: RunResult) -> np.ndarray:
        return kpi_values(result, self.objective, "mean", self.model)


def optimise(
    model: Model,
    okrs: str | os.PathLike[str] | None = None,
    *,
    vary: Mapping[str, Iterable[float] | str],
    seed: int | None = None,
    confidence: float = 0.9,
    objective: str = "cost_per_case",
    budget: Sequence[str] = (),
    search: Literal["auto", "cheapest-first", "exhaustive", "sampled"] = "auto",
    trials: int = DEFAULT_TRIALS,
    patience: int = DEFAULT_PATIENCE,
    initial_replications: int = 10,
    max_replications: int = 100,
    screen: float = 0.99,
    runner_ups: int = 2,
    cases: int | None = None,
    duration: float | str | None = None,
    warmup: int | float | str | None = None,
    jobs: int | None = 1,
    progress: Progress | None = None,
) -> OptimiseResult:
    """Find the configuration with the lowest mean ``objective`` that meets every key result,
    KPI target and budget with probability at least ``confidence``.

    Parameters
    ----------
    model : Model
        The base model; its key results and KPI targets are the constraints.
    okrs : path, optional
        A separate file of ``kpis:`` and ``okrs:`` (as ``procsim compare --okrs``), added to
        the model's.
    vary : mapping of dotted path to values
        What may change, e.g. ``{"resources.agents.capacity": range(4, 10)}``; values are a
        sequence of numbers or a text as :func:`parse_values` reads (``"4..9"``). Several
        paths give a grid (every combination).
    seed : int, optional
        The search's seed, shared by every candidate (default: the model's, else drawn).
    confidence : float
        The probability of attainment each constraint must reach (default 0.9).
    objective : str
        The KPI whose mean is minimised: ``cost_per_case`` (the full cost, paid idle staff
        time included) by default.
    budget : sequence of str
        Further constraints, e.g. ``"staffing_cost_per_hour <= 400"`` (known without
        simulating) or ``"cost_per_case <= 45"`` (see :func:`parse_budget`).
    search : {"auto", "cheapest-first", "exhaustive", "sampled"}
        ``auto``: cheapest first when only capacities vary, the objective is the cost per
        case and no pool has a calendar or named people (whose paid time the staff cost per
        hour would not order exactly), else exhaustive up to 400 stable candidates, else
        sampled: candidates proposed by optuna's TPE sampler (needs the optional extra
        ``procsim[optimise]``; the best of the candidates simulated, not guaranteed the
        best of the grid).
    trials : int
        The sampled search's budget: candidates proposed (60); a repeat is answered
        without simulating, an unstable candidate is skipped.
    patience : int
        The sampled search stops after this many trials in a row without a better feasible
        candidate, once one is known (20).
    initial_replications, max_replications : int
        Replications of a candidate when it is first simulated, and at most.
    screen : float
        Confidence with which a candidate is dropped early as infeasible or dominated (0.99).
    runner_ups : int
        Feasible candidates to find beyond the best (cheapest-first search).
    cases, duration, warmup : optional
        The run length and warm-up of every candidate (default: the model's ``run``; a
        warm-up of ``auto`` is chosen once, on the base model, and kept for every candidate).
    jobs : int, optional
        Worker processes; results do not depend on it.
    progress : callable, optional
        ``progress(done, total)``, called by each run for its own replications (as
        :func:`procsim.simulate.running` passes it on).

    Returns
    -------
    OptimiseResult

    Raises
    ------
    OptimiseError
        For an unknown objective, values that are not numbers, an empty grid, a budget that
        cannot be read, nothing to meet, more than 400 stable candidates to screen
        exhaustively, or a sampled search without optuna installed.
    procsim.ModelError
        For a path that does not exist in the model (with a close-match hint), or an OKR
        file that is invalid (a key result on an unknown KPI, for one).

    Examples
    --------
    >>> from procsim import parse_model
    >>> from procsim.optimise import optimise
    >>> desk = parse_model('''
    ... procsim: 1
    ... name: Desk
    ... arrivals: {interarrival: {dist: exponential, mean: 1}}
    ... resources: {clerks: {capacity: 3, cost_per_hour: 30}}
    ... activities: {serve: {resource: clerks, duration: {dist: exponential, mean: 2.4}}}
    ... flow: {start: serve, serve: end}
    ... okrs:
    ...   - objective: Short queues
    ...     key_results: [{kpi: waiting_time, to: "<= 1"}]
    ... ''')
    >>> best = optimise(desk, vary={"resources.clerks.capacity": "2..8"}, seed=1,
    ...                 cases=1000, warmup=100)
    >>> best.best.describe(), best.confirmed   # Erlang C: Wq = 2.6 with 3 clerks, 0.45 with 4
    ('resources.clerks.capacity = 4', True)
    """
    expect_model(model)
    if not 0.5 <= confidence < 1:
        raise OptimiseError(f"expected a confidence between 0.5 and 1 (0.9 for 90 %), got "
                            f"{confidence!r}")
    if not 0.5 < screen < 1:
        raise OptimiseError(f"expected a screening confidence between 0.5 and 1, got {screen!r}")
    if not (isinstance(initial_replications, int) and initial_replications >= 3):
        raise OptimiseError(f"expected at least 3 initial replications, got "
                            f"{initial_replications!r}")
    if not (isinstance(max_replications, int) and max_replications >= initial_replications):
        raise OptimiseError(f"expected max_replications >= initial_replications "
                            f"({initial_replications}), got {max_replications!r}")
    if okrs is not None:
        model = with_okrs(model, okrs)
    grid = _grid(vary)
    paths = tuple(vary)
    kpis = [*CASE_KPIS, *SYSTEM_KPIS, *model.kpis]
    if kpi_kind(objective, model.kpis) is None:
        raise OptimiseError(f"unknown objective {quote(objective)}"
                            f"{close_match_hint(objective, kpis)}; expected a KPI such as "
                            "cost_per_case")
    budgets = [parse_budget(b, model) for b in budget]
    capacity_only = all(re.fullmatch(r"resources\.[^.]+\.capacity", p) for p in paths)
    # Staff paid around the clock at one rate per pool: then capacity × cost_per_hour orders
    # the full cost per case. Shift calendars and named people (own costs, own calendars)
    # pay for part of the time only, and the order would be approximate.
    plain = all(not spec.calendar and not spec.members for spec in model.resources.values())
    chosen = search == "auto"
    if search == "auto":
        search = ("cheapest-first" if capacity_only and plain and objective == "cost_per_case"
                  else "exhaustive")
    if search not in ("cheapest-first", "exhaustive", "sampled"):
        raise OptimiseError(f"expected search 'auto', 'cheapest-first', 'exhaustive' or "
                            f"'sampled', got {search!r}")
    if not (isinstance(trials, int) and trials >= 1):
        raise OptimiseError(f"expected at least 1 trial, got {trials!r}")
    if not (isinstance(patience, int) and patience >= 1):
        raise OptimiseError(f"expected a patience of at least 1 trial, got {patience!r}")
    if search == "cheapest-first" and not capacity_only:
        raise OptimiseError("the cheapest-first search varies capacities alone "
                            "(resources.POOL.capacity); use search='exhaustive'")

    # Every candidate's model first: a wrong path fails before anything is simulated.
    models: list[Model] = []
    for point in grid:
        changes = dict(zip(paths, point, strict=True))
        label = ", ".join(f"{p} = {v:g}" for p, v in changes.items())
        models.append(apply_changes(model, changes, name=f"{model.name} ({label})"))
    staffing = [staffing_cost_per_hour(m) for m in models]

    seed = seed if seed is not None else model.run.seed
    seed = int(seed) if seed is not None else draw_seed()
    recheck_seed = (seed ^ stream_key("optimise:recheck")) % (2**63)
    notes: list[str] = []

    candidates: list[Candidate | None] = [None] * len(grid)
    stable: list[int] = []
    for i, m in enumerate(models):
        reason = unstable_reason(m)
        if reason is not None:
            candidates[i] = Candidate(_pairs(paths, grid[i]), "unstable", reason,
                                      staffing_cost_per_hour=staffing[i])
            continue
        over = [f"{STAFFING} {staffing[i]:g} is not {t.text}" for name, t in budgets
                if name == STAFFING and not t.holds(staffing[i])]
        if over:
            candidates[i] = Candidate(_pairs(paths, grid[i]), "over_budget", "; ".join(over),
                                      staffing_cost_per_hour=staffing[i])
            continue
        stable.append(i)
    if not stable:
        return _empty(model, paths, objective, confidence, grid, candidates, staffing, search,
                      seed, recheck_seed, notes)
    if search == "exhaustive" and len(stable) > MAX_EXHAUSTIVE:
        if not chosen:
            raise OptimiseError(f"{len(stable)} stable candidates are too many to screen one "
                                f"by one (at most {MAX_EXHAUSTIVE}); narrow the ranges, vary "
                                "capacities alone (searched cheapest first), or use "
                                "search='sampled'")
        search = "sampled"
    if search == "sampled":
        import_optuna()   # before anything is simulated
        notes.append(f"sampled search: the best of the candidates simulated, not necessarily "
                     f"the best of all {len(stable)} stable ones")

    # The reference run: the base model if stable, else the cheapest stable candidate. It
    # reads the key results' directions, and is the baseline of relative key results.
    reference = model if unstable_reason(model) is None else models[
        min(stable, key=lambda i: staffing[i])]
    with running(progress=progress):
        options, pilot = _options(reference, cases, duration, warmup, jobs, seed,
                                  initial_replications)
        ref_run = simulate(reference, options=options.replace(replications=initial_replications))
    constraints = _constraints(model, ref_run, budgets, reference is not model)
    if not constraints:
        raise OptimiseError("nothing to meet: the model has no key results (okrs:) or KPI "
                            "targets, and no budget was given")
    state = _State(options, model, constraints, objective, confidence, screen)
    # what was spent so far: the reference run, and the pilot of a warm-up chosen by MSER-5
    state.simulations = 1 + (pilot > 0)
    state.replications = initial_replications + pilot
    if state.needs_baseline:
        state.baseline = ref_run

    partial = False
    try:
        with running(progress=progress):
            if search == "sampled":
                reference_mean = abs(float(np.mean(state.objective_values(ref_run))))
                _sampled(
                    state, models, stable, staffing, candidates, paths, grid,
                    initial_replications, max_replications, runner_ups, trials=trials,
                    patience=patience,
                    sampler_seed=(seed ^ stream_key("optimise:sampler")) % 2**32,
                    scale=PENALTY * (reference_mean if reference_mean > 0 else 1.0))
            else:
                search_fn = _cheapest_first if search == "cheapest-first" else _exhaustive
                search_fn(state, models, stable, staffing, candidates, paths, grid,
                          initial_replications, max_replications, runner_ups)
    except KeyboardInterrupt:
        partial = True
        notes.append("interrupted: the search stopped early; candidates not yet judged are "
                     "'not_evaluated', and the best so far was not re-checked")
    final = _finish(candidates, paths, grid, staffing, partial, search)
    feasible = sorted((c for c in final if c.status == "feasible"),
                      key=lambda c: _objective_mean(c))
    best = feasible[0] if feasible else None
    recheck: tuple[ConstraintCheck, ...] = ()
    recheck_reps = 0
    if best is not None and not partial:
        index = final.index(best)
        n = max(best.replications, 20)
        before = state.replications
        try:
            with running(progress=progress):
                fresh = state.run(models[index], n, None, recheck_seed)
                fresh_base = (state.run(model, n, None, recheck_seed)
                              if state.needs_baseline else None)
            recheck = tuple(check for check, _ in state.checks(fresh, fresh_base))
        except KeyboardInterrupt:
            partial = True
            notes.append("interrupted during the re-check: the best was not re-checked")
        recheck_reps = state.replications - before
    unit = ref_run.kpi(objective).unit if objective != STAFFING else "per hour"
    return OptimiseResult(
        model=model, paths=paths, objective=objective, confidence=confidence,
        constraints=tuple(constraints), candidates=tuple(final), best=best, recheck=recheck,
        runner_ups=tuple(feasible[1:1 + max(runner_ups, 0)]), search=search, seed=seed,
        recheck_seed=recheck_seed, simulations=state.simulations,
        replications=state.replications, recheck_replications=recheck_reps, partial=partial,
        notes=tuple(notes), objective_unit=unit, trials=state.trials, screen=screen)


def _grid(vary: Mapping[str, Iterable[float] | str]) -> list[tuple[float, ...]]:
    if isinstance(vary, (str, bytes)) or not isinstance(vary, Mapping) or not vary:
        raise OptimiseError("expected at least one parameter to vary, as {dotted path: values}")
    axes = []
    for path, values in vary.items():
        if not isinstance(path, str) or not path.strip():
            raise OptimiseError(f"expected a dotted path such as resources.agents.capacity, "
                                f"got {quote(path)}")
        if isinstance(values, str):
            given: list[Any] = list(parse_values(values, path=path))
        elif isinstance(values, Iterable) and not isinstance(values, (bytes, Mapping)):
            given = list(values)
        else:
            raise OptimiseError(f"{path}: expected a sequence of numbers, got {quote(values)}")
        if not given:
            raise OptimiseError(f"{path}: expected at least one value, got none")
        for v in given:
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise OptimiseError(f"{path}: expected finite numbers, got {quote(v)}")
        if len(set(given)) != len(given):
            raise OptimiseError(f"{path}: a value is given twice")
        axes.append(sorted(int(v) if isinstance(v, numbers.Integral) else float(v)
                           for v in given))
    return list(itertools.product(*axes))


def _pairs(paths: Sequence[str], point: Sequence[float]) -> tuple[tuple[str, float], ...]:
    return tuple(zip(paths, point, strict=True))


def _options(reference: Model, cases: int | None, duration: float | str | None,
             warmup: int | float | str | None, jobs: int | None, seed: int,
             n0: int) -> tuple[RunOptions, int]:
    """The run options every candidate shares (so that their runs pair up), resolved once on
    the reference model: the run length and an explicit warm-up; ``auto`` is chosen once on
    the reference model, by a pilot run whose replications are returned with the options (0
    without one)."""
    options = RunOptions.resolve(reference, seed=seed, cases=cases, duration=duration,
                                 warmup=warmup, jobs=jobs)
    spent = 0
    if options.warmup == "auto":
        pilot = simulate(reference, options=options.replace(replications=n0))
        options, spent = options.replace(warmup=int(pilot.warmup[0])), n0
    return options, spent


def _constraints(model: Model, reference: RunResult, budgets: list[tuple[str, Threshold]],
                 reference_is_candidate: bool) -> list[Constraint]:
    specs: list[KeyResultSpec] = key_results(model, reference) if model.okrs else []
    if reference_is_candidate and any(kr.relative for kr in specs):
        raise OptimiseError("a key result relative to the baseline (change: …) needs a "
                            "stable base model to compare with; this one is unstable")
    out = [_constraint(kr.text, "key result", kr.kpi, kr.stat, kr.threshold, kr.relative, model)
           for kr in specs]
    for name, spec in model.kpis.items():
        if getattr(spec, "target", None):
            threshold = kpi_target(model, name)
            out.append(_constraint(f"{name} {threshold.text}", "KPI target", name, "mean",
                                   threshold, False, model))
    for name, threshold in budgets:
        if name != STAFFING:
            out.append(_constraint(f"{name} {threshold.text}", "budget", name, "mean",
                                   threshold, False, model))
    return out


def _evaluate(state: _State, key: int, model: Model, n0: int, cap: int,
              incumbent: int | None = None
              ) -> tuple[Status, str, RunResult, list[ConstraintCheck], int]:
    """Sequential replications of one candidate until feasible, clearly infeasible or the cap
    (or, given the ``incumbent`` feasible candidate, clearly dominated by it).

    Returns the status, the reason, the run, the checks, and the index of the constraint
    that made it infeasible (−1 otherwise).
    """
    n = n0
    while True:
        result = state.extend(key, model, n)
        judged = state.checks(result)
        checks = [c for c, _ in judged]
        failed = [i for i, c in enumerate(checks) if c.probability <= 1 - state.screen]
        if failed:
            worst = checks[failed[0]]
            return ("infeasible", f"{worst.constraint.text}: P = {worst.probability:.2g}",
                    result, checks, failed[0])
        above = (_dominance(state, state.results[incumbent], result)
                 if incumbent is not None else None)
        if above is not None:
            return ("dominated", f"{state.objective} clearly above the best feasible "
                    f"candidate's ({above:+.4g})", result, checks, -1)
        if all(c.probability >= state.confidence for c in checks):
            return "feasible", "", result, checks, -1
        if n >= cap:
            low = min(checks, key=lambda c: c.probability)
            return ("undecided", f"{low.constraint.text}: P = {low.probability:.2g} after "
                    f"{n} replications (too close to the target to tell)", result, checks, -1)
        needed = max((r or 0) for c, r in judged if c.probability < state.confidence)
        n = min(cap, max(n + n0, min(needed, 3 * n)))


def _cheapest_first(state: _State, models: list[Model], stable: list[int],
                    staffing: list[float], candidates: list[Candidate | None],
                    paths: Sequence[str], grid: list[tuple[float, ...]], n0: int, cap: int,
                    runner_ups: int) -> None:
    """Visit stable candidates by increasing staff cost per hour; the first feasible one is
    the cheapest (see the module's docstring). Candidates implied infeasible by monotonicity
    are skipped without simulating."""
    order = sorted(stable, key=lambda i: (staffing[i], grid[i]))
    # (capacities, trend) of clearly infeasible candidates: trend +1 means every candidate
    # with at most these capacities fails too, −1 every candidate with at least them.
    failures: list[tuple[tuple[float, ...], int, str]] = []
    found = 0
    for visited, i in enumerate(order):
        if found > runner_ups or visited >= MAX_VISITED:
            break
        point = grid[i]
        implied = next((f"implied by {_describe(paths, fp)} ({text})"
                        for fp, trend, text in failures
                        if (trend > 0 and all(a <= b for a, b in zip(point, fp, strict=True)))
                        or (trend < 0 and all(a >= b for a, b in zip(point, fp, strict=True)))),
                       None)
        if implied is not None:
            candidates[i] = Candidate(_pairs(paths, point), "implied_infeasible", implied,
                                      staffing_cost_per_hour=staffing[i])
            continue
        status, reason, result, checks, failed = _evaluate(state, i, models[i], n0, cap)
        candidates[i] = _candidate(state, paths, point, status, reason, result, checks,
                                   staffing[i])
        if status == "infeasible" and checks[failed].constraint.trend != 0:
            failures.append((point, checks[failed].constraint.trend,
                             checks[failed].constraint.text))
        if status == "feasible":
            found += 1


def _exhaustive(state: _State, models: list[Model], stable: list[int], staffing: list[float],
                candidates: list[Candidate | None], paths: Sequence[str],
                grid: list[tuple[float, ...]], n0: int, cap: int, runner_ups: int) -> None:
    """Screen every stable candidate: infeasible ones out as soon as clear, dominated ones
    (objective clearly above the best feasible one's, paired on common random numbers) out,
    replications added only to candidates still in question."""
    del runner_ups
    active = {i: n0 for i in stable}
    status: dict[int, tuple[Status, str, list[ConstraintCheck]]] = {}
    while True:
        for i, n in list(active.items()):
            result = state.extend(i, models[i], n)
            judged = state.checks(result)
            checks = [c for c, _ in judged]
            failed = [c for c in checks if c.probability <= 1 - state.screen]
            if failed:
                status[i] = ("infeasible", f"{failed[0].constraint.text}: P = "
                             f"{failed[0].probability:.2g}", checks)
                del active[i]
            elif all(c.probability >= state.confidence for c in checks):
                status[i] = ("feasible", "", checks)
            else:
                needed = max((r or 0) for c, r in judged if c.probability < state.confidence)
                status[i] = ("undecided", "", checks)
                active[i] = max(n, needed)   # what it would need; granted below
        feasible = [i for i in active if status[i][0] == "feasible"]
        best = (min(feasible, key=lambda i: float(np.mean(state.objective_values(
            state.results[i])))) if feasible else None)
        more: dict[int, int] = {}
        for i in list(active):
            result = state.results[i]
            if best is not None and i != best:
                above = _dominance(state, state.results[best], result)
                if above is not None:
                    status[i] = ("dominated", f"{state.objective} clearly above the best "
                                 f"feasible candidate's ({above:+.4g})", status[i][2])
                    del active[i]
                    continue
            n = result.replications
            if status[i][0] == "undecided" and n < cap:
                more[i] = min(cap, max(n + n0, min(active[i], 3 * n)))
            elif status[i][0] == "feasible" and best is not None and i != best and n < cap:
                a = state.objective_values(state.results[best])
                b = state.objective_values(result)
                k = min(len(a), len(b))
                diff = paired_difference(a[:k], b[:k], 2 * state.screen - 1)
                scale = abs(float(np.mean(a[:k])))
                if not diff.half_width <= INDIFFERENCE * scale:
                    more[i] = min(cap, 2 * n)   # to tell it from the best
        if best is not None and more and state.results[best].replications < max(more.values()):
            more[best] = min(cap, max(more.values()))
        # What is known so far, so that Ctrl-C keeps it. Feasible candidates not told apart
        # from the best stay feasible (the runner-ups).
        for i, (kind, reason, checks) in status.items():
            if kind == "undecided":
                low = min(checks, key=lambda c: c.probability)
                reason = (f"{low.constraint.text}: P = {low.probability:.2g} after "
                          f"{state.results[i].replications} replications (too close to tell)")
            candidates[i] = _candidate(state, paths, grid[i], kind, reason, state.results[i],
                                       checks, staffing[i])
        if not more:
            break
        for i in active:
            active[i] = more.get(i, state.results[i].replications)


def _dominance(state: _State, best: RunResult, result: RunResult) -> float | None:
    """The mean paired difference of the objective (``result`` − ``best``, on the replications
    they share) when its one-sided ``screen`` bound is above 0, else None."""
    a = state.objective_values(best)
    b = state.objective_values(result)
    k = min(len(a), len(b))
    diff = paired_difference(a[:k], b[:k], 2 * state.screen - 1)
    return float(diff.mean) if diff.ci[0] > 0 else None


def _shortfall(check: ConstraintCheck, confidence: float) -> float:
    """How far a constraint is from being attained: the estimate's distance beyond the
    target, relative to the target, plus the probability missing to the level."""
    threshold = check.constraint.threshold
    beyond = (check.estimate.mean - threshold.value if threshold.lower_is_better
              else threshold.value - check.estimate.mean)
    scale = abs(threshold.value) if threshold.value != 0 else 1.0
    distance = max(beyond, 0.0) / scale if math.isfinite(beyond) else 1e6
    return distance + max(confidence - check.probability, 0.0)


def _sampled(state: _State, models: list[Model], stable: list[int], staffing: list[float],
             candidates: list[Candidate | None], paths: Sequence[str],
             grid: list[tuple[float, ...]], n0: int, cap: int, runner_ups: int, *,
             trials: int, patience: int, sampler_seed: int, scale: float) -> None:
    """Candidates proposed by optuna's TPE sampler (ask/tell), each judged as in the other
    searches; then a neighbourhood search from the best feasible one; then the feasible ones
    screened against each other as in :func:`_exhaustive`.

    A trial is one candidate. A stable candidate not yet simulated gets the sequential
    replications of :func:`_evaluate` (dropped early when clearly infeasible, or clearly
    dominated by the best feasible one so far), and the sampler is told its penalised
    objective: the mean objective when feasible or dominated, else that plus ``scale`` × (1
    + the shortfall). A candidate seen before is told its value again without simulating;
    an unstable one or over budget is pruned without simulating (TPE ranks pruned trials
    below every completed one). Stops after ``trials`` trials, or ``patience`` trials in a
    row that bring no better feasible candidate once one is known (``state.trials`` counts
    them). The neighbourhood search is not counted in the trials: it simulates at most the
    untried neighbours of each candidate it walks through.
    """
    optuna = import_optuna()
    from optuna.trial import TrialState

    axes = [sorted({point[k] for point in grid}) for k in range(len(paths))]
    index = {point: i for i, point in enumerate(grid)}
    allowed = set(stable)
    told: dict[int, float] = {}
    incumbent: int | None = None
    best_value = math.inf

    def judge_new(i: int) -> bool:
        """Simulate candidate ``i``; is it a better feasible one (the new incumbent)?"""
        nonlocal incumbent, best_value
        status, reason, result, checks, _ = _evaluate(state, i, models[i], n0, cap, incumbent)
        candidates[i] = _candidate(state, paths, grid[i], status, reason, result, checks,
                                   staffing[i])
        value = float(np.mean(state.objective_values(result)))
        told[i] = value
        if status == "feasible" and value < best_value:
            incumbent, best_value = i, value
            return True
        return False

    quiet = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(direction="minimize",
                                    sampler=optuna.samplers.TPESampler(seed=sampler_seed))
        since = 0
        while state.trials < trials and len(told) < len(allowed):
            trial = study.ask()
            state.trials += 1
            point = tuple(axis[trial.suggest_int(path, 0, len(axis) - 1)]
                          for path, axis in zip(paths, axes, strict=True))
            i = index[point]
            if i not in allowed:
                study.tell(trial, state=TrialState.PRUNED)
            elif i in told:
                study.tell(trial, told[i])
            else:
                if judge_new(i):
                    since = -1
                c = candidates[i]
                assert c is not None and c.objective is not None
                if c.status not in ("feasible", "dominated"):
                    told[i] += scale * (1.0 + sum(_shortfall(check, state.confidence)
                                                  for check in c.checks))
                study.tell(trial, told[i])
            if incumbent is not None:
                since += 1
                if since >= patience:
                    break
    finally:
        optuna.logging.set_verbosity(quiet)

    # The neighbourhood search: from the best feasible candidate, its untried neighbours
    # (one step up, down or not on every axis; one axis at a time beyond four axes),
    # cheapest first, moving to the first better feasible one; when none is better, along a
    # plateau to the best feasible neighbour within the indifference zone not yet walked
    # from; until there is none. Each candidate is simulated once, so it ends.
    position = [{v: k for k, v in enumerate(axis)} for axis in axes]
    if len(paths) <= MAX_DIAGONAL_AXES:
        steps = [s for s in itertools.product((-1, 0, 1), repeat=len(paths)) if any(s)]
    else:
        steps = [tuple(d if k == j else 0 for k in range(len(paths)))
                 for j in range(len(paths)) for d in (-1, 1)]
    walked: set[int] = set()
    current = incumbent
    while current is not None and current not in walked:
        walked.add(current)
        here = [position[k][v] for k, v in enumerate(grid[current])]
        around = []
        for step in steps:
            at = [h + d for h, d in zip(here, step, strict=True)]
            if all(0 <= a < len(axis) for a, axis in zip(at, axes, strict=True)):
                j = index[tuple(axis[a] for a, axis in zip(at, axes, strict=True))]
                if j in allowed:
                    around.append(j)
        better = next((j for j in sorted((j for j in around if j not in told),
                                         key=lambda j: (staffing[j], grid[j]))
                       if judge_new(j)), None)
        if better is not None:
            current = better
            continue
        level = told[current] + INDIFFERENCE * abs(told[current])
        flat = [j for j in around if j not in walked and (c := candidates[j]) is not None
                and c.status == "feasible" and told[j] <= level]
        current = min(flat, key=lambda j: (told[j], j)) if flat else None
    # the clean-up: the candidates still in question screened against each other
    open_ = [i for i in told if (c := candidates[i]) is not None
             and c.status in ("feasible", "undecided")]
    if open_:
        _exhaustive(state, models, open_, staffing, candidates, paths, grid, n0, cap,
                    runner_ups)


def import_optuna() -> Any:
    """optuna, for the sampled search of large spaces (the optional extra ``procsim[optimise]``).

    Raises
    ------
    OptimiseError
        When optuna is not installed.
    """
    try:
        import optuna
    except ImportError:
        raise OptimiseError("the sampled search of large spaces needs optuna: pip install "
                            "'procsim[optimise]' (or narrow the ranges)") from None
    return optuna


def _candidate(state: _State, paths: Sequence[str], point: Sequence[float], status: Status,
               reason: str, result: RunResult, checks: list[ConstraintCheck],
               staffing: float) -> Candidate:
    objective = estimate(state.objective_values(result))
    return Candidate(_pairs(paths, point), status, reason, result.replications, objective,
                     tuple(checks), staffing)


def _finish(candidates: list[Candidate | None], paths: Sequence[str],
            grid: list[tuple[float, ...]], staffing: list[float], partial: bool,
            search: str = "cheapest-first") -> list[Candidate]:
    """Every candidate with a status; those the search did not reach are ``not_evaluated``."""
    why = ("interrupted before it was reached" if partial else
           "not proposed by the sampler within its trials" if search == "sampled" else
           "not needed: cheaper feasible candidates were found")
    out = []
    for i, c in enumerate(candidates):
        if c is None:
            c = Candidate(_pairs(paths, grid[i]), "not_evaluated", why,
                          staffing_cost_per_hour=staffing[i])
        out.append(c)
    return out


def _objective_mean(c: Candidate) -> float:
    return c.objective.mean if c.objective is not None else math.inf


def _describe(paths: Sequence[str], point: Sequence[float]) -> str:
    return ", ".join(f"{p.split('.')[1] if p.startswith('resources.') else p} = {v:g}"
                     for p, v in zip(paths, point, strict=True))


def _empty(model: Model, paths: tuple[str, ...], objective: str, confidence: float,
           grid: list[tuple[float, ...]], candidates: list[Candidate | None],
           staffing: list[float], search: str, seed: int, recheck_seed: int,
           notes: list[str]) -> OptimiseResult:
    """Every candidate unstable or over budget: nothing simulated, nothing recommended."""
    final = [c if c is not None else Candidate(_pairs(paths, grid[i]), "not_evaluated",
                                               staffing_cost_per_hour=staffing[i])
             for i, c in enumerate(candidates)]
    notes.append("every candidate is unstable or over budget: nothing was simulated")
    return OptimiseResult(model, paths, objective, confidence, (), tuple(final), None, (), (),
                          search, seed, recheck_seed, 0, 0, 0, False, tuple(notes))

