"""Property tests: random valid models, and what must hold for every one of them.

Models are built as dictionaries, dumped to YAML and read back with ``parse_model``: a chain
of 1-6 activities with random forward branching, optional rework loops (exit probability
>= 0.3), 1-3 pools sized for an offered load below 0.9, any of the ten distributions, and
optionally a parallel split/join around two activities.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import procsim
from procsim.kpi import RunResult
from procsim.model import expected_visits

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

# Parameters are rounded so the YAML stays short and readable in a failure report.
positive = st.floats(0.2, 10.0).map(lambda x: round(x, 3))


@st.composite
def distributions(draw: st.DrawFn, *, interarrival: bool = False) -> dict[str, Any]:
    """Any of the ten distributions, with valid parameters and a mean of a few time units."""
    kind = draw(st.sampled_from(["fixed", "uniform", "triangular", "normal", "lognormal",
                                 "gamma", "exponential", "erlang", "weibull", "empirical"]))
    low = 0.1 if interarrival else 0.0  # arrivals need a positive mean and a window > 0
    if kind == "fixed":
        return {"dist": kind, "value": draw(positive)}
    if kind == "uniform":
        a = draw(st.floats(low, 5.0).map(lambda x: round(x, 3)))
        return {"dist": kind, "min": a, "max": round(a + draw(positive), 3)}
    if kind == "triangular":
        a = draw(st.floats(low, 5.0).map(lambda x: round(x, 3)))
        b = round(a + draw(positive), 3)
        return {"dist": kind, "min": a, "mode": round(draw(st.floats(a, b)), 3), "max": b}
    if kind in ("normal", "lognormal", "gamma"):
        mean = draw(positive)
        return {"dist": kind, "mean": mean, "sd": round(mean * draw(st.floats(0.05, 1.5)), 3)}
    if kind == "exponential":
        return {"dist": kind, "mean": draw(positive)}
    if kind == "erlang":
        return {"dist": kind, "k": draw(st.integers(1, 6)), "mean": draw(positive)}
    if kind == "weibull":
        return {"dist": kind, "shape": round(draw(st.floats(0.6, 4.0)), 3),
                "scale": draw(positive)}
    values = draw(st.lists(st.floats(low, 10.0).map(lambda x: round(x, 3)),
                           min_size=1, max_size=4))
    if interarrival and max(values) <= 0:
        values = [1.0]
    spec: dict[str, Any] = {"dist": kind, "values": values}
    if draw(st.booleans()):
        spec["weights"] = draw(st.lists(st.integers(1, 5), min_size=len(values),
                                        max_size=len(values)))
    return spec


def _probabilities(weights: dict[str, int]) -> dict[str, float] | str:
    """Normalised weights; a single target is written as a plain name."""
    if len(weights) == 1:
        return next(iter(weights))
    total = sum(weights.values())
    return {name: w / total for name, w in weights.items()}


@st.composite
def models(draw: st.DrawFn) -> dict[str, Any]:
    """A random valid model as a dictionary (capacities still to be sized)."""
    n = draw(st.integers(1, 6))
    chain = [f"task_{i}" for i in range(n)]
    n_pools = draw(st.integers(1, 3))
    pools = [f"pool_{i}" for i in range(n_pools)]
    parallel = draw(st.booleans())
    branches = ["branch_a", "branch_b"] if parallel else []

    activities: dict[str, Any] = {}
    for name in [*branches, *chain]:
        spec: dict[str, Any] = {"duration": draw(distributions())}
        pool = draw(st.sampled_from([None, *pools]))
        if pool is not None:
            spec["resource"] = pool
        if draw(st.booleans()):
            spec["cost"] = draw(st.sampled_from([0, 1.5, 20]))
        activities[name] = spec

    flow: dict[str, Any] = {}
    for i, name in enumerate(chain):
        after = chain[i + 1] if i + 1 < n else "end"
        # Forward: always the next node (so every node is reachable), maybe some later ones.
        weights = {after: draw(st.integers(1, 5))}
        for later in draw(st.lists(st.sampled_from([*chain[i + 2:], "end"]), max_size=2,
                                   unique=True)) if i + 1 < n else []:
            weights[later] = draw(st.integers(1, 5))
        forward = _probabilities(weights)
        rework = draw(st.none() | st.tuples(st.sampled_from(chain[: i + 1]),
                                            st.floats(0.05, 0.7)))
        if rework is None:
            flow[name] = forward
        else:
            back, p = rework[0], round(rework[1], 3)
            probs = forward if isinstance(forward, dict) else {forward: 1.0}
            merged = {t: q * (1 - p) for t, q in probs.items()}
            merged[back] = merged.get(back, 0.0) + p
            flow[name] = merged

    gateways: dict[str, Any] = {}
    first = chain[0]
    if parallel:
        gateways = {"split": {"type": "parallel"}, "join": {"type": "parallel"}}
        flow["start"] = "split"
        flow["split"] = branches
        for b in branches:
            loop = draw(st.booleans())  # a rework loop inside a branch keeps the join matched
            flow[b] = {b: 0.3, "join": 0.7} if loop else "join"
        flow["join"] = first
    else:
        flow["start"] = first

    model: dict[str, Any] = {
        "procsim": 1,
        "name": "Generated",
        "arrivals": {"interarrival": draw(distributions(interarrival=True))},
        "resources": {p: {"capacity": 1, "cost_per_hour": draw(st.sampled_from([0, 30]))}
                      for p in pools},
        "activities": activities,
        "flow": flow,
    }
    if gateways:
        model["gateways"] = gateways
    return model


def sized(model: dict[str, Any]) -> procsim.Model:
    """Parse the model, then give each pool enough capacity for an offered load below 0.9."""
    loads = procsim.offered_load(procsim.parse_model(yaml.safe_dump(model)))
    for name, load in loads.items():
        model["resources"][name]["capacity"] = max(1, math.floor(load.offered_load / 0.85) + 1)
    parsed = procsim.parse_model(yaml.safe_dump(model, sort_keys=False))
    assert all(load.utilization < 0.9 for load in procsim.offered_load(parsed).values())
    return parsed


def simulate(model: procsim.Model, seed: int) -> RunResult:
    return procsim.simulate(model, replications=2, cases=40, seed=seed, keep_records=True)


@SETTINGS
@given(models(), st.integers(0, 2**32))
def test_every_case_finishes_and_the_kpis_are_sane(spec: dict[str, Any], seed: int) -> None:
    model = sized(spec)
    result = simulate(model, seed)
    assert result.records is not None
    parallel = bool(model.gateways)
    tol = 1e-9
    for record, rep in zip(result.records, result.per_replication, strict=True):
        # Arrived = completed: every case ends, after it arrived.
        assert record.cases == 40
        assert np.all(np.isfinite(record.end))
        assert np.all(record.end >= record.arrival)
        assert np.all(record.instance_start >= record.instance_enabled)
        assert np.all(record.instance_end >= record.instance_start)
        c = rep.cases
        assert np.all(c["waiting_time"] >= 0)
        assert np.all(c["processing_time"] >= 0)
        assert np.all(c["delay_time"] >= 0)
        assert np.all(c["cost_per_case"] >= 0)
        busy = c["waiting_time"] + c["processing_time"] + c["delay_time"]
        if parallel:
            # Some token of the case is queued or in service at every instant.
            assert np.all(c["cycle_time"] <= busy + tol * (1 + busy))
        else:
            # One token, and gateways take no time: the cycle is exactly its parts.
            np.testing.assert_allclose(c["cycle_time"], busy, rtol=1e-9, atol=1e-9)
        if not parallel:
            slack = tol * (1 + c["processing_time"])
            assert np.all(c["cycle_time"] >= c["processing_time"] - slack)
        assert np.all(c["cycle_time"] >= 0)
        for name, metrics in rep.resources.items():
            assert -tol <= metrics["utilization"] <= 1 + tol, name
            assert metrics["queue_length"] >= -tol, name
        assert rep.values["wip"] >= -tol
        for name, metrics in rep.activities.items():
            if metrics["count"]:
                assert metrics["waiting_time"] >= 0 and metrics["processing_time"] >= 0, name
    assert result.kpi("cost_per_case").mean >= 0


@SETTINGS
@given(models(), st.integers(0, 2**32))
def test_same_seed_same_result(spec: dict[str, Any], seed: int) -> None:
    model = sized(spec)
    first = json.dumps(simulate(model, seed).to_dict(), sort_keys=True)
    again = json.dumps(simulate(model, seed).to_dict(), sort_keys=True)
    assert first == again


@SETTINGS
@given(models())
def test_generated_models_round_trip_through_yaml(spec: dict[str, Any]) -> None:
    model = sized(spec)
    assert set(model.activities) == set(spec["activities"])
    visits = expected_visits(model)
    # Every case ends exactly once, and every activity is visited (all are reachable).
    assert visits["end"] == pytest.approx(1.0)
    assert all(visits[name] > 0 for name in model.activities)


CALENDARS = {
    "office": [{"days": "mon-fri", "from": "09:00", "to": "17:00"}],
    "late": [{"days": "mon-sat", "from": "12:00", "to": "21:30"}],
    "always": [{"days": "all", "from": "00:00", "to": "24:00"}],
}


@st.composite
def staffed(draw: st.DrawFn) -> dict[str, Any]:
    """A random model whose pools get shifts and people: each pool stays anonymous or gets
    named members (speeds, own calendars), a calendar or none, preempt or not."""
    model = draw(models())
    model["start"] = "2026-01-05T07:00:00"
    model["calendars"] = CALENDARS
    people: dict[str, Any] = {}
    for k, name in enumerate(model["resources"]):
        spec = model["resources"][name]
        spec["capacity"] = draw(st.integers(1, 3))
        calendar = draw(st.sampled_from([None, *CALENDARS]))
        if calendar is not None:
            spec["calendar"] = calendar
            spec["preempt"] = draw(st.booleans())
        if draw(st.booleans()):
            earlier = list(people)
            members = [f"person_{k}_{i}" for i in range(draw(st.integers(1, 3)))]
            for person in members:
                people[person] = {
                    "speed": draw(st.sampled_from([1.0, 0.8, 1.25])),
                    **({"calendar": c} if (c := draw(st.sampled_from([None, *CALENDARS])))
                       else {}),
                }
            if earlier and draw(st.booleans()):
                # Someone of an earlier pool too (SERVERS), with a calendar and a cost of their
                # own: the model check asks for them when the pools' differ.
                members.append(earlier[0])
                people[earlier[0]]["calendar"] = draw(st.sampled_from(list(CALENDARS)))
                people[earlier[0]]["cost_per_hour"] = 25
            spec["members"] = members
            del spec["capacity"]
    if people:
        model["people"] = people
    return model


@SETTINGS
@given(staffed(), st.integers(0, 2**32))
def test_every_policy_gives_the_servers_policys_records(spec: dict[str, Any],
                                                         seed: int) -> None:
    """Pools with shifts and people, on the policies the engine picks for them (FIFO, TEAM),
    give the records of the general SERVERS policy bit for bit: instances, integrals, flows,
    who did the work, the work, and the busy segments of the pools that keep them."""
    from procsim.engine import compile_model, run_replication
    from procsim.engine.plan import FIFO

    model = procsim.parse_model(yaml.safe_dump(spec, sort_keys=False))
    plan, general = compile_model(model), compile_model(model, general=True)
    a = run_replication(plan, seed=seed, replication=0, cases=120)
    b = run_replication(general, seed=seed, replication=0, cases=120)
    for field in ("arrival", "end", "instance_case", "instance_activity", "instance_enabled",
                  "instance_start", "instance_end", "busy_area", "queue_area", "wip_area",
                  "flow", "instance_server", "instance_work"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    kept = np.isin(b.busy_pool, [r for r, p in enumerate(plan.policy) if p != FIFO])
    for field in ("busy_pool", "busy_server", "busy_start", "busy_end", "busy_on_shift"):
        assert np.array_equal(getattr(a, field), getattr(b, field)[kept]), field
