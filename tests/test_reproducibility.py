"""Same seed ⇒ same result; one random stream per source ⇒ common random numbers.

See STYLE.md, "Randomness": one stream per (replication, source), keyed by a stable hash of
the source name. Changing one activity must leave every other stream's draws alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import procsim
from procsim import rng as rng_module
from procsim.engine import ReplicationRecord, compile_model
from procsim.rng import RandomStreams, stream_key

MODEL = """\
procsim: 1
name: Common random numbers
arrivals:
  interarrival: {dist: exponential, mean: 5}
attributes:
  tier: {gold: 0.3, silver: 0.7}
resources:
  clerk: {capacity: 2}
  manager: {capacity: 1}
activities:
  triage: {resource: clerk, duration: {dist: exponential, mean: 6}}
  approve: {resource: clerk, duration: {dist: gamma, mean: 3, sd: 1}}
  wait_customer: {duration: {dist: lognormal, mean: 20, sd: 10}}
  review: {resource: manager, duration: {dist: triangular, min: 1, mode: 2, max: 4}}
gateways:
  escalate: {type: exclusive}
flow:
  start: triage
  triage: {approve: 0.6, wait_customer: 0.3, end: 0.1}
  wait_customer: approve
  approve: escalate
  escalate:
    - {to: review, when: {tier: gold}}
    - {to: end}
  review: {approve: 0.2, end: 0.8}
"""

CASES = 300


def run(text: str = MODEL, *, seed: int = 11, replications: int = 2, jobs: int = 1,
        keep_records: bool = False) -> procsim.RunResult:
    model = procsim.parse_model(text, file="crn.yaml")
    return procsim.simulate(model, replications=replications, cases=CASES, seed=seed, jobs=jobs,
                            keep_records=keep_records)


def as_json(result: procsim.RunResult) -> str:
    return json.dumps(result.to_dict(), sort_keys=True)


# --- same seed, same result ---------------------------------------------------------------------


def test_same_seed_gives_identical_results() -> None:
    assert as_json(run(seed=5)) == as_json(run(seed=5))


def test_serial_and_parallel_runs_are_identical() -> None:
    serial = run(seed=5, replications=3, jobs=1, keep_records=True)
    parallel = run(seed=5, replications=3, jobs=2, keep_records=True)
    assert as_json(serial) == as_json(parallel)
    assert serial.records is not None and parallel.records is not None
    for a, b in zip(serial.records, parallel.records, strict=True):
        for field in ("arrival", "end", "instance_case", "instance_activity", "instance_start",
                      "instance_end", "busy_area"):
            assert np.array_equal(getattr(a, field), getattr(b, field)), field


def test_a_replication_does_not_depend_on_how_many_are_run() -> None:
    three, five = run(seed=5, replications=3), run(seed=5, replications=5)
    for a, b in zip(three.per_replication, five.per_replication[:3], strict=True):
        assert np.array_equal(a.cases["cycle_time"], b.cases["cycle_time"])
        assert a.resources == b.resources


def test_different_seeds_give_different_results() -> None:
    a, b = run(seed=1), run(seed=2)
    assert a.kpi("cycle_time").mean != b.kpi("cycle_time").mean
    assert not np.array_equal(a.per_replication[0].cases["cycle_time"],
                              b.per_replication[0].cases["cycle_time"])
    # Replications of one run differ from each other too.
    assert not np.array_equal(a.per_replication[0].cases["cycle_time"],
                              a.per_replication[1].cases["cycle_time"])


def test_the_seed_is_recorded_even_when_drawn() -> None:
    model = procsim.parse_model(MODEL)
    drawn = procsim.simulate(model, replications=2, cases=50)
    assert isinstance(drawn.seed, int) and drawn.to_dict()["seed"] == drawn.seed
    again = procsim.simulate(model, replications=2, cases=50, seed=drawn.seed)
    assert as_json(again) == as_json(drawn)


# --- common random numbers ----------------------------------------------------------------------


def durations(record: ReplicationRecord, activity: int) -> np.ndarray:
    """Sampled durations of one activity, in order of service start (= order of sampling)."""
    mask = record.instance_activity == activity
    return (record.instance_end - record.instance_start)[mask]


def decisions(record: ReplicationRecord, activity: int, activities: tuple[str, ...]) -> list[str]:
    """Where the case went after each instance of ``activity``, in order of completion.

    The engine draws the route when an instance finishes, so this is the sequence of draws
    of the activity's route stream.
    """
    order = np.flatnonzero(record.instance_activity == activity)
    order = order[np.argsort(record.instance_end[order], kind="stable")]
    out = []
    for i in order:
        case, t = record.instance_case[i], record.instance_end[i]
        following = np.flatnonzero((record.instance_case == case) & (record.instance_enabled == t)
                                   & (np.arange(len(record.instance_case)) != i))
        if following.size:
            out.append(activities[record.instance_activity[following[0]]])
        else:
            assert record.end[case] == t
            out.append("end")
    return out


@pytest.fixture(scope="module")
def crn_pair() -> tuple[procsim.RunResult, procsim.RunResult]:
    base = run(keep_records=True)
    faster = run(MODEL.replace("mean: 6}", "mean: 5}"), keep_records=True)
    return base, faster


def test_changing_one_activity_changes_the_run(
        crn_pair: tuple[procsim.RunResult, procsim.RunResult]) -> None:
    base, faster = crn_pair
    assert base.kpi("cycle_time").mean != faster.kpi("cycle_time").mean
    assert faster.activity("triage", "processing_time").mean < \
        base.activity("triage", "processing_time").mean


def test_other_activities_draw_the_same_durations(
        crn_pair: tuple[procsim.RunResult, procsim.RunResult]) -> None:
    base, faster = crn_pair
    assert base.records is not None and faster.records is not None
    activities = compile_model(base.model).activities
    for a, b in zip(base.records, faster.records, strict=True):
        # Queueing reorders who is served when, but not the order of the draws.
        starts = a.instance_start[a.instance_activity == activities.index("approve")]
        starts_b = b.instance_start[b.instance_activity == activities.index("approve")]
        assert not np.array_equal(starts[: len(starts_b)], starts_b[: len(starts)])
        for k, name in enumerate(activities):
            da, db = durations(a, k), durations(b, k)
            n = min(len(da), len(db))
            assert n > 20, name
            if name == "triage":
                assert not np.allclose(da[:n], db[:n])
            else:
                # end - start rounds at the clock's magnitude: equal up to a few ulps.
                np.testing.assert_allclose(da[:n], db[:n], rtol=0, atol=1e-9, err_msg=name)


def test_arrivals_and_attributes_are_the_same(
        crn_pair: tuple[procsim.RunResult, procsim.RunResult]) -> None:
    base, faster = crn_pair
    assert base.records is not None and faster.records is not None
    for a, b in zip(base.records, faster.records, strict=True):
        assert np.array_equal(a.arrival, b.arrival)
        assert np.array_equal(a.attributes["tier"], b.attributes["tier"])
        assert not np.array_equal(a.end, b.end)


def test_routing_decisions_are_the_same(
        crn_pair: tuple[procsim.RunResult, procsim.RunResult]) -> None:
    base, faster = crn_pair
    assert base.records is not None and faster.records is not None
    activities = compile_model(base.model).activities
    for node in ("triage", "review"):
        k = activities.index(node)
        for a, b in zip(base.records, faster.records, strict=True):
            da, db = decisions(a, k, activities), decisions(b, k, activities)
            n = min(len(da), len(db))
            assert n > 10 and da[:n] == db[:n], node
            assert set(da) == ({"approve", "wait_customer", "end"} if node == "triage"
                               else {"approve", "end"})
    for name in ("approve", "wait_customer", "review"):
        assert base.activity(name, "visits_per_case").mean == pytest.approx(
            faster.activity(name, "visits_per_case").mean, abs=0.05)


# --- the streams themselves ---------------------------------------------------------------------


def test_a_stream_does_not_depend_on_creation_order_or_other_streams() -> None:
    alone = RandomStreams(2026, 4).generator("duration:triage").random(5)
    streams = RandomStreams(2026, 4)
    other = streams.generator("duration:approve")
    other.random(1000)
    mine = streams.generator("duration:triage")
    streams.generator("route:triage").random(10)
    assert np.array_equal(mine.random(5), alone)


def test_streams_differ_by_name_replication_and_seed() -> None:
    def draws(seed: int, replication: int, name: str) -> np.ndarray:
        return RandomStreams(seed, replication).generator(name).random(4)

    reference = draws(1, 0, "arrivals")
    assert np.array_equal(reference, draws(1, 0, "arrivals"))
    for other in (draws(1, 0, "duration:triage"), draws(1, 1, "arrivals"),
                  draws(2, 0, "arrivals")):
        assert not np.array_equal(reference, other)
    assert stream_key("arrivals") != stream_key("arrivals ")


def test_streams_are_stable_across_processes() -> None:
    """The key is a stable hash, never Python's salted ``hash()``."""
    # Load rng.py on its own: importing the whole package (scipy, pydantic) is slow.
    code = ("import importlib.util, sys\n"
            "spec = importlib.util.spec_from_file_location('rng', sys.argv[1])\n"
            "rng = importlib.util.module_from_spec(spec); spec.loader.exec_module(rng)\n"
            "print(rng.RandomStreams(7, 3).generator('duration:triage').random(3).tolist())\n")
    here = RandomStreams(7, 3).generator("duration:triage").random(3).tolist()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", code, rng_module.__file__],
                             capture_output=True, text=True,
                             env=env, check=True).stdout
        assert json.loads(out) == here
