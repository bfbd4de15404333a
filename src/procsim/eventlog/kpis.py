"""KPIs measured from an event log, named and computed like the simulated ones.

The log is the population: every KPI is a plain measurement over its cases (no warm-up, no
replications, no confidence interval). Definitions (times in ``time_unit``; see
docs/eventlogs.md, "KPIs from a log"):

- ``cycle_time`` per case: from its first ``enabled`` time (where the log has one) or else
  its first ``start``, whichever is earlier, to its last ``end``.
- ``waiting_time`` per case: summed over its activity instances; an instance waits from its
  ``enabled`` time where the log has one, otherwise from the latest ``end`` of the case's
  activities that started before it (0 when one of them is still running, so parallel work
  never counts as waiting), and 0 for the first activity of a case without an enabled time.
- ``processing_time`` per case: the durations (``start`` → ``end``) of its activities,
  summed; with a ``model``, the activities the model runs as delays (no resource) count in
  ``delay_time`` instead, as in a simulation.
- per activity: ``count``, ``visits_per_case``, ``share_of_cases``, mean ``waiting_time``
  and ``processing_time`` per execution.
- per resource (as the log names it): ``instances``, ``busy_time`` (durations summed),
  ``busy_servers`` (busy time over the log's span), ``utilization`` (that over the
  resource's capacity: the model's pool capacity, else 1, a person) and
  ``utilization_of_active_span`` (busy time over the resource's own first start to last end).
- system: the log's span is its first case start to its last end; ``throughput_per_hour``
  and ``throughput_per_week`` are completed cases over it; ``wip`` the time-average number
  of cases between their start and end (a series too, over 100 windows).
- custom KPIs (``kpis:`` of a model or an OKR file): shares within/over a threshold, shares
  of cases visiting an activity, statistics of the KPIs above, each with its ``target``
  judged on track or off track on the measured value.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from procsim.eventlog.log import EventLog
from procsim.model.targets import SYSTEM_KPIS, Threshold, kpi_kind, kpi_target, parse_stat
from procsim.units import SECONDS_PER, format_duration

__all__ = ["CASE_KPIS_FROM_LOG", "Health", "LogKpis", "load_log_targets", "log_kpis"]

#: The per-case KPIs a log gives (costs and working time need a model's rates and calendars).
CASE_KPIS_FROM_LOG = ("cycle_time", "waiting_time", "processing_time", "delay_time")
PERCENTILES = (50, 90, 95)
WIP_WINDOWS = 100
_NS_PER_HOUR = 3600e9


@dataclass(frozen=True)
class Health:
    """A KPI's measured value against its target: the log is the population, so the verdict
    is the comparison itself (no interval)."""

    kpi: str
    value: float
    threshold: Threshold
    kind: str
    #: the unit of ``value`` and the target for a time
    time_unit: str = "minutes"

    @property
    def on_track(self) -> bool:
        return bool(math.isfinite(self.value) and self.threshold.holds(self.value))

    @property
    def status(self) -> str:
        return "on_track" if self.on_track else "off_track"

    def to_dict(self) -> dict[str, Any]:
        return {"value": _num(self.value), "target": self.threshold.text,
                "status": self.status}


@dataclass(frozen=True)
class LogKpis:
    """The KPIs of an event log (see the module's definitions); from :func:`log_kpis`."""

    file: str | None
    time_unit: str
    time_zone: str | None
    cases: int
    events: int
    first: Any  # pandas.Timestamp: the first start (or enabled) time
    last: Any   # pandas.Timestamp: the last end
    per_case: dict[str, np.ndarray]
    values: dict[str, float]
    activities: dict[str, dict[str, float]]
    resources: dict[str, dict[str, float]]
    custom: dict[str, float] = field(default_factory=dict)
    custom_kinds: dict[str, str] = field(default_factory=dict)
    health: dict[str, Health] = field(default_factory=dict)
    wip_series: tuple[tuple[Any, float], ...] = ()
    weekly_completions: tuple[tuple[str, int], ...] = ()
    dropped: int = 0
    #: case arrivals (first starts) per hour of the day (0–23), in the log's local time
    arrivals_by_hour: tuple[int, ...] = ()
    #: case arrivals per day of the week, Monday first
    arrivals_by_weekday: tuple[int, ...] = ()
    #: activity starts per hour of the day (0–23), in the log's local time
    events_by_hour: tuple[int, ...] = ()

    @property
    def off_track(self) -> list[str]:
        """The KPIs with a target that the log does not meet."""
        return [name for name, h in self.health.items() if not h.on_track]

    def kpi(self, name: str, stat: str = "mean") -> float:
        """A statistic (``mean``, ``median``, ``pXX``) of a per-case KPI, or the value of a
        system or custom KPI."""
        if name in self.per_case:
            q = parse_stat(stat)
            values = self.per_case[name]
            if values.size == 0:
                return math.nan
            return float(values.mean() if q is None else np.percentile(values, q))
        if name in self.values:
            return self.values[name]
        if name in self.custom:
            return self.custom[name]
        raise KeyError(f"unknown KPI '{name}'")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (the structure of ``procsim kpis --json``)."""
        from procsim import __version__

        kpis: dict[str, Any] = {}
        for name, values in self.per_case.items():
            entry: dict[str, Any] = {"mean": _num(self.kpi(name))}
            entry.update({f"p{q}": _num(self.kpi(name, f"p{q}")) for q in PERCENTILES})
            entry.update({"min": _num(float(values.min())) if values.size else None,
                          "max": _num(float(values.max())) if values.size else None,
                          "unit": self.time_unit})
            kpis[name] = entry
        units = {"throughput_per_hour": "cases/hour", "throughput_per_week": "cases/week",
                 "wip": "cases"}
        for name, value in self.values.items():
            kpis[name] = {"mean": _num(value), "unit": units.get(name, "")}
        for name, value in self.custom.items():
            kind = self.custom_kinds.get(name, "share")
            kpis[name] = {"mean": _num(value),
                          "unit": self.time_unit if kind == "time" else kind}
        return {
            "procsim_version": __version__,
            "file": self.file,
            "time_unit": self.time_unit,
            "time_zone": self.time_zone,
            "cases": self.cases,
            "events": self.events,
            "dropped_rows": self.dropped,
            "period": {"first": _iso(self.first), "last": _iso(self.last)},
            "kpis": kpis,
            "activities": {name: {k: _num(v) for k, v in m.items()}
                           for name, m in self.activities.items()},
            "resources": {name: {k: _num(v) for k, v in m.items()}
                          for name, m in self.resources.items()},
            "health": {name: h.to_dict() for name, h in self.health.items()},
            "series": {
                "wip": [{"time": _iso(t), "wip": _num(w)} for t, w in self.wip_series],
                "completions_per_week": [{"week": w, "cases": n}
                                         for w, n in self.weekly_completions],
                "arrivals_by_hour": list(self.arrivals_by_hour),
                "arrivals_by_weekday": list(self.arrivals_by_weekday),
                "events_by_hour": list(self.events_by_hour),
            },
        }

    def summary(self) -> str:
        """A readable table of the log's KPIs, activities, resources and KPI health."""
        unit = self.time_unit
        names = list(self.per_case)
        width = max(22, *(len(n) + 1 for n in [*names, *self.custom]))
        lines = [f"{self.file or '<log>'}: {self.cases:,} cases, {self.events:,} activity "
                 f"instances, {_iso(self.first)} to {_iso(self.last)}"
                 + (f" ({self.dropped:,} bad rows dropped)" if self.dropped else ""), "",
                 f"{'KPI':<{width}}{'mean':>12}{'p50':>12}{'p90':>12}{'p95':>12}  unit"]
        for name in names:
            stats = [self.kpi(name)] + [self.kpi(name, f"p{q}") for q in PERCENTILES]
            lines.append(f"{name:<{width}}" + "".join(f"{v:>12.4g}" for v in stats)
                         + f"  {unit}")
        shown = {"throughput_per_week": "cases/week", "wip": "cases"}
        for name, label in shown.items():
            lines.append(f"{name:<{width}}{self.values[name]:>12.4g}{'':>36}  {label}")
        for name, value in self.custom.items():
            kind = self.custom_kinds.get(name, "share")
            text = f"{value:>12.1%}" if kind == "share" else f"{value:>12.4g}"
            lines.append(f"{name:<{width}}{text}{'':>36}  {unit if kind == 'time' else kind}")
        aw = min(40, max(22, *(len(a) + 1 for a in self.activities)))
        lines += ["", f"{'activity':<{aw}}{'count':>9}{'visits/case':>12}{'of cases':>10}"
                      f"{'wait':>12}{'duration':>12}   (times in {unit})"]
        for name, m in self.activities.items():
            lines.append(f"{name:<{aw}}{int(m['count']):>9}{m['visits_per_case']:>12.3g}"
                         f"{m['share_of_cases']:>10.1%}{m['waiting_time']:>12.4g}"
                         f"{m['processing_time']:>12.4g}")
        if self.resources:
            rw = min(40, max(22, *(len(r) + 1 for r in self.resources)))
            lines += ["", f"{'resource':<{rw}}{'instances':>10}{'busy time':>12}"
                          f"{'utilisation':>13}{'of active span':>16}"]
            for name, m in self.resources.items():
                lines.append(f"{name:<{rw}}{int(m['instances']):>10}{m['busy_time']:>12.1f}"
                             f"{m['utilization']:>13.1%}"
                             f"{m['utilization_of_active_span']:>16.1%}")
            lines.append("(utilisation: busy time over the log's span × capacity, 1 for a "
                         "person; of active span: over the resource's first start to last end)")
        if self.health:
            lines += ["", "KPI health (the log's measured value against the target):"]
            for name, h in self.health.items():
                shown_value = (f"{h.value:.1%}" if h.kind == "share" else
                               format_duration(h.value, h.time_unit) if h.kind == "time"
                               else f"{h.value:.4g}")
                mark = "✓ on track " if h.on_track else "✗ off track"
                lines.append(f"  {mark}  {name}: {shown_value} (target {h.threshold.text})")
        return "\n".join(lines)


def _num(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _iso(moment: Any) -> str | None:
    if moment is None:
        return None
    return str(moment.isoformat())


def log_kpis(log: EventLog, *, model: Any = None, time_unit: str | None = None) -> LogKpis:
    """Measure the KPIs of ``log`` (definitions in :mod:`procsim.eventlog.kpis`).

    Parameters
    ----------
    log : EventLog
    model : procsim.model.Model, optional
        Gives the time unit, the custom ``kpis:`` (with their targets), the pools'
        capacities and which activities are delays. ``procsim kpis --okrs`` builds one from
        the OKR file.
    time_unit : str, optional
        ``seconds``, ``minutes``, ``hours`` or ``days``; default the model's, else minutes.

    Raises
    ------
    ValueError
        For an empty log, or a custom KPI a log cannot measure (costs, working time).

    Examples
    --------
    >>> import pandas as pd
    >>> from procsim.eventlog import EventLog
    >>> t = pd.to_datetime(["2026-01-05 09:00", "2026-01-05 09:10", "2026-01-05 09:30",
    ...                     "2026-01-05 09:45"])
    >>> frame = pd.DataFrame({"case": ["c1", "c1"], "activity": ["a", "b"],
    ...     "resource": ["ann", "bob"], "start": t[[0, 2]], "end": t[[1, 3]],
    ...     "enabled": pd.to_datetime([pd.NaT, pd.NaT]), "line": [2, 3]})
    >>> k = log_kpis(EventLog(frame))
    >>> k.kpi("cycle_time"), k.kpi("processing_time"), k.kpi("waiting_time")
    (45.0, 25.0, 20.0)
    """
    import pandas as pd

    frame = log.frame
    if len(frame) == 0:
        raise ValueError(f"{log.file or 'the log'}: no activity instances to measure")
    unit = time_unit or (getattr(model, "time_unit", None) if model is not None else None) \
        or "minutes"
    if unit not in SECONDS_PER:
        raise ValueError(f"time unit: expected seconds, minutes, hours or days, got {unit!r}")
    ns_per_unit = SECONDS_PER[unit] * 1e9

    case_codes, case_names = pd.factorize(frame["case"], sort=False)
    act_codes, act_names = pd.factorize(frame["activity"], sort=True)
    n_cases = len(case_names)
    # Nanoseconds after the first start, as floats: exact to the nanosecond for ~100 days,
    # to a microsecond for centuries (since the epoch they would be only to ~256 ns).
    base = int(pd.DatetimeIndex(frame["start"]).asi8.min())
    start = _ns(frame["start"], base)
    end = _ns(frame["end"], base)
    enabled_col = frame["enabled"]
    has_enabled = ~enabled_col.isna().to_numpy()
    enabled = np.where(has_enabled, _ns(enabled_col.fillna(frame["start"]), base), start)

    # Order of start within each case, for the "previous activity's end" rule.
    order = np.lexsort((start, case_codes))
    s_case, s_start, s_end = case_codes[order], start[order], end[order]
    first_in_case = np.ones(len(order), dtype=bool)
    first_in_case[1:] = s_case[1:] != s_case[:-1]
    # Latest end among the earlier-started activities of the case (cumulative max by case).
    prev_end = pd.Series(s_end).groupby(s_case).cummax().shift(1).to_numpy(dtype=np.float64)
    prev_end[first_in_case] = np.nan
    fallback = np.where(np.isnan(prev_end), 0.0, np.maximum(s_start - prev_end, 0.0))
    wait_sorted = np.where(has_enabled[order], s_start - enabled[order], fallback)
    wait = np.empty_like(wait_sorted)
    wait[order] = wait_sorted
    wait /= ns_per_unit
    duration = (end - start) / ns_per_unit

    delays = _delay_activities(model, list(act_names))
    is_delay = np.isin(act_codes, np.array(sorted(delays), dtype=np.intp)) if delays else \
        np.zeros(len(act_codes), dtype=bool)
    case_first = np.minimum(_group(case_codes, n_cases, enabled, np.minimum),
                            _group(case_codes, n_cases, start, np.minimum))
    case_last = _group(case_codes, n_cases, end, np.maximum)
    per_case = {
        "cycle_time": (case_last - case_first) / ns_per_unit,
        "waiting_time": np.bincount(case_codes, weights=wait, minlength=n_cases),
        "processing_time": np.bincount(case_codes, weights=np.where(is_delay, 0.0, duration),
                                       minlength=n_cases),
        "delay_time": np.bincount(case_codes, weights=np.where(is_delay, duration, 0.0),
                                  minlength=n_cases),
    }

    t0, t1 = float(case_first.min()), float(case_last.max())
    span_ns = t1 - t0
    span_hours = span_ns / _NS_PER_HOUR
    values = {
        "throughput_per_hour": n_cases / span_hours if span_hours > 0 else math.nan,
        "throughput_per_week": n_cases / (span_hours / 168.0) if span_hours > 0 else math.nan,
        "wip": float(np.sum(case_last - case_first)) / span_ns if span_ns > 0 else math.nan,
    }

    activities: dict[str, dict[str, float]] = {}
    counts = np.bincount(act_codes, minlength=len(act_names))
    wait_sum = np.bincount(act_codes, weights=wait, minlength=len(act_names))
    dur_sum = np.bincount(act_codes, weights=duration, minlength=len(act_names))
    pairs = np.unique(act_codes.astype(np.int64) * n_cases + case_codes)
    cases_with = np.bincount(pairs // n_cases, minlength=len(act_names))
    for a, name in enumerate(act_names):
        activities[str(name)] = {
            "count": float(counts[a]),
            "visits_per_case": counts[a] / n_cases,
            "share_of_cases": cases_with[a] / n_cases,
            "waiting_time": wait_sum[a] / counts[a],
            "processing_time": dur_sum[a] / counts[a],
        }

    resources: dict[str, dict[str, float]] = {}
    res = frame["resource"]
    named = ~res.isna().to_numpy()
    if named.any():
        res_codes, res_names = pd.factorize(res[named], sort=True)
        r_start, r_end = start[named], end[named]
        busy = np.bincount(res_codes, weights=(r_end - r_start), minlength=len(res_names))
        count = np.bincount(res_codes, minlength=len(res_names))
        lo = _group(res_codes, len(res_names), r_start, np.minimum)
        hi = _group(res_codes, len(res_names), r_end, np.maximum)
        pools = getattr(model, "resources", {}) if model is not None else {}
        for r, name in enumerate(res_names):
            capacity = getattr(pools.get(str(name)), "capacity", 1) or 1
            busy_servers = busy[r] / span_ns if span_ns > 0 else math.nan
            active = hi[r] - lo[r]
            resources[str(name)] = {
                "instances": float(count[r]),
                "busy_time": busy[r] / ns_per_unit,
                "capacity": float(capacity),
                "busy_servers": busy_servers,
                "utilization": busy_servers / capacity,
                "utilization_of_active_span": busy[r] / (active * capacity) if active > 0
                else math.nan,
            }

    # Hours and weekdays of the wall clock in the log's own zone (naive: as written).
    case_starts = frame["start"].groupby(case_codes, sort=False).min()
    arrivals_by_hour = np.bincount(case_starts.dt.hour.to_numpy(), minlength=24)
    arrivals_by_weekday = np.bincount(case_starts.dt.dayofweek.to_numpy(), minlength=7)
    events_by_hour = np.bincount(frame["start"].dt.hour.to_numpy(), minlength=24)
    first = _moment(frame["start"], t0, base)
    last = _moment(frame["start"], t1, base)
    custom, kinds, health = _custom_kpis(model, per_case, values, activities, n_cases, unit)
    return LogKpis(
        file=log.file, time_unit=unit, time_zone=log.time_zone, cases=n_cases,
        events=len(frame), first=first, last=last, per_case=per_case, values=values,
        activities=activities, resources=resources, custom=custom, custom_kinds=kinds,
        health=health,
        wip_series=_wip_series(frame["start"], base, case_first, case_last, t0, t1),
        weekly_completions=_weekly(frame["start"], base, case_last),
        dropped=len(log.dropped),
        arrivals_by_hour=tuple(int(n) for n in arrivals_by_hour),
        arrivals_by_weekday=tuple(int(n) for n in arrivals_by_weekday),
        events_by_hour=tuple(int(n) for n in events_by_hour),
    )


def load_log_targets(path: str | os.PathLike[str], *, activities: Sequence[str] = (),
                     time_unit: str = "minutes") -> Any:
    """The ``kpis:`` (and ``okrs:``) of an OKR file, as a model for :func:`log_kpis`.

    The file is the one ``procsim compare --okrs`` takes. A log has no model, so the KPIs
    are read into a stand-in model with the given ``time_unit`` (targets such as
    ``"<= 2h"`` are converted to it) and checked as ``compare`` checks them; a ``visits``
    KPI must name one of the log's ``activities``.

    Raises
    ------
    ModelError
        Naming the OKR file, line and field of every problem.
    """
    from procsim.errors import Issue, ModelError, close_match_hint, quote
    from procsim.model.load import model_from_data, read_text
    from procsim.model.scenario import with_okrs
    from procsim.model.yamlpos import read_yaml

    file = os.fspath(path)
    data, _, _ = read_yaml(read_text(file), file)
    kpis = data.get("kpis") if isinstance(data, dict) else None
    visited = sorted({str(spec["visits"]) for spec in (kpis or {}).values()
                      if isinstance(kpis, dict) and isinstance(spec, dict)
                      and isinstance(spec.get("visits"), str)}) if isinstance(kpis, dict) \
        else []
    # The stand-in's activities: those the visits KPIs name (checked against the log below),
    # as delays in a line; "start" and "end" are the flow's own nodes.
    names = [n for n in visited if n not in ("start", "end")] or ["work"]
    flow: dict[str, Any] = {"start": names[0]}
    for a, b in zip(names, [*names[1:], "end"], strict=True):
        flow[a] = b
    stand_in = model_from_data({
        "procsim": 1, "name": "event log", "time_unit": time_unit,
        "arrivals": {"interarrival": {"dist": "exponential", "mean": 1}},
        "activities": {n: {"duration": {"dist": "exponential", "mean": 1}} for n in names},
        "flow": flow,
    })
    model = with_okrs(stand_in, file)
    if activities:
        known = set(activities)
        issues = []
        for name, spec in model.kpis.items():
            visits = getattr(spec, "visits", None)
            if visits is not None and visits not in known:
                line, col = model.position("kpis", name, "visits") or (None, None)
                hint = close_match_hint(visits, sorted(known))
                issues.append(Issue(f"kpis.{name}.visits", f"unknown activity {quote(visits)}"
                                    f"{hint}: not in the log", file, line, col))
        if issues:
            raise ModelError(issues, file)
    return model


def _ns(column: Any, base: int) -> np.ndarray:
    """Nanoseconds after ``base`` (since the epoch, UTC for zoned times) as floats."""
    import pandas as pd

    return (pd.DatetimeIndex(column).asi8 - base).astype(np.float64)


def _moment(column: Any, ns: float, base: int) -> Any:
    import pandas as pd

    zone = pd.DatetimeIndex(column).tz
    moment = pd.Timestamp(base + round(ns), unit="ns", tz="UTC" if zone is not None else None)
    return moment.tz_convert(zone) if zone is not None else moment


def _group(codes: np.ndarray, n: int, values: np.ndarray, ufunc: Any) -> np.ndarray:
    out = np.full(n, np.inf if ufunc is np.minimum else -np.inf)
    ufunc.at(out, codes, values)
    return out


def _delay_activities(model: Any, names: list[str]) -> set[int]:
    """Indexes of the log's activities that the model runs as delays (no resource)."""
    if model is None:
        return set()
    specs = getattr(model, "activities", {}) or {}
    return {i for i, name in enumerate(names)
            if name in specs and getattr(specs[name], "resource", "x") is None}


def _wip_series(column: Any, base: int, first: np.ndarray, last: np.ndarray, t0: float, t1: float
                ) -> tuple[tuple[Any, float], ...]:
    """Time-average WIP in ``WIP_WINDOWS`` equal windows of the span (window starts)."""
    if t1 <= t0:
        return ()
    edges = np.linspace(t0, t1, WIP_WINDOWS + 1)
    lo, hi = edges[:-1], edges[1:]
    out = []
    for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
        overlap = np.clip(np.minimum(last, b) - np.maximum(first, a), 0.0, None)
        out.append((_moment(column, a, base), float(overlap.sum() / (b - a))))
    return tuple(out)


def _weekly(column: Any, base: int, last: np.ndarray) -> tuple[tuple[str, int], ...]:
    """Cases completed (their last end) per ISO week, in the log's time zone."""
    import pandas as pd

    zone = pd.DatetimeIndex(column).tz
    ends = pd.to_datetime(base + np.rint(last).astype(np.int64), unit="ns", utc=zone is not None)
    if zone is not None:
        ends = ends.tz_convert(zone)
    iso = ends.isocalendar()
    labels = [f"{y}-W{w:02d}" for y, w in zip(iso["year"].tolist(), iso["week"].tolist(),
                                                strict=True)]
    counts: dict[str, int] = {}
    for label in sorted(labels):
        counts[label] = counts.get(label, 0) + 1
    return tuple(counts.items())


def _custom_kpis(model: Any, per_case: dict[str, np.ndarray], values: dict[str, float],
                 activities: dict[str, dict[str, float]], n_cases: int, unit: str
                 ) -> tuple[dict[str, float], dict[str, str], dict[str, Health]]:
    """The model's custom KPIs measured on the log, and the health of those with a target."""
    if model is None:
        return {}, {}, {}
    specs = getattr(model, "kpis", {}) or {}
    # Custom KPIs are read in the model's time unit (their thresholds and targets are).
    factor = SECONDS_PER[unit] / SECONDS_PER[model.time_unit]
    in_model_unit = {k: v * factor for k, v in per_case.items()}
    custom: dict[str, float] = {}
    kinds: dict[str, str] = {}
    health: dict[str, Health] = {}
    for name, spec in specs.items():
        kind = kpi_kind(name, specs) or "share"
        value = _custom_value(name, spec, in_model_unit, values, activities)
        if getattr(spec, "target", None):
            health[name] = Health(name, value, kpi_target(model, name), kind,
                                  model.time_unit)
        custom[name], kinds[name] = (value / factor if kind == "time" else value), kind
    return custom, kinds, health


def _custom_value(name: str, spec: Any, per_case: dict[str, np.ndarray],
                  values: dict[str, float], activities: dict[str, dict[str, float]]
                  ) -> float:
    """A custom KPI's value (``per_case`` in the model's time unit)."""
    def cases(kpi: str) -> np.ndarray:
        if kpi not in per_case:
            raise ValueError(f"kpis.{name}: {kpi} cannot be measured from a log (it needs "
                             "costs or calendars)")
        return per_case[kpi]

    of = getattr(spec, "of", None)
    if of:
        if of in SYSTEM_KPIS:
            if of not in values:
                raise ValueError(f"kpis.{name}: {of} cannot be measured from a log")
            return values[of]
        q = parse_stat(spec.stat or "mean")
        data = cases(of)
        return float(data.mean() if q is None else np.percentile(data, q))
    visits = getattr(spec, "visits", None)
    if visits:
        return activities.get(visits, {}).get("share_of_cases", 0.0)
    data = cases(spec.share)
    limit = spec.within if spec.within is not None else spec.over
    if not isinstance(limit, int | float):
        raise ValueError(f"kpis.{name}: a threshold in working time cannot be measured from "
                         "a log")
    if spec.within is not None:
        return float(np.mean(data <= limit))
    return float(np.mean(data > limit))
