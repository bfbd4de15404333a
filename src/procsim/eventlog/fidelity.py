"""How faithfully simulated logs reproduce a real one: back-testing a model against a log.

Two views, both on :class:`~procsim.eventlog.EventLog` objects (a log read with
:func:`procsim.eventlog.read_log`, simulated logs from
:func:`procsim.eventlog.simulated.simulated_log`):

- :func:`distances` / :func:`backtest_distances`: the distance measures the field uses,
  as the ``log-distance-measures`` package (Apache-2.0; Chapela-Campa et al.) defines them,
  for one simulated log, or as a mean with a Student-t interval across replications;
- :func:`compare_kpis`: the log's KPIs (cycle time mean and 90th percentile, waiting and
  processing time per case, as :func:`procsim.eventlog.kpis.log_kpis` measures them) beside
  the simulated mean with its confidence interval, and whether the log's value lies inside
  the simulation's *prediction* interval for one more replication;
- :func:`backtest_model`: the whole back-test of a model against a log, as ``procsim
  backtest`` runs it (the model's activities matched to the log's, :func:`match_activities`).

The measures (keys of :data:`MEASURES`; lower is closer, 0 for a log against itself):

``n_gram``
    3-gram distribution distance of the activity sequences, normalised to [0, 1] (the sum
    of absolute differences of the 3-gram counts over the total count of both logs).
``absolute_event``
    Earth mover's (1-Wasserstein) distance between the start and end times of the events,
    in hours after the earlier log's first hour.
``circadian_event``
    The same per weekday on the hour of the day (0–23), averaged over the seven days (a
    weekday with events in one log only counts 23).
``relative_event``
    The same on the times relative to the start of their case, in hours.
``case_arrival``
    The same on the cases' first start times, in hours.
``inter_arrival``
    The same on the times between consecutive case arrivals, in bins of ``bin_hours``.
``cycle_time``
    The same on the cases' cycle times (first start to last end), in bins of ``bin_hours``
    (hours by default: the unit of the published figures).
``work_in_progress``
    The same on the active cases per hour, in hours.

Every EMD is the package's default metric (1-Wasserstein,
:func:`scipy.stats.wasserstein_distance`, on hour bins), unnormalised, so its unit is hours
(bins of ``bin_hours`` for the inter-arrival and cycle-time measures). Time zones: a
simulated log in another zone is converted into the log's zone (the circadian measure reads
hours of the day in the log's local time); a naive log compared with a zone-aware one is
compared on wall-clock times.

The values are computed by :func:`procsim.eventlog.distances.log_distances`, which repeats
the package's arithmetic vectorised: the same values (to the last bit; work in progress
within rounding), 50 to 100 times faster (tests/test_eventlog_distances.py checks them
against the package; ``python bench/fidelity.py`` times both). ``reference=True`` calls the
package itself (``pip install 'procsim[fidelity]'``). pandas is optional (``pip install
'procsim[logs]'``): it is imported only when a distance is computed.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

# Every measure distances() knows, in the order reports show them (MEASURES), and their
# checks: one list for procsim's implementation and the package's.
from procsim.errors import LogError, UsageError
from procsim.eventlog.distances import MEASURES, check_measures, log_distances
from procsim.eventlog.kpis import LogKpis, log_kpis
from procsim.eventlog.log import EventLog, expect_log
from procsim.stats import Estimate, estimate

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_MEASURES",
    "KPIS",
    "MEASURES",
    "ActivityMatch",
    "BacktestResult",
    "KpiComparison",
    "as_logged",
    "backtest",
    "backtest_distances",
    "backtest_model",
    "cases_before",
    "cases_from",
    "compare_kpis",
    "distances",
    "match_activities",
    "prediction_interval",
    "write_log_csv",
]

#: The measures computed by default: all of them.
DEFAULT_MEASURES = MEASURES
#: The KPIs :func:`compare_kpis` puts side by side: (per-case KPI, statistic).
KPIS = (("cycle_time", "mean"), ("cycle_time", "p90"), ("waiting_time", "mean"),
        ("processing_time", "mean"))

_INSTALL = "pip install 'procsim[fidelity]'"


def _package() -> Any:
    try:
        import log_distance_measures  # noqa: F401  (the package itself, for the error)
        from log_distance_measures import (
            absolute_event_distribution,
            case_arrival_distribution,
            circadian_event_distribution,
            config,
            cycle_time_distribution,
            n_gram_distribution,
            relative_event_distribution,
            work_in_progress,
        )
    except ImportError as exc:
        raise ImportError(
            "reference=True computes the distances with the log-distance-measures package: "
            f"{_INSTALL}") from exc

    class Package:
        ids = config.EventLogIDs(case="case", activity="activity", start_time="start",
                                 end_time="end", resource="resource")
        n_gram = n_gram_distribution.n_gram_distribution_distance
        absolute = absolute_event_distribution.absolute_event_distribution_distance
        circadian = circadian_event_distribution.circadian_event_distribution_distance
        relative = relative_event_distribution.relative_event_distribution_distance
        case_arrival = case_arrival_distribution.case_arrival_distribution_distance
        inter_arrival = case_arrival_distribution.inter_arrival_distribution_distance
        cycle_time = cycle_time_distribution.cycle_time_distribution_distance
        wip = work_in_progress.work_in_progress_distance

    return Package


def _folded(name: str) -> str:
    """``name`` lower-cased with every run of other characters than letters and digits as
    one ``_`` (how ``procsim discover`` names activities), for a last-resort match."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


@dataclass(frozen=True)
class ActivityMatch:
    """Which of a model's activities a log records, and under which name.

    ``names`` maps each model activity the log has to the log's name for it;
    ``unlogged`` are the model's activities the log has no name for (left out of the
    simulated logs: e.g. the ``wait_before_…`` delays of a discovered model);
    ``unsimulated`` the log's activities no model activity stands for (the simulation can
    never produce them; the distances count them as differences).
    """

    names: dict[str, str]
    unlogged: tuple[str, ...] = ()
    unsimulated: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"names": dict(self.names), "unlogged": list(self.unlogged),
                "unsimulated": list(self.unsimulated)}


def match_activities(model: Any, log: EventLog) -> ActivityMatch:
    """Match ``model``'s activities to the activity names of ``log``.

    A model activity matches the log's activity of the same name; else the one named by its
    ``description`` (``procsim discover`` keeps the log's name there); else the only log
    activity whose name folds to the same text (lower case, every run of characters other
    than letters and digits as one ``_``: ``"Check credit"`` and ``check_credit``). Each log
    name is taken at most once, by exact names first.

    Raises
    ------
    ValueError
        When no activity of the model matches one of the log: the two describe different
        processes (or the log's activity column is not the one meant).

    Examples
    --------
    >>> import pandas as pd, procsim
    >>> from procsim.eventlog import EventLog
    >>> t = pd.to_datetime(["2026-01-05 09:00", "2026-01-05 09:10"])
    >>> log = EventLog(pd.DataFrame({"case": ["c1"], "activity": ["Review claim"],
    ...     "resource": ["ann"], "start": t[[0]], "end": t[[1]],
    ...     "enabled": pd.to_datetime([pd.NaT]), "line": [2]}))
    >>> model = procsim.parse_model('''
    ... procsim: 1
    ... name: Claims
    ... arrivals: {interarrival: {dist: exponential, mean: 30}}
    ... activities:
    ...   wait_for_customer: {duration: {dist: exponential, mean: 60}}
    ...   review: {description: Review claim, duration: {dist: exponential, mean: 10}}
    ... flow: {start: wait_for_customer, wait_for_customer: review, review: end}
    ... ''')
    >>> m = match_activities(model, log)
    >>> m.names, m.unlogged
    ({'review': 'Review claim'}, ('wait_for_customer',))
    """
    expect_log(log)
    from procsim.simulate import expect_model

    expect_model(model)
    specs = dict(getattr(model, "activities", {}) or {})
    logged = [str(a) for a in log.frame["activity"].unique().tolist()]
    free = set(logged)
    names: dict[str, str] = {}
    for name in specs:                       # 1. the same name
        if name in free:
            names[name] = name
            free.discard(name)
    for name, spec in specs.items():         # 2. the description
        description = (getattr(spec, "description", "") or "").strip()
        if name not in names and description in free:
            names[name] = description
            free.discard(description)
    folded: dict[str, list[str]] = {}
    for original in sorted(free):            # 3. the only one that folds the same
        folded.setdefault(_folded(original), []).append(original)
    for name in specs:
        candidates = folded.get(_folded(name), [])
        if name not in names and len(candidates) == 1 and candidates[0] in free:
            names[name] = candidates[0]
            free.discard(candidates[0])
    if not names:
        shown = ", ".join(repr(a) for a in logged[:5]) + (", …" if len(logged) > 5 else "")
        raise UsageError(
            f"{log.file or 'the log'}: none of the model's activities ("
            f"{', '.join(list(specs)[:5])}{', …' if len(specs) > 5 else ''}) is an activity "
            f"of the log ({shown}), by name, by description or by a name that differs only "
            "in case and punctuation: are they the same process?")
    return ActivityMatch(names=names,
                         unlogged=tuple(n for n in specs if n not in names),
                         unsimulated=tuple(a for a in logged if a in free))


def as_logged(simulated: EventLog, match: ActivityMatch) -> EventLog:
    """``simulated`` as the log would have recorded it: activities under the log's names
    (``match.names``), the unlogged ones left out.

    An activity that an unlogged one enabled (its enabled time is the unlogged instance's
    end, in the same case) gets the unlogged instance's enabled time instead, through any
    chain of them: waiting in an unlogged delay is waiting before the logged activity, as
    the real log would show it.

    Examples
    --------
    >>> import pandas as pd
    >>> from procsim.eventlog import EventLog
    >>> t = pd.to_datetime(["2026-01-05 09:00", "2026-01-05 10:00", "2026-01-05 10:20"])
    >>> sim = EventLog(pd.DataFrame({"case": ["0-1", "0-1"], "activity": ["wait", "review"],
    ...     "resource": [pd.NA, "clerk"], "start": t[[0, 1]], "end": t[[1, 2]],
    ...     "enabled": t[[0, 1]], "line": [1, 2]}))
    >>> out = as_logged(sim, ActivityMatch(names={"review": "Review"}, unlogged=("wait",)))
    >>> row = out.frame.iloc[0]
    >>> row["activity"], str(row["enabled"]), str(row["start"])
    ('Review', '2026-01-05 09:00:00', '2026-01-05 10:00:00')
    """
    import pandas as pd

    frame = simulated.frame
    kept = frame["activity"].isin(list(match.names)).to_numpy()
    if kept.all():
        out = frame.assign(activity=frame["activity"].map(match.names))
        return EventLog(out, file=simulated.file, time_zone=simulated.time_zone,
                        dropped=simulated.dropped)
    enabled = frame["enabled"].copy()
    dropped = frame.loc[~kept, ["case", "end", "enabled"]]
    # (case, end of an unlogged instance) → its enabled time; resolved through chains.
    source = dict(zip(zip(dropped["case"].tolist(), dropped["end"].tolist(), strict=True),
                      dropped["enabled"].tolist(), strict=True))
    if source:
        cases = frame["case"].tolist()
        values = enabled.tolist()
        for i in range(len(values)):
            seen = 0
            while (cases[i], values[i]) in source and seen <= len(source):
                values[i] = source[(cases[i], values[i])]
                seen += 1
        enabled = pd.Series(values, index=frame.index, dtype=frame["enabled"].dtype)
    out = frame.assign(enabled=enabled)[kept]
    out = out.assign(activity=out["activity"].map(match.names)).reset_index(drop=True)
    return EventLog(out, file=simulated.file, time_zone=simulated.time_zone,
                    dropped=simulated.dropped)


def _aligned(log: EventLog, simulated: EventLog) -> tuple[Any, Any]:
    """The two frames (only the columns the measures read), times comparable."""
    cols = ["case", "activity", "resource", "start", "end"]
    a = log.frame[cols].copy()
    b = simulated.frame[cols].copy()
    tz_a = getattr(a["start"].dtype, "tz", None)
    tz_b = getattr(b["start"].dtype, "tz", None)
    for column in ("start", "end"):
        if tz_a is not None and tz_b is not None:
            b[column] = b[column].dt.tz_convert(tz_a)
        elif tz_a is not None:   # the log is zone-aware, the simulation naive: wall clock
            a[column] = a[column].dt.tz_localize(None)
        elif tz_b is not None:
            b[column] = b[column].dt.tz_localize(None)
    return a, b


def distances(log: EventLog, simulated: EventLog, *,
              measures: Sequence[str] = DEFAULT_MEASURES,
              bin_hours: float = 1.0, reference: bool = False) -> dict[str, float]:
    """The distance measures between ``log`` and one ``simulated`` log.

    Parameters
    ----------
    log : EventLog
        The real log (the "original" of ``log-distance-measures``).
    simulated : EventLog
        One simulated log, e.g. one replication from
        :func:`procsim.eventlog.simulated.simulated_log`.
    measures : sequence of str
        Which of :data:`MEASURES` to compute (default: all).
    bin_hours : float
        Bin width, in hours, of the inter-arrival and cycle-time histograms.
    reference : bool
        Compute them with the ``log-distance-measures`` package itself instead of
        :func:`procsim.eventlog.distances.log_distances` (the same values, 50 to 100 times
        slower; its ``work_in_progress`` fails with pandas 2.3).

    Returns
    -------
    dict
        ``{measure: distance}`` in the order of :data:`MEASURES`; units in the module's
        docstring. Lower is closer; a log against itself gives 0. ``inter_arrival`` is NaN
        when a log has a single case.

    Raises
    ------
    ImportError
        With ``reference=True`` and without ``log-distance-measures``
        (``pip install 'procsim[fidelity]'``).
    ValueError
        For an unknown measure, an empty log or ``bin_hours <= 0``.

    Examples
    --------
    >>> import pandas as pd
    >>> from procsim.eventlog import EventLog
    >>> t = pd.to_datetime(["2026-01-05 09:00", "2026-01-05 09:10", "2026-01-05 09:30",
    ...                     "2026-01-05 10:45"])
    >>> frame = pd.DataFrame({"case": ["c1", "c1"], "activity": ["a", "b"],
    ...     "resource": ["ann", "bob"], "start": t[[0, 2]], "end": t[[1, 3]],
    ...     "enabled": pd.to_datetime([pd.NaT, pd.NaT]), "line": [2, 3]})
    >>> log = EventLog(frame)
    >>> d = distances(log, log)
    >>> d["n_gram"], d["cycle_time"]
    (0.0, 0.0)
    """
    expect_log(log)
    expect_log(simulated, "simulated")
    check_measures(measures, bin_hours)
    for which, each in (("the log", log), ("the simulated log", simulated)):
        if len(each) == 0:
            raise LogError(f"{each.file or which}: no activity instances to compare")
    a, b = _aligned(log, simulated)
    wanted = [m for m in MEASURES if m in measures]
    if not reference:
        return log_distances(a, b, measures=wanted, bin_hours=bin_hours)
    from datetime import timedelta

    p = _package()
    ids = p.ids
    bins = timedelta(hours=bin_hours)
    compute: dict[str, Callable[[], float]] = {
        "n_gram": lambda: p.n_gram(a, ids, b, ids, n=3, normalize=True),
        "absolute_event": lambda: p.absolute(a, ids, b, ids),
        "circadian_event": lambda: p.circadian(a, ids, b, ids),
        "relative_event": lambda: p.relative(a, ids, b, ids),
        "case_arrival": lambda: p.case_arrival(a, ids, b, ids),
        # One case has no inter-arrival time: NaN rather than scipy's error.
        "inter_arrival": lambda: (p.inter_arrival(a, ids, b, ids, bin_size=bins)
                                  if min(log.cases, simulated.cases) > 1 else math.nan),
        "cycle_time": lambda: p.cycle_time(a, ids, b, ids, bin_size=bins),
        # normalize=False: the package prints a warning when it normalises.
        "work_in_progress": lambda: p.wip(a, ids, b, ids, normalize=False),
    }
    return {m: float(compute[m]()) for m in wanted}


def backtest_distances(log: EventLog, simulated_logs: Sequence[EventLog],
                       confidence: float = 0.95, *,
                       measures: Sequence[str] = DEFAULT_MEASURES,
                       bin_hours: float = 1.0, reference: bool = False
                       ) -> dict[str, Estimate]:
    """Each distance measure's mean and Student-t interval across replications.

    :func:`distances` of ``log`` against each simulated log (one per independent
    replication), summarised by :func:`procsim.stats.estimate`.

    Examples
    --------
    >>> import pandas as pd
    >>> from procsim.eventlog import EventLog
    >>> t = pd.to_datetime(["2026-01-05 09:00", "2026-01-05 09:10"])
    >>> frame = pd.DataFrame({"case": ["c1"], "activity": ["a"], "resource": ["ann"],
    ...     "start": t[[0]], "end": t[[1]], "enabled": pd.to_datetime([pd.NaT]), "line": [2]})
    >>> log = EventLog(frame)
    >>> e = backtest_distances(log, [log, log])["cycle_time"]
    >>> e.mean, e.half_width
    (0.0, 0.0)
    """
    if not simulated_logs:
        raise UsageError("expected at least one simulated log")
    per_replication = [distances(log, s, measures=measures, bin_hours=bin_hours,
                                 reference=reference) for s in simulated_logs]
    return {m: estimate([d[m] for d in per_replication], confidence)
            for m in per_replication[0]}


def prediction_interval(values: Sequence[float], confidence: float = 0.95
                        ) -> tuple[float, float]:
    """Student-t prediction interval for one more replication's value.

    ``mean ± t(R-1, (1+confidence)/2) · s · sqrt(1 + 1/R)`` over the ``R`` replications'
    values (NaN ignored): where the value of one further independent replication falls
    with probability ``confidence`` if the replications' values are close to normal (KPIs
    averaged over many cases are). Unlike the percentile range of the replications, it
    needs no more than a handful of replications. ``(nan, nan)`` for fewer than two values.

    Examples
    --------
    >>> lo, hi = prediction_interval([9.0, 10.0, 11.0])
    >>> round(lo, 3), round(hi, 3)
    (5.032, 14.968)
    """
    from scipy.special import stdtrit

    e = estimate(values, confidence)
    if e.n < 2:
        return (math.nan, math.nan)
    t = float(stdtrit(e.n - 1, 0.5 + confidence / 2.0))
    half = t * e.sd * math.sqrt(1.0 + 1.0 / e.n)
    return (e.mean - half, e.mean + half)


@dataclass(frozen=True)
class KpiComparison:
    """One KPI of the log beside the simulation's (see :func:`compare_kpis`).

    ``simulated`` is the mean across replications with its confidence interval;
    ``prediction`` the Student-t prediction interval of one replication
    (:func:`prediction_interval`); ``inside`` whether ``log`` lies in it.
    """

    kpi: str
    stat: str
    log: float
    simulated: Estimate
    prediction: tuple[float, float]

    @property
    def inside(self) -> bool:
        lo, hi = self.prediction
        return bool(lo <= self.log <= hi)

    def to_dict(self) -> dict[str, object]:
        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {"kpi": self.kpi, "stat": self.stat, "log": num(self.log),
                "simulated": self.simulated.to_dict(),
                "prediction_interval": [num(self.prediction[0]), num(self.prediction[1])],
                "inside": self.inside}


def _without_enabled(log: EventLog) -> EventLog:
    import pandas as pd

    frame = log.frame.assign(enabled=pd.Series(pd.NaT, index=log.frame.index,
                                               dtype=log.frame["start"].dtype))
    return EventLog(frame, file=log.file, time_zone=log.time_zone, dropped=log.dropped)


def compare_kpis(log: EventLog, simulated_logs: Sequence[EventLog],
                 confidence: float = 0.95, *, time_unit: str = "hours",
                 model: Any = None) -> dict[str, KpiComparison]:
    """The log's KPIs beside the simulated ones, keyed ``"<kpi>.<stat>"`` (:data:`KPIS`).

    Both sides are measured by :func:`procsim.eventlog.kpis.log_kpis` with the same
    definitions. When the log has no enabled times, the simulated logs' enabled times are
    ignored too, so that cycle and waiting times are measured the same way on both sides.

    Examples
    --------
    >>> import pandas as pd
    >>> from procsim.eventlog import EventLog
    >>> t = pd.to_datetime(["2026-01-05 09:00", "2026-01-05 10:00"])
    >>> frame = pd.DataFrame({"case": ["c1"], "activity": ["a"], "resource": ["ann"],
    ...     "start": t[[0]], "end": t[[1]], "enabled": pd.to_datetime([pd.NaT]), "line": [2]})
    >>> log = EventLog(frame)
    >>> c = compare_kpis(log, [log, log])["cycle_time.mean"]
    >>> c.log, c.simulated.mean, c.inside
    (1.0, 1.0, True)
    """
    measured, simulated = _measure(log, simulated_logs, time_unit=time_unit, model=model)
    return _side_by_side(measured, simulated, confidence)


def _measure(log: EventLog, simulated_logs: Sequence[EventLog], *, time_unit: str,
             model: Any) -> tuple[LogKpis, list[LogKpis]]:
    """The KPIs of the log and of each simulated log, measured the same way."""
    if not simulated_logs:
        raise UsageError("expected at least one simulated log")
    measured = log_kpis(log, model=model, time_unit=time_unit)
    if not log.frame["enabled"].notna().any():
        simulated_logs = [_without_enabled(s) for s in simulated_logs]
    return measured, [log_kpis(s, model=model, time_unit=time_unit) for s in simulated_logs]


def _side_by_side(measured: LogKpis, simulated: Sequence[LogKpis], confidence: float
                  ) -> dict[str, KpiComparison]:
    out: dict[str, KpiComparison] = {}
    for kpi, stat in KPIS:
        values = [s.kpi(kpi, stat) for s in simulated]
        out[f"{kpi}.{stat}"] = KpiComparison(
            kpi=kpi, stat=stat, log=measured.kpi(kpi, stat),
            simulated=estimate(values, confidence),
            prediction=prediction_interval(values, confidence))
    return out


@dataclass(frozen=True)
class BacktestResult:
    """Distances and KPIs of a back-test (:func:`backtest`).

    ``log_kpis`` and ``simulated_kpis`` are the full KPIs of the log and of each simulated
    log (:class:`~procsim.eventlog.kpis.LogKpis`, for the report's overlays); they are not
    part of :meth:`to_dict`.
    """

    distances: dict[str, Estimate]
    kpis: dict[str, KpiComparison]
    replications: int
    confidence: float
    time_unit: str
    bin_hours: float = 1.0
    log_kpis: LogKpis | None = field(default=None, repr=False, compare=False)
    simulated_kpis: tuple[LogKpis, ...] = field(default=(), repr=False, compare=False)
    activities: ActivityMatch | None = None
    simulated_logs: tuple[EventLog, ...] = field(default=(), repr=False, compare=False)
    seed: int | None = None
    first: Any = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: ``distances.<measure>`` (:meth:`Estimate.to_dict`, plus ``unit``)
        and ``kpis.<kpi>.<stat>`` as :meth:`KpiComparison.to_dict`."""
        units = {m: "hours" for m in MEASURES}
        units.update(n_gram="ratio", circadian_event="hours of the day")
        units.update(inter_arrival=f"bins of {self.bin_hours:g} h",
                     cycle_time=f"bins of {self.bin_hours:g} h")
        return {
            "replications": self.replications,
            "confidence": self.confidence,
            "time_unit": self.time_unit,
            "distances": {m: {**e.to_dict(), "unit": units[m]}
                          for m, e in self.distances.items()},
            "kpis": {k: c.to_dict() for k, c in self.kpis.items()},
            **({} if self.activities is None else {"activities": self.activities.to_dict()}),
        }

    def summary(self) -> str:
        """A plain-text table of both views."""
        pct = round(self.confidence * 100)
        lines = []
        if self.activities is not None and self.activities.unlogged:
            lines.append("Left out of the simulated logs (the log has no such activity): "
                         + ", ".join(self.activities.unlogged))
        if self.activities is not None and self.activities.unsimulated:
            lines.append("In the log but not in the model (counted as differences): "
                         + ", ".join(self.activities.unsimulated))
        lines.append(f"Distances to the log ({self.replications} replications, mean and "
                     f"{pct}% interval; lower is closer)")
        for m, e in self.distances.items():
            lo, hi = e.ci
            lines.append(f"  {m:<18} {e.mean:>12.4g}  [{lo:.4g}, {hi:.4g}]")
        lines.append(f"KPIs ({self.time_unit}): log | simulated mean [{pct}% CI] | "
                     f"{pct}% prediction interval | log inside?")
        for name, c in self.kpis.items():
            lo, hi = c.simulated.ci
            plo, phi = c.prediction
            lines.append(f"  {name:<22} {c.log:>10.4g} | {c.simulated.mean:.4g} "
                         f"[{lo:.4g}, {hi:.4g}] | [{plo:.4g}, {phi:.4g}] | "
                         f"{'yes' if c.inside else 'NO'}")
        return "\n".join(lines)


def backtest(log: EventLog, simulated_logs: Sequence[EventLog], confidence: float = 0.95,
             *, measures: Sequence[str] = DEFAULT_MEASURES, bin_hours: float = 1.0,
             time_unit: str = "hours", model: Any = None,
             activities: ActivityMatch | None = None) -> BacktestResult:
    """:func:`backtest_distances` and :func:`compare_kpis` in one result.

    ``simulated_logs`` are compared as they are: give them the log's activity names first
    (:func:`as_logged`), or use :func:`backtest_model`, which does. ``activities`` (the
    :class:`ActivityMatch` used) is only recorded in the result.
    """
    measured, simulated = _measure(log, simulated_logs, time_unit=time_unit, model=model)
    return BacktestResult(
        distances=backtest_distances(log, simulated_logs, confidence, measures=measures,
                                     bin_hours=bin_hours),
        kpis=_side_by_side(measured, simulated, confidence),
        replications=len(simulated_logs), confidence=confidence, time_unit=time_unit,
        bin_hours=bin_hours, log_kpis=measured, simulated_kpis=tuple(simulated),
        activities=activities, simulated_logs=tuple(simulated_logs))


def backtest_model(model: Any, log: EventLog, *, replications: int = 10,
                   seed: int | None = None, test_from: Any = None,
                   confidence: float = 0.95, measures: Sequence[str] = DEFAULT_MEASURES,
                   bin_hours: float = 1.0, jobs: int | None = 1) -> BacktestResult:
    """Simulate ``model`` over ``log``'s cases and period, and back-test it against them.

    What ``procsim backtest`` does: the simulation starts at the log's first case start (or
    at ``test_from``, keeping only the log's cases that start from then, :func:`cases_from`),
    runs as many cases as the log has, without warm-up (the log's process starts where the
    log does), ``replications`` times; each replication's log gets the log's activity names
    and loses the activities the log does not record (:func:`match_activities`,
    :func:`as_logged`), and :func:`backtest` compares them with the log. The simulated logs
    are in the log's time zone and kept in ``result.simulated_logs``; ``result.seed`` is the
    root seed (drawn when ``seed`` is None) and ``result.first`` the simulation's start.

    Raises
    ------
    ValueError
        When ``test_from`` cannot be read or no case of the log starts from it, or the model
        and the log share no activity (:func:`match_activities`).

    Examples
    --------
    >>> import procsim
    >>> from procsim.eventlog.simulated import simulated_log
    >>> model = procsim.parse_model('''
    ... procsim: 1
    ... name: One desk
    ... start: 2026-01-05T08:00
    ... arrivals: {interarrival: {dist: exponential, mean: 5}}
    ... resources: {clerk: {capacity: 1}}
    ... activities: {serve: {resource: clerk, duration: {dist: exponential, mean: 4}}}
    ... flow: {start: serve, serve: end}
    ... ''')
    >>> run = procsim.simulate(model, replications=1, cases=300, seed=7, warmup=0,
    ...                        keep_records=True)
    >>> log = simulated_log(run)            # stands for a real log here
    >>> result = backtest_model(model, log, replications=5, seed=1)
    >>> result.replications, len(result.simulated_logs), result.kpis["cycle_time.mean"].inside
    (5, 5, True)
    """
    expect_log(log)
    from procsim.simulate import expect_model

    expect_model(model)
    import pandas as pd

    from procsim.simulate import simulate

    if test_from is not None:
        whole = log
        log = cases_from(log, test_from)
        if log.cases == 0:
            raise UsageError(
                f"{str(test_from)!r}: no case of {log.file or 'the log'} starts at or after "
                f"it (its cases start from {whole.frame['start'].min()} to "
                f"{whole.frame['start'].max()})")
    match = match_activities(model, log)
    tz = getattr(log.frame["start"].dtype, "tz", None)
    if test_from is None:
        first = log.frame["start"].min()
    else:
        first = pd.Timestamp(test_from)
        first = (first if tz is None else first.tz_localize(tz) if first.tz is None
                 else first.tz_convert(tz))
    first = first.floor("us")  # a datetime holds microseconds
    # The model's start is local wall time; the simulated logs are in the log's zone.
    local = first.tz_localize(None) if tz is not None else first
    model = model.model_copy(update={"start": local.to_pydatetime()})
    run = simulate(model, replications=replications, cases=log.cases, warmup=0, seed=seed,
                   keep_records=True, jobs=jobs)
    from procsim.eventlog.simulated import simulated_log

    simulated = [as_logged(simulated_log(run, r, origin=first.to_pydatetime()), match)
                 for r in range(replications)]
    result = backtest(log, simulated, confidence, measures=measures, bin_hours=bin_hours,
                      time_unit=model.time_unit, model=model, activities=match)
    return dataclasses.replace(result, seed=run.seed, first=first)


def _moment(log: EventLog, when: Any) -> Any:
    """``when`` as a pandas Timestamp in ``log``'s zone (see :func:`cases_from`)."""
    import pandas as pd

    try:
        moment = pd.Timestamp(when)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"expected a date or date-time such as 2026-01-31 or "
                         f"2026-01-31T09:00, got {str(when)!r}") from exc
    if moment is pd.NaT:
        raise UsageError(f"expected a date or date-time, got {str(when)!r}")
    tz = getattr(log.frame["start"].dtype, "tz", None)
    if tz is None and moment.tz is not None:
        raise UsageError(f"{str(when)!r} has a UTC offset but the log's times have none; "
                         "give the date-time without one")
    if tz is not None:
        moment = moment.tz_localize(tz) if moment.tz is None else moment.tz_convert(tz)
    return moment


def _cases_where(log: EventLog, keep: Callable[[Any], Any]) -> EventLog:
    frame = log.frame
    first = frame.groupby("case", sort=False)["start"].transform("min")
    kept = frame[keep(first).to_numpy()].reset_index(drop=True)
    return EventLog(kept, file=log.file, time_zone=log.time_zone, dropped=log.dropped)


def cases_from(log: EventLog, since: Any) -> EventLog:
    """The cases of ``log`` whose first ``start`` is at or after ``since``.

    ``since`` is a date or date-time (a string, :class:`datetime.datetime` or
    :class:`pandas.Timestamp`). A naive ``since`` is read in the log's time zone; one with a
    UTC offset is converted into it, and is refused for a log of naive local times.
    :func:`cases_before` gives the other cases: together, a split in time into training and
    test cases.

    Raises
    ------
    ValueError
        When ``since`` cannot be read as a date-time, or its zone does not match the log's.

    Examples
    --------
    >>> import pandas as pd
    >>> from procsim.eventlog import EventLog
    >>> t = pd.to_datetime(["2026-01-05 09:00", "2026-01-05 10:00", "2026-01-06 09:00",
    ...                     "2026-01-06 10:00"])
    >>> frame = pd.DataFrame({"case": ["c1", "c2"], "activity": ["a", "a"],
    ...     "resource": ["ann", "ann"], "start": t[[0, 2]], "end": t[[1, 3]],
    ...     "enabled": pd.to_datetime([pd.NaT, pd.NaT]), "line": [2, 3]})
    >>> cases_from(EventLog(frame), "2026-01-06").frame["case"].tolist()
    ['c2']
    >>> cases_before(EventLog(frame), "2026-01-06").frame["case"].tolist()
    ['c1']
    """
    expect_log(log)
    moment = _moment(log, since)
    return _cases_where(log, lambda first: first >= moment)


def cases_before(log: EventLog, until: Any) -> EventLog:
    """The cases of ``log`` whose first ``start`` is before ``until``: the training cases
    of a split in time whose test cases :func:`cases_from` gives (``until`` read as there).
    """
    expect_log(log)
    moment = _moment(log, until)
    return _cases_where(log, lambda first: first < moment)


#: The columns of :func:`write_log_csv`.
CSV_COLUMNS = ("case_id", "activity", "resource", "start_time", "end_time")


def write_log_csv(log: EventLog, path: str | os.PathLike[str]) -> Path:
    """Write ``log`` as CSV: one row per activity instance, in the order of the frame.

    Columns :data:`CSV_COLUMNS`: ``case_id``, ``activity``, ``resource`` (empty when the
    instance has none), ``start_time`` and ``end_time`` in ISO 8601 to the microsecond, with
    the log's UTC offset (``+00:00`` for UTC) or without one for a log of naive local times.
    :func:`procsim.eventlog.read_log` reads it back with the same cases and zone. Text cells
    go through :func:`procsim.output.spreadsheet_safe`; the file is written atomically.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> from procsim.eventlog import EventLog, read_log
    >>> t = pd.to_datetime(["2026-01-05 09:00+01:00", "2026-01-05 09:10+01:00"])
    >>> frame = pd.DataFrame({"case": ["c1"], "activity": ["a"], "resource": ["ann"],
    ...     "start": t[[0]], "end": t[[1]], "enabled": pd.Series([pd.NaT], dtype=t.dtype),
    ...     "line": [2]})
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
    >>> print(write_log_csv(EventLog(frame), out).read_text().splitlines()[1])
    c1,a,ann,2026-01-05T09:00:00.000000+01:00,2026-01-05T09:10:00.000000+01:00
    >>> read_log(out).time_zone
    'UTC+01:00'
    """
    expect_log(log)
    import csv

    import pandas as pd

    from procsim.output import atomic_write, spreadsheet_safe

    frame = log.frame

    def iso(column: Any) -> list[str]:
        text = column.dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
        if getattr(column.dtype, "tz", None) is not None:
            # %z is +0100; ISO 8601 extended (and every reader) wants +01:00.
            text = text + column.dt.strftime("%z").str.replace(r"(\d\d)$", r":\1",
                                                                regex=True)
        return [str(t) for t in text.tolist()]

    starts, ends = iso(frame["start"]), iso(frame["end"])
    resources = ["" if pd.isna(r) else spreadsheet_safe(str(r))
                 for r in frame["resource"].tolist()]

    def write(fh: IO[str]) -> None:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(CSV_COLUMNS)
        out.writerows(zip([spreadsheet_safe(str(c)) for c in frame["case"].tolist()],
                          [spreadsheet_safe(str(a)) for a in frame["activity"].tolist()],
                          resources, starts, ends, strict=True))

    return atomic_write(path, write)
