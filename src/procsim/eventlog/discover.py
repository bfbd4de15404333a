"""Discover a runnable procsim model from an event log (issue 13, part 3).

:func:`discover` reads an :class:`~procsim.eventlog.EventLog` and writes the text of a
commented procsim model (YAML) that :func:`procsim.parse_model` accepts and
:func:`procsim.simulate` runs. It is deliberately simple, and every number it writes says
how many observations it came from:

- **control flow**: the directly-follows graph of the activities of each case (ordered by
  start), from ``start`` to ``end``, written as exclusive choices whose probabilities are the
  observed frequencies. Repeated activities become loops. Activities of a case that
  overlap in time (one enabled, or started, before the other ended) form a block; a set of
  activities that only ever occurs as such a block, each once, becomes parallel branches
  between a split and a join gateway (an exclusive gateway after the join when the block
  has several successors). Other overlapping activities are put in one sequence, in their
  usual order over the log, so that none of them is skipped. Edges below
  ``min_frequency`` of their node's
  outgoing instances are dropped and the rest renormalised, unless the graph would lose a
  node's last way to ``end``.
- **arrivals**: a rate profile by weekday and hour of day (:func:`arrival_profile`: each
  slot's arrivals over its observed hours) when a G-test rejects a flat rate at 0.1 %;
  otherwise exponential inter-arrival times with the mean gap between consecutive case
  arrivals.
- **waiting the queues do not explain**: an activity whose mean observed wait (from its
  enabled time, else from the case's previous end, to its start) exceeds what its pool's
  queue would give at the log's load (:func:`queue_wait`, over the log's whole period, as the
  model's pools work around the clock) by more than that queue wait and by 4 standard
  errors gets a delay ``wait_before_<activity>`` in front of it: a histogram of the waits
  less the queue's mean (nights, weekends, customers: what the log does not record), in
  the pool's working time, and with the pool's calendar where it has one.
- **durations**: for each activity, the maximum-likelihood fit among ``exponential``,
  ``lognormal``, ``gamma`` and ``normal`` (truncated at 0, as procsim samples it) with the
  smallest AIC, among those whose mean is within 4 standard errors of the observed mean;
  ``fixed`` when every observation is the same.
- **resources**: one pool per set of resources: activities performed by exactly the same
  set of resources share a pool whose capacity is the size of the set; its people are
  named (``members:``) where one of them works in several pools (one server shared by
  them), or has hours (a calendar) or durations (per activity, when their mean differs by
  over 20 % and 4 standard errors) of their own. Costs are unknown and marked
  ``# PLACEHOLDER``. An activity most of whose instances have no resource, or
  the resource ``SYSTEM``, is a delay (no pool).
- **calendars**: a pool with at least 240 starts and ends, some weekday or hour of the day
  without any of them, gets a calendar: its open weekdays × its open hours, with
  ``preempt: true``; its activities' durations and waits are then measured in the
  calendar's working time.

Invariants: the returned text parses (:func:`discover` checks it with
:func:`procsim.parse_model` before returning); every activity and pool name is a valid
procsim name derived from the log's name, which is kept in the ``description``.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from procsim.errors import LogError, UsageError
from procsim.eventlog.kpis import discover_working_hours, hour_runs
from procsim.eventlog.log import EventLog, expect_log

__all__ = ["ArrivalProfile", "DurationFit", "arrival_profile", "discover", "fit_duration",
           "queue_wait"]

# Resource names that mean "no person": the work is a delay, not a queue for a pool.
_NO_RESOURCE = frozenset({"system"})
# Words YAML 1.1 reads as booleans or null when they are keys; never used as names.
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})
_SECONDS = {"minutes": 60.0, "hours": 3600.0}
_SUFFIX = {"minutes": "min", "hours": "h"}


@dataclass(frozen=True)
class DurationFit:
    """The distribution chosen for a sample of durations (in the model's time unit).

    ``dist`` is a procsim ``dist`` name, ``params`` its parameters (in the time unit),
    ``aic`` the Akaike information criterion of the fit (``None`` for ``fixed``),
    ``observations`` the sample size and ``mean`` the mean of the fitted law.
    """

    dist: str
    params: dict[str, float]
    aic: float | None
    observations: int
    mean: float


def fit_duration(values: Any) -> DurationFit:
    """Fit durations by maximum likelihood and choose the family with the smallest AIC.

    Candidates: ``exponential`` (1 parameter), ``lognormal``, ``gamma`` (2 parameters, only
    when every value is > 0) and ``normal`` truncated at 0 (2 parameters, as procsim samples
    it). AIC = 2k − 2 log L. Only fits whose mean is within 4 standard errors of the sample
    mean compete, so that the model keeps the observed work per activity. A sample whose
    values are all equal (or of size 1) is ``fixed``.

    Examples
    --------
    >>> fit_duration([3.0, 3.0, 3.0]).dist
    'fixed'
    >>> fit = fit_duration(np.random.default_rng(1).lognormal(1.0, 0.3, 2000))
    >>> fit.dist, round(fit.mean, 1)
    ('lognormal', 2.8)
    """
    from scipy import optimize, stats

    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    if n == 0:
        raise UsageError("expected at least one duration to fit, got none")
    if n == 1 or float(np.ptp(x)) <= 1e-12 * max(1.0, float(np.max(np.abs(x)))):
        value = max(float(np.mean(x)), 0.0)
        return DurationFit("fixed", {"value": value}, None, n, value)
    mean = float(np.mean(x))
    fits: list[DurationFit] = []
    # Exponential: the MLE of the mean is the sample mean.
    fits.append(DurationFit("exponential", {"mean": mean},
                            2 * 1 - 2 * float(np.sum(stats.expon.logpdf(x, scale=mean))),
                            n, mean))
    if float(np.min(x)) > 0:
        logs = np.log(x)
        mu, sigma = float(np.mean(logs)), float(np.std(logs))
        if sigma > 0:
            ll = float(np.sum(stats.lognorm.logpdf(x, sigma, scale=math.exp(mu))))
            m = math.exp(mu + sigma ** 2 / 2)
            sd = m * math.sqrt(math.expm1(sigma ** 2))
            fits.append(DurationFit("lognormal", {"mean": m, "sd": sd}, 4 - 2 * ll, n, m))
        shape, _, scale = stats.gamma.fit(x, floc=0)
        ll = float(np.sum(stats.gamma.logpdf(x, shape, scale=scale)))
        fits.append(DurationFit("gamma", {"mean": shape * scale, "sd": math.sqrt(shape) * scale},
                                4 - 2 * ll, n, shape * scale))

    def negative_ll(theta: np.ndarray) -> float:
        mu, s = float(theta[0]), math.exp(float(theta[1]))
        return float(-np.sum(stats.norm.logpdf(x, mu, s)) + n * stats.norm.logcdf(mu / s))

    sd0 = float(np.std(x))
    best = optimize.minimize(negative_ll, np.array([mean, math.log(sd0)]), method="Nelder-Mead")
    mu, s = float(best.x[0]), math.exp(float(best.x[1]))
    if best.success and mu > 0 and math.isfinite(best.fun):
        alpha = mu / s  # mean of the normal truncated at 0: mu + s φ(α)/Φ(α)
        m = mu + s * math.exp(float(stats.norm.logpdf(alpha) - stats.norm.logcdf(alpha)))
        fits.append(DurationFit("normal", {"mean": mu, "sd": s}, 4 + 2 * float(best.fun), n, m))
    # A fit whose mean misses the observed one would mis-state the load on the pools and the
    # cycle time (lognormal fits of durations that include overnight pauses do): only fits
    # whose mean is within 4 standard errors of the sample mean compete. The exponential's
    # and the gamma's maximum-likelihood means are the sample mean, so one always qualifies.
    tolerance = 4 * sd0 / math.sqrt(n)
    fair = [f for f in fits if f.aic is not None and math.isfinite(f.aic)
            and abs(f.mean - mean) <= tolerance]
    return min(fair or fits[:1], key=lambda f: f.aic if f.aic is not None else 0.0)


@dataclass(frozen=True)
class ArrivalProfile:
    """Case arrivals per hour by weekday (0 = Monday) and hour of day, from a log.

    ``counts[d, h]`` arrivals were seen in ``hours[d, h]`` observed hours of weekday ``d``,
    hour ``h``; ``rates = counts / hours`` (arrivals per hour; the hour-of-day rate pooled
    over the observed days where a weekday was never observed). ``p_value`` is that of the
    likelihood-ratio (G) test of a flat Poisson rate against one rate per slot.
    """

    rates: np.ndarray
    counts: np.ndarray
    hours: np.ndarray
    p_value: float


def arrival_profile(arrivals: Any, *, alpha: float = 1e-3) -> ArrivalProfile | None:
    """The weekly profile of ``arrivals`` (date-times), or ``None`` when it is flat.

    Each of the 168 (weekday, hour) slots gets the maximum-likelihood Poisson rate: its
    arrivals divided by the number of such hours between the first and the last arrival
    (local wall time). The profile is returned only when the G-test rejects a constant rate
    at level ``alpha`` (and there are at least 2 arrivals), so that arrivals that have no
    daily or weekly pattern keep a flat exponential law instead of 168 noisy rates.

    Examples
    --------
    >>> import pandas as pd
    >>> days = pd.date_range("2026-01-05", periods=28, freq="D")
    >>> nine_to_five = [d + pd.Timedelta(minutes=m) for d in days for m in range(540, 1020, 20)]
    >>> p = arrival_profile(pd.Series(nine_to_five))
    >>> float(p.rates[0, 10]), float(p.rates[0, 3]), int(p.counts[0].sum())
    (3.0, 0.0, 96)
    """
    import pandas as pd
    from scipy import stats

    times = pd.Series(pd.to_datetime(pd.Series(arrivals)).sort_values().to_numpy())
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_localize(None)  # local wall time, as the model's start
    if len(times) < 2:
        return None
    counts = np.zeros((7, 24))
    np.add.at(counts, (times.dt.weekday.to_numpy(), times.dt.hour.to_numpy()), 1)
    grid = pd.date_range(times.iloc[0].floor("h"), times.iloc[-1].floor("h"), freq="h")
    hours = np.zeros((7, 24))
    np.add.at(hours, (grid.weekday.to_numpy(), grid.hour.to_numpy()), 1)
    seen = hours > 0
    rates = np.where(seen, counts / np.where(seen, hours, 1.0), 0.0)
    by_hour = counts.sum(axis=0) / np.maximum(hours.sum(axis=0), 1.0)
    rates = np.where(seen, rates, by_hour[None, :])
    flat = counts[seen].sum() / hours[seen].sum()
    expected = flat * hours[seen]
    observed = counts[seen]
    positive = observed > 0
    g = 2.0 * float(np.sum(observed[positive] * np.log(observed[positive] / expected[positive])))
    dof = int(seen.sum()) - 1
    p_value = float(stats.chi2.sf(g, dof)) if dof > 0 else 1.0
    if not p_value < alpha:
        return None
    return ArrivalProfile(rates, counts, hours, p_value)


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays",
              "Sundays")


def _profile_lines(profile: ArrivalProfile) -> list[str]:
    total = int(profile.counts.sum())
    lines = [f"  rate:  # arrivals per hour by weekday and hour of day: {total} case "
             "arrivals / observed hours",
             f"    # (a flat rate is rejected: G-test p = {max(profile.p_value, 1e-300):.2g}); the "
             "comment "
             "after each day gives its arrivals per hour of day",
             "    per: hour"]
    for d, day in enumerate(_WEEKDAYS):
        rates = profile.rates[d]
        weeks = int(profile.hours[d].max())
        counts = profile.counts[d].astype(int).tolist()
        if weeks == 0:
            note = "never observed: the hour-of-day rates pooled over the other days"
        else:
            note = f"counts {counts} over {weeks} {_DAY_NAMES[d]}"
        if not rates.any():
            lines.append(f"    # {day}: no arrivals ({note})")
            continue
        values = ", ".join(_num(float(f"{r:.4g}")) for r in rates)
        lines.append(f"    {day}: [{values}]  # {note}")
    return lines


def discover(log: EventLog, *, min_frequency: float = 0.0) -> str:
    """The text of a commented, runnable procsim model (YAML) discovered from ``log``.

    See the module's docstring for what is discovered and how.

    Parameters
    ----------
    log : EventLog
        From :func:`procsim.eventlog.read_log` or :func:`~procsim.eventlog.simulated.
        simulated_log`; at least one case.
    min_frequency : float
        Drop directly-follows edges taken by less than this share of their node's outgoing
        instances (0 ≤ ``min_frequency`` < 1), then renormalise; an edge a node needs to
        reach ``end`` is kept.

    Returns
    -------
    str
        YAML text; :func:`procsim.parse_model` accepts it.

    Raises
    ------
    ValueError
        ``min_frequency`` out of range, or an empty log.

    Examples
    --------
    >>> import procsim
    >>> from procsim.eventlog import read_log
    >>> log = read_log("tests/data/eventlogs/LoanApp_simplified_train.csv.gz")
    >>> model = procsim.parse_model(discover(log, min_frequency=0.05))
    >>> model.time_unit, len([a for a in model.activities if not a.startswith("wait_before")])
    ('minutes', 12)
    """
    expect_log(log)
    if not (isinstance(min_frequency, (int, float)) and 0.0 <= min_frequency < 1.0):
        raise UsageError(f"min_frequency: expected a number in [0, 1), got {min_frequency!r}")
    import pandas as pd

    frame = log.frame
    if len(frame) == 0:
        raise LogError("the log has no activity instances")
    frame = frame.sort_values(["case", "start", "end", "line"], kind="stable")
    # A case arrives when its first activity is enabled (when the log says), else starts.
    arrived = frame["enabled"].where(frame["enabled"].notna(), frame["start"])
    starts = arrived.groupby(frame["case"], sort=False).min().sort_values()
    ends = frame.groupby("case", sort=False)["end"].max()
    cycle = (ends[starts.index] - starts).dt.total_seconds().to_numpy(dtype=np.float64)
    time_unit = "hours" if float(np.median(cycle)) >= 86400.0 else "minutes"
    unit = _SECONDS[time_unit]

    names = _names(sorted(frame["activity"].unique().tolist()))
    out: list[str] = []
    source = log.file or "a simulated log"
    first = starts.iloc[0]
    if getattr(first, "tz", None) is not None:  # the model's start is local wall time
        first = first.tz_localize(None)
    out += [
        f"# Discovered by procsim discover from {source}: {log.cases} cases, "
        f"{len(frame)} activity instances.",
        "# Every number says how many observations it came from. Activities that always",
        "# overlap in time are parallel branches; other overlapping ones run in sequence, in",
        "# their usual order; pools work in the hours the log shows them working, people",
        "# are named where they work in several pools or have hours or durations of their",
        "# own; waiting that queues and hours do not explain (customers) is a delay before",
        "# the activity (wait_before_...); costs are PLACEHOLDERs. Review before use.",
        "procsim: 1",
        f"name: {json.dumps('Discovered: ' + _basename(source), ensure_ascii=False)}",
        f"time_unit: {time_unit}  # median cycle time "
        f"{_num(float(np.median(cycle)) / unit)} {time_unit}, over {log.cases} cases",
        f"start: {first.floor('s').strftime('%Y-%m-%dT%H:%M:%S')}  # first case's arrival",
    ]

    # Arrivals: a rate profile by weekday and hour when the log's arrivals have one, else
    # exponential with the mean gap between consecutive case arrivals.
    offsets = (starts - starts.iloc[0]).dt.total_seconds().to_numpy(dtype=np.float64)
    gaps = np.diff(offsets) / unit
    out.append("arrivals:")
    profile = arrival_profile(starts)
    if profile is not None:
        out += _profile_lines(profile)
    elif len(gaps) and float(np.mean(gaps)) > 0:
        mean_gap = _dur(float(np.mean(gaps)), time_unit)
        out.append(f"  interarrival: {{dist: exponential, mean: {mean_gap}}}  # mean of "
                   f"{len(gaps)} gaps between case arrivals (no significant daily or weekly "
                   "profile)")
    else:
        out.append("  interarrival: {dist: exponential, mean: 1h}  # PLACEHOLDER: arrival rate "
                   "(fewer than 2 distinct case starts)")

    # Observed waits (enabled, else the case's previous end, to start), on the whole log.
    ready = _ready(frame)
    blocks, block_rows = _blocks(frame)
    parallel = _parallel_sets(blocks)
    if parallel:
        # Without an enabled time, every branch of a parallel block was ready when the
        # block's first activity was (not when a sibling branch ended).
        values = ready.to_numpy(copy=True)
        missing = frame["enabled"].isna().to_numpy()
        for case_blocks, case_rows in zip(blocks, block_rows, strict=True):
            for block, rows in zip(case_blocks, case_rows, strict=True):
                if len(block) > 1 and frozenset(block) in parallel:
                    for row in rows[1:]:
                        if missing[row]:
                            values[row] = values[rows[0]]
        ready = pd.Series(values, index=frame.index, dtype=ready.dtype)
    frame = frame.assign(ready=ready)

    # Flow first: activities it leaves unreachable (through dropped edges) are left out.
    counts = _directly_follows(_traces(blocks, parallel))
    kept = _prune(counts, min_frequency)
    in_flow = {a for node in kept for a in ([node] if isinstance(node, str) else node)}
    left_out = sorted(a for a in names if a not in in_flow)
    if left_out:
        out.append(f"# Left out, reachable only through transitions below min_frequency "
                   f"{min_frequency:g}: " + _comment(", ".join(left_out)))
    names = {a: n for a, n in names.items() if a in in_flow}
    frame = frame[frame["activity"].isin(list(names))]

    # Resources: one pool per set of resources; delays for activities without one. Every
    # resource of a pool is a person (a member), so that one who works in several pools is
    # one server shared by them, with their own calendar where their own work shows one.
    pools, activity_pool = _pools(frame)
    pool_of = frame["activity"].map(activity_pool)
    person_name = _names(sorted({m for members in pools.values() for m in members}))
    resource_col = frame["resource"].astype(object).where(frame["resource"].notna(), None)
    performer = np.array([r if r in person_name else None for r in resource_col.tolist()],
                         dtype=object)
    # Calendars: the hours of day and weekdays in which each pool's (person's) work started
    # or ended.
    hours: dict[str, tuple[np.ndarray, list[int], list[int], int]] = {}
    for pool in pools:
        found = _pool_hours(frame[(pool_of == pool).to_numpy()])
        if found is not None:
            hours[pool] = found
    pools_of_person: dict[str, list[str]] = defaultdict(list)
    for pool, members in pools.items():
        for member in members:
            pools_of_person[member].append(pool)
    own: dict[str, tuple[np.ndarray, list[int], list[int], int]] = {}
    mixed: dict[str, tuple[np.ndarray, list[int], list[int]]] = {}
    for person in person_name:
        found = _pool_hours(frame[(performer == person) & pool_of.notna().to_numpy()])
        its = pools_of_person[person]
        shared = {(tuple(hours[p][1]), tuple(hours[p][2])) if p in hours else None for p in its}
        if found is not None and shared != {(tuple(found[1]), tuple(found[2]))}:
            own[person] = found    # hours of their own, unlike their pools'
        elif found is not None:
            continue               # their pools' hours: the pool's calendar
        elif len(shared) > 1:
            # Pools with different hours, too few events of their own: every hour of any.
            days = sorted({d for p in its for d in (hours[p][1] if p in hours else range(7))})
            day_hours = sorted({h for p in its
                                for h in (hours[p][2] if p in hours else range(24))})
            mask = np.zeros((7, 24), dtype=bool)
            mask[np.ix_(days, day_hours)] = True
            mixed[person] = (mask.ravel(), days, day_hours)
    # Durations and waits in seconds: working time of the calendar of who did the work (the
    # person's own, else the pool's), where there is one.
    work = (frame["end"] - frame["start"]).dt.total_seconds().to_numpy(dtype=np.float64)
    clock_waits = (frame["start"] - frame["ready"]).dt.total_seconds().clip(lower=0.0).to_numpy(
        dtype=np.float64)
    waits = clock_waits.copy()
    spans = {pool: max((frame["end"].max() - starts.iloc[0]).total_seconds(), 1.0)
             for pool in pools}
    with_hours = [*own, *mixed]   # people with hours of their own
    masks = [(f"pool {pool}", (pool_of == pool).to_numpy() & np.isin(
        performer, [p for p in pools[pool] if p in with_hours], invert=True), found[0])
        for pool, found in hours.items()]
    masks += [(f"person {person}", (performer == person) & pool_of.notna().to_numpy(),
               (own[person][0] if person in own else mixed[person][0]))
              for person in with_hours]
    for _, rows, mask in masks:   # durations: in the performer's hours
        begin, finish = _working_seconds(frame["start"], mask), _working_seconds(frame["end"], mask)
        work[rows] = (finish - begin)[rows]
    for pool, (mask, _, _, _) in hours.items():
        # Waits: in the pool's hours, those of the delay that stands for what they leave
        # unexplained (and of the queue, which any member on shift serves).
        rows = (pool_of == pool).to_numpy()
        begin = _working_seconds(frame["start"], mask)
        ready = _working_seconds(frame["ready"], mask)
        waits[rows] = np.maximum(begin - ready, 0.0)[rows]
        bounds = _working_seconds(pd.Series([starts.iloc[0], frame["end"].max()]), mask)
        spans[pool] = max(float(bounds[1] - bounds[0]), 1.0)

    # People whose durations differ markedly from everyone's get their own (durations:).
    personal: dict[str, dict[str, DurationFit]] = {}
    for activity in names:
        if activity_pool.get(activity) is not None:
            rows = (frame["activity"] == activity).to_numpy()
            found_personal = _personal_durations(work[rows] / unit, performer[rows])
            if found_personal:
                personal[activity] = found_personal
    # Named members only where they matter: a person in several pools (one server shared by
    # them), with hours or durations of their own; other pools keep a capacity.
    special = {p for p, its in pools_of_person.items() if len(its) > 1}
    special |= set(own) | set(mixed) | {p for fits in personal.values() for p in fits}
    named_pools = {pool for pool, members in pools.items() if members & special}
    person_name = {p: n for p, n in person_name.items()
                   if any(p in pools[q] for q in named_pools)}

    calendar_names: dict[str, str] = {}
    taken_calendars: set[str] = set()

    def calendar_name(base: str) -> str:
        name, number = base, 2
        while name in taken_calendars:
            name, number = f"{base}_{number}", number + 1
        taken_calendars.add(name)
        return name

    for pool in hours:
        calendar_names[pool] = calendar_name(f"{pool}_hours")
    person_calendar = {person: calendar_name(f"{person_name[person]}_own_hours")
                       for person in [*own, *mixed]}
    if hours or own or mixed:
        out.append("calendars:")
        for pool, (_, days, day_hours, events) in hours.items():
            out.append(f"  {calendar_names[pool]}:  # the weekdays and hours of day in which "
                       f"{pool}'s {events} starts and ends fell")
            out += [f"    - {interval}" for interval in _calendar_intervals(days, day_hours)]
        for person, (_, days, day_hours, events) in own.items():
            out.append(f"  {person_calendar[person]}:  # the weekdays and hours of day in "
                       f"which {_comment(person)}'s {events} starts and ends fell")
            out += [f"    - {interval}" for interval in _calendar_intervals(days, day_hours)]
        for person, (_, days, day_hours) in mixed.items():
            out.append(f"  {person_calendar[person]}:  # every weekday and hour of "
                       f"{_comment(person)}'s pools (too few starts and ends of their own)")
            out += [f"    - {interval}" for interval in _calendar_intervals(days, day_hours)]
    if person_name:
        out.append("people:  # the resources of pools where one works in several pools, or "
                   "has hours or durations of their own")
        for person, name in person_name.items():
            count = int(((performer == person) & pool_of.notna().to_numpy()).sum())
            fields = [f"description: {json.dumps(person, ensure_ascii=False)}"]
            if person in person_calendar:
                fields.append(f"calendar: {person_calendar[person]}")
            out.append(f"  {name}: {{{', '.join(fields)}}}  # {count} activity instances")
    if pools:
        out.append("resources:")
        for pool, members in pools.items():
            out.append(f"  {pool}:")
            if pool in named_pools:
                listed = ", ".join(person_name[m] for m in sorted(members))
                out.append(f"    members: [{listed}]  # {len(members)} distinct resources seen")
            else:
                shown = ", ".join(sorted(members)[:5]) + (", …" if len(members) > 5 else "")
                out.append(f"    capacity: {len(members)}  # distinct resources seen: "
                           f"{_comment(shown)}")
            out.append("    cost_per_hour: 0  # PLACEHOLDER: cost_per_hour")
            if pool in hours:
                out.append(f"    calendar: {calendar_names[pool]}")
            if pool in hours or any(m in person_calendar for m in members):
                out.append("    preempt: true  # work pauses while the calendar is closed: "
                           "durations are in its working time")
    # Activities: durations fitted by maximum likelihood, chosen by AIC.
    out.append("activities:")
    queue = _pool_queue_waits(work, pool_of, pools, spans)
    entry = dict(names)  # the node the flow enters an activity by: its waiting delay, if any
    taken = set(names.values())
    for activity, name in names.items():
        rows = (frame["activity"] == activity).to_numpy()
        values = work[rows] / unit
        fit = fit_duration(values)
        params = ", ".join(f"{k}: {_dur(v, time_unit)}" for k, v in fit.params.items())
        how = "" if fit.aic is None else ", least AIC of the fitted families"
        assigned = activity_pool.get(activity)
        known = rows & np.isfinite(waits)
        observed = waits[known]
        delay = _unexplained_wait(observed, queue[assigned][0] if assigned is not None else 0.0,
                                  unit)
        if delay is not None:
            wait_name, number = f"wait_before_{name}", 2
            while wait_name in taken:
                wait_name, number = f"wait_before_{name}_{number}", number + 1
            taken.add(wait_name)
            entry[activity] = wait_name
            load = ("no pool" if assigned is None else
                    f"{assigned}'s queue, at the log's load of {_num(queue[assigned][1])} "
                    "busy servers over its whole period"
                    + (" (working time)," if assigned in hours else ","))
            out.append(f"  {wait_name}:")
            out.append("    description: " + json.dumps(
                f"Waiting before {activity} that queues do not explain", ensure_ascii=False))
            out.append("    # A delay standing for waiting the log does not explain (nights, "
                       "weekends, customers, ...):")
            working = (f" ({_num(float(np.mean(clock_waits[known])) / unit)} {time_unit} "
                       "in calendar time)" if assigned in hours else "")
            out.append(f"    # observed mean wait {_num(float(np.mean(observed)) / unit)} "
                       f"{time_unit}{working} over {len(observed)} instances; {load} would "
                       "explain "
                       f"{_num(delay.queue)} {time_unit}")
            if assigned in hours:
                out.append(f"    calendar: {calendar_names[assigned]}  # measured in "
                           f"{assigned}'s working time, so it elapses in it")
            edges = ", ".join(_dur(e, time_unit) for e in delay.edges)
            probabilities = ", ".join(str(c) for c in delay.counts)
            out.append(f"    duration: {{dist: histogram, edges: [{edges}], probabilities: "
                       f"[{probabilities}]}}  # {len(observed)} observations of the wait less "
                       f"the queue's mean, mean {_num(delay.mean)} {time_unit}")
        out.append(f"  {name}:")
        out.append(f"    description: {json.dumps(activity, ensure_ascii=False)}")
        if assigned is not None:
            out.append(f"    resource: {assigned}")
        else:
            out.append("    # no resource (missing or SYSTEM in most instances): a delay")
        out.append(f"    duration: {{dist: {fit.dist}, {params}}}  # {fit.observations} "
                   f"observations, fitted mean {_num(fit.mean)} {time_unit}{how}")
        if activity in personal:
            out.append("    durations:  # people whose mean differs from the activity's by "
                       "over 20 % and 4 standard errors")
            for person, own_fit in personal[activity].items():
                own_params = ", ".join(f"{k}: {_dur(v, time_unit)}"
                                       for k, v in own_fit.params.items())
                out.append(f"      {person_name[person]}: {{dist: {own_fit.dist}, "
                           f"{own_params}}}  # {own_fit.observations} observations, fitted "
                           f"mean {_num(own_fit.mean)} {time_unit}")

    # Gateways: a split and a join around each parallel block, and an exclusive gateway
    # after the join where the block has several successors (a join cannot choose).
    blocks_kept = sorted((n for n in kept if isinstance(n, frozenset)), key=_node_key)
    split: dict[frozenset[str], str] = {}
    after: dict[frozenset[str], str] = {}
    if blocks_kept:
        out.append("gateways:")
    for number, block_set in enumerate(blocks_kept, 1):
        base, suffix = f"parallel_{number}", 2
        while {base, f"{base}_done", f"{base}_next"} & taken:
            base, suffix = f"parallel_{number}_{suffix}", suffix + 1
        taken.update({base, f"{base}_done", f"{base}_next"})
        split[block_set], after[block_set] = base, f"{base}_done"
        cases = sum(kept[block_set].values())
        shown = _comment(", ".join(sorted(block_set)))
        out.append(f"  {base}: {{type: parallel}}  # split: {shown} overlapped in time in "
                   f"every one of their {cases} occurrences")
        out.append(f"  {base}_done: {{type: parallel}}  # join")
        if len(kept[block_set]) > 1:
            out.append(f"  {base}_next: {{type: exclusive}}  # what follows the block")

    def target(node: Node) -> str:
        if node == "end":
            return "end"
        return split[node] if isinstance(node, frozenset) else entry[node]

    # Flow: the directly-follows graph as exclusive choices.
    out.append("flow:")
    for node in ["start", *sorted((n for n in kept if n != "start"), key=_node_key)]:
        targets = kept[node]
        total = sum(targets.values())
        if isinstance(node, frozenset):
            branches = sorted(node)
            out.append(f"  {split[node]}: [{', '.join(entry[a] for a in branches)}]")
            out += [f"  {names[a]}: {after[node]}" for a in branches]
            label = after[node]
            if len(targets) > 1:
                out.append(f"  {label}: {label[:-len('_done')]}_next")
                label = f"{label[:-len('_done')]}_next"
        else:
            label = "start" if node == "start" else names[node]
        seen = sum(counts[node].values())
        note = (f"{total} observed transitions" if total == seen else
                f"{total} of {seen} observed transitions (rarer ones dropped)")
        if len(targets) == 1:
            (only,) = targets
            out.append(f"  {label}: {target(only)}  # {note}")
            continue
        probs = _probabilities([targets[t] for t in targets])
        body = ", ".join(f"{target(t)}: {p}" for t, p in zip(targets, probs, strict=True))
        out.append(f"  {label}: {{{body}}}  # {note}: "
                   + ", ".join(str(targets[t]) for t in targets))
    for activity, node in entry.items():
        if node != names[activity]:
            out.append(f"  {node}: {names[activity]}  # then the activity")
    text = "\n".join(out) + "\n"
    from procsim.model.load import parse_model

    parse_model(text)  # a bug here must not reach the user as a broken file
    return text


# --- helpers ----------------------------------------------------------------------------------


def _basename(source: str) -> str:
    return re.split(r"[\\/]", source)[-1]


def _comment(text: str) -> str:
    """Text safe in a YAML comment: one line."""
    return re.sub(r"[\r\n]+", " ", text)


def _num(value: float) -> str:
    text = f"{value:.6g}"
    if "e" in text:
        text = f"{value:.12f}".rstrip("0").rstrip(".") or "0"
    return text


def _dur(value: float, time_unit: str) -> str:
    return f"{_num(value)}{_SUFFIX[time_unit]}"


def _sanitise(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", text.strip()).strip("_").lower()
    if not name or not re.match(r"[A-Za-z_]", name):
        name = f"a_{name}"
    if name in ("start", "end") or name in _YAML_WORDS:
        name = f"{name}_activity"
    return name


def _names(originals: list[str]) -> dict[str, str]:
    """A valid, unique procsim name for each original name."""
    taken: set[str] = set()
    names = {}
    for original in originals:
        base = name = _sanitise(str(original))
        number = 2
        while name in taken:
            name, number = f"{base}_{number}", number + 1
        taken.add(name)
        names[original] = name
    return names


def _pools(frame: Any) -> tuple[dict[str, set[str]], dict[str, str]]:
    """Pools (name → members) and each activity's pool; activities without one are delays."""
    import pandas as pd

    sets: dict[str, frozenset[str]] = {}
    for activity, group in frame.groupby("activity", sort=True):
        resources = group["resource"]
        missing = resources.isna() | resources.astype(str).str.lower().isin(_NO_RESOURCE)
        if int(missing.sum()) * 2 >= len(resources):
            continue  # a delay
        sets[activity] = frozenset(str(r) for r in resources[~missing] if not pd.isna(r))
    by_set: dict[frozenset[str], list[str]] = defaultdict(list)
    for activity, members in sets.items():
        by_set[members].append(activity)
    pools: dict[str, set[str]] = {}
    activity_pool: dict[str, str] = {}
    taken: set[str] = set()
    for number, (members, activities) in enumerate(
            sorted(by_set.items(), key=lambda item: sorted(item[1])), start=1):
        prefix = _common_prefix(sorted(members))
        base = _sanitise(prefix) if len(prefix) >= 3 else f"pool_{number}"
        name, extra = base, 2
        while name in taken:
            name, extra = f"{base}_{extra}", extra + 1
        taken.add(name)
        pools[name] = set(members)
        for activity in activities:
            activity_pool[activity] = name
    return pools, activity_pool


def _common_prefix(members: list[str]) -> str:
    """The members' common prefix, cut before trailing digits and separators."""
    prefix = members[0]
    for member in members[1:]:
        while not member.startswith(prefix):
            prefix = prefix[:-1]
    return re.sub(r"[^A-Za-z]+$", "", prefix)


def _ready(frame: Any) -> Any:
    """Each instance's ready time: its enabled time, else the latest end of its case's
    earlier instances (so that an instance overlapping them waits 0); NaT for a case's first
    instance without an enabled time. ``frame`` is sorted by case and start."""
    by_case = frame.groupby("case", sort=False)["end"]
    previous = by_case.cummax().groupby(frame["case"], sort=False).shift(1)
    ready = frame["enabled"].where(frame["enabled"].notna(), previous)
    return ready.where(ready.isna() | (ready <= frame["start"]), frame["start"])


_EPOCH = "1970-01-05"  # a Monday


def _wall(times: Any) -> Any:
    import pandas as pd

    times = pd.Series(times).reset_index(drop=True)
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_localize(None)
    return times


#: The fewest observations of one person's durations of an activity that may give them
#: their own durations.
_MIN_PERSONAL = 30


def _personal_durations(values: np.ndarray, performer: np.ndarray) -> dict[str, DurationFit]:
    """The people whose durations of an activity differ markedly from everyone's: at least
    :data:`_MIN_PERSONAL` observations, and a mean more than 20 % and more than 4 standard
    errors (of their mean) away from the activity's mean; each with their own fit."""
    overall = float(np.mean(values)) if len(values) else 0.0
    out: dict[str, DurationFit] = {}
    for person in sorted({p for p in performer.tolist() if p is not None}):
        own = values[performer == person]
        if len(own) < _MIN_PERSONAL:
            continue
        gap = abs(float(np.mean(own)) - overall)
        error = float(np.std(own, ddof=1)) / math.sqrt(len(own))
        if gap > 0.2 * overall and gap > 4 * error:
            out[person] = fit_duration(own)
    return out


def _pool_hours(rows: Any) -> tuple[np.ndarray, list[int], list[int], int] | None:
    """The open (weekday, hour) slots of a pool's calendar, or ``None`` for around the clock.

    The working hours of :func:`procsim.eventlog.kpis.discover_working_hours`: the
    weekdays, and the hours of the day, in which some instance of the pool started or ended
    (local wall time; an end on the hour counts in the hour before), as their product;
    ``None`` with fewer than :data:`~procsim.eventlog.kpis.MIN_CALENDAR_EVENTS` starts and
    ends, or when every weekday and hour was seen.
    """
    found = discover_working_hours(rows["start"], rows["end"])
    if found is None:
        return None
    days, day_hours = list(found[0]), list(found[1])
    if len(days) == 7 and len(day_hours) == 24:
        return None
    mask = np.zeros((7, 24), dtype=bool)
    mask[np.ix_(days, day_hours)] = True
    return mask.ravel(), days, day_hours, 2 * len(rows)


def _calendar_intervals(days: list[int], day_hours: list[int]) -> list[str]:
    """The calendar's intervals, one per run of consecutive open hours, on the open days."""
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    on = "[" + ", ".join(names[d] for d in days) + "]"
    return [f'{{days: {on}, from: "{start}", to: "{end}"}}' for start, end in hour_runs(day_hours)]


def _working_seconds(times: Any, mask: np.ndarray) -> np.ndarray:
    """Seconds the calendar (``mask``: 168 open hours of the week) was open from a fixed
    Monday to each of ``times`` (NaN for NaT): differences are working time."""
    import pandas as pd

    times = _wall(times)
    seconds = (times - pd.Timestamp(_EPOCH)).dt.total_seconds().to_numpy(dtype=np.float64)
    known = np.isfinite(seconds)
    hours = np.floor(np.where(known, seconds, 0.0) / 3600.0)
    week, slot = np.divmod(hours, 168.0)
    slot = slot.astype(np.intp)
    cumulative = np.concatenate([[0.0], np.cumsum(mask)])
    full = (week * cumulative[168] + cumulative[slot]) * 3600.0
    partial = np.where(mask[slot], np.where(known, seconds, 0.0) - hours * 3600.0, 0.0)
    return np.where(known, full + partial, np.nan)


def queue_wait(arrival_rate: float, mean: float, scv: float, servers: int) -> float:
    """Mean wait in queue of a ``servers``-server FIFO queue (Allen–Cunneen approximation).

    Erlang C's M/M/c wait times ``(1 + scv) / 2``, where ``scv`` is the squared coefficient
    of variation of the service time (Poisson arrivals); exact for M/M/c and M/G/1.
    ``inf`` when the offered load reaches the number of servers. Times in any one unit.

    Examples
    --------
    >>> round(queue_wait(0.5, 1.0, 1.0, 1), 6)  # M/M/1 at 50 %: rho / (mu - lambda)
    1.0
    """
    load = arrival_rate * mean
    if load >= servers:
        return math.inf
    if load <= 0:
        return 0.0
    blocking = 1.0  # Erlang B by recursion, then Erlang C
    for k in range(1, servers + 1):
        blocking = load * blocking / (k + load * blocking)
    waiting = blocking / (1.0 - load / servers * (1.0 - blocking))
    return waiting * mean / (servers - load) * (1.0 + scv) / 2.0


def _pool_queue_waits(work: np.ndarray, pool_of: Any, pools: dict[str, set[str]],
                      spans: dict[str, float]) -> dict[str, tuple[float, float]]:
    """Per pool: (mean queue wait, offered load) at the log's load over the pool's span
    (seconds of work, of the period, of working time where the pool has a calendar)."""
    out = {}
    for pool, members in pools.items():
        x = work[(pool_of == pool).to_numpy()]
        if len(x) == 0 or float(np.mean(x)) <= 0:
            out[pool] = (0.0, 0.0)
            continue
        mean = float(np.mean(x))
        scv = float(np.var(x)) / mean ** 2
        rate = len(x) / spans[pool]
        out[pool] = (queue_wait(rate, mean, scv, len(members)), rate * mean)
    return out


@dataclass(frozen=True)
class _Delay:
    edges: list[float]  # in the model's time unit, as written
    counts: list[int]
    mean: float  # of the histogram
    queue: float  # the queue's mean wait


def _unexplained_wait(waits: np.ndarray, queue: float, unit: float) -> _Delay | None:
    """The delay for the waits (seconds) that a queue of mean wait ``queue`` does not explain.

    A delay when the mean observed wait (in the pool's working time where it has a
    calendar: the calendar explains the rest) exceeds the queue's mean by more than the
    queue's mean itself (the queue explains less than half of it) and by more than 4
    standard errors. Its law, in units of ``unit`` seconds: a histogram of
    ``max(0, wait - queue)``: one bin for the zeros (to 1 second), then up to 20 bins of
    equal counts of the positive values (uniform within each, as procsim samples a
    histogram). (Calendar-time waits, which already hold the closed hours, were tried: the
    pool's calendar then adds closed hours a second time, and LoanApp's cycle time overshot
    by a third.)
    """
    n = len(waits)
    if n < 2 or not math.isfinite(queue):
        return None
    excess = float(np.mean(waits)) - queue
    if not (excess > queue and excess > 4 * float(np.std(waits, ddof=1)) / math.sqrt(n)):
        return None
    values = np.maximum(waits - queue, 0.0) / unit
    second = 1.0 / unit
    positive = np.sort(values[values > second])
    edges: list[float] = [0.0]
    if len(positive) < n:  # zeros (to a second) in a bin of their own
        edges.append(_rounded(second, up=True))
    if len(positive):
        for cut in np.quantile(positive, np.linspace(0.0, 1.0, 21))[:-1]:
            cut = _rounded(float(cut), up=False)  # each value stays in its bin
            if cut > edges[-1]:
                edges.append(cut)
        top = _rounded(float(positive[-1]) * (1 + 1e-5), up=True)
        edges.append(top if top > edges[-1] else _rounded(edges[-1] * (1 + 1e-4), up=True))
    counts = np.histogram(np.clip(values, edges[0], edges[-1]), bins=np.asarray(edges))[0]
    middles = (np.asarray(edges[:-1]) + np.asarray(edges[1:])) / 2
    mean = float(np.sum(counts * middles) / np.sum(counts))
    return _Delay(edges, [int(c) for c in counts], mean, queue / unit)


def _rounded(value: float, *, up: bool) -> float:
    """``value`` as :func:`_num` writes it, rounded up or down (never across ``value``)."""
    shown = float(_num(value))
    if (shown > value) if not up else (shown < value):
        shown = float(_num(value * (1 + 1e-5) if up else value * (1 - 1e-5)))
    return shown

#: A node of the directly-follows graph: an activity, ``start``/``end``, or a parallel block
#: (the set of activities that always run together).
Node = str | frozenset[str]


def _blocks(frame: Any) -> tuple[list[list[list[str]]], list[list[list[int]]]]:
    """Each case's instances in blocks of overlapping ones: activities and row positions.

    An instance belongs to the block of the one before it when it was enabled (else
    started) before the block's latest end: the two ran, or could have run, at once.
    ``frame`` is sorted by case and start; positions are 0-based rows of it.
    """
    blocks: list[list[list[str]]] = []
    rows: list[list[list[int]]] = []
    ready = frame["enabled"].where(frame["enabled"].notna(), frame["start"])
    columns = zip(frame["case"].tolist(), frame["activity"].tolist(), ready.tolist(),
                  frame["end"].tolist(), strict=True)
    case_blocks: list[list[str]] = []
    case_rows: list[list[int]] = []
    current_case: object = None
    latest_end: Any = None
    for position, (case, activity, begin, end) in enumerate(columns):
        if case != current_case:
            case_blocks, case_rows = [], []
            blocks.append(case_blocks)
            rows.append(case_rows)
            current_case, latest_end = case, None
        if latest_end is not None and begin < latest_end:
            case_blocks[-1].append(activity)
            case_rows[-1].append(position)
            latest_end = max(latest_end, end)
        else:
            case_blocks.append([activity])
            case_rows.append([position])
            latest_end = end
    return blocks, rows


def _parallel_sets(blocks: list[list[list[str]]]) -> set[frozenset[str]]:
    """The sets of activities that run in parallel: a set of two or more activities is one
    when every instance of each of them, over the whole log, is in a block of exactly that
    set, each activity once. (Any other overlap is run in sequence; see :func:`_traces`.)"""
    homes: dict[str, set[frozenset[str]]] = defaultdict(set)
    mixed: set[str] = set()   # alone somewhere, or twice in one block
    for case_blocks in blocks:
        for block in case_blocks:
            members = frozenset(block)
            if len(block) == 1 or len(members) != len(block):
                mixed.update(block)
            else:
                for activity in block:
                    homes[activity].add(members)
    return {next(iter(sets)) for activity, sets in homes.items()
            if len(sets) == 1 and activity not in mixed
            and all(homes[other] == sets and other not in mixed
                    for other in next(iter(sets)))}


def _traces(blocks: list[list[list[str]]], parallel: set[frozenset[str]]
            ) -> list[list[Node]]:
    """Each case's sequence of nodes: an activity, or a parallel block (a frozenset, one of
    ``parallel``). Other overlapping activities are put in a canonical order: by their
    mean position in such blocks over the whole log (their usual order), so that overlapping
    work that is not always the same set becomes one sequence instead of a choice between
    the orders that happened to be observed.
    """
    positions: dict[str, list[int]] = defaultdict(list)
    for case_blocks in blocks:
        for block in case_blocks:
            if len(block) > 1 and frozenset(block) not in parallel:
                for position, activity in enumerate(block):
                    positions[activity].append(position)
    rank = {a: sum(p) / len(p) for a, p in positions.items()}
    traces: list[list[Node]] = []
    for case_blocks in blocks:
        trace: list[Node] = []
        for block in case_blocks:
            members = frozenset(block)
            if len(block) == 1:
                trace.append(block[0])
            elif members in parallel:
                trace.append(members)
            else:
                ordered: list[str] = sorted(block, key=lambda a: (rank[a], a))
                trace += ordered
        traces.append(trace)
    return traces


def _directly_follows(traces: list[list[Node]]) -> dict[Node, Counter[Node]]:
    """Counts of each node's successors over ``traces``, with ``start``/``end`` nodes."""
    counts: dict[Node, Counter[Node]] = defaultdict(Counter)
    for nodes in traces:
        trace: list[Node] = ["start", *nodes, "end"]
        for a, b in itertools.pairwise(trace):
            counts[a][b] += 1
    return counts


def _node_key(node: Node) -> tuple[int, tuple[str, ...]]:
    """A sort key for nodes: activities by name, then parallel blocks by their members."""
    return (0, (node,)) if isinstance(node, str) else (1, tuple(sorted(node)))


def _prune(counts: dict[Node, Counter[Node]], min_frequency: float
           ) -> dict[Node, dict[Node, int]]:
    """Edges at or above ``min_frequency`` of their node's outgoing, keeping the graph valid.

    Each node keeps its most frequent edge. While a node reachable from ``start`` cannot reach
    ``end``, its dropped edges are restored (in the full graph every node reaches ``end``,
    since every case does). Nodes left unreachable from ``start`` are removed.
    """
    kept: dict[Node, dict[Node, int]] = {}
    for node, targets in counts.items():
        total = sum(targets.values())
        ranked = sorted(targets.items(), key=lambda item: (-item[1], _node_key(item[0])))
        kept[node] = {t: c for i, (t, c) in enumerate(ranked)
                      if i == 0 or c / total >= min_frequency}
    while True:
        reachable = _reach("start", kept)
        reverse: dict[Node, set[Node]] = defaultdict(set)
        for node in reachable:
            for target in kept.get(node, {}):
                reverse[target].add(node)
        reaches_end = _reach("end", reverse)
        stuck = [n for n in reachable if n != "end" and n not in reaches_end]
        if not stuck:
            break
        for node in stuck:
            kept[node] = dict(sorted(counts[node].items(),
                                     key=lambda item: (-item[1], _node_key(item[0]))))
    return {node: kept[node] for node in sorted(reachable, key=_node_key) if node != "end"}


def _reach(origin: Node, graph: Any) -> set[Node]:
    seen, todo = {origin}, [origin]
    while todo:
        for target in graph.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _probabilities(counts: list[int]) -> list[str]:
    """Shares of ``counts`` with six decimals, each > 0, summing to exactly 1."""
    total = sum(counts)
    micro = [max(1, round(1_000_000 * c / total)) for c in counts]
    micro[micro.index(max(micro))] += 1_000_000 - sum(micro)
    return [f"{m / 1_000_000:.6f}".rstrip("0").rstrip(".") for m in micro]


