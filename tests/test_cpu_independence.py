"""Same seed, same bits, whatever SIMD kernels numpy picks for this CPU.

numpy chooses the kernels of its array ufuncs at run time by the CPU's features (AVX2,
AVX-512, ...), and some of them (``np.exp``, ``np.log``, ``np.power``) round differently in
the last bit. procsim keeps them off the path from uniforms to variates (``procsim.dists``),
so records and KPIs must not change when numpy's dispatch is switched off. This test runs
the same replications in a subprocess with ``NPY_DISABLE_CPU_FEATURES`` naming every
dispatchable feature this numpy found on this CPU, and compares digests bit for bit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Every distribution, a conditional route and a shared pool: one activity per distribution.
EVERY_DISTRIBUTION = """\
procsim: 1
name: every distribution
time_unit: minutes
run: {cases: 2000, replications: 2, seed: 11}
arrivals:
  interarrival: {dist: exponential, mean: 10}
resources:
  desk: {capacity: 3, cost_per_hour: 30}
activities:
  a_fixed: {resource: desk, duration: {dist: fixed, value: 1}}
  a_uniform: {resource: desk, duration: {dist: uniform, min: 1, max: 3}}
  a_triangular: {resource: desk, duration: {dist: triangular, min: 1, mode: 2, max: 4}}
  a_normal: {resource: desk, duration: {dist: normal, mean: 3, sd: 2}}
  a_lognormal: {resource: desk, duration: {dist: lognormal, mean: 2, sd: 3}}
  a_gamma: {resource: desk, duration: {dist: gamma, mean: 2, sd: 1}}
  a_exponential: {resource: desk, duration: {dist: exponential, mean: 2}}
  a_erlang: {resource: desk, duration: {dist: erlang, k: 3, mean: 2}}
  a_weibull: {resource: desk, duration: {dist: weibull, shape: 1.5, scale: 2}}
  a_empirical: {resource: desk, duration: {dist: empirical, values: [1, 2, 4]}}
  a_histogram:
    resource: desk
    duration: {dist: histogram, edges: [0, 1, 5], probabilities: [0.3, 0.7]}
flow:
  start: a_fixed
  a_fixed: {a_uniform: 0.5, a_triangular: 0.5}
  a_uniform: a_normal
  a_triangular: a_normal
  a_normal: a_lognormal
  a_lognormal: a_gamma
  a_gamma: a_exponential
  a_exponential: a_erlang
  a_erlang: a_weibull
  a_weibull: a_empirical
  a_empirical: a_histogram
  a_histogram: end
"""

# Prints one digest per model: the records of one replication, and the KPIs of a
# two-replication run (their means, intervals and percentiles), rounded to nothing.
PROBE = """\
import hashlib, json, sys
import numpy as np
import procsim
from procsim.engine import compile_model, run_replication

FIELDS = ("arrival", "end", "instance_case", "instance_activity", "instance_enabled",
          "instance_start", "instance_end", "busy_area", "queue_area", "wip_area", "flow")
out = {}
for path in sys.argv[1:]:
    model = procsim.load_model(path)
    h = hashlib.sha256()
    record = run_replication(compile_model(model), seed=3, replication=1, cases=1500)
    for name in FIELDS:
        h.update(np.ascontiguousarray(getattr(record, name)).tobytes())
    result = procsim.simulate(model, replications=2, cases=800, warmup=50, seed=5, jobs=1)
    h.update(json.dumps(result.to_dict(), sort_keys=True, default=repr).encode())
    out[path] = h.hexdigest()
print(json.dumps(out))
"""


def dispatched_features() -> list[str]:
    """The SIMD targets numpy dispatches to on this CPU (those it can be told to skip)."""
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # numpy < 2
        from numpy.core import _multiarray_umath as umath  # type: ignore[no-redef]
    found = umath.__cpu_features__
    return [name for name in umath.__cpu_dispatch__ if found.get(name)]


def digests(paths: list[str], env: dict[str, str]) -> dict[str, str]:
    out = subprocess.run([sys.executable, "-c", PROBE, *paths], capture_output=True,
                         text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_results_do_not_depend_on_numpys_simd_kernels(tmp_path: Path) -> None:
    features = dispatched_features()
    if not features:
        pytest.skip("numpy dispatches no SIMD kernels on this CPU: nothing to switch off")
    model = tmp_path / "every_distribution.yaml"
    model.write_text(EVERY_DISTRIBUTION)
    paths = [str(model), *sorted(str(p) for p in (ROOT / "models").glob("*.yaml")),
             str(ROOT / "bench" / "support_tickets.yaml")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NPY_")}
    with_simd = digests(paths, env)
    without_simd = digests(paths, {**env, "NPY_DISABLE_CPU_FEATURES": " ".join(features)})
    assert without_simd == with_simd


def test_the_probe_can_tell_kernels_apart() -> None:
    """The switch takes effect: numpy's exp gives other last bits without its SIMD kernels
    on CPUs where it has them (so the test above would see a draw through ``np.exp``)."""
    features = dispatched_features()
    if not any(name.startswith(("AVX512", "X86_V4")) for name in features):
        pytest.skip("no AVX-512 kernels on this CPU")
    code = ("import hashlib, numpy as np; x = np.random.default_rng(1).standard_normal(100000);"
            "print(hashlib.sha256(np.exp(x).tobytes()).hexdigest())")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NPY_")}
    run = [sys.executable, "-c", code]
    plain = subprocess.run(run, capture_output=True, text=True, env=env, check=True).stdout
    off = subprocess.run(run, capture_output=True, text=True, check=True,
                         env={**env, "NPY_DISABLE_CPU_FEATURES": " ".join(features)}).stdout
    assert plain != off
