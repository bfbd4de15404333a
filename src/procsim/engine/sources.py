"""The random sources of one replication, each on its own stream.

Invariants: every source draws from the stream named after it (``"arrivals"``,
``"duration:<activity>"``, ``"duration:<activity>:<person>"``, ``"route:<node>"``,
``"attribute:<name>"``) of the replication's :class:`~procsim.rng.RandomStreams`, in blocks
of :data:`BLOCK`; a source that is never used draws nothing. Changing one activity leaves
every other source's draws alone (common random numbers).

A *buffered* source is a pair ``(pop, refill)``: ``pop()`` hands out the next number of the
current block and raises ``IndexError`` when the block is used up; ``refill()`` draws the
next block and returns its first number. Calling ``list.pop`` directly, with the refill in
an ``except``, saves a Python-level call per draw on the hot path.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from procsim.engine.plan import CHOICE, Plan
from procsim.rng import RandomStreams

__all__ = ["BLOCK", "Buffered", "Sources", "categorical_sampler", "uniform_source"]

#: Numbers drawn from numpy at a time, per source.
BLOCK = 1024

Buffered = tuple[Callable[[], float], Callable[[], float]]


def uniform_source(rng: np.random.Generator) -> Buffered:
    """Uniforms on [0, 1), buffered."""
    buffer: list[float] = []

    def refill() -> float:
        buffer.extend(rng.random(BLOCK).tolist()[::-1])
        return buffer.pop()

    return buffer.pop, refill


def categorical_sampler(rng: np.random.Generator, values: list[str],
                        cumulative: list[float]) -> Callable[[], str]:
    """Draws of ``values`` with the cumulative probabilities ``cumulative`` (without the
    last, which is 1)."""
    pop, refill = uniform_source(rng)

    def draw() -> str:
        try:
            u = pop()
        except IndexError:
            u = refill()
        return values[bisect_right(cumulative, u)]

    return draw


@dataclass
class Sources:
    """Every random source of one replication of ``plan``."""

    #: renewal arrivals: the gaps, buffered; ``None`` with a rate profile or calendar
    gaps: Buffered | None
    #: arrival times (rate profiles, arrival calendars); ``None`` for plain renewals
    times: Iterator[float] | None
    #: per activity: its duration, buffered
    durations: list[Buffered]
    #: per activity: person index -> that person's own duration draw
    person_durations: list[dict[int, Callable[[], float]]]
    #: per node: the uniform source of a choice, else ``None``
    routes: list[Buffered | None]
    #: per attribute: (append to the case values, draw)
    attributes: list[tuple[Callable[[Any], None], Callable[[], Any]]]
    #: per attribute: the values of the cases so far, in order of arrival
    case_attributes: list[list[Any]]

    @classmethod
    def of(cls, plan: Plan, streams: RandomStreams) -> Sources:
        model = plan.model
        arrivals = model.arrivals
        gaps = times = None
        if arrivals.rate is None and arrivals.calendar is None:
            assert arrivals.interarrival is not None
            gaps = arrivals.interarrival.buffered(streams.generator("arrivals"), BLOCK)
        else:
            times = model.arrival_process().times(streams.generator("arrivals"), block=BLOCK)
        durations = [model.activities[a].duration.buffered(streams.generator(f"duration:{a}"),
                                                            BLOCK) for a in plan.activities]
        people = list(model.people)
        person_durations = [
            {people.index(p): dist.sampler(streams.generator(f"duration:{a}:{p}"), BLOCK)
             for p, dist in (model.activities[a].durations or {}).items()}
            for a in plan.activities]
        routes = [uniform_source(streams.generator(f"route:{plan.nodes[i]}"))
                  if form == CHOICE else None for i, (form, _) in enumerate(plan.routes)]
        case_attributes: list[list[Any]] = [[] for _ in plan.attributes]
        attributes: list[tuple[Callable[[Any], None], Callable[[], Any]]] = []
        for k, name in enumerate(plan.attributes):
            spec = model.attributes[name]
            rng = streams.generator(f"attribute:{name}")
            draw: Callable[[], Any]
            if isinstance(spec, dict):
                cumulative = np.cumsum(list(spec.values())).tolist()[:-1]
                draw = categorical_sampler(rng, list(spec), cumulative)
            else:
                draw = spec.sampler(rng, BLOCK)
            attributes.append((case_attributes[k].append, draw))
        return cls(gaps, times, durations, person_durations, routes, attributes,
                   case_attributes)
