"""A checked model compiled to integer-indexed tables, shared by every replication.

Invariants of a :class:`Plan`:

* node 0 is ``start``, node 1 is ``end``, then the activities in the model's order, then
  the gateways; ``kind[i]`` is one of ``START, END, ACTIVITY, GATEWAY, JOIN`` (a parallel
  gateway with more than one incoming flow is a ``JOIN``, counted by ``join_inputs``);
* ``routes[i]`` is ``(form, data)`` with ``form`` one of the normalised route types
  ``NEXT`` (data: target node, ``-1`` for ``end``), ``CHOICE`` (data: cumulative
  probabilities without the last, target nodes), ``PARALLEL`` (data: target nodes) or
  ``CONDITIONS`` (data: ``(predicates, target)`` per branch, predicates as
  ``(attribute index, test)``);
* ``edges`` lists every sequence flow in ``routes`` order and ``edge_base[i]`` is the index
  of node ``i``'s first outgoing flow, so a route's ``k``-th target is edge
  ``edge_base[i] + k``;
* ``policy[r]`` is the policy of pool ``r`` (:data:`FIFO`, :data:`TEAM` or
  :data:`SERVERS`, see :mod:`procsim.engine.pools`) and ``path[a]`` the one activity ``a``
  takes: its pool's, or for a delay :data:`FIFO` (plain) or :data:`SERVERS` (a delay
  with a calendar or a batch);
* a plan holds no runtime state: it is picklable and every replication reads it only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from procsim.errors import SimulationError, quote, readable
from procsim.model.check import expected_visits
from procsim.model.graph import flow_edges, flow_kind, parse_condition
from procsim.model.schema import Model

__all__ = ["ACTIVITY", "CHOICE", "CONDITIONS", "END", "FIFO", "GATEWAY", "JOIN", "NEXT",
           "PARALLEL", "SERVERS", "START", "TEAM", "Plan", "ServerInfo", "compile_model",
           "first_match", "pool_members",
           "realistic_features"]

# Node kinds.
START, END, ACTIVITY, GATEWAY, JOIN = range(5)
# Normalised route types.
NEXT, CHOICE, CONDITIONS, PARALLEL = range(4)
# Pool policies.
FIFO, TEAM, SERVERS = range(3)


@dataclass(frozen=True)
class ServerInfo:
    """One server of the model, as data: an anonymous member of a pool, or a person (one
    server per person even when they belong to several pools), with, per pool, its
    calendar's name (``None``: always on shift), its cost per hour and its position among
    the pool's servers (the members' order)."""

    index: int
    #: index in ``model.people``, -1 for an anonymous server
    person: int
    pools: tuple[int, ...]
    calendar: dict[int, str | None]
    cost: dict[int, float]
    order: dict[int, int]
    speed: float = 1.0


@dataclass(frozen=True)
class Plan:
    """A model compiled to integer-indexed tables (picklable, shared by replications)."""

    model: Model
    nodes: tuple[str, ...]
    kind: tuple[int, ...]
    #: per node: (form, data); see the module docstring
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
    #: every pool on the :data:`SERVERS` policy (a cross-check for tests; same records)
    general: bool = False
    #: expected activity instances per case, from the traffic equations (at least 1)
    instances_per_case: float = 1.0
    #: pool index -> :data:`FIFO`, :data:`TEAM` or :data:`SERVERS`
    policy: tuple[int, ...] = ()
    #: activity index -> the policy whose path it takes
    path: tuple[int, ...] = ()
    #: every server of every pool (:func:`server_table`)
    servers: tuple[ServerInfo, ...] = ()


def realistic_features(model: Model) -> list[str]:
    """The parts of a model beyond plain FIFO pools and renewal arrivals (empty: none).

    They decide which KPIs a model has (``cost_per_case_with_idle``, the on-shift KPIs of
    :mod:`procsim.kpi`); which policy each pool runs on is decided pool by pool
    (``Plan.policy``), never for the whole model.
    """
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


def _policies(model: Model, pools: tuple[str, ...], activities: tuple[str, ...],
              general: bool) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Each pool's policy, and the path each activity takes.

    * :data:`FIFO`: anonymous servers without a calendar (or on one open every hour of
      every day, without holidays, which changes nothing), in a model without priority,
      none of the pool's activities forming batches;
    * :data:`TEAM`: otherwise, still without priority and batches, when the pool's servers
      are in no other pool: anonymous servers on the pool's calendar, or members (each on
      their own calendar or the pool's);
    * :data:`SERVERS`: the rest (priorities, batches, people in several pools), and every
      pool with ``general``.

    A delay (no pool) takes the FIFO path unless it has a calendar or a batch.
    """
    batched = {model.activities[a].resource for a in activities
               if model.activities[a].batch is not None}
    pools_of: dict[str, int] = {}
    for spec in model.resources.values():
        for person in spec.members or ():
            pools_of[person] = pools_of.get(person, 0) + 1
    policy = []
    for name in pools:
        spec = model.resources[name]
        if general or model.priority is not None or name in batched:
            policy.append(SERVERS)
        elif spec.members is None and (spec.calendar is None
                                       or model.calendar(spec.calendar).always_open):
            policy.append(FIFO)   # a calendar open every hour, without holidays, is none
        elif spec.members is None:
            policy.append(TEAM)
        else:
            alone = all(pools_of[p] == 1 for p in spec.members)
            policy.append(TEAM if alone else SERVERS)
    path = []
    for a in activities:
        activity = model.activities[a]
        if activity.resource is None:
            plain = not general and activity.batch is None and activity.calendar is None
            path.append(FIFO if plain else SERVERS)
        else:
            path.append(policy[pools.index(activity.resource)])
    return tuple(policy), tuple(path)


def compile_model(model: Model, *, general: bool = False) -> Plan:
    """Compile a checked model into a :class:`Plan` for :func:`~procsim.engine.run_replication`.

    Each pool gets its policy from what it uses (:func:`_policies`): a plain pool costs
    what it costs in a model without any realistic feature, whatever the other pools use.
    ``general=True`` puts every pool on the :data:`SERVERS` policy (it gives the FIFO
    policy's records bit for bit; a cross-check for tests).
    """
    realistic = bool(realistic_features(model))
    activities = tuple(model.activities)
    gateways = tuple(model.gateways)
    nodes = ("start", "end", *activities, *gateways)
    index = {n: i for i, n in enumerate(nodes)}
    pools = tuple(model.resources)
    pool_index = {p: i for i, p in enumerate(pools)}

    in_degree = dict.fromkeys(nodes, 0)
    for _, target, _ in flow_edges(model):   # one edge per (source, target)
        in_degree[target] += 1
    kind: list[int] = [START, END]
    kind += [ACTIVITY] * len(activities)
    join_inputs: dict[int, int] = {}
    for name in gateways:
        gw = model.gateways[name]
        if gw.type == "parallel" and in_degree[name] > 1:
            kind.append(JOIN)
            join_inputs[index[name]] = in_degree[name]
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

    policy, path = _policies(model, pools, activities, general)
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
        general=general,
        instances_per_case=_instances_per_case(model),
        policy=policy,
        path=path,
        servers=server_table(model, pools),
    )


def server_table(model: Model, pools: tuple[str, ...]) -> tuple[ServerInfo, ...]:
    """Every pool's servers: ``capacity`` anonymous ones, or its named ``members``. A
    server has, for each of its pools, a calendar (the person's own, else the pool's), a
    cost per hour (the person's, else the pool's), and a speed."""
    people = list(model.people)
    rows: list[dict[str, Any]] = []
    by_person: dict[str, dict[str, Any]] = {}
    for r, name in enumerate(pools):
        spec = model.resources[name]
        if spec.members:
            for k, person in enumerate(spec.members):
                p = model.people[person]
                row = by_person.get(person)
                if row is None:
                    row = by_person[person] = {"person": people.index(person), "speed": p.speed,
                                               "pools": [], "calendar": {}, "cost": {},
                                               "order": {}}
                    rows.append(row)
                row["pools"].append(r)
                row["calendar"][r] = p.calendar or spec.calendar
                row["cost"][r] = (p.cost_per_hour if p.cost_per_hour is not None
                                  else spec.cost_per_hour)
                row["order"][r] = k
        else:
            rows += [{"person": -1, "speed": 1.0, "pools": [r], "calendar": {r: spec.calendar},
                      "cost": {r: spec.cost_per_hour}, "order": {r: k}}
                     for k in range(spec.capacity)]
    return tuple(ServerInfo(i, row["person"], tuple(row["pools"]), row["calendar"], row["cost"],
                            row["order"], row["speed"]) for i, row in enumerate(rows))


def pool_members(servers: tuple[ServerInfo, ...], pools: int) -> list[list[int]]:
    """Per pool, the indices of its servers in the pool's order (the members' order)."""
    slots: list[dict[int, int]] = [{} for _ in range(pools)]
    for info in servers:
        for r in info.pools:
            slots[r][info.order[r]] = info.index
    return [[mine[k] for k in sorted(mine)] for mine in slots]


def _instances_per_case(model: Model) -> float:
    """Expected activity instances per case (the traffic equations' visits), at least 1."""
    visits = expected_visits(model)
    total = sum(visits[a] for a in model.activities)
    return total if math.isfinite(total) and total > 1 else 1.0


def _pool_of(model: Model, activity: str, pool_index: dict[str, int]) -> int:
    resource = model.activities[activity].resource
    return -1 if resource is None else pool_index[resource]


def first_match(plan: Plan, case_attributes: list[list[Any]], case: int, node: int,
                branches: Any) -> tuple[int, int]:
    """(branch index, target node) of the first branch of ``node`` whose conditions ``case``
    meets; raises :class:`~procsim.errors.SimulationError` when none does."""
    for i, (predicates, target) in enumerate(branches):
        if all(p(case_attributes[k][case]) for k, p in predicates):
            return i, int(target)
    values = {a: case_attributes[k][case] for k, a in enumerate(plan.attributes)}
    raise SimulationError.at(
        plan.model, ("flow", plan.nodes[node]),
        f"no branch of {quote(plan.nodes[node])} matches case {case} with attributes "
        f"{readable(repr(values))}; add a default branch without 'when'")
