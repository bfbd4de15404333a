"""Weekly working calendars, and exact calendar arithmetic on simulated time.

A calendar says when a pool works or when cases may arrive: a set of weekly open intervals,
minus optional holidays. Simulated time is a float in the model's ``time_unit`` counted from
the model's start date-time; a :class:`Calendar` answers, for any such float, whether the
calendar is open, when it next opens, when the current shift ends, how much on-shift time
lies between two times, and when an amount of on-shift work started at some time finishes.

Local time, no daylight saving
------------------------------
Times are **local wall-clock time without daylight-saving shifts**: every day has 24 hours
and every week 168, so simulated time ``t`` is ``start + t`` on the wall clock. A model
describes office hours ("we open at 9"), not UTC instants; with daylight saving a day would
have 23 or 25 hours twice a year and a shift of 09:00–17:00 would move against simulated
time, which no business process model means. Start date-times are therefore naive
(:func:`parse_start` rejects a time zone).

The YAML a calendar is written in
---------------------------------
A calendar is a list of open intervals, or a mapping with ``hours`` (that list) and
``holidays``::

    calendars:
      office:                                   # short form: a list of intervals
        - {days: mon-fri, from: "09:00", to: "17:00"}
        - {days: sat, from: "10:00", to: "14:00"}
      night_desk:                               # long form: hours and holidays
        hours:
          - {days: all, from: "22:00", to: "06:00"}
        holidays: [2026-01-01, 2026-12-25]

``days``
    A day (``mon`` … ``sun``, or the full name), a range (``mon-fri``; ``fri-mon`` wraps
    round the week end: fri, sat, sun, mon), a list (``[mon, wed]``, items may be ranges),
    or ``all`` / ``daily``. Case does not matter. These are the days on which an interval
    *starts*.
``from``, ``to``
    Times ``"HH:MM"`` **in quotes**: YAML reads an unquoted ``17:00`` as the number 1020
    (a sexagesimal integer), and the message says so. ``to`` may be ``"24:00"``. An interval
    whose ``to`` is not after its ``from`` crosses midnight into the next day (``22:00`` to
    ``06:00`` on ``fri`` is open from Friday 22:00 to Saturday 06:00), and ``from`` equal to
    ``to`` means 24 hours (``"00:00"``–``"00:00"`` is the whole day).
``holidays``
    Dates (``2026-12-25``, unquoted YAML dates or ISO text). A holiday closes its **calendar
    day**, 00:00 to 24:00, whatever the intervals say: a night shift from 22:00 the evening
    before is cut at midnight, and one starting at 22:00 on the holiday opens only at the
    following midnight.

Overlapping or touching intervals are merged, not rejected: ``09:00–13:00`` and
``12:00–17:00`` make one stretch ``09:00–17:00``, and a shift that runs into the next one
without a gap (Sunday 16:00–24:00, then Monday 00:00–08:00) is one stretch for
:meth:`Calendar.shift_end`.

Exactness
---------
Open intervals are kept as a weekly table, exact in microseconds and rotated so that the
week starts at the model's start; every boundary in simulated time is computed by one
formula, ``k * week + offset``, in floating point. Times a calendar returns are therefore
the very floats it compares against: :meth:`~Calendar.next_open` at an opening instant
returns that instant, and :meth:`~Calendar.is_open` holds there. Lookups are a bisection in
the weekly table (and in the sorted holidays), so every method costs O(log n) per call;
:meth:`~Calendar.add_working_time` skips whole weeks at once.

Examples
--------
>>> from datetime import datetime
>>> office = Calendar(
...     [{"days": "mon-fri", "from": "09:00", "to": "17:00"}],
...     start=datetime(2026, 1, 5, 8, 0), time_unit="hours", name="office")
>>> office.is_open(0.5), office.next_open(0.5), office.shift_end(1.0)
(False, 1.0, 9.0)
>>> office.add_working_time(8.0, 2.0)     # 16:00 Monday + 2 h on shift: 10:00 Tuesday
26.0
>>> office.datetime_at(26.0)
datetime.datetime(2026, 1, 6, 10, 0)
>>> office.working_time(0.0, 168.0), office.open_fraction()
(40.0, 0.23809523809523808)
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from procsim.errors import ProcsimError, UsageError, close_match_hint
from procsim.units import SECONDS_PER, TimeUnit

__all__ = [
    "DAY_NAMES",
    "MAX_CLOSED_DAYS",
    "US_PER_DAY",
    "US_PER_WEEK",
    "Calendar",
    "CalendarError",
    "CalendarInterval",
    "CalendarSpec",
    "StartDateTime",
    "datetime_at",
    "parse_days",
    "parse_start",
    "time_at",
    "unit_us",
    "us_to_units",
    "week_offset_us",
]

#: Day names as a model writes them; index 0 is Monday (as ``datetime.weekday()``).
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_INDEX = {name: i for names in (DAY_NAMES, _FULL_NAMES) for i, name in enumerate(names)}
_EVERY_DAY = ("all", "daily")

#: :meth:`Calendar.next_open` gives up (with :class:`CalendarError`) after this many days
#: closed: a calendar shut for ten years is a mistake in its holidays, not a model.
MAX_CLOSED_DAYS = 3653

_MINUTES_PER_DAY = 1440
_MINUTES_PER_WEEK = 7 * _MINUTES_PER_DAY
_US_PER_MINUTE = 60_000_000
US_PER_DAY = _MINUTES_PER_DAY * _US_PER_MINUTE
US_PER_WEEK = 7 * US_PER_DAY


class CalendarError(ProcsimError):
    """A calendar cannot be used: it is never open, or closed for more than ten years."""


# --- parsing the YAML -------------------------------------------------------------------------

EXPECTED_DAYS = ("a day (mon, tue, wed, thu, fri, sat, sun), a range such as mon-fri, "
                 "a list such as [mon, wed], or all")


def _day_index(word: str, whole: object) -> int:
    key = word.strip().lower()
    if key in _DAY_INDEX:
        return _DAY_INDEX[key]
    hint = close_match_hint(key, [*DAY_NAMES, *_EVERY_DAY])
    message = f"expected {EXPECTED_DAYS}, got {whole!r}"
    if key != str(whole).strip().lower():
        message += f": unknown day {word.strip()!r}"
    raise UsageError(message + hint)


def parse_days(value: object) -> tuple[int, ...]:
    """Parse the ``days`` of a calendar interval (or a rate profile's key) into weekday indices.

    Parameters
    ----------
    value : str or list of str
        ``"mon"``, ``"mon-fri"``, ``"fri-mon"`` (wrapping round the week end), ``"all"`` or
        ``"daily"``, a comma-separated text (``"mon, wed"``) or a list of any of these.

    Returns
    -------
    tuple of int
        Sorted, distinct weekday indices, 0 for Monday.

    Raises
    ------
    procsim.errors.UsageError
        A ``ValueError`` too, saying what was expected and what was found, with a close match
        for a misspelt day.

    Examples
    --------
    >>> parse_days("mon-fri"), parse_days("fri-mon"), parse_days(["sat", "Sunday"])
    ((0, 1, 2, 3, 4), (0, 4, 5, 6), (5, 6))
    >>> parse_days("thr")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    procsim.errors.UsageError: expected a day (mon, tue, ...), ... got 'thr' (did you mean 'thu'?)
    """
    if isinstance(value, str):
        items: list[object] = list(value.split(","))
    elif isinstance(value, list | tuple):
        items = list(value)
        if not items:
            raise UsageError("expected at least one day, got []")
    else:
        raise UsageError(f"expected {EXPECTED_DAYS}, got {value!r}")
    days: set[int] = set()
    for item in items:
        if not isinstance(item, str):
            raise UsageError(f"expected {EXPECTED_DAYS}, got {item!r}")
        word = item.strip().lower()
        if word in _EVERY_DAY:
            days.update(range(7))
            continue
        first, dash, last = word.partition("-")
        if dash:
            a, b = _day_index(first, item), _day_index(last, item)
            days.update((a + i) % 7 for i in range((b - a) % 7 + 1))
        else:
            days.add(_day_index(word, item))
    return tuple(sorted(days))


_TIME_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_TIME_PATTERN = r"^\s*\d{1,2}:\d{2}\s*$"


def _parse_time(value: object, *, closing: bool) -> int:
    """Minutes after midnight of an ``"HH:MM"`` time (``"24:00"`` only when ``closing``)."""
    latest = _MINUTES_PER_DAY if closing else _MINUTES_PER_DAY - 1
    expected = f"a time HH:MM between 00:00 and {'24:00' if closing else '23:59'}"
    if isinstance(value, time):
        if value.tzinfo is None and value.second == 0 and value.microsecond == 0:
            return value.hour * 60 + value.minute
    elif isinstance(value, str):
        m = _TIME_RE.match(value)
        if m and int(m.group(2)) < 60 and int(m.group(1)) * 60 + int(m.group(2)) <= latest:
            return int(m.group(1)) * 60 + int(m.group(2))
    elif isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= latest:
        # PyYAML (YAML 1.1) reads an unquoted 17:00 as the sexagesimal integer 1020.
        h, mm = divmod(value, 60)
        raise UsageError(
            f"expected {expected} in quotes, got {value} (YAML reads an unquoted {h}:{mm:02d} "
            f"as the number {value}; write \"{h:02d}:{mm:02d}\")"
        )
    raise UsageError(f"expected {expected}, got {value!r}")


def _format_time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _parse_days_field(value: object) -> tuple[str, ...]:
    if isinstance(value, tuple) and all(v in DAY_NAMES for v in value):
        return value  # already validated (a model being copied or serialised)
    return tuple(DAY_NAMES[i] for i in parse_days(value))


def _parse_holiday(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise UsageError(f"expected a date YYYY-MM-DD (a holiday closes a whole day), got {value!r}")


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_DAYS_SCHEMA = {
    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}],
    "description": "Days on which the interval starts: mon, mon-fri, fri-mon, [mon, wed], all.",
}

Days = Annotated[tuple[Weekday, ...], BeforeValidator(_parse_days_field),
                 WithJsonSchema(_DAYS_SCHEMA)]
OpeningTime = Annotated[
    int,
    BeforeValidator(lambda v: _parse_time(v, closing=False)),
    PlainSerializer(_format_time, return_type=str),
    WithJsonSchema({"type": "string", "pattern": _TIME_PATTERN,
                    "description": "Opening time HH:MM, 00:00 to 23:59, in quotes."}),
]
ClosingTime = Annotated[
    int,
    BeforeValidator(lambda v: _parse_time(v, closing=True)),
    PlainSerializer(_format_time, return_type=str),
    WithJsonSchema({"type": "string", "pattern": _TIME_PATTERN,
                    "description": "Closing time HH:MM, 00:00 to 24:00, in quotes; not after "
                                   "'from' means the next day."}),
]
Holiday = Annotated[
    date,
    BeforeValidator(_parse_holiday),
    WithJsonSchema({"type": "string", "format": "date"}),
]


def _tidy_schema(schema: dict[str, Any]) -> None:
    # The description is the class docstring; its examples are for Python users, not for
    # someone writing YAML in an editor. Keep the first paragraph.
    if "description" in schema:
        schema["description"] = schema["description"].split("\n\n")[0]


class CalendarInterval(BaseModel):
    """One line of a calendar: open from ``from`` to ``to`` on each of ``days``.

    ``from_`` and ``to`` are minutes after midnight; the interval lasts ``to - from``
    minutes, or crosses midnight when ``to`` is not after ``from`` (24 hours when equal).

    Examples
    --------
    >>> night = CalendarInterval.model_validate({"days": "fri", "from": "22:00", "to": "06:00"})
    >>> night.days, night.from_, night.length
    (('fri',), 1320, 480)
    >>> night.model_dump()
    {'days': ('fri',), 'from': '22:00', 'to': '06:00'}
    """

    # defer_build: validators built on first use, not at import (see model.schema._Spec)
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, populate_by_name=True,
                              serialize_by_alias=True, json_schema_extra=_tidy_schema)

    days: Days
    from_: OpeningTime = Field(alias="from")
    to: ClosingTime

    @property
    def length(self) -> int:
        """Length of the interval in minutes (1 to 1440)."""
        return (self.to - self.from_) % _MINUTES_PER_DAY or _MINUTES_PER_DAY

    @property
    def day_indices(self) -> tuple[int, ...]:
        """The days as weekday indices, 0 for Monday."""
        return tuple(DAY_NAMES.index(d) for d in self.days)


class CalendarSpec(BaseModel):
    """A calendar as a model file writes it: open ``hours`` and ``holidays``.

    Validates from either YAML form: a list of intervals, or a mapping with ``hours`` (that
    list) and optional ``holidays`` (dates). Holidays are kept sorted and distinct.

    Examples
    --------
    >>> short = CalendarSpec.model_validate([{"days": "mon-fri", "from": "9:00", "to": "17:00"}])
    >>> long = CalendarSpec.model_validate(
    ...     {"hours": [{"days": "mon-fri", "from": "09:00", "to": "17:00"}]})
    >>> short == long
    True
    >>> CalendarSpec.model_validate({"hours": short.hours, "holidays": ["2026-12-25"]}).holidays
    (datetime.date(2026, 12, 25),)
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True,
                              json_schema_extra=_tidy_schema)

    hours: tuple[CalendarInterval, ...] = Field(
        description="Weekly open intervals; overlapping ones are merged.")
    holidays: tuple[Holiday, ...] = Field(
        default=(), description="Dates closed all day (00:00 to 24:00).")

    @model_validator(mode="before")
    @classmethod
    def _list_form(cls, data: Any) -> Any:
        return {"hours": data} if isinstance(data, list | tuple) else data

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        # A model file may also write the calendar as just its list of intervals.
        schema = handler.resolve_ref_schema(handler(core_schema))
        hours = dict(schema["properties"]["hours"])
        short = {"type": "array", "items": hours["items"], "minItems": 1}
        return {"description": schema.get("description", ""),
                "anyOf": [{k: v for k, v in schema.items() if k != "description"}, short]}

    @field_validator("hours")
    @classmethod
    def _some_hours(cls, value: tuple[CalendarInterval, ...]) -> tuple[CalendarInterval, ...]:
        if not value:
            raise UsageError("expected at least one open interval such as "
                             "{days: mon-fri, from: \"09:00\", to: \"17:00\"}, got none")
        return value

    @field_validator("holidays")
    @classmethod
    def _sorted(cls, value: tuple[date, ...]) -> tuple[date, ...]:
        return tuple(sorted(set(value)))


# --- simulated time and the wall clock --------------------------------------------------------


def parse_start(value: object) -> datetime:
    """Parse a model's start date-time: a naive ``datetime``, a ``date`` or ISO text.

    A date means its midnight. A time zone is rejected: simulated time is local wall-clock
    time without daylight saving (see the module notes).

    Examples
    --------
    >>> parse_start("2026-01-05T08:00"), parse_start(date(2026, 1, 5))
    (datetime.datetime(2026, 1, 5, 8, 0), datetime.datetime(2026, 1, 5, 0, 0))
    >>> parse_start("2026-01-05T08:00+01:00")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    procsim.errors.UsageError: expected a local date-time without a time zone ..., \
got '2026-01-05T08:00+01:00'
    """
    expected = "a local date-time without a time zone such as 2026-01-05T08:00"
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
    if moment is None or moment.tzinfo is not None:
        raise UsageError(f"expected {expected}, got {value!r}")
    return moment


#: A model's ``start``: a naive date-time (see :func:`parse_start`).
StartDateTime = Annotated[
    datetime,
    BeforeValidator(parse_start),
    WithJsonSchema({"type": "string", "description": "Local date-time, e.g. 2026-01-05T08:00."}),
]


def unit_us(time_unit: str) -> int:
    """Microseconds in one ``time_unit`` (calendars compute exactly in microseconds).

    >>> unit_us("minutes")
    60000000
    """
    if time_unit not in SECONDS_PER:
        raise UsageError(f"expected a time unit ({', '.join(SECONDS_PER)}), got {time_unit!r}")
    return round(SECONDS_PER[time_unit] * 1_000_000)


def _us(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def us_to_units(us: int, unit_us: int) -> float:
    """``us`` microseconds in model time units of ``unit_us`` microseconds, correctly rounded.

    >>> us_to_units(US_PER_DAY, unit_us("hours"))
    24.0
    """
    return float(Fraction(us, unit_us))


def datetime_at(t: float, *, start: datetime, time_unit: TimeUnit) -> datetime:
    """The wall-clock date-time of simulated time ``t`` (to the microsecond).

    Examples
    --------
    >>> datetime_at(90.5, start=datetime(2026, 1, 5, 8, 0), time_unit="minutes")
    datetime.datetime(2026, 1, 5, 9, 30, 30)
    """
    us = round(Fraction(t) * unit_us(time_unit))
    return start + timedelta(microseconds=us)


def time_at(moment: datetime, *, start: datetime, time_unit: TimeUnit) -> float:
    """The simulated time of a wall-clock date-time, in ``time_unit`` after ``start``.

    Examples
    --------
    >>> time_at(datetime(2026, 1, 6, 9, 0), start=datetime(2026, 1, 5, 8, 0), time_unit="hours")
    25.0
    """
    return us_to_units(_us(moment - start), unit_us(time_unit))


def week_offset_us(start: datetime) -> int:
    """Microseconds from the Monday 00:00 of ``start``'s week to ``start``."""
    monday = datetime.combine(start.date() - timedelta(days=start.weekday()), time())
    return _us(start - monday)


def _merge(pieces: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted union of half-open intervals; touching ones are joined."""
    merged: list[tuple[int, int]] = []
    for a, b in sorted(pieces):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _rotate(intervals: Sequence[tuple[int, int]], offset: int,
            week: int) -> list[tuple[int, int]]:
    """Shift weekly intervals by ``-offset`` (modulo ``week``), splitting any that wrap."""
    pieces: list[tuple[int, int]] = []
    for a, b in intervals:
        a2 = (a - offset) % week
        b2 = a2 + (b - a)
        if b2 <= week:
            pieces.append((a2, b2))
        else:
            pieces += [(a2, week), (0, b2 - week)]
    return _merge(pieces)


def _weekly_minutes(spec: CalendarSpec) -> list[tuple[int, int]]:
    """The spec's open intervals in minutes of the week from Monday 00:00, merged."""
    pieces: list[tuple[int, int]] = []
    for interval in spec.hours:
        for day in interval.day_indices:
            a = day * _MINUTES_PER_DAY + interval.from_
            b = a + interval.length
            if b <= _MINUTES_PER_WEEK:
                pieces.append((a, b))
            else:  # Sunday night into Monday
                pieces += [(a, _MINUTES_PER_WEEK), (0, b - _MINUTES_PER_WEEK)]
    return _merge(pieces)


# --- the compiled calendar --------------------------------------------------------------------


class Calendar:
    """A calendar compiled for one start date-time and time unit, for fast exact lookups.

    Parameters
    ----------
    spec : CalendarSpec, list or mapping
        The calendar, or its YAML data (validated into a :class:`CalendarSpec`).
    start : datetime
        Wall-clock date-time of simulated time 0 (naive; see :func:`parse_start`).
    time_unit : {"seconds", "minutes", "hours", "days"}, default "minutes"
        Unit of simulated time.
    name : str, default "calendar"
        Used in error messages.

    Raises
    ------
    CalendarError
        When the calendar has no open hours.

    Notes
    -----
    Every method takes and returns simulated times (floats). Open intervals are half-open,
    ``[open, close)``: the calendar is open at an opening instant and closed at a closing one.

    Examples
    --------
    >>> night = Calendar({"hours": [{"days": "all", "from": "22:00", "to": "06:00"}],
    ...                   "holidays": ["2026-01-06"]},
    ...                  start=datetime(2026, 1, 5), time_unit="hours")
    >>> night.shift_end(23.0)          # Monday 23:00: the holiday cuts the shift at midnight
    24.0
    >>> night.next_open(24.0)          # Tuesday is closed; Wednesday 00:00 opens
    48.0
    >>> list(night.intervals(0.0, 60.0))
    [(0.0, 6.0), (22.0, 24.0), (48.0, 54.0)]
    """

    __slots__ = (
        "_always", "_closes", "_cum", "_cum2", "_cum2_end", "_gap_cum", "_holidays_us",
        "_len2", "_m", "_max_closed", "_open_per_week", "_opens", "_shift", "_week",
        "holiday_ends",
        "holiday_starts", "name", "spec", "start", "table_us", "time_unit", "unit_us",
    )

    def __init__(self, spec: CalendarSpec | Sequence[Any] | Mapping[str, Any], *,
                 start: datetime, time_unit: TimeUnit = "minutes",
                 name: str = "calendar") -> None:
        if not isinstance(spec, CalendarSpec):
            try:
                spec = CalendarSpec.model_validate(spec)
            except ValidationError as exc:   # a calendar built from Python, not from a model
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or 'spec'}: "
                    f"{e['msg'].removeprefix('Value error, ')}"
                    for e in exc.errors())
                raise UsageError(f"calendar {name!r}: {problems}") from None
        self.spec = spec
        self.name = name
        self.start = parse_start(start)
        self.time_unit = time_unit
        per_unit = self.unit_us = unit_us(time_unit)
        weekly = _weekly_minutes(spec)
        if not weekly:  # only a spec built without validation can get here
            raise CalendarError(f"calendar '{name}' has no open hours")

        # The weekly table, exact in microseconds, rotated so that the week starts at start.
        table = _rotate([(a * _US_PER_MINUTE, b * _US_PER_MINUTE) for a, b in weekly],
                        week_offset_us(self.start), US_PER_WEEK)
        self.table_us = tuple(table)
        self._always = weekly == [(0, _MINUTES_PER_WEEK)]
        self._m = len(table)
        self._week = us_to_units(US_PER_WEEK, per_unit)
        self._opens = [us_to_units(a, per_unit) for a, _ in table]
        self._closes = [us_to_units(b, per_unit) for _, b in table]
        lengths = [b - a for a, b in table]
        total = sum(lengths)
        self._open_per_week = us_to_units(total, per_unit)
        self._cum = [us_to_units(sum(lengths[:j]), per_unit) for j in range(self._m)]
        # Two weeks of cumulative open time, to find where an amount of work ends by bisection.
        self._cum2 = [us_to_units(sum(lengths[:j % self._m]) + (j // self._m) * total, per_unit)
                      for j in range(2 * self._m)]
        self._len2 = [us_to_units(lengths[j % self._m], per_unit) for j in range(2 * self._m)]
        self._cum2_end = [
            us_to_units(sum(lengths[:j % self._m + 1]) + (j // self._m) * total, per_unit)
            for j in range(2 * self._m)
        ]
        self._max_closed = us_to_units(MAX_CLOSED_DAYS * US_PER_DAY, per_unit)
        # The periodic interval add_working_time located last, when no holiday cuts it: a
        # hint that saves locating it again (empty until then).
        self._shift = (math.inf, -math.inf)

        # Holidays: runs of consecutive dates, as closed windows in simulated time.
        runs: list[list[date]] = []
        for day in spec.holidays:
            if runs and day == runs[-1][1] + timedelta(days=1):
                runs[-1][1] = day
            else:
                runs.append([day, day])
        self._holidays_us = tuple(
            (_us(datetime.combine(a, time()) - self.start),
             _us(datetime.combine(b, time()) + timedelta(days=1) - self.start))
            for a, b in runs
        )
        self.holiday_starts = [self._canonical(a) for a, _ in self._holidays_us]
        self.holiday_ends = [self._canonical(b) for _, b in self._holidays_us]
        # On-shift time from the end of each holiday to the start of the next, cumulated.
        self._gap_cum = [0.0]
        for a, b in zip(self.holiday_ends[:-1], self.holiday_starts[1:], strict=True):
            self._gap_cum.append(self._gap_cum[-1] + self._periodic_work(a, b))

    # --- internals: the periodic table ------------------------------------------------------

    def _canonical(self, us: int) -> float:
        """A time given in microseconds after start, as the float the table would compute."""
        k, rest = divmod(us, US_PER_WEEK)
        return k * self._week + us_to_units(rest, self.unit_us)

    def _open_at(self, n: int) -> float:
        k, j = divmod(n, self._m)
        return k * self._week + self._opens[j]

    def _close_at(self, n: int) -> float:
        k, j = divmod(n, self._m)
        return k * self._week + self._closes[j]

    def _locate(self, t: float) -> int:
        """Index of the last periodic interval that opens at or before ``t``."""
        if not math.isfinite(t):
            raise UsageError(f"expected a finite time, got {t!r}")
        k = math.floor(t / self._week)
        j = bisect_right(self._opens, t - k * self._week) - 1
        n = k * self._m + j
        # The week position is exact, but the boundaries are compared as computed floats:
        # correct by one where t lies within rounding of a boundary.
        while self._open_at(n + 1) <= t:
            n += 1
        while self._open_at(n) > t:
            n -= 1
        return n

    def _periodic_next_open(self, t: float) -> float:
        n = self._locate(t)
        return t if t < self._close_at(n) else self._open_at(n + 1)

    def _periodic_work(self, a: float, b: float) -> float:
        """On-shift time in ``[a, b]`` ignoring holidays (``a <= b``)."""
        if self._always:
            return b - a
        na, nb = self._locate(a), self._locate(b)
        ca, cb = self._close_at(na), self._close_at(nb)
        if na == nb:
            return min(b, cb) - min(a, ca)
        # What is left of a's interval, the intervals in between, what is done of b's: each
        # part is exactly 0 when it is empty, so that closed time counts exactly nothing.
        rest_a = ca - min(a, ca)
        done_b = min(b, cb) - self._open_at(nb)
        if nb == na + 1:
            return rest_a + done_b
        k1, j1 = divmod(na + 1, self._m)
        kb, jb = divmod(nb, self._m)
        between = (kb - k1) * self._open_per_week + (self._cum[jb] - self._cum[j1])
        return rest_a + between + done_b

    def _slack(self, x: float) -> float:
        return 4 * math.ulp(max(abs(x), self._week))

    def _periodic_advance(self, x: float, d: float) -> float:
        """Smallest ``y >= x`` with ``d`` of periodic on-shift time in ``[x, y]`` (``d > 0``)."""
        if self._always:
            return x + d
        # An amount that is a difference of times carries their rounding: work that ends
        # within a few ulps of a shift's end ends at the shift's end, not in the next shift.
        slack = self._slack(x)
        n = self._locate(x)
        close = self._close_at(n)
        if x < close:
            available = close - x
            if d < available:
                return min(x + d, close)
            if d <= available + slack:
                return close
            d -= available
        n += 1
        # Skip whole weeks, leaving 0 < d <= one week's open time.
        weeks = int(d // self._open_per_week)
        d -= weeks * self._open_per_week
        if d <= slack and weeks > 0:  # ends at a shift's end, not just after the next opening
            weeks -= 1
            d += self._open_per_week
        n += weeks * self._m
        j = n % self._m
        target = self._cum2[j] + d
        i = min(bisect_left(self._cum2_end, target - slack, j, j + self._m), j + self._m - 1)
        last = n + (i - j)
        done = target - self._cum2[i]
        if done >= self._len2[i]:
            return self._close_at(last)
        return min(self._open_at(last) + done, self._close_at(last))

    # --- internals: holidays ----------------------------------------------------------------

    def _holiday_at(self, t: float) -> int:
        """Index of the holiday window containing ``t``, or -1."""
        i = bisect_right(self.holiday_starts, t) - 1
        return i if i >= 0 and t < self.holiday_ends[i] else -1

    def _next_open(self, t: float, limit: float) -> float:
        """:meth:`next_open`, or some time beyond ``limit`` when it lies beyond ``limit``."""
        s = self._periodic_next_open(t)
        i = self._holiday_at(s)
        while i >= 0 and s <= limit:
            s = self._periodic_next_open(self.holiday_ends[i])
            i = self._holiday_at(s)
        return s

    def _closed_too_long(self, t: float) -> CalendarError:
        return CalendarError(
            f"calendar '{self.name}' is closed for more than {MAX_CLOSED_DAYS // 365} years "
            f"after {self.datetime_at(t):%Y-%m-%d %H:%M} (time {t:g}); check its holidays"
        )

    def stretch(self, t: float) -> tuple[float, bool]:
        """``(until, open)``: :meth:`is_open` is ``open`` at every time in ``[t, until)``.

        Open at ``t``: ``until`` is :meth:`shift_end` ``(t)``. Closed: ``until`` is
        :meth:`next_open` ``(t)``, or ``t`` itself where that would raise. For callers that
        ask at times that never decrease (the engine caches it per calendar).
        """
        end = self.shift_end(t)
        if end > t:
            return end, True
        limit = t + self._max_closed
        s = self._next_open(t, limit)
        return (s if s <= limit else t), False

    # --- the public API -----------------------------------------------------------------------

    def is_open(self, t: float) -> bool:
        """Whether the calendar is open (on shift) at time ``t``.

        Examples
        --------
        >>> cal = Calendar([{"days": "mon", "from": "09:00", "to": "17:00"}],
        ...                start=datetime(2026, 1, 5), time_unit="hours")
        >>> cal.is_open(9.0), cal.is_open(16.99), cal.is_open(17.0)
        (True, True, False)
        """
        n = self._locate(t)
        return t < self._close_at(n) and (not self.holiday_starts or self._holiday_at(t) < 0)

    def next_open(self, t: float) -> float:
        """The earliest time ``>= t`` at which the calendar is open; ``t`` itself when open.

        Raises
        ------
        CalendarError
            When the calendar stays closed for more than :data:`MAX_CLOSED_DAYS` after ``t``.

        Examples
        --------
        >>> cal = Calendar([{"days": "mon-fri", "from": "09:00", "to": "17:00"}],
        ...                start=datetime(2026, 1, 9, 12, 0), time_unit="hours")  # a Friday
        >>> cal.next_open(5.0)       # Friday 17:00 -> Monday 09:00
        69.0
        >>> cal.next_open(69.0)
        69.0
        """
        limit = t + self._max_closed
        s = self._next_open(t, limit)
        if s > limit:
            raise self._closed_too_long(t)
        return s

    @property
    def always_open(self) -> bool:
        """Open every hour of every day, without holidays: a calendar that changes nothing.

        Examples
        --------
        >>> Calendar([{"days": "all", "from": "00:00", "to": "24:00"}],
        ...          start=datetime(2026, 1, 5)).always_open
        True
        >>> Calendar([{"days": "mon-fri", "from": "09:00", "to": "17:00"}],
        ...          start=datetime(2026, 1, 5)).always_open
        False
        """
        return self._always and not self.holiday_starts

    def shift_end(self, t: float) -> float:
        """The end of the open stretch containing ``t``; ``t`` itself when closed at ``t``.

        Touching intervals (a shift ending at 24:00 and the next one starting at 00:00) are
        one stretch; a holiday ends it. Infinite for a calendar that is always open and has
        no holiday ahead.

        Examples
        --------
        >>> cal = Calendar([{"days": "sun", "from": "16:00", "to": "24:00"},
        ...                 {"days": "mon", "from": "00:00", "to": "08:00"}],
        ...                start=datetime(2026, 1, 5), time_unit="hours")
        >>> cal.shift_end(6 * 24 + 20.0)     # Sunday 20:00 -> Monday 08:00
        176.0
        """
        n = self._locate(t)
        end = self._close_at(n)
        if not t < end or (self.holiday_starts and self._holiday_at(t) >= 0):
            return t
        if self._always:
            end = math.inf
        else:
            while end == self._open_at(n + 1):  # at most once: at the table's week split
                n += 1
                end = self._close_at(n)
        i = bisect_right(self.holiday_starts, t)
        if i < len(self.holiday_starts) and self.holiday_starts[i] < end:
            end = self.holiday_starts[i]
        return end

    def working_time(self, t0: float, t1: float) -> float:
        """On-shift time between ``t0`` and ``t1`` (``t0 <= t1``).

        Examples
        --------
        >>> cal = Calendar([{"days": "mon-fri", "from": "09:00", "to": "17:00"}],
        ...                start=datetime(2026, 1, 5), time_unit="hours")
        >>> cal.working_time(10.0, 24 + 12.0)      # Monday 10:00 to Tuesday 12:00
        10.0
        """
        if not t1 >= t0:
            raise UsageError(f"expected t1 >= t0, got t0={t0!r}, t1={t1!r}")
        starts, ends = self.holiday_starts, self.holiday_ends
        i0, i1 = bisect_right(ends, t0), bisect_left(starts, t1)  # the holidays in between
        if i0 >= i1:
            return self._periodic_work(t0, t1)
        # Add up the pieces between holidays (not periodic time minus holiday time), so that
        # time that is all closed counts exactly 0.
        before = self._periodic_work(t0, starts[i0]) if t0 < starts[i0] else 0.0
        after = self._periodic_work(ends[i1 - 1], t1) if t1 > ends[i1 - 1] else 0.0
        between = self._gap_cum[i1 - 1] - self._gap_cum[i0] if i1 - i0 > 1 else 0.0
        return before + between + after

    def add_working_time(self, t: float, amount: float) -> float:
        """The earliest time at which ``amount`` of on-shift time has passed since ``t``.

        For work that pauses off shift: it starts (or waits) at ``t`` and ends at the
        returned time, which is a shift's end when the work finishes exactly then.
        ``amount == 0`` returns ``t``.

        Raises
        ------
        CalendarError
            When the calendar stays closed for more than :data:`MAX_CLOSED_DAYS`.

        Examples
        --------
        >>> cal = Calendar([{"days": "mon-fri", "from": "09:00", "to": "17:00"}],
        ...                start=datetime(2026, 1, 5), time_unit="hours")
        >>> cal.add_working_time(16.0, 1.0), cal.add_working_time(16.0, 3.0)
        (17.0, 35.0)
        >>> cal.add_working_time(0.0, 40.0)     # a whole working week: Friday 17:00
        113.0
        """
        if not (math.isfinite(amount) and amount >= 0):
            raise UsageError(f"expected an amount of time >= 0, got {amount!r}")
        if amount == 0:
            return t
        lo, hi = self._shift
        if not self._always and not lo <= t < hi:
            self._remember_shift(t)
            lo, hi = self._shift
        if lo <= t and amount < hi - t:
            # Within the periodic interval [lo, hi) that holds t, which no holiday cuts: what
            # the general path below returns there (_periodic_advance's first case), without
            # locating the interval again.
            return min(t + amount, hi)
        x, remaining = t, amount
        i = self._holiday_at(x) if self.holiday_starts else -1
        if i >= 0:
            x = self.holiday_ends[i]
        # From holiday to holiday: the work that fits before the next one, then after it.
        # A holiday's start is a hard limit, so that work ending exactly there ends there.
        while True:
            i = bisect_right(self.holiday_starts, x)
            if i == len(self.holiday_starts):
                return self._periodic_advance(x, remaining)
            available = self._periodic_work(x, self.holiday_starts[i])
            if remaining <= available + self._slack(x):
                return min(self._periodic_advance(x, remaining), self.holiday_starts[i])
            remaining -= available
            x = self.holiday_ends[i]
            if x - t > self._max_closed + amount:
                raise self._closed_too_long(t)

    def _remember_shift(self, t: float) -> None:
        """Keep the periodic interval containing ``t`` as the hint of add_working_time, if
        ``t`` lies in one and no holiday cuts it."""
        n = self._locate(t)
        lo, hi = self._open_at(n), self._close_at(n)
        if t < hi:
            j = bisect_right(self.holiday_ends, lo)
            if j == len(self.holiday_starts) or self.holiday_starts[j] >= hi:
                self._shift = (lo, hi)

    def intervals(self, t0: float, t1: float = math.inf) -> Iterator[tuple[float, float]]:
        """The open stretches within ``[t0, t1)``, clipped to it, in order.

        Stretches are maximal (touching intervals merged, holidays cut out), so that the gap
        between two consecutive ones is closed time. With ``t1`` infinite the iterator does
        not end (unless the calendar is always open).

        Examples
        --------
        >>> cal = Calendar([{"days": "mon-fri", "from": "09:00", "to": "17:00"}],
        ...                start=datetime(2026, 1, 5), time_unit="hours")
        >>> list(cal.intervals(10.0, 40.0))
        [(10.0, 17.0), (33.0, 40.0)]
        """
        if not t1 >= t0:
            raise UsageError(f"expected t1 >= t0, got t0={t0!r}, t1={t1!r}")
        t = t0
        while t < t1:
            limit = min(t1, t + self._max_closed)
            s = self._next_open(t, limit)
            if s >= t1:
                return
            if s > limit:
                raise self._closed_too_long(t)
            end = self.shift_end(s)
            yield s, min(end, t1)
            t = end

    def open_fraction(self) -> float:
        """Share of the week on shift, ignoring holidays (1.0 for a calendar always open).

        Examples
        --------
        >>> Calendar([{"days": "mon-fri", "from": "09:00", "to": "17:00"}],
        ...          start=datetime(2026, 1, 5)).open_fraction() == 40 / 168
        True
        """
        return float(Fraction(sum(b - a for a, b in self.table_us), US_PER_WEEK))

    @property
    def week(self) -> float:
        """Length of a week in the time unit (the period of the calendar, holidays aside)."""
        return self._week

    def datetime_at(self, t: float) -> datetime:
        """The wall-clock date-time of simulated time ``t`` (see :func:`datetime_at`)."""
        return datetime_at(t, start=self.start, time_unit=self.time_unit)

    def time_at(self, moment: datetime) -> float:
        """The simulated time of a wall-clock date-time (see :func:`time_at`)."""
        return time_at(moment, start=self.start, time_unit=self.time_unit)

    def __repr__(self) -> str:
        hours = sum(b - a for a, b in self.table_us) / 3_600_000_000
        holidays = len(self.spec.holidays)
        return (f"Calendar({self.name!r}, {hours:g} h/week, {holidays} "
                f"holiday{'s' if holidays != 1 else ''}, start={self.start.isoformat()}, "
                f"time_unit={self.time_unit!r})")
