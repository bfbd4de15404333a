"""Time-varying arrivals: weekly rate profiles and calendars, generated exactly.

Two arrival processes, both giving arrival times in simulated time (floats in the model's
``time_unit`` after its start date-time) from one numpy ``Generator``:

:class:`PoissonArrivals`
    A non-homogeneous Poisson process whose rate is a weekly profile by day and hour,
    optionally restricted to an arrival :class:`~procsim.calendars.Calendar` (rate zero
    while it is closed, holidays included). A constant profile on a calendar is the
    "Poisson arrivals at a base rate, only inside opening hours" case.
:class:`RenewalArrivals`
    Inter-arrival times from any :mod:`procsim.dists` distribution, optionally on an
    arrival calendar whose clock runs only on shift.

The YAML a rate profile is written in
-------------------------------------
::

    arrivals:
      rate:
        per: hour                      # the values are cases per hour (minute, hour or day)
        mon-fri: [0, 0, 0, 0, 0, 0, 0, 2, 8, 12, 10, 9, 6, 8, 9, 8, 5, 2, 0, 0, 0, 0, 0, 0]
        sat: [0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 6, 6, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        # sun is not listed: no arrivals on Sundays
      calendar: office                 # optional: and none while 'office' is closed

- ``per`` is ``minute``, ``hour`` (the default) or ``day``: the unit the rates are per,
  whatever the model's ``time_unit``.
- Every other key is a day, a range or ``all``, written as a calendar's ``days``
  (``mon-fri``, ``fri-mon``, ``sat``, ``all``); each day may appear under one key only, and
  days not listed have rate 0.
- A value is a list of rates for equal slots that split the day from 00:00: 24 values are
  hourly (the usual), 48 half-hourly, 96 quarter-hourly (any count that divides the 1440
  minutes of a day). A single number is a constant rate for the whole day
  (``rate: {per: hour, all: 10}``).
- Rates are ≥ 0 and at least one is > 0.

The suggested model keys are ``arrivals: {rate: ..., calendar: name}`` for a
:class:`PoissonArrivals` and ``arrivals: {interarrival: ..., calendar: name}`` for a
:class:`RenewalArrivals` (see each class).

Why inversion, not thinning
---------------------------
For a piecewise-constant rate the cumulative rate Λ(t) is piecewise linear and can be
inverted exactly: the arrival times are ``Λ⁻¹(E₁ + … + Eₙ)`` for independent unit
exponentials ``Eᵢ`` (the time-change theorem). Thinning (Lewis–Shedler) proposes candidates
at the peak rate and rejects most of them where the rate is low, so a profile that is zero
at night wastes draws, and the number of draws per arrival varies. Inversion is exact, uses
exactly one exponential per arrival, is vectorised (a block of exponentials becomes a block
of times by one ``searchsorted``), and keeps common random numbers working: the n-th
arrival always uses the n-th draw, so a slightly different profile moves arrivals slightly
instead of reshuffling them.

Examples
--------
>>> from datetime import datetime
>>> import numpy as np
>>> profile = RateProfile.model_validate({"per": "hour", "mon-fri": [0] * 9 + [6] * 8 + [0] * 7})
>>> arrivals = PoissonArrivals(profile, start=datetime(2026, 1, 5), time_unit="hours")
>>> arrivals.expected_count(0.0, 168.0)       # 5 days x 8 hours x 6 per hour
240.0
>>> times = arrivals.sample(np.random.default_rng(1), until=168.0)
>>> bool(((times % 24 >= 9) & (times % 24 < 17)).all())
True
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, GetJsonSchemaHandler, model_serializer, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from procsim.calendars import (
    DAY_NAMES,
    EXPECTED_DAYS,
    US_PER_DAY,
    US_PER_WEEK,
    Calendar,
    CalendarError,
    Weekday,
    parse_days,
    parse_start,
    unit_us,
    us_to_units,
    week_offset_us,
)
from procsim.dists import BaseDistribution, Distribution
from procsim.errors import UsageError, WrongTypeError, close_match_hint
from procsim.units import SECONDS_PER, TimeUnit

__all__ = ["ArrivalProcess", "PoissonArrivals", "RateProfile", "RenewalArrivals"]

_PER_SECONDS = {"minute": 60.0, "hour": 3600.0, "day": 86400.0}
_EXPECTED_RATES = ("24 hourly rates, one rate for the whole day, or another number of equal "
                   "slots that divides the day (48 half-hours, 96 quarter-hours)")


def _rate(key: str, index: int | None, value: object) -> float:
    where = key if index is None else f"{key}[{index}]"
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
            math.isfinite(value) and value >= 0):
        raise UsageError(f"{where}: expected a rate >= 0 (cases per unit of 'per'), "
                         f"got {value!r}")
    return float(value)


def _rates(key: str, values: object) -> tuple[float, ...]:
    if isinstance(values, list | tuple):
        if not values or 1440 % len(values):
            raise UsageError(f"{key}: expected {_EXPECTED_RATES}, got {len(values)} values")
        return tuple(_rate(key, i, v) for i, v in enumerate(values))
    return (_rate(key, None, values),)


class RateProfile(BaseModel):
    """A weekly arrival-rate profile: rates per ``per`` for equal slots of each day.

    Validates from the YAML form described in the module notes (``{per: hour, mon-fri:
    [...], sat: [...]}``); ``days`` holds it normalised, one entry per listed day, and the
    model dumps back to the YAML form.

    Examples
    --------
    >>> p = RateProfile.model_validate({"per": "hour", "fri-sat": 3, "mon": [1, 2] * 12})
    >>> p.days["sat"], len(p.days["mon"])
    ((3.0,), 24)
    >>> p.model_dump()["fri"]
    3.0
    >>> from pydantic import ValidationError
    >>> try:
    ...     RateProfile.model_validate({"mon-fri": 2, "fri": 5})
    ... except ValidationError as err:
    ...     print(err.errors()[0]["msg"])
    Value error, expected each day under one key only, got fri under 'mon-fri' and 'fri'
    """

    # defer_build: validators built on first use, not at import (see model.schema._Spec)
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    per: Literal["minute", "hour", "day"] = "hour"
    days: dict[Weekday, tuple[float, ...]]

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise UsageError("expected a mapping such as {per: hour, mon-fri: [24 hourly "
                             f"rates]}}, got {data!r}")
        if "days" in data and set(data) <= {"per", "days"}:
            return data  # the normalised form (a copy, or a profile built in Python)
        per = data.get("per", "hour")
        by_day: dict[int, tuple[float, ...]] = {}
        owner: dict[int, str] = {}
        for key, values in data.items():
            if key == "per":
                continue
            try:
                if not isinstance(key, str):
                    raise ValueError
                indices = parse_days(key)
            except ValueError:
                raise UsageError(
                    f"expected 'per' or days ({EXPECTED_DAYS}) as keys, got {key!r}"
                    + close_match_hint(str(key), ["per", *DAY_NAMES])
                ) from None
            rates = _rates(key, values)
            for i in indices:
                if i in owner:
                    raise UsageError(f"expected each day under one key only, got "
                                     f"{DAY_NAMES[i]} under {owner[i]!r} and {key!r}")
                owner[i] = key
                by_day[i] = rates
        if not any(r > 0 for rates in by_day.values() for r in rates):
            raise UsageError("expected at least one rate > 0, got none")
        return {"per": per, "days": {DAY_NAMES[i]: by_day[i] for i in sorted(by_day)}}

    @model_serializer(mode="plain")
    def _to_yaml(self) -> dict[str, Any]:
        out: dict[str, Any] = {"per": self.per}
        for day, rates in self.days.items():
            out[day] = rates[0] if len(rates) == 1 else list(rates)
        return out

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        rates = {"anyOf": [
            {"type": "number", "minimum": 0},
            {"type": "array", "items": {"type": "number", "minimum": 0}, "minItems": 1},
        ]}
        return {
            "type": "object",
            "title": "RateProfile",
            "description": "Arrival rates per 'per' for each day: 24 hourly values or one "
                           "value for the day, keyed by days (mon, mon-fri, all).",
            "properties": {"per": {"enum": ["minute", "hour", "day"], "default": "hour"}},
            "additionalProperties": rates,
        }


# --- exact inversion of a weekly piecewise-constant rate ---------------------------------------


def _rotate_segments(segments: Sequence[tuple[int, int, float]],
                     offset: int) -> list[tuple[int, int, float]]:
    """Weekly segments from Monday 00:00, shifted to start at the model's start (split at the
    week's end), sorted, with touching segments of equal rate joined."""
    pieces: list[tuple[int, int, float]] = []
    for a, b, rate in segments:
        a2 = (a - offset) % US_PER_WEEK
        b2 = a2 + (b - a)
        if b2 <= US_PER_WEEK:
            pieces.append((a2, b2, rate))
        else:
            pieces += [(a2, US_PER_WEEK, rate), (0, b2 - US_PER_WEEK, rate)]
    joined: list[tuple[int, int, float]] = []
    for a, b, rate in sorted(pieces):
        if joined and joined[-1][1] == a and joined[-1][2] == rate:
            joined[-1] = (joined[-1][0], b, rate)
        else:
            joined.append((a, b, rate))
    return joined


def _intersect(segments: Sequence[tuple[int, int, float]],
               table: Sequence[tuple[int, int]]) -> list[tuple[int, int, float]]:
    """The parts of ``segments`` inside the open intervals of ``table`` (both sorted)."""
    out: list[tuple[int, int, float]] = []
    i = j = 0
    while i < len(segments) and j < len(table):
        a, b, rate = segments[i]
        c, d = table[j]
        lo, hi = max(a, c), min(b, d)
        if lo < hi:
            out.append((lo, hi, rate))
        if b <= d:
            i += 1
        else:
            j += 1
    return out


class _RateTable:
    """A weekly piecewise-constant rate with closed windows (holidays), in simulated time.

    ``value(t)`` is the cumulative rate Λ(t) (since the start of week 0, holidays taken
    out); ``inverse(y)`` the earliest time at which Λ reaches ``y`` *inside* a segment of
    positive rate. Segment boundaries are computed as ``k * week + offset``, the same floats
    as :class:`~procsim.calendars.Calendar` uses, so arrivals fall where the calendar is open.
    """

    def __init__(self, segments: Sequence[tuple[int, int, float]], unit_us: int,
                 holiday_starts: Sequence[float], holiday_ends: Sequence[float]) -> None:
        self.week = us_to_units(US_PER_WEEK, unit_us)
        self.starts = np.array([us_to_units(a, unit_us) for a, _, _ in segments])
        self.ends = np.array([us_to_units(b, unit_us) for _, b, _ in segments])
        self.lengths = np.array([us_to_units(b - a, unit_us) for a, b, _ in segments])
        self.rates = np.array([rate for _, _, rate in segments])
        cum = np.concatenate(([0.0], np.cumsum(self.rates * self.lengths)))
        self.cum, self.total = cum[:-1], float(cum[-1])
        self.holiday_starts = np.asarray(holiday_starts, dtype=float)
        self.holiday_ends = np.asarray(holiday_ends, dtype=float)
        start_values = self._periodic(self.holiday_starts)
        masses = self._periodic(self.holiday_ends) - start_values
        self.holiday_prefix = np.concatenate(([0.0], np.cumsum(masses)))
        # Λ (holidays out) at the start of each holiday: inverting a value at or beyond it
        # means adding the masses of that holiday and all earlier ones.
        self.holiday_values = start_values - self.holiday_prefix[:-1]

    def _periodic(self, t: np.ndarray) -> np.ndarray:
        k = np.floor(t / self.week)
        r = t - k * self.week
        j = np.searchsorted(self.starts, r, side="right") - 1
        jj = np.maximum(j, 0)
        done = np.clip(r - self.starts[jj], 0.0, self.lengths[jj]) * self.rates[jj]
        return np.asarray(k * self.total + np.where(j >= 0, self.cum[jj] + done, 0.0))

    def value(self, t: float) -> float:
        x = np.asarray(float(t))
        value = float(self._periodic(x))
        i = int(np.searchsorted(self.holiday_ends, x, side="right"))
        if i < self.holiday_starts.size and self.holiday_starts[i] <= t:
            return float(self.holiday_values[i])  # inside a holiday: Λ stands still
        return value - float(self.holiday_prefix[i])

    def inverse(self, y: np.ndarray) -> np.ndarray:
        if self.holiday_values.size:
            y = y + self.holiday_prefix[np.searchsorted(self.holiday_values, y, side="right")]
        k = np.floor(y / self.total)
        r = y - k * self.total
        low, high = r < 0.0, r >= self.total  # y / total rounded across a week
        k = k - low + high
        r = np.where(low, r + self.total, np.where(high, r - self.total, r))
        j = np.searchsorted(self.cum, r, side="right") - 1
        base = k * self.week
        t = (base + self.starts[j]) + (r - self.cum[j]) / self.rates[j]
        # Rounding must not put an arrival at its segment's end, where the rate may be zero.
        return np.minimum(t, np.nextafter(base + self.ends[j], -np.inf))

    def rate_at(self, t: float) -> float:
        i = int(np.searchsorted(self.holiday_ends, t, side="right"))
        if i < self.holiday_starts.size and self.holiday_starts[i] <= t:
            return 0.0
        k = math.floor(t / self.week)
        r = t - k * self.week
        j = int(np.searchsorted(self.starts, r, side="right")) - 1
        return float(self.rates[j]) if j >= 0 and r < self.ends[j] else 0.0


def _check_block(block: object) -> int:
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise UsageError(f"expected block to be an integer >= 1, got {block!r}")
    return block


def _accumulate(y: float, steps: np.ndarray) -> np.ndarray:
    """``y + steps[0]``, ``y + steps[0] + steps[1]``, … added one at a time, left to right,
    so that the result does not depend on how the steps are split into blocks."""
    return np.add.accumulate(np.concatenate(([y], steps)))[1:]


def _sample_until(times: Iterator[np.ndarray], until: float) -> np.ndarray:
    chunks: list[np.ndarray] = []
    for chunk in times:
        chunks.append(chunk)
        if chunk.size and chunk[-1] >= until:
            break
    out = np.concatenate(chunks)
    return out[out < until]


class ArrivalProcess(Protocol):
    """What the engine needs of an arrival process."""

    def times(self, rng: np.random.Generator, *, t0: float = 0.0,
              block: int = 1024) -> Iterator[float]:
        """Arrival times after ``t0``, increasing, without end."""
        ...

    @property
    def mean_rate(self) -> float:
        """Long-run arrivals per unit of simulated time (holidays ignored)."""
        ...


class PoissonArrivals:
    """A non-homogeneous Poisson process with a weekly rate profile, generated exactly.

    Parameters
    ----------
    profile : RateProfile or mapping
        The rates, or their YAML data.
    start : datetime, optional
        Wall-clock date-time of simulated time 0; defaults to the calendar's.
    time_unit : {"seconds", "minutes", "hours", "days"}, optional
        Unit of simulated time; defaults to the calendar's, else ``"minutes"``.
    calendar : Calendar, optional
        An arrival calendar: no arrivals while it is closed (holidays included). It must have
        the same ``start`` and ``time_unit``.

    Raises
    ------
    CalendarError
        When the rate is zero whenever the calendar is open.

    Notes
    -----
    Arrival ``i`` is at ``Λ⁻¹(Λ(t0) + E₁ + … + Eᵢ)`` with ``Eᵢ`` unit exponentials drawn
    ``block`` at a time; the times do not depend on ``block``. Arrivals fall inside slots of
    positive rate (half-open, ``[from, to)``) and inside the calendar's open intervals.

    Examples
    --------
    >>> from datetime import datetime
    >>> import numpy as np
    >>> from procsim.calendars import Calendar
    >>> office = Calendar([{"days": "mon-fri", "from": "09:00", "to": "17:00"}],
    ...                   start=datetime(2026, 1, 5), time_unit="minutes")
    >>> calls = PoissonArrivals({"per": "hour", "all": 30}, calendar=office)
    >>> calls.expected_count(0.0, 10080.0), calls.rate_at(600.0), calls.rate_at(1200.0)
    (1200.0, 0.5, 0.0)
    >>> it = calls.times(np.random.default_rng(7))
    >>> first = next(it)
    >>> office.is_open(first), first >= 540.0
    (True, True)
    """

    def __init__(self, profile: RateProfile | Mapping[str, Any], *,
                 start: datetime | None = None, time_unit: TimeUnit | None = None,
                 calendar: Calendar | None = None) -> None:
        if not isinstance(profile, RateProfile):
            profile = RateProfile.model_validate(profile)
        self.profile = profile
        self.calendar = calendar
        if calendar is not None:
            start = calendar.start if start is None else parse_start(start)
            time_unit = calendar.time_unit if time_unit is None else time_unit
            if start != calendar.start or time_unit != calendar.time_unit:
                raise UsageError(
                    f"expected the calendar's start and time unit ({calendar.start.isoformat()}"
                    f", {calendar.time_unit}), got {start.isoformat()}, {time_unit}")
        if start is None:
            raise WrongTypeError("PoissonArrivals needs a start date-time, or a calendar")
        self.start = parse_start(start)
        self.time_unit: TimeUnit = time_unit or "minutes"
        per_unit = unit_us(self.time_unit)
        # Rates per unit of 'per' -> per unit of simulated time.
        scale = SECONDS_PER[self.time_unit] / _PER_SECONDS[profile.per]
        segments: list[tuple[int, int, float]] = []
        for day, rates in profile.days.items():
            first = DAY_NAMES.index(day) * US_PER_DAY
            slot = US_PER_DAY // len(rates)
            segments += [(first + i * slot, first + (i + 1) * slot, rate * scale)
                         for i, rate in enumerate(rates) if rate > 0]
        table = _rotate_segments(segments, week_offset_us(self.start))
        hol_starts: list[float] = []
        hol_ends: list[float] = []
        if calendar is not None:
            table = _intersect(table, calendar.table_us)
            if not table:
                raise CalendarError(f"no arrivals: the rate is zero whenever calendar "
                                    f"'{calendar.name}' is open")
            hol_starts, hol_ends = calendar.holiday_starts, calendar.holiday_ends
        self._table = _RateTable(table, per_unit, hol_starts, hol_ends)

    @property
    def mean_rate(self) -> float:
        """Long-run arrivals per unit of simulated time: the weekly average, holidays ignored.

        Examples
        --------
        >>> PoissonArrivals({"per": "hour", "mon-fri": 12}, start=datetime(2026, 1, 5),
        ...                 time_unit="hours").mean_rate == 12 * 5 / 7
        True
        """
        return self._table.total / self._table.week

    def rate_at(self, t: float) -> float:
        """The arrival rate at time ``t``, in arrivals per unit of simulated time."""
        return self._table.rate_at(t)

    def expected_count(self, t0: float, t1: float) -> float:
        """Expected number of arrivals in ``[t0, t1)``: Λ(t1) − Λ(t0)."""
        if not t1 >= t0:
            raise UsageError(f"expected t1 >= t0, got t0={t0!r}, t1={t1!r}")
        return self._table.value(t1) - self._table.value(t0)

    def _blocks(self, rng: np.random.Generator, t0: float, block: int) -> Iterator[np.ndarray]:
        _check_block(block)
        y = self._table.value(t0)
        while True:
            ys = _accumulate(y, rng.standard_exponential(block))
            y = float(ys[-1])
            yield self._table.inverse(ys)

    def times(self, rng: np.random.Generator, *, t0: float = 0.0,
              block: int = 1024) -> Iterator[float]:
        """Arrival times after ``t0``, increasing, without end.

        Parameters
        ----------
        rng : numpy.random.Generator
            The stream to draw from (one unit exponential per arrival).
        t0 : float, default 0.0
            Time from which the process runs (the first arrival is after it).
        block : int, default 1024
            Number of exponentials drawn at once; the times do not depend on it.
        """
        for chunk in self._blocks(rng, t0, block):
            yield from chunk.tolist()

    def sample(self, rng: np.random.Generator, *, until: float, t0: float = 0.0,
               block: int = 1024) -> np.ndarray:
        """All arrival times in ``(t0, until)``: the first ones :meth:`times` gives."""
        return _sample_until(self._blocks(rng, t0, block), until)

    def __repr__(self) -> str:
        on = f", calendar={self.calendar.name!r}" if self.calendar is not None else ""
        return (f"PoissonArrivals({self.mean_rate:g} per {self.time_unit[:-1]} on average"
                f"{on})")


class RenewalArrivals:
    """A renewal process, optionally on an arrival calendar whose clock runs only on shift.

    Parameters
    ----------
    interarrival : BaseDistribution or mapping
        Distribution of the time between arrivals (on-shift time, with a calendar), or its
        YAML data (in the calendar's time unit, else minutes).
    calendar : Calendar, optional
        The arrival calendar.

    Notes
    -----
    Without a calendar, arrival ``i`` is at ``t0 + X₁ + … + Xᵢ`` (added one at a time, as
    the engine does). With one, the inter-arrival clock runs only while the calendar is
    open: arrival ``i`` is at the earliest time at which the calendar is open and its
    on-shift time since ``t0`` has reached ``X₁ + … + Xᵢ``, that is

        ``calendar.next_open(calendar.add_working_time(t0, X₁ + … + Xᵢ))``.

    ``add_working_time`` alone would put an arrival that falls exactly on a shift's end at
    that (closed) instant; here it arrives when the calendar next opens. The long-run rate
    is ``open_fraction / mean``: on-shift time divided by the mean inter-arrival time.
    The first arrival is one inter-arrival time (on shift) after ``t0``.

    Examples
    --------
    >>> from datetime import datetime
    >>> import numpy as np
    >>> from procsim.calendars import Calendar
    >>> office = Calendar([{"days": "mon-fri", "from": "09:00", "to": "17:00"}],
    ...                   start=datetime(2026, 1, 5, 8, 0), time_unit="hours")
    >>> hourly = RenewalArrivals({"dist": "fixed", "value": "3h"}, calendar=office)
    >>> it = hourly.times(np.random.default_rng(0))
    >>> [next(it) for _ in range(4)]   # 12:00, 15:00, then 2 h Monday + 1 h Tuesday
    [4.0, 7.0, 26.0, 29.0]
    """

    def __init__(self, interarrival: BaseDistribution | Mapping[str, Any], *,
                 calendar: Calendar | None = None) -> None:
        if not isinstance(interarrival, BaseDistribution):
            from pydantic import TypeAdapter

            unit = calendar.time_unit if calendar is not None else "minutes"
            interarrival = TypeAdapter(Distribution).validate_python(
                interarrival, context={"time_unit": unit})
        self.interarrival: BaseDistribution = interarrival
        self.calendar = calendar
        self._table = None if calendar is None else _RateTable(
            [(a, b, 1.0) for a, b in calendar.table_us], calendar.unit_us,
            calendar.holiday_starts, calendar.holiday_ends)

    @property
    def mean_rate(self) -> float:
        """Long-run arrivals per unit of simulated time (holidays ignored).

        Examples
        --------
        >>> from datetime import datetime
        >>> from procsim.calendars import Calendar
        >>> office = Calendar([{"days": "mon-fri", "from": "09:00", "to": "17:00"}],
        ...                   start=datetime(2026, 1, 5), time_unit="hours")
        >>> RenewalArrivals({"dist": "exponential", "mean": 0.5}, calendar=office).mean_rate
        0.47619047619047616
        """
        mean = self.interarrival.mean
        share = 1.0 if self.calendar is None else self.calendar.open_fraction()
        return share / mean if mean > 0 else math.inf

    def _blocks(self, rng: np.random.Generator, t0: float, block: int) -> Iterator[np.ndarray]:
        _check_block(block)
        draw = self.interarrival.block_sampler()
        table = self._table
        y = t0 if table is None else table.value(t0)
        while True:
            ys = _accumulate(y, draw(rng, block))
            y = float(ys[-1])
            yield ys if table is None else table.inverse(ys)

    def times(self, rng: np.random.Generator, *, t0: float = 0.0,
              block: int = 1024) -> Iterator[float]:
        """Arrival times after ``t0``, non-decreasing, without end.

        Parameters
        ----------
        rng : numpy.random.Generator
            The stream the inter-arrival times are drawn from.
        t0 : float, default 0.0
            Time from which the process runs.
        block : int, default 1024
            Number of inter-arrival times drawn at once (as a distribution's ``sampler``).
        """
        for chunk in self._blocks(rng, t0, block):
            yield from chunk.tolist()

    def sample(self, rng: np.random.Generator, *, until: float, t0: float = 0.0,
               block: int = 1024) -> np.ndarray:
        """All arrival times before ``until``: the first ones :meth:`times` gives."""
        return _sample_until(self._blocks(rng, t0, block), until)

    def __repr__(self) -> str:
        on = f", calendar={self.calendar.name!r}" if self.calendar is not None else ""
        return f"RenewalArrivals({self.interarrival!r}{on})"
