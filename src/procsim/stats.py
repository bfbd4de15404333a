"""Output analysis across independent replications.

Every statistic procsim reports comes with an honest measure of its own
uncertainty. Replications are independent and (by the central limit theorem)
their per-replication KPI values are close to normal, so the Student-t interval
across replications is the workhorse here; paired differences exploit common
random numbers; MSER-5 removes the warm-up bias that a t interval cannot see.

All quantiles come from scipy (the Student-t functions of :mod:`scipy.special`, which
``scipy.stats.t`` calls too; they import much faster); nothing here is a hand-written table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from procsim.errors import UsageError

__all__ = [
    "Estimate",
    "estimate",
    "mser5",
    "paired_difference",
    "parse_percentile",
    "pooled_percentiles",
    "replications_needed",
    "sectioned_percentile",
]


def _json_float(x: float) -> float | None:
    # JSON has no NaN or Infinity; ``json.dumps`` would write invalid JSON for them.
    return float(x) if math.isfinite(x) else None


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a confidence interval across replications.

    Parameters
    ----------
    mean : float
        Mean of the per-replication values.
    sd : float
        Sample standard deviation across replications (``ddof=1``); NaN when ``n < 2``.
    n : int
        Number of replications used (NaN values are not counted).
    half_width : float
        Half-width of the confidence interval; ``inf`` when ``n == 1``.
    confidence : float
        Confidence level of the interval, e.g. ``0.95``.

    Examples
    --------
    >>> e = Estimate(mean=10.0, sd=2.0, n=4, half_width=3.0, confidence=0.95)
    >>> e.ci
    (7.0, 13.0)
    >>> e.relative_half_width
    0.3
    >>> e.to_dict()
    {'mean': 10.0, 'ci95': [7.0, 13.0], 'half_width': 3.0, 'sd_replications': 2.0, 'n': 4}
    """

    mean: float
    sd: float
    n: int
    half_width: float
    confidence: float

    @property
    def ci(self) -> tuple[float, float]:
        """The interval ``(mean - half_width, mean + half_width)``."""
        return (self.mean - self.half_width, self.mean + self.half_width)

    @property
    def relative_half_width(self) -> float:
        """``half_width / |mean|``; ``inf`` when the mean is zero."""
        if self.mean == 0:
            return math.inf
        return self.half_width / abs(self.mean)

    def to_dict(self) -> dict[str, object]:
        """JSON-safe summary; NaN and infinities become ``None``.

        The interval key names the confidence level: ``"ci95"`` at 95 %, ``"ci90"`` at 90 %.
        """
        lo, hi = self.ci
        return {
            "mean": _json_float(self.mean),
            f"ci{round(self.confidence * 100)}": [_json_float(lo), _json_float(hi)],
            "half_width": _json_float(self.half_width),
            "sd_replications": _json_float(self.sd),
            "n": int(self.n),
        }


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise UsageError(f"expected a confidence level between 0 and 1, got {confidence!r}")


def _as_vector(values: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise UsageError(f"expected a 1-d array of {name}, got shape {x.shape}")
    return x


def estimate(values: npt.ArrayLike, confidence: float = 0.95) -> Estimate:
    """Student-t confidence interval for the mean of per-replication values.

    Parameters
    ----------
    values : array_like of float, 1-d
        One value per independent replication. NaN values (e.g. a KPI with no
        completed case in that replication) are ignored.
    confidence : float, default 0.95
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    Estimate
        With ``n`` the number of non-NaN values. ``n == 0`` gives a NaN mean;
        ``n == 1`` gives ``sd = nan`` and ``half_width = inf``; a constant sample
        gives ``half_width = 0``.

    Examples
    --------
    >>> e = estimate([9.0, 10.0, 11.0, 12.0, float("nan")])
    >>> e.n, e.mean
    (4, 10.5)
    >>> round(e.half_width, 4)
    2.0543
    >>> estimate([4.0]).half_width
    inf
    """
    _check_confidence(confidence)
    x = _as_vector(values, "replication values")
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return Estimate(math.nan, math.nan, 0, math.nan, confidence)
    mean = float(np.mean(x))
    if n == 1:
        return Estimate(mean, math.nan, 1, math.inf, confidence)
    if np.all(x == x[0]):
        # Exactly zero, not the ~1e-17 that rounding in mean/std would leave.
        return Estimate(float(x[0]), 0.0, n, 0.0, confidence)
    sd = float(np.std(x, ddof=1))
    # scipy.stats.t.ppf is this function; scipy.special imports in a third of the time.
    from scipy.special import stdtrit

    t = float(stdtrit(n - 1, 0.5 + confidence / 2.0))
    return Estimate(mean, sd, n, t * sd / math.sqrt(n), confidence)


def paired_difference(
    baseline: npt.ArrayLike, scenario: npt.ArrayLike, confidence: float = 0.95
) -> Estimate:
    """Confidence interval for ``scenario - baseline`` from paired replications.

    Replication *i* of both runs must share its random streams (common random
    numbers); the pairing then cancels most of the noise the two share, which
    makes this interval much tighter than one built from two independent means.

    Parameters
    ----------
    baseline, scenario : array_like of float, 1-d, equal length
        Per-replication values, paired by position.
    confidence : float, default 0.95
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    Estimate
        ``estimate(scenario - baseline)``; pairs where either value is NaN are dropped.

    Raises
    ------
    ValueError
        If the two arrays differ in length.

    Examples
    --------
    >>> d = paired_difference([10.0, 12.0, 14.0], [11.0, 13.5, 15.0])
    >>> d.mean, d.n
    (1.1666666666666667, 3)
    """
    a = _as_vector(baseline, "baseline values")
    b = _as_vector(scenario, "scenario values")
    if a.shape != b.shape:
        raise UsageError(
            "expected baseline and scenario with one value per paired replication, "
            f"got lengths {a.size} and {b.size}"
        )
    # NaN in either member propagates into the difference, so estimate() drops the pair.
    return estimate(b - a, confidence=confidence)


def replications_needed(est: Estimate, relative_precision: float) -> int:
    """Replications needed for ``half_width <= relative_precision * |mean|``.

    The standard two-stage estimate ``n* = ceil(n * (h / (r * |mean|))**2)``,
    never fewer than the ``n`` already run; ``n* - n`` more replications are
    needed. It treats the t quantile and the standard deviation as fixed, so
    run the extra replications and check again.

    Parameters
    ----------
    est : Estimate
        A first-stage estimate from at least two replications.
    relative_precision : float
        The target relative half-width, e.g. ``0.05`` for ±5 %.

    Raises
    ------
    ValueError
        If ``relative_precision <= 0``, if ``est`` has fewer than two
        replications, or if its mean is zero or NaN (no relative precision exists).

    Examples
    --------
    >>> e = Estimate(mean=20.0, sd=3.0, n=10, half_width=2.0, confidence=0.95)
    >>> replications_needed(e, 0.1)
    10
    >>> replications_needed(e, 0.05)
    40
    """
    if not relative_precision > 0:
        raise UsageError(f"expected relative_precision > 0, got {relative_precision!r}")
    if est.n < 2 or not math.isfinite(est.half_width):
        raise UsageError(f"expected an estimate from at least 2 replications, got n={est.n}")
    if not math.isfinite(est.mean) or est.mean == 0:
        raise UsageError(
            f"expected an estimate with a finite, non-zero mean for a relative precision, "
            f"got mean={est.mean!r}"
        )
    n_star = est.n * (est.half_width / (relative_precision * abs(est.mean))) ** 2
    # Shave off float noise so that an exact 40.000000000000007 does not become 41.
    return max(est.n, math.ceil(n_star * (1.0 - 1e-12)))


def mser5(series: npt.ArrayLike, batch: int = 5, max_fraction: float = 0.5) -> int:
    """Warm-up length by MSER-5 (White 1997; Franklin & White).

    Form batch means of ``batch`` consecutive observations (the incomplete last
    batch is dropped), ``Y_1 .. Y_k``. For ``d = 0 .. floor(max_fraction * k)``
    batches deleted, compute

        MSER(d) = 1 / (k - d)**2 * sum_{j > d} (Y_j - mean(Y_{d+1..k}))**2

    and return the number of *observations* to delete, ``batch * argmin_d MSER(d)``
    (the smallest such ``d`` on ties). At least two batches are always kept,
    because with one batch left MSER is trivially zero.

    Parameters
    ----------
    series : array_like of float, 1-d
        One output series in time order (e.g. successive cycle times), finite values.
    batch : int, default 5
        Batch size; 5 gives MSER-5.
    max_fraction : float, default 0.5
        Largest fraction of the batches that may be deleted, in ``[0, 1)``.

    Returns
    -------
    int
        Observations to delete from the start; 0 for a series shorter than two batches.

    Examples
    --------
    >>> mser5([9.0] * 5 + [1.0, 2.0, 1.0, 2.0, 1.0] * 5)
    5
    >>> mser5([1.0, 2.0, 3.0])
    0
    """
    if isinstance(batch, bool) or not isinstance(batch, int | np.integer) or batch < 1:
        raise UsageError(f"expected batch to be an integer >= 1, got {batch!r}")
    if not 0.0 <= max_fraction < 1.0:
        raise UsageError(f"expected max_fraction in [0, 1), got {max_fraction!r}")
    x = _as_vector(series, "observations")
    if not np.all(np.isfinite(x)):
        raise UsageError("expected finite observations, got NaN or infinite values")
    k = x.size // batch
    if k < 2:
        return 0
    y = x[: k * batch].reshape(k, batch).mean(axis=1)
    d_max = min(math.floor(max_fraction * k), k - 2)
    # MSER is shift-invariant; centring on the batches every candidate keeps
    # limits the cancellation in sum(y**2) - sum(y)**2 / m below.
    y = y - y[d_max:].mean()
    # Suffix sums: s1[d] = sum(y[d:]), s2[d] = sum(y[d:]**2), for every d at once.
    s1 = np.cumsum(y[::-1])[::-1][: d_max + 1]
    s2 = np.cumsum((y * y)[::-1])[::-1][: d_max + 1]
    m = (k - np.arange(d_max + 1)).astype(float)
    sse = np.maximum(s2 - s1 * s1 / m, 0.0)
    return batch * int(np.argmin(sse / (m * m)))


def pooled_percentiles(
    samples: Sequence[npt.ArrayLike], qs: Sequence[float] = (50, 90, 95)
) -> dict[str, float]:
    """Percentiles of per-case values pooled over all replications.

    Parameters
    ----------
    samples : sequence of array_like of float
        One array of per-case values (e.g. cycle times) per replication.
        NaN values are ignored.
    qs : sequence of float, default (50, 90, 95)
        Percentiles in ``[0, 100]``.

    Returns
    -------
    dict of str to float
        Keys ``"p50"``, ``"p90"``, ... (``"p99.5"`` for 99.5); NaN values when
        there is no data at all.

    Examples
    --------
    >>> pooled_percentiles([[1.0, 2.0, 3.0], [4.0, 5.0]], qs=(50, 100))
    {'p50': 3.0, 'p100': 5.0}
    >>> pooled_percentiles([], qs=(90,))
    {'p90': nan}
    """
    keys = [f"p{float(q):g}" for q in qs]
    parts = [np.asarray(s, dtype=float).ravel() for s in samples]
    pooled = np.concatenate(parts) if parts else np.empty(0)
    pooled = pooled[~np.isnan(pooled)]
    if pooled.size == 0:
        return dict.fromkeys(keys, math.nan)
    values = np.percentile(pooled, [float(q) for q in qs])
    return {key: float(v) for key, v in zip(keys, values, strict=True)}


def sectioned_percentile(samples: Sequence[npt.ArrayLike], q: float,
                         confidence: float = 0.95) -> Estimate:
    """A percentile pooled over replications, with its sectioning confidence interval.

    The point estimate is the percentile of all replications' values pooled, as
    :func:`pooled_percentiles` reports it. Its interval is centred on that point and takes
    its spread from the replications' own percentiles around it (*sectioning*, Asmussen &
    Glynn 2007, §III.5a; Nakayama 2014): with ``R`` replications, ``ξ`` the pooled percentile
    and ``ξ_r`` that of replication ``r``,

        S² = Σ_r (ξ_r − ξ)² / (R − 1),    ξ ± t_{R−1} · S / √R.

    Unlike a t-interval of the ``ξ_r`` (batching), this interval is centred on the number
    shown beside it, and it does not inherit the bias of percentiles of short replications
    (that bias widens it instead of moving it).

    Parameters
    ----------
    samples : sequence of array_like of float
        One array of per-case values per replication; NaN values are ignored, and a
        replication without values is not counted.
    q : float
        Percentile in ``[0, 100]``.
    confidence : float, default 0.95

    Returns
    -------
    Estimate
        ``mean`` is the pooled percentile, ``sd`` the sectioning spread ``S``, ``n`` the
        replications counted; ``half_width`` is ``inf`` with one replication.

    Examples
    --------
    >>> e = sectioned_percentile([[1.0, 2.0, 3.0], [2.0, 3.0, 4.0], [3.0, 4.0, 5.0]], 50)
    >>> e.mean, e.n
    (3.0, 3)
    >>> round(e.half_width, 4)
    2.4841
    """
    _check_confidence(confidence)
    parts = [x[~np.isnan(x)] for x in (np.asarray(s, dtype=float).ravel() for s in samples)]
    parts = [x for x in parts if x.size]
    n = len(parts)
    if n == 0:
        return Estimate(math.nan, math.nan, 0, math.nan, confidence)
    point = float(np.percentile(np.concatenate(parts), q))
    if n == 1:
        return Estimate(point, math.nan, 1, math.inf, confidence)
    own = np.array([np.percentile(x, q) for x in parts])
    sd = float(np.sqrt(np.sum((own - point) ** 2) / (n - 1)))
    from scipy.special import stdtrit

    t = float(stdtrit(n - 1, 0.5 + confidence / 2.0))
    return Estimate(point, sd, n, t * sd / math.sqrt(n), confidence)


_PERCENTILE_RE = re.compile(r"p(\d+(?:\.\d+)?)")


def parse_percentile(stat: str) -> float:
    """The percentile named by a statistic: ``"p90"`` → 90.0, ``"median"`` → 50.0.

    ``"mean"`` is a valid statistic elsewhere in procsim but not a percentile,
    so callers handle it before calling this.

    Raises
    ------
    ValueError
        For anything else, including ``"mean"`` and percentiles above 100.

    Examples
    --------
    >>> parse_percentile("p90"), parse_percentile("p99.5"), parse_percentile("median")
    (90.0, 99.5, 50.0)
    >>> parse_percentile("q9")
    Traceback (most recent call last):
    ...
    procsim.errors.UsageError: expected mean, median or pXX such as p90, got 'q9'
    """
    if stat == "median":
        return 50.0
    if stat == "mean":
        raise UsageError("expected median or pXX such as p90, got 'mean' (not a percentile)")
    match = _PERCENTILE_RE.fullmatch(stat) if isinstance(stat, str) else None
    if match is None:
        raise UsageError(f"expected mean, median or pXX such as p90, got {stat!r}")
    q = float(match.group(1))
    if q > 100.0:
        raise UsageError(f"expected a percentile between p0 and p100, got {stat!r}")
    return q
