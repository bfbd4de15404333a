"""The back-testing distance measures, vectorised: the values of ``log-distance-measures``, fast.

:func:`log_distances` computes, for two event logs (frames with the columns ``case``,
``activity``, ``start`` and ``end``, as ``fidelity`` prepares them), the distances that
``log-distance-measures`` 2.2.0 (Chapela-Campa et al., Apache-2.0; the package that
:func:`procsim.eventlog.fidelity.distances` calls) defines, with the arguments ``fidelity``
uses, and gives the same values. Lower is closer; a log against itself gives 0. Every EMD
below is :func:`scipy.stats.wasserstein_distance` (1-Wasserstein), unnormalised.

``n_gram``
    The 3-grams of each case's activity sequence (events ordered by start, then end, ties in
    the frame's order; the sequence padded with two "none" symbols at each end, so a case of
    L events gives L + 2 3-grams): the sum over all 3-grams of the absolute difference of
    their counts in the two logs, over the total count of both logs (0–1).
``absolute_event``
    EMD of the start and end times of all events, each floored to whole hours after the hour
    (floored) of the earlier log's first start.
``circadian_event``
    Per weekday (Monday–Sunday), the EMD of the hours of the day (0–23, local time) of the
    start and end times on that weekday; a weekday with events in one log only counts 23,
    one with none in either 0; the mean of the seven.
``relative_event``
    EMD of the start and end times relative to the first start of their case, floored to
    whole hours.
``case_arrival``
    EMD of the cases' first start times, floored to whole hours after the hour (floored) of
    the earlier log's first case arrival.
``inter_arrival``
    EMD of the times between consecutive case arrivals, floored to bins of ``bin_hours``
    (NaN when a log has fewer than two cases).
``cycle_time``
    EMD of the cases' cycle times (first start to last end) minus the shortest cycle time of
    both logs, floored to bins of ``bin_hours``.
``work_in_progress``
    EMD of the work in progress per hour: from the midnight before the first start of both
    logs to the midnight after their last end, each hour weighted by the time the cases
    (first start to last end) were active in it, in hours, times 100 and truncated (the
    package's own expansion of the histogram into a sample).

Why: the package loops over cases in Python. On the BPI Challenge 2012 test log (24,520
activity instances, 2,976 cases) against its training log (22,398, 3,030), on a shared
2-core machine, it took 6.5–12.9 s per simulated log for the default measures and 105 s for
``work_in_progress`` (quadratic: every hour of both logs against every case), once per
replication of ``procsim backtest``; this module took 0.09–0.19 s for all eight, the same
values (``python bench/fidelity.py`` prints both; tests/test_eventlog_distances.py checks the
values against the package's).

Exactness: every discretisation repeats the package's arithmetic (pandas'
``Timedelta.total_seconds``, which drops nanoseconds; ``Timedelta / timedelta``, nanoseconds
divided as doubles; ``Timestamp.floor`` in local time; ``statistics.mean``), and each EMD
gets the same sample as the package's (in another order, to which scipy is insensitive), so
the values are equal to the last bit. The exception is ``work_in_progress``: its histogram is
passed to scipy as values with weights instead of the package's expanded sample (millions of
copies on BPIC), the same distance summed over other terms, so equal within rounding (4e-16
relative on BPIC). The package's own ``work_in_progress`` raises TypeError with pandas 2.3
(``np.minimum`` of a datetime Series and a Timestamp, pandas issue 50864); the tests and the
benchmark compare with it run with those calls made element-wise.

pandas is an optional dependency (``pip install 'procsim[fidelity]'``): it is imported only
when a distance is computed.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np

from procsim.errors import LogError, UsageError

__all__ = ["COLUMNS", "MEASURES", "log_distances"]

#: The measures :func:`log_distances` knows (those of ``procsim.eventlog.fidelity``).
MEASURES = ("n_gram", "absolute_event", "circadian_event", "relative_event", "case_arrival",
            "inter_arrival", "cycle_time", "work_in_progress")
#: The columns :func:`log_distances` reads.
COLUMNS = ("case", "activity", "start", "end")

_NGRAM = 3
_WINDOW_NS = 3_600_000_000_000  # work in progress per hour, as the package's default
_CIRCADIAN_MISSING = 23.0  # the package's penalty for a weekday with events in one log only


def check_measures(measures: Sequence[str], bin_hours: float) -> None:
    """Refuse (:class:`~procsim.errors.UsageError`, a ``ValueError``) a measure that is not
    one of :data:`MEASURES`, or a bin width that is not a number of hours > 0.

    >>> check_measures(["ngram"], 1.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    procsim.errors.UsageError: unknown distance measure 'ngram': expected one of n_gram, ...
    """
    unknown = [m for m in measures if m not in MEASURES]
    if unknown:
        raise UsageError(f"unknown distance measure {unknown[0]!r}: expected one of "
                         f"{', '.join(MEASURES)}")
    if not bin_hours > 0:
        raise UsageError(f"bin_hours: expected a number > 0, got {bin_hours!r}")


def log_distances(original: Any, simulated: Any, *, measures: Sequence[str],
                  bin_hours: float = 1.0) -> dict[str, float]:
    """The distance measures between two event logs, as ``log-distance-measures`` gives them.

    Parameters
    ----------
    original : pandas.DataFrame
        The real log: one row per activity instance, columns ``case``, ``activity``,
        ``start`` and ``end`` (others are ignored); ``start`` and ``end`` pandas date-times,
        naive or zone-aware, never missing.
    simulated : pandas.DataFrame
        The other log, the same columns; its times comparable with the original's (both
        naive, or both zone-aware: the circadian measure reads each log's local hours).
    measures : sequence of str
        Which of :data:`MEASURES` to compute.
    bin_hours : float
        Bin width, in hours, of the inter-arrival and cycle-time histograms (the package's
        ``bin_size=timedelta(hours=bin_hours)``).

    Returns
    -------
    dict
        ``{measure: distance}`` in the order of :data:`MEASURES`; units in the module's
        docstring. ``inter_arrival`` is NaN when either log has fewer than two cases, and
        ``work_in_progress`` when either log has no hour with 36 seconds of case activity
        (its histogram is empty; the package raises an error in both).

    Raises
    ------
    ValueError
        For an unknown measure, an empty log, a missing column or ``bin_hours <= 0``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.to_datetime(["2026-01-05 09:00", "2026-01-05 09:10", "2026-01-05 09:30",
    ...                     "2026-01-05 11:45", "2026-01-06 14:00", "2026-01-06 15:30"])
    >>> real = pd.DataFrame({"case": ["c1", "c1", "c2"], "activity": ["a", "b", "a"],
    ...                      "start": t[[0, 2, 4]], "end": t[[1, 3, 5]]})
    >>> other = real.assign(end=real["end"] + pd.Timedelta(hours=1))
    >>> log_distances(real, other, measures=["n_gram", "cycle_time", "inter_arrival"])
    {'n_gram': 0.0, 'inter_arrival': 0.0, 'cycle_time': 1.0}
    >>> log_distances(real, real, measures=MEASURES)["work_in_progress"]
    0.0
    """
    check_measures(measures, bin_hours)
    for which, frame in (("the original log", original), ("the simulated log", simulated)):
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise UsageError(f"{which}: expected columns {', '.join(COLUMNS)}; "
                             f"missing {', '.join(missing)}")
        if len(frame) == 0:
            raise LogError(f"{which}: no activity instances to compare")
    from datetime import timedelta

    import pandas as pd

    a, b = _Log(original), _Log(simulated)
    # The package divides pandas Timedeltas (nanoseconds) by this timedelta (microseconds,
    # cast to nanoseconds): the same integer here.
    bin_ns = int(pd.Timedelta(timedelta(hours=bin_hours)).as_unit("ns").value)
    compute = {
        "n_gram": lambda: _n_gram(a, b),
        "absolute_event": lambda: _absolute_event(a, b),
        "circadian_event": lambda: _circadian_event(a, b),
        "relative_event": lambda: _emd(_hours(a.relative_ns), _hours(b.relative_ns)),
        "case_arrival": lambda: _case_arrival(a, b),
        "inter_arrival": lambda: (_emd(_bins(np.diff(np.sort(a.arrival_ns)), bin_ns),
                                       _bins(np.diff(np.sort(b.arrival_ns)), bin_ns))
                                  if min(a.cases, b.cases) > 1 else math.nan),
        "cycle_time": lambda: _cycle_time(a, b, bin_ns),
        "work_in_progress": lambda: _work_in_progress(a, b),
    }
    return {m: float(compute[m]()) for m in MEASURES if m in measures}


class _Log:
    """One log's arrays, each computed once (all times in integer nanoseconds, UTC for a
    zone-aware log, wall clock for a naive one)."""

    def __init__(self, frame: Any) -> None:
        self.frame = frame

    @cached_property
    def start_ns(self) -> np.ndarray:
        return _ns(self.frame["start"])

    @cached_property
    def end_ns(self) -> np.ndarray:
        return _ns(self.frame["end"])

    @cached_property
    def case_code(self) -> np.ndarray:
        """Each row's case as 0, 1, …; -1 for a missing case (the package's groupby drops
        those rows from every per-case measure)."""
        import pandas as pd

        codes, _ = pd.factorize(self.frame["case"], use_na_sentinel=True)
        return np.asarray(codes, dtype=np.int64)

    @cached_property
    def cases(self) -> int:
        return int(self.case_code.max()) + 1

    @cached_property
    def in_case(self) -> np.ndarray:
        return self.case_code >= 0

    @cached_property
    def arrival_ns(self) -> np.ndarray:
        """Each case's first start."""
        first = np.full(self.cases, np.iinfo(np.int64).max)
        np.minimum.at(first, self.case_code[self.in_case], self.start_ns[self.in_case])
        return first

    @cached_property
    def completion_ns(self) -> np.ndarray:
        """Each case's last end."""
        last = np.full(self.cases, np.iinfo(np.int64).min)
        np.maximum.at(last, self.case_code[self.in_case], self.end_ns[self.in_case])
        return last

    @cached_property
    def relative_ns(self) -> np.ndarray:
        """Starts and ends after the first start of their case."""
        first = self.arrival_ns[self.case_code[self.in_case]]
        return np.concatenate((self.start_ns[self.in_case] - first,
                               self.end_ns[self.in_case] - first))

    def timestamp(self, ns: int) -> Any:
        """``ns`` as a pandas Timestamp in the log's zone (as the package's ``min()``)."""
        import pandas as pd

        tz = getattr(self.frame["start"].dtype, "tz", None)
        moment = pd.Timestamp(ns, unit="ns")
        return moment.tz_localize("UTC").tz_convert(tz) if tz is not None else moment


def _ns(column: Any) -> np.ndarray:
    import pandas as pd

    return np.asarray(pd.DatetimeIndex(column).as_unit("ns").asi8, dtype=np.int64)


def _total_seconds(ns: np.ndarray) -> np.ndarray:
    """``pandas.Timedelta.total_seconds()`` of each of ``ns``: days·86400 + seconds +
    microseconds / 1e6, the nanoseconds dropped (floored to the microsecond); not ns / 1e9,
    which rounds differently."""
    micro = ns // 1000
    seconds = micro // 1_000_000
    return seconds.astype(np.float64) + (micro - seconds * 1_000_000) / 1e6


def _hours(ns: np.ndarray) -> np.ndarray:
    """The package's ``discretize_to_hour``: ``math.floor(total_seconds / 3600)``."""
    return np.floor(_total_seconds(ns) / 3600)


def _bins(ns: np.ndarray, bin_ns: int) -> np.ndarray:
    """``math.floor(Timedelta / bin_size)``: pandas divides the integer nanoseconds as
    doubles (``value / float(other.value)``), and so does numpy here."""
    return np.floor(ns.astype(np.float64) / float(bin_ns))


def _emd(u: np.ndarray, v: np.ndarray) -> float:
    from scipy.stats import wasserstein_distance

    return float(wasserstein_distance(u, v))


def _n_gram(a: _Log, b: _Log) -> float:
    import pandas as pd

    labels = pd.concat([a.frame["activity"], b.frame["activity"]], ignore_index=True)
    codes, uniques = pd.factorize(labels)
    symbols = len(uniques) + 1  # 0 pads the start and end of each case
    grams_a = _grams(a, np.asarray(codes[:len(a.frame)]) + 1, symbols)
    grams_b = _grams(b, np.asarray(codes[len(a.frame):]) + 1, symbols)
    keys, inverse = np.unique(np.concatenate((grams_a, grams_b)), return_inverse=True)
    count_a = np.bincount(inverse[:len(grams_a)], minlength=len(keys))
    count_b = np.bincount(inverse[len(grams_a):], minlength=len(keys))
    # Python integers: the package's exact sums and one correctly rounded division.
    return int(np.abs(count_a - count_b).sum()) / (len(grams_a) + len(grams_b))


def _grams(log: _Log, symbol: np.ndarray, symbols: int) -> np.ndarray:
    """Each 3-gram of each case of ``log`` as one integer (base ``symbols``).

    Within a case, events are ordered by start, then end, ties in the frame's order (the
    package's stable ``sort_values`` within ``groupby``); each case's sequence gets
    ``n - 1`` padding zeros at both ends.
    """
    keep = np.flatnonzero(log.in_case)
    order = keep[np.lexsort((log.end_ns[keep], log.start_ns[keep], log.case_code[keep]))]
    case = log.case_code[order]
    pad = _NGRAM - 1
    last = np.r_[case[1:] != case[:-1], True]  # the last event of each case
    rank = np.cumsum(np.r_[False, last[:-1]])  # the case's place in ``order``
    padded = np.zeros(len(order) + 2 * pad * len(np.flatnonzero(last)), dtype=np.int64)
    padded[np.arange(len(order)) + pad * (2 * rank + 1)] = symbol[order]
    # A 3-gram starts at every place of a padded case but its last n - 1.
    block_end = np.flatnonzero(last) + 1 + 2 * pad * (rank[last] + 1)
    is_start = np.ones(len(padded), dtype=bool)
    for back in range(1, pad + 1):
        is_start[block_end - back] = False
    starts = np.flatnonzero(is_start)
    if symbols ** _NGRAM < 2 ** 62:
        gram = np.zeros(len(starts), dtype=np.int64)
        for offset in range(_NGRAM):
            gram = gram * symbols + padded[starts + offset]
        return gram
    # So many activities that the integer code would overflow: number the rows instead.
    rows = np.stack([padded[starts + offset] for offset in range(_NGRAM)], axis=1)
    _, gram = np.unique(rows, axis=0, return_inverse=True)
    return np.asarray(gram, dtype=np.int64).ravel()


def _absolute_event(a: _Log, b: _Log) -> float:
    origin = min(a.frame["start"].min(), b.frame["start"].min()).floor(freq="h")
    zero = int(origin.as_unit("ns").value)
    return _emd(_hours(np.concatenate((a.start_ns, a.end_ns)) - zero),
                _hours(np.concatenate((b.start_ns, b.end_ns)) - zero))


def _circadian_event(a: _Log, b: _Log) -> float:
    def day_hour(log: _Log) -> tuple[np.ndarray, np.ndarray]:
        import pandas as pd

        both = pd.concat([log.frame["start"], log.frame["end"]], ignore_index=True)
        return (np.asarray(both.dt.dayofweek, dtype=np.int64),
                np.asarray(both.dt.hour, dtype=np.float64))

    day_a, hour_a = day_hour(a)
    day_b, hour_b = day_hour(b)
    per_day: list[float] = []
    for day in range(7):
        u, v = hour_a[day_a == day], hour_b[day_b == day]
        if len(u) and len(v):
            per_day.append(_emd(u, v))
        else:
            per_day.append(_CIRCADIAN_MISSING if len(u) or len(v) else 0.0)
    # statistics.mean, as the package: an exactly rounded mean, not numpy's.
    return float(statistics.mean(per_day))


def _case_arrival(a: _Log, b: _Log) -> float:
    # The earlier log's first arrival, in its zone (Python's min() keeps the first on a tie).
    earlier = a if a.arrival_ns.min() <= b.arrival_ns.min() else b
    first = earlier.timestamp(int(earlier.arrival_ns.min()))
    zero = int(first.floor(freq="h").as_unit("ns").value)
    return _emd(_hours(a.arrival_ns - zero), _hours(b.arrival_ns - zero))


def _cycle_time(a: _Log, b: _Log, bin_ns: int) -> float:
    cycle_a = a.completion_ns - a.arrival_ns
    cycle_b = b.completion_ns - b.arrival_ns
    shortest = min(cycle_a.min(), cycle_b.min())
    return _emd(_bins(cycle_a - shortest, bin_ns), _bins(cycle_b - shortest, bin_ns))


def _work_in_progress(a: _Log, b: _Log) -> float:
    """The package's ``work_in_progress_distance(..., normalize=False)`` in O(cases + hours).

    The package loops over the hours from the midnight before the first start to the one
    after the last end, and for each sums the overlap of every case with it. Here each case
    adds its partial first and last hours and counts 1 for the whole hours between them (a
    difference array), in integer nanoseconds: the same sums.
    """
    import pandas as pd

    window = pd.Timedelta(_WINDOW_NS, unit="ns")
    start = min(a.frame["start"].min(), b.frame["start"].min()).floor(freq="24h")
    end = max(a.frame["end"].max(), b.frame["end"].max()).ceil(freq="24h")
    hours = math.ceil((end - start) / window)
    origin = int(start.as_unit("ns").value)
    keys_a, weights_a = _active_per_hour(a, origin, hours)
    keys_b, weights_b = _active_per_hour(b, origin, hours)
    if not (len(keys_a) and len(keys_b)):
        return math.nan  # the package: scipy's "Distribution can't be empty"
    from scipy.stats import wasserstein_distance

    # The package expands each hour into int(100 · wip) copies of its number; values with
    # those weights give the same distributions, but scipy's sum over the differences of
    # the two CDFs then runs over other (no zero) terms: equal within rounding, not to the
    # last bit.
    return float(wasserstein_distance(keys_a, keys_b, weights_a, weights_b))


def _active_per_hour(log: _Log, origin: int, hours: int) -> tuple[np.ndarray, np.ndarray]:
    """The hours with work in progress, and their weights ``int(100 · active hours)``."""
    first, last = log.arrival_ns - origin, log.completion_ns - origin
    keep = last > first  # a case without duration is never active (the package: overlap > 0)
    first, last = first[keep], last[keep]
    w = _WINDOW_NS
    hour_first, hour_last = first // w, last // w
    partial = np.zeros(hours + 1, dtype=np.int64)
    whole = np.zeros(hours + 2, dtype=np.int64)
    same = hour_first == hour_last
    np.add.at(partial, hour_first[same], last[same] - first[same])
    span = ~same
    np.add.at(partial, hour_first[span], (hour_first[span] + 1) * w - first[span])
    np.add.at(partial, hour_last[span], last[span] - hour_last[span] * w)
    np.add.at(whole, hour_first[span] + 1, 1)
    np.add.at(whole, hour_last[span], -1)
    active_ns = (np.cumsum(whole)[:hours + 1] * w + partial)[:hours]
    # Timedelta / Timedelta in the package: the integer nanoseconds divided as doubles.
    wip = active_ns.astype(np.float64) / float(w)
    key = np.flatnonzero(active_ns > 0)
    weight = (wip[key] * 100).astype(np.int64)
    nonzero = weight > 0
    return key[nonzero].astype(np.float64), weight[nonzero].astype(np.float64)
