"""Semantic checks of a schema-valid model: names, conditions and the flow graph.

:func:`check_model` returns every issue found (it never stops at the first);
:func:`offered_load` and :func:`check_stability` compute the load on each pool
from the traffic equations, so that an unstable model is refused before it runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from procsim.errors import Issue, UnstableModelError, close_match_hint, dotted, quote
from procsim.model.graph import flow_edges, flow_kind, parse_condition
from procsim.model.schema import Model
from procsim.model.targets import CASE_KPIS, SYSTEM_KPIS

__all__ = [
    "PoolLoad",
    "bare_duration_warning",
    "check_model",
    "check_references",
    "check_stability",
    "expected_visits",
    "immediate_dominators",
    "offered_load",
    "reachable_from",
]

_PROBABILITY_TOLERANCE = 1e-6


def check_model(model: Model) -> list[Issue]:
    """Every semantic problem of ``model`` (an empty list when it is sound)."""
    issues: list[Issue] = []

    def report(message: str, *path: Any) -> None:
        line, col = model.position(*path) or (None, None)
        issues.append(Issue(dotted(path), message, model.file, line, col))

    _check_names(model, report)
    _check_run(model, report)
    _check_resources(model, report)
    _check_flow_entries(model, report)
    _check_conditions(model, report)
    _check_kpis(model, report)
    _check_targets(model, report)
    if not issues:  # the graph needs every name resolved
        _check_graph(model, report)
    _check_numbers(model, report)
    return issues


def check_references(data: dict[str, Any], positions: Any, file: str | None) -> list[Issue]:
    """Name and flow checks on raw data that failed the schema (best effort).

    A model with schema errors cannot become a :class:`Model`, but its names can still be
    checked: unknown resources and nodes, missing flows, probabilities that do not sum to 1.
    Whatever part of the data is too malformed to read is skipped (the schema reports it).
    """
    from types import SimpleNamespace

    def section(name: str) -> dict[str, Any]:
        # A name with spaces or a line break around it is reported by the schema; here it
        # stands for the name itself, so that its references are not reported as unknown.
        value = data.get(name)
        return {k.strip(): v for k, v in value.items() if isinstance(k, str)} \
            if isinstance(value, dict) else {}

    def branch(b: Any) -> Any:
        return SimpleNamespace(to=b.get("to"), when=b.get("when")) if isinstance(b, dict) else b

    def readable_flow(targets: Any) -> bool:
        if isinstance(targets, str):
            return True
        if isinstance(targets, dict):
            return all(isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool)
                       for k, v in targets.items())
        if isinstance(targets, list) and targets:
            return (all(isinstance(t, str) for t in targets)
                    or all(isinstance(t, dict) and isinstance(t.get("to"), str) for t in targets))
        return False

    # An unreadable entry (the schema reports it) still counts as a flow, to nowhere in particular.
    flow = {k: v if readable_flow(v) else "end" for k, v in section("flow").items()}
    raw = SimpleNamespace(
        activities={k: SimpleNamespace(resource=v.get("resource")
                                       if isinstance(v, dict) and isinstance(v.get("resource"), str)
                                       else None)
                    for k, v in section("activities").items()},
        gateways={k: SimpleNamespace(type=v.get("type") if isinstance(v, dict) else None)
                  for k, v in section("gateways").items()},
        resources=section("resources"),
        flow={k: [branch(b) for b in v] if isinstance(v, list) and v and isinstance(v[0], dict)
              else v for k, v in flow.items()},
        file=file,
        position=lambda *path: positions.of(path),
    )
    if "flow" not in data:
        raw.flow = {"start": "end"}  # the schema reports the missing flow; check nothing more
    issues: list[Issue] = []

    def report(message: str, *path: Any) -> None:
        line, col = raw.position(*path) or (None, None)
        issues.append(Issue(dotted(path), message, file, line, col))

    try:
        _check_names(raw, report)  # type: ignore[arg-type]
        _check_flow_entries(raw, report)  # type: ignore[arg-type]
    except Exception:  # best effort on malformed data: the schema errors stand on their own
        return []
    return issues


def _check_names(model: Model, report: Any) -> None:
    for section in ("activities", "gateways"):
        for name in getattr(model, section):
            if name in ("start", "end"):
                report(f"{quote(name)} is reserved for the flow's entry and exit; choose another "
                       "name", section, name)
    for name in model.gateways:
        if name in model.activities:
            report(f"{quote(name)} is both an activity and a gateway; names must be unique",
                   "gateways", name)
    for name, activity in model.activities.items():
        if activity.resource is not None and activity.resource not in model.resources:
            report(
                f"unknown resource {quote(activity.resource)}"
                + close_match_hint(activity.resource, list(model.resources))
                + (f"; declared: {', '.join(model.resources)}" if model.resources else
                   "; no resources are declared"),
                "activities", name, "resource",
            )


def _check_run(model: Model, report: Any) -> None:
    """A warm-up that leaves nothing to measure (the first cases, or the first hours)."""
    from procsim.model.schema import WarmupDuration
    from procsim.units import format_duration

    run = model.run
    warmup = run.warmup
    cases = run.cases_or_default
    # Runs that could never end: say the bound rather than start them.
    for field, value, bound, what in (
            ("cases", run.cases, MAX_CASES, "cases per replication"),
            ("replications", run.replications if isinstance(run.replications, int) else None,
             MAX_REPLICATIONS, "replications"),
            ("max_replications", run.max_replications, MAX_REPLICATIONS, "replications"),
            ("warmup", warmup if isinstance(warmup, int) else None, MAX_CASES, "cases")):
        if value is not None and value > bound:
            shown = f"{value:,}" if value < 10**15 else f"{value:.3g}"
            report(f"expected at most {bound:,} {what}, got {shown}", "run", field)
    if run.duration is not None and not run.duration <= MAX_HORIZON:
        report(f"expected a duration below {MAX_HORIZON:g} {model.time_unit}, got "
               f"{run.duration:g}", "run", "duration")
    elif run.duration is not None:
        try:
            arrivals = model.arrival_rate * run.duration
        except Exception:  # a calendar or rate profile in error: reported by its own check
            arrivals = 0.0
        if not arrivals <= MAX_CASES:
            report(f"expected at most {MAX_CASES:,} arrivals per replication, got about "
                   f"{arrivals:.3g} (the arrival rate × run.duration); shorten the duration",
                   "run", "duration")
    if isinstance(warmup, int) and warmup > 0 and cases is not None and warmup > cases - 2:
        given = (f"run.cases is {cases:,}" if run.cases is not None
                 else f"run.cases is {cases:,} by default")
        report(f"expected a warm-up of at most {max(cases - 2, 0):,} cases ({given}, and at "
               f"least 2 cases must be left to measure), got {warmup:,}", "run", "warmup")
    if isinstance(warmup, WarmupDuration) and run.duration is not None \
            and warmup >= run.duration:
        unit = model.time_unit
        report(f"expected a warm-up shorter than run.duration "
               f"({format_duration(run.duration, unit)}), got "
               f"{format_duration(warmup, unit)}: every case would arrive during the warm-up",
               "run", "warmup")


def _check_resources(model: Model, report: Any) -> None:
    """Calendars, people, pools' members, per-person durations, batches and priorities."""
    calendars = list(model.calendars)

    def calendar_ref(name: str | None, *path: Any) -> None:
        if name is None:
            return
        if name not in model.calendars:
            report(f"unknown calendar {quote(name)}" + close_match_hint(name, calendars)
                   + (f"; declared: {', '.join(calendars)}" if calendars
                      else "; no calendars are declared (add calendars: at the top level)"),
                   *path)
        elif model.start is None:
            report(f"calendar {quote(name)} needs the model's start date-time, e.g. "
                   "'start: 2026-01-05T08:00' at the top level (simulated time 0)", *path)

    calendar_ref(model.arrivals.calendar, "arrivals", "calendar")
    calendar_ref(model.working_calendar, "working_calendar")
    if model.arrivals.rate is not None and model.start is None:
        report("a rate profile needs the model's start date-time, e.g. "
               "'start: 2026-01-05T08:00' at the top level (simulated time 0)", "arrivals", "rate")
    if model.start is not None:
        from procsim.calendars import CalendarError

        for name in model.calendars:
            try:
                model.calendar(name)
            except (CalendarError, ValueError) as exc:
                report(str(exc), "calendars", name)
    members_of: dict[str, list[str]] = {}
    for pool, spec in model.resources.items():
        calendar_ref(spec.calendar, "resources", pool, "calendar")
        for k, person in enumerate(spec.members or ()):
            if person not in model.people:
                report(f"unknown person {quote(person)}"
                       + close_match_hint(person, list(model.people))
                       + (f"; declared under people: {', '.join(model.people)}" if model.people
                          else "; declare them under people: at the top level"),
                       "resources", pool, "members", k)
            members_of.setdefault(person, []).append(pool)
        if spec.members is not None and len(set(spec.members)) != len(spec.members):
            report("expected each member once, got duplicates", "resources", pool, "members")
    for person, person_spec in model.people.items():
        calendar_ref(person_spec.calendar, "people", person, "calendar")
        if person not in members_of:
            report(f"{quote(person)} is a member of no pool; add them to a pool's members",
                   "people", person)
        pools = members_of.get(person, [])
        # One person has one shift pattern and one cost: pools that disagree need theirs.
        for field in ("calendar", "cost_per_hour"):
            distinct = {getattr(model.resources[p], field) for p in pools}
            if getattr(person_spec, field) is None and len(distinct) > 1:
                report(f"{quote(person)} works in pools with different {field} values "
                       f"({', '.join(f'{p}: {getattr(model.resources[p], field)}' for p in pools)}"
                       f"); give them their own {field}", "people", person)
    for name, activity in model.activities.items():
        if activity.calendar is not None:
            if activity.resource is not None:
                report(f"a calendar on an activity is only for a delay (no resource); "
                       f"{quote(name)} is done by pool {quote(activity.resource)}: give the "
                       "pool the calendar (resources.<pool>.calendar) instead",
                       "activities", name, "calendar")
            else:
                calendar_ref(activity.calendar, "activities", name, "calendar")
        if activity.durations:
            pool_spec = model.resources.get(activity.resource or "")
            members = list(pool_spec.members or ()) if pool_spec is not None else []
            if not members:
                report("durations by person need a resource pool with members", "activities",
                       name, "durations")
            for person in activity.durations:
                if members and person not in members:
                    report(f"{quote(person)} is not a member of pool {quote(activity.resource)}"
                           + close_match_hint(person, members)
                           + f"; members: {', '.join(members)}",
                           "activities", name, "durations", person)
    if model.priority is not None:
        attr = model.priority.attribute
        attribute = model.attributes.get(attr)
        order = model.priority.order
        if attribute is None:
            report(f"unknown attribute {quote(attr)}"
                   + close_match_hint(attr, list(model.attributes))
                   + (f"; declared: {', '.join(model.attributes)}" if model.attributes
                      else "; declare case attributes under attributes:"),
                   "priority", "attribute")
        elif isinstance(attribute, dict):
            values = list(attribute)
            if order is None:
                report(f"expected order: the values of {quote(attr)} from highest priority to "
                       f"lowest, e.g. order: [{', '.join(values)}]", "priority")
            else:
                missing = [v for v in values if v not in order]
                unknown = [v for v in order if v not in values]
                for v in unknown:
                    report(f"{quote(v)} is not a value of {quote(attr)}"
                           + close_match_hint(v, values)
                           + f"; its values: {', '.join(values)}", "priority", "order")
                if missing:
                    report(f"expected every value of {quote(attr)} in order, missing: "
                           f"{', '.join(missing)}", "priority", "order")
        elif order is not None:
            report(f"{quote(attr)} is numeric: its value is the rank itself (lower first); remove "
                   "order", "priority", "order")


#: Largest mean duration accepted, in time units: far beyond any process, and small enough that
#: the simulation clock (a float) still resolves the durations added to it.
MAX_MEAN_DURATION = 1e9
#: Largest pool: an "unlimited" pool is an activity without a resource.
MAX_CAPACITY = 10**9
#: Largest cost per execution or per hour: sums over many cases must stay finite.
MAX_COST = 1e12
#: Largest number of cases per replication (a billion cases take days to simulate).
MAX_CASES = 10**9
#: Largest number of replications.
MAX_REPLICATIONS = 10**6
#: Longest arrival period, in time units (the clock still resolves a millisecond there).
MAX_HORIZON = 1e12
#: Largest relative speed of a person: a million times faster is no longer a person.
MAX_SPEED = 1_000_000
_UNLIMITED = "for a pool that never makes cases wait, leave out the activity's resource"
#: Bounds of integer fields, with the advice given when one is passed.
INTEGER_BOUNDS = {"capacity": (MAX_CAPACITY, _UNLIMITED)}


def _check_numbers(model: Model, report: Any) -> None:
    """Parameters the schema accepts but the arithmetic cannot use (overflow, zero rate)."""
    dists: list[tuple[Any, tuple[Any, ...], bool]] = [
        (model.arrivals.interarrival, ("arrivals", "interarrival"), True)
    ] if model.arrivals.interarrival is not None else []
    dists += [(a.duration, ("activities", n, "duration"), True)
              for n, a in model.activities.items()]
    dists += [(d, ("activities", n, "durations", p), True)
              for n, a in model.activities.items() for p, d in (a.durations or {}).items()]
    dists += [(spec, ("attributes", n), False) for n, spec in model.attributes.items()
              if not isinstance(spec, dict)]
    for dist, path, is_duration in dists:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                mean, variance = float(dist.mean), float(dist.variance)
                dist.check_sampling()
        except (ArithmeticError, ValueError, TypeError, RuntimeWarning):
            report(f"expected parameters that give a finite mean and variance, got {dist!r} "
                   "(too extreme to compute)", *path)
            continue
        if not (np.isfinite(mean) and np.isfinite(variance)):
            report(f"expected a finite mean and variance, got mean {mean:g} and variance "
                   f"{variance:g} for {dist!r}", *path)
        elif is_duration and mean > MAX_MEAN_DURATION:
            report(f"expected a mean duration below {MAX_MEAN_DURATION:g} {model.time_unit}, got "
                   f"{mean:g}", *path)
        elif is_duration and variance > MAX_MEAN_DURATION**2:
            report(f"expected a standard deviation below {MAX_MEAN_DURATION:g} "
                   f"{model.time_unit}, got {variance ** 0.5:g}", *path)
    if model.arrivals.interarrival is not None and model.arrivals.interarrival.mean <= 0:
        report("expected a mean inter-arrival time > 0, got 0 (every case would arrive at "
               "once, and a run by duration would never end)", "arrivals", "interarrival")
    costs = [(a.cost, ("activities", n, "cost")) for n, a in model.activities.items()]
    costs += [(r.cost_per_hour, ("resources", n, "cost_per_hour"))
              for n, r in model.resources.items()]
    costs += [(p.cost_per_hour, ("people", n, "cost_per_hour"))
              for n, p in model.people.items() if p.cost_per_hour is not None]
    for cost, path in costs:
        if not cost <= MAX_COST:  # also catches inf and nan
            report(f"expected a cost below {MAX_COST:g}, got {cost:g}", *path)
    for name, activity in model.activities.items():
        batch = activity.batch
        if batch is not None and batch.size > MAX_CAPACITY:
            report(f"expected a batch size <= {MAX_CAPACITY:,}, got {batch.size:.3g}",
                   "activities", name, "batch", "size")
        if batch is not None and batch.timeout is not None \
                and not batch.timeout <= MAX_MEAN_DURATION:
            report(f"expected a time-out below {MAX_MEAN_DURATION:g} {model.time_unit}, got "
                   f"{batch.timeout:g}", "activities", name, "batch", "timeout")
    for name, person in model.people.items():
        if not person.speed <= MAX_SPEED:  # also catches inf and nan
            report(f"expected a speed <= {MAX_SPEED:,}, got {person.speed:g}", "people", name,
                   "speed")
    for name, resource in model.resources.items():
        if resource.capacity > MAX_CAPACITY:
            digits = len(str(resource.capacity))
            got = str(resource.capacity) if digits <= 20 else f"a number of {digits} digits"
            report(f"expected a capacity <= {MAX_CAPACITY:,}, got {got}; {_UNLIMITED}",
                   "resources", name, "capacity")


def _check_targets(model: Model, report: Any) -> None:
    from procsim.model.targets import (
        kpi_kind,
        parse_stat,
        parse_threshold,
        read_key_result,
        working_time,
    )
    from procsim.units import WORKING_UNITS, WorkingDuration

    for name, spec in model.kpis.items():
        kind = kpi_kind(name, model.kpis)
        stat = getattr(spec, "stat", None)
        if stat is not None:
            try:
                parse_stat(stat)
            except ValueError as exc:
                report(str(exc), "kpis", name, "stat")
        if spec.target is not None and kind is not None:
            try:
                parse_threshold(spec.target, kind, model.time_unit,
                                working=working_time(model, name))
            except ValueError as exc:
                report(str(exc), "kpis", name, "target")
        for key in ("within", "over"):
            limit = getattr(spec, key, None)
            if isinstance(limit, WorkingDuration) and not limit.resolved:
                why = working_time(model, getattr(spec, "share", "")).why_not
                report(f"got {limit.text!r}, in {WORKING_UNITS[limit.unit]}: {why}",
                       "kpis", name, key)
    known = [*CASE_KPIS, *SYSTEM_KPIS, *model.kpis]
    for i, okr in enumerate(model.okrs):
        for j, kr in enumerate(okr.key_results):
            where = ("okrs", i, "key_results", j)
            kind = kpi_kind(kr.kpi, model.kpis)
            if kind is None:
                report(f"unknown KPI {quote(kr.kpi)}{close_match_hint(kr.kpi, known)}",
                       *where, "kpi")
                continue
            if kr.stat is not None:
                if kind == "share" or kr.kpi in model.kpis:
                    report(f"{quote(kr.kpi)} is a single value per replication; 'stat' does not "
                           "apply", *where, "stat")
                else:
                    try:
                        parse_stat(kr.stat)
                    except ValueError as exc:
                        report(str(exc), *where, "stat")
            if isinstance(kr.from_, float) and not np.isfinite(kr.from_):
                report(f"expected 'baseline' or a finite number, got {kr.from_:g}", *where,
                       "from")
            if kr.change is not None:
                try:
                    parse_threshold(kr.change, kind, model.time_unit, relative=True)
                except ValueError as exc:
                    report(str(exc), *where, "change")
            _, problems = read_key_result(kr, kind, model.time_unit, currency=model.currency,
                                          working=working_time(model, kr.kpi))
            for field, message in problems:
                if not (field == "from" and isinstance(kr.from_, float)
                        and not np.isfinite(kr.from_)):  # reported above
                    report(message, *where, field)


#: Parameters of a distribution of durations that are themselves durations (shapes are not).
_DURATION_PARAMETERS = ("mean", "sd", "value", "min", "max", "mode", "scale", "values", "edges")
_MONEY_SHARES = ("cost_per_case", "busy_cost_per_case")


def bare_duration_warning(model: Model, *,
                          ignore_lines: Collection[int | None] = ()) -> Issue | None:
    """One warning when durations are bare numbers in a model whose time unit is not minutes.

    A bare number is read in ``time_unit``: ``mean: 14`` is 14 hours with ``time_unit:
    hours``, which is easy to misread (and to mistype) when most people think in minutes.
    ``procsim validate`` shows it once, at the first such number, with how many there are.
    ``None`` when every duration has its unit, the unit is minutes, or the model was built in
    Python (no file to point at). Numbers on ``ignore_lines`` (placeholders, already warned
    about) do not count.
    """
    from procsim.model.targets import kpi_kind
    from procsim.units import short_unit

    data = model.source_data
    if model.time_unit == "minutes" or not isinstance(data, dict):
        return None
    found: list[tuple[tuple[Any, ...], Any]] = []

    def number(value: Any) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    def bare(value: Any, *path: Any) -> None:
        if number(value):
            found.append((path, value))
        elif isinstance(value, str) and value.strip():
            try:
                float(value.lstrip("<>= ").strip())
            except ValueError:
                return
            found.append((path, value))

    def distribution(spec: Any, *path: Any) -> None:
        if not isinstance(spec, dict):
            bare(spec, *path)
            return
        for key in _DURATION_PARAMETERS:
            value = spec.get(key)
            if isinstance(value, list):
                for k, item in enumerate(value):
                    bare(item, *path, key, k)
            elif value is not None:
                bare(value, *path, key)

    def section(name: str) -> dict[Any, Any]:
        value = data.get(name)
        return value if isinstance(value, dict) else {}

    run = section("run")
    if "duration" in run:
        bare(run["duration"], "run", "duration")
    if isinstance(section("arrivals").get("interarrival"), dict):
        distribution(section("arrivals")["interarrival"], "arrivals", "interarrival")
    for name, activity in section("activities").items():
        if not isinstance(activity, dict):
            continue
        if "duration" in activity:
            distribution(activity["duration"], "activities", name, "duration")
        for person, spec in (activity.get("durations") or {}).items():
            distribution(spec, "activities", name, "durations", person)
        batch = activity.get("batch")
        if isinstance(batch, dict) and "timeout" in batch:
            bare(batch["timeout"], "activities", name, "batch", "timeout")
    for name, spec in section("kpis").items():
        if not isinstance(spec, dict):
            continue
        if spec.get("share") not in _MONEY_SHARES:
            for key in ("within", "over"):
                if key in spec:
                    bare(spec[key], "kpis", name, key)
        if "of" in spec and kpi_kind(str(spec["of"]), {}) == "time" and "target" in spec:
            bare(spec["target"], "kpis", name, "target")
    for i, okr in enumerate(data.get("okrs") or []):
        for j, kr in enumerate(okr.get("key_results") or [] if isinstance(okr, dict) else []):
            if isinstance(kr, dict) and kpi_kind(str(kr.get("kpi")), model.kpis) == "time":
                for key in ("to", "from"):
                    if key in kr and kr[key] != "baseline":
                        bare(kr[key], "okrs", i, "key_results", j, key)
    found = [(path, value) for path, value in found
             if (model.position(*path) or (None, None))[0] not in ignore_lines]
    if not found:
        return None
    found.sort(key=lambda item: model.position(*item[0]) or (10**9, 0))
    path, value = found[0]
    unit = model.time_unit
    more = (f"{len(found)} durations are bare numbers" if len(found) > 1
            else "a duration is a bare number")
    line, col = model.position(*path) or (None, None)
    return Issue(dotted(path), f"{more}, read in {unit} (time_unit: {unit}): this one, "
                 f"{value}, is {str(value).lstrip('<>= ')} {short_unit(unit)}; write durations "
                 "with their unit ('90s', '30min', '2h', '1.5d') so that none is misread",
                 model.file, line, col)


def _check_kpis(model: Model, report: Any) -> None:
    for name, spec in model.kpis.items():
        if name in CASE_KPIS or name in SYSTEM_KPIS:
            report(f"{quote(name)} is a standard KPI; choose another name", "kpis", name)
        visits = getattr(spec, "visits", None)
        if visits is not None and visits not in model.activities:
            hint = close_match_hint(visits, list(model.activities))
            report(f"unknown activity {quote(visits)}{hint}", "kpis", name, "visits")


def _check_flow_entries(model: Model, report: Any) -> None:
    targets: Any
    known_targets = [*model.activities, *model.gateways, "end"]
    known_sources = ["start", *model.activities, *model.gateways]
    # Sets for the look-ups (a model of 20,000 activities is read in a second), lists for
    # the hints.
    target_set, source_set = set(known_targets), set(known_sources)
    for source, targets in model.flow.items():
        if source == "end":
            report("'end' cannot have an outgoing flow", "flow", source)
            continue
        if source not in source_set:
            hint = close_match_hint(source, known_sources)
            report(f"unknown node {quote(source)}" + (hint or "; declare it under activities or "
                                                 "gateways"), "flow", source)
        kind = flow_kind(targets)
        names: list[tuple[str, tuple[Any, ...]]]
        if kind == "next":
            names = [(targets, ("flow", source))]
        elif kind == "choice":
            names = [(t, ("flow", source, t)) for t in targets]
        elif kind == "conditions":
            names = [(b.to, ("flow", source, i, "to")) for i, b in enumerate(targets)]
        else:
            names = [(t, ("flow", source, i)) for i, t in enumerate(targets)]
        for target, path in names:
            if target == "start":
                report("'start' cannot be the target of a flow", *path)
            elif target not in target_set:
                report(f"unknown node {quote(target)}" + close_match_hint(target, known_targets),
                       *path)

        gateway = model.gateways.get(source)
        is_parallel = gateway is not None and gateway.type == "parallel"
        if kind == "parallel" and not is_parallel:
            report(
                "a list of nodes starts parallel branches, which needs a parallel gateway; "
                "declare one under gateways (type: parallel), or give probabilities for a choice",
                "flow", source,
            )
        if is_parallel and kind in ("choice", "conditions"):
            report(f"parallel gateway {quote(source)} expected a node or a list of nodes, got a "
                   "choice; use an exclusive gateway to choose", "flow", source)
        if kind == "choice":
            total = sum(targets.values())
            if abs(total - 1.0) > _PROBABILITY_TOLERANCE:
                report(f"expected probabilities summing to 1, got {total:.10g}", "flow", source)
        if kind in ("choice", "parallel", "conditions"):
            seen: set[str] = set()
            listed = (targets if kind != "conditions" else [b.to for b in targets])
            for target in listed:
                if target in seen and kind == "parallel":
                    report(f"{quote(target)} is listed twice", "flow", source)
                seen.add(target)

    for name in [*model.activities, *model.gateways]:
        if name not in model.flow and name not in ("start", "end"):
            section = "activities" if name in model.activities else "gateways"
            report(f"{quote(name)} has no outgoing flow; add flow.{name} (e.g. '{name}: end')",
                   section, name)
    if "start" not in model.flow:
        report("missing required entry 'start' (the first node of every case)", "flow")


def _check_conditions(model: Model, report: Any) -> None:
    targets: Any
    for source, targets in model.flow.items():
        if flow_kind(targets) != "conditions":
            continue
        defaults = [i for i, b in enumerate(targets) if b.when is None]
        for i, branch in enumerate(targets):
            if branch.when is not None and not branch.when:
                report("expected at least one condition; leave out 'when' for the default branch",
                       "flow", source, i, "when")
            for attribute, raw in (branch.when or {}).items():
                path = ("flow", source, i, "when", attribute)
                spec = model.attributes.get(attribute)
                if spec is None:
                    report(
                        f"unknown case attribute {quote(attribute)}"
                        + close_match_hint(attribute, list(model.attributes))
                        + ("" if model.attributes else "; declare it under attributes"),
                        *path,
                    )
                    continue
                numeric = not isinstance(spec, dict)
                if numeric and not _numeric_condition(raw):
                    report(f"expected a comparison such as '> 10000', a number or a list of "
                           f"numbers for numeric attribute {quote(attribute)}, got {_show(raw)}",
                           *path)
                    continue
                try:
                    predicate = parse_condition(attribute, raw, numeric)
                except ValueError as exc:
                    report(str(exc), *path)
                    continue
                if isinstance(spec, dict):
                    operands = (predicate.operand if predicate.op == "in"
                                else (predicate.operand,))
                    for value in operands:
                        if str(value) not in spec:
                            report(f"attribute {quote(attribute)} has no value {quote(value)}"
                                   + close_match_hint(str(value), list(spec))
                                   + f"; its values are {', '.join(spec)}", *path)
        if len(defaults) > 1 or (defaults and defaults[0] != len(targets) - 1):
            report("expected one default branch (without 'when'), as the last branch",
                   "flow", source)
        if not defaults and not _exhaustive(model, targets):
            report("expected a default branch without 'when' as the last branch (or conditions "
                   "that cover every value of one categorical attribute)", "flow", source)


def _numeric_condition(raw: Any) -> bool:
    def number(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v)

    if isinstance(raw, list):
        return bool(raw) and all(number(v) for v in raw)
    return isinstance(raw, str) or number(raw)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def _exhaustive(model: Model, branches: Any) -> bool:
    """Do the branches test one categorical attribute and together cover all its values?"""
    attrs = {a for b in branches for a in (b.when or {})}
    if len(attrs) != 1:
        return False
    (attribute,) = attrs
    spec = model.attributes.get(attribute)
    if not isinstance(spec, dict):
        return False
    covered: set[str] = set()
    for b in branches:
        try:
            p = parse_condition(attribute, b.when[attribute], numeric=False)
        except ValueError:
            return False
        if p.op == "in":
            covered.update(str(v) for v in p.operand)
        elif p.op == "==":
            covered.add(str(p.operand))
        else:
            return False
    return covered >= set(spec)


def _check_graph(model: Model, report: Any) -> None:
    # Plain dictionaries rather than networkx, whose import costs more than the whole check;
    # networkx is imported below only to describe a model that cannot finish.
    nodes = ["start", *model.activities, *model.gateways, "end"]
    # Only edges a case can actually take count for reachability.
    live: dict[str, list[str]] = {n: [] for n in nodes}
    for u, v, attrs in flow_edges(model):
        if attrs["probability"] is None or attrs["probability"] > 0:
            live[u].append(v)
    back: dict[str, list[str]] = {n: [] for n in nodes}
    for u in nodes:
        for v in live[u]:
            back[v].append(u)

    reachable = reachable_from(live, "start")
    for name in nodes:
        if name not in reachable and name != "end":
            section = "activities" if name in model.activities else "gateways"
            report(f"{quote(name)} can never be reached from start", section, name)

    can_finish = reachable_from(back, "end")
    trapped = [n for n in nodes if n in reachable and n not in can_finish]
    if trapped:
        _report_trapped(model, live, trapped, report)
        return

    _check_parallel_pairs(model, live, back, report)


def reachable_from(successors: dict[str, list[str]], source: str) -> set[str]:
    """The nodes reachable from ``source`` (itself included) along ``successors``.

    >>> sorted(reachable_from({"start": ["a"], "a": ["end"], "b": ["a"], "end": []}, "start"))
    ['a', 'end', 'start']
    """
    seen = {source}
    todo = [source]
    while todo:
        for v in successors.get(todo.pop(), ()):
            if v not in seen:
                seen.add(v)
                todo.append(v)
    return seen


def immediate_dominators(successors: dict[str, list[str]], root: str) -> dict[str, str]:
    """The immediate dominator of every node reachable from ``root`` (``root`` maps to itself).

    The iterative algorithm of Cooper, Harvey and Kennedy ("A Simple, Fast Dominance
    Algorithm", 2001), which ``networkx.immediate_dominators`` implements too; written here so
    that checking a model does not import networkx.

    >>> immediate_dominators({"s": ["a", "b"], "a": ["j"], "b": ["j"], "j": []}, "s")["j"]
    's'
    """
    # Depth-first post-order from the root.
    order: list[str] = []
    seen = {root}
    stack = [(root, iter(successors.get(root, ())))]
    while stack:
        node, rest = stack[-1]
        for v in rest:
            if v not in seen:
                seen.add(v)
                stack.append((v, iter(successors.get(v, ()))))
                break
        else:
            stack.pop()
            order.append(node)
    number = {n: i for i, n in enumerate(order)}
    predecessors: dict[str, list[str]] = {n: [] for n in order}
    for u in order:
        for v in successors.get(u, ()):
            predecessors[v].append(u)

    idom = {root: root}

    def meet(a: str, b: str) -> str:
        while a != b:
            while number[a] < number[b]:
                a = idom[a]
            while number[b] < number[a]:
                b = idom[b]
        return a

    changed = True
    while changed:
        changed = False
        for node in reversed(order[:-1]):  # reverse post-order, the root (last) left out
            new: str | None = None
            for p in predecessors[node]:
                if p in idom:
                    new = p if new is None else meet(p, new)
            if new is not None and idom.get(node) != new:
                idom[node] = new
                changed = True
    return idom


def _report_trapped(model: Model, live: dict[str, list[str]], trapped: list[str],
                    report: Any) -> None:
    """Cases get stuck in the closed groups of trapped nodes: those nothing leaves."""
    import networkx as nx  # a model that cannot finish is rare: only then pay for networkx

    graph = nx.DiGraph()
    graph.add_nodes_from(live)
    graph.add_edges_from((u, v) for u, targets in live.items() for v in targets)
    condensed = nx.condensation(graph.subgraph(trapped))
    for c in condensed.nodes:
        if condensed.out_degree(c):
            continue
        names = sorted(condensed.nodes[c]["members"], key=lambda n: _file_order(model, n))
        if len(names) == 1 and names[0] not in live[names[0]]:
            report(f"from {quote(names[0])} no path leads to end", "flow", names[0])
            continue
        loop = (f"{quote(names[0])} leads only back to itself, a loop" if len(names) == 1
                else f"{', '.join(repr(n) for n in names)} form a loop")
        report(f"{loop} that can never exit (no branch with a positive probability leaves "
               "it)", "flow", names[0])


def _file_order(model: Model, name: str) -> tuple[int, int]:
    return model.position("flow", name) or (10**9, 0)


def _check_parallel_pairs(model: Model, live: dict[str, list[str]],
                          back: dict[str, list[str]], report: Any) -> None:
    """Every parallel split must be closed by a parallel join where all its branches meet."""
    splits = [n for n, gw in model.gateways.items()
              if gw.type == "parallel" and flow_kind(model.flow.get(n, "")) == "parallel"]
    joins = {n for n, gw in model.gateways.items() if gw.type == "parallel" and len(back[n]) > 1}
    for name, gw in model.gateways.items():
        if gw.type == "parallel" and name in joins and name in splits:
            report(f"parallel gateway {quote(name)} both joins and splits; use two gateways",
                   "gateways", name)
            return
    if not splits and not joins:
        return
    # The immediate post-dominator of a split is where all its branches first meet.
    post_dominators = immediate_dominators(back, "end")
    matched: dict[str, str] = {}
    for split in splits:
        meet = post_dominators.get(split)
        if meet not in joins:
            where = f"at {quote(meet)}" if meet else "nowhere"
            report(f"parallel split {quote(split)} is not closed by a parallel join: its branches "
                   f"first meet {where}; add a gateway of type parallel where they meet",
                   "flow", split)
            continue
        branches = len(live[split])
        if len(back[meet]) != branches:
            report(f"parallel join {quote(meet)} expected {branches} incoming flows (one per "
                   f"branch of {quote(split)}), got {len(back[meet])}; merge alternative paths "
                   "inside a branch with an exclusive gateway first", "flow", split)
        matched[meet] = split
    for join in sorted(joins - set(matched)):
        report(f"parallel join {quote(join)} does not close a parallel split, so a case would wait "
               "there forever; use an exclusive gateway to merge alternative paths",
               "gateways", join)


# --- traffic equations and stability ------------------------------------------------------------


def branch_probabilities(model: Model, source: str, *, samples: int = 20_000,
                         draws: dict[str, np.ndarray] | None = None) -> dict[str, float]:
    """Probability of each outgoing branch of ``source`` (first-match rule for conditions).

    Conditional branches are estimated from ``samples`` draws of the case attributes with a
    fixed seed: this is only used for the stability pre-check and the expected load.
    ``draws`` (filled on first use) shares those draws between the gateways of one model.
    """
    targets: Any = model.flow[source]
    kind = flow_kind(targets)
    if kind == "next":
        return {targets: 1.0}
    if kind == "choice":
        return {t: float(p) for t, p in targets.items()}
    if kind == "parallel":
        return dict.fromkeys(targets, 1.0)
    if draws is None:
        draws = {}
    if not draws:
        rng = np.random.default_rng(0)
        for name, spec in model.attributes.items():
            if isinstance(spec, dict):
                values = np.array(list(spec), dtype=object)
                draws[name] = values[rng.choice(len(values), size=samples,
                                                p=list(spec.values()))]
            else:
                draws[name] = spec.sample(rng, samples)
    taken = np.zeros(samples, dtype=bool)
    out: dict[str, float] = {}
    for branch in targets:
        hit = ~taken
        for attribute, raw in (branch.when or {}).items():
            spec = model.attributes[attribute]
            predicate = parse_condition(attribute, raw, numeric=not isinstance(spec, dict))
            hit &= predicate.holds(draws[attribute])
        out[branch.to] = out.get(branch.to, 0.0) + hit.mean()
        taken |= hit
    return out


def expected_visits(model: Model) -> dict[str, float]:
    """Expected number of visits per case to every node, from the traffic equations.

    Solves v = e_start + v·P, where a parallel split sends a token down every branch
    and a parallel join with k incoming flows fires once per k arrivals.
    """
    nodes = ["start", *model.activities, *model.gateways, "end"]
    index = {n: i for i, n in enumerate(nodes)}
    n = len(nodes)
    draws: dict[str, np.ndarray] = {}
    edges: dict[tuple[int, int], float] = {}
    for source in model.flow:
        for target, p in branch_probabilities(model, source, draws=draws).items():
            key = (index[source], index[target])
            edges[key] = edges.get(key, 0.0) + p
    # A join fires once for each full set of k incoming tokens (k distinct sources).
    in_degree = dict.fromkeys(nodes, 0)
    for _, target, _ in flow_edges(model):
        in_degree[target] = in_degree.get(target, 0) + 1
    joins = {index[name]: in_degree[name] for name, gw in model.gateways.items()
             if gw.type == "parallel" and in_degree[name] > 1}
    for key in edges:
        if key[1] in joins:
            edges[key] /= joins[key[1]]
    e = np.zeros(n)
    e[index["start"]] = 1.0
    if n <= _DENSE_NODES:
        P = np.zeros((n, n))
        for (i, j), p in edges.items():
            P[i, j] = p
        visits = np.linalg.solve(np.eye(n) - P.T, e)
    else:  # a dense solve grows with n³ (minutes and gigabytes at 20,000 activities)
        visits = _sparse_solve(n, edges, e)
    return {name: float(visits[index[name]]) for name in nodes}


#: Up to this many nodes the traffic equations are solved densely (as they always were).
_DENSE_NODES = 500


def _sparse_solve(n: int, edges: dict[tuple[int, int], float], e: np.ndarray) -> np.ndarray:
    """Solve (I - Pᵀ) v = e with P given by its non-zero ``edges``."""
    from scipy.sparse import csc_matrix, identity
    from scipy.sparse.linalg import MatrixRankWarning, spsolve

    rows = np.fromiter((j for i, j in edges), dtype=np.intp, count=len(edges))
    cols = np.fromiter((i for i, j in edges), dtype=np.intp, count=len(edges))
    values = np.fromiter(edges.values(), dtype=float, count=len(edges))
    transposed = csc_matrix((values, (rows, cols)), shape=(n, n))
    with warnings.catch_warnings():
        warnings.simplefilter("error", MatrixRankWarning)
        try:
            visits = spsolve((identity(n, format="csc") - transposed).tocsc(), e)
        except MatrixRankWarning:
            raise np.linalg.LinAlgError("Singular matrix") from None
    return np.asarray(visits, dtype=float)


@dataclass(frozen=True)
class PoolLoad:
    """Offered load on a pool: ``utilization = arrival_rate * work_per_case / capacity``."""

    resource: str
    capacity: int
    arrival_rate: float
    work_per_case: float
    #: long-run mean servers on shift (= capacity without calendars)
    available: float | None = None

    @property
    def offered_load(self) -> float:
        """Mean number of busy servers needed (Erlangs)."""
        return self.arrival_rate * self.work_per_case

    @property
    def utilization(self) -> float:
        """Offered load over the servers available on shift (over capacity without calendars)."""
        available = self.capacity if self.available is None else self.available
        return self.offered_load / available if available > 0 else float("inf")


def offered_load(model: Model) -> dict[str, PoolLoad]:
    """Expected load on each resource pool, from arrival rate, visits and mean durations.

    Examples
    --------
    >>> from procsim.model import parse_model
    >>> m = parse_model('''
    ... procsim: 1
    ... name: M/M/2
    ... arrivals: {interarrival: {dist: exponential, mean: 5}}
    ... resources: {clerks: {capacity: 2}}
    ... activities: {serve: {resource: clerks, duration: {dist: exponential, mean: 8}}}
    ... flow: {start: serve, serve: end}
    ... ''')
    >>> round(offered_load(m)["clerks"].utilization, 3)
    0.8
    """
    visits = expected_visits(model)
    rate = model.arrival_rate
    work = dict.fromkeys(model.resources, 0.0)
    for name, activity in model.activities.items():
        if activity.resource is not None:
            # A batch of `size` cases takes one duration: the work per case is a share of it
            # (at full batches; a batch closed by its time-out carries fewer cases).
            per_case = activity.duration.mean / (activity.batch.size if activity.batch else 1)
            work[activity.resource] += visits[name] * per_case
    return {
        r: PoolLoad(r, spec.capacity, rate, work[r], model.available_servers(r))
        for r, spec in model.resources.items()
    }


def _percent(fraction: float) -> str:
    return f"{fraction:.0%}" if fraction < 100 else f"{fraction * 100:.3g}%"


def check_stability(model: Model) -> dict[str, PoolLoad]:
    """Raise :class:`UnstableModelError` when a pool's offered load reaches its capacity."""
    loads = offered_load(model)
    issues = []
    for name, load in loads.items():
        if load.utilization >= 1.0:
            line, col = model.position("resources", name, "capacity") or (None, None)
            issues.append(Issue(
                f"resources.{name}.capacity",
                f"pool {quote(name)} is unstable: expected an offered load below its capacity "
                f"{load.capacity}"
                + (f" ({load.available:.3g} servers on shift on average)"
                   if load.available is not None and load.available != load.capacity else "")
                + f", got {load.offered_load:.3g} busy servers (arrival rate "
                f"{load.arrival_rate:.4g}/{model.time_unit[:-1]} × {load.work_per_case:.4g} "
                f"{model.time_unit} of work per case), a utilisation of "
                f"{_percent(load.utilization)}: the queue would grow without bound; add "
                "capacity or pass --allow-unstable",
                model.file, line, col,
            ))
    if issues:
        raise UnstableModelError(issues, model.file)
    return loads
