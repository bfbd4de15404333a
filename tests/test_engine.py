"""The engine after the speed work: the same numbers as before, bit for bit.

The engine rebuilds the time integrals of busy servers, queue lengths and work in progress
after the run instead of keeping them up to date per event, draws from numpy directly
instead of through ``scipy.stats``, and recycles SimPy events. None of it may change a
single bit of a record: the digests below were taken from the engine before those changes
(commit f032aa4) and are a regression test, to be updated only on purpose (a change of
numpy's generators would change them too).

They hold on every CPU: the draws do not go through numpy's SIMD-dispatched array ufuncs
(see ``procsim.dists``; ``tests/test_cpu_independence.py`` checks it). The order-to-cash
digest was updated on purpose when the Weibull and truncated-normal draws left
``scipy.stats`` for CPU-independent code: the event order stayed identical and every time
moved by at most 5e-16 relative (measured against the old engine with numpy's AVX2 and
AVX-512 kernels switched off, the path on which the old digests were taken).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import procsim
from procsim.dists import (
    Erlang,
    Exponential,
    Gamma,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
    Weibull,
)
from procsim.engine import ReplicationRecord, compile_model, run_replication
from procsim.engine import record as engine_record

ROOT = Path(__file__).resolve().parent.parent

FIELDS = ("arrival", "end", "instance_case", "instance_activity", "instance_enabled",
          "instance_start", "instance_end", "busy_area", "queue_area", "wip_area", "flow")


def digest(record: ReplicationRecord) -> str:
    h = hashlib.sha256()
    for name in FIELDS:
        h.update(np.ascontiguousarray(getattr(record, name)).tobytes())
    return h.hexdigest()[:32]


@pytest.mark.parametrize(("path", "seed", "replication", "expected"), [
    ("models/service_desk.yaml", 1, 0, "8e61d9cd657dade777bc8c13945bc19a"),
    ("models/loan_application.yaml", 7, 3, "df4f3a705bda0eecf963fa906cb56fa8"),
    ("models/order_to_cash.yaml", 1, 3, "8a331dcb8c33f21eee5b1e6494b04c83"),
    ("bench/support_tickets.yaml", 1, 0, "7db63f7047c0df5655ef5cb31fbfc38a"),
])
def test_records_are_those_of_the_engine_before_the_speed_work(
        path: str, seed: int, replication: int, expected: str) -> None:
    plan = compile_model(procsim.load_model(ROOT / path))
    record = run_replication(plan, seed=seed, replication=replication, cases=3000)
    assert digest(record) == expected


# --- the time integrals, rebuilt after the run -------------------------------------------------


def incremental(arrival: np.ndarray, enabled: np.ndarray, start: np.ndarray,
                end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What the engine used to do: tick at every arrival, request and end, in time order.

    At one time, ticks come first (a start is a state change inside the callback of a
    request or of an end, after its tick).
    """
    arrive, request, finish, begin = range(4)
    events = sorted([(t, arrive) for t in arrival] + [(t, request) for t in enabled]
                    + [(t, finish) for t in end] + [(t, begin) for t in start])
    busy = queued = 0
    last = busy_acc = queue_acc = 0.0
    out_busy, out_queue = [], []
    for t, kind in events:
        if kind != begin:
            dt = t - last
            if dt:
                busy_acc += busy * dt
                queue_acc += queued * dt
                last = t
        if kind == arrive:
            out_busy.append(busy_acc)
            out_queue.append(queue_acc)
        elif kind == request:
            queued += 1
        elif kind == begin:
            queued -= 1
            busy += 1
        else:
            busy -= 1
    return np.array(out_busy), np.array(out_queue)


def random_pool(rng: np.random.Generator, n: int, servers: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Arrivals and a FIFO multi-server queue fed by them, with ties on a coarse grid."""
    arrival = np.sort(np.round(rng.exponential(1.0, n).cumsum(), 1))
    free = [0.0] * servers
    enabled, start, end = [], [], []
    for a in arrival:
        s = max(a, min(free))
        k = free.index(min(free))
        d = float(np.round(rng.exponential(servers * 0.9), 1))  # zero durations happen
        free[k] = s + d
        enabled.append(a)
        start.append(s)
        end.append(s + d)
    order = np.argsort(start, kind="stable")
    return (arrival, np.array(enabled)[order], np.array(start)[order], np.array(end)[order])


@pytest.mark.parametrize("chunk", [3, 64, 1 << 16])
@pytest.mark.parametrize("seed", range(4))
def test_rebuilt_integrals_equal_the_incremental_ones_bit_for_bit(
        monkeypatch: pytest.MonkeyPatch, chunk: int, seed: int) -> None:
    monkeypatch.setattr(engine_record, "CHUNK", chunk)
    arrival, enabled, start, end = random_pool(np.random.default_rng(seed), 300, 2)
    expected_busy, expected_queue = incremental(arrival, enabled, start, end)
    busy, queue = engine_record.pool_integrals(arrival, enabled.copy(), start, end.copy())
    assert np.array_equal(busy, expected_busy)
    assert np.array_equal(queue, expected_queue)
    assert queue[-1] > 0 and busy[-1] > 0  # the example does queue


def test_wip_integral_counts_cases_in_the_system() -> None:
    arrival = np.array([0.0, 1.0, 1.0, 4.0])
    end = np.array([2.0, 1.0, 5.0, 4.5])
    # in system: 1 on [0,1), then cases 0 and 2 (case 1 leaves at once) on [1,2), 1 on [2,4)
    assert engine_record.wip_integral(arrival, end).tolist() == [0.0, 1.0, 1.0, 5.0]


# --- sampling without scipy ---------------------------------------------------------------------


@pytest.mark.parametrize("dist", [
    Exponential(mean=3.0), Exponential(mean=1e-3),
    Triangular(min=1.0, mode=2.0, max=4.2), Triangular(min=0.0, mode=0.0, max=3.0),
    Triangular(min=1.0, mode=5.0, max=5.0),
    Gamma(mean=45.0, sd=20.0), Gamma(mean=1.0, sd=3.0), Erlang(k=4, mean=20.0),
    Uniform(min=2.0, max=4.0), Uniform(min=0.0, max=1e-3),
], ids=repr)
def test_numpy_draws_equal_scipys_bit_for_bit(dist: object) -> None:
    rv = dist._scipy()  # type: ignore[attr-defined]
    for seed in range(3):
        expected = np.maximum(rv.rvs(size=2500, random_state=np.random.default_rng(seed)), 0.0)
        got = dist.sample(np.random.default_rng(seed), 2500)  # type: ignore[attr-defined]
        assert np.array_equal(got, expected)
    assert dist.variance == pytest.approx(float(rv.var()), rel=1e-12)  # type: ignore[attr-defined]
    assert dist.mean == pytest.approx(float(rv.mean()), rel=1e-12)  # type: ignore[attr-defined]


@pytest.mark.parametrize("dist", [
    LogNormal(mean=6.0, sd=4.0), LogNormal(mean=13.5, sd=9.0), LogNormal(mean=0.01, sd=50.0),
    Weibull(shape=1.5, scale=10.0), Weibull(shape=2.0, scale=4.0), Weibull(shape=0.3, scale=1.0),
], ids=repr)
def test_draws_equal_scipys_but_for_the_last_bit(dist: object) -> None:
    """Same uniforms, same formula as ``scipy.stats``; exp, log1p and the power are taken in
    scalar code, which may differ from numpy's SIMD kernels in the last bit only."""
    rv = dist._scipy()  # type: ignore[attr-defined]
    for seed in range(3):
        expected = np.maximum(rv.rvs(size=2500, random_state=np.random.default_rng(seed)), 0.0)
        got = dist.sample(np.random.default_rng(seed), 2500)  # type: ignore[attr-defined]
        np.testing.assert_allclose(got, expected, rtol=4e-15, atol=0)


@pytest.mark.parametrize("dist", [Normal(mean=1.0, sd=2.0), Normal(mean=14.0, sd=5.0),
                                  Normal(mean=-20.0, sd=2.0)], ids=repr)
def test_truncated_normal_draws_invert_scipys_law(dist: Normal) -> None:
    """The truncated normal is drawn by inversion in log space: each draw is the quantile of
    its uniform under scipy's truncnorm (to scipy's own accuracy), and none is negative."""
    u = np.random.default_rng(5).random(2000)
    got = dist.sample(np.random.default_rng(5), 2000)
    assert (got >= 0).all()
    np.testing.assert_allclose(got, dist._scipy().ppf(u), rtol=1e-9, atol=1e-12)


def test_every_scipy_distribution_draws_without_scipy_stats() -> None:
    """No distribution falls back to ``scipy.stats.rvs`` (CPU-dependent, and slow to import)."""
    from procsim import dists

    for cls in dists.DISTRIBUTIONS.values():
        if issubclass(cls, dists._ScipyDistribution):
            assert cls._numpy_sampler is not dists._ScipyDistribution._numpy_sampler, cls


def test_triangular_mean_is_scipys() -> None:
    d = Triangular(min=0.3, mode=0.7, max=2.9)
    assert d.mean == float(stats.triang(c=(0.7 - 0.3) / 2.6, loc=0.3, scale=2.6).mean())


def test_a_run_of_one_replication_does_not_import_scipy() -> None:
    """scipy.stats takes about a second to import; a small run must not pay for it."""
    code = ("import sys, procsim\n"
            "m = procsim.load_model(sys.argv[1])\n"
            "procsim.simulate(m, replications=1, cases=500, seed=1)\n"
            "print(sorted(k for k in sys.modules if k.startswith('scipy')))\n")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "bench/support_tickets.yaml")],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_engine_page_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/engine.md's examples run and print what the page says."""
    import doctest

    monkeypatch.chdir(ROOT)
    text = (ROOT / "docs" / "engine.md").read_text(encoding="utf-8")
    test = doctest.DocTestParser().get_doctest(text, {}, "engine.md", "docs/engine.md", 0)
    assert test.examples
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
