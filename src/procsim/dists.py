"""Probability distributions of durations, as the pydantic models a model file is written in.

Each distribution is a frozen pydantic model tagged by its ``dist`` field, so the
YAML a user writes (``{dist: gamma, mean: 45, sd: 20}``) validates straight into
an object that knows its exact ``mean`` and ``variance`` and can ``sample``
itself. Its ``repr`` is that same YAML flow form. Duration parameters accept a
bare number, in the model's time unit, or a string with its own unit (``"90s"``,
``"30min"``, ``"2h"``, ``"1.5d"``); the time unit comes from the pydantic
validation context (``context={"time_unit": ...}``) and is ``"minutes"`` without one.

Randomness always comes from the numpy ``Generator`` passed in, never from
global state, so the same seed gives the same draws.

The same seed gives the same draws on every CPU, too. numpy picks the kernels of array
ufuncs such as ``np.exp``, ``np.log`` and ``np.power`` at run time by the CPU's SIMD
features, and its AVX-512 kernels round differently in the last bit from the scalar ones.
So no such ufunc lies between the generator's uniforms and a variate: the generator's own
methods are scalar C code, sums and products are exactly rounded whatever the kernel, and
the transcendental steps are taken element by element with :mod:`math` (the C library's
functions) or with ``scipy.special`` (compiled without run-time dispatch).
``tests/test_cpu_independence.py`` checks it by simulating with numpy's SIMD dispatch
switched off (``NPY_DISABLE_CPU_FEATURES``).

Examples
--------
>>> import numpy as np
>>> from pydantic import TypeAdapter
>>> adapter = TypeAdapter(Distribution)
>>> d = adapter.validate_python({"dist": "gamma", "mean": "1h", "sd": 20})
>>> d
{dist: gamma, mean: 60.0, sd: 20.0}
>>> round(d.variance, 6)
400.0
>>> adapter.validate_python({"dist": "exponential", "mean": "2h"}, context={"time_unit": "hours"})
{dist: exponential, mean: 2.0}
>>> draw = d.sampler(np.random.default_rng(1))
>>> draw() >= 0.0
True
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    ValidationInfo,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from procsim.errors import UsageError
from procsim.units import SUFFIX_SECONDS, parse_duration

__all__ = [
    "DISTRIBUTIONS",
    "BaseDistribution",
    "Distribution",
    "Duration",
    "Empirical",
    "Erlang",
    "Exponential",
    "Fixed",
    "Gamma",
    "Histogram",
    "LogNormal",
    "Normal",
    "Triangular",
    "Uniform",
    "Weibull",
]

DEFAULT_TIME_UNIT = "minutes"


# --- field types ------------------------------------------------------------------------------


def _parse_duration(value: object, info: ValidationInfo) -> float:
    context = info.context if isinstance(info.context, Mapping) else {}
    amount = parse_duration(value, context.get("time_unit", DEFAULT_TIME_UNIT))
    if not math.isfinite(amount):
        # parse_duration's float() fallback lets "nan" and "inf" through; neither is a duration.
        raise UsageError(f"expected a finite duration, got {value!r}")
    return amount


# parse_duration accepts these suffixes (and a bare number written as a string). Built from
# the units table so the JSON Schema cannot drift from what the parser takes.
_SUFFIX_PATTERN = "|".join(sorted(SUFFIX_SECONDS, key=len, reverse=True))
DURATION_PATTERN = rf"^\s*[0-9]*\.?[0-9]+([eE][+-]?[0-9]+)?\s*({_SUFFIX_PATTERN})?\s*$"

# Pydantic reports numeric bounds stacked on a validator-wrapped number under their Python
# names ("gt"); JSON Schema spells them differently.
_JSON_BOUNDS = {
    "gt": "exclusiveMinimum",
    "ge": "minimum",
    "lt": "exclusiveMaximum",
    "le": "maximum",
}


class _JsonBounds:
    """Rename numeric bounds in the JSON Schema to their JSON Schema keywords."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {_JSON_BOUNDS.get(k, k): v for k, v in handler(core_schema).items()}


class _DurationJsonSchema(_JsonBounds):
    """JSON Schema of a :data:`Duration`: a number (keeping its bounds) or a duration string."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        number = super().__get_pydantic_json_schema__(core_schema, handler)
        if handler.mode == "serialization":  # after validation a duration is a plain float
            return number
        return {"anyOf": [number, {"type": "string", "pattern": DURATION_PATTERN}]}


#: A duration: a number in the model's time unit or a string with a unit (``"90s"``,
#: ``"30min"``, ``"2h"``, ``"1.5d"``), converted to a float in the unit named by the
#: validation context's ``time_unit`` (``"minutes"`` without one). Add bounds with
#: ``Annotated[Duration, Field(gt=0)]``.
Duration = Annotated[float, BeforeValidator(_parse_duration), _DurationJsonSchema()]


def _real(value: object) -> object:
    # Lax pydantic floats take True as 1.0; in a model file that is always a mistake.
    if isinstance(value, bool):
        raise UsageError(f"expected a number, got {value!r}")
    return value


def _integer(value: object) -> object:
    if isinstance(value, bool):
        raise UsageError(f"expected an integer, got {value!r}")
    return value


_Real = Annotated[float, BeforeValidator(_real), Field(allow_inf_nan=False), _JsonBounds()]
_Integer = Annotated[int, BeforeValidator(_integer), _JsonBounds()]
_PositiveDuration = Annotated[Duration, Field(gt=0)]
_NonNegativeDuration = Annotated[Duration, Field(ge=0)]


def _tidy_schema(schema: dict[str, Any]) -> None:
    # The description is the class docstring; its examples are for Python users, not for
    # someone writing YAML in an editor. Keep the first paragraph.
    if "description" in schema:
        schema["description"] = schema["description"].split("\n\n")[0]
    # ``dist`` has a default so that ``Gamma(mean=45, sd=20)`` works in code, but a model
    # file must name its distribution: say so in the JSON Schema as validation does.
    required = schema.setdefault("required", [])
    if "dist" not in required:
        required.insert(0, "dist")


# --- YAML flow form ---------------------------------------------------------------------------


def _yaml_scalar(value: object) -> str:
    if isinstance(value, float):
        text = repr(value)
        # PyYAML (YAML 1.1) reads "1e-05" as a string; "1.0e-05" as a float.
        mantissa, e, exponent = text.partition("e")
        if e and "." not in mantissa:
            text = f"{mantissa}.0e{exponent}"
        return text
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_yaml_scalar(v) for v in value) + "]"
    return str(value)


def _check_block(block: object) -> None:
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise UsageError(f"expected block to be an integer >= 1, got {block!r}")


# --- the distributions ------------------------------------------------------------------------


class BaseDistribution(BaseModel):
    """Common behaviour of every distribution: exact moments, sampling and the YAML ``repr``.

    Subclasses provide ``mean`` (a field or a property), ``variance`` and ``sample``.
    Use :data:`Distribution` to validate user input, this class for ``isinstance``.
    """

    model_config = ConfigDict(
        # defer_build: validators built on first use, not at import (see model.schema._Spec)
        extra="forbid", frozen=True, defer_build=True, json_schema_extra=_tidy_schema,
        # Dump the YAML names (Normal stores its "mean" as loc), so dumps load back.
        serialize_by_alias=True,
    )

    if TYPE_CHECKING:
        # Declared for the type checker only: at run time a pydantic field of the same
        # name in a subclass (``Gamma.mean``) must not shadow an attribute of this class.
        dist: str

        @property
        def mean(self) -> float:
            """Exact mean of the distribution, in the model's time unit."""

    @property
    def variance(self) -> float:
        """Exact variance of the distribution, in the model's time unit squared."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` independent samples (all ≥ 0) from ``rng``.

        Parameters
        ----------
        rng : numpy.random.Generator
            The stream to draw from; the only source of randomness.
        size : int
            Number of samples.

        Returns
        -------
        numpy.ndarray
            A float array of shape ``(size,)``.
        """
        raise NotImplementedError

    def sampler(self, rng: np.random.Generator, block: int = 1024) -> Callable[[], float]:
        """Return a function that gives the next sample as a Python float on each call.

        Samples are drawn ``block`` at a time with :meth:`sample`, so a sampler gives the
        same sequence as successive ``sample(rng, block)`` calls on the same stream.

        Parameters
        ----------
        rng : numpy.random.Generator
            The stream to draw from; the sampler keeps a reference to it.
        block : int, default 1024
            Number of samples drawn at once.

        Examples
        --------
        >>> import numpy as np
        >>> draw = Uniform(min=2, max=4).sampler(np.random.default_rng(3), block=256)
        >>> x = draw()
        >>> type(x), 2.0 <= x <= 4.0
        (<class 'float'>, True)
        """
        _check_block(block)
        pop, refill = self.buffered(rng, block)

        def draw() -> float:
            try:
                return pop()
            except IndexError:
                return refill()

        return draw

    def buffered(self, rng: np.random.Generator,
                  block: int) -> tuple[Callable[[], float], Callable[[], float]]:
        """The sampler in two parts, for the engine's hot path.

        ``pop()`` returns the next sample of the current block and raises ``IndexError``
        when the block is used up; ``refill()`` then draws the next block and returns its
        first sample. The engine calls ``pop`` (a C method) directly and ``refill`` in an
        ``except``, which saves a Python function call per sample.
        """
        sample = self.block_sampler()
        buffer: list[float] = []

        def refill() -> float:
            buffer.extend(sample(rng, block)[::-1].tolist())
            return buffer.pop()

        return buffer.pop, refill

    def block_sampler(self) -> Callable[[np.random.Generator, int], np.ndarray]:
        """Return a function equivalent to :meth:`sample`, set up once for many blocks."""
        return self.sample

    def check_sampling(self) -> None:
        """Draw a few samples, so that parameters the sampling arithmetic cannot use raise
        (or warn) here, when the model is checked, rather than in the middle of a run."""
        self.sample(np.random.default_rng(0), 4)

    def __repr__(self) -> str:
        items = [f"dist: {self.dist}"]
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if name != "dist" and value is not None:
                items.append(f"{field.alias or name}: {_yaml_scalar(value)}")
        return "{" + ", ".join(items) + "}"

    __str__ = __repr__


class _ScipyDistribution(BaseDistribution):
    """A distribution backed by a frozen ``scipy.stats`` distribution.

    ``scipy.stats`` takes about a second to import, longer than a small simulation runs,
    so it is imported only when a moment or a sample needs it. The common distributions
    draw through numpy directly (``_numpy_sampler``), with exactly the operations
    ``scipy.stats`` would apply to the same generator, so the samples are the same bit
    for bit (``tests/test_dists.py`` checks it) and scipy is never imported to simulate them.
    """

    def _scipy(self) -> Any:
        raise NotImplementedError

    def _numpy_sampler(self) -> Callable[[np.random.Generator, int], np.ndarray] | None:
        """``rv.rvs(size, random_state=rng)`` of ``self._scipy()`` in numpy, or ``None``.

        scipy draws ``vals = rv._rvs(*shapes, size, rng)`` and returns
        ``vals * scale + loc``; each override repeats exactly that.
        """
        return None

    @property
    def variance(self) -> float:
        return float(self._scipy().var())

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.block_sampler()(rng, size)

    def block_sampler(self) -> Callable[[np.random.Generator, int], np.ndarray]:
        # Building a frozen scipy distribution costs far more than drawing a block from
        # it; a sampler builds it once.
        draw = self._numpy_sampler()
        if draw is None:
            rv = self._scipy()
            draw = partial(_scipy_rvs, rv)
        return partial(_nonnegative, draw)


def _scipy_rvs(rv: Any, rng: np.random.Generator, size: int) -> np.ndarray:
    return np.asarray(rv.rvs(size=size, random_state=rng), dtype=float)


def _nonnegative(draw: Callable[[np.random.Generator, int], np.ndarray],
                 rng: np.random.Generator, size: int) -> np.ndarray:
    x = draw(rng, size)
    # The support starts at 0 or above, but loc + scale * u can round to -1e-17.
    return np.maximum(x, 0.0, out=x)


def _stats() -> Any:
    from scipy import stats

    return stats


def _elementwise(function: Callable[[float], float], x: np.ndarray) -> np.ndarray:
    """``function`` applied to every element of ``x``, in scalar code.

    The counterpart of a numpy ufunc whose result does not depend on the CPU's SIMD
    features (see the module docstring); about 50 ns an element, small beside what the
    engine spends on each sample.
    """
    return np.fromiter(map(function, x.tolist()), dtype=float, count=len(x))


def _scaled_variance(mu2: Any, scale: float) -> float:
    """``mu2 * scale * scale`` as ``scipy.stats`` computes a variance from its standard form.

    In numpy float64, like scipy: an overflow warns (and the model check, which turns
    warnings into errors, reports the parameters as too extreme) instead of giving inf.
    """
    return float(mu2 * np.float64(scale) * np.float64(scale))


class Fixed(BaseDistribution):
    """A constant duration.

    Examples
    --------
    >>> Fixed(value="90s").mean
    1.5
    """

    dist: Literal["fixed"] = "fixed"
    value: _NonNegativeDuration

    @property
    def mean(self) -> float:
        return self.value

    @property
    def variance(self) -> float:
        return 0.0

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value, dtype=float)

    def sampler(self, rng: np.random.Generator, block: int = 1024) -> Callable[[], float]:
        _check_block(block)
        value = self.value  # nothing to draw: skip the buffer
        return lambda: value

    def buffered(self, rng: np.random.Generator,
                  block: int) -> tuple[Callable[[], float], Callable[[], float]]:
        value = self.value  # nothing to draw: "pop" never runs out
        return (lambda: value), (lambda: value)


class Uniform(_ScipyDistribution):
    """Uniform between ``min`` and ``max``."""

    dist: Literal["uniform"] = "uniform"
    min: _NonNegativeDuration
    max: Duration

    @model_validator(mode="after")
    def _check_order(self) -> Self:
        if not self.max > self.min:
            raise UsageError(f"expected max > min, got min={self.min!r}, max={self.max!r}")
        return self

    def _scipy(self) -> Any:
        return _stats().uniform(loc=self.min, scale=self.max - self.min)

    def _numpy_sampler(self) -> Callable[[np.random.Generator, int], np.ndarray]:
        loc, scale = self.min, self.max - self.min
        return lambda rng, size: rng.uniform(0.0, 1.0, size) * scale + loc

    @property
    def variance(self) -> float:
        return _scaled_variance(1.0 / 12, self.max - self.min)

    @property
    def mean(self) -> float:
        # scipy's uniform mean, 0.5 * scale + loc, without importing scipy
        return 0.5 * (self.max - self.min) + self.min


class Triangular(_ScipyDistribution):
    """Triangular on ``[min, max]`` with its peak at ``mode``.

    Examples
    --------
    >>> Triangular(min=10, mode=20, max=60).mean
    30.0
    """

    dist: Literal["triangular"] = "triangular"
    min: _NonNegativeDuration
    mode: Duration
    max: Duration

    @model_validator(mode="after")
    def _check_order(self) -> Self:
        if not self.max > self.min:
            raise UsageError(f"expected max > min, got min={self.min!r}, max={self.max!r}")
        if not self.min <= self.mode <= self.max:
            raise UsageError(
                f"expected min <= mode <= max, "
                f"got min={self.min!r}, mode={self.mode!r}, max={self.max!r}"
            )
        return self

    def _scipy(self) -> Any:
        width = self.max - self.min
        return _stats().triang(c=(self.mode - self.min) / width, loc=self.min, scale=width)

    def _numpy_sampler(self) -> Callable[[np.random.Generator, int], np.ndarray]:
        loc, scale = self.min, self.max - self.min
        c = (self.mode - self.min) / scale
        return lambda rng, size: rng.triangular(0, c, 1, size) * scale + loc

    @property
    def variance(self) -> float:
        width = self.max - self.min
        c = np.float64((self.mode - self.min) / width)
        return _scaled_variance((1.0 - c + c * c) / 18, width)

    @property
    def mean(self) -> float:
        # scipy's triang mean, (1 + c) / 3 * scale + loc, without importing scipy
        width = self.max - self.min
        return (1.0 + (self.mode - self.min) / width) / 3.0 * width + self.min


class Normal(_ScipyDistribution):
    """Normal with location ``mean`` and scale ``sd``, truncated at 0.

    ``mean`` and ``sd`` are the parameters of the normal law before truncation; the
    ``mean`` and ``variance`` properties are those of the truncated law, which is what
    gets sampled. In Python the location is the attribute ``loc`` (``mean`` in YAML).

    Examples
    --------
    >>> d = Normal(mean=1, sd=2)
    >>> d.loc, d.mean > 1
    (1.0, True)
    """

    dist: Literal["normal"] = "normal"
    # Stored as ``loc`` because ``mean`` is the (different) mean of the truncated law.
    loc: Duration = Field(alias="mean")
    sd: _PositiveDuration

    def _scipy(self) -> Any:
        return _stats().truncnorm(a=-self.loc / self.sd, b=np.inf, loc=self.loc, scale=self.sd)

    def _numpy_sampler(self) -> Callable[[np.random.Generator, int], np.ndarray]:
        # Inversion of the truncated law, in log space so that it stays exact however far
        # below zero the mean lies: with a = -loc/sd and one uniform u per draw,
        # P(Z > z | Z >= a) = Phi(-z) / Phi(-a) = 1 - u gives
        # z = -ndtri_exp(log1p(-u) + log_ndtr(-a)). scipy.special's functions are compiled
        # without run-time SIMD dispatch, so the draws are the same on every CPU (scipy's own
        # truncnorm.rvs goes through np.log and np.exp on arrays and is not).
        from scipy import special

        loc, sd = self.loc, self.sd
        log_tail = float(special.log_ndtr(loc / sd))

        def draw(rng: np.random.Generator, size: int) -> np.ndarray:
            z = -special.ndtri_exp(special.log1p(-rng.random(size)) + log_tail)
            return z * sd + loc

        return draw

    def _hazard(self) -> tuple[float, float]:
        """``a = -loc/sd`` and the standard normal's hazard at it, ``pdf(a) / sf(a)``.

        With them the truncated law's moments have a closed form, the one ``scipy.stats``
        uses (``truncnorm._stats``): mean ``loc + sd·h`` and variance ``sd²·(1 + (a - h)·h)``.
        They are computed with :mod:`math` so that checking a model does not import
        ``scipy.stats`` (about a second); ``tests/test_dists.py`` checks them against it.
        """
        a = -self.loc / self.sd
        if math.isnan(a) or a == math.inf:  # no mass left above 0: scipy's moments are nan
            return a, math.nan
        if a < _MILLS_CONTINUED_FRACTION_FROM:
            # sf(a) = erfc(a/√2)/2 keeps its relative accuracy far into the right tail.
            return a, _STANDARD_PDF_AT_0 * math.exp(-0.5 * a * a) / (0.5 * math.erfc(a / _SQRT2))
        if a > _LARGEST_SQUARABLE:
            # scipy's log-density, -a²/2, overflows here: it warns and gives nan, and so do we.
            warnings.warn("overflow encountered in the truncated normal's moments",
                          RuntimeWarning, stacklevel=3)
            return a, math.nan
        return a, 1.0 / _mills_ratio(a)

    @property
    def mean(self) -> float:
        _, h = self._hazard()
        # In numpy float64, as scipy computes ``mu * scale + loc``: an overflow warns.
        return float(np.float64(h) * np.float64(self.sd) + np.float64(self.loc))

    def check_sampling(self) -> None:
        """Nothing to draw: with a finite mean and variance (checked first) every step of the
        sampler is finite. The variance bounds ``sd`` below 1.4e154 and ``a = -loc/sd`` below
        1.4e154 too; the inversion gives ``z`` within a few units of ``max(a, 0)``, so
        ``z·sd + loc`` stays within a few ``sd`` of ``max(loc, 0)`` and cannot overflow.
        Drawing would import ``scipy.special`` (about 0.3 s), more than checking the whole
        model costs.
        """

    @property
    def variance(self) -> float:
        a, h = self._hazard()
        # As scipy: a zero density at a adds nothing (and a = -inf gives no inf * 0).
        return _scaled_variance(1.0 + (a - h) * h if h != 0.0 else 1.0, self.sd)


_SQRT2 = math.sqrt(2.0)
_STANDARD_PDF_AT_0 = 1.0 / math.sqrt(2.0 * math.pi)
#: Beyond this point ``math.erfc`` nears underflow (at a ≈ 37.5) and the pdf loses digits to
#: ``a²``; the continued fraction converges in a few dozen terms from here on.
_MILLS_CONTINUED_FRACTION_FROM = 30.0
_LARGEST_SQUARABLE = math.sqrt(np.finfo(float).max)


def _mills_ratio(a: float) -> float:
    """``sf(a) / pdf(a)`` of the standard normal for large ``a``, by Laplace's continued fraction
    ``1 / (a + 1 / (a + 2 / (a + 3 / (a + ...))))``, evaluated from the tail up.

    >>> round(_mills_ratio(40.0) * 40.0, 9)  # a·sf/pdf → 1 as a grows
    0.999376168
    """
    tail = a
    for k in range(60, 0, -1):
        tail = a + k / tail
    return 1.0 / tail


class LogNormal(_ScipyDistribution):
    """Log-normal with the given ``mean`` and ``sd`` of the variable itself (not of its log).

    Examples
    --------
    >>> d = LogNormal(mean=45, sd=20)
    >>> d.mean, round(d.variance, 6)
    (45.0, 400.0)
    """

    dist: Literal["lognormal"] = "lognormal"
    mean: _PositiveDuration
    sd: _PositiveDuration

    def _parameters(self) -> tuple[float, float]:
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        return math.sqrt(sigma2), self.mean * math.exp(-sigma2 / 2)

    def _scipy(self) -> Any:
        s, scale = self._parameters()
        return _stats().lognorm(s=s, scale=scale)

    def _numpy_sampler(self) -> Callable[[np.random.Generator, int], np.ndarray]:
        # scipy's lognorm draws exp(s * z) * scale + loc; exp is taken in scalar code so
        # that the result does not depend on numpy's SIMD kernels.
        s, scale = self._parameters()
        return lambda rng, size: _elementwise(math.exp, s * rng.standard_normal(size)) * scale + 0.0

    @property
    def variance(self) -> float:
        s, scale = self._parameters()
        p = np.exp(np.float64(s) * np.float64(s))
        return _scaled_variance(p * (p - 1), scale)


class Gamma(_ScipyDistribution):
    """Gamma with the given ``mean`` and ``sd`` (shape ``(mean/sd)²``, scale ``sd²/mean``).

    Examples
    --------
    >>> d = Gamma(mean=45, sd=20)
    >>> d
    {dist: gamma, mean: 45.0, sd: 20.0}
    >>> round(d.variance, 6)
    400.0
    """

    dist: Literal["gamma"] = "gamma"
    mean: _PositiveDuration
    sd: _PositiveDuration

    def _scipy(self) -> Any:
        return _stats().gamma(a=(self.mean / self.sd) ** 2, scale=self.sd**2 / self.mean)

    def _numpy_sampler(self) -> Callable[[np.random.Generator, int], np.ndarray]:
        a, scale = (self.mean / self.sd) ** 2, self.sd**2 / self.mean
        return lambda rng, size: rng.standard_gamma(a, size) * scale + 0.0

    @property
    def variance(self) -> float:
        return _scaled_variance((self.mean / self.sd) ** 2, self.sd**2 / self.mean)


class Exponential(_ScipyDistribution):
    """Exponential with the given ``mean``."""

    dist: Literal["exponential"] = "exponential"
    mean: _PositiveDuration

    def _scipy(self) -> Any:
        return _stats().expon(scale=self.mean)

    def _numpy_sampler(self) -> Callable[[np.random.Generator, int], np.ndarray]:
        scale = self.mean
        return lambda rng, size: rng.standard_exponential(size) * scale + 0.0

    @property
    def variance(self) -> float:
        return _scaled_variance(1.0, self.mean)


class Erlang(_ScipyDistribution):
    """Sum of ``k`` exponential phases; ``mean`` is the mean of the whole sum.

    Examples
    --------
    >>> Erlang(k=4, mean=20).variance
    100.0
    """

    dist: Literal["erlang"] = "erlang"
    k: Annotated[_Integer, Field(ge=1)]
    mean: _PositiveDuration

    def _scipy(self) -> Any:
        return _stats().erlang(a=self.k, scale=self.mean / self.k)

    def _numpy_sampler(self) -> Callable[[np.random.Generator, int], np.ndarray]:
        a, scale = self._shape(), self.mean / self.k
        return lambda rng, size: rng.standard_gamma(a, size) * scale + 0.0

    def _shape(self) -> float:
        # As scipy converts it: a k beyond int64 raises OverflowError (too extreme).
        return float(np.int64(self.k))

    @property
    def variance(self) -> float:
        return _scaled_variance(self._shape(), self.mean / self.k)


class Weibull(_ScipyDistribution):
    """Weibull with dimensionless ``shape`` and a duration ``scale``."""

    dist: Literal["weibull"] = "weibull"
    shape: Annotated[_Real, Field(gt=0)]
    scale: _PositiveDuration

    def _scipy(self) -> Any:
        return _stats().weibull_min(c=self.shape, scale=self.scale)

    def _numpy_sampler(self) -> Callable[[np.random.Generator, int], np.ndarray]:
        # scipy's weibull_min.rvs by inversion, (-log1p(-u)) ** (1/c) * scale, with the
        # logarithm and the power in scalar code (np.power's AVX-512 kernel rounds otherwise).
        exponent, scale = 1.0 / self.shape, self.scale

        def draw(rng: np.random.Generator, size: int) -> np.ndarray:
            e = _elementwise(math.log1p, -rng.random(size))
            return _elementwise(lambda v: (-v) ** exponent, e) * scale + 0.0

        return draw

    def _raw_moment(self, n: int) -> float:
        """E[X**n] of the standard law, ``gamma(1 + n/c)``, inf where it overflows (as scipy)."""
        try:
            return math.gamma(1.0 + n * 1.0 / self.shape)
        except OverflowError:
            return math.inf

    @property
    def mean(self) -> float:
        # scipy's weibull_min mean, gamma(1 + 1/c) * scale + loc, without importing scipy
        return self._raw_moment(1) * self.scale

    @property
    def variance(self) -> float:
        # scipy's weibull_min variance from its raw moments: (m2 - m1²) * scale², inf when
        # m1 is, without importing scipy
        m1 = self._raw_moment(1)
        if math.isinf(m1):
            return math.inf
        return _scaled_variance(np.float64(self._raw_moment(2)) - np.float64(m1) ** 2, self.scale)


class Empirical(BaseDistribution):
    """One of the observed ``values``, drawn with probability proportional to ``weights``.

    Without ``weights`` every value is equally likely. Both are stored as tuples, so
    the model stays immutable and hashable.

    Examples
    --------
    >>> d = Empirical(values=[1, 2, 6], weights=[1, 1, 2])
    >>> d
    {dist: empirical, values: [1.0, 2.0, 6.0], weights: [1.0, 1.0, 2.0]}
    >>> d.mean
    3.75
    """

    dist: Literal["empirical"] = "empirical"
    values: tuple[_NonNegativeDuration, ...] = Field(min_length=1)
    weights: tuple[Annotated[_Real, Field(ge=0)], ...] | None = None

    @model_validator(mode="after")
    def _check_weights(self) -> Self:
        if self.weights is None:
            return self
        if len(self.weights) != len(self.values):
            raise UsageError(
                f"expected weights of the same length as values ({len(self.values)}), "
                f"got {len(self.weights)}"
            )
        if not sum(self.weights) > 0:
            raise UsageError(f"expected weights with a positive sum, got {list(self.weights)!r}")
        return self

    def _probabilities(self) -> np.ndarray | None:
        if self.weights is None:
            return None
        p = np.asarray(self.weights, dtype=float)
        return p / p.sum()

    @property
    def mean(self) -> float:
        return float(np.average(self.values, weights=self._probabilities()))

    @property
    def variance(self) -> float:
        x = np.asarray(self.values, dtype=float)
        p = self._probabilities()
        return float(np.average((x - np.average(x, weights=p)) ** 2, weights=p))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.choice(np.asarray(self.values, dtype=float), size=size, p=self._probabilities())


class Histogram(BaseDistribution):
    """A histogram, as an event log yields it: bin ``edges`` and the ``probabilities`` of
    the bins; within a bin every value is equally likely.

    Probabilities are normalised when they do not sum to exactly 1 (counts can be given
    as they are).

    Examples
    --------
    >>> d = Histogram(edges=[0, 5, 10, 30], probabilities=[0.5, 0.3, 0.2])
    >>> d.mean
    7.5
    >>> round(d.variance, 4)
    52.0833
    """

    dist: Literal["histogram"] = "histogram"
    edges: tuple[_NonNegativeDuration, ...] = Field(min_length=2)
    probabilities: tuple[Annotated[_Real, Field(ge=0)], ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_bins(self) -> Self:
        if len(self.probabilities) != len(self.edges) - 1:
            raise UsageError(
                f"expected one probability per bin ({len(self.edges) - 1} for "
                f"{len(self.edges)} edges), got {len(self.probabilities)}"
            )
        if any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise UsageError(f"expected strictly increasing edges, got {list(self.edges)!r}")
        if not sum(self.probabilities) > 0:
            raise UsageError(
                f"expected probabilities with a positive sum, got {list(self.probabilities)!r}")
        return self

    def _p(self) -> np.ndarray:
        p = np.asarray(self.probabilities, dtype=float)
        return p / p.sum()

    @property
    def mean(self) -> float:
        e = np.asarray(self.edges, dtype=float)
        return float(np.sum(self._p() * (e[:-1] + e[1:]) / 2))

    @property
    def variance(self) -> float:
        e = np.asarray(self.edges, dtype=float)
        a, b, p = e[:-1], e[1:], self._p()
        second = np.sum(p * (a * a + a * b + b * b) / 3)  # E[X^2] of a uniform mixture
        return float(second - self.mean**2)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        e = np.asarray(self.edges, dtype=float)
        p = self._p()
        # Inversion of the piecewise-linear CDF: one uniform per draw (common random numbers).
        # A uniform falls in a bin of positive probability (side="right" skips empty bins).
        cdf = np.concatenate([[0.0], np.cumsum(p)])
        u = rng.random(size) * cdf[-1]
        k = np.clip(np.searchsorted(cdf, u, side="right") - 1, 0, len(p) - 1)
        return e[k] + (u - cdf[k]) / p[k] * (e[k + 1] - e[k])


#: Any duration distribution, told apart by its ``dist`` tag; validate user input with
#: ``TypeAdapter(Distribution)``.
Distribution = Annotated[
    Fixed
    | Uniform
    | Triangular
    | Normal
    | LogNormal
    | Gamma
    | Exponential
    | Erlang
    | Weibull
    | Empirical
    | Histogram,
    Field(discriminator="dist"),
]

#: Distribution class by its ``dist`` tag.
DISTRIBUTIONS: dict[str, type[BaseDistribution]] = {
    cls.model_fields["dist"].default: cls
    for cls in (
        Fixed,
        Uniform,
        Triangular,
        Normal,
        LogNormal,
        Gamma,
        Exponential,
        Erlang,
        Weibull,
        Empirical,
        Histogram,
    )
}
