"""Sweep one parameter of a model: how do the KPIs respond to staffing, durations, routing …?

:func:`sweep` runs :func:`procsim.simulate` once per value of one dotted-path parameter (the
paths of a scenario file, e.g. ``resources.agents.capacity``), every point with the same
seed. Replication ``r`` of every point therefore draws the same arrivals and durations
(common random numbers): neighbouring points differ by the parameter, not by luck, and the
KPI curve is smooth enough to read a point of diminishing returns off it (:meth:`SweepResult.knee`).

Points at which a pool's offered load reaches its capacity have no steady state; they are
skipped, with the reason recorded in :attr:`SweepResult.skipped`, unless ``allow_unstable=True``.
"""

from __future__ import annotations

import itertools
import math
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from procsim.errors import OptimiseError, UnstableModelError, UsageError, quote
from procsim.kpi import RunResult
from procsim.model.scenario import apply_changes
from procsim.model.schema import Model
from procsim.simulate import RunOptions, expect_model, simulate
from procsim.stats import Estimate, estimate

if TYPE_CHECKING:
    from procsim.okr import Verdict

__all__ = ["GridPoint", "GridSweepResult", "Knee", "SkippedPoint", "SweepResult", "find_knee",
           "parse_values", "sweep", "sweep_grid", "unstable_reason"]

#: Default threshold of :meth:`SweepResult.knee`: one more unit improves the KPI by < 5 %.
KNEE_THRESHOLD = 0.05


@dataclass(frozen=True)
class SkippedPoint:
    """A value of the swept parameter that was not simulated, and why."""

    value: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "reason": self.reason}


@dataclass(frozen=True)
class Knee:
    """The point of diminishing returns of a KPI curve (see :func:`find_knee`).

    Attributes
    ----------
    value : float
        The swept value at the knee.
    index : int
        Its position in :attr:`SweepResult.values`.
    estimate : Estimate
        The KPI at the knee.
    gain : float or None
        Relative improvement per unit of the next step (``None`` at the last point).
    threshold : float
        The relative improvement per unit below which further steps count as not worth it.
    kpi, stat : str
        The KPI statistic the knee was found on.
    """

    value: float
    index: int
    estimate: Estimate
    gain: float | None
    threshold: float
    kpi: str
    stat: str

    def describe(self, path: str = "the parameter") -> str:
        """One sentence for a report: where the knee is and what the next step would bring."""
        what = f"{self.stat} {self.kpi.replace('_', ' ')}"
        text = (f"Knee at {path} = {self.value:g}: beyond it, each further unit improves the "
                f"{what} by less than {self.threshold * 100:g} %")
        if self.gain is not None:
            text += f" (the next step: {self.gain * 100:.3g} % per unit)"
        return text + "."

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "kpi": self.kpi, "stat": self.stat,
                "threshold": self.threshold, "gain_per_unit": self.gain,
                **{k: v for k, v in self.estimate.to_dict().items() if k in ("mean", "ci95")}}


def find_knee(
    values: npt.ArrayLike,
    kpi: npt.ArrayLike,
    *,
    threshold: float = KNEE_THRESHOLD,
    better: Literal["lower", "higher"] | None = None,
) -> int | None:
    """Index of the point of diminishing returns of a KPI curve, or ``None``.

    The knee is the smallest value after which every further unit of the parameter improves
    the KPI by less than ``threshold`` (relative to where it stands). With points
    ``(x_i, y_i)`` in increasing ``x``, the relative gain per unit of the step ``i → i+1`` is

        g_i = (y_i − y_{i+1}) / |y_i| / (x_{i+1} − x_i)      (``better="lower"``)

    (the sign reversed when higher is better), and the knee is the first ``i`` with
    ``g_j < threshold`` for every ``j ≥ i``.

    Why this rule rather than a geometric one such as Kneedle (the point farthest below the
    chord of the normalised curve): it answers the manager's question directly ("is one more
    agent worth it?") in the KPI's own terms; it does not move when the sweep is extended to
    values far beyond the knee, nor when an almost unstable first point makes the curve shoot
    up (both rescale a normalised curve); and requiring *every* later step to be small keeps
    one noisy flat step from ending the search early. Its price is a threshold to choose:
    5 % per unit by default.

    Parameters
    ----------
    values : array_like of float
        The swept values, strictly increasing.
    kpi : array_like of float
        The KPI at each value (e.g. the mean cycle time), same length.
    threshold : float, default 0.05
        Relative improvement per unit below which a step is not worth it; > 0.
    better : {"lower", "higher"}, optional
        Which direction improves the KPI. By default the direction in which it moves from
        the first point to the last.

    Returns
    -------
    int or None
        The index of the knee; ``None`` when even the last step still gains ``threshold`` or
        more (the knee lies beyond the swept range).

    Examples
    --------
    For ``y = 1/x`` the gain of the step ``x → x+1`` is ``1/(x+1)``: below 6 % from
    x = 16 on (1/17 ≈ 5.9 %, while 1/16 ≈ 6.3 %).

    >>> x = list(range(1, 41))
    >>> x[find_knee(x, [1 / v for v in x], threshold=0.06)]
    16
    >>> find_knee([1, 2, 3], [8.0, 4.0, 2.0]) is None   # still halving: no knee yet
    True
    """
    x = np.asarray(values, dtype=float)
    y = np.asarray(kpi, dtype=float)
    if x.ndim != 1 or x.shape != y.shape:
        raise UsageError(f"expected values and KPI of equal length, got shapes {x.shape} "
                         f"and {y.shape}")
    if x.size < 2:
        raise UsageError(f"expected at least 2 points to find a knee, got {x.size}")
    if not np.all(np.diff(x) > 0):
        raise UsageError("expected strictly increasing values")
    if not np.all(np.isfinite(y)):
        raise UsageError("expected finite KPI values at every point")
    if not threshold > 0:
        raise UsageError(f"expected threshold > 0, got {threshold!r}")
    gains = _gains(x, y, better)
    worth_it = np.flatnonzero(gains >= threshold)
    knee = 0 if worth_it.size == 0 else int(worth_it[-1]) + 1
    # A knee at the last point only says that the last step was still worth it: what lies
    # beyond is unknown.
    return knee if knee < x.size - 1 else None


def _gains(x: np.ndarray, y: np.ndarray, better: str | None) -> np.ndarray:
    """Relative improvement per unit of every step ``i → i+1`` (see :func:`find_knee`)."""
    if better is None:
        better = "lower" if y[-1] <= y[0] else "higher"
    elif better not in ("lower", "higher"):
        raise UsageError(f"expected better='lower' or 'higher', got {better!r}")
    sign = 1.0 if better == "lower" else -1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        gains = sign * (y[:-1] - y[1:]) / np.abs(y[:-1]) / np.diff(x)
    # A step away from a KPI of zero has no relative gain (0/0): count it as none.
    return np.nan_to_num(gains, nan=0.0, posinf=np.inf, neginf=-np.inf)


@dataclass(frozen=True)
class SweepResult:
    """The outcome of :func:`sweep`: one :class:`~procsim.RunResult` per simulated value.

    Attributes
    ----------
    path : str
        The swept parameter, a dotted path such as ``resources.agents.capacity``.
    values : list of float
        The simulated values, in increasing order.
    results : list of RunResult
        One per value, all with the same seed (common random numbers).
    skipped : list of SkippedPoint
        Values that were not simulated (unstable), with the reason.
    name : str
        A title for tables and plots.
    """

    path: str
    values: list[float]
    results: list[RunResult]
    skipped: list[SkippedPoint] = field(default_factory=list)
    name: str = ""

    @property
    def model(self) -> Model:
        """The model at the first simulated value."""
        return self.results[0].model

    @property
    def seed(self) -> int:
        return self.results[0].seed

    @property
    def time_unit(self) -> str:
        return self.results[0].time_unit

    @property
    def pool(self) -> str | None:
        """The pool whose capacity is swept, or ``None`` for another parameter."""
        parts = self.path.split(".")
        if len(parts) == 3 and parts[0] == "resources" and parts[2] == "capacity":
            return parts[1]
        return None

    def kpi(self, name: str, stat: str = "mean", *, confidence: float = 0.95) -> list[Estimate]:
        """The KPI statistic at every point, with its confidence interval across replications.

        ``stat`` is ``mean``, ``median`` or ``pXX`` for case KPIs (see
        :meth:`procsim.RunResult.values`).
        """
        return [estimate(r.values(name, stat), confidence) for r in self.results]

    def staffing_cost_per_hour(self) -> list[float]:
        """Cost of the staff on shift per hour at every point: Σ capacity × cost_per_hour.

        Paid whether busy or idle (as ``cost_per_case``, the full cost per case, charges it:
        ``busy_cost_per_case`` is the work alone); this is the cost side of a capacity sweep.
        """
        return [float(sum(p.capacity * p.cost_per_hour for p in r.model.resources.values()))
                for r in self.results]

    def knee(self, kpi: str = "cycle_time", stat: str = "mean", *,
             threshold: float = KNEE_THRESHOLD,
             better: Literal["lower", "higher"] | None = None) -> Knee | None:
        """The point of diminishing returns of a KPI, by the rule of :func:`find_knee`.

        Found on the point estimates; common random numbers keep their differences smooth.
        ``None`` when the knee lies beyond the swept range (raise the largest value).

        Raises
        ------
        ValueError
            With fewer than two simulated points.
        """
        estimates = self.kpi(kpi, stat)
        means = [e.mean for e in estimates]
        index = find_knee(self.values, means, threshold=threshold, better=better)
        if index is None:
            return None
        gains = _gains(np.asarray(self.values, dtype=float), np.asarray(means), better)
        gain = float(gains[index]) if index < gains.size else None
        return Knee(self.values[index], index, estimates[index], gain, threshold, kpi, stat)

    # --- output -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary: every point's KPIs (mean with interval), cost and the knee."""
        names = self.results[0].kpi_names
        per_kpi = {name: self.kpi(name) for name in names}
        staffing = self.staffing_cost_per_hour()
        points = []
        for i, (value, result) in enumerate(zip(self.values, self.results, strict=True)):
            points.append({
                "value": value,
                "kpis": {name: per_kpi[name][i].to_dict() for name in names},
                "utilization": {pool: result.resource(pool, "utilization").to_dict()
                                for pool in result.model.resources},
                "staffing_cost_per_hour": staffing[i],
            })
        knee = self.knee() if len(self.values) >= 2 else None
        return {
            "name": self.name,
            "path": self.path,
            "seed": self.seed,
            "replications": self.results[0].replications,
            "time_unit": self.time_unit,
            "currency": self.model.currency,
            "values": list(self.values),
            "points": points,
            "skipped": [s.to_dict() for s in self.skipped],
            "knee": knee.to_dict() if knee else None,
        }

    def summary(self, kpi: str = "cycle_time", stat: str = "mean") -> str:
        """A small table: the KPI with its interval, waiting, utilisation and staffing cost."""
        unit = self.results[0].kpi(kpi).unit
        pool = self.pool
        currency = self.model.currency or "currency"
        ests = self.kpi(kpi, stat)
        waiting = self.kpi("waiting_time")
        staffing = self.staffing_cost_per_hour()
        knee = self.knee(kpi, stat) if len(self.values) >= 2 else None
        head = f"{stat} {kpi}"
        lines = [
            f"{self.name}: sweep of {self.path}, {len(self.values)} points, "
            f"{self.results[0].replications} replications each, seed {self.seed} "
            "(common random numbers)",
            "",
            f"{'value':>10}{head:>16}{'95% CI':>24}{'mean wait':>12}"
            + (f"{'util. ' + pool:>18}" if pool else "")
            + f"{'staff/hour':>12}",
        ]
        for i, (value, result) in enumerate(zip(self.values, self.results, strict=True)):
            e = ests[i]
            lo, hi = e.ci
            row = (f"{value:>10g}{e.mean:>16.4g}{f'[{lo:.4g}, {hi:.4g}]':>24}"
                   f"{waiting[i].mean:>12.4g}")
            if pool:
                row += f"{result.resource(pool, 'utilization').mean:>18.1%}"
            row += f"{staffing[i]:>12.6g}"
            if knee is not None and i == knee.index:
                row += "  ← knee"
            lines.append(row)
        lines += ["", f"({kpi} in {unit}; waiting in {self.time_unit}; staff cost in "
                      f"{currency} per hour)"]
        for s in self.skipped:
            lines.append(f"skipped {self.path} = {s.value:g}: {s.reason}")
        if len(self.values) >= 2:
            lines.append(knee.describe(self.path) if knee else
                         f"No knee within the swept range: the last step still improves the "
                         f"{stat} {kpi.replace('_', ' ')} by {KNEE_THRESHOLD:.0%} per unit or "
                         "more; extend the sweep.")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The summary table, as Jupyter shows the result."""
        import html

        return f"<pre>{html.escape(self.summary())}</pre>"


def sweep(
    model: Model,
    path: str,
    values: Iterable[float],
    *,
    name: str | None = None,
    **simulate_kwargs: Any,
) -> SweepResult:
    """Simulate ``model`` at each of ``values`` of the parameter ``path``.

    Every point runs with the same seed (common random numbers): replication ``r`` of one
    point is paired with replication ``r`` of every other, so differences between
    neighbouring points reflect the parameter, not the random numbers.

    Parameters
    ----------
    model : Model
        The base model.
    path : str
        A dotted path as in a scenario file, e.g. ``"resources.agents.capacity"`` or
        ``"activities.triage.duration.mean"``.
    values : iterable of numbers
        The values to simulate (a list, a ``range``, a numpy array …), distinct; they are
        simulated and reported in increasing order.
    name : str, optional
        A title for the sweep's tables and plots (default: the model's name).
    **simulate_kwargs
        For :func:`procsim.simulate`: the run settings (``replications``, ``cases``,
        ``seed``, ``warmup``, ``jobs`` …, or ``options=`` a
        :class:`~procsim.simulate.RunOptions`), resolved once on the base model and shared by
        every point (without a seed, here or in the model, one is drawn once), and
        ``allow_unstable``, ``keep_records``, ``progress``.

    Returns
    -------
    SweepResult

    Raises
    ------
    ValueError
        For no values, repeated values or values that are not finite numbers.
    procsim.ModelError
        When ``path`` does not exist in the model, or a value makes the model invalid
        (e.g. a capacity of 0).
    procsim.UnstableModelError
        When every value is unstable (without ``allow_unstable=True``).

    Examples
    --------
    >>> from procsim import parse_model
    >>> from procsim.sweep import sweep
    >>> desk = parse_model('''
    ... procsim: 1
    ... name: Desk
    ... arrivals: {interarrival: {dist: exponential, mean: 1}}
    ... resources: {clerks: {capacity: 3, cost_per_hour: 30}}
    ... activities: {serve: {resource: clerks, duration: {dist: exponential, mean: 2.4}}}
    ... flow: {start: serve, serve: end}
    ... ''')
    >>> s = sweep(desk, "resources.clerks.capacity", [2, 3, 4, 5, 6, 7],
    ...           replications=3, cases=1000, warmup=100, seed=1)
    >>> s.values, [p.value for p in s.skipped]     # 2 clerks cannot serve 2.4 clerks' work
    ([3, 4, 5, 6, 7], [2])
    >>> s.staffing_cost_per_hour()
    [90.0, 120.0, 150.0, 180.0, 210.0]
    >>> s.knee("cycle_time").value
    5
    """
    expect_model(model)
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise UsageError(f"expected a sequence of numbers for {path}, got {values!r}")
    given = list(values)
    if len(given) == 0:
        raise UsageError(f"expected at least one value to sweep {path} over, got none")
    for v in given:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise UsageError(f"expected finite numbers to sweep {path} over, got {v!r}")
    if len(set(given)) != len(given):
        repeated = sorted({v for v in given if given.count(v) > 1})
        raise UsageError(f"expected distinct values, got {', '.join(map(str, repeated))} "
                         "more than once")
    # Plain Python numbers (not numpy's): they go into the model's YAML data and into JSON.
    plain = sorted(int(v) if isinstance(v, numbers.Integral) else float(v) for v in given)
    # Build every point first: a wrong path fails before anything is simulated.
    models = [(v, apply_changes(model, {path: v}, name=f"{model.name} ({path} = {v})"))
              for v in plain]
    # Resolved once, on the base model: every point runs with the same seed, run length and
    # warm-up, so that its replications pair up with the other points'.
    options, passed_on = RunOptions.split(model, simulate_kwargs)
    kept: list[float] = []
    results: list[RunResult] = []
    skipped: list[SkippedPoint] = []
    errors: list[UnstableModelError] = []
    for value, point in models:
        try:
            results.append(simulate(point, options=options, **passed_on))
        except UnstableModelError as exc:
            errors.append(exc)
            skipped.append(SkippedPoint(value, unstable_reason(point) or str(exc)))
            continue
        kept.append(value)
    if not results:
        raise UnstableModelError([i for e in errors for i in e.issues], model.file)
    return SweepResult(path, kept, results, skipped, name or str(model.name))


def unstable_reason(model: Model) -> str | None:
    """Why ``model`` has no steady state (a pool's offered load reaches its capacity), or
    ``None`` when every pool is below it. :func:`sweep` and :func:`procsim.optimise.optimise`
    skip such points with this reason, without simulating them.

    Examples
    --------
    >>> from procsim import parse_model
    >>> m = parse_model('''
    ... procsim: 1
    ... name: Desk
    ... arrivals: {interarrival: {dist: exponential, mean: 1}}
    ... resources: {clerks: {capacity: 2}}
    ... activities: {serve: {resource: clerks, duration: {dist: exponential, mean: 2.4}}}
    ... flow: {start: serve, serve: end}
    ... ''')
    >>> unstable_reason(m)  # doctest: +ELLIPSIS
    "unstable: 'clerks' would need 2.4 busy servers on average, capacity 2 (120% ..."
    """
    from procsim.model.check import offered_load

    parts = [f"'{pool}' would need {load.offered_load:.3g} busy servers on average, "
             f"capacity {load.capacity} ({load.utilization:.0%} utilisation)"
             for pool, load in offered_load(model).items() if load.utilization >= 1.0]
    if not parts:
        return None
    return "unstable: " + "; ".join(parts) + " — the queue would grow without bound"


# --- grids: several parameters at once ----------------------------------------------------------


@dataclass(frozen=True)
class GridPoint:
    """One point of :func:`sweep_grid`: its changes, its run (``None`` when skipped, with the
    reason) and its verdicts on the key results and KPI targets (in
    :attr:`GridSweepResult.targets` order)."""

    changes: tuple[tuple[str, float], ...]
    result: RunResult | None
    reason: str = ""
    verdicts: tuple[Verdict, ...] = ()
    staffing_cost_per_hour: float = math.nan

    @property
    def values(self) -> dict[str, float]:
        return dict(self.changes)

    @property
    def meets(self) -> bool | None:
        """Every key result and KPI target met (``None``: nothing to meet, or skipped)."""
        if self.result is None or not self.verdicts:
            return None
        return all(v.status == "met" for v in self.verdicts)

    @property
    def mark(self) -> str:
        """✓ every target met, ✗ one not met, ? otherwise; empty without targets."""
        if self.meets is None:
            return ""
        if self.meets:
            return "✓"
        return "✗" if any(v.status == "not_met" for v in self.verdicts) else "?"


@dataclass(frozen=True)
class GridSweepResult:
    """The outcome of :func:`sweep_grid`: every point of the grid, on common random numbers.

    ``sweeps`` holds one :class:`SweepResult` over the last path for each combination of the
    others (with at least one stable point); its knee is marked in the table.
    """

    name: str
    paths: tuple[str, ...]
    points: tuple[GridPoint, ...]
    sweeps: tuple[SweepResult, ...]
    targets: tuple[str, ...]
    kpis: tuple[str, ...]
    seed: int
    confidence: float
    currency: str = ""
    knee_kpi: str = "cycle_time"

    def knees(self) -> list[Knee | None]:
        """The knee of ``knee_kpi`` (mean) of each sweep, where it has two points or more."""
        return [s.knee(self.knee_kpi) if len(s.values) >= 2 else None for s in self.sweeps]

    def _knee_points(self) -> set[tuple[tuple[str, float], ...]]:
        out = set()
        for s, knee in zip(self.sweeps, self.knees(), strict=True):
            if knee is not None:
                changes = s.results[knee.index].model.changes
                values = {c.path: c.after for c in changes}
                out.add(tuple((p, values[p]) for p in self.paths if p in values))
        return out

    def estimates(self, point: GridPoint, kpi: str) -> Estimate | None:
        if point.result is None:
            return None
        return estimate(point.result.values(kpi, "mean"), self.confidence)

    def rows(self) -> list[dict[str, Any]]:
        """One row per (point, KPI): the table of ``procsim sweep --csv``."""
        out = []
        knees = self._knee_points()
        for point in self.points:
            for kpi in self.kpis:
                est = self.estimates(point, kpi)
                out.append({**{p: v for p, v in point.changes}, "kpi": kpi,
                            "mean": est.mean if est else None,
                            "ci_low": est.ci[0] if est else None,
                            "ci_high": est.ci[1] if est else None,
                            "confidence": self.confidence,
                            "staffing_cost_per_hour": point.staffing_cost_per_hour,
                            "meets_targets": point.meets,
                            "knee": point.changes in knees,
                            "skipped": point.reason})
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary: every point's KPIs with intervals, cost, verdicts, knees."""
        knees = self._knee_points()
        points = []
        for point in self.points:
            entry: dict[str, Any] = {"changes": dict(point.changes),
                                     "staffing_cost_per_hour": point.staffing_cost_per_hour,
                                     "skipped": point.reason or None}
            if point.result is not None:
                entry["kpis"] = {}
                for kpi in self.kpis:
                    est = self.estimates(point, kpi)
                    assert est is not None
                    entry["kpis"][kpi] = {"mean": _finite(est.mean),
                                          "ci": [_finite(est.ci[0]), _finite(est.ci[1])]}
                entry["targets"] = {t: v.to_dict()
                                    for t, v in zip(self.targets, point.verdicts, strict=True)}
                entry["meets_targets"] = point.meets
                entry["knee"] = point.changes in knees
            points.append(entry)
        return {"name": self.name, "paths": list(self.paths), "seed": self.seed,
                "confidence": self.confidence, "currency": self.currency,
                "kpis": list(self.kpis), "targets": list(self.targets),
                "knee_kpi": self.knee_kpi,
                "replications": [p.result.replications for p in self.points if p.result],
                "points": points}

    def summary(self) -> str:
        """The table: each point's KPIs with their intervals, staff cost per hour, whether it
        meets every target, and the knee; skipped points with the reason."""
        pct = f"{self.confidence:.0%}"
        knees = self._knee_points()
        heads = [p.split(".")[1] if p.startswith("resources.") and p.endswith(".capacity")
                 else p for p in self.paths]
        widths = [max(len(h), 6) + 2 for h in heads]
        simulated = [p for p in self.points if p.result is not None]
        reps = sorted({p.result.replications for p in simulated if p.result})
        counts = (f"{reps[0]}–{reps[-1]}" if len(reps) > 1 else str(reps[0]) if reps else "0")
        lines = [f"{self.name}: sweep of {', '.join(self.paths)}: {len(self.points)} points, "
                 f"{len(simulated)} simulated, {counts} replications each, seed {self.seed} "
                 f"(common random numbers); means with {pct} intervals", ""]
        head = "".join(f"{h:>{w}}" for h, w in zip(heads, widths, strict=True))
        head += "".join(f"{k:>26}" for k in self.kpis) + f"{'staff/hour':>12}"
        if self.targets:
            head += "  targets"
        lines.append(head)
        for point in self.points:
            row = "".join(f"{v:>{w}g}" for (_, v), w in zip(point.changes, widths, strict=True))
            if point.result is None:
                lines.append(f"{row}  skipped: {point.reason}")
                continue
            for kpi in self.kpis:
                est = self.estimates(point, kpi)
                assert est is not None
                cell = f"{est.mean:.4g} [{est.ci[0]:.4g}, {est.ci[1]:.4g}]"
                row += f"{cell:>26}"
            row += f"{point.staffing_cost_per_hour:>12,.6g}"
            if self.targets:
                row += f"  {point.mark:^7}"
            if point.changes in knees:
                row += f"  ← knee ({self.knee_kpi})"
            lines.append(row.rstrip())
        lines.append("")
        lines.append(f"(staff cost in {self.currency or 'currency'} per hour: Σ capacity × "
                     "cost_per_hour, paid whether busy or idle)")
        if self.targets:
            lines.append(f"targets ({pct} intervals): " + "; ".join(self.targets))
            lines.append("  ✓ every one met, ✗ one not met, ? inconclusive")
        for s, knee in zip(self.sweeps, self.knees(), strict=True):
            where = ", ".join(f"{c.path} = {c.after}" for c in s.results[0].model.changes
                              if c.path != s.path)
            if knee is not None:
                lines.append(knee.describe(s.path) + (f" ({where})" if where else ""))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.summary())}</pre>"


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def sweep_grid(
    model: Model,
    vary: Mapping[str, Iterable[float] | str],
    *,
    kpis: Iterable[str] | None = None,
    confidence: float = 0.95,
    knee_kpi: str = "cycle_time",
    name: str | None = None,
    **simulate_kwargs: Any,
) -> GridSweepResult:
    """Sweep several parameters at once: :func:`sweep` over the last path, for every
    combination of the values of the others (a grid), every point with the same seed.

    Parameters
    ----------
    model : Model
        The base model; its key results and KPI targets (if any) are judged at every point.
    vary : mapping of dotted path to values
        Values as a sequence of numbers or a text as :func:`parse_values` reads
        (``"3..9"``, ``"4,6,10"``).
    kpis : iterable of str, optional
        The KPIs to tabulate (default: cycle_time, waiting_time, cost_per_case, and every KPI
        a key result or target uses).
    confidence : float
        Level of the intervals and verdicts (0.95).
    knee_kpi : str
        The KPI whose knee is marked (mean).
    **simulate_kwargs
        Passed to :func:`procsim.simulate` for every point (``replications``, ``cases``, …).

    Raises
    ------
    OptimiseError
        For values that are not numbers or an empty range; a key result relative to the
        baseline when the base model is unstable.
    procsim.ModelError
        For a path that does not exist.

    Examples
    --------
    >>> from procsim import parse_model
    >>> desk = parse_model('''
    ... procsim: 1
    ... name: Desk
    ... arrivals: {interarrival: {dist: exponential, mean: 1}}
    ... resources: {clerks: {capacity: 3, cost_per_hour: 30}}
    ... activities: {serve: {resource: clerks, duration: {dist: exponential, mean: 2.4}}}
    ... flow: {start: serve, serve: end}
    ... ''')
    >>> g = sweep_grid(desk, {"resources.clerks.capacity": "2..4",
    ...                       "activities.serve.duration.mean": [2.0, 2.4]},
    ...                replications=3, cases=500, warmup=50, seed=1)
    >>> [(p.values["resources.clerks.capacity"], p.reason[:8]) for p in g.points][:3]
    [(2, 'unstable'), (2, 'unstable'), (3, '')]
    """
    expect_model(model)
    from procsim.model.targets import kpi_kind
    from procsim.okr import judge, key_results, kpi_values

    if isinstance(vary, (str, bytes)) or not isinstance(vary, Mapping) or not vary:
        raise OptimiseError("expected at least one parameter to vary, as {dotted path: values}")
    axes: dict[str, list[float]] = {}
    for path, values in vary.items():
        given = parse_values(values, path=path) if isinstance(values, str) else list(values)
        if not given:
            raise OptimiseError(f"{path}: expected at least one value, got none")
        axes[path] = given
    paths = tuple(axes)
    inner = paths[-1]
    options, passed_on = RunOptions.split(model, simulate_kwargs)
    seed = options.seed
    shown = list(kpis) if kpis is not None else ["cycle_time", "waiting_time", "cost_per_case"]
    for okr in model.okrs:
        for key_result in okr.key_results:
            if key_result.kpi not in shown and key_result.kpi not in model.kpis:
                shown.append(key_result.kpi)
    for kpi in shown:
        if kpi_kind(kpi, model.kpis) is None:
            raise OptimiseError(f"unknown KPI {quote(kpi)}; expected a standard KPI such as "
                                "cycle_time, or one of the model's")

    points: list[GridPoint] = []
    sweeps: list[SweepResult] = []
    for combo in itertools.product(*(axes[p] for p in paths[:-1])):
        outer = dict(zip(paths[:-1], combo, strict=True))
        base = apply_changes(model, outer) if outer else model
        label = ", ".join(f"{p} = {v:g}" for p, v in outer.items())
        try:
            s: SweepResult | None = sweep(base, inner, axes[inner], options=options,
                                          name=name or str(model.name), **passed_on)
        except UnstableModelError:
            s = None
        except ValueError as exc:
            raise OptimiseError(f"{inner}: {exc}") from None
        by_value = dict(zip(s.values, s.results, strict=True)) if s is not None else {}
        reasons = {k.value: k.reason for k in s.skipped} if s is not None else {}
        for value in sorted(axes[inner]):
            changes = (*outer.items(), (inner, value))
            result = by_value.get(value)
            point_model = result.model if result is not None else apply_changes(
                base, {inner: value}, name=f"{model.name} ({label or inner} {value:g})")
            reason = "" if result is not None else (
                reasons.get(value) or unstable_reason(point_model) or "not simulated")
            staff = float(sum(p.capacity * p.cost_per_hour
                              for p in point_model.resources.values()))
            points.append(GridPoint(tuple(changes), result, reason, (), staff))
        if s is not None:
            sweeps.append(s)

    targets: list[str] = []
    simulated = [p for p in points if p.result is not None]
    has_targets = bool(model.okrs) or any(getattr(k, "target", None) for k in model.kpis.values())
    if simulated and has_targets:
        from procsim.model.targets import kpi_target

        relative = any(k.change is not None for okr in model.okrs for k in okr.key_results)
        reference = simulated[0].result
        assert reference is not None
        baseline = None
        if relative:
            if unstable_reason(model) is not None:
                raise OptimiseError("a key result relative to the baseline (change: …) needs a "
                                    "stable base model to compare with; this one is unstable")
            baseline = simulate(model, options=options, **passed_on)
            reference = baseline
        krs = key_results(model, reference)
        targets = [kr.text for kr in krs]
        health = [(name_, kpi_target(model, name_)) for name_, k in model.kpis.items()
                  if getattr(k, "target", None)]
        targets += [f"{name_} {t.text}" for name_, t in health]
        judged = []
        for point in points:
            if point.result is None:
                judged.append(point)
                continue
            verdicts = []
            for spec in krs:
                v = kpi_values(point.result, spec.kpi, spec.stat, model)
                if spec.relative:
                    assert baseline is not None
                    b = kpi_values(baseline, spec.kpi, spec.stat, model)
                    n = min(len(v), len(b))
                    v = v[:n] / b[:n] - 1.0
                verdicts.append(judge(v, spec.threshold, confidence=confidence))
            for name_, t in health:
                verdicts.append(judge(kpi_values(point.result, name_, "mean", model), t,
                                      confidence=confidence))
            judged.append(GridPoint(point.changes, point.result, point.reason, tuple(verdicts),
                                    point.staffing_cost_per_hour))
        points = judged
    return GridSweepResult(name or str(model.name), paths, tuple(points), tuple(sweeps),
                           tuple(targets), tuple(shown), seed, confidence,
                           model.currency or "", knee_kpi)


def parse_values(text: str, *, path: str = "") -> list[float]:
    """The values of ``--vary PATH=VALUES``: ``3..9`` (integers, both ends), ``0.5..2:0.5``
    (a step), or a list ``4,6,10``.

    Raises
    ------
    OptimiseError
        For an empty range, a step that is not positive, or a value that is not a number.

    Examples
    --------
    >>> parse_values("3..6"), parse_values("0.5..1.5:0.5"), parse_values("4, 6,10")
    ([3, 4, 5, 6], [0.5, 1.0, 1.5], [4, 6, 10])
    """
    where = f"{path}=" if path else ""
    raw = text.strip()
    if not raw:
        raise OptimiseError(f"{where}{quote(text)}: expected values such as 3..9 or 4,6,10, "
                            "got nothing")
    m = re.fullmatch(r"(.+?)\s*\.\.\s*([^:]+?)\s*(?::\s*(.+))?", raw)
    if m:
        lo, hi = _number(m.group(1), where, text), _number(m.group(2), where, text)
        step = _number(m.group(3), where, text) if m.group(3) else 1
        if not step > 0:
            raise OptimiseError(f"{where}{text}: expected a step > 0, got {step:g}")
        if hi < lo:
            raise OptimiseError(f"{where}{text}: the range is empty (expected LO..HI with "
                                f"LO <= HI, got {lo:g} > {hi:g})")
        count = math.floor((hi - lo) / step + 1e-9) + 1
        if count > 10_000:
            raise OptimiseError(f"{where}{text}: expected at most 10,000 values, got {count:,}")
        values = [lo + i * step for i in range(count)]
        if all(isinstance(v, int) for v in (lo, step)):
            return [int(v) for v in values]
        return [round(float(v), 12) for v in values]
    values = [_number(part, where, text) for part in raw.split(",")]
    if len(set(values)) != len(values):
        raise OptimiseError(f"{where}{text}: a value is given twice")
    return values


def _number(part: str, where: str, text: str) -> float:
    part = part.strip()
    try:
        value: float = int(part)
    except ValueError:
        try:
            value = float(part)
        except ValueError:
            raise OptimiseError(f"{where}{quote(text)}: expected numbers, got {quote(part)}"
                                ) from None
    if not math.isfinite(value):
        raise OptimiseError(f"{where}{quote(text)}: expected finite numbers, got {quote(part)}")
    return value
