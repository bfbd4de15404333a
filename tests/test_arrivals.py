"""Tests for procsim.arrivals: rate profiles reproduced within sampling error, calendars obeyed."""

from __future__ import annotations

import doctest
import math
from collections.abc import Mapping
from datetime import datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from scipy import stats

from procsim import arrivals
from procsim.arrivals import PoissonArrivals, RateProfile, RenewalArrivals
from procsim.calendars import Calendar, CalendarError
from procsim.dists import Exponential, Fixed, Gamma
from procsim.errors import UsageError, WrongTypeError

MONDAY = datetime(2026, 1, 5)
WEEKDAY = [0, 0, 0, 0, 0, 0, 0, 2, 8, 12, 10, 9, 6, 8, 9, 8, 5, 2, 0, 0, 0, 0, 0, 0]
SATURDAY = [0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 6, 6, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
PROFILE = {"per": "hour", "mon-fri": WEEKDAY, "sat": SATURDAY}
OFFICE = [{"days": "mon-fri", "from": "09:00", "to": "17:00"}]

#: Level of the chi-square goodness-of-fit tests: a correct generator fails one 1 time in 1000.
ALPHA = 0.001


def test_docstring_examples_run() -> None:
    result = doctest.testmod(arrivals, raise_on_error=False)
    assert result.attempted > 5
    assert result.failed == 0


# --- the rate profile ---------------------------------------------------------------------------


def test_profile_forms() -> None:
    p = RateProfile.model_validate(PROFILE)
    assert list(p.days) == ["mon", "tue", "wed", "thu", "fri", "sat"]
    assert p.days["wed"] == tuple(float(r) for r in WEEKDAY)
    assert RateProfile.model_validate({"all": 3}).days["sun"] == (3.0,)
    assert RateProfile.model_validate({"fri-mon": [1] * 48}).days.keys() == {
        "fri", "sat", "sun", "mon"}
    assert RateProfile.model_validate(p.model_dump()) == p
    assert p.model_dump()["sat"] == SATURDAY
    assert RateProfile.model_json_schema()["properties"]["per"]["enum"] == ["minute", "hour", "day"]


@pytest.mark.parametrize(("data", "expected"), [
    ({"mon": [1] * 23}, "mon: expected 24 hourly rates, one rate for the whole day, or another "
     "number of equal slots that divides the day (48 half-hours, 96 quarter-hours), got 23 "
     "values"),
    ({"mon-fri": [1, -2] * 12}, "mon-fri[1]: expected a rate >= 0 (cases per unit of 'per'), "
     "got -2"),
    ({"sat": True}, "sat: expected a rate >= 0 (cases per unit of 'per'), got True"),
    ({"sat": float("nan")}, "sat: expected a rate >= 0 (cases per unit of 'per'), got nan"),
    ({"pre": "hour", "mon": 1}, "expected 'per' or days (a day (mon, tue, wed, thu, fri, sat, "
     "sun), a range such as mon-fri, a list such as [mon, wed], or all) as keys, got 'pre' "
     "(did you mean 'per'?)"),
    ({"mon-fri": 1, "wed": 2}, "expected each day under one key only, got wed under 'mon-fri' "
     "and 'wed'"),
    ({"all": 0}, "expected at least one rate > 0, got none"),
    ([1, 2], "expected a mapping such as {per: hour, mon-fri: [24 hourly rates]}, got [1, 2]"),
])
def test_profile_errors(data: object, expected: str) -> None:
    with pytest.raises(ValidationError) as info:
        RateProfile.model_validate(data)
    assert [e["msg"].removeprefix("Value error, ") for e in info.value.errors()] == [expected]


def test_per_is_checked() -> None:
    with pytest.raises(ValidationError, match="'minute', 'hour' or 'day'"):
        RateProfile.model_validate({"per": "week", "mon": 1})


# --- the non-homogeneous Poisson process --------------------------------------------------------


def _hour_of_week(times: np.ndarray, start: datetime, minutes_per_unit: float) -> np.ndarray:
    """Local hour of the week (0 = Monday 00:00-01:00) of each time."""
    monday = datetime.combine(start.date() - timedelta(days=start.weekday()), datetime.min.time())
    offset = (start - monday).total_seconds() / 60
    return (np.floor((times * minutes_per_unit + offset) / 60) % 168).astype(int)


def _weekly_rates(profile: Mapping[str, object]) -> np.ndarray:
    """Cases per hour for each hour of the week."""
    p = RateProfile.model_validate(profile)
    rates = np.zeros(168)
    for i, day in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun")):
        if day in p.days:
            values = np.array(p.days[day])
            rates[24 * i: 24 * i + 24] = np.repeat(values, 24 // values.size) if values.size <= 24 \
                else values.reshape(24, -1).mean(axis=1)
    return rates


def _chi_square_p(counts: np.ndarray, expected: np.ndarray) -> float:
    positive = expected > 0
    statistic = float((((counts - expected) ** 2)[positive] / expected[positive]).sum())
    return float(stats.chi2.sf(statistic, df=int(positive.sum())))


WEEKS = 400
START = datetime(2026, 1, 7, 8, 30)  # a Wednesday, half past: profile hours are not sim hours


@pytest.fixture(scope="module")
def weekly_counts() -> np.ndarray:
    process = PoissonArrivals(PROFILE, start=START, time_unit="minutes")
    times = process.sample(np.random.default_rng(20260105), until=WEEKS * 10080.0)
    assert np.all(np.diff(times) >= 0) and times[0] > 0
    return np.bincount(_hour_of_week(times, START, 1.0), minlength=168)


def test_poisson_reproduces_hourly_rates(weekly_counts: np.ndarray) -> None:
    # Each hour of the week is covered exactly WEEKS times; counts are independent Poisson.
    expected = WEEKS * _weekly_rates(PROFILE)
    assert np.all(weekly_counts[expected == 0] == 0)   # none at zero-rate hours
    assert _chi_square_p(weekly_counts, expected) > ALPHA


def test_chi_square_rejects_a_profile_off_by_ten_percent(weekly_counts: np.ndarray) -> None:
    # The same counts must reject a profile with the weekday 09:00 hour 10 % too high, and one
    # 10 % too high throughout: the test above has the power to see such a mistake.
    wrong = {**PROFILE, "mon-fri": [r * (1.1 if h == 9 else 1.0) for h, r in enumerate(WEEKDAY)]}
    assert _chi_square_p(weekly_counts, WEEKS * _weekly_rates(wrong)) < ALPHA
    assert _chi_square_p(weekly_counts, 1.1 * WEEKS * _weekly_rates(PROFILE)) < ALPHA


@pytest.mark.parametrize(("unit", "per"), [("seconds", "minute"), ("hours", "day"),
                                           ("days", "hour")])
def test_units_and_per(unit: str, per: str) -> None:
    # Half-hour slots, rates per minute, hour or day, simulated time in another unit.
    scale = {"minute": 1 / 60, "hour": 1.0, "day": 24.0}[per]
    slots = [0.0] * 16 + [20.0, 40.0] * 4 + [0.0] * 24  # 08:00-12:00, 20 and 40 an hour
    process = PoissonArrivals({"per": per, "tue-thu": [r * scale for r in slots]},
                              start=START, time_unit=unit)  # type: ignore[arg-type]
    minutes_per_unit = {"seconds": 1 / 60, "hours": 60.0, "days": 1440.0}[unit]
    week = 10080 / minutes_per_unit
    assert process.expected_count(0.0, week) == pytest.approx(3 * 4 * 30, rel=1e-12)
    assert process.mean_rate * week == pytest.approx(3 * 4 * 30, rel=1e-12)
    times = process.sample(np.random.default_rng(5), until=150 * week)
    minute_of_day = (times * minutes_per_unit + 2 * 1440 + 510) % 1440
    assert np.all((minute_of_day >= 480) & (minute_of_day < 720))
    half_hour = (minute_of_day // 30).astype(int)
    counts = np.bincount(half_hour, minlength=48)[16:24]
    expected = 150 * 3 * np.array([10.0, 20.0] * 4)
    assert _chi_square_p(counts, expected) > ALPHA


def test_same_seed_same_arrivals_whatever_the_block() -> None:
    process = PoissonArrivals(PROFILE, start=START, time_unit="minutes")
    a = process.sample(np.random.default_rng(3), until=5 * 10080.0)
    b = process.sample(np.random.default_rng(3), until=5 * 10080.0, block=7)
    it = process.times(np.random.default_rng(3), block=1)
    c = np.array([next(it) for _ in range(a.size)])
    assert a.size > 1000
    assert np.array_equal(a, b) and np.array_equal(a, c)      # bit for bit
    other = process.sample(np.random.default_rng(4), until=5 * 10080.0)
    assert not np.array_equal(a[:100], other[:100])


def test_times_after_t0_is_memoryless_start() -> None:
    process = PoissonArrivals(PROFILE, start=START, time_unit="minutes")
    t0 = 3.5 * 10080.0
    times = process.sample(np.random.default_rng(8), until=t0 + 10080.0, t0=t0)
    assert times[0] > t0
    # Arrivals in a window of one week after t0: Poisson with the profile's weekly mean.
    assert process.expected_count(t0, t0 + 10080.0) == pytest.approx(
        5 * sum(WEEKDAY) + sum(SATURDAY), rel=1e-12)


def test_poisson_on_a_calendar_with_holidays() -> None:
    office = Calendar({"hours": OFFICE, "holidays": ["2026-01-06", "2026-01-07"]},
                      start=MONDAY + timedelta(hours=8), time_unit="minutes", name="office")
    process = PoissonArrivals({"per": "hour", "all": 6}, calendar=office)
    weeks = 200
    times = process.sample(np.random.default_rng(11), until=weeks * 10080.0)
    assert all(office.is_open(t) for t in times.tolist())
    # 6 an hour x 40 h a week, less the 16 h of the two holidays.
    expected = 6 * (40 * weeks - 16)
    assert process.expected_count(0.0, weeks * 10080.0) == pytest.approx(expected, rel=1e-12)
    assert abs(times.size - expected) < 4 * math.sqrt(expected)
    assert process.rate_at(office.time_at(datetime(2026, 1, 6, 10))) == 0.0  # holiday
    assert process.rate_at(office.time_at(datetime(2026, 1, 8, 10))) == 0.1  # 6 an hour


def test_profile_and_calendar_are_intersected() -> None:
    office = Calendar(OFFICE, start=MONDAY, time_unit="hours")
    process = PoissonArrivals(PROFILE, calendar=office)
    # Weekday rates from 09:00 to 17:00 only; Saturday is closed.
    assert process.expected_count(0.0, 168.0) == pytest.approx(5 * sum(WEEKDAY[9:17]), rel=1e-12)
    times = process.sample(np.random.default_rng(2), until=50 * 168.0)
    assert np.all((times % 24 >= 9) & (times % 24 < 17) & (times % 168 < 120))
    with pytest.raises(CalendarError, match="rate is zero whenever calendar 'night' is open"):
        PoissonArrivals(PROFILE, calendar=Calendar(
            [{"days": "all", "from": "20:00", "to": "06:00"}], start=MONDAY, name="night"))


def test_poisson_argument_errors() -> None:
    office = Calendar(OFFICE, start=MONDAY, time_unit="hours")
    with pytest.raises(WrongTypeError, match="needs a start date-time"):
        PoissonArrivals(PROFILE)
    with pytest.raises(UsageError, match="expected the calendar's start and time unit"):
        PoissonArrivals(PROFILE, calendar=office, time_unit="minutes")
    with pytest.raises(UsageError, match="expected block to be an integer >= 1, got 0"):
        next(PoissonArrivals(PROFILE, calendar=office).times(np.random.default_rng(1), block=0))
    with pytest.raises(UsageError, match="expected t1 >= t0"):
        PoissonArrivals(PROFILE, calendar=office).expected_count(2.0, 1.0)


# --- renewal processes on a calendar ------------------------------------------------------------


def test_renewal_on_a_calendar_deterministic_trace() -> None:
    office = Calendar({"hours": OFFICE, "holidays": ["2026-01-07"]},
                      start=MONDAY + timedelta(hours=8), time_unit="hours")
    process = RenewalArrivals(Fixed(value=2.0), calendar=office)
    it = process.times(np.random.default_rng(0), block=3)
    got = [office.datetime_at(next(it)) for _ in range(9)]
    day = [datetime(2026, 1, d, h) for d, h in ((5, 11), (5, 13), (5, 15))]
    # Monday 17:00 is a shift's end: that arrival comes at Tuesday's opening. Wednesday is a
    # holiday; Tuesday 17:00 -> Thursday 09:00.
    assert got == [*day, datetime(2026, 1, 6, 9), datetime(2026, 1, 6, 11),
                   datetime(2026, 1, 6, 13), datetime(2026, 1, 6, 15),
                   datetime(2026, 1, 8, 9), datetime(2026, 1, 8, 11)]


def test_renewal_without_a_calendar_is_the_engines_sum() -> None:
    dist = Gamma(mean=5, sd=2)
    times = RenewalArrivals(dist).sample(np.random.default_rng(9), until=1000.0, t0=10.0)
    gaps = dist.sample(np.random.default_rng(9), 1024)
    expected = []
    t = 10.0
    for gap in gaps.tolist():
        t = t + gap
        if t >= 1000.0:
            break
        expected.append(t)
    assert times.tolist() == expected


def test_renewal_on_a_calendar_has_the_long_run_rate() -> None:
    office = Calendar([*OFFICE, {"days": "sat", "from": "22:00", "to": "02:00"}],
                      start=datetime(2026, 1, 8, 15), time_unit="minutes")
    mean, sd = 10.0, 6.0
    process = RenewalArrivals({"dist": "gamma", "mean": mean, "sd": sd}, calendar=office)
    weeks = 300
    horizon = weeks * 10080.0
    times = process.sample(np.random.default_rng(12), until=horizon)
    assert all(office.is_open(t) for t in times.tolist())
    open_time = office.working_time(0.0, horizon)
    assert open_time == pytest.approx(44 * 60 * weeks)
    assert process.mean_rate * horizon == pytest.approx(open_time / mean)
    # Renewal CLT: N(T) ~ Normal(T / mean, T sd^2 / mean^3), T the open time. A rate 10 % off
    # is 13 standard deviations away.
    n_mean = open_time / mean
    n_sd = math.sqrt(open_time * sd**2 / mean**3)
    assert abs(times.size - n_mean) < 4 * n_sd
    assert 0.1 * n_mean > 10 * n_sd


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), minutes=st.integers(0, 10079),
       unit=st.sampled_from(["seconds", "minutes", "hours", "days"]))
def test_renewal_matches_the_calendar_arithmetic(seed: int, minutes: int, unit: str) -> None:
    # The vectorised inversion and Calendar.add_working_time agree arrival by arrival.
    office = Calendar({"hours": [{"days": "mon-fri", "from": "08:30", "to": "12:00"},
                                 {"days": "mon-thu", "from": "13:00", "to": "17:20"},
                                 {"days": "sun", "from": "22:00", "to": "02:00"}],
                       "holidays": ["2026-01-08", "2026-01-09", "2026-01-19"]},
                      start=MONDAY + timedelta(minutes=minutes), time_unit=unit)  # type: ignore[arg-type]
    dist = Exponential(mean=office.week / 60)
    process = RenewalArrivals(dist, calendar=office)
    times = process.sample(np.random.default_rng(seed), until=4 * office.week, block=64)
    gaps = dist.sample(np.random.default_rng(seed), 64 * (times.size // 64 + 1))
    t = 0.0
    for got, gap in zip(times.tolist(), gaps.tolist(), strict=False):
        t = office.next_open(office.add_working_time(t, gap))
        assert got == pytest.approx(t, abs=1e-9 * max(1.0, t))
        assert office.is_open(got)
        t = got


def test_renewal_same_seed_same_arrivals() -> None:
    office = Calendar(OFFICE, start=MONDAY, time_unit="minutes")
    process = RenewalArrivals(Exponential(mean=7), calendar=office)
    a = process.sample(np.random.default_rng(1), until=20000.0)
    b = process.sample(np.random.default_rng(1), until=20000.0)
    assert a.size > 100 and np.array_equal(a, b)
    assert repr(process) == "RenewalArrivals({dist: exponential, mean: 7.0}, calendar='calendar')"
