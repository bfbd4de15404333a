"""Tests of procsim.dists: moments against closed forms, samples against theory, validation."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pytest
import yaml
from pydantic import TypeAdapter, ValidationError
from scipy import stats

from procsim import units
from procsim.dists import (
    DISTRIBUTIONS,
    BaseDistribution,
    Distribution,
    Duration,
    Empirical,
    Erlang,
    Exponential,
    Fixed,
    Gamma,
    Histogram,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
    Weibull,
)
from procsim.errors import UsageError

ADAPTER: TypeAdapter[Any] = TypeAdapter(Distribution)
N = 200_000
TAGS = {
    "fixed",
    "uniform",
    "triangular",
    "normal",
    "lognormal",
    "gamma",
    "exponential",
    "erlang",
    "weibull",
    "empirical",
    "histogram",
}


def _phi(x: float) -> float:
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _Phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _truncated_normal_moments(mu: float, sigma: float) -> tuple[float, float]:
    """Mean and variance of N(mu, sigma²) truncated to [0, ∞), from the textbook formulas."""
    alpha = -mu / sigma
    lam = _phi(alpha) / (1 - _Phi(alpha))  # inverse Mills ratio
    return mu + sigma * lam, sigma**2 * (1 + alpha * lam - lam**2)


@dataclass
class Case:
    """A distribution with its moments and cdf computed independently of procsim."""

    dist: BaseDistribution
    mean: float
    variance: float
    cdf: Any = None  # None for the discrete ones

    def __repr__(self) -> str:  # readable pytest ids
        return repr(self.dist)


def _cases() -> list[Case]:
    a, c, b = 1.0, 3.0, 8.0  # triangular min, mode, max
    k, theta = 1.5, 10.0  # weibull shape, scale
    g1, g2 = math.gamma(1 + 1 / k), math.gamma(1 + 2 / k)
    sigma2 = math.log(1 + (20 / 45) ** 2)  # lognormal with mean 45, sd 20
    tn_mean, tn_var = _truncated_normal_moments(10.0, 3.0)
    tn1_mean, tn1_var = _truncated_normal_moments(1.0, 2.0)
    ev, ew = np.array([1.0, 2.0, 5.0]), np.array([0.2, 0.3, 0.5])
    e_mean = float(ev @ ew)
    return [
        Case(Fixed(value=3), 3.0, 0.0),
        Case(Uniform(min=2, max=8), 5.0, 36 / 12, stats.uniform(2, 6).cdf),
        Case(
            Triangular(min=a, mode=c, max=b),
            (a + b + c) / 3,
            (a * a + b * b + c * c - a * b - a * c - b * c) / 18,
            stats.triang((c - a) / (b - a), loc=a, scale=b - a).cdf,
        ),
        Case(
            Normal(mean=10, sd=3),
            tn_mean,
            tn_var,
            lambda x: (_cdf_normal(x, 10, 3) - _cdf_normal(0, 10, 3)) / (1 - _cdf_normal(0, 10, 3)),
        ),
        Case(Normal(mean=1, sd=2), tn1_mean, tn1_var, stats.truncnorm(-0.5, np.inf, 1, 2).cdf),
        Case(
            LogNormal(mean=45, sd=20),
            45.0,
            400.0,
            stats.lognorm(math.sqrt(sigma2), scale=math.exp(math.log(45) - sigma2 / 2)).cdf,
        ),
        Case(Gamma(mean=45, sd=20), 45.0, 400.0, stats.gamma(45**2 / 400, scale=400 / 45).cdf),
        Case(Exponential(mean=30), 30.0, 900.0, stats.expon(scale=30).cdf),
        Case(Erlang(k=3, mean=12), 12.0, 3 * 4.0**2, stats.gamma(3, scale=4).cdf),
        Case(
            Weibull(shape=k, scale=theta),
            theta * g1,
            theta**2 * (g2 - g1**2),
            stats.weibull_min(k, scale=theta).cdf,
        ),
        Case(
            Empirical(values=list(ev), weights=list(ew)),
            e_mean,
            float(((ev - e_mean) ** 2) @ ew),
        ),
        Case(Empirical(values=[0, 4]), 2.0, 4.0),
        # Uniform within bins: mean Σ p (a+b)/2, E[X²] = Σ p (a²+ab+b²)/3, CDF piecewise linear.
        Case(Histogram(edges=[0, 5, 10, 30], probabilities=[0.5, 0.3, 0.2]), 7.5,
             0.5 * 25 / 3 + 0.3 * 175 / 3 + 0.2 * 1300 / 3 - 7.5**2,
             lambda x: np.interp(x, [0, 5, 10, 30], [0, 0.5, 0.8, 1.0])),
        Case(Histogram(edges=[2, 4, 6, 8], probabilities=[3, 0, 1]), 0.75 * 3 + 0.25 * 7,
             0.75 * (4 + 8 + 16) / 3 + 0.25 * (36 + 48 + 64) / 3 - 4.0**2,
             lambda x: np.interp(x, [2, 4, 6, 8], [0, 0.75, 0.75, 1.0])),
    ]


def _cdf_normal(x: Any, mu: float, sigma: float) -> Any:
    return stats.norm.cdf((np.asarray(x) - mu) / sigma)


CASES = _cases()


def test_every_tag_is_covered() -> None:
    assert set(DISTRIBUTIONS) == TAGS
    assert {c.dist.dist for c in CASES} == TAGS
    for tag, cls in DISTRIBUTIONS.items():
        assert cls.model_fields["dist"].default == tag


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_moments_match_closed_forms(case: Case) -> None:
    assert isinstance(case.dist.mean, float)
    assert isinstance(case.dist.variance, float)
    assert case.dist.mean == pytest.approx(case.mean, rel=1e-9, abs=1e-12)
    assert case.dist.variance == pytest.approx(case.variance, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_samples_agree_with_theory(case: Case) -> None:
    x = case.dist.sample(np.random.default_rng(20240611), N)
    assert x.shape == (N,)
    assert x.dtype == np.float64
    assert (x >= 0).all()
    se = math.sqrt(case.variance / N)
    assert abs(x.mean() - case.mean) <= 5 * se + 1e-12
    if case.cdf is not None:
        assert stats.kstest(x, case.cdf).pvalue > 1e-3


def test_truncated_normal() -> None:
    d = Normal(mean=1, sd=2)
    assert d.loc == 1.0
    assert d.mean > 1.0
    ref = stats.truncnorm(a=-0.5, b=np.inf, loc=1, scale=2)
    assert d.mean == pytest.approx(ref.mean())
    assert d.variance == pytest.approx(ref.var())
    # far below zero: still non-negative samples and a positive mean
    far = Normal(mean=-20, sd=2)
    assert far.mean > 0
    assert (far.sample(np.random.default_rng(1), 10_000) >= 0).all()


# a = -loc/sd from far left of zero to 5 sd right of it, at several scales and signs of loc
TRUNCATED = [(loc * sd, sd) for sd in (0.25, 1.0, 3.0, 1e-6, 1e6)
             for loc in (*np.linspace(-5.0, 40.0, 91), 1e3, 1e6)]


@pytest.mark.parametrize(("loc", "sd"), TRUNCATED)
def test_truncated_normal_moments_equal_scipys(loc: float, sd: float) -> None:
    """The closed form (math.erfc, no scipy.stats) is scipy's truncnorm to ~1e-12."""
    d = Normal(mean=loc, sd=sd)
    ref = stats.truncnorm(a=-loc / sd, b=np.inf, loc=loc, scale=sd)
    assert d.mean == pytest.approx(float(ref.mean()), rel=2e-12, abs=0.0)
    assert d.variance == pytest.approx(float(ref.var()), rel=5e-12, abs=0.0)


@pytest.mark.parametrize("a", [5.0, 10.0, 20.0, 29.9, 30.0, 30.1, 37.0, 100.0])
def test_truncated_normal_far_in_the_tail(a: float) -> None:
    """Where the mean is far below zero both lose digits to ``loc + sd·h`` (scipy as much as
    the closed form): they agree to 1e-8, and past the point where erfc underflows (a ≈ 37.5)
    the continued fraction keeps the mean at about sd/a."""
    d = Normal(mean=-a, sd=1.0)
    ref = stats.truncnorm(a=a, b=np.inf, loc=-a, scale=1.0)
    assert d.mean == pytest.approx(float(ref.mean()), rel=1e-8)
    # the asymptotic series of the mean, to within its first omitted term
    assert d.mean == pytest.approx(1 / a - 2 / a**3 + 10 / a**5, rel=74 / a**6)
    assert 0.0 < d.variance < 1.0 / a**2


def test_truncated_normal_moments_overflow_as_scipys_do() -> None:
    """Too extreme to compute warns (the model check turns that into an error), as scipy."""
    with pytest.warns(RuntimeWarning, match="overflow"):
        assert math.isnan(Normal(mean=-1e308, sd=1.0).mean)
    with pytest.warns(RuntimeWarning, match="overflow"):
        assert math.isinf(Normal(mean=5.0, sd=1e155).variance)


@pytest.mark.parametrize("shape", [0.05, 0.3, 0.5, 1.0, 2.0, 3.7, 10.0])
@pytest.mark.parametrize("scale", [1e-3, 4.0, 1e5])
def test_weibull_moments_equal_scipys(shape: float, scale: float) -> None:
    d = Weibull(shape=shape, scale=scale)
    ref = stats.weibull_min(c=shape, scale=scale)
    assert d.mean == pytest.approx(float(ref.mean()), rel=1e-14)
    assert d.variance == pytest.approx(float(ref.var()), rel=1e-12)


def test_weibull_moments_overflow_as_scipys_do() -> None:
    assert Weibull(shape=0.005, scale=4).mean == math.inf
    assert Weibull(shape=0.005, scale=4).variance == math.inf
    with pytest.warns(RuntimeWarning, match="overflow"):
        assert math.isinf(Weibull(shape=0.1, scale=1e150).variance)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_buffered_and_block_sampler_are_the_sampler(case: Case) -> None:
    """The engine's two ways of drawing give the draws of ``sample``, block by block."""
    pop, refill = case.dist.buffered(np.random.default_rng(5), 8)
    got = [refill(), *(pop() for _ in range(7)), refill()]
    rng = np.random.default_rng(5)
    expected = case.dist.sample(rng, 8).tolist() + case.dist.sample(rng, 8).tolist()[:1]
    assert got == expected
    if not isinstance(case.dist, Fixed):  # a constant never runs out
        with pytest.raises(IndexError):  # the block is used up: the engine refills
            for _ in range(8):
                pop()
    x = case.dist.block_sampler()(np.random.default_rng(6), 8)
    assert x.tolist() == case.dist.sample(np.random.default_rng(6), 8).tolist()


def test_empirical_frequencies() -> None:
    d = Empirical(values=[1, 2, 5], weights=[2, 3, 5])  # weights need not sum to 1
    x = d.sample(np.random.default_rng(3), N)
    assert set(np.unique(x)) == {1.0, 2.0, 5.0}
    for value, p in [(1.0, 0.2), (2.0, 0.3), (5.0, 0.5)]:
        assert abs((x == value).mean() - p) < 5 * math.sqrt(p * (1 - p) / N)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_sampler_matches_sample(case: Case) -> None:
    block = 100
    draw = case.dist.sampler(np.random.default_rng(42), block=block)
    got = [draw() for _ in range(250)]
    assert all(type(v) is float for v in got)
    rng = np.random.default_rng(42)
    expected = np.concatenate([case.dist.sample(rng, block) for _ in range(3)])[:250]
    assert got == expected.tolist()
    # deterministic: a new sampler with the same seed repeats the sequence
    again = case.dist.sampler(np.random.default_rng(42), block=block)
    assert [again() for _ in range(250)] == got


def test_sampler_default_block_is_one_sample_call() -> None:
    d = Gamma(mean=45, sd=20)
    draw = d.sampler(np.random.default_rng(9))
    got = [draw() for _ in range(1024)]
    assert got == d.sample(np.random.default_rng(9), 1024).tolist()


@pytest.mark.parametrize("block", [0, -1, 1.5, True])
@pytest.mark.parametrize("dist", [Exponential(mean=1), Fixed(value=1)], ids=repr)
def test_sampler_rejects_bad_block(dist: BaseDistribution, block: Any) -> None:
    with pytest.raises(ValueError, match="expected block"):
        dist.sampler(np.random.default_rng(0), block=block)


def test_no_global_random_state_used() -> None:
    state = np.random.get_state()  # noqa: NPY002 - checking that nobody touches it
    for case in CASES:
        case.dist.sample(np.random.default_rng(0), 10)
    after = np.random.get_state()  # noqa: NPY002
    assert state[0] == after[0]
    assert np.array_equal(state[1], after[1])
    assert state[2:] == after[2:]


# --- units ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "time_unit", "attribute", "expected"),
    [
        ({"dist": "exponential", "mean": "2h"}, "minutes", "mean", 120.0),
        ({"dist": "fixed", "value": "90s"}, "minutes", "value", 1.5),
        ({"dist": "fixed", "value": "1.5d"}, "hours", "value", 36.0),
        ({"dist": "fixed", "value": 7}, "hours", "value", 7.0),
        ({"dist": "normal", "mean": "30min", "sd": "10min"}, "hours", "loc", 0.5),
    ],
)
def test_durations_with_units(data: dict, time_unit: str, attribute: str, expected: float) -> None:
    d = ADAPTER.validate_python(data, context={"time_unit": time_unit})
    assert getattr(d, attribute) == pytest.approx(expected)
    assert type(getattr(d, attribute)) is float


def test_units_without_context_are_minutes() -> None:
    assert ADAPTER.validate_python({"dist": "exponential", "mean": "2h"}).mean == 120.0
    assert Fixed(value="90s").value == 1.5
    assert Empirical(values=["1h", 30]).values == (60.0, 30.0)


def test_duration_is_reusable_with_bounds() -> None:
    from typing import Annotated

    from pydantic import Field

    adapter: TypeAdapter[float] = TypeAdapter(Annotated[Duration, Field(gt=0)])
    assert adapter.validate_python("2h", context={"time_unit": "hours"}) == 2.0
    with pytest.raises(ValidationError, match="greater than 0"):
        adapter.validate_python(-1)
    schema = adapter.json_schema()
    number, string = schema["anyOf"]
    assert number == {"type": "number", "exclusiveMinimum": 0}
    assert string["type"] == "string"
    import re

    for ok in ["90s", "30min", "2h", "1.5d", "1w", "12", "2.5e1 sec"]:
        assert re.match(string["pattern"], ok), ok
    for bad in ["abc", "2 hours", "-3h", "m"]:
        assert not re.match(string["pattern"], bad), bad


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"dist": "gamma", "mean": -5, "sd": 2}, "greater than 0"),
        ({"dist": "exponential", "mean": 0}, "greater than 0"),
        ({"dist": "gamma", "mean": 45, "sd": 0}, "greater than 0"),
        ({"dist": "normal", "mean": 1, "sd": 0}, "greater than 0"),
        ({"dist": "uniform", "min": 5, "max": 3}, "expected max > min, got min=5.0, max=3.0"),
        ({"dist": "uniform", "min": -1, "max": 3}, "greater than or equal to 0"),
        (
            {"dist": "triangular", "min": 5, "mode": 50, "max": 40},
            "expected min <= mode <= max, got min=5.0, mode=50.0, max=40.0",
        ),
        (
            {"dist": "triangular", "min": 5, "mode": 1, "max": 40},
            "expected min <= mode <= max, got min=5.0, mode=1.0, max=40.0",
        ),
        ({"dist": "triangular", "min": 5, "mode": 5, "max": 5}, "expected max > min"),
        ({"dist": "gaussian", "mean": 3}, "'gaussian'"),
        ({"mean": 3}, "Unable to extract tag using discriminator 'dist'"),
        ({"dist": "fixed", "value": 2, "mean": 3}, "Extra inputs are not permitted"),
        ({"dist": "fixed", "value": True}, "got True"),
        ({"dist": "erlang", "k": True, "mean": 3}, "expected an integer, got True"),
        ({"dist": "erlang", "k": 0, "mean": 3}, "greater than or equal to 1"),
        ({"dist": "erlang", "k": 2.5, "mean": 3}, "integer"),
        ({"dist": "weibull", "shape": True, "scale": 3}, "expected a number, got True"),
        ({"dist": "weibull", "shape": 0, "scale": 3}, "greater than 0"),
        (
            {"dist": "empirical", "values": [1, 2, 3], "weights": [1, 2]},
            r"expected weights of the same length as values \(3\), got 2",
        ),
        ({"dist": "empirical", "values": [1, 2], "weights": [0, 0]}, "positive sum"),
        ({"dist": "empirical", "values": [1, 2], "weights": [-1, 2]}, "greater than or equal"),
        ({"dist": "empirical", "values": []}, "at least 1 item"),
        ({"dist": "empirical", "values": [1, -2]}, "greater than or equal to 0"),
        (
            {"dist": "fixed", "value": "abc"},
            r"expected a number or a duration such as '90s', '30min', '2h', '1.5d', got 'abc'",
        ),
        ({"dist": "fixed", "value": "nan"}, "expected a finite duration, got 'nan'"),
        ({"dist": "exponential", "mean": "2 hours"}, "got '2 hours'"),
    ],
    ids=lambda v: str(v) if isinstance(v, dict) else None,
)
def test_bad_input_is_rejected_with_a_message(data: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ADAPTER.validate_python(data)


def test_duration_error_carries_parse_duration_message() -> None:
    with pytest.raises(ValidationError) as info:
        ADAPTER.validate_python({"dist": "gamma", "mean": "abc", "sd": 2})
    [error] = info.value.errors()
    assert error["loc"] == ("gamma", "mean")
    assert str(error["ctx"]["error"]) == (
        "expected a number or a duration such as '90s', '30min', '2h', '1.5d', got 'abc'"
    )


def test_models_are_frozen() -> None:
    d = Gamma(mean=45, sd=20)
    with pytest.raises(ValidationError):
        d.mean = 3  # type: ignore[misc]
    assert hash(d) == hash(Gamma(mean=45, sd=20))
    assert hash(Empirical(values=[1, 2], weights=[1, 1]))


# --- repr and schema --------------------------------------------------------------------------


def test_repr_is_yaml_flow_form() -> None:
    assert repr(Gamma(mean=45, sd=20)) == "{dist: gamma, mean: 45.0, sd: 20.0}"
    assert str(Gamma(mean=45, sd=20)) == "{dist: gamma, mean: 45.0, sd: 20.0}"
    assert repr(Normal(mean=-3, sd=1)) == "{dist: normal, mean: -3.0, sd: 1.0}"
    assert repr(Erlang(k=3, mean=12)) == "{dist: erlang, k: 3, mean: 12.0}"
    assert (
        repr(Empirical(values=[1, 2], weights=[0.5, 0.5]))
        == "{dist: empirical, values: [1.0, 2.0], weights: [0.5, 0.5]}"
    )
    assert repr(Empirical(values=[1, 2])) == "{dist: empirical, values: [1.0, 2.0]}"


@pytest.mark.parametrize(
    "dist",
    [c.dist for c in CASES] + [Fixed(value=1e-5), Fixed(value=1e20), Weibull(shape=0.5, scale=2)],
    ids=repr,
)
def test_repr_round_trips(dist: BaseDistribution) -> None:
    loaded = yaml.safe_load(repr(dist))
    assert isinstance(loaded, dict)
    assert all(not isinstance(v, str) or k == "dist" for k, v in loaded.items())
    again = ADAPTER.validate_python(loaded)
    assert again == dist
    assert type(again) is type(dist)


def test_json_schema() -> None:
    schema = ADAPTER.json_schema()
    assert set(schema["discriminator"]["mapping"]) == TAGS
    assert len(schema["oneOf"]) == len(TAGS)
    gamma = schema["$defs"]["Gamma"]
    assert gamma["required"][0] == "dist"
    assert gamma["additionalProperties"] is False
    assert {"type": "number", "exclusiveMinimum": 0} in gamma["properties"]["mean"]["anyOf"]
    assert "mean" in schema["$defs"]["Normal"]["properties"]  # the YAML key, not "loc"
    assert schema["$defs"]["Erlang"]["properties"]["k"]["minimum"] == 1
    assert ">>>" not in str(schema)  # docstring examples are not for schema readers


@pytest.mark.parametrize(("seed", "error"), [
    (-1, ValueError), ("x", ValueError), (1.5, ValueError), (True, ValueError),
    (float("nan"), ValueError), (None, TypeError), ([1], TypeError),
])
def test_random_streams_refuse_a_seed_numpy_cannot_use(seed: Any, error: type) -> None:
    from procsim.errors import ProcsimError
    from procsim.rng import RandomStreams

    with pytest.raises(error, match="expected a seed that is an integer >= 0") as info:
        RandomStreams(seed, 0)
    assert isinstance(info.value, ProcsimError)
    assert RandomStreams(np.int64(7), 0).generator("x").random() == \
        RandomStreams(7, 0).generator("x").random()


@pytest.mark.parametrize("convert", [
    partial(units.to_hours, 1.0), partial(units.format_duration, 1.0),
    partial(units.parse_duration, "2h"),
], ids=["to_hours", "format_duration", "parse_duration"])
def test_an_unknown_time_unit_is_a_usage_error(convert: Any) -> None:
    with pytest.raises(UsageError, match=r"expected a time unit \(seconds, minutes, hours, days\), "
                                         r"got 'weeks'"):
        convert("weeks")
