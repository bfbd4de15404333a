"""The discrete-event engine: one replication of a model, on SimPy's event calendar.

SimPy is used as the event calendar with light callbacks rather than with one
generator process per case: a case is a row of arrays, every timed step is an
event in SimPy's calendar whose callback is shared by all cases. Resource pools are
FIFO queues. The time integrals behind utilisation, queue length and work in
progress are rebuilt from the recorded times after the run, bit for bit as if
they had been kept up to date, so the hot path does not pay for them. See
``docs/performance.md`` for the measurements behind each of these choices.

No files, no printing, no wall clock here: the engine appends compact records
(``array.array``) and returns them as numpy arrays in a :class:`ReplicationRecord`.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from heapq import heappush
from typing import Any

import numpy as np
import simpy

from procsim.errors import SimulationError, quote, readable
from procsim.model.check import expected_visits
from procsim.model.graph import build_graph, flow_kind, parse_condition
from procsim.model.schema import Model
from procsim.rng import RandomStreams

__all__ = ["Plan", "ReplicationRecord", "compile_model", "realistic_features", "run_replication"]

# Node kinds.
START, END, ACTIVITY, GATEWAY, JOIN = range(5)
# Routing forms.
NEXT, CHOICE, CONDITIONS, PARALLEL = range(4)

_BLOCK = 1024


@dataclass(frozen=True)
class Plan:
    """A model compiled to integer-indexed tables (picklable, shared by replications)."""

    model: Model
    nodes: tuple[str, ...]
    kind: tuple[int, ...]
    #: per node: (form, data); see ``compile_model``
    routes: tuple[tuple[int, Any], ...]
    activities: tuple[str, ...]
    activity_node: tuple[int, ...]
    #: node index -> activity index (or -1)
    node_activity: tuple[int, ...]
    #: activity index -> pool index (or -1 for a pure delay)
    activity_pool: tuple[int, ...]
    activity_cost: tuple[float, ...]
    pools: tuple[str, ...]
    capacity: tuple[int, ...]
    cost_per_hour: tuple[float, ...]
    join_inputs: dict[int, int]
    attributes: tuple[str, ...]
    #: every sequence flow as (source node, target node); counted in ``ReplicationRecord.flow``
    edges: tuple[tuple[str, str], ...] = ()
    #: node index -> index in ``edges`` of its first outgoing flow (in ``routes`` order)
    edge_base: tuple[int, ...] = ()
    #: the model uses calendars, rate profiles, priorities, people or batches
    realistic: bool = False
    #: run on the general engine (:mod:`procsim.engine_rich`): always when ``realistic``
    general: bool = False
    #: expected activity instances per case, from the traffic equations (at least 1)
    instances_per_case: float = 1.0


def realistic_features(model: Model) -> list[str]:
    """The parts of a model that only the general engine simulates (empty: the fast path)."""
    out = []
    if model.arrivals.rate is not None or model.arrivals.calendar is not None:
        out.append("arrivals.rate / arrivals.calendar")
    for name, spec in model.resources.items():
        if spec.calendar is not None or spec.members is not None:
            out.append(f"resources.{name}: calendar / members")
    if model.priority is not None:
        out.append("priority")
    for name, activity in model.activities.items():
        if activity.batch is not None or activity.durations or activity.calendar is not None:
            out.append(f"activities.{name}: batch / durations / calendar")
    return out


def compile_model(model: Model, *, general: bool = False) -> Plan:
    """Compile a checked model into a :class:`Plan` for :func:`run_replication`.

    Models with calendars, rate profiles, priorities, named people or batches run on the
    general engine (:mod:`procsim.engine_rich`), the others on the fast path here.
    ``general=True`` forces the general engine (it gives the fast path's records bit for
    bit; a cross-check for tests).
    """
    realistic = bool(realistic_features(model))
    g = build_graph(model)
    activities = tuple(model.activities)
    gateways = tuple(model.gateways)
    nodes = ("start", "end", *activities, *gateways)
    index = {n: i for i, n in enumerate(nodes)}
    pools = tuple(model.resources)
    pool_index = {p: i for i, p in enumerate(pools)}

    kind: list[int] = [START, END]
    kind += [ACTIVITY] * len(activities)
    join_inputs: dict[int, int] = {}
    for name in gateways:
        gw = model.gateways[name]
        if gw.type == "parallel" and g.in_degree(name) > 1:
            kind.append(JOIN)
            join_inputs[index[name]] = g.in_degree(name)
        else:
            kind.append(GATEWAY)

    attribute_index = {a: k for k, a in enumerate(model.attributes)}
    routes: list[tuple[int, Any]] = []
    edges: list[tuple[str, str]] = []
    edge_base: list[int] = []
    for name in nodes:
        edge_base.append(len(edges))
        targets: Any = model.flow.get(name)
        if targets is None:  # only 'end'
            routes.append((NEXT, -1))
            continue
        form = flow_kind(targets)
        if form == "next":
            routes.append((NEXT, index[targets]))
            edges.append((name, targets))
        elif form == "choice":
            names = [t for t, p in targets.items() if p > 0]
            cumulative = np.cumsum([targets[t] for t in names])
            cumulative /= cumulative[-1]
            routes.append((CHOICE, (tuple(cumulative.tolist()[:-1]),
                                    tuple(index[t] for t in names))))
            edges += [(name, t) for t in names]
        elif form == "parallel":
            routes.append((PARALLEL, tuple(index[t] for t in targets)))
            edges += [(name, t) for t in targets]
        else:
            branches = []
            for b in targets:
                preds = tuple(
                    (attribute_index[a],
                     parse_condition(a, raw, numeric=not isinstance(model.attributes[a], dict)))
                    for a, raw in (b.when or {}).items()
                )
                branches.append((preds, index[b.to]))
                edges.append((name, b.to))
            routes.append((CONDITIONS, tuple(branches)))

    return Plan(
        model=model,
        nodes=nodes,
        kind=tuple(kind),
        routes=tuple(routes),
        activities=activities,
        activity_node=tuple(index[a] for a in activities),
        node_activity=tuple(activities.index(n) if n in model.activities else -1 for n in nodes),
        activity_pool=tuple(_pool_of(model, a, pool_index) for a in activities),
        activity_cost=tuple(model.activities[a].cost for a in activities),
        pools=pools,
        capacity=tuple(model.resources[p].capacity for p in pools),
        cost_per_hour=tuple(model.resources[p].cost_per_hour for p in pools),
        join_inputs=join_inputs,
        attributes=tuple(model.attributes),
        edges=tuple(edges),
        edge_base=tuple(edge_base),
        realistic=realistic,
        general=general or realistic,
        instances_per_case=_instances_per_case(model),
    )


def _instances_per_case(model: Model) -> float:
    """Expected activity instances per case (the traffic equations' visits), at least 1."""
    visits = expected_visits(model)
    total = sum(visits[a] for a in model.activities)
    return total if math.isfinite(total) and total > 1 else 1.0


def _pool_of(model: Model, activity: str, pool_index: dict[str, int]) -> int:
    resource = model.activities[activity].resource
    return -1 if resource is None else pool_index[resource]


@dataclass
class ReplicationRecord:
    """What one replication leaves behind, as compact numpy arrays.

    Cases are numbered in order of arrival. Activity instances are in order of start.
    ``busy_area``/``queue_area`` (cases × pools) and ``wip_area`` (cases) hold the time
    integrals of busy servers, queue length and cases in system at each case's arrival, so
    that time-averages can be taken over any window that starts and ends at an arrival.
    """

    replication: int
    arrival: np.ndarray
    end: np.ndarray
    instance_case: np.ndarray
    instance_activity: np.ndarray
    instance_enabled: np.ndarray
    instance_start: np.ndarray
    instance_end: np.ndarray
    busy_area: np.ndarray
    queue_area: np.ndarray
    wip_area: np.ndarray
    attributes: dict[str, np.ndarray] = field(default_factory=dict)
    #: tokens that passed along each of ``Plan.edges`` (all cases, warm-up included)
    flow: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # The general engine only (``None`` on the fast path):
    #: per instance: the person who did it (index in ``model.people``), -1 for anonymous
    #: servers and delays
    instance_server: np.ndarray | None = None
    #: per instance: the work it took (its duration draw; a batch's shared by its cases)
    instance_work: np.ndarray | None = None
    #: busy segments of servers: pool, server (index in the general engine's server table),
    #: start, end, and whether the server was on shift (see :mod:`procsim.engine_rich`)
    busy_pool: np.ndarray | None = None
    busy_server: np.ndarray | None = None
    busy_start: np.ndarray | None = None
    busy_end: np.ndarray | None = None
    busy_on_shift: np.ndarray | None = None

    @property
    def cases(self) -> int:
        return len(self.arrival)


# A random source as the engine uses it: ``pop()`` hands out the next number of the current
# block (raising IndexError when the block is used up) and ``refill()`` draws the next block
# and returns its first number. Calling ``list.pop`` directly, with the refill in an
# ``except``, saves a Python-level call per draw on the hot path.
_Source = tuple[Callable[[], float], Callable[[], float]]


def _uniform_source(rng: np.random.Generator) -> _Source:
    buffer: list[float] = []

    def refill() -> float:
        buffer.extend(rng.random(_BLOCK).tolist()[::-1])
        return buffer.pop()

    return buffer.pop, refill


def _categorical_sampler(
    rng: np.random.Generator, values: list[str], cumulative: list[float]
) -> Callable[[], str]:
    pop, refill = _uniform_source(rng)

    def draw() -> str:
        try:
            u = pop()
        except IndexError:
            u = refill()
        return values[bisect_right(cumulative, u)]

    return draw


def _first_match(plan: Plan, case_attributes: list[list[Any]], case: int, node: int,
                 branches: Any) -> tuple[int, int]:
    """(branch index, target node) of the first branch of ``node`` whose conditions ``case``
    meets; both engines route conditional flows with it."""
    for i, (predicates, target) in enumerate(branches):
        if all(p(case_attributes[k][case]) for k, p in predicates):
            return i, int(target)
    values = {a: case_attributes[k][case] for k, a in enumerate(plan.attributes)}
    raise SimulationError.at(
        plan.model, ("flow", plan.nodes[node]),
        f"no branch of {quote(plan.nodes[node])} matches case {case} with attributes "
        f"{readable(repr(values))}; add a default branch without 'when'")


def _new_event(env: simpy.Environment) -> simpy.Event:
    """An event that is already triggered (like a ``Timeout``) but not yet scheduled."""
    event = simpy.Event(env)
    event._ok = True
    event._value = None
    return event


class _Replication:
    """One running replication: the SimPy callbacks and the buffers they append to.

    The callbacks are closures over local variables rather than methods: in CPython a
    closure variable is read much faster than ``self.attribute``, and these callbacks run
    once or twice per event (see docs/performance.md, "What dominates"). Event objects are
    recycled: a processed event is put back on a free list and scheduled again with
    ``Environment.schedule``, which saves creating a ``Timeout`` per activity instance. The
    order in which events are scheduled, and hence SimPy's tie-breaking, is unchanged.

    The time integrals of busy servers, queue lengths and work in progress are not kept
    up to date while running; :meth:`record` rebuilds them from the instance times.
    """

    def __init__(
        self,
        plan: Plan,
        streams: RandomStreams,
        cases: int | None,
        duration: float | None,
        max_instances: int,
    ) -> None:
        self.plan = plan
        self.streams = streams
        self.cases_limit = cases
        self.duration = duration
        self.max_instances = max_instances
        self.arrival = array("d")
        self.end = array("d")
        self.inst_case = array("q")
        self.inst_activity = array("h")
        self.inst_enabled = array("d")
        self.inst_start = array("d")
        self.inst_end = array("d")
        self.case_attributes: list[list[Any]] = [[] for _ in plan.attributes]
        self.flow = [0] * len(plan.edges)

    def run(self) -> None:
        plan, streams, model = self.plan, self.streams, self.plan.model
        env = simpy.Environment()
        schedule = env.schedule
        # For the end of an activity instance, the hot path, the engine does what
        # ``env.schedule(event, NORMAL, delay)`` does, without the method call: push
        # (time, priority, event id, event) on SimPy's own calendar (SimPy 3 and 4).
        calendar, event_ids = env._queue, env._eid
        normal = simpy.events.NORMAL
        nan = math.nan

        assert model.arrivals.interarrival is not None  # rate profiles: the general engine
        inter_pop, inter_refill = model.arrivals.interarrival._buffered(
            streams.generator("arrivals"), _BLOCK)
        duration_sources = [
            model.activities[a].duration._buffered(streams.generator(f"duration:{a}"), _BLOCK)
            for a in plan.activities
        ]
        duration_pop = [pop for pop, _ in duration_sources]
        duration_refill = [refill for _, refill in duration_sources]
        route_sources: list[_Source | None] = [
            _uniform_source(streams.generator(f"route:{plan.nodes[i]}")) if form == CHOICE
            else None
            for i, (form, _) in enumerate(plan.routes)
        ]
        attribute_draws: list[tuple[Callable[[Any], None], Callable[[], Any]]] = []
        for k, name in enumerate(plan.attributes):
            spec = model.attributes[name]
            rng = streams.generator(f"attribute:{name}")
            draw: Callable[[], Any]
            if isinstance(spec, dict):
                values = list(spec)
                cumulative = np.cumsum(list(spec.values())).tolist()[:-1]
                draw = _categorical_sampler(rng, values, cumulative)
            else:
                draw = spec.sampler(rng, _BLOCK)
            attribute_draws.append((self.case_attributes[k].append, draw))
        case_attributes = self.case_attributes

        kind = plan.kind
        node_activity = plan.node_activity
        activity_pool = plan.activity_pool
        activity_node = plan.activity_node
        capacity = plan.capacity
        join_inputs = plan.join_inputs
        join_count: dict[tuple[int, int], int] = {}
        # (form, first edge, data) per node; a choice's data also carries its random source.
        routes: tuple[tuple[int, int, Any], ...] = tuple(
            (form, base, (*data, *source) if source is not None else data)
            for (form, data), base, source
            in zip(plan.routes, plan.edge_base, route_sources, strict=True))
        flow = self.flow
        busy = [0] * len(plan.pools)
        queues: list[deque[tuple[int, int, float]]] = [deque() for _ in plan.pools]

        arrival, end = self.arrival, self.end
        arrival_append, end_append = arrival.append, end.append
        inst_end = self.inst_end
        case_append = self.inst_case.append
        activity_append = self.inst_activity.append
        enabled_append = self.inst_enabled.append
        start_append = self.inst_start.append
        end_slot_append = inst_end.append
        cases_limit, duration, max_instances = self.cases_limit, self.duration, self.max_instances
        by_cases = cases_limit is not None
        free: list[simpy.Event] = []
        free_pop, free_append = free.pop, free.append
        requested = 0   # activity instances requested (started or queued)
        started = 0     # activity instances started = next slot in the instance buffers
        finished = 0    # cases that reached the end

        def begin(case: int, activity: int, enabled: float, now: float) -> None:
            nonlocal started
            case_append(case)
            activity_append(activity)
            enabled_append(enabled)
            start_append(now)
            end_slot_append(nan)
            try:
                delay = duration_pop[activity]()
            except IndexError:
                delay = duration_refill[activity]()
            event = free_pop() if free else _new_event(env)
            event.callbacks = finish_callbacks
            # The event's value carries the instance; one shared callback serves every case.
            event._value = (case, activity, started)
            started += 1
            heappush(calendar, (now + delay, normal, next(event_ids), event))

        def advance(case: int, node: int, now: float) -> None:
            """Send the case's token on from ``node`` until it waits, joins or ends."""
            nonlocal requested, started
            while True:
                form, base, data = routes[node]
                if form == NEXT:
                    flow[base] += 1
                    target = data
                elif form == CHOICE:
                    cumulative, targets, pop, refill = data
                    try:
                        u = pop()
                    except IndexError:
                        u = refill()
                    i = bisect_right(cumulative, u)
                    flow[base + i] += 1
                    target = targets[i]
                elif form == PARALLEL:
                    for i, branch in enumerate(data):
                        flow[base + i] += 1
                        enter(case, branch, now)
                    return
                else:
                    i, target = first_match(case, node, data)
                    flow[base + i] += 1
                target_kind = kind[target]
                if target_kind == ACTIVITY:
                    activity = node_activity[target]
                    requested += 1
                    if requested > max_instances:
                        raise too_many_instances()
                    r = activity_pool[activity]
                    if r >= 0:
                        if busy[r] == capacity[r]:
                            queues[r].append((case, activity, now))
                            return
                        busy[r] += 1
                    # Start the instance now (``begin``, inline).
                    case_append(case)
                    activity_append(activity)
                    enabled_append(now)
                    start_append(now)
                    end_slot_append(nan)
                    try:
                        delay = duration_pop[activity]()
                    except IndexError:
                        delay = duration_refill[activity]()
                    event = free_pop() if free else _new_event(env)
                    event.callbacks = finish_callbacks
                    event._value = (case, activity, started)
                    started += 1
                    heappush(calendar, (now + delay, normal, next(event_ids), event))
                    return
                if target_kind != GATEWAY:
                    enter(case, target, now)
                    return
                node = target

        def enter(case: int, node: int, now: float) -> None:
            """The token of ``case`` arrives at ``node`` (after a parallel split or a join)."""
            nonlocal finished
            node_kind = kind[node]
            if node_kind == END:
                end[case] = now
                finished += 1
            elif node_kind == JOIN:
                key = (case, node)
                count = join_count.get(key, 0) + 1
                if count == join_inputs[node]:
                    del join_count[key]
                    advance(case, node, now)
                else:
                    join_count[key] = count
            elif node_kind == GATEWAY:
                advance(case, node, now)
            else:  # an activity, straight after a parallel split
                request(case, node_activity[node], now)

        def request(case: int, activity: int, now: float) -> None:
            # What ``advance`` does inline when a flow leads to an activity.
            nonlocal requested
            requested += 1
            if requested > max_instances:
                raise too_many_instances()
            r = activity_pool[activity]
            if r < 0:
                begin(case, activity, now, now)
            elif busy[r] < capacity[r]:
                busy[r] += 1
                begin(case, activity, now, now)
            else:
                queues[r].append((case, activity, now))

        def first_match(case: int, node: int, branches: Any) -> tuple[int, int]:
            return _first_match(plan, case_attributes, case, node, branches)

        def too_many_instances() -> SimulationError:
            return SimulationError.at(
                plan.model, ("run", "max_activity_instances"),
                f"more than {max_instances:,} activity instances in one replication; the "
                "model may loop (check rework probabilities) or raise run.max_activity_instances")

        def on_finish(event: simpy.Event) -> None:
            nonlocal started
            case, activity, slot = event._value
            now = env._now  # the clock itself: ``env.now`` is a property call per event
            inst_end[slot] = now
            r = activity_pool[activity]
            if r >= 0 and queues[r]:
                # The first in the queue starts on the server just freed (``begin``, inline),
                # and its end reuses this event.
                next_case, next_activity, enabled = queues[r].popleft()
                case_append(next_case)
                activity_append(next_activity)
                enabled_append(enabled)
                start_append(now)
                end_slot_append(nan)
                try:
                    delay = duration_pop[next_activity]()
                except IndexError:
                    delay = duration_refill[next_activity]()
                event.callbacks = finish_callbacks
                event._value = (next_case, next_activity, started)
                started += 1
                heappush(calendar, (now + delay, normal, next(event_ids), event))
            else:
                if r >= 0:
                    busy[r] -= 1
                free_append(event)
            advance(case, activity_node[activity], now)

        def on_arrival(event: simpy.Event) -> None:
            now = env._now
            case = len(arrival)
            arrival_append(now)
            end_append(nan)
            for append, draw in attribute_draws:
                append(draw())
            try:
                gap = inter_pop()
            except IndexError:
                gap = inter_refill()
            if case + 1 < cases_limit if by_cases else now + gap < duration:  # type: ignore[operator]
                event.callbacks = arrival_callbacks
                heappush(calendar, (now + gap, normal, next(event_ids), event))
            advance(case, 0, now)

        # One shared callback list per kind of event (SimPy only iterates over it).
        finish_callbacks: list[Callable[[Any], None]] = [on_finish]
        arrival_callbacks: list[Callable[[Any], None]] = [on_arrival]
        try:
            first = inter_pop()
        except IndexError:
            first = inter_refill()
        if 0 < cases_limit if by_cases else first < duration:  # type: ignore[operator]
            event = _new_event(env)
            event.callbacks = arrival_callbacks
            schedule(event, normal, first)
        env.run()
        self.finished = finished

    # --- results ----------------------------------------------------------------------------

    def record(self, replication: int) -> ReplicationRecord:
        plan = self.plan
        n = len(self.arrival)
        # Views of the buffers, not copies: at a million cases a copy would be 100 MB more.
        arrival = np.frombuffer(self.arrival, dtype=np.float64)
        end = np.frombuffer(self.end, dtype=np.float64)
        if self.finished != n or np.isnan(end).any():
            raise SimulationError(
                f"{n - self.finished} case(s) never finished; a parallel join may be waiting "
                "for a branch that was not taken"
            )
        instance_activity = np.frombuffer(self.inst_activity, dtype=np.int16)
        instance_enabled = np.frombuffer(self.inst_enabled, dtype=np.float64)
        instance_start = np.frombuffer(self.inst_start, dtype=np.float64)
        instance_end = np.frombuffer(self.inst_end, dtype=np.float64)
        n_pools = len(plan.pools)
        busy_area = np.empty((n, n_pools))
        queue_area = np.empty((n, n_pools))
        pool = np.asarray(plan.activity_pool, dtype=np.int16)[instance_activity]
        for r in range(n_pools):
            mask = pool == r
            busy_area[:, r], queue_area[:, r] = _pool_integrals(
                arrival, instance_enabled[mask], instance_start[mask], instance_end[mask])
            del mask
        attributes = {}
        for k, name in enumerate(plan.attributes):
            values = self.case_attributes[k]
            attributes[name] = (np.array(values, dtype=np.float64)
                                if values and not isinstance(values[0], str)
                                else np.array(values, dtype=object))
        return ReplicationRecord(
            replication=replication,
            arrival=arrival,
            end=end,
            instance_case=np.frombuffer(self.inst_case, dtype=np.int64),
            instance_activity=instance_activity,
            instance_enabled=instance_enabled,
            instance_start=instance_start,
            instance_end=instance_end,
            busy_area=busy_area,
            queue_area=queue_area,
            wip_area=_wip_integral(arrival, end),
            attributes=attributes,
            flow=np.array(self.flow, dtype=np.int64),
        )


def _pool_integrals(arrival: np.ndarray, enabled: np.ndarray, start: np.ndarray,
                    end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Time integrals of one pool's busy servers and queue length at each arrival.

    ``enabled``, ``start`` (sorted) and ``end`` are the times of the pool's activity
    instances; ``enabled`` and ``end`` are sorted in place. An engine that keeps the
    integrals up to date ticks the pool at every arrival, request (``enabled``) and end of
    service, and adds ``count × (t − t_previous)`` at each tick; every change of the counts
    happens at one of those ticks (a queued instance starts when another one ends). This
    adds the same products in the same order, so the result is bit for bit what that
    engine would give.
    """
    enabled.sort()  # in place: the callers pass copies
    end.sort()
    ticks = np.concatenate((arrival, enabled, end))
    ticks.sort(kind="stable")  # three sorted runs: timsort merges them

    def counts(previous: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        started = np.searchsorted(start, previous, side="right")
        busy = started - np.searchsorted(end, previous, side="right")
        queued = np.searchsorted(enabled, previous, side="right") - started
        return busy, queued

    busy, queued = _integrals_at(ticks, arrival, counts)
    return busy, queued


def _wip_integral(arrival: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Time integral of the cases in the system at each arrival (as ``_pool_integrals``).

    The engine's ticks are the arrivals and the ends of cases.
    """
    end = np.sort(end)
    ticks = np.concatenate((arrival, end))
    ticks.sort(kind="stable")

    def counts(previous: np.ndarray) -> tuple[np.ndarray]:
        return (np.searchsorted(arrival, previous, side="right")
                - np.searchsorted(end, previous, side="right"),)

    (wip,) = _integrals_at(ticks, arrival, counts)
    return wip


#: Ticks handled at once when rebuilding time integrals: bounds the temporary memory.
_CHUNK = 1 << 16


def _integrals_at(ticks: np.ndarray, arrival: np.ndarray,
                  counts: Callable[[np.ndarray], tuple[np.ndarray, ...]]) -> list[np.ndarray]:
    """Integrals over time of counters, at each arrival, added up tick by tick.

    ``ticks`` are sorted and include every arrival. Between two ticks each counter holds
    ``counts(previous tick)`` (its value after every change at that tick); the integral
    adds ``count × (t − t_previous)`` at each tick, in time order, from the clock's start
    at 0, and is read at the last tick at or before each arrival. Sums run in chunks, each
    starting from the previous chunk's total, so they add in exactly the order of one pass.
    """
    n = len(arrival)
    at = np.searchsorted(ticks, arrival, side="right") - 1
    out: list[np.ndarray] = []
    totals: list[float] = []
    last = 0.0
    first_arrival = 0
    for lo in range(0, len(ticks), _CHUNK):
        t = ticks[lo:lo + _CHUNK]
        previous = np.empty_like(t)
        previous[0] = last
        previous[1:] = t[:-1]
        dt = t - previous
        last = float(t[-1])
        last_arrival = int(np.searchsorted(at, lo + len(t), side="left"))
        where = at[first_arrival:last_arrival] - lo
        for k, count in enumerate(counts(previous)):
            if len(out) <= k:
                out.append(np.empty(n))
                totals.append(0.0)
            area = np.empty(len(t) + 1)
            area[0] = totals[k]
            np.multiply(count, dt, out=area[1:])
            np.cumsum(area, out=area)
            totals[k] = float(area[-1])
            out[k][first_arrival:last_arrival] = area[1:][where]
        first_arrival = last_arrival
    if not out:  # no ticks: no arrivals
        probe = counts(np.zeros(0))
        out = [np.zeros(n) for _ in probe]
    return out


def run_replication(
    plan: Plan,
    *,
    seed: int,
    replication: int,
    cases: int | None,
    duration: float | None = None,
    max_instances: int | None = None,
) -> ReplicationRecord:
    """Run one replication and return its record.

    Parameters
    ----------
    plan : Plan
        From :func:`compile_model`.
    seed, replication : int
        Root seed and replication index; together they determine every random draw.
    cases : int or None
        Number of arrivals; or ``None`` with ``duration``, the length of the arrival period.
        Either way the replication runs until every case that arrived has finished.
    max_instances : int, optional
        Bound on activity instances so no run can hang: by default 1000 times the expected
        number (cases times the expected activity instances per case).
    """
    if max_instances is None:
        expected = cases if cases is not None else (duration or 0) * plan.model.arrival_rate
        max_instances = int(1000 * max(expected, 1) * plan.instances_per_case)
    if plan.general:
        from procsim.engine_rich import run_general

        return run_general(plan, RandomStreams(seed, replication), cases, duration,
                           max_instances, replication)
    state = _Replication(plan, RandomStreams(seed, replication), cases, duration, max_instances)
    state.run()
    return state.record(replication)
