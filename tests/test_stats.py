"""Tests for procsim.stats: intervals against scipy, coverage, MSER-5, percentiles."""

from __future__ import annotations

import doctest
import json
import math

import numpy as np
import pytest
from scipy import stats as sps

from procsim import stats
from procsim.stats import (
    Estimate,
    estimate,
    mser5,
    paired_difference,
    parse_percentile,
    pooled_percentiles,
    replications_needed,
)


def test_docstring_examples_run() -> None:
    result = doctest.testmod(stats, raise_on_error=False)
    assert result.attempted > 0
    assert result.failed == 0


# --- estimate -------------------------------------------------------------------------------


def test_estimate_matches_scipy_t_interval() -> None:
    x = np.array([12.1, 9.8, 11.4, 10.2, 13.0, 8.7, 10.9, 11.6])
    est = estimate(x)
    lo, hi = sps.t.interval(0.95, x.size - 1, loc=x.mean(), scale=sps.sem(x))
    assert est.n == 8
    assert est.mean == pytest.approx(x.mean(), rel=1e-12)
    assert est.sd == pytest.approx(x.std(ddof=1), rel=1e-12)
    assert est.ci == pytest.approx((lo, hi), rel=1e-12)
    assert est.confidence == 0.95


def test_estimate_other_confidence_level() -> None:
    x = np.array([3.0, 5.0, 4.0, 6.0, 2.0])
    est = estimate(x, confidence=0.90)
    lo, hi = sps.t.interval(0.90, 4, loc=x.mean(), scale=sps.sem(x))
    assert est.ci == pytest.approx((lo, hi), rel=1e-12)
    assert "ci90" in est.to_dict()


def test_estimate_coverage_of_true_mean() -> None:
    # 2000 intervals at 95 %: binomial SE of the coverage is ~0.005, so [0.93, 0.97] is ±4 SE
    # and a t quantile swapped for the normal one (coverage ~0.92 at n=10) would fail.
    rng = np.random.default_rng(20240601)
    true_mean = 7.5
    draws = rng.normal(true_mean, 3.0, size=(2000, 10))
    covered = 0
    for row in draws:
        lo, hi = estimate(row).ci
        covered += lo <= true_mean <= hi
    assert 0.93 <= covered / 2000 <= 0.97


def test_estimate_ignores_nan() -> None:
    est = estimate([1.0, np.nan, 3.0, np.nan, 5.0])
    assert est.n == 3
    assert est.mean == 3.0
    assert est == estimate([1.0, 3.0, 5.0])


def test_estimate_single_replication() -> None:
    est = estimate([4.0, np.nan])
    assert (est.n, est.mean) == (1, 4.0)
    assert math.isnan(est.sd)
    assert est.half_width == math.inf
    assert est.ci == (-math.inf, math.inf)


def test_estimate_no_replication() -> None:
    for values in ([], [np.nan, np.nan]):
        est = estimate(values)
        assert est.n == 0
        assert math.isnan(est.mean)
        d = est.to_dict()
        assert d["mean"] is None
        assert d["ci95"] == [None, None]


def test_estimate_constant_sample_has_zero_half_width() -> None:
    est = estimate([0.1] * 7)
    assert est.half_width == 0.0
    assert est.sd == 0.0
    assert est.ci == (0.1, 0.1)


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5, -0.1])
def test_estimate_rejects_bad_confidence(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence"):
        estimate([1.0, 2.0], confidence=confidence)


def test_estimate_rejects_2d_input() -> None:
    with pytest.raises(ValueError, match="1-d"):
        estimate(np.ones((3, 2)))


# --- Estimate -------------------------------------------------------------------------------


def test_relative_half_width() -> None:
    assert Estimate(-4.0, 1.0, 5, 1.0, 0.95).relative_half_width == 0.25
    assert Estimate(0.0, 1.0, 5, 1.0, 0.95).relative_half_width == math.inf


def test_to_dict_is_json_safe() -> None:
    d = estimate([2.0]).to_dict()
    assert d == {
        "mean": 2.0,
        "ci95": [None, None],
        "half_width": None,
        "sd_replications": None,
        "n": 1,
    }
    text = json.dumps(estimate([1.0, 2.5, 4.0]).to_dict(), allow_nan=False)
    assert json.loads(text)["n"] == 3


def test_to_dict_key_follows_confidence() -> None:
    assert "ci99" in estimate([1.0, 2.0, 3.0], confidence=0.99).to_dict()
    assert "ci95" in estimate([1.0, 2.0, 3.0]).to_dict()


def test_estimate_is_frozen() -> None:
    est = estimate([1.0, 2.0])
    with pytest.raises(AttributeError):
        est.mean = 3.0  # type: ignore[misc]


# --- paired_difference ----------------------------------------------------------------------


def _correlated_pairs(seed: int = 7, n: int = 20) -> tuple[np.ndarray, np.ndarray]:
    # Common random numbers: both scenarios see the same large replication-level noise.
    rng = np.random.default_rng(seed)
    common = rng.normal(100.0, 10.0, n)
    baseline = common + rng.normal(0.0, 0.5, n)
    scenario = common - 2.0 + rng.normal(0.0, 0.5, n)
    return baseline, scenario


def test_paired_difference_equals_estimate_of_differences() -> None:
    a, b = _correlated_pairs()
    d = paired_difference(a, b)
    assert d == estimate(b - a)
    ci = sps.ttest_rel(b, a).confidence_interval(0.95)
    assert d.ci == pytest.approx((ci.low, ci.high), rel=1e-10)


def test_paired_difference_much_tighter_than_unpaired() -> None:
    a, b = _correlated_pairs()
    paired = paired_difference(a, b)
    unpaired = sps.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    unpaired_half_width = (unpaired.high - unpaired.low) / 2
    assert paired.half_width < 0.2 * unpaired_half_width
    # The paired interval detects the effect (true value -2); the unpaired one cannot.
    assert paired.ci[1] < 0
    assert unpaired.low < 0 < unpaired.high


def test_paired_difference_drops_pairs_with_nan() -> None:
    a = np.array([1.0, 2.0, np.nan, 4.0, 5.0])
    b = np.array([1.5, np.nan, 3.0, 4.5, 6.0])
    d = paired_difference(a, b)
    assert d.n == 3
    assert d == estimate([0.5, 0.5, 1.0])


def test_paired_difference_rejects_length_mismatch() -> None:
    with pytest.raises(ValueError, match="got lengths 3 and 2"):
        paired_difference([1.0, 2.0, 3.0], [1.0, 2.0])


# --- replications_needed --------------------------------------------------------------------


def test_replications_needed_formula() -> None:
    est = Estimate(mean=50.0, sd=4.0, n=10, half_width=5.0, confidence=0.95)
    assert replications_needed(est, 0.1) == 10  # already there
    assert replications_needed(est, 0.2) == 10  # never fewer than already run
    assert replications_needed(est, 0.05) == 40
    assert replications_needed(est, 0.03) == math.ceil(10 * (5.0 / 1.5) ** 2)


def test_replications_needed_doubling_precision_quadruples_n() -> None:
    rng = np.random.default_rng(3)
    est = estimate(rng.normal(20.0, 4.0, 10))
    r = est.relative_half_width / 2  # already beyond what 10 replications give
    n1 = replications_needed(est, r)
    n2 = replications_needed(est, r / 2)
    assert n1 > est.n
    assert 4 * n1 - 4 <= n2 <= 4 * n1  # 4x, up to the ceilings


@pytest.mark.parametrize(
    ("est", "precision", "message"),
    [
        (Estimate(5.0, 1.0, 10, 0.5, 0.95), 0.0, "relative_precision > 0"),
        (Estimate(5.0, math.nan, 1, math.inf, 0.95), 0.1, "at least 2 replications"),
        (Estimate(0.0, 1.0, 10, 0.5, 0.95), 0.1, "non-zero mean"),
        (Estimate(math.nan, math.nan, 0, math.nan, 0.95), 0.1, "at least 2"),
    ],
)
def test_replications_needed_errors(est: Estimate, precision: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replications_needed(est, precision)


# --- mser5 ----------------------------------------------------------------------------------


def _mser_brute_force(series: np.ndarray, batch: int, max_fraction: float) -> int:
    # The definition, literally: one loop over d, recomputing the mean each time.
    k = len(series) // batch
    if k < 2:
        return 0
    means = [sum(series[j * batch : (j + 1) * batch]) / batch for j in range(k)]
    best_d, best = 0, math.inf
    for d in range(min(math.floor(max_fraction * k), k - 2) + 1):
        rest = means[d:]
        mu = sum(rest) / len(rest)
        value = sum((y - mu) ** 2 for y in rest) / len(rest) ** 2
        if value < best:
            best_d, best = d, value
    return batch * best_d


def test_mser5_hand_computed_step() -> None:
    # Batch means 9, 1, 1, 1, 1, 1 (mean 7/3): MSER(0) = (400/9 + 5 * 16/9) / 36 = 40/27,
    # MSER(1) = 0 (the rest is constant), MSER(2) = MSER(3) = 0 too; ties go to the smallest d.
    series = np.array([9.0] * 5 + [1.0] * 25)
    assert mser5(series) == 5
    assert _mser_brute_force(series, 5, 0.5) == 5


def test_mser5_hand_computed_small_example() -> None:
    # Batch size 2, batch means 6, 4, 2, 2: k=4, d ranges over 0..2.
    # MSER(0) = ((6-3.5)^2 + (4-3.5)^2 + 2*(2-3.5)^2) / 16 = 11/16
    # MSER(1) = ((4-8/3)^2 + 2*(2-8/3)^2) / 9 = (8/3) / 9 = 0.296...
    # MSER(2) = 0 / 4 = 0  ->  d = 2, 4 observations.
    series = np.array([5.0, 7.0, 3.0, 5.0, 2.0, 2.0, 1.0, 3.0, 100.0])  # trailing partial batch
    assert mser5(series, batch=2) == 4
    assert _mser_brute_force(series, 2, 0.5) == 4


@pytest.mark.parametrize(("seed", "batch", "max_fraction"), [(0, 5, 0.5), (1, 3, 0.4), (2, 1, 0.5)])
def test_mser5_matches_brute_force(seed: int, batch: int, max_fraction: float) -> None:
    rng = np.random.default_rng(seed)
    series = 3.0 * np.exp(-np.arange(60) / 8.0) + rng.normal(0.0, 1.0, 60)
    assert mser5(series, batch=batch, max_fraction=max_fraction) == _mser_brute_force(
        series, batch, max_fraction
    )


def test_mser5_finds_initial_transient() -> None:
    rng = np.random.default_rng(12345)
    transient = np.linspace(50.0, 10.0, 500)
    steady = np.full(5000, 10.0)
    series = np.concatenate([transient, steady]) + rng.normal(0.0, 2.0, 5500)
    assert 450 <= mser5(series) <= 550


def test_mser5_small_on_stationary_series() -> None:
    rng = np.random.default_rng(99)
    series = rng.normal(10.0, 2.0, 2000)
    assert mser5(series) < 200


def test_mser5_short_series_and_constant_series() -> None:
    assert mser5([1.0] * 9) == 0  # one complete batch
    assert mser5([]) == 0
    assert mser5([5.0, 1.0], batch=1) == 0  # keeps at least two batches
    assert mser5([5.0, 1.0, 1.0], batch=1) == 1
    assert mser5(np.full(100, 3.0)) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch": 0}, "batch"),
        ({"batch": 2.5}, "batch"),
        ({"max_fraction": 1.0}, "max_fraction"),
        ({"max_fraction": -0.1}, "max_fraction"),
    ],
)
def test_mser5_rejects_bad_arguments(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mser5(np.ones(20), **kwargs)  # type: ignore[arg-type]


def test_mser5_rejects_nan() -> None:
    with pytest.raises(ValueError, match="finite"):
        mser5([1.0, np.nan] * 10)


# --- pooled_percentiles ---------------------------------------------------------------------


def test_pooled_percentiles_concatenates_replications() -> None:
    rng = np.random.default_rng(5)
    reps = [rng.exponential(3.0, size) for size in (40, 55, 61)]
    result = pooled_percentiles(reps)
    expected = np.percentile(np.concatenate(reps), [50, 90, 95])
    assert list(result) == ["p50", "p90", "p95"]
    assert list(result.values()) == pytest.approx(list(expected), rel=1e-12)


def test_pooled_percentiles_keys_and_nan() -> None:
    result = pooled_percentiles([np.array([1.0, np.nan, 3.0])], qs=(50, 99.5))
    assert list(result) == ["p50", "p99.5"]
    assert result["p50"] == 2.0


def test_pooled_percentiles_empty() -> None:
    for samples in ([], [np.array([]), np.array([])]):
        result = pooled_percentiles(samples)
        assert list(result) == ["p50", "p90", "p95"]
        assert all(math.isnan(v) for v in result.values())


# --- parse_percentile -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stat", "expected"),
    [("p90", 90.0), ("p99.5", 99.5), ("median", 50.0), ("p0", 0.0), ("p100", 100.0)],
)
def test_parse_percentile(stat: str, expected: float) -> None:
    assert parse_percentile(stat) == expected


@pytest.mark.parametrize("stat", ["q9", "p", "P90", "p-5", "90", "p9x", "", "p.5"])
def test_parse_percentile_rejects(stat: str) -> None:
    with pytest.raises(ValueError, match=r"expected mean, median or pXX such as p90, got '"):
        parse_percentile(stat)


def test_parse_percentile_error_message_exact() -> None:
    with pytest.raises(ValueError) as info:
        parse_percentile("q9")
    assert str(info.value) == "expected mean, median or pXX such as p90, got 'q9'"


def test_parse_percentile_out_of_range_and_mean() -> None:
    with pytest.raises(ValueError, match="between p0 and p100, got 'p101'"):
        parse_percentile("p101")
    with pytest.raises(ValueError, match="not a percentile"):
        parse_percentile("mean")
