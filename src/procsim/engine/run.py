"""One replication on SimPy's event calendar: how a case moves.

A case is a row of arrays, not a SimPy process: every timed step is an event in SimPy's
calendar whose callback is shared by all cases. A case arrives (``on_arrival``), its token
is sent on by :func:`advance` through gateways until it reaches an activity, a join or the
end; at an activity it *requests* the activity's pool, which starts the work now or queues
it by the pool's policy (:mod:`procsim.engine.pools`); when the work ends the token
moves on. Routing is written once, here, for every policy.

This is the only module that touches SimPy's internals: it pushes ``(time, NORMAL, event
id, event)`` on SimPy's own calendar (what ``Environment.schedule`` does, without the
method call) and recycles processed events from a free list, setting ``_ok``/``_value``
itself. The order in which events are scheduled, and hence SimPy's tie-breaking, is that of
``Environment.schedule``.

The callbacks are closures over local variables rather than methods: in CPython a closure
variable is read much faster than ``self.attribute``, and these callbacks run once or twice
per event (docs/performance.md, "Where the time goes now"). Each step is written once: a
FIFO pool's path is ``request``, ``begin`` and ``on_finish``; the TEAM and SERVERS paths
are a few functions each. No files, printing or wall clock here.

Invariants while running: ``busy[r] <= capacity[r]`` for a FIFO pool and its queue is
non-empty only while ``busy[r] == capacity[r]``; ``started`` is the number of instance
slots written; every case that arrived has exactly one ``end`` entry, NaN until it ends.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import simpy

from procsim.engine.plan import (
    ACTIVITY,
    CHOICE,
    END,
    FIFO,
    GATEWAY,
    JOIN,
    NEXT,
    PARALLEL,
    TEAM,
    Plan,
    first_match,
)
from procsim.engine.pools import Server, Unit, build_servers, rank_function, split
from procsim.engine.record import Buffers, ReplicationRecord, build_record
from procsim.engine.sources import Sources
from procsim.errors import SimulationError, quote
from procsim.rng import RandomStreams

__all__ = ["run_replication"]


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
        From :func:`~procsim.engine.compile_model`.
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
    sources = Sources.of(plan, RandomStreams(seed, replication))
    buffers = Buffers(plan, sources.case_attributes)
    servers, pool_servers = build_servers(plan)
    waiting = _run(plan, sources, buffers, servers, pool_servers, cases, duration,
                   max_instances)
    n = len(buffers.arrival)
    stuck = [(plan.activities[a], len(items)) for a, items in enumerate(waiting) if items]
    if stuck:
        raise SimulationError.at(
            plan.model, ("activities", stuck[0][0], "batch"),
            "; ".join(f"{count} case(s) still wait for a batch at {quote(name)}"
                      for name, count in stuck)
            + " when no more cases arrive; give the batch a timeout")
    if buffers.finished != n or any(math.isnan(t) for t in buffers.end):
        raise SimulationError(
            f"{n - buffers.finished} case(s) never finished; a parallel join may be waiting "
            "for a branch that was not taken")
    return build_record(plan, replication, buffers)


def _run(plan: Plan, src: Sources, b: Buffers, servers: list[Server],
         pool_servers: list[list[Server]], cases_limit: int | None, duration: float | None,
         max_instances: int) -> list[list[tuple[int, float]]]:
    """Run the replication into ``b``; return the cases left waiting for a batch."""
    model = plan.model
    env = simpy.Environment()
    # SimPy's calendar: a heap of (time, priority, event id, event).
    calendar, event_ids = env._queue, env._eid
    normal = simpy.events.NORMAL
    nan = math.nan

    kind, node_activity, activity_pool = plan.kind, plan.node_activity, plan.activity_pool
    activity_node, join_inputs, capacity = plan.activity_node, plan.join_inputs, plan.capacity
    # Per activity, in one lookup: its FIFO pool (>= 0), a FIFO delay (-1), or the TEAM (-2)
    # or SERVERS (-3) path.
    fifo_pool = [activity_pool[a] if p == FIFO else -2 if p == TEAM else -3
                 for a, p in enumerate(plan.path)]
    join_count: dict[tuple[int, int], int] = {}
    # (form, first edge, data) per node; a choice's data also carries its random source.
    routes: tuple[tuple[int, int, Any], ...] = tuple(
        (form, base, (*data, *source) if source is not None else data)
        for (form, data), base, source
        in zip(plan.routes, plan.edge_base, src.routes, strict=True))
    flow = b.flow
    case_attributes = src.case_attributes
    attribute_draws = src.attributes
    duration_pop = [pop for pop, _ in src.durations]
    duration_refill = [refill for _, refill in src.durations]

    arrival, end, inst_end = b.arrival, b.end, b.instance_end
    arrival_append, end_append = arrival.append, end.append
    case_append, activity_append = b.instance_case.append, b.instance_activity.append
    enabled_append, start_append = b.instance_enabled.append, b.instance_start.append
    end_slot_append, work_append = inst_end.append, b.instance_work.append
    by_cases = cases_limit is not None
    free: list[simpy.Event] = []   # processed events, to be scheduled again
    free_pop, free_append = free.pop, free.append
    requested = 0   # activity instances requested (started, queued or waiting for a batch)
    started = 0     # activity instance slots written
    finished = 0    # cases that reached the end

    def new_event() -> simpy.Event:
        """An event that is already triggered (like a ``Timeout``) but not yet scheduled."""
        event = simpy.Event(env)
        event._ok = True
        event._value = None
        return event

    def at(t: float, callbacks: list[Callable[[Any], None]], value: Any) -> None:
        """Schedule a (recycled) event at ``t`` that runs ``callbacks`` with ``value``."""
        event = free_pop() if free else new_event()
        event.callbacks = callbacks
        event._value = value
        heappush(calendar, (t, normal, next(event_ids), event))

    # --- FIFO pools: a count of busy servers and a queue -------------------------------------

    busy = [0] * len(plan.pools)
    queues: list[deque[tuple[int, int, float]]] = [deque() for _ in plan.pools]

    def begin(case: int, activity: int, enabled: float, now: float,
              event: simpy.Event | None = None) -> None:
        """Start a plain instance; its end reuses ``event`` when given (the event of the
        instance that just ended on the same server), else a free or new one."""
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
        work_append(delay)
        if event is None:
            event = free_pop() if free else new_event()
        event.callbacks = finish_callbacks
        # The event's value carries the instance; one shared callback serves every case.
        event._value = (case, activity, started)
        started += 1
        heappush(calendar, (now + delay, normal, next(event_ids), event))

    def on_finish(event: simpy.Event) -> None:
        """A plain instance ends: its server takes the next in the queue, the case moves on."""
        case, activity, slot = event._value
        now = env._now  # the clock itself: ``env.now`` is a property call per event
        inst_end[slot] = now
        r = activity_pool[activity]
        if r >= 0 and queues[r]:
            # The first in the queue starts on the server just freed; its end reuses this
            # event.
            next_case, next_activity, enabled = queues[r].popleft()
            begin(next_case, next_activity, enabled, now, event)
        else:
            if r >= 0:
                busy[r] -= 1
            free_append(event)
        advance(case, activity_node[activity], now)

    # --- SERVERS pools: servers with calendars, people, priorities, batches --------------------

    people_durations = src.person_durations
    rank = rank_function(plan, case_attributes)
    ranked = model.priority is not None
    # Whether a calendar is open changes only at a shift's start or end: each calendar's
    # answer is cached with the time until which it holds (Calendar.stretch), so that most
    # checks are one comparison. Simulated time never decreases, so the cache stays exact.
    stretches: dict[int, list[Any]] = {}
    for server in servers:
        for r, cal in server.calendar.items():
            server.shift[r] = (None if cal is None else
                               stretches.setdefault(id(cal), [-math.inf, False, cal]))
    preempt = [model.resources[p].preempt for p in plan.pools]
    # A delay with a calendar elapses in that calendar's working time.
    delay_calendar = [None if (own := model.activities[a].calendar) is None
                      else model.calendar(own) for a in plan.activities]
    batch = [model.activities[a].batch for a in plan.activities]
    pool_queue: list[list[tuple[float, float, int, Unit]]] = [[] for _ in plan.pools]
    batch_buffer: list[list[tuple[int, float]]] = [[] for _ in plan.activities]
    batch_timer = [0] * len(plan.activities)   # generation of the current time-out
    sequence = 0
    server_slot_append, server_person_append = b.server_slot.append, b.server_person.append
    add_seg_pool, add_seg_server = b.segment_pool.append, b.segment_server.append
    add_seg_start, add_seg_end = b.segment_start.append, b.segment_end.append
    add_seg_on = b.segment_on.append

    def on_shift(server: Server, r: int, now: float) -> bool:
        state = server.shift[r]
        if state is None:
            return True
        if now < state[0]:
            return bool(state[1])
        until, is_open = state[2].stretch(now)
        state[0], state[1] = until, is_open
        return bool(is_open)

    def wake_later(server: Server, r: int, now: float) -> None:
        """Wake an idle, off-shift server when its calendar for pool ``r`` next opens."""
        state = server.shift[r]
        if state is not None and not on_shift(server, r, now) and now < state[0]:
            t = state[0]   # the calendar's next opening
        else:
            t = server.calendar[r].next_open(now)
        if server.wake_at is None or t < server.wake_at:
            server.wake_at = t
            at(t, wake_callbacks, server)

    def on_wake(event: simpy.Event) -> None:
        server = event._value
        free_append(event)
        server.wake_at = None
        if not server.busy:
            r = server.pools[0]
            if team[r]:
                now = env._now
                if not serve_team(server, r, now) and team_queue[r]:
                    wake_later(server, r, now)
            else:
                serve_next(server, env._now)

    def serve_next(server: Server, now: float) -> None:
        """A free server takes the most urgent work it may start now, or waits for a shift."""
        best: tuple[float, float, int, Unit] | None = None
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

    # A pool whose servers are in no other pool and share one calendar (or none) is
    # *uniform*: its idle servers are all on shift or all off, and the rule's choice (free
    # the longest, then the pool's order) is the top of a heap of its idle servers. Entries
    # of servers that have started work since are dropped when they come to the top.
    uniform = [all(len(s.pools) == 1 for s in mine) and len({id(s.calendar[r]) for s in mine}) == 1
               for r, mine in enumerate(pool_servers)]
    idle: list[list[tuple[float, int, int, Server]]] = [
        [(0.0, k, k, s) for k, s in enumerate(mine)]
        if uniform[r] or plan.policy[r] == TEAM else []
        for r, mine in enumerate(pool_servers)]
    # Tie-breaker of idle entries (a server may be idle twice at one time), after the first
    # entries' (0 .. servers - 1).
    pushed = len(servers)

    def take_idle(r: int, now: float) -> tuple[Server | None, bool]:
        """The idle server of pool ``r`` the rules pick (free the longest, then the pool's
        order) among those on shift, taken from the heap; and whether idle servers are left
        that are off shift. Stale entries (servers that have worked since) are dropped."""
        heap = idle[r]
        off: list[tuple[float, int, int, Server]] = []
        chosen: Server | None = None
        while heap:
            entry = heappop(heap)
            since, _, _, server = entry
            if server.busy or server.free_since != since:
                continue   # stale: the server has worked since
            state = server.shift[r]
            if state is None or (state[1] if now < state[0] else on_shift(server, r, now)):
                chosen = server
                break
            off.append(entry)
            if uniform[r]:
                break   # one calendar for all: every idle server is off shift
        for entry in off:
            heappush(heap, entry)
        return chosen, bool(off)

    def enqueue(unit: Unit, r: int, now: float) -> None:
        nonlocal sequence
        heappush(pool_queue[r], (unit.rank, now, sequence, unit))
        sequence += 1
        chosen: Server | None = None
        waiting_off = True   # idle servers off shift may be left (checked below)
        if uniform[r]:
            chosen, waiting_off = take_idle(r, now)
        else:
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
            # the head of this queue is the oldest unit waiting (queued off shift) or the
            # unit just queued.
            start(heappop(pool_queue[r])[3], chosen, r, now)
            return
        if uniform[r] and not waiting_off:
            return   # every server is busy (each idle server has an entry in the heap)
        for server in pool_servers[r]:
            if not server.busy:
                wake_later(server, r, now)

    def now_idle(server: Server, now: float) -> None:
        """``server`` became free at ``now`` and found no work it may start."""
        nonlocal pushed
        for r in server.pools:
            if uniform[r]:
                heappush(idle[r], (now, server.order[r], pushed, server))
                pushed += 1

    # Per pool: every server's calendar for it is none or open all the time.
    open_all = [all(s.calendar[r] is None or s.calendar[r].always_open for s in mine)
                for r, mine in enumerate(pool_servers)]

    def occupy(server: Server, activity: int, r: int, now: float) -> tuple[float, float]:
        """``server`` of pool ``r`` starts ``activity`` at ``now``: draw the work, record its
        busy segments, mark the server busy; return (work, the time it ends)."""
        person = server.person
        specific = people_durations[activity].get(person) if person >= 0 else None
        if specific is not None:
            work = specific()
        else:
            try:
                work = duration_pop[activity]()
            except IndexError:
                work = duration_refill[activity]()
            if server.speed != 1.0:
                work = work / server.speed
        cal = server.calendar[r]
        index = server.index
        server.busy = True
        if open_all[r]:
            # No calendar, or one open all the time: add_working_time(now, work) is
            # now + work, and the work is one on-shift segment; an empty span is none with
            # preempt (no open interval in it) and an off-shift one without (``split``).
            finish_at = now + work
            if cal is None or now < finish_at:
                add_seg_pool(r)
                add_seg_server(index)
                add_seg_start(now)
                add_seg_end(finish_at)
                add_seg_on(True)
            elif not preempt[r]:
                add_seg_pool(r)
                add_seg_server(index)
                add_seg_start(now)
                add_seg_end(finish_at)
                add_seg_on(False)
            return work, finish_at
        finish_at = (cal.add_working_time(now, work) if cal is not None and preempt[r]
                     else now + work)
        state = server.shift[r]
        if cal is None or (state[1] and now < finish_at <= state[0]  # type: ignore[index]
                           and now < state[0]):  # type: ignore[index]
            # Within the cached open stretch: one on-shift segment.
            add_seg_pool(r)
            add_seg_server(index)
            add_seg_start(now)
            add_seg_end(finish_at)
            add_seg_on(True)
        else:
            pieces = ([(a, b_, True) for a, b_ in cal.intervals(now, finish_at)]
                      if preempt[r] else split(cal, now, finish_at))
            for a, b_, is_on in pieces:
                add_seg_pool(r)
                add_seg_server(index)
                add_seg_start(a)
                add_seg_end(b_)
                add_seg_on(is_on)
        return work, finish_at

    def start(unit: Unit, server: Server | None, r: int, now: float) -> None:
        nonlocal started
        activity = unit.activity
        items = unit.items
        slot = started
        if server is None:   # a delay with a calendar or a batch
            try:
                work = duration_pop[activity]()
            except IndexError:
                work = duration_refill[activity]()
            own = delay_calendar[activity]
            finish_at = now + work if own is None else own.add_working_time(now, work)
        else:
            work, finish_at = occupy(server, activity, r, now)
            person = server.person
            if person >= 0:
                for k in range(len(items)):
                    server_slot_append(slot + k)
                    server_person_append(person)
        share = work / len(items)
        for case, enabled in items:
            case_append(case)
            activity_append(activity)
            enabled_append(enabled)
            start_append(now)
            end_slot_append(nan)
            work_append(share)
        started += len(items)
        # ``at``, inline.
        event = free_pop() if free else new_event()
        event.callbacks = unit_finish_callbacks
        event._value = (unit, server, r, slot)
        heappush(calendar, (finish_at, normal, next(event_ids), event))

    def on_unit_finish(event: simpy.Event) -> None:
        unit, server, _, slot = event._value
        free_append(event)
        now = env._now
        for k in range(len(unit.items)):
            inst_end[slot + k] = now
        if server is not None:
            server.busy = False
            server.free_since = now
            serve_next(server, now)   # as a FIFO pool: the next one starts first
            if not server.busy:
                now_idle(server, now)
        node = activity_node[unit.activity]
        for case, _ in unit.items:
            advance(case, node, now)

    def request_servers(case: int, activity: int, now: float) -> None:
        """A case requests an activity on the SERVERS path (its pool has that policy, or it
        is a delay with a calendar or a batch)."""
        spec = batch[activity]
        if spec is not None:
            buffer = batch_buffer[activity]
            buffer.append((case, now))
            if len(buffer) >= spec.size:
                release(activity, now)
            elif len(buffer) == 1 and spec.timeout is not None:
                batch_timer[activity] += 1
                at(now + spec.timeout, timeout_callbacks, (activity, batch_timer[activity]))
            return
        unit = Unit(activity, [(case, now)], rank(case) if ranked else 0.0)
        r = activity_pool[activity]
        if r < 0:
            start(unit, None, -1, now)
        else:
            enqueue(unit, r, now)

    def release(activity: int, now: float) -> None:
        items = batch_buffer[activity]
        batch_buffer[activity] = []
        batch_timer[activity] += 1   # cancels a pending time-out
        submit(Unit(activity, items, min(rank(case) for case, _ in items)), now)

    def on_time_out(event: simpy.Event) -> None:
        activity, generation = event._value
        free_append(event)
        if generation == batch_timer[activity] and batch_buffer[activity]:
            release(activity, env._now)

    def submit(unit: Unit, now: float) -> None:
        r = activity_pool[unit.activity]
        if r < 0:
            start(unit, None, -1, now)
        else:
            enqueue(unit, r, now)

    # --- TEAM pools: servers in one pool only, first come first served -----------------------

    team = [policy == TEAM for policy in plan.policy]
    team_queue: list[deque[tuple[int, int, float]]] = [deque() for _ in plan.pools]

    def request_team(case: int, activity: int, now: float) -> None:
        """What ``request_servers`` and ``enqueue`` do, for a TEAM pool: the same rules, with a
        plain queue (no priority, no batch) and servers in this pool only."""
        r = activity_pool[activity]
        queue = team_queue[r]
        heap = idle[r]
        if not queue and heap:
            since, _, _, server = heap[0]
            state = server.shift[r]
            if (not server.busy and server.free_since == since
                    and (state is None or (state[1] if now < state[0]
                                           else on_shift(server, r, now)))):
                heappop(heap)   # the common case: a valid idle server, on shift
                start_team(case, activity, now, server, r, now)
                return
        queue.append((case, activity, now))
        chosen, waiting_off = take_idle(r, now)
        if chosen is not None:
            # The oldest waiting (queued while no server was on shift), else this case.
            next_case, next_activity, enabled = queue.popleft()
            start_team(next_case, next_activity, enabled, chosen, r, now)
        elif waiting_off:   # idle servers, off shift: wake them at their next opening
            for server in pool_servers[r]:
                if not server.busy:
                    wake_later(server, r, now)

    def serve_team(server: Server, r: int, now: float) -> bool:
        """A free server of a TEAM pool takes the oldest waiting case if on shift."""
        queue = team_queue[r]
        if queue and on_shift(server, r, now):
            case, activity, enabled = queue.popleft()
            start_team(case, activity, enabled, server, r, now)
            return True
        return False

    def start_team(case: int, activity: int, enabled: float, server: Server, r: int,
                   now: float) -> None:
        """``start`` for one case on a TEAM pool's server."""
        nonlocal started
        work, finish_at = occupy(server, activity, r, now)
        person = server.person
        slot = started
        if person >= 0:
            server_slot_append(slot)
            server_person_append(person)
        case_append(case)
        activity_append(activity)
        enabled_append(enabled)
        start_append(now)
        end_slot_append(nan)
        work_append(work)
        started += 1
        # ``at``, inline.
        event = free_pop() if free else new_event()
        event.callbacks = team_finish_callbacks
        event._value = (case, activity, slot, server, r)
        heappush(calendar, (finish_at, normal, next(event_ids), event))

    def on_team_finish(event: simpy.Event) -> None:
        nonlocal pushed
        case, activity, slot, server, r = event._value
        free_append(event)
        now = env._now
        inst_end[slot] = now
        server.busy = False
        server.free_since = now
        if not serve_team(server, r, now):   # as a FIFO pool: the next one starts first
            if team_queue[r]:   # work waits, but the pool is off shift
                wake_later(server, r, now)
            heappush(idle[r], (now, server.order[r], pushed, server))
            pushed += 1
        advance(case, activity_node[activity], now)

    # --- routing, for every policy -----------------------------------------------------------

    def advance(case: int, node: int, now: float) -> None:
        """Send the case's token on from ``node`` until it waits, joins or ends."""
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
                i, target = first_match(plan, case_attributes, case, node, data)
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
        """The case's token reaches ``activity``: start it now or queue it, by its path."""
        nonlocal requested
        requested += 1
        if requested > max_instances:
            raise too_many_instances()
        r = fifo_pool[activity]
        if r >= 0:   # a FIFO pool
            if busy[r] == capacity[r]:
                queues[r].append((case, activity, now))
                return
            busy[r] += 1
        elif r == -2:
            request_team(case, activity, now)
            return
        elif r == -3:
            request_servers(case, activity, now)
            return
        begin(case, activity, now, now)

    def too_many_instances() -> SimulationError:
        return SimulationError.at(
            plan.model, ("run", "max_activity_instances"),
            f"more than {max_instances:,} activity instances in one replication; the "
            "model may loop (check rework probabilities) or raise run.max_activity_instances")

    # --- arrivals ----------------------------------------------------------------------------

    times = src.times
    gap_pop, gap_refill = src.gaps if src.gaps is not None else (None, None)

    def on_arrival(event: simpy.Event) -> None:
        now = env._now
        case = len(arrival)
        arrival_append(now)
        end_append(nan)
        for append, draw in attribute_draws:
            append(draw())
        if times is None:   # renewal: the next gap, inline
            try:
                gap = gap_pop()  # type: ignore[misc]
            except IndexError:
                gap = gap_refill()  # type: ignore[misc]
            following = now + gap
        else:
            following = next(times)
        if case + 1 < cases_limit if by_cases else following < duration:  # type: ignore[operator]
            event.callbacks = arrival_callbacks
            heappush(calendar, (following, normal, next(event_ids), event))
        advance(case, 0, now)

    # One shared callback list per kind of event (SimPy only iterates over it).
    finish_callbacks: list[Callable[[Any], None]] = [on_finish]
    unit_finish_callbacks: list[Callable[[Any], None]] = [on_unit_finish]
    wake_callbacks: list[Callable[[Any], None]] = [on_wake]
    timeout_callbacks: list[Callable[[Any], None]] = [on_time_out]
    team_finish_callbacks: list[Callable[[Any], None]] = [on_team_finish]
    arrival_callbacks: list[Callable[[Any], None]] = [on_arrival]
    if times is None:
        try:
            first = gap_pop()  # type: ignore[misc]
        except IndexError:
            first = gap_refill()  # type: ignore[misc]
    else:
        first = next(times)
    if 0 < cases_limit if by_cases else first < duration:  # type: ignore[operator]
        at(first, arrival_callbacks, None)
    env.run()
    b.finished = finished
    return batch_buffer
