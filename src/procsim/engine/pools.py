"""Pools, their servers and the rules of the policies with servers.

Each pool has a policy (:attr:`procsim.engine.plan.Plan.policy`):

* **FIFO** — anonymous interchangeable servers, always on shift (no calendar, or one open
  every hour without holidays), first come first served: a count of busy servers and a
  queue; nothing per server, no busy segments. The cost of a case's step is one comparison
  and an append.
* **TEAM** — servers in this pool only (anonymous on the pool's calendar, or members on
  theirs), no priority, no batch: the SERVERS rules below, with a plain queue and the idle
  servers in a heap ordered as the rules pick them.
* **SERVERS** — the general case (priorities, batches, people in several pools): one
  :class:`Server` per server, one priority queue per pool. Its rules:

  - *Queues.* Ordered by (priority rank, time the work was queued, sequence number);
    without ``priority`` every rank is 0 and the queue is first come, first served.
    Non-preemptive: work in progress is never interrupted by a more urgent case.
  - *Starting work.* A server starts work only while its calendar (for that pool) is open.
    Work queued while no server of the pool is on shift waits; each idle server that is
    off shift is woken at its calendar's next opening (``Calendar.next_open``).
  - *Which server.* When work arrives and several servers of the pool are free and on
    shift, the one that has been free the longest takes it (ties: the pool's order of
    members, or of anonymous servers). When a server becomes free or comes on shift, it
    takes the most urgent waiting work among all its pools on whose calendar it is on
    shift: lowest (rank, queued time, sequence number), which is unique.
  - *End of a shift.* Work running at the end of a shift continues to its end (overtime)
    by default. With the pool's ``preempt: true`` it pauses at the end of the shift and
    resumes at the next opening on the same server: it ends at
    ``calendar.add_working_time(start, duration)``.
  - *Durations.* ``activity.durations[person]`` when given (its own stream,
    ``"duration:<activity>:<person>"``, not divided by speed), else a draw of
    ``activity.duration`` (stream ``"duration:<activity>"``) divided by the server's speed.
  - *Batches.* A case reaching an activity with ``batch`` waits until ``size`` cases are
    there, or until ``timeout`` after the first of them arrived; the batch then joins the
    pool's queue as one unit (rank: the most urgent of its cases; queued: when it formed),
    takes one server and one duration draw, and all its cases start and end together.
    Each case keeps its own activity instance (``enabled``: when it reached the activity).
    Busy time counts once per batch.

  Busy time is recorded as *segments* (pool, server, start, end, on shift or not): one
  per unit of work, split where the server's calendar opens or closes, and, with
  ``preempt``, without the pauses. Utilisation against on-shift time and the cost of idle
  time are computed from them in :mod:`procsim.kpi`.

A FIFO or TEAM pool forced onto the SERVERS policy (``compile_model(model, general=True)``)
gives the same records bit for bit (busy segments aside, which a FIFO pool does not keep):
the same draws, the same arithmetic and the same order of events (``tests/test_realism.py``
checks it).

Invariants: a server is busy with at most one unit; an idle server on shift for a pool
never coexists with waiting work of that pool it may start (it would have taken it), so
work that arrives to an idle on-shift server starts at once; ``wake_at`` is the earliest
pending wake-up of an idle server, if any.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from procsim.engine.plan import Plan, pool_members

__all__ = ["Server", "Unit", "build_servers", "rank_function", "split"]


class Server:
    """One server while a replication runs: an anonymous member of a pool, or a person
    (in one or more pools)."""

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


class Unit:
    """Work that takes one server: one case's instance, or a batch of them."""

    __slots__ = ("activity", "items", "rank")

    def __init__(self, activity: int, items: list[tuple[int, float]], rank: float) -> None:
        self.activity = activity
        self.items = items   # (case, enabled)
        self.rank = rank


def build_servers(plan: Plan) -> tuple[list[Server], list[list[Server]]]:
    """The servers of one replication (from ``plan.servers``, calendars compiled) and, per
    pool, its servers in the pool's order."""
    model = plan.model
    servers: list[Server] = []
    for info in plan.servers:
        server = Server(info.index, info.person, info.speed)
        server.pools = list(info.pools)
        server.calendar = {r: model.calendar(name) if name else None
                           for r, name in info.calendar.items()}
        server.cost = dict(info.cost)
        server.order = dict(info.order)
        servers.append(server)
    return servers, [[servers[i] for i in mine]
                     for mine in pool_members(plan.servers, len(plan.pools))]


def rank_function(plan: Plan, case_attributes: list[list[Any]]) -> Callable[[int], float]:
    """Priority rank of a case (lower first); 0 for every case without ``priority``."""
    priority = plan.model.priority
    if priority is None:
        return lambda case: 0.0
    values = case_attributes[plan.attributes.index(priority.attribute)]
    if priority.order is not None:
        rank_of = {v: float(k) for k, v in enumerate(priority.order)}
        return lambda case: rank_of[values[case]]
    return lambda case: float(values[case])


def split(calendar: Any, a: float, b: float) -> list[tuple[float, float, bool]]:
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

