"""What a replication leaves behind, and the time integrals rebuilt from it.

Invariants of a :class:`ReplicationRecord`: cases are numbered in order of arrival and
every case has ended (``end`` has no NaN); activity instances are in order of start, each
with ``enabled <= start <= end``; ``busy_area``/``queue_area`` (cases × pools) and
``wip_area`` (cases) are non-decreasing down each column; busy segments lie within their
instance's ``[start, end]`` and never overlap on one server.

The integrals are not kept up to date while running: :func:`build_record` rebuilds them
from the recorded times, adding the same products in the same order as an engine that
ticks at every change, so the result is bit for bit what that engine would give.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from procsim.engine.plan import FIFO, Plan

__all__ = ["CHUNK", "Buffers", "ReplicationRecord", "build_record", "integrals_at",
           "pool_integrals", "segment_integrals", "wip_integral"]


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
    #: per instance: the person who did it (index in ``model.people``), -1 for anonymous
    #: servers and delays
    instance_server: np.ndarray | None = None
    #: per instance: the work it took (its duration draw; a batch's shared by its cases)
    instance_work: np.ndarray | None = None
    #: the staff: one :class:`~procsim.engine.plan.ServerInfo` per server (person, pools,
    #: and per pool its calendar's name, cost per hour and order), the plan's table
    servers: tuple[Any, ...] = ()
    # Busy segments of the servers of pools on the TEAM and SERVERS policies (empty arrays
    # when there are none): pool, server (index in ``servers``), start, end, and whether
    # the server was on shift (see :mod:`procsim.engine.pools`).
    busy_pool: np.ndarray | None = None
    busy_server: np.ndarray | None = None
    busy_start: np.ndarray | None = None
    busy_end: np.ndarray | None = None
    busy_on_shift: np.ndarray | None = None

    @property
    def cases(self) -> int:
        return len(self.arrival)



def pool_integrals(arrival: np.ndarray, enabled: np.ndarray, start: np.ndarray,
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

    busy, queued = integrals_at(ticks, arrival, counts)
    return busy, queued


def wip_integral(arrival: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Time integral of the cases in the system at each arrival (as ``pool_integrals``).

    The engine's ticks are the arrivals and the ends of cases.
    """
    end = np.sort(end)
    ticks = np.concatenate((arrival, end))
    ticks.sort(kind="stable")

    def counts(previous: np.ndarray) -> tuple[np.ndarray]:
        return (np.searchsorted(arrival, previous, side="right")
                - np.searchsorted(end, previous, side="right"),)

    (wip,) = integrals_at(ticks, arrival, counts)
    return wip


#: Ticks handled at once when rebuilding time integrals: bounds the temporary memory.
CHUNK = 1 << 16


def integrals_at(ticks: np.ndarray, arrival: np.ndarray,
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
    for lo in range(0, len(ticks), CHUNK):
        t = ticks[lo:lo + CHUNK]
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



def segment_integrals(arrival: np.ndarray, enabled: np.ndarray, start: np.ndarray,
               busy_start: np.ndarray, busy_end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Time integrals of one pool's busy servers and queue length at each arrival.

    As :func:`pool_integrals`, with busy time from the busy segments and
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

    busy, queued = integrals_at(ticks, arrival, counts)
    return busy, queued


class Buffers:
    """The compact buffers one replication appends to while it runs (``array.array``).

    Invariants: ``arrival``/``end`` have one entry per case that arrived (``end`` NaN until
    the case ends); the ``instance_*`` buffers one entry per activity instance started, in
    order of start (``instance_end`` NaN until it ends); ``server_slot``/``server_person``
    name the instance slots done by a person (every other slot is anonymous or a delay);
    the ``segment_*`` buffers hold the busy segments of pools not on the FIFO policy.
    """

    __slots__ = ("arrival", "case_attributes", "end", "finished", "flow", "instance_activity",
                 "instance_case", "instance_enabled", "instance_end", "instance_start",
                 "instance_work", "segment_end", "segment_on", "segment_pool",
                 "segment_server", "segment_start", "server_person", "server_slot")

    def __init__(self, plan: Plan, case_attributes: list[list[Any]]) -> None:
        self.arrival, self.end = array("d"), array("d")
        self.instance_case, self.instance_activity = array("q"), array("h")
        self.instance_enabled, self.instance_start = array("d"), array("d")
        self.instance_end, self.instance_work = array("d"), array("d")
        self.server_slot, self.server_person = array("q"), array("i")
        self.segment_pool, self.segment_server = array("h"), array("i")
        self.segment_start, self.segment_end = array("d"), array("d")
        self.segment_on = array("b")
        self.flow = [0] * len(plan.edges)
        self.case_attributes = case_attributes
        self.finished = 0


def build_record(plan: Plan, replication: int, b: Buffers) -> ReplicationRecord:
    """The record of a finished replication, with its time integrals rebuilt.

    Arrays are views of the buffers, not copies: at a million cases a copy would be 100 MB
    more.
    """
    arrival = np.frombuffer(b.arrival, dtype=np.float64)
    end = np.frombuffer(b.end, dtype=np.float64)
    instance_activity = np.frombuffer(b.instance_activity, dtype=np.int16)
    instance_enabled = np.frombuffer(b.instance_enabled, dtype=np.float64)
    instance_start = np.frombuffer(b.instance_start, dtype=np.float64)
    instance_end = np.frombuffer(b.instance_end, dtype=np.float64)
    busy_pool = np.frombuffer(b.segment_pool, dtype=np.int16)
    busy_start = np.frombuffer(b.segment_start, dtype=np.float64)
    busy_end = np.frombuffer(b.segment_end, dtype=np.float64)
    n, n_pools = len(arrival), len(plan.pools)
    busy_area, queue_area = np.empty((n, n_pools)), np.empty((n, n_pools))
    pool = np.asarray(plan.activity_pool, dtype=np.int16)[instance_activity]
    for r in range(n_pools):
        mask = pool == r
        if plan.policy[r] != FIFO:
            segment = busy_pool == r
            busy_area[:, r], queue_area[:, r] = segment_integrals(
                arrival, instance_enabled[mask], instance_start[mask], busy_start[segment],
                busy_end[segment])
        else:
            busy_area[:, r], queue_area[:, r] = pool_integrals(
                arrival, instance_enabled[mask], instance_start[mask], instance_end[mask])
        del mask
    attributes = {}
    for k, name in enumerate(plan.attributes):
        values = b.case_attributes[k]
        attributes[name] = (np.array(values, dtype=np.float64)
                            if values and not isinstance(values[0], str)
                            else np.array(values, dtype=object))
    instance_server = np.full(len(instance_activity), -1, dtype=np.int32)
    instance_server[np.frombuffer(b.server_slot, dtype=np.int64)] = np.frombuffer(
        b.server_person, dtype=np.int32)
    return ReplicationRecord(
        replication=replication, arrival=arrival, end=end,
        instance_case=np.frombuffer(b.instance_case, dtype=np.int64),
        instance_activity=instance_activity, instance_enabled=instance_enabled,
        instance_start=instance_start, instance_end=instance_end,
        busy_area=busy_area, queue_area=queue_area, wip_area=wip_integral(arrival, end),
        attributes=attributes, flow=np.array(b.flow, dtype=np.int64),
        instance_server=instance_server,
        instance_work=np.frombuffer(b.instance_work, dtype=np.float64),
        servers=plan.servers,
        busy_pool=busy_pool,
        busy_server=np.frombuffer(b.segment_server, dtype=np.int32),
        busy_start=busy_start, busy_end=busy_end,
        busy_on_shift=np.frombuffer(b.segment_on, dtype=np.int8).astype(bool),
    )
