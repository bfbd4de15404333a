"""The discrete-event engine: one replication of a model, on SimPy's event calendar.

SimPy is used as the event calendar with light callbacks rather than with one
generator process per case: a case is a row of arrays, every timed step is a
``Timeout`` whose callback is a bound method shared by all cases. This keeps the
per-event overhead low (see ``docs/performance.md``). Resource pools are FIFO
queues with time-integral accumulators for utilisation and queue length.

No files, no printing, no wall clock here: the engine appends compact records
(``array.array``) and returns them as numpy arrays in a :class:`ReplicationRecord`.
"""

from __future__ import annotations

import bisect
from array import array
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from procsim.errors import SimulationError
from procsim.model.graph import build_graph, flow_kind, parse_condition
from procsim.model.schema import Model
from procsim.rng import RandomStreams

__all__ = ["Plan", "ReplicationRecord", "compile_model", "run_replication"]

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


def compile_model(model: Model) -> Plan:
    """Compile a checked model into a :class:`Plan` for :func:`run_replication`."""
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
    )


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

    @property
    def cases(self) -> int:
        return len(self.arrival)


def _uniform_sampler(rng: np.random.Generator) -> Callable[[], float]:
    buffer: list[float] = []

    def draw() -> float:
        if not buffer:
            buffer.extend(rng.random(_BLOCK).tolist()[::-1])
        return buffer.pop()

    return draw


def _categorical_sampler(
    rng: np.random.Generator, values: list[str], cumulative: list[float]
) -> Callable[[], str]:
    uniform = _uniform_sampler(rng)
    return lambda: values[bisect.bisect_right(cumulative, uniform())]


class _Replication:
    """State of one running replication. Methods are SimPy callbacks."""

    def __init__(
        self,
        plan: Plan,
        streams: RandomStreams,
        cases: int | None,
        duration: float | None,
        max_instances: int,
    ) -> None:
        model = plan.model
        self.plan = plan
        self.env = simpy.Environment()
        self.cases_limit = cases
        self.duration = duration
        self.max_instances = max_instances

        self.interarrival = model.arrivals.interarrival.sampler(streams.generator("arrivals"))
        self.durations = [
            model.activities[a].duration.sampler(streams.generator(f"duration:{a}"))
            for a in plan.activities
        ]
        self.route_draw: dict[int, Callable[[], float]] = {
            i: _uniform_sampler(streams.generator(f"route:{plan.nodes[i]}"))
            for i, (form, _) in enumerate(plan.routes) if form == CHOICE
        }
        self.attribute_draws: list[tuple[str, Callable[[], Any]]] = []
        for name in plan.attributes:
            spec = model.attributes[name]
            rng = streams.generator(f"attribute:{name}")
            if isinstance(spec, dict):
                values = list(spec)
                cumulative = np.cumsum(list(spec.values())).tolist()[:-1]
                self.attribute_draws.append((name, _categorical_sampler(rng, values, cumulative)))
            else:
                self.attribute_draws.append((name, spec.sampler(rng)))
        self.case_attributes: list[list[Any]] = [[] for _ in plan.attributes]

        n_pools = len(plan.pools)
        self.busy = [0] * n_pools
        self.queue: list[deque[tuple[int, int, float]]] = [deque() for _ in range(n_pools)]
        self.last_t = [0.0] * n_pools
        self.busy_acc = [0.0] * n_pools
        self.queue_acc = [0.0] * n_pools
        self.wip = 0
        self.wip_last_t = 0.0
        self.wip_acc = 0.0

        self.arrival = array("d")
        self.end: list[float] = []
        self.finished = 0
        self.busy_snap = array("d")
        self.queue_snap = array("d")
        self.wip_snap = array("d")
        self.inst_case = array("q")
        self.inst_activity = array("h")
        self.inst_enabled = array("d")
        self.inst_start = array("d")
        self.inst_end = array("d")
        self.instances = 0
        self.join_count: dict[tuple[int, int], int] = {}
        self.edge_base = plan.edge_base
        self.flow = [0] * len(plan.edges)

    # --- arrivals ---------------------------------------------------------------------------

    def run(self) -> None:
        first = self.interarrival()
        if self._arrivals_continue(first, 0):
            self.env.timeout(first).callbacks.append(self._on_arrival)
        self.env.run()
        if self.finished != len(self.arrival):
            stuck = len(self.arrival) - self.finished
            raise SimulationError(
                f"{stuck} case(s) never finished; a parallel join may be waiting for a branch "
                "that was not taken"
            )

    def _arrivals_continue(self, at: float, arrived: int) -> bool:
        if self.cases_limit is not None:
            return arrived < self.cases_limit
        assert self.duration is not None
        return at < self.duration

    def _on_arrival(self, _event: simpy.Event) -> None:
        now = self.env.now
        case = len(self.arrival)
        self.arrival.append(now)
        self.end.append(np.nan)
        for k, (_, draw) in enumerate(self.attribute_draws):
            self.case_attributes[k].append(draw())
        # Snapshot the time integrals at this arrival (before the case joins the system).
        for r in range(len(self.busy)):
            self._tick(r, now)
            self.busy_snap.append(self.busy_acc[r])
            self.queue_snap.append(self.queue_acc[r])
        self.wip_acc += self.wip * (now - self.wip_last_t)
        self.wip_last_t = now
        self.wip_snap.append(self.wip_acc)
        self.wip += 1

        gap = self.interarrival()
        if self._arrivals_continue(now + gap, case + 1):
            self.env.timeout(gap).callbacks.append(self._on_arrival)
        self._leave(case, 0)

    # --- routing ----------------------------------------------------------------------------

    def _leave(self, case: int, node: int) -> None:
        """Send the case's token on from ``node`` along its outgoing flow."""
        form, data = self.plan.routes[node]
        base = self.edge_base[node]
        if form == NEXT:
            self.flow[base] += 1
            self._enter(case, data)
        elif form == CHOICE:
            cumulative, targets = data
            i = bisect.bisect_right(cumulative, self.route_draw[node]())
            self.flow[base + i] += 1
            self._enter(case, targets[i])
        elif form == PARALLEL:
            for i, target in enumerate(data):
                self.flow[base + i] += 1
                self._enter(case, target)
        else:
            i, target = self._first_match(case, node, data)
            self.flow[base + i] += 1
            self._enter(case, target)

    def _first_match(self, case: int, node: int, branches: Any) -> tuple[int, int]:
        attributes = self.plan.attributes
        for i, (predicates, target) in enumerate(branches):
            if all(p(self.case_attributes[k][case]) for k, p in predicates):
                return i, int(target)
        values = {a: self.case_attributes[k][case] for k, a in enumerate(attributes)}
        raise SimulationError(
            f"no branch of '{self.plan.nodes[node]}' matches case {case} with attributes "
            f"{values}; add a default branch without 'when'"
        )

    def _enter(self, case: int, node: int) -> None:
        kind = self.plan.kind[node]
        if kind == ACTIVITY:
            self._request(case, self.plan.node_activity[node])
        elif kind == GATEWAY:
            self._leave(case, node)
        elif kind == JOIN:
            key = (case, node)
            count = self.join_count.get(key, 0) + 1
            if count == self.plan.join_inputs[node]:
                del self.join_count[key]
                self._leave(case, node)
            else:
                self.join_count[key] = count
        elif kind == END:
            now = self.env.now
            self.end[case] = now
            self.finished += 1
            self.wip_acc += self.wip * (now - self.wip_last_t)
            self.wip_last_t = now
            self.wip -= 1

    # --- activities and pools ---------------------------------------------------------------

    def _tick(self, r: int, now: float) -> None:
        dt = now - self.last_t[r]
        if dt:
            self.busy_acc[r] += self.busy[r] * dt
            self.queue_acc[r] += len(self.queue[r]) * dt
            self.last_t[r] = now

    def _request(self, case: int, activity: int) -> None:
        self.instances += 1
        if self.instances > self.max_instances:
            raise SimulationError(
                f"more than {self.max_instances:,} activity instances in one replication; the "
                "model may loop (check rework probabilities) or raise run.max_activity_instances"
            )
        now = self.env.now
        r = self.plan.activity_pool[activity]
        if r < 0:
            self._begin(case, activity, now, -1)
        elif self.busy[r] < self.plan.capacity[r]:
            self._tick(r, now)
            self.busy[r] += 1
            self._begin(case, activity, now, r)
        else:
            self._tick(r, now)
            self.queue[r].append((case, activity, now))

    def _begin(self, case: int, activity: int, enabled: float, r: int) -> None:
        now = self.env.now
        self.inst_case.append(case)
        self.inst_activity.append(activity)
        self.inst_enabled.append(enabled)
        self.inst_start.append(now)
        self.inst_end.append(np.nan)
        # The event's value carries the instance; one shared callback serves every case.
        slot = len(self.inst_start) - 1
        ev = self.env.timeout(self.durations[activity](), (case, activity, r, slot))
        ev.callbacks.append(self._on_finish)

    def _on_finish(self, event: simpy.Event) -> None:
        case, activity, r, slot = event._value  # SimPy stores the value here; no property cost
        now = self.env.now
        self.inst_end[slot] = now
        if r >= 0:
            self._tick(r, now)
            queue = self.queue[r]
            if queue:
                next_case, next_activity, enabled = queue.popleft()
                self._begin(next_case, next_activity, enabled, r)
            else:
                self.busy[r] -= 1
        self._leave(case, self.plan.activity_node[activity])

    # --- results ----------------------------------------------------------------------------

    def record(self, replication: int) -> ReplicationRecord:
        n_pools = len(self.plan.pools)
        n = len(self.arrival)
        attributes = {}
        for k, name in enumerate(self.plan.attributes):
            values = self.case_attributes[k]
            attributes[name] = (np.array(values, dtype=np.float64)
                                if values and not isinstance(values[0], str)
                                else np.array(values, dtype=object))
        return ReplicationRecord(
            replication=replication,
            arrival=np.frombuffer(self.arrival, dtype=np.float64).copy(),
            end=np.array(self.end, dtype=np.float64),
            instance_case=np.frombuffer(self.inst_case, dtype=np.int64).copy(),
            instance_activity=np.frombuffer(self.inst_activity, dtype=np.int16).copy(),
            instance_enabled=np.frombuffer(self.inst_enabled, dtype=np.float64).copy(),
            instance_start=np.frombuffer(self.inst_start, dtype=np.float64).copy(),
            instance_end=np.frombuffer(self.inst_end, dtype=np.float64).copy(),
            busy_area=np.frombuffer(self.busy_snap, dtype=np.float64).reshape(n, n_pools).copy(),
            queue_area=np.frombuffer(self.queue_snap, dtype=np.float64).reshape(n, n_pools).copy(),
            wip_area=np.frombuffer(self.wip_snap, dtype=np.float64).copy(),
            attributes=attributes,
            flow=np.array(self.flow, dtype=np.int64),
        )


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
        Bound on activity instances (default 1000 per expected case) so no run can hang.
    """
    if max_instances is None:
        expected = cases if cases is not None else (duration or 0) / (
            plan.model.arrivals.interarrival.mean)
        max_instances = int(1000 * max(expected, 1))
    state = _Replication(plan, RandomStreams(seed, replication), cases, duration, max_instances)
    state.run()
    return state.record(replication)
