"""The general engine: calendars, time-varying arrivals, priorities, people and batches.

:func:`procsim.engine.compile_model` selects this engine when a model uses any of these
features; models without them run on the fast path of :mod:`procsim.engine`. Forced onto a
model without them (``compile_model(model, general=True)``) it gives the fast path's
records bit for bit: the same random streams, the same arithmetic and the same order of
events in SimPy's calendar (``tests/test_realism.py`` checks it).

Servers
-------
Every pool is a set of servers: ``capacity`` anonymous ones, or its named ``members``
(``people:``), one server per person even when they belong to several pools. A server
has, for each of its pools, a calendar (the person's own, else the pool's; none: always on
shift) and a cost per hour (the person's, else the pool's), and a speed.

Rules
-----
* **Queues.** One queue per pool, ordered by (priority rank, time the work was queued,
  sequence number); without ``priority`` every rank is 0 and the queue is first come,
  first served. Non-preemptive: work in progress is never interrupted by a more urgent case.
* **Starting work.** A server starts work only while its calendar (for that pool) is open.
  Work queued while no server of the pool is on shift waits; each idle server that is off
  shift is woken at its calendar's next opening (``Calendar.next_open``).
* **Which server.** When work arrives and several servers of the pool are free and on
  shift, the one that has been free the longest takes it (ties: the pool's order of
  members, or of anonymous servers). When a server becomes free or comes on shift, it takes
  the most urgent waiting work among all its pools on whose calendar it is on shift:
  lowest (rank, queued time, sequence number), which is unique.
* **End of a shift.** Work running at the end of a shift continues to its end (overtime)
  by default. With the pool's ``preempt: true`` it pauses at the end of the shift and
  resumes at the next opening on the same server: it ends at
  ``calendar.add_working_time(start, duration)``.
* **Durations.** ``activity.durations[person]`` when given (its own stream,
  ``"duration:<activity>:<person>"``, not divided by speed), else a draw of
  ``activity.duration`` (stream ``"duration:<activity>"``) divided by the server's speed.
* **Batches.** A case reaching an activity with ``batch`` waits until ``size`` cases are
  there, or until ``timeout`` after the first of them arrived; the batch then joins the
  pool's queue as one unit (rank: the most urgent of its cases; queued: when it formed),
  takes one server and one duration draw, and all its cases start and end together. Each
  case keeps its own activity instance (``enabled``: when it reached the activity). Busy
  time counts once per batch.

Busy time is recorded as *segments* (pool, server, start, end, on shift or not): one per
instance of work, split where the server's calendar opens or closes, and, with
``preempt``, without the pauses. Utilisation against on-shift time and the cost of idle
time are computed from them in :mod:`procsim.kpi`.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator
from heapq import heappop, heappush
from typing import Any

import numpy as np
import simpy

from procsim.engine import (
    _BLOCK,
    ACTIVITY,
    CHOICE,
    END,
    GATEWAY,
    JOIN,
    NEXT,
    PARALLEL,
    Plan,
    ReplicationRecord,
    _categorical_sampler,
    _first_match,
    _integrals_at,
    _uniform_source,
    _wip_integral,
)
from procsim.errors import SimulationError, quote
from procsim.rng import RandomStreams

__all__ = ["run_general"]


class _Server:
    """One server: an anonymous member of a pool, or a named person (in one or more pools)."""

    __slots__ = ("busy", "calendar", "cost", "free_since", "index", "order", "person", "pools",
                 "shift", "speed", "wake_at")

    def __init__(self, index: int, person: int, speed: float) -> None:
        self.index = index            # position in the server table
        self.person = person          # index in model.people, -1 for an anonymous server
        self.speed = speed
        self.pools: list[int] = []
        self.calendar: dict[int, Any] = {}   # pool -> Calendar or None
        self.cost: dict[int, float] = {}     # pool -> cost per hour
        self.order: dict[int, int] = {}      # pool -> position among the pool's servers
        # pool -> the calendar's cached stretch [until, open, calendar] (shared by every
        # server on that calendar, one per replication), None when always on shift
        self.shift: dict[int, list[Any] | None] = {}
        self.busy = False
        self.free_since = 0.0
        self.wake_at: float | None = None


class _Unit:
    """Work that takes one server: one case's instance, or a batch of them."""

    __slots__ = ("activity", "items", "rank")

    def __init__(self, activity: int, items: list[tuple[int, float]], rank: float) -> None:
        self.activity = activity
        self.items = items   # (case, enabled)
        self.rank = rank


def build_servers(plan: Plan) -> tuple[list[_Server], list[list[_Server]]]:
    """The server table and, per pool, its servers in order (members' order)."""
    model = plan.model
    people = list(model.people)
    servers: list[_Server] = []
    by_person: dict[str, _Server] = {}
    pool_servers: list[list[_Server]] = []
    for r, name in enumerate(plan.pools):
        spec = model.resources[name]
        pool_calendar = model.calendar(spec.calendar) if spec.calendar else None
        mine: list[_Server] = []
        if spec.members:
            for person in spec.members:
                p = model.people[person]
                server = by_person.get(person)
                if server is None:
                    server = _Server(len(servers), people.index(person), p.speed)
                    servers.append(server)
                    by_person[person] = server
                server.calendar[r] = model.calendar(p.calendar) if p.calendar else pool_calendar
                server.cost[r] = p.cost_per_hour if p.cost_per_hour is not None \
                    else spec.cost_per_hour
                mine.append(server)
        else:
            for _ in range(spec.capacity):
                server = _Server(len(servers), -1, 1.0)
                server.calendar[r] = pool_calendar
                server.cost[r] = spec.cost_per_hour
                servers.append(server)
                mine.append(server)
        for k, server in enumerate(mine):
            server.pools.append(r)
            server.order[r] = k
        pool_servers.append(mine)
    return servers, pool_servers


def _rank_function(plan: Plan, case_attributes: list[list[Any]]) -> Callable[[int], float]:
    """Priority rank of a case (lower first); 0 for every case without ``priority``."""
    priority = plan.model.priority
    if priority is None:
        return lambda case: 0.0
    values = case_attributes[plan.attributes.index(priority.attribute)]
    if priority.order is not None:
        rank_of = {v: float(k) for k, v in enumerate(priority.order)}
        return lambda case: rank_of[values[case]]
    return lambda case: float(values[case])


def run_general(plan: Plan, streams: RandomStreams, cases_limit: int | None,
                duration: float | None, max_instances: int,
                replication: int) -> ReplicationRecord:
    """Run one replication on the general engine and return its record."""
    model = plan.model
    env = simpy.Environment()
    queue, event_ids = env._queue, env._eid
    normal = simpy.events.NORMAL
    nan = math.nan

    # --- random sources (the fast path's streams, plus one per person-specific duration) ----
    times: Iterator[float] = model.arrival_process().times(streams.generator("arrivals"),
                                                           block=_BLOCK)
    duration_draw = [model.activities[a].duration.sampler(streams.generator(f"duration:{a}"),
                                                          _BLOCK) for a in plan.activities]
    people = list(model.people)
    person_draw: list[dict[int, Callable[[], float]]] = []
    for a in plan.activities:
        by_person = model.activities[a].durations or {}
        person_draw.append({
            people.index(p): dist.sampler(streams.generator(f"duration:{a}:{p}"), _BLOCK)
            for p, dist in by_person.items()})
    route_sources = [
        _uniform_source(streams.generator(f"route:{plan.nodes[i]}")) if form == CHOICE else None
        for i, (form, _) in enumerate(plan.routes)]
    case_attributes: list[list[Any]] = [[] for _ in plan.attributes]
    attribute_draws: list[tuple[Callable[[Any], None], Callable[[], Any]]] = []
    for k, name in enumerate(plan.attributes):
        spec = model.attributes[name]
        rng = streams.generator(f"attribute:{name}")
        draw: Callable[[], Any]
        if isinstance(spec, dict):
            cumulative = np.cumsum(list(spec.values())).tolist()[:-1]
            draw = _categorical_sampler(rng, list(spec), cumulative)
        else:
            draw = spec.sampler(rng, _BLOCK)
        attribute_draws.append((case_attributes[k].append, draw))
    rank = _rank_function(plan, case_attributes)

    servers, pool_servers = build_servers(plan)
    # Whether a calendar is open changes only at a shift's start or end: each calendar's
    # answer is cached with the time until which it holds (Calendar._stretch), so that most
    # checks are one comparison. Simulated time never decreases, so the cache stays exact.
    stretches: dict[int, list[Any]] = {}
    for server in servers:
        for r, calendar in server.calendar.items():
            if calendar is None:
                server.shift[r] = None
            else:
                server.shift[r] = stretches.setdefault(id(calendar),
                                                       [-math.inf, False, calendar])
    preempt = [model.resources[p].preempt for p in plan.pools]
    # A delay with a calendar elapses in that calendar's working time.
    delay_calendar = [None if (own := model.activities[a].calendar) is None
                      else model.calendar(own) for a in plan.activities]
    batch = [model.activities[a].batch for a in plan.activities]
    kind, node_activity, activity_pool = plan.kind, plan.node_activity, plan.activity_pool
    activity_node, join_inputs = plan.activity_node, plan.join_inputs
    join_count: dict[tuple[int, int], int] = {}
    flow = [0] * len(plan.edges)
    pool_queue: list[list[tuple[float, float, int, _Unit]]] = [[] for _ in plan.pools]
    batch_buffer: list[list[tuple[int, float]]] = [[] for _ in plan.activities]
    batch_timer = [0] * len(plan.activities)   # generation of the current time-out

    arrival, end = array("d"), array("d")
    inst_case, inst_activity = array("q"), array("h")
    inst_enabled, inst_start, inst_end = array("d"), array("d"), array("d")
    inst_server, inst_work = array("i"), array("d")
    seg_pool, seg_server = array("h"), array("i")
    seg_start, seg_end, seg_on = array("d"), array("d"), array("b")
    counters = {"requested": 0, "finished": 0, "sequence": 0}
    # Bound methods hoisted out of the hot callbacks (as the fast path does).
    add_case, add_activity, add_enabled = inst_case.append, inst_activity.append, \
        inst_enabled.append
    add_start, add_end, add_server = inst_start.append, inst_end.append, inst_server.append
    add_work = inst_work.append
    add_seg_pool, add_seg_server, add_seg_start = seg_pool.append, seg_server.append, \
        seg_start.append
    add_seg_end, add_seg_on = seg_end.append, seg_on.append

    def at(t: float, callback: Callable[..., None], *args: Any) -> None:
        event = simpy.Event(env)
        event._ok = True
        event._value = args
        event.callbacks = [lambda e: callback(*e._value)]
        heappush(queue, (t, normal, next(event_ids), event))

    # --- servers and queues -------------------------------------------------------------------

    def on_shift(server: _Server, r: int, now: float) -> bool:
        state = server.shift[r]
        if state is None:
            return True
        if now < state[0]:
            return state[1]
        until, is_open = state[2]._stretch(now)
        state[0], state[1] = until, is_open
        return is_open

    def within_shift(state: list[Any] | None, now: float, finish_at: float) -> bool:
        """Whether ``[now, finish_at)`` is non-empty and lies in the cached open stretch,
        in which case it is the calendar's one interval there (as ``intervals`` gives)."""
        return (state is not None and state[1] and now < finish_at <= state[0]
                and now < state[0])

    def wake_later(server: _Server, r: int, now: float) -> None:
        """Wake an idle, off-shift server when its calendar for pool ``r`` next opens."""
        state = server.shift[r]
        if state is not None and not on_shift(server, r, now) and now < state[0]:
            t = state[0]   # the calendar's next opening
        else:
            t = server.calendar[r].next_open(now)
        if server.wake_at is None or t < server.wake_at:
            server.wake_at = t
            at(t, wake, server)

    def wake(server: _Server) -> None:
        server.wake_at = None
        if not server.busy:
            serve_next(server, env._now)

    def serve_next(server: _Server, now: float) -> None:
        """A free server takes the most urgent work it may start now, or waits for a shift."""
        best: tuple[float, float, int, _Unit] | None = None
        best_pool = -1
        for r in server.pools:
            waiting = pool_queue[r]
            if waiting and (best is None or waiting[0] < best) and on_shift(server, r, now):
                best, best_pool = waiting[0], r
        if best is not None:
            heappop(pool_queue[best_pool])
            start(best[3], server, best_pool, now)
            return
        for r in server.pools:
            if pool_queue[r]:   # work waits, but this server is off shift for it
                wake_later(server, r, now)

    def enqueue(unit: _Unit, r: int, now: float) -> None:
        sequence = counters["sequence"]
        counters["sequence"] = sequence + 1
        heappush(pool_queue[r], (unit.rank, now, sequence, unit))
        chosen: _Server | None = None
        for server in pool_servers[r]:
            if server.busy:
                continue
            state = server.shift[r]   # on_shift, inlined: this loop is the hottest
            if state is not None and not (state[1] if now < state[0]
                                          else on_shift(server, r, now)):
                continue
            if chosen is None or server.free_since < chosen.free_since:
                chosen = server
        if chosen is not None:
            # An idle on-shift server has nothing else waiting (it would have taken it), so
            # the head of this queue is the unit just queued or one queued at the same time.
            start(heappop(pool_queue[r])[3], chosen, r, now)
            return
        for server in pool_servers[r]:
            if not server.busy:
                wake_later(server, r, now)

    # --- activity instances -------------------------------------------------------------------

    def start(unit: _Unit, server: _Server | None, r: int, now: float) -> None:
        activity = unit.activity
        person = -1 if server is None else server.person
        specific = person_draw[activity].get(person) if person >= 0 else None
        if specific is not None:
            work = specific()
        else:
            work = duration_draw[activity]()
            if server is not None and server.speed != 1.0:
                work = work / server.speed
        calendar = None if server is None else server.calendar[r]
        if server is not None and preempt[r] and calendar is not None:
            finish_at = calendar.add_working_time(now, work)
            if within_shift(server.shift[r], now, finish_at):
                pieces = [(now, finish_at, True)]
            else:
                pieces = [(a, b, True) for a, b in calendar.intervals(now, finish_at)]
        else:
            finish_at = now + work
            if server is None:
                own = delay_calendar[activity]
                if own is not None:
                    finish_at = own.add_working_time(now, work)
                pieces = []
            elif calendar is None or within_shift(server.shift[r], now, finish_at):
                pieces = [(now, finish_at, True)]
            else:
                pieces = _split(calendar, now, finish_at)
        slots = len(inst_end)
        share = work / len(unit.items)
        for case, enabled in unit.items:
            add_case(case)
            add_activity(activity)
            add_enabled(enabled)
            add_start(now)
            add_end(nan)
            add_server(person)
            add_work(share)
        if server is not None:
            server.busy = True
            index = server.index
            for a, b, is_on in pieces:
                add_seg_pool(r)
                add_seg_server(index)
                add_seg_start(a)
                add_seg_end(b)
                add_seg_on(is_on)
        at(finish_at, finish, unit, server, r, slots)

    def finish(unit: _Unit, server: _Server | None, r: int, slot: int) -> None:
        now = env._now
        for k in range(len(unit.items)):
            inst_end[slot + k] = now
        if server is not None:
            server.busy = False
            server.free_since = now
            serve_next(server, now)   # as the fast path: the next one starts first
        node = activity_node[unit.activity]
        for case, _ in unit.items:
            advance(case, node, now)

    def request(case: int, activity: int, now: float) -> None:
        requested = counters["requested"] + 1
        counters["requested"] = requested
        if requested > max_instances:
            raise too_many_instances()
        spec = batch[activity]
        if spec is not None:
            buffer = batch_buffer[activity]
            buffer.append((case, now))
            if len(buffer) >= spec.size:
                release(activity, now)
            elif len(buffer) == 1 and spec.timeout is not None:
                batch_timer[activity] += 1
                at(now + spec.timeout, time_out, activity, batch_timer[activity])
            return
        submit(_Unit(activity, [(case, now)], rank(case)), now)

    def release(activity: int, now: float) -> None:
        items = batch_buffer[activity]
        batch_buffer[activity] = []
        batch_timer[activity] += 1   # cancels a pending time-out
        submit(_Unit(activity, items, min(rank(case) for case, _ in items)), now)

    def time_out(activity: int, generation: int) -> None:
        if generation == batch_timer[activity] and batch_buffer[activity]:
            release(activity, env._now)

    def submit(unit: _Unit, now: float) -> None:
        r = activity_pool[unit.activity]
        if r < 0:
            start(unit, None, -1, now)
        else:
            enqueue(unit, r, now)

    # --- routing (as the fast path) -------------------------------------------------------------

    def advance(case: int, node: int, now: float) -> None:
        while True:
            form, data = plan.routes[node]
            base = plan.edge_base[node]
            if form == NEXT:
                flow[base] += 1
                target = data
            elif form == CHOICE:
                cumulative, targets = data
                pop, refill = route_sources[node]  # type: ignore[misc]
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
                request(case, node_activity[target], now)
                return
            if target_kind != GATEWAY:
                enter(case, target, now)
                return
            node = target

    def enter(case: int, node: int, now: float) -> None:
        node_kind = kind[node]
        if node_kind == END:
            end[case] = now
            counters["finished"] += 1
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
        else:
            request(case, node_activity[node], now)

    def first_match(case: int, node: int, branches: Any) -> tuple[int, int]:
        return _first_match(plan, case_attributes, case, node, branches)

    def too_many_instances() -> SimulationError:
        return SimulationError.at(
            plan.model, ("run", "max_activity_instances"),
            f"more than {max_instances:,} activity instances in one replication; the "
            "model may loop (check rework probabilities) or raise run.max_activity_instances")

    # --- arrivals -------------------------------------------------------------------------------

    by_cases = cases_limit is not None

    def on_arrival(now: float) -> None:
        case = len(arrival)
        arrival.append(now)
        end.append(nan)
        for append, draw_attribute in attribute_draws:
            append(draw_attribute())
        following = next(times)
        if case + 1 < cases_limit if by_cases else following < duration:  # type: ignore[operator]
            at(following, on_arrival, following)
        advance(case, 0, now)

    first = next(times)
    if 0 < cases_limit if by_cases else first < duration:  # type: ignore[operator]
        at(first, on_arrival, first)
    env.run()

    n = len(arrival)
    stuck = [(plan.activities[a], len(b)) for a, b in enumerate(batch_buffer) if b]
    if stuck:
        raise SimulationError.at(
            plan.model, ("activities", stuck[0][0], "batch"),
            "; ".join(f"{count} case(s) still wait for a batch at {quote(name)}"
                      for name, count in stuck)
            + " when no more cases arrive; give the batch a timeout")
    if counters["finished"] != n or any(math.isnan(t) for t in end):
        raise SimulationError(
            f"{n - counters['finished']} case(s) never finished; a parallel join may be "
            "waiting for a branch that was not taken")
    return _record(plan, replication, arrival, end, case_attributes, flow,
                   inst_case, inst_activity, inst_enabled, inst_start, inst_end, inst_server,
                   inst_work, seg_pool, seg_server, seg_start, seg_end, seg_on)


def _split(calendar: Any, a: float, b: float) -> list[tuple[float, float, bool]]:
    """``[a, b)`` cut into on-shift and off-shift pieces of ``calendar``."""
    pieces: list[tuple[float, float, bool]] = []
    t = a
    for s, e in calendar.intervals(a, b):
        if s > t:
            pieces.append((t, s, False))
        pieces.append((s, e, True))
        t = e
    if t < b or not pieces:
        pieces.append((t, b, False))
    return pieces


def _record(plan: Plan, replication: int, arrival_buf: array[float], end_buf: array[float],
            case_attributes: list[list[Any]], flow: list[int], *buffers: Any) -> ReplicationRecord:
    (inst_case, inst_activity, inst_enabled, inst_start, inst_end, inst_server, inst_work,
     seg_pool, seg_server, seg_start, seg_end, seg_on) = buffers
    arrival = np.frombuffer(arrival_buf, dtype=np.float64)
    end = np.frombuffer(end_buf, dtype=np.float64)
    instance_activity = np.frombuffer(inst_activity, dtype=np.int16)
    instance_enabled = np.frombuffer(inst_enabled, dtype=np.float64)
    instance_start = np.frombuffer(inst_start, dtype=np.float64)
    busy_pool = np.frombuffer(seg_pool, dtype=np.int16)
    busy_start = np.frombuffer(seg_start, dtype=np.float64)
    busy_end = np.frombuffer(seg_end, dtype=np.float64)
    n, n_pools = len(arrival), len(plan.pools)
    busy_area, queue_area = np.empty((n, n_pools)), np.empty((n, n_pools))
    pool = np.asarray(plan.activity_pool, dtype=np.int16)[instance_activity]
    for r in range(n_pools):
        mask, seg = pool == r, busy_pool == r
        busy_area[:, r], queue_area[:, r] = _integrals(
            arrival, instance_enabled[mask], instance_start[mask], busy_start[seg],
            busy_end[seg])
    attributes = {}
    for k, name in enumerate(plan.attributes):
        values = case_attributes[k]
        attributes[name] = (np.array(values, dtype=np.float64)
                            if values and not isinstance(values[0], str)
                            else np.array(values, dtype=object))
    return ReplicationRecord(
        replication=replication, arrival=arrival, end=end,
        instance_case=np.frombuffer(inst_case, dtype=np.int64),
        instance_activity=instance_activity, instance_enabled=instance_enabled,
        instance_start=instance_start,
        instance_end=np.frombuffer(inst_end, dtype=np.float64),
        busy_area=busy_area, queue_area=queue_area, wip_area=_wip_integral(arrival, end),
        attributes=attributes, flow=np.array(flow, dtype=np.int64),
        instance_server=np.frombuffer(inst_server, dtype=np.int32),
        instance_work=np.frombuffer(inst_work, dtype=np.float64),
        busy_pool=busy_pool,
        busy_server=np.frombuffer(seg_server, dtype=np.int32),
        busy_start=busy_start, busy_end=busy_end,
        busy_on_shift=np.frombuffer(seg_on, dtype=np.int8).astype(bool),
    )


def _integrals(arrival: np.ndarray, enabled: np.ndarray, start: np.ndarray,
               busy_start: np.ndarray, busy_end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Time integrals of one pool's busy servers and queue length at each arrival.

    As :func:`procsim.engine._pool_integrals`, with busy time from the busy segments and
    ticks at every time a count may change (starts and segment bounds too: with calendars
    work also starts at a shift's opening). Without calendars and batches every extra tick
    falls on an existing one and adds ``count × 0``, so the sums are bit for bit the fast
    path's.
    """
    enabled, start = np.sort(enabled), np.sort(start)
    busy_start, busy_end = np.sort(busy_start), np.sort(busy_end)
    ticks = np.concatenate((arrival, enabled, start, busy_start, busy_end))
    ticks.sort(kind="stable")

    def counts(previous: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        busy = (np.searchsorted(busy_start, previous, side="right")
                - np.searchsorted(busy_end, previous, side="right"))
        begun = np.searchsorted(start, previous, side="right")
        queued = np.searchsorted(enabled, previous, side="right") - begun
        return busy, queued

    busy, queued = _integrals_at(ticks, arrival, counts)
    return busy, queued
