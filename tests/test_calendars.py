"""Tests for procsim.calendars: calendar arithmetic at the edges, against an exact oracle."""

from __future__ import annotations

import doctest
import math
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from procsim import calendars
from procsim.calendars import (
    DAY_NAMES,
    Calendar,
    CalendarError,
    CalendarInterval,
    CalendarSpec,
    datetime_at,
    parse_days,
    parse_start,
    time_at,
)
from procsim.errors import ProcsimError, UsageError
from procsim.units import SECONDS_PER, TimeUnit

MONDAY = datetime(2026, 1, 5)  # a Monday
OFFICE = [{"days": "mon-fri", "from": "09:00", "to": "17:00"},
          {"days": "sat", "from": "10:00", "to": "14:00"}]


def hours(day: int, hour: float) -> float:
    """Simulated time in hours of weekday ``day`` (0 = the Monday of MONDAY) at ``hour``."""
    return day * 24.0 + hour


def test_docstring_examples_run() -> None:
    result = doctest.testmod(calendars, raise_on_error=False)
    assert result.attempted > 10
    assert result.failed == 0


# --- the YAML -----------------------------------------------------------------------------------


def test_list_and_mapping_forms_are_the_same_calendar() -> None:
    assert CalendarSpec.model_validate(OFFICE) == CalendarSpec.model_validate({"hours": OFFICE})


@pytest.mark.parametrize(("days", "expected"), [
    ("mon-fri", (0, 1, 2, 3, 4)),
    ("fri-mon", (0, 4, 5, 6)),          # wraps round the end of the week
    ("sun-sun", (6,)),
    (["mon", "wed"], (0, 2)),
    (["mon-tue", "Friday"], (0, 1, 4)),
    ("mon, thu", (0, 3)),
    ("SAT", (5,)),
    ("all", tuple(range(7))),
    ("daily", tuple(range(7))),
])
def test_days(days: object, expected: tuple[int, ...]) -> None:
    assert parse_days(days) == expected


def test_interval_lengths_and_midnight() -> None:
    def length(a: str, b: str) -> int:
        return CalendarInterval.model_validate({"days": "mon", "from": a, "to": b}).length

    assert length("09:00", "17:00") == 480
    assert length("22:00", "06:00") == 480       # crosses midnight
    assert length("00:00", "00:00") == 1440      # the whole day
    assert length("00:00", "24:00") == 1440
    assert length("08:00", "08:00") == 1440      # 24 hours from 08:00
    assert length("9:30", "24:00") == 870


def test_dump_loads_back() -> None:
    spec = CalendarSpec.model_validate({"hours": OFFICE, "holidays": ["2026-12-25", "2026-01-01",
                                                                      date(2026, 1, 1)]})
    assert spec.holidays == (date(2026, 1, 1), date(2026, 12, 25))  # sorted, distinct
    assert CalendarSpec.model_validate(spec.model_dump()) == spec
    assert CalendarSpec.model_validate(spec.model_dump(mode="json")) == spec
    assert spec.model_dump(mode="json")["hours"][0] == {
        "days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "17:00"}


def test_json_schema_accepts_both_forms() -> None:
    schema = CalendarSpec.model_json_schema()
    kinds = [alternative["type"] for alternative in schema["anyOf"]]
    assert kinds == ["object", "array"]
    interval = schema["$defs"]["CalendarInterval"]["properties"]
    assert interval["from"]["type"] == "string" and interval["to"]["type"] == "string"


def _message(data: object, model: type[BaseModel] = CalendarInterval) -> str:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    errors = info.value.errors()
    assert len(errors) == 1
    return str(errors[0]["msg"]).removeprefix("Value error, ") + f" @ {errors[0]['loc']}"


@pytest.mark.parametrize(("data", "expected"), [
    ({"days": "mon", "from": "09:00", "to": "25:00"},
     "expected a time HH:MM between 00:00 and 24:00, got '25:00' @ ('to',)"),
    ({"days": "mon", "from": "09:60", "to": "17:00"},
     "expected a time HH:MM between 00:00 and 23:59, got '09:60' @ ('from',)"),
    ({"days": "mon", "from": "24:00", "to": "06:00"},
     "expected a time HH:MM between 00:00 and 23:59, got '24:00' @ ('from',)"),
    ({"days": "mon", "from": "9h", "to": "17:00"},
     "expected a time HH:MM between 00:00 and 23:59, got '9h' @ ('from',)"),
    # What PyYAML makes of an unquoted 17:00.
    ({"days": "mon", "from": "09:00", "to": 1020},
     'expected a time HH:MM between 00:00 and 24:00 in quotes, got 1020 (YAML reads an '
     'unquoted 17:00 as the number 1020; write "17:00") @ (\'to\',)'),
    ({"days": "thr", "from": "09:00", "to": "17:00"},
     "expected a day (mon, tue, wed, thu, fri, sat, sun), a range such as mon-fri, a list "
     "such as [mon, wed], or all, got 'thr' (did you mean 'thu'?) @ ('days',)"),
    ({"days": "mon-frj", "from": "09:00", "to": "17:00"},
     "expected a day (mon, tue, wed, thu, fri, sat, sun), a range such as mon-fri, a list "
     "such as [mon, wed], or all, got 'mon-frj': unknown day 'frj' (did you mean 'fri'?) "
     "@ ('days',)"),
    ({"days": [], "from": "09:00", "to": "17:00"}, "expected at least one day, got [] @ ('days',)"),
    ({"days": 3, "from": "09:00", "to": "17:00"},
     "expected a day (mon, tue, wed, thu, fri, sat, sun), a range such as mon-fri, a list "
     "such as [mon, wed], or all, got 3 @ ('days',)"),
])
def test_interval_errors(data: object, expected: str) -> None:
    assert _message(data) == expected


def test_unknown_field_is_an_error() -> None:
    with pytest.raises(ValidationError, match="extra"):
        CalendarInterval.model_validate({"days": "mon", "from": "09:00", "to": "17:00",
                                         "until": "18:00"})


@pytest.mark.parametrize(("data", "expected"), [
    ([], 'expected at least one open interval such as {days: mon-fri, from: "09:00", '
         'to: "17:00"}, got none @ (\'hours\',)'),
    ({"hours": OFFICE, "holidays": ["2026-13-01"]},
     "expected a date YYYY-MM-DD (a holiday closes a whole day), got '2026-13-01' "
     "@ ('holidays', 0)"),
    ({"hours": OFFICE, "holidays": [datetime(2026, 1, 1, 12)]},
     "expected a date YYYY-MM-DD (a holiday closes a whole day), got "
     "datetime.datetime(2026, 1, 1, 12, 0) @ ('holidays', 0)"),
])
def test_spec_errors(data: object, expected: str) -> None:
    assert _message(data, CalendarSpec) == expected


def test_start() -> None:
    assert parse_start("2026-01-05T08:00") == datetime(2026, 1, 5, 8)
    assert parse_start(date(2026, 1, 5)) == MONDAY
    for bad in (datetime(2026, 1, 5, tzinfo=UTC), "next monday", 20260105):
        with pytest.raises(ValueError, match="expected a local date-time without a time zone"):
            parse_start(bad)


def test_wall_clock_round_trip() -> None:
    start = datetime(2026, 3, 28, 22, 30)  # the last weekend of March: no daylight saving
    assert datetime_at(120.0, start=start, time_unit="minutes") == datetime(2026, 3, 29, 0, 30)
    assert datetime_at(24.0, start=start, time_unit="hours") == datetime(2026, 3, 29, 22, 30)
    moment = datetime(2026, 4, 1, 9, 15, 30)
    for unit in ("seconds", "minutes", "hours", "days"):
        t = time_at(moment, start=start, time_unit=unit)
        assert datetime_at(t, start=start, time_unit=unit) == moment


# --- calendar arithmetic at the edges ------------------------------------------------------------


def test_office_hours() -> None:
    cal = Calendar(OFFICE, start=MONDAY + timedelta(hours=8), time_unit="minutes",
                   name="office")
    assert not cal.is_open(0.0)                      # Monday 08:00
    assert cal.next_open(0.0) == 60.0                # 09:00
    assert cal.is_open(60.0) and cal.next_open(60.0) == 60.0
    assert cal.shift_end(60.0) == 540.0              # 17:00
    assert not cal.is_open(540.0)
    assert cal.shift_end(540.0) == 540.0             # closed: the stretch is empty
    assert cal.working_time(0.0, 7 * 1440.0) == 5 * 480 + 240
    assert cal.open_fraction() == pytest.approx((5 * 8 + 4) / 168, rel=1e-15)
    # A case arriving on Saturday 15:00 waits until Monday 09:00.
    saturday_3pm = (5 * 24 + 15 - 8) * 60.0
    assert cal.next_open(saturday_3pm) == (7 * 24 + 1) * 60.0
    assert cal.datetime_at(cal.next_open(saturday_3pm)) == datetime(2026, 1, 12, 9)


def test_shift_ending_monday_midnight() -> None:
    cal = Calendar([{"days": "sun", "from": "16:00", "to": "24:00"}], start=MONDAY,
                   time_unit="hours")
    assert cal.is_open(hours(6, 16)) and cal.is_open(hours(6, 23.5))
    assert cal.shift_end(hours(6, 20)) == 168.0      # the next Monday 00:00
    assert not cal.is_open(168.0)
    assert cal.next_open(168.0) == 168.0 + hours(6, 16)
    assert list(cal.intervals(0.0, 336.0)) == [(160.0, 168.0), (328.0, 336.0)]


def test_shifts_running_into_each_other_are_one_stretch() -> None:
    cal = Calendar([{"days": "sun", "from": "16:00", "to": "24:00"},
                    {"days": "mon", "from": "00:00", "to": "08:00"}],
                   start=MONDAY + timedelta(days=2), time_unit="hours")  # a Wednesday
    sunday_8pm = hours(4, 20)
    assert cal.shift_end(sunday_8pm) == hours(5, 8)   # Monday 08:00, across the week's end
    assert list(cal.intervals(0.0, 168.0)) == [(hours(4, 16), hours(5, 8))]
    assert cal.working_time(0.0, 168.0) == 16.0


def test_night_shift_across_the_end_of_the_week() -> None:
    start = datetime(2026, 1, 7, 12)  # Wednesday noon
    cal = Calendar([{"days": "sun", "from": "22:00", "to": "06:00"}], start=start,
                   time_unit="minutes")
    sunday_10pm = ((4 * 24) + 10) * 60.0
    monday_6am = sunday_10pm + 480.0
    assert cal.datetime_at(sunday_10pm) == datetime(2026, 1, 11, 22)
    assert cal.is_open(sunday_10pm) and not cal.is_open(math.nextafter(sunday_10pm, 0))
    assert cal.is_open(sunday_10pm + 300.0)           # Monday 03:00
    assert cal.shift_end(sunday_10pm + 300.0) == monday_6am
    assert not cal.is_open(monday_6am)
    assert cal.next_open(monday_6am) == sunday_10pm + 10080.0
    assert cal.add_working_time(sunday_10pm + 400.0, 100.0) == sunday_10pm + 10080.0 + 20.0


def test_holiday_closes_its_calendar_day_inside_night_shifts() -> None:
    cal = Calendar({"hours": [{"days": "all", "from": "22:00", "to": "06:00"}],
                    "holidays": ["2026-01-06"]},  # Tuesday
                   start=MONDAY, time_unit="hours")
    assert cal.is_open(hours(0, 23))                  # Monday 23:00
    assert cal.shift_end(hours(0, 23)) == hours(1, 0)  # cut at the holiday's midnight
    assert not cal.is_open(hours(1, 3))               # Tuesday 03:00: the holiday
    assert not cal.is_open(hours(1, 23))              # Tuesday 23:00: the holiday
    assert cal.next_open(hours(1, 3)) == hours(2, 0)  # Wednesday 00:00
    assert cal.is_open(hours(2, 0))
    assert list(cal.intervals(0.0, hours(3, 0))) == [
        (0.0, 6.0), (hours(0, 22), hours(1, 0)), (hours(2, 0), hours(2, 6)),
        (hours(2, 22), hours(3, 0))]
    assert cal.working_time(0.0, hours(3, 0)) == 6 + 2 + 6 + 2
    # 1 h left on Monday night, then the holiday, then Wednesday 00:00-06:00.
    assert cal.add_working_time(hours(0, 23), 3.0) == hours(2, 2)


def test_consecutive_holidays_and_a_long_weekend() -> None:
    cal = Calendar({"hours": OFFICE, "holidays": ["2026-01-08", "2026-01-09", "2026-01-12"]},
                   start=MONDAY, time_unit="hours")
    # Wednesday 16:00: 1 h on Wednesday, Thursday and Friday closed, Saturday 10:00-14:00,
    # Monday closed, then Tuesday from 09:00.
    assert cal.next_open(hours(3, 12)) == hours(5, 10)
    assert cal.add_working_time(hours(2, 16), 1.0) == hours(2, 17)
    assert cal.add_working_time(hours(2, 16), 5.0) == hours(5, 14)
    assert cal.add_working_time(hours(2, 16), 6.0) == hours(8, 10)
    assert cal.working_time(0.0, hours(14, 0)) == 8 * 3 + 4 + 8 * 4 + 4
    assert cal.shift_end(hours(2, 10)) == hours(2, 17)


def test_always_open() -> None:
    cal = Calendar([{"days": "all", "from": "00:00", "to": "00:00"}], start=MONDAY,
                   time_unit="hours")
    assert cal.open_fraction() == 1.0
    assert cal.shift_end(5.0) == math.inf
    assert cal.working_time(1.5, 1000.25) == 998.75
    assert cal.add_working_time(1.5, 1000.0) == 1001.5
    assert list(cal.intervals(3.0, 10.0)) == [(3.0, 10.0)]
    with_holiday = Calendar({"hours": [{"days": "all", "from": "00:00", "to": "24:00"}],
                             "holidays": ["2026-01-07"]}, start=MONDAY, time_unit="hours")
    assert with_holiday.shift_end(5.0) == 48.0
    assert with_holiday.next_open(50.0) == 72.0
    assert with_holiday.add_working_time(47.0, 2.0) == 73.0
    assert list(with_holiday.intervals(0.0, 100.0)) == [(0.0, 48.0), (72.0, 100.0)]


def test_overlapping_intervals_are_merged() -> None:
    cal = Calendar([{"days": "mon", "from": "09:00", "to": "13:00"},
                    {"days": "mon", "from": "12:00", "to": "17:00"},
                    {"days": ["mon"], "from": "17:00", "to": "18:00"}],
                   start=MONDAY, time_unit="hours")
    assert cal.shift_end(9.0) == 18.0
    assert cal.working_time(0.0, 24.0) == 9.0
    assert list(cal.intervals(0.0, 168.0)) == [(9.0, 18.0)]


def test_boundaries_are_exact_with_awkward_units() -> None:
    # 09:20-17:40 in hours (and days) are not binary fractions: returned boundaries must still
    # be the very floats the calendar compares against.
    for unit in ("hours", "days"):
        cal = Calendar({"hours": [{"days": "mon-fri", "from": "09:20", "to": "17:40"},
                                  {"days": "sat", "from": "22:10", "to": "01:50"}],
                        "holidays": ["2026-02-02", "2026-03-01"]},
                       start=datetime(2026, 1, 7, 13, 47), time_unit=unit)
        t = 0.0
        for _ in range(600):  # about 100 weeks of shifts
            s = cal.next_open(t)
            assert cal.is_open(s) and cal.next_open(s) == s
            assert s == t or not cal.is_open(math.nextafter(s, -math.inf))
            e = cal.shift_end(s)
            assert e > s and not cal.is_open(e) and cal.is_open(math.nextafter(e, -math.inf))
            assert cal.add_working_time(s, e - s) == pytest.approx(e, abs=1e-12 * e)
            assert cal.working_time(s, e) == e - s
            t = e


def test_never_open_is_an_error() -> None:
    empty = CalendarSpec.model_construct(hours=(), holidays=())
    with pytest.raises(CalendarError, match="calendar 'x' has no open hours"):
        Calendar(empty, start=MONDAY, name="x")
    with pytest.raises(UsageError, match="expected at least one open interval"):
        Calendar([], start=MONDAY)


def _mondays(first: date, count: int) -> list[str]:
    return [(first + timedelta(weeks=i)).isoformat() for i in range(count)]


def test_closed_for_two_years_then_open() -> None:
    cal = Calendar({"hours": [{"days": "mon", "from": "09:00", "to": "17:00"}],
                    "holidays": _mondays(date(2026, 1, 5), 104)}, start=MONDAY, time_unit="days")
    assert cal.datetime_at(cal.next_open(0.0)) == datetime(2028, 1, 3, 9)
    assert cal.datetime_at(cal.add_working_time(0.0, 8 / 24)) == datetime(2028, 1, 3, 17)


def test_closed_for_more_than_ten_years_is_an_error() -> None:
    cal = Calendar({"hours": [{"days": "mon", "from": "09:00", "to": "17:00"}],
                    "holidays": _mondays(date(2026, 1, 5), 11 * 53)},
                   start=MONDAY, time_unit="days", name="closed")
    message = r"calendar 'closed' is closed for more than 10 years after 2026-01-05 00:00"
    with pytest.raises(CalendarError, match=message):
        cal.next_open(0.0)
    with pytest.raises(CalendarError, match=message):
        cal.add_working_time(0.0, 1.0)
    with pytest.raises(CalendarError, match=message):
        list(cal.intervals(0.0, 20 * 365.0))
    assert list(cal.intervals(0.0, 365.0)) == []       # a bounded window just has none
    # 1043 Mondays in 20 years, of which 583 are holidays; 8 h each, in days.
    assert cal.working_time(0.0, 20 * 365.0) == pytest.approx((1043 - 583) * 8 / 24, rel=1e-12)


def test_argument_errors() -> None:
    """Each is a UsageError: a ProcsimError, and a ValueError as callers expect."""
    assert issubclass(UsageError, ValueError) and issubclass(UsageError, ProcsimError)
    cal = Calendar(OFFICE, start=MONDAY)
    with pytest.raises(UsageError, match="expected t1 >= t0"):
        cal.working_time(5.0, 4.0)
    with pytest.raises(UsageError, match="expected t1 >= t0"):
        list(cal.intervals(5.0, 4.0))
    with pytest.raises(UsageError, match=r"expected an amount of time >= 0, got -1\.0"):
        cal.add_working_time(5.0, -1.0)
    with pytest.raises(UsageError, match="expected a finite time, got nan"):
        cal.is_open(math.nan)
    with pytest.raises(UsageError, match="expected a time unit"):
        Calendar(OFFICE, start=MONDAY, time_unit="weeks")  # type: ignore[arg-type]
    assert cal.add_working_time(5.0, 0.0) == 5.0        # nothing to do: no wait either
    assert repr(cal) == ("Calendar('calendar', 44 h/week, 0 holidays, "
                         "start=2026-01-05T00:00:00, time_unit='minutes')")


# --- properties, against an exact oracle ---------------------------------------------------------

UNITS: tuple[TimeUnit, ...] = ("seconds", "minutes", "hours", "days")


@st.composite
def calendars_(draw: st.DrawFn) -> Calendar:
    intervals = draw(st.lists(st.fixed_dictionaries({
        "days": st.lists(st.sampled_from(DAY_NAMES), min_size=1, max_size=7, unique=True),
        "from": st.integers(0, 1439).map(lambda m: f"{m // 60:02d}:{m % 60:02d}"),
        "to": st.integers(0, 1440).map(lambda m: f"{m // 60:02d}:{m % 60:02d}"),
    }), min_size=1, max_size=4))
    holidays = draw(st.lists(st.dates(date(2025, 12, 25), date(2026, 3, 10)), max_size=6))
    start = MONDAY + timedelta(minutes=draw(st.integers(0, 7 * 1440 - 1)))
    unit = draw(st.sampled_from(UNITS))
    return Calendar({"hours": intervals, "holidays": holidays}, start=start, time_unit=unit)


def times_(cal: Calendar) -> st.SearchStrategy[float]:
    """Times from a week before the start to 9 weeks after: on the whole-second grid (where
    boundaries lie) or anywhere."""
    per = SECONDS_PER[cal.time_unit]
    span = 9 * 7 * 86400
    return st.one_of(
        st.integers(-7 * 86400, span).map(lambda s: s / per),
        st.floats(-7 * 86400 / per, span / per, allow_nan=False),
    )


def _oracle(cal: Calendar, t: float) -> tuple[bool, Fraction]:
    """Whether ``cal`` is open at ``t``, computed exactly from the spec with the wall clock,
    and the distance (in minutes) from ``t`` to the nearest boundary."""
    seconds = Fraction(t) * Fraction(SECONDS_PER[cal.time_unit])
    monday = datetime.combine(cal.start.date() - timedelta(days=cal.start.weekday()),
                              datetime.min.time())
    since_monday = Fraction((cal.start - monday).total_seconds()) + seconds
    minutes = since_monday / 60
    day = math.floor(minutes / 1440)
    local_date = monday.date() + timedelta(days=day)
    position = minutes % 10080                          # minutes after Monday 00:00
    distance = min(minutes % 1440, 1440 - minutes % 1440) if cal.spec.holidays else Fraction(
        10**9)
    is_open = False
    for interval in cal.spec.hours:
        for d in interval.day_indices:
            opening = d * 1440 + interval.from_
            into = (position - opening) % 10080
            is_open |= into < interval.length
            distance = min(distance, into, 10080 - into, abs(into - interval.length))
    return is_open and local_date not in cal.spec.holidays, distance


def _near_boundary(cal: Calendar, t: float, distance: Fraction) -> bool:
    scale = max(1.0, abs(t))
    return float(distance) * 60 / SECONDS_PER[cal.time_unit] <= 1e-12 * scale


SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.data())
def test_is_open_matches_the_oracle(data: st.DataObject) -> None:
    cal = data.draw(calendars_())
    t = data.draw(times_(cal))
    expected, distance = _oracle(cal, t)
    if cal.time_unit in ("seconds", "minutes"):
        # Boundaries are whole seconds, exact in floats: no rounding at all.
        assert cal.is_open(t) == expected
    else:
        assert cal.is_open(t) == expected or _near_boundary(cal, t, distance)


def _tolerance(*values: float) -> float:
    return 1e-9 * max(1.0, *(abs(v) for v in values))


@SETTINGS
@given(st.data())
def test_next_open_and_shift_end(data: st.DataObject) -> None:
    cal = data.draw(calendars_())
    t = data.draw(times_(cal))
    s = cal.next_open(t)
    assert s >= t and cal.is_open(s)
    assert (s == t) == cal.is_open(t)
    assert cal.working_time(t, s) == 0.0
    assert cal.next_open(s) == s
    e = cal.shift_end(s)
    assert e > s
    assert cal.shift_end(t) == (e if s == t else t)
    if math.isfinite(e):
        assert not cal.is_open(e)
        assert cal.is_open(math.nextafter(e, -math.inf))
        assert cal.working_time(s, e) == pytest.approx(e - s, abs=_tolerance(e))


@SETTINGS
@given(st.data())
def test_add_working_time_inverts_working_time(data: st.DataObject) -> None:
    cal = data.draw(calendars_())
    t = data.draw(times_(cal))
    amount = data.draw(st.floats(0.0, 3 * cal.week))
    end = cal.add_working_time(t, amount)
    assert end >= t
    assert cal.working_time(t, end) == pytest.approx(amount, abs=_tolerance(t, end))
    if amount > 0:
        # The earliest such time: work was being done just before it (unless the amount is
        # too small to tell end from the opening it falls after).
        assert cal.is_open(math.nextafter(end, -math.inf)) or amount < _tolerance(end)


@SETTINGS
@given(st.data())
def test_working_time_is_additive_and_bounded(data: st.DataObject) -> None:
    cal = data.draw(calendars_())
    a, b, c = sorted(data.draw(st.lists(times_(cal), min_size=3, max_size=3)))
    ab, bc, ac = cal.working_time(a, b), cal.working_time(b, c), cal.working_time(a, c)
    assert ac == pytest.approx(ab + bc, abs=_tolerance(a, c))
    assert 0.0 <= ab <= (b - a) + _tolerance(a, b)
    # Long run: a week's on-shift time is the open fraction of it, holidays aside.
    week = cal.working_time(20 * cal.week, 21 * cal.week)
    assert week == pytest.approx(cal.open_fraction() * cal.week, rel=1e-12)


@SETTINGS
@given(st.data())
def test_intervals_agree_with_is_open(data: st.DataObject) -> None:
    cal = data.draw(calendars_())
    a, b = sorted(data.draw(st.lists(times_(cal), min_size=2, max_size=2)))
    stretches = list(cal.intervals(a, b))
    assert sum(e - s for s, e in stretches) == pytest.approx(cal.working_time(a, b),
                                                            abs=_tolerance(a, b))
    previous_end = a
    for s, e in stretches:
        assert a <= s < e <= b
        mid = (s + e) / 2
        if not s <= mid < e:  # a stretch a few subnormals long: its midpoint rounds out of it
            mid = s
        assert cal.is_open(s) and cal.is_open(mid)
        if s > previous_end:  # the gap between stretches is closed
            assert not cal.is_open((previous_end + s) / 2) or (s - previous_end) < _tolerance(s)
            assert cal.working_time(previous_end, s) == 0.0
        if s != a:
            assert s > previous_end or previous_end == a  # stretches do not touch
        previous_end = e


HINT_SPECS = [
    [{"days": "mon-fri", "from": "09:00", "to": "17:00"}],
    {"hours": [{"days": "mon-fri", "from": "09:00", "to": "12:00"},
               {"days": "mon-fri", "from": "13:00", "to": "17:30"}],
     "holidays": ["2026-01-07", "2026-01-08", "2026-01-14"]},
    [{"days": "sun", "from": "16:00", "to": "24:00"},
     {"days": "mon", "from": "00:00", "to": "08:00"},
     {"days": "wed", "from": "22:00", "to": "06:00"}],
    [{"days": "all", "from": "00:00", "to": "24:00"}],
    {"hours": [{"days": "all", "from": "00:00", "to": "24:00"}], "holidays": ["2026-01-09"]},
]


@pytest.mark.parametrize("spec", HINT_SPECS)
@pytest.mark.parametrize("unit", ["hours", "minutes"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.floats(0, 30), st.floats(0, 12)), min_size=1, max_size=40),
       scale=st.sampled_from([0.01, 0.3, 1.0, 5.0]))
def test_add_working_time_gives_the_same_with_and_without_its_hint(
        spec: object, unit: str, steps: list[tuple[float, float]], scale: float) -> None:
    """add_working_time remembers the last shift it located; the answers stay bit for bit
    those of a calendar that never saw a call before (the general path)."""
    start = datetime(2026, 1, 5, 7, 30)
    per_hour = 1.0 if unit == "hours" else 60.0
    warm = Calendar(spec, start=start, time_unit=unit)  # type: ignore[arg-type]
    t = 0.0
    for gap, amount in steps:
        t += gap * per_hour
        d = amount * scale * per_hour
        fresh = Calendar(spec, start=start, time_unit=unit)  # type: ignore[arg-type]
        assert warm.add_working_time(t, d) == fresh.add_working_time(t, d), (t, d)


@pytest.mark.parametrize(("spec", "message"), [
    ([{"days": "mon", "from": "09:00", "to": "25:00"}],
     "calendar 'desk': hours.0.to: expected a time HH:MM between 00:00 and 24:00, got '25:00'"),
    ([{"days": "mnn", "from": "09:00", "to": "17:00"}],
     "calendar 'desk': hours.0.days: expected a day (mon, tue"),
    (5, "calendar 'desk': spec: Input should be a valid dictionary"),
])
def test_a_calendar_built_from_python_refuses_a_bad_spec_with_a_procsim_error(
        spec: object, message: str) -> None:
    from procsim.errors import ProcsimError

    with pytest.raises(ProcsimError) as caught:
        Calendar(spec, start=datetime(2026, 1, 5), name="desk")  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).startswith(message)
