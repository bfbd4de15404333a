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
- per resource, against its working hours (:class:`WorkingHours`: a model's calendars when
  given, else discovered from the weekdays and hours in which the resource starts and ends
  work, see :func:`discover_working_hours`): ``available_time`` (capacity × the hours open
  in the log's span), ``busy_time_in_working_hours`` (the part of its busy time that falls
  in them) and ``utilization_of_working_hours`` (the one over the other), in the log's local
  wall-clock time. It is what a simulation calls a calendared pool's ``utilization``.
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
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from procsim.errors import LogError, UnknownKpiError, UsageError, close_match_hint, quote
from procsim.eventlog.log import EventLog, expect_log
from procsim.model.targets import SYSTEM_KPIS, Threshold, kpi_kind, kpi_target, parse_stat
from procsim.units import SECONDS_PER, format_duration

__all__ = ["CASE_KPIS_FROM_LOG", "MIN_CALENDAR_EVENTS", "Health", "LogKpis", "WorkingHours",
           "discover_working_hours", "hour_runs", "load_log_targets", "log_kpis"]

#: The per-case KPIs a log gives (costs and working time need a model's rates and calendars).
CASE_KPIS_FROM_LOG = ("cycle_time", "waiting_time", "processing_time", "delay_time")
PERCENTILES = (50, 90, 95)
WIP_WINDOWS = 100
#: Working hours are discovered from at least this many starts and ends of a resource: one
#: that worked at any hour would leave one of the 24 hours of the day without any with
#: probability below 0.1 % only from about 240 on (24 (23/24)^n < 0.001). The rule and the
#: number are those of ``procsim discover`` for a pool's calendar.
MIN_CALENDAR_EVENTS = 240
_NS_PER_HOUR = 3600e9
_NS_PER_DAY = 86_400 * 10**9
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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
class WorkingHours:
    """A resource's working hours, against which :func:`log_kpis` measures its utilisation,
    and where they come from.

    ``source`` is ``"given"`` (the ``calendar`` of the model's pool or person ``pool``,
    found by ``match``: ``"pool"`` or ``"person"`` for the resource's own name, ``"prefix"``
    for a pool named like its name without trailing digits; ``calendar`` is ``None`` when
    that pool works around the clock), ``"discovered"`` (from the resource's ``events``
    starts and ends in the log, by :func:`discover_working_hours`; ``intervals`` lists them
    as a model's ``calendars:`` does, ``(days, from, to)``, and is empty when every weekday
    and hour was seen: around the clock) or ``"unknown"`` (fewer than
    :data:`MIN_CALENDAR_EVENTS` starts and ends: no utilisation against working hours).

    Examples
    --------
    >>> hours = WorkingHours("discovered", events=900,
    ...                      intervals=((("mon", "tue", "wed", "thu", "fri"), "07:00", "16:00"),))
    >>> hours.text, hours.basis
    ('Mon–Fri 07:00–16:00', 'discovered (900 starts/ends)')
    """

    source: str
    events: int = 0
    intervals: tuple[tuple[tuple[str, ...], str, str], ...] = ()
    calendar: str | None = None
    pool: str | None = None
    match: str | None = None

    @property
    def text(self) -> str:
        """The hours, short: ``Mon–Fri 07:00–16:00``, a calendar's name, ``around the clock``."""
        if self.source == "given":
            return self.calendar or "around the clock"
        if self.source == "unknown":
            return "unknown"
        if not self.intervals:
            return "around the clock"
        by_days: dict[tuple[str, ...], list[str]] = {}
        for days, start, end in self.intervals:
            by_days.setdefault(days, []).append(f"{start}–{end}")
        return "; ".join(f"{_days_text(days)} {', '.join(runs)}" for days, runs in by_days.items())

    @property
    def basis(self) -> str:
        """Where the hours come from, in words."""
        if self.source == "given":
            how = {"pool": f"pool {self.pool}", "person": f"person {self.pool}",
                   "prefix": f"pool {self.pool} (name prefix)"}
            return "given: " + how.get(self.match or "", str(self.pool))
        if self.source == "discovered":
            return f"discovered ({self.events:,} starts/ends)"
        return f"only {self.events:,} starts/ends"

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "hours": self.text, "basis": self.basis,
                "events": self.events,
                "intervals": [{"days": list(days), "from": start, "to": end}
                              for days, start, end in self.intervals],
                "calendar": self.calendar, "pool": self.pool, "match": self.match}


def _days_text(days: Sequence[str]) -> str:
    """``Mon–Fri`` for a run of three or more consecutive days, else ``Mon, Wed``."""
    index = [_DAY_NAMES.index(d) for d in days]
    if len(index) >= 3 and index == list(range(index[0], index[0] + len(index))):
        return f"{days[0].capitalize()}–{days[-1].capitalize()}"
    return ", ".join(d.capitalize() for d in days)


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
    #: each resource's working hours (the same keys as ``resources``)
    working_hours: dict[str, WorkingHours] = field(default_factory=dict)
    #: the model file whose calendars gave working hours (``None``: discovered from the log)
    calendars_from: str | None = None

    @property
    def off_track(self) -> list[str]:
        """The KPIs with a target that the log does not meet."""
        return [name for name, h in self.health.items() if not h.on_track]

    @cached_property
    def case_statistics(self) -> dict[str, dict[str, float]]:
        """``mean``, ``p50``, ``p90``, ``p95``, ``min`` and ``max`` of each per-case KPI
        (NaN without cases), computed once for the tables, the JSON and the report."""
        out: dict[str, dict[str, float]] = {}
        for name, values in self.per_case.items():
            if values.size == 0:
                out[name] = dict.fromkeys(("mean", *(f"p{q}" for q in PERCENTILES), "min",
                                           "max"), math.nan)
                continue
            stats = {"mean": float(values.mean())}
            stats.update({f"p{q}": float(np.percentile(values, q)) for q in PERCENTILES})
            stats.update({"min": float(values.min()), "max": float(values.max())})
            out[name] = stats
        return out

    def kpi(self, name: str, stat: str = "mean") -> float:
        """A statistic (``mean``, ``median``, ``pXX``) of a per-case KPI, or the value of a
        system or custom KPI."""
        if name in self.per_case:
            q = parse_stat(stat)
            stats = self.case_statistics[name]
            if q is None or f"p{q:g}" in stats:
                return stats["mean" if q is None else f"p{q:g}"]
            values = self.per_case[name]
            return float(np.percentile(values, q)) if values.size else math.nan
        if name in self.values:
            return self.values[name]
        if name in self.custom:
            return self.custom[name]
        known = [*self.per_case, *self.values, *self.custom]
        raise UnknownKpiError(f"unknown KPI {quote(name)}{close_match_hint(name, known)}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (the structure of ``procsim kpis --json``)."""
        from procsim.version import __version__

        kpis: dict[str, Any] = {}
        for name, stats in self.case_statistics.items():
            kpis[name] = {key: _num(value) for key, value in stats.items()}
            kpis[name]["unit"] = self.time_unit
        units = {"throughput_per_hour": "cases/hour", "throughput_per_week": "cases/week",
                 "wip": "cases"}
        for name, value in self.values.items():
            kpis[name] = {"mean": _num(value), "unit": units.get(name, "")}
        for name, value in self.custom.items():
            kind = self.custom_kinds.get(name, "share")
            kpis[name] = {"mean": _num(value),
                          "unit": self.time_unit if kind == "time" else kind}
        resources: dict[str, Any] = {}
        for name, m in self.resources.items():
            resources[name] = {k: _num(v) for k, v in m.items()}
            if name in self.working_hours:
                resources[name]["working_hours"] = self.working_hours[name].to_dict()
        return {
            "procsim_version": __version__,
            "file": self.file,
            "time_unit": self.time_unit,
            "time_zone": self.time_zone,
            "cases": self.cases,
            "events": self.events,
            "dropped_rows": self.dropped,
            "period": {"first": _iso(self.first), "last": _iso(self.last)},
            "calendars_from": self.calendars_from,
            "kpis": kpis,
            "activities": {name: {k: _num(v) for k, v in m.items()}
                           for name, m in self.activities.items()},
            "resources": resources,
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
            stats = self.case_statistics[name]
            lines.append(f"{name:<{width}}" + "".join(
                f"{stats[key]:>12.4g}" for key in ("mean", *(f"p{q}" for q in PERCENTILES)))
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
            lines += ["", *self._resource_lines()]
        if self.health:
            lines += ["", "KPI health (the log's measured value against the target):"]
            for name, h in self.health.items():
                shown_value = (f"{h.value:.1%}" if h.kind == "share" else
                               format_duration(h.value, h.time_unit) if h.kind == "time"
                               else f"{h.value:.4g}")
                mark = "✓ on track " if h.on_track else "✗ off track"
                lines.append(f"  {mark}  {name}: {shown_value} (target {h.threshold.text})")
        return "\n".join(lines)

    def _resource_lines(self) -> list[str]:
        rw = min(40, max(22, *(len(r) + 1 for r in self.resources)))
        lines = [f"{'resource':<{rw}}{'instances':>10}{'busy time':>12}{'utilisation':>13}"
                 f"{'of active span':>16}{'of working hours':>18}  working hours"]
        for name, m in self.resources.items():
            hours = self.working_hours.get(name)
            lines.append(f"{name:<{rw}}{int(m['instances']):>10}{m['busy_time']:>12.1f}"
                         f"{_share(m['utilization']):>13}"
                         f"{_share(m['utilization_of_active_span']):>16}"
                         f"{_share(m.get('utilization_of_working_hours', math.nan)):>18}"
                         + ("" if hours is None else f"  {hours.text}" if
                            hours.source == "discovered" else f"  {hours.text} ({hours.basis})"))
        notes = ("(utilisation: busy time over the log's span × capacity, 1 for a person; of "
                 "active span: over the resource's first start to last end; of working hours: "
                 "the busy time in them over capacity × their open time in the span)",
                 _hours_note(self.working_hours, self.calendars_from))
        return lines + [textwrap.fill(note, 100) for note in notes]


def _hours_note(hours: dict[str, WorkingHours], calendars_from: str | None) -> str:
    """Where the working hours come from, in one line, for the tables."""
    given = sum(1 for h in hours.values() if h.source == "given")
    unknown = [n for n, h in hours.items() if h.source == "unknown"]
    parts = []
    if calendars_from is not None:
        parts.append(f"working hours: the calendars of {calendars_from} for {given} of "
                     f"{len(hours)} resources (by pool, person or name prefix)")
        if given < len(hours):
            parts.append("discovered from the log for the others")
    else:
        parts.append("working hours: discovered from the weekdays × hours in which each "
                     "resource starts and ends work")
    if unknown:
        parts.append(f"unknown for {len(unknown)} with fewer than {MIN_CALENDAR_EVENTS} "
                     "starts and ends")
    return "(" + "; ".join(parts) + ")"


def _share(value: float) -> str:
    return f"{value:.1%}" if math.isfinite(value) else "n/a"


def _num(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _iso(moment: Any) -> str | None:
    if moment is None:
        return None
    return str(moment.isoformat())


def log_kpis(log: EventLog, *, model: Any = None, time_unit: str | None = None,
             calendars: Any = None) -> LogKpis:
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
    calendars : procsim.model.Model, optional
        A model whose pools, people and calendars give the resources' working hours (and
        their capacities, in place of ``model``'s): a resource named like a pool takes the
        pool's calendar and capacity; one named like a person, the person's calendar; else
        one named like a pool after its trailing digits and separators are cut (``Clerk-007``
        → pool ``clerk``, case and spaces aside), one server on the pool's calendar. The
        others, and every resource without ``calendars``, get working hours discovered from
        the log (:func:`discover_working_hours`). ``procsim kpis --calendars`` passes one.

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
    expect_log(log)
    import pandas as pd

    frame = log.frame
    if len(frame) == 0:
        raise LogError(f"{log.file or 'the log'}: no activity instances to measure")
    unit = time_unit or (getattr(model, "time_unit", None) if model is not None else None) \
        or "minutes"
    if unit not in SECONDS_PER:
        raise UsageError(f"time unit: expected seconds, minutes, hours or days, got {unit!r}")
    ns_per_unit = SECONDS_PER[unit] * 1e9

    case_codes, case_names = pd.factorize(frame["case"], sort=False)
    act_codes, act_names = pd.factorize(frame["activity"], sort=True)
    n_cases = len(case_names)
    zone = pd.DatetimeIndex(frame["start"]).tz
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

    # Each case's first start, first moment (enabled or start) and last end: computed once,
    # for the per-case KPIs, the span, the arrival profiles, WIP and weekly completions.
    case_start = _group(case_codes, n_cases, start, np.minimum)
    case_first = np.minimum(_group(case_codes, n_cases, enabled, np.minimum), case_start)
    case_last = _group(case_codes, n_cases, end, np.maximum)
    delays = _delay_activities(model, list(act_names))
    is_delay = np.isin(act_codes, np.array(sorted(delays), dtype=np.intp)) if delays else \
        np.zeros(len(act_codes), dtype=bool)
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

    # The wall clock of the log's own zone (naive: as written), for hours and weekdays.
    wall_start, wall_end = _wall_ns(frame["start"]), _wall_ns(frame["end"])
    resources, hours = _resources(frame["resource"], start, end, span_ns, ns_per_unit,
                                  wall_start, wall_end, _wall_period(frame, has_enabled),
                                  calendars if calendars is not None else model,
                                  given=calendars is not None)

    case_hour, case_weekday = _hour_and_weekday(wall_start[order][first_in_case])
    event_hour, _ = _hour_and_weekday(wall_start)
    custom, kinds, health = _custom_kpis(model, per_case, values, activities, n_cases, unit)
    return LogKpis(
        file=log.file, time_unit=unit, time_zone=log.time_zone, cases=n_cases,
        events=len(frame), first=_moment(zone, t0, base), last=_moment(zone, t1, base),
        per_case=per_case, values=values, activities=activities, resources=resources,
        custom=custom, custom_kinds=kinds, health=health,
        wip_series=_wip_series(zone, base, case_first, case_last, t0, t1),
        weekly_completions=_weekly(zone, base, case_last),
        dropped=len(log.dropped),
        arrivals_by_hour=tuple(np.bincount(case_hour, minlength=24).tolist()),
        arrivals_by_weekday=tuple(np.bincount(case_weekday, minlength=7).tolist()),
        events_by_hour=tuple(np.bincount(event_hour, minlength=24).tolist()),
        working_hours=hours,
        calendars_from=None if calendars is None else (
            getattr(calendars, "file", None) or f"model '{getattr(calendars, 'name', '')}'"),
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


def _moment(zone: Any, ns: float, base: int) -> Any:
    """The moment ``ns`` after ``base`` (UTC for a zoned log), in the log's zone."""
    import pandas as pd

    moment = pd.Timestamp(base + round(ns), unit="ns", tz="UTC" if zone is not None else None)
    return moment.tz_convert(zone) if zone is not None else moment


def _group(codes: np.ndarray, n: int, values: np.ndarray, ufunc: Any) -> np.ndarray:
    out = np.full(n, np.inf if ufunc is np.minimum else -np.inf)
    ufunc.at(out, codes, values)
    return out


def _delay_activities(model: Any, names: list[str]) -> set[int]:
    """Indexes of the log's activities that the model runs as delays (no resource): a log
    activity is the model's activity of that name, else the one it describes (``procsim
    discover`` keeps the log's name in the ``description``; back-tested logs carry it)."""
    if model is None:
        return set()
    specs = getattr(model, "activities", {}) or {}
    described: dict[str, Any] = {}
    for spec in specs.values():
        described.setdefault((getattr(spec, "description", "") or "").strip(), spec)
    found = {i: specs[name] if name in specs else described.get(name)
             for i, name in enumerate(names)}
    return {i for i, spec in found.items()
            if spec is not None and getattr(spec, "resource", "x") is None}


def _wip_series(zone: Any, base: int, first: np.ndarray, last: np.ndarray, t0: float, t1: float
                ) -> tuple[tuple[Any, float], ...]:
    """Time-average WIP in ``WIP_WINDOWS`` equal windows of the span (window starts)."""
    if t1 <= t0:
        return ()
    edges = np.linspace(t0, t1, WIP_WINDOWS + 1)
    lo, hi = edges[:-1], edges[1:]
    out = []
    for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
        overlap = np.clip(np.minimum(last, b) - np.maximum(first, a), 0.0, None)
        out.append((_moment(zone, a, base), float(overlap.sum() / (b - a))))
    return tuple(out)


def _weekly(zone: Any, base: int, last: np.ndarray) -> tuple[tuple[str, int], ...]:
    """Cases completed (their last end) per ISO week, in the log's time zone."""
    import pandas as pd

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
            raise UsageError(f"kpis.{name}: {kpi} cannot be measured from a log (it needs "
                             "costs or calendars)")
        return per_case[kpi]

    of = getattr(spec, "of", None)
    if of:
        if of in SYSTEM_KPIS:
            if of not in values:
                raise UsageError(f"kpis.{name}: {of} cannot be measured from a log")
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
        raise UsageError(f"kpis.{name}: a threshold in working time cannot be measured from "
                         "a log")
    if spec.within is not None:
        return float(np.mean(data <= limit))
    return float(np.mean(data > limit))


# --- working hours ------------------------------------------------------------------------------


def discover_working_hours(starts: Any, ends: Any
                           ) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """The weekdays (0 is Monday) and hours of the day (0–23) in which a resource's work
    ``starts`` and ``ends`` fall; the working hours discovered from them are every such hour
    on every such day.

    ``starts`` and ``ends`` are date-times, one of each per activity instance (a time zone's
    wall clock is used). An end exactly on the hour counts in the hour before: work that ends
    at 17:00 was done in a shift that may close then. ``None`` when there are fewer than
    :data:`MIN_CALENDAR_EVENTS` starts and ends together: too few to tell a closed hour from
    one that happened to be idle. The rule is that of ``procsim discover`` for a pool's
    calendar; every weekday and hour means around the clock.

    Examples
    --------
    >>> import pandas as pd
    >>> days = pd.bdate_range("2026-01-05", periods=15)            # Mondays to Fridays
    >>> starts = [d + pd.Timedelta(hours=h) for d in days for h in range(9, 17)]
    >>> ends = [s + pd.Timedelta(hours=1) for s in starts]        # the last at 17:00
    >>> discover_working_hours(starts, ends)
    ((0, 1, 2, 3, 4), (9, 10, 11, 12, 13, 14, 15, 16))
    >>> discover_working_hours(starts[:100], ends[:100]) is None
    True
    """
    import pandas as pd

    start = _wall_ns(pd.Series(pd.to_datetime(list(starts))))
    end = _wall_ns(pd.Series(pd.to_datetime(list(ends))))
    return _hours_rule(*_hour_and_weekday(np.concatenate([start, _end_hour_ns(start, end)])))


def _end_hour_ns(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Ends for the working-hours rule: one nanosecond earlier (an end on the hour counts in
    the hour before), never before the start."""
    return np.maximum(end - 1, start)


def _hours_rule(hour: np.ndarray, weekday: np.ndarray
                ) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    if hour.size < MIN_CALENDAR_EVENTS:
        return None
    return tuple(np.unique(weekday).tolist()), tuple(np.unique(hour).tolist())


def hour_runs(hours: Sequence[int]) -> list[tuple[str, str]]:
    """``(from, to)`` of each run of consecutive hours of the day, as a calendar writes them.

    >>> hour_runs([7, 8, 9, 13, 14, 23])
    [('07:00', '10:00'), ('13:00', '15:00'), ('23:00', '24:00')]
    """
    runs: list[list[int]] = []
    for hour in hours:
        if runs and runs[-1][-1] == hour - 1:
            runs[-1].append(hour)
        else:
            runs.append([hour])
    return [(f"{run[0]:02d}:00", f"{run[-1] + 1:02d}:00") for run in runs]


def _hours_intervals(days: tuple[int, ...], hours: tuple[int, ...]
                     ) -> tuple[tuple[tuple[str, ...], str, str], ...]:
    """``(days, from, to)`` per run of consecutive hours (empty: around the clock)."""
    if len(days) == 7 and len(hours) == 24:
        return ()
    names = tuple(_DAY_NAMES[d] for d in days)
    return tuple((names, start, end) for start, end in hour_runs(hours))


class _OpenTime:
    """Open stretches of wall-clock time (float nanoseconds after the wall base, sorted and
    disjoint) and the open time they hold up to any moment, vectorised."""

    def __init__(self, opens: np.ndarray, closes: np.ndarray) -> None:
        self.opens, self.closes = opens, closes
        self.cumulative = np.concatenate([[0.0], np.cumsum(closes - opens)])

    @property
    def total(self) -> float:
        return float(self.cumulative[-1])

    def until(self, t: np.ndarray) -> np.ndarray:
        """Open time from the first stretch to each of ``t``."""
        if self.opens.size == 0:
            return np.zeros_like(t)
        i = np.searchsorted(self.opens, t, side="right") - 1
        j = np.maximum(i, 0)
        inside = np.clip(t - self.opens[j], 0.0, self.closes[j] - self.opens[j])
        return np.where(i >= 0, self.cumulative[j] + inside, 0.0)

    @classmethod
    def union(cls, parts: list[_OpenTime]) -> _OpenTime:
        opens = np.concatenate([p.opens for p in parts])
        closes = np.concatenate([p.closes for p in parts])
        order = np.argsort(opens, kind="stable")
        merged: list[list[float]] = []
        for a, b in zip(opens[order].tolist(), closes[order].tolist(), strict=True):
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        array = np.array(merged, dtype=np.float64).reshape(-1, 2)
        return cls(array[:, 0], array[:, 1])


def _open_time(calendar: Any, period: tuple[float, float, int]) -> _OpenTime:
    """The open stretches of ``calendar`` (``None``: always open) within the period
    ``(lo, hi, wall base)``: a :class:`procsim.calendars.Calendar` counts in its own unit
    from its own start, the stretches in nanoseconds after the wall base."""
    import pandas as pd

    lo, hi, wall_base = period
    if calendar is None:
        return _OpenTime(np.array([lo]), np.array([hi]))
    unit = SECONDS_PER[calendar.time_unit] * 1e9
    shift = float(wall_base - pd.Timestamp(calendar.start).value)  # exact, then one rounding
    pieces = list(calendar.intervals((lo + shift) / unit, (hi + shift) / unit))
    array = np.array(pieces, dtype=np.float64).reshape(-1, 2) * unit - shift
    return _OpenTime(np.clip(array[:, 0], lo, hi), np.clip(array[:, 1], lo, hi))


def _discovered_calendar(intervals: tuple[tuple[tuple[str, ...], str, str], ...],
                         wall_base: int) -> Any:
    import pandas as pd

    from procsim.calendars import Calendar

    # Any start will do (the week is the same); the log's first day keeps the floats small.
    start = pd.Timestamp(wall_base).normalize().to_pydatetime()
    return Calendar([{"days": list(days), "from": a, "to": b} for days, a, b in intervals],
                    start=start, time_unit="hours", name="discovered")


def _normalised(text: str) -> str:
    """A name as ``procsim discover`` writes a pool's: runs of other characters than
    letters, digits, ``_`` and ``-`` become ``_``; lower case."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text.strip()).strip("_").lower()


def _given_hours(name: str, model: Any) -> tuple[WorkingHours, list[Any], float] | None:
    """A resource's working hours from ``model``: the hours, one calendar (or ``None``) per
    server, and the capacity; ``None`` when the model names no pool or person for it."""
    pools = getattr(model, "resources", {}) or {}
    people = getattr(model, "people", {}) or {}

    def calendar(calendar_name: str | None) -> Any:
        return model.calendar(calendar_name) if calendar_name else None

    if name in pools:
        spec = pools[name]
        names = ([people[p].calendar or spec.calendar for p in spec.members] if spec.members
                 else [spec.calendar] * spec.capacity)
        shown = ", ".join(sorted({n or "around the clock" for n in names}))
        hours = WorkingHours("given", calendar=None if shown == "around the clock" else shown,
                             pool=name, match="pool")
        return hours, [calendar(n) for n in names], float(spec.capacity)
    if name in people:
        own = people[name].calendar or next(
            (spec.calendar for spec in pools.values() if name in (spec.members or ())), None)
        return (WorkingHours("given", calendar=own, pool=name, match="person"),
                [calendar(own)], 1.0)
    prefix = re.sub(r"[^A-Za-z]+$", "", name)
    if len(prefix) >= 3:
        for pool, spec in pools.items():
            if _normalised(pool) == _normalised(prefix):
                return (WorkingHours("given", calendar=spec.calendar, pool=pool,
                                     match="prefix"), [calendar(spec.calendar)], 1.0)
    return None


def _resources(column: Any, start: np.ndarray, end: np.ndarray, span_ns: float,
               ns_per_unit: float, wall_start: np.ndarray, wall_end: np.ndarray,
               period: tuple[float, float, int], model: Any, *, given: bool
               ) -> tuple[dict[str, dict[str, float]], dict[str, WorkingHours]]:
    """Per resource: busy time and utilisation over the span, its own active span and its
    working hours (given by ``model`` when ``given``, else discovered)."""
    import pandas as pd

    named = ~column.isna().to_numpy()
    if not named.any():
        return {}, {}
    codes, names = pd.factorize(column[named], sort=True)
    r_start, r_end = start[named], end[named]
    wall_base = period[2]
    w_start = (wall_start[named] - wall_base).astype(np.float64)
    w_end = (wall_end[named] - wall_base).astype(np.float64)
    busy = np.bincount(codes, weights=(r_end - r_start), minlength=len(names))
    count = np.bincount(codes, minlength=len(names))
    lo = _group(codes, len(names), r_start, np.minimum)
    hi = _group(codes, len(names), r_end, np.maximum)
    start_hour, start_weekday = _hour_and_weekday(wall_start[named])
    end_hour, end_weekday = _hour_and_weekday(_end_hour_ns(wall_start[named], wall_end[named]))
    # Each resource's instances: order[bounds[r]:bounds[r + 1]].
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
    pools = getattr(model, "resources", {}) or {} if model is not None else {}
    cache: dict[Any, _OpenTime] = {}

    def open_time(calendar: Any) -> _OpenTime:
        key = id(calendar)
        if key not in cache:
            cache[key] = _open_time(calendar, period)
        return cache[key]

    discovered: dict[tuple[tuple[int, ...], tuple[int, ...]], Any] = {}
    resources: dict[str, dict[str, float]] = {}
    hours: dict[str, WorkingHours] = {}
    for r, name in enumerate(str(n) for n in names):
        capacity = float(getattr(pools.get(name), "capacity", 1) or 1)
        rows = order[bounds[r]:bounds[r + 1]]
        found = _given_hours(name, model) if given else None
        if found is not None:
            hours[name], servers, capacity = found
        else:
            slots = _hours_rule(np.concatenate([start_hour[rows], end_hour[rows]]),
                                np.concatenate([start_weekday[rows], end_weekday[rows]]))
            events = 2 * len(rows)
            if slots is None:
                hours[name], servers = WorkingHours("unknown", events=events), []
            else:
                intervals = _hours_intervals(*slots)
                if intervals and slots not in discovered:
                    discovered[slots] = _discovered_calendar(intervals, wall_base)
                hours[name] = WorkingHours("discovered", events=events, intervals=intervals)
                servers = [discovered[slots] if intervals else None] * round(capacity)
        busy_servers = busy[r] / span_ns if span_ns > 0 else math.nan
        active = hi[r] - lo[r]
        metrics = {
            "instances": float(count[r]),
            "busy_time": busy[r] / ns_per_unit,
            "capacity": capacity,
            "busy_servers": busy_servers,
            "utilization": busy_servers / capacity,
            "utilization_of_active_span": busy[r] / (active * capacity) if active > 0
            else math.nan,
            "available_time": math.nan,
            "busy_time_in_working_hours": math.nan,
            "utilization_of_working_hours": math.nan,
        }
        if servers:
            # Busy time counts where at least one of the servers is on shift (the log does
            # not say which server did the work); open time is summed over the servers.
            union = _OpenTime.union([open_time(c) for c in {id(c): c for c in servers}.values()])
            inside = float(np.sum(union.until(w_end[rows]) - union.until(w_start[rows])))
            available = sum(open_time(c).total for c in servers)
            metrics["available_time"] = available / ns_per_unit
            metrics["busy_time_in_working_hours"] = inside / ns_per_unit
            metrics["utilization_of_working_hours"] = (inside / available if available > 0
                                                       else math.nan)
        resources[name] = metrics
    return resources, hours


def _wall_ns(column: Any) -> np.ndarray:
    """Nanoseconds since 1970 of the wall clock (the log's own zone; naive: as written)."""
    import pandas as pd

    index = pd.DatetimeIndex(column)
    if index.tz is not None:
        index = index.tz_localize(None)
    return np.asarray(index.asi8, dtype=np.int64)


def _wall_period(frame: Any, has_enabled: np.ndarray) -> tuple[float, float, int]:
    """The log's span on the wall clock: ``(first, last, base)``, the first two in float
    nanoseconds after the third (the first start)."""
    starts = _wall_ns(frame["start"])
    base = int(starts.min())
    first = base
    if has_enabled.any():
        first = min(first, int(_wall_ns(frame["enabled"][has_enabled]).min()))
    return float(first - base), float(int(_wall_ns(frame["end"]).max()) - base), base


def _hour_and_weekday(wall: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hour of the day (0–23) and weekday (0 is Monday) of wall-clock nanoseconds."""
    days, rest = np.divmod(wall, _NS_PER_DAY)
    return (rest // (3600 * 10**9)).astype(np.intp), ((days + 3) % 7).astype(np.intp)
