"""From replication records to KPIs: per-replication values, then estimates across replications.

Per case (after warm-up): cycle time, waiting time (in resource queues), processing
time (durations of activities done by a resource), delay time (durations of activities
without a resource, such as waiting for the customer) and cost (below). On a flow without
parallel branches, cycle time = waiting + processing + delay; with parallel branches the
three are summed over branches and may exceed the cycle time. Per activity: instances, visits
per case, share of cases, waiting and processing time. Per pool: utilisation and mean
queue length. System: throughput and work in progress (WIP).

With calendars (see :mod:`procsim.engine.pools`): a pool's ``utilization`` is its busy time
on shift over its servers' on-shift time (with members: the sum of their on-shift time),
``utilization_of_total_time`` its busy time over capacity × time (the two are equal without
calendars); people get both too. ``working_cycle_time`` counts a case's time in the system
only while the working calendar (``working_calendar``, else the arrival calendar) is open.
``idle_cost_per_hour`` is the cost of servers on shift but not busy (a server without a
calendar is on shift all the time), per hour of the window.

Cost per case, for every model: ``busy_cost_per_case`` is what the case's own work costs
(the activities' fixed ``cost`` plus the time staff spent on it × their cost per hour);
``cost_per_case`` is the *full* cost, that plus an equal share of the idle cost of the
window (paid staff time on shift, capacity × cost per hour × time on shift, minus the busy
time, divided by the measured cases). So more staff always costs more per case, and the
mean of ``cost_per_case`` is (up to the work of the cases in the system at the window's
ends) the staff cost of the window, busy or idle, plus the activity costs, per case. The
idle share is the same for every case of a replication: idle capacity is the price of
keeping the service open for whoever arrives (it buys shorter waits for every case), not of
any one case's work. Another allocation (in proportion to each case's
busy time, a "fully loaded" hourly rate) gives the same mean and only moves cost between
cases; with the equal share the spread and percentiles of ``cost_per_case`` are those of
the work (``busy_cost_per_case``) shifted by the replication's idle share, which keeps them
readable. ``cost_per_case_with_idle``, its mean, is kept for compatibility.

Time-averages (utilisation, queue length, WIP, throughput) are taken over the
*measurement window* of each replication: from the arrival of the first measured case
to the last arrival. After the last arrival the system only drains, which is not the
steady state the KPIs describe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from procsim.engine import Plan, ReplicationRecord
from procsim.engine.plan import pool_members
from procsim.errors import UnknownKpiError, UsageError
from procsim.model.targets import CASE_KPIS, SYSTEM_KPIS
from procsim.stats import Estimate, estimate, mser5, pooled_percentiles, sectioned_percentile
from procsim.units import format_duration, to_hours

__all__ = ["CASE_KPIS", "Bottleneck", "KpiSummary", "QueueSeries", "RunResult", "queue_series",
           "replication_kpis", "resolve_warmup"]

PERCENTILES = (50, 90, 95)


def resolve_warmup(
    records: list[ReplicationRecord], warmup: int | float | str, *, by_duration: bool = False
) -> list[int]:
    """Number of cases to discard in each replication.

    ``warmup`` is a number of cases, a duration (``by_duration=True``; cases arriving before
    it are dropped), or ``"auto"``: MSER-5 on the cycle-time series averaged across
    replications, case by case in order of arrival.
    """
    if warmup == "auto":
        length = min(r.cases for r in records)
        series = np.mean([(r.end - r.arrival)[:length] for r in records], axis=0)
        return [mser5(series)] * len(records)
    if by_duration:
        return [int(np.searchsorted(r.arrival, float(warmup), side="left")) for r in records]
    return [int(warmup)] * len(records)


@dataclass(frozen=True)
class ReplicationKpis:
    """KPIs of one replication (after warm-up)."""

    warmup: int
    cases: dict[str, np.ndarray]                 # per-case arrays, measured cases only
    values: dict[str, float]                     # system-level scalars
    activities: dict[str, dict[str, float]]
    resources: dict[str, dict[str, float]]
    #: tokens per case along each sequence flow of ``Plan.edges`` (over all cases)
    flows: dict[tuple[str, str], float] = field(default_factory=dict)
    #: mean queue length per pool in consecutive windows of simulated time (see ``queue_series``)
    queue: QueueSeries | None = None
    #: per named person (``people:``): utilisation against their on-shift time and total time
    people: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueSeries:
    """Time-averaged queue length of every pool over consecutive windows of one replication.

    ``edges`` (windows + 1) are arrival instants spread evenly over the arrival period, so the
    averages are exact (the time integrals are recorded at arrivals); ``values`` is windows ×
    pools. ``warmup_end`` is when the first measured case arrived.
    """

    edges: np.ndarray
    values: np.ndarray
    warmup_end: float

    @property
    def midpoints(self) -> np.ndarray:
        return (self.edges[:-1] + self.edges[1:]) / 2


def queue_series(record: ReplicationRecord, warmup: int, windows: int = 60) -> QueueSeries:
    """Mean queue length of every pool in about ``windows`` windows of simulated time."""
    arrival = record.arrival
    grid = np.linspace(arrival[0], arrival[-1], windows + 1)
    index = np.unique(np.clip(np.searchsorted(arrival, grid), 0, len(arrival) - 1))
    edges = arrival[index]
    keep = np.concatenate([[True], np.diff(edges) > 0])
    index, edges = index[keep], edges[keep]
    area = record.queue_area[index]
    values = np.diff(area, axis=0) / np.diff(edges)[:, None]
    return QueueSeries(edges, values, float(arrival[min(warmup, len(arrival) - 1)]))


def replication_kpis(plan: Plan, record: ReplicationRecord, warmup: int) -> ReplicationKpis:
    """Compute the KPIs of one replication, dropping its first ``warmup`` cases."""
    from procsim.errors import SimulationError

    model = plan.model
    n = record.cases
    if n - warmup < 2:
        raise SimulationError.at(
            model, ("run", "warmup"),
            f"replication {record.replication}: warm-up of {warmup} cases leaves "
            f"{max(n - warmup, 0)} of {n} cases to measure; lower run.warmup or raise run.cases"
        )
    hours_per_unit = to_hours(1.0, model.time_unit)
    pool_rate = np.array([c * hours_per_unit for c in plan.cost_per_hour] + [0.0])
    fixed_cost = np.array(plan.activity_cost)
    act = record.instance_activity.astype(np.intp)
    pool = np.array(plan.activity_pool, dtype=np.intp)[act]  # -1 → the appended zero rate
    wait = record.instance_start - record.instance_enabled
    proc = record.instance_end - record.instance_start
    staff = _Staff(plan, record) if plan.realistic else None
    if staff is not None:
        # The work done (a batch's shared by its cases; pauses off shift excluded) at the
        # rate of whoever did it.
        cost = fixed_cost[act] + staff.instance_cost(pool, hours_per_unit)
    else:
        cost = fixed_cost[act] + proc * pool_rate[pool]

    case = record.instance_case
    measured = slice(warmup, n)
    cycle = (record.end - record.arrival)[measured]
    staffed = pool >= 0
    cases = {
        "cycle_time": cycle,
        "waiting_time": np.bincount(case, weights=wait, minlength=n)[measured],
        "processing_time": np.bincount(case, weights=np.where(staffed, proc, 0.0),
                                       minlength=n)[measured],
        "delay_time": np.bincount(case, weights=np.where(staffed, 0.0, proc),
                                  minlength=n)[measured],
        # The full cost per case is completed below, once the idle cost is known.
        "busy_cost_per_case": np.bincount(case, weights=cost, minlength=n)[measured],
        "working_cycle_time": _working_cycle_time(model, record, warmup, cycle),
    }

    t0, t1 = record.arrival[warmup], record.arrival[n - 1]
    window = t1 - t0
    ends = record.end
    completed = np.count_nonzero((ends >= t0) & (ends <= t1))
    values = {
        "throughput_per_hour": completed / (window * hours_per_unit) if window > 0 else np.nan,
        "wip": (record.wip_area[n - 1] - record.wip_area[warmup]) / window if window > 0
        else np.nan,
    }

    in_window = case >= warmup
    n_measured = n - warmup
    activities: dict[str, dict[str, float]] = {}
    for a, name in enumerate(plan.activities):
        mask = in_window & (act == a)
        count = int(np.count_nonzero(mask))
        activities[name] = {
            "count": float(count),
            "visits_per_case": count / n_measured,
            "share_of_cases": np.count_nonzero(np.bincount(case[mask], minlength=n))
            / n_measured,
            "waiting_time": float(wait[mask].mean()) if count else np.nan,
            "processing_time": float(proc[mask].mean()) if count else np.nan,
        }

    resources: dict[str, dict[str, float]] = {}
    idle_cost = 0.0   # in currency, over the window
    for r, name in enumerate(plan.pools):
        busy = record.busy_area[n - 1, r] - record.busy_area[warmup, r]
        queued = record.queue_area[n - 1, r] - record.queue_area[warmup, r]
        total = busy / (plan.capacity[r] * window) if window > 0 else np.nan
        resources[name] = {
            "utilization": total,
            "queue_length": queued / window if window > 0 else np.nan,
            "busy_servers": busy / window if window > 0 else np.nan,
            "utilization_of_total_time": total,
        }
        if staff is None or not staff.has_calendar[r]:
            # Every server on shift all the time: idle = capacity × window − busy.
            if staff is None or not plan.model.resources[name].members:
                idle_cost += pool_rate[r] * (plan.capacity[r] * window - busy)
        elif window > 0:
            available = staff.pool_available(r, t0, t1)
            resources[name]["utilization"] = (staff.pool_on_shift_busy(r, t0, t1) / available
                                              if available > 0 else np.nan)
    people: dict[str, dict[str, float]] = {}
    if staff is not None:
        people = staff.people(t0, t1)
        idle_cost += staff.members_idle_cost(t0, t1, hours_per_unit)
    window_hours = window * hours_per_unit
    values["idle_cost_per_hour"] = idle_cost / window_hours if window > 0 else np.nan
    # Full cost: each case's own work plus an equal share of the staff time paid in the
    # window but not busy (see the module docstring for why an equal share).
    cases["cost_per_case"] = cases["busy_cost_per_case"] + idle_cost / n_measured
    # Kept for compatibility: the full cost's mean, now the mean of cost_per_case.
    values["cost_per_case_with_idle"] = float(cases["cost_per_case"].mean())
    flows = {edge: float(count) / n for edge, count in zip(plan.edges, record.flow, strict=True)}
    return ReplicationKpis(warmup, cases, values, activities, resources, flows,
                           queue_series(record, warmup), people)


def working_calendar(model: Any) -> Any:
    """The calendar working time is measured in: ``working_calendar``, else the arrival
    calendar; ``None`` when there is neither."""
    name = model.working_calendar or model.arrivals.calendar
    return model.calendar(name) if name else None


def _working_cycle_time(model: Any, record: ReplicationRecord, warmup: int,
                        cycle: np.ndarray) -> np.ndarray:
    calendar = working_calendar(model)
    if calendar is None:
        return cycle
    working_time = calendar.working_time
    return np.array([working_time(a, e) for a, e in
                     zip(record.arrival[warmup:].tolist(), record.end[warmup:].tolist(),
                         strict=True)])


@dataclass(frozen=True)
class _Server:
    """A server as the record describes it (:class:`procsim.engine.pools.ServerInfo`), its
    calendars compiled."""

    index: int
    person: int
    pools: tuple[int, ...]
    calendar: dict[int, Any]
    cost: dict[int, float]


class _Staff:
    """The servers of a replication and their busy segments, for on-shift KPIs.

    A pool's *available* time is the sum over its servers of their on-shift time (for that
    pool); its *on-shift busy* time the part of its busy segments during which the server
    was on shift. A person's own available time follows their own calendar, else that of
    their first pool (in the order of ``resources``); their cost per hour likewise.
    """

    def __init__(self, plan: Plan, record: ReplicationRecord) -> None:
        self.plan, self.record = plan, record
        model = plan.model
        # A calendar open every hour without holidays counts as none: its on-shift time is
        # all the time, and the engine keeps no busy segments for a FIFO pool on it.
        calendars = {name: None if (c := model.calendar(name)).always_open else c
                     for info in record.servers for name in info.calendar.values() if name}
        self.servers = [_Server(info.index, info.person, info.pools,
                                {r: calendars[name] if name else None
                                 for r, name in info.calendar.items()}, info.cost)
                        for info in record.servers]
        # Per pool, its servers in the pool's order (members' order), as the engine has them.
        self.pool_servers = [[self.servers[i] for i in mine]
                             for mine in pool_members(record.servers, len(plan.pools))]
        self.has_calendar = [any(s.calendar[r] is not None for s in servers)
                             for r, servers in enumerate(self.pool_servers)]
        assert record.busy_pool is not None and record.busy_server is not None
        assert record.busy_start is not None and record.busy_end is not None
        assert record.busy_on_shift is not None
        self.seg_pool, self.seg_server = record.busy_pool, record.busy_server
        self.seg_start, self.seg_end = record.busy_start, record.busy_end
        self.seg_on = record.busy_on_shift

    def instance_cost(self, pool: np.ndarray, hours_per_unit: float) -> np.ndarray:
        record, plan = self.record, self.plan
        assert record.instance_server is not None and record.instance_work is not None
        rate = np.zeros(len(pool))
        person = record.instance_server
        for r, servers in enumerate(self.pool_servers):
            rate[(pool == r) & (person < 0)] = plan.cost_per_hour[r] * hours_per_unit
            for server in servers:
                if server.person >= 0:
                    rate[(pool == r) & (person == server.person)] = (server.cost[r]
                                                                      * hours_per_unit)
        return record.instance_work * rate

    def _clipped(self, mask: np.ndarray, t0: float, t1: float) -> float:
        start = np.clip(self.seg_start[mask], t0, t1)
        end = np.clip(self.seg_end[mask], t0, t1)
        return float(np.sum(end - start))

    def pool_on_shift_busy(self, r: int, t0: float, t1: float) -> float:
        return self._clipped((self.seg_pool == r) & self.seg_on, t0, t1)

    def pool_available(self, r: int, t0: float, t1: float) -> float:
        return sum(_on_shift(s.calendar[r], t0, t1) for s in self.pool_servers[r])

    @staticmethod
    def _own(server: Any) -> tuple[Any, float]:
        first = server.pools[0]
        return server.calendar[first], server.cost[first]

    def people(self, t0: float, t1: float) -> dict[str, dict[str, float]]:
        names = list(self.plan.model.people)
        out: dict[str, dict[str, float]] = {}
        window = t1 - t0
        for server in self.servers:
            if server.person < 0:
                continue
            calendar, _ = self._own(server)
            mine = self.seg_server == server.index
            available = _on_shift(calendar, t0, t1)
            on = self._clipped(mine & self.seg_on, t0, t1)
            out[names[server.person]] = {
                "utilization": on / available if available > 0 else np.nan,
                "utilization_of_total_time": (self._clipped(mine, t0, t1) / window
                                              if window > 0 else np.nan),
                "available_share": available / window if window > 0 else np.nan,
            }
        return out

    def members_idle_cost(self, t0: float, t1: float, hours_per_unit: float) -> float:
        """Idle cost of every server of pools with a calendar or members (currency)."""
        total = 0.0
        model = self.plan.model
        for server in self.servers:
            if server.person < 0:
                (r,) = server.pools
                if not self.has_calendar[r] and not model.resources[self.plan.pools[r]].members:
                    continue  # counted by the pool, from its busy-server integral
            calendar, cost = self._own(server)
            if cost == 0:
                continue
            mine = (self.seg_server == server.index) & self.seg_on
            idle = _on_shift(calendar, t0, t1) - self._clipped(mine, t0, t1)
            total += cost * hours_per_unit * max(idle, 0.0)
        return total


def _on_shift(calendar: Any, t0: float, t1: float) -> float:
    return t1 - t0 if calendar is None else float(calendar.working_time(t0, t1))


@dataclass(frozen=True)
class KpiSummary:
    """One KPI across replications.

    ``estimate`` is the t-interval of the per-replication means; ``percentiles`` are
    pooled over all measured cases of all replications, and ``percentile_estimates``
    their sectioning intervals, centred on them (:func:`procsim.stats.sectioned_percentile`);
    ``sd`` is the spread across cases (not across replications). ``unit`` is a time unit,
    the currency, or a rate.
    """

    name: str
    unit: str
    estimate: Estimate
    sd: float | None = None
    percentiles: dict[str, float] = field(default_factory=dict)
    percentile_estimates: dict[str, Estimate] = field(default_factory=dict)

    @property
    def mean(self) -> float:
        return self.estimate.mean

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mean": _num(self.estimate.mean),
                               "ci95": [_num(v) for v in self.estimate.ci]}
        if self.sd is not None:
            out["sd"] = _num(self.sd)
        for key, value in self.percentiles.items():
            out[key] = _num(value)
        for key, est in self.percentile_estimates.items():
            out[f"{key}_ci95"] = [_num(v) for v in est.ci]
        out["half_width"] = _num(self.estimate.half_width)
        out["sd_replications"] = _num(self.estimate.sd)
        out["unit"] = self.unit
        return out


def _num(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


@dataclass(frozen=True)
class Bottleneck:
    """Where cases wait: one activity, its pool, and its part of the waiting (see ``bottlenecks``).

    Times are in the model's time unit; ``share_of_waiting`` is a fraction of the mean total
    waiting time per case.
    """

    activity: str
    pool: str
    visits_per_case: float
    wait_per_visit: Estimate
    wait_per_case: Estimate
    share_of_waiting: float
    utilization: Estimate

    def to_dict(self) -> dict[str, Any]:
        return {"activity": self.activity, "pool": self.pool,
                "visits_per_case": _num(self.visits_per_case),
                "wait_per_visit": _num(self.wait_per_visit.mean),
                "wait_per_case": _num(self.wait_per_case.mean),
                "wait_per_case_ci95": [_num(v) for v in self.wait_per_case.ci],
                "share_of_waiting": _num(self.share_of_waiting),
                "utilization": _num(self.utilization.mean)}


@dataclass(frozen=True)
class RunResult:
    """The outcome of :func:`procsim.simulate`: KPI distributions with confidence intervals.

    Attributes
    ----------
    model : procsim.model.Model
    seed : int
        The root seed (drawn when none was given).
    replications : int
    warmup : list of int
        Cases dropped in each replication.
    per_replication : list of ReplicationKpis
        Everything measured in each replication, for paired comparisons and plots.
    records : list of ReplicationRecord or None
        The raw records, when ``keep_records=True`` (needed for event logs).
    horizon : str or None
        The arrival period that was simulated ("500 cases", "arrivals for 30 days"), which
        differs from the model's ``run`` section when ``cases`` or ``duration`` overrode it;
        ``None`` means the model's.
    precision : float or None
        With ``replications="auto"``: the relative half-width the replications were added
        for, on the ``precision_kpis`` (pairs of KPI and statistic); ``None`` when the number
        of replications was fixed.
    notes : tuple of str
        What a reader of the numbers must know: the run length chosen by default, a warm-up
        that cut much of the run, the replication cap reached before the precision.
    """

    model: Any
    seed: int
    replications: int
    warmup: list[int]
    warmup_setting: Any
    per_replication: list[ReplicationKpis]
    records: list[ReplicationRecord] | None = None
    horizon: str | None = None
    precision: float | None = None
    precision_kpis: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    #: the compiled model the replications ran on (:func:`procsim.engine.compile_model`)
    plan: Plan | None = None

    # --- KPIs -------------------------------------------------------------------------------

    @property
    def time_unit(self) -> str:
        return str(self.model.time_unit)

    def _unit(self, kind: str) -> str:
        return self.time_unit if kind == "time" else (self.model.currency or "currency")

    def case_values(self, kpi: str) -> list[np.ndarray]:
        """Per-case values of a case KPI, one array per replication (measured cases only)."""
        return [r.cases[kpi] for r in self.per_replication]

    def kpi(self, name: str) -> KpiSummary:
        """Summary of a system KPI: a case KPI, ``throughput_per_hour``, ``wip`` or a custom one."""
        if name in CASE_KPIS:
            samples = self.case_values(name)
            pooled = np.concatenate(samples)
            return KpiSummary(
                name, self._unit(CASE_KPIS[name]),
                estimate(self.values(name)),
                sd=float(pooled.std(ddof=1)) if pooled.size > 1 else None,
                percentiles=pooled_percentiles(samples, PERCENTILES),
                percentile_estimates={f"p{q}": sectioned_percentile(samples, q)
                                      for q in PERCENTILES},
            )
        if name in SYSTEM_KPIS:
            unit = {"throughput_per_hour": "cases/hour", "wip": "cases",
                    "idle_cost_per_hour": f"{self._unit('money')}/hour"}.get(
                name, self._unit("money"))
            return KpiSummary(name, unit, estimate([r.values[name] for r in self.per_replication]))
        custom = getattr(self.model, "kpis", {}) or {}
        if name in custom:
            spec = custom[name]
            of = getattr(spec, "of", None)
            unit = "share" if of is None else self.kpi(of).unit
            return KpiSummary(name, unit, estimate(self.custom_values(spec)))
        known = [*CASE_KPIS, *SYSTEM_KPIS, *custom]
        from procsim.errors import close_match_hint

        raise UnknownKpiError(f"unknown KPI '{name}'{close_match_hint(name, known)}")

    def estimate(self, name: str, stat: str = "mean") -> Estimate:
        """The estimate of a KPI statistic with its confidence interval, as reported.

        The mean's t-interval across replications; for a percentile of a case KPI, the
        pooled percentile with its sectioning interval
        (:func:`procsim.stats.sectioned_percentile`).
        """
        from procsim.model.targets import parse_stat

        q = parse_stat(stat) if name in CASE_KPIS else None
        if q is None:
            return self.kpi(name).estimate
        return sectioned_percentile(self.case_values(name), q)

    def values(self, name: str, stat: str | None = None) -> np.ndarray:
        """Per-replication values of a KPI statistic: the basis of every comparison.

        ``stat`` is ``mean`` (default), ``median`` or ``pXX`` for case KPIs; custom and
        system KPIs have one value per replication already.
        """
        from procsim.model.targets import parse_stat

        if name in CASE_KPIS:
            q = parse_stat(stat or "mean")
            samples = self.case_values(name)
            if q is None:
                return np.array([s.mean() for s in samples])
            return np.array([np.percentile(s, q) for s in samples])
        if name in SYSTEM_KPIS:
            return np.array([r.values[name] for r in self.per_replication])
        custom = getattr(self.model, "kpis", {}) or {}
        if name not in custom:
            raise UnknownKpiError(f"unknown KPI '{name}'")
        return self.custom_values(custom[name])

    def custom_values(self, spec: Any) -> np.ndarray:
        """Per-replication values of a custom KPI given by its spec (``model.kpis[name]``):
        a statistic ``of`` a standard KPI, the share of cases that ``visits`` an activity, or
        the ``share`` of cases within (or over) a threshold."""
        if getattr(spec, "of", None):
            return self.values(spec.of, spec.stat)
        if getattr(spec, "visits", None):
            return np.array([r.activities[spec.visits]["share_of_cases"]
                             for r in self.per_replication])
        return self.share(spec.share, within=spec.within, over=spec.over)

    def share(self, kpi: str, *, within: float | str | None = None,
              over: float | str | None = None) -> np.ndarray:
        """Per-replication share of cases with ``kpi <= within`` (or ``kpi > over``).

        A threshold is a number in the model's time unit, or a duration such as ``"30min"``;
        for ``working_cycle_time`` also in working time, ``"2wd"`` or ``"6wh"`` (see
        :func:`procsim.model.targets.working_day`); ValueError where those do not apply.
        """
        if (within is None) == (over is None):
            raise UsageError("give exactly one of within= or over=")
        if isinstance(within, str) or isinstance(over, str):
            from procsim.model.targets import parse_value, working_time

            kind = "time" if CASE_KPIS.get(kpi) == "time" else "money"
            context = working_time(self.model, kpi)
            within, over = ((parse_value(v, kind, self.model.time_unit, working=context)
                             if isinstance(v, str) else v) for v in (within, over))
        samples = self.case_values(kpi)
        if within is not None:
            return np.array([np.mean(s <= within) for s in samples])
        return np.array([np.mean(s > over) for s in samples])

    @property
    def kpi_names(self) -> list[str]:
        """The KPIs reported: the standard ones that apply to the model, then custom ones.

        ``working_cycle_time`` applies with a working (or arrival) calendar;
        ``idle_cost_per_hour`` to models whose staff has a cost; ``cost_per_case_with_idle``
        (the mean of ``cost_per_case``, kept for compatibility) to those of them with
        calendars, rate profiles, priorities, people or batches, as before ``cost_per_case``
        included idle time. Every standard KPI can be asked for by name (:meth:`kpi`).
        """
        custom = list(getattr(self.model, "kpis", {}) or {})
        return [*self._standard_kpis(), *custom]

    def _standard_kpis(self) -> list[str]:
        from procsim.engine import realistic_features

        names = [*CASE_KPIS, *SYSTEM_KPIS]
        if working_calendar(self.model) is None:
            names.remove("working_cycle_time")
        paid = any(spec.cost_per_hour > 0 for spec in self.model.resources.values()) or any(
            (p.cost_per_hour or 0) > 0 for p in getattr(self.model, "people", {}).values())
        if not paid:
            names.remove("idle_cost_per_hour")
        if not (paid and realistic_features(self.model)):
            names.remove("cost_per_case_with_idle")
        return names

    def bottlenecks(self, top: int | None = None) -> list[Bottleneck]:
        """Activities ranked by the waiting time they add to the average case.

        An activity's share is its waiting time per case (visits per case × mean wait per
        visit, per replication) over the total waiting time per case. Activities without a
        resource never wait and are left out.

        Examples
        --------
        >>> from procsim import load_model, simulate
        >>> result = simulate(load_model("models/service_desk.yaml"), replications=3, seed=1)
        >>> ranked = result.bottlenecks()
        >>> ranked[0].pool, [b.activity for b in ranked[:2]]
        ('agents', ['confirm', 'triage'])
        >>> round(sum(b.share_of_waiting for b in ranked), 9)
        1.0
        """
        total = float(np.mean(self.values("waiting_time")))
        rows = []
        for name, spec in self.model.activities.items():
            if spec.resource is None:
                continue
            per_case = [r.activities[name]["visits_per_case"]
                        * np.nan_to_num(r.activities[name]["waiting_time"])
                        for r in self.per_replication]
            wait = estimate(per_case)
            rows.append(Bottleneck(
                activity=name, pool=spec.resource,
                visits_per_case=self.activity(name, "visits_per_case").mean,
                wait_per_visit=self.activity(name, "waiting_time"),
                wait_per_case=wait,
                share_of_waiting=wait.mean / total if total > 0 else 0.0,
                utilization=self.resource(spec.resource, "utilization"),
            ))
        rows.sort(key=lambda b: -b.wait_per_case.mean)
        return rows[:top] if top is not None else rows

    def activity(self, name: str, metric: str) -> Estimate:
        return estimate([r.activities[name][metric] for r in self.per_replication])

    def resource(self, name: str, metric: str) -> Estimate:
        """``utilization`` (busy time over on-shift time), ``utilization_of_total_time``
        (over capacity × time), ``queue_length`` or ``busy_servers`` of a pool."""
        return estimate([r.resources[name][metric] for r in self.per_replication])

    def person(self, name: str, metric: str) -> Estimate:
        """``utilization`` (over their on-shift time), ``utilization_of_total_time`` or
        ``available_share`` (on-shift share of the time) of a named person."""
        return estimate([r.people[name][metric] for r in self.per_replication])

    @property
    def _shifts(self) -> bool:
        """Whether any pool or person follows a calendar (utilisation then has two meanings)."""
        return any(spec.calendar for spec in self.model.resources.values()) or any(
            p.calendar for p in getattr(self.model, "people", {}).values())

    # --- output -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (the structure of ``procsim run --json``)."""
        from procsim.version import __version__

        activities = {}
        for name in self.model.activities:
            act_units = {"waiting_time": self.time_unit, "processing_time": self.time_unit}
            entry: dict[str, Any] = {}
            for metric in ("count", "visits_per_case", "share_of_cases", "waiting_time",
                           "processing_time"):
                est = self.activity(name, metric)
                entry[metric] = {"mean": _num(est.mean), "ci95": [_num(v) for v in est.ci]}
                if metric in act_units:
                    entry[metric]["unit"] = act_units[metric]
            entry["resource"] = self.model.activities[name].resource
            activities[name] = entry
        resources = {}
        for name in self.model.resources:
            metrics = ["utilization", "queue_length", "busy_servers"]
            if self._shifts:
                metrics.insert(1, "utilization_of_total_time")
            resources[name] = {
                metric: {"mean": _num(est.mean), "ci95": [_num(v) for v in est.ci]}
                for metric in metrics
                for est in [self.resource(name, metric)]
            }
            resources[name]["capacity"] = self.model.resources[name].capacity
        people = {
            name: {metric: {"mean": _num(est.mean), "ci95": [_num(v) for v in est.ci]}
                   for metric in ("utilization", "utilization_of_total_time", "available_share")
                   for est in [self.person(name, metric)]}
            for name in getattr(self.model, "people", {})
        }
        out = {
            "procsim_version": __version__,
            "model": self.model.name,
            "model_file": self.model.file,
            "seed": self.seed,
            "replications": self.replications,
            "time_unit": self.time_unit,
            "currency": self.model.currency,
            "horizon": self.horizon or self.model.run.horizon,
            "warmup": {"setting": self.warmup_setting, "cases": self.warmup},
            "precision": (None if self.precision is None else
                          {"target": self.precision,
                           "kpis": [f"{k}:{s}" for k, s in self.precision_kpis],
                           "reached": {f"{k}:{s}": _num(self._relative_half_width(k, s))
                                       for k, s in self.precision_kpis}}),
            "notes": list(self.notes),
            "measured_cases": [int(r.cases["cycle_time"].size) for r in self.per_replication],
            "kpis": {name: self.kpi(name).to_dict() for name in self.kpi_names},
            "activities": activities,
            "resources": resources,
        }
        if people:
            out["people"] = people
        return out

    def _relative_half_width(self, name: str, stat: str) -> float:
        est = self.estimate(name, stat)
        return est.half_width / abs(est.mean) if est.mean else math.nan

    def _repr_html_(self) -> str:
        """The summary table, as Jupyter shows the result."""
        import html

        return f"<pre>{html.escape(self.summary())}</pre>"

    def summary(self) -> str:
        """A readable table of the KPIs, activities and pools."""
        unit = self.time_unit
        measured = sum(r.cases["cycle_time"].size for r in self.per_replication)
        width = max(22, *(len(name) + 1 for name in self.kpi_names))
        lines = [
            f"{self.model.name}: {self.replications} replications, seed {self.seed}, "
            f"{measured:,} measured cases (warm-up {_warmup_text(self.warmup)}"
            f"{' by MSER-5' if self.warmup_setting == 'auto' else ''})",
            "",
            f"{'KPI':<{width}}{'mean':>12}{'95% CI':>26}{'p50':>11}{'p90':>11}{'p95':>11}"
            "  unit",
        ]
        for name in self.kpi_names:
            k = self.kpi(name)
            lo, hi = k.estimate.ci
            pct = [k.percentiles.get(f"p{q}") for q in PERCENTILES]
            pct_text = "".join(f"{v:>11.4g}" if v is not None else f"{'':>11}" for v in pct)
            lines.append(f"{name:<{width}}{k.mean:>12.4g}{f'[{lo:.4g}, {hi:.4g}]':>26}"
                         f"{pct_text}  {k.unit}")
        lines += ["", f"{'activity':<22}{'visits/case':>12}{'wait':>12}{'duration':>12}"
                      f"{'resource':>14}   (times in {unit})"]
        for name in self.model.activities:
            visits = self.activity(name, "visits_per_case").mean
            w = self.activity(name, "waiting_time").mean
            p = self.activity(name, "processing_time").mean
            res = self.model.activities[name].resource or "(delay)"
            lines.append(f"{name:<22}{visits:>12.3g}{w:>12.4g}{p:>12.4g}{res:>14}")
        shifts = self._shifts
        if self.model.resources:
            lines += ["", f"{'pool':<22}{'capacity':>9}{'utilisation':>14}{'95% CI':>20}"
                          f"{'mean queue':>12}" + (f"{'of total time':>15}" if shifts else "")]
            for name, spec in self.model.resources.items():
                u = self.resource(name, "utilization")
                q = self.resource(name, "queue_length").mean
                lo, hi = u.ci
                total = (f"{self.resource(name, 'utilization_of_total_time').mean:>15.1%}"
                         if shifts else "")
                lines.append(f"{name:<22}{spec.capacity:>9}{u.mean:>14.1%}"
                             f"{f'[{lo:.1%}, {hi:.1%}]':>20}{q:>12.3g}{total}")
            if shifts:
                lines.append("(utilisation: busy time over on-shift time; of total time: over "
                             "capacity × time)")
        if getattr(self.model, "people", None):
            lines += ["", f"{'person':<22}{'utilisation':>14}{'95% CI':>20}"
                          f"{'of total time':>15}{'on shift':>10}"]
            for name in self.model.people:
                u = self.person(name, "utilization")
                lo, hi = u.ci
                lines.append(f"{name:<22}{u.mean:>14.1%}{f'[{lo:.1%}, {hi:.1%}]':>20}"
                             f"{self.person(name, 'utilization_of_total_time').mean:>15.1%}"
                             f"{self.person(name, 'available_share').mean:>10.1%}")
        ct = self.kpi("cycle_time")
        lines += ["", f"Mean cycle time {format_duration(ct.mean, unit)} "
                      f"± {format_duration(ct.estimate.half_width, unit)} (95% CI half-width)."]
        if self.precision is not None:
            lines.append(f"Replications: {self.replications}, until "
                         + ", ".join(f"{k}{'' if s == 'mean' else ' ' + s}" for k, s
                                     in self.precision_kpis)
                         + f" within ±{self.precision:.0%} (or the cap).")
        lines += [f"Note: {note}" for note in self.notes]
        return "\n".join(lines)


def _warmup_text(warmup: list[int]) -> str:
    if len(set(warmup)) == 1:
        return f"{warmup[0]} cases"
    return f"{min(warmup)}–{max(warmup)} cases"
