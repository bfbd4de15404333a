"""Time units and durations written with a unit (``90s``, ``30min``, ``2h``, ``1.5d``).

A model declares a ``time_unit``; bare numbers are in that unit, strings carry
their own. Everything inside the engine is a float in the model's time unit.

Working time has units of its own, ``wd`` (working day) and ``wh`` (working hour): they
measure time while a calendar is open, so they only make sense for a threshold or target on a
KPI measured in working time (``working_cycle_time``). :func:`parse_duration` refuses them;
:func:`working_amount` recognises them, and :mod:`procsim.model.targets` converts them with
the model's working calendar.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from procsim.errors import UsageError

__all__ = ["SECONDS_PER", "WORKING_UNITS", "TimeUnit", "WorkingDuration", "format_duration",
           "parse_duration", "seconds_per", "short_unit", "to_hours", "working_amount"]

TimeUnit = Literal["seconds", "minutes", "hours", "days"]

#: Length of each model time unit in seconds.
SECONDS_PER: dict[str, float] = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0, "days": 86400.0}

# Suffixes accepted in duration strings, in seconds. "m" is left out on purpose:
# minutes or months? A user writes "min".
SUFFIX_SECONDS: dict[str, float] = {
    "s": 1.0,
    "sec": 1.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 7 * 86400.0,
}
_DURATION_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-z]+)\s*$")

EXPECTED_DURATION = "a number or a duration such as '90s', '30min', '2h', '1.5d'"

#: Units of working time: measured while the working calendar is open.
WORKING_UNITS: dict[str, str] = {"wd": "working days", "wh": "working hours"}
#: Where the working-time units apply, for messages.
WORKING_ONLY = ("working-time units (wd, wh) apply only to thresholds and targets of "
                "working_cycle_time, measured in the model's working calendar")


def working_amount(value: object) -> tuple[float, str] | None:
    """``(amount, unit)`` of a working-time duration such as ``"2wd"`` or ``"4.5wh"``, else None.

    Examples
    --------
    >>> working_amount("2wd"), working_amount(" 4.5 wh "), working_amount("2d")
    ((2.0, 'wd'), (4.5, 'wh'), None)
    """
    if not isinstance(value, str):
        return None
    m = _DURATION_RE.match(value)
    if m and m.group(2) in WORKING_UNITS:
        return float(m.group(1)), m.group(2)
    return None


class WorkingDuration(float):
    """A threshold written in working time (``2wd``), as a float in the model's time unit.

    It remembers what was written (``text``, ``amount``, ``unit``), so that messages and
    reports can show ``2wd`` rather than ``960``. Until the model's working calendar is known
    its value is NaN (``resolved`` is false); :class:`procsim.model.Model` resolves it.

    Examples
    --------
    >>> d = WorkingDuration.written(2.0, "wd")
    >>> d.resolved, d.text
    (False, '2wd')
    >>> r = d.resolve(480.0)     # a working day of 8 h, in minutes
    >>> float(r), r.text, r.resolved
    (960.0, '2wd', True)
    """

    amount: float
    unit: str

    def __new__(cls, value: float, amount: float, unit: str) -> WorkingDuration:
        self = super().__new__(cls, value)
        self.amount = amount
        self.unit = unit
        return self

    @classmethod
    def written(cls, amount: float, unit: str) -> WorkingDuration:
        """An unresolved working duration of ``amount`` ``unit`` (``"wd"`` or ``"wh"``)."""
        return cls(math.nan, amount, unit)

    def resolve(self, working_day: float, time_unit: str = "minutes") -> WorkingDuration:
        """This duration in ``time_unit``, with a working day of ``working_day`` time units."""
        hour = 3600.0 / SECONDS_PER[time_unit]
        return WorkingDuration(self.amount * (working_day if self.unit == "wd" else hour),
                               self.amount, self.unit)

    @property
    def resolved(self) -> bool:
        return not math.isnan(self)

    @property
    def text(self) -> str:
        return f"{self.amount:g}{self.unit}"

    def __reduce__(self) -> Any:
        # Pickled with the model for worker processes: keep what was written.
        return (WorkingDuration, (float(self), self.amount, self.unit))


def seconds_per(time_unit: str) -> float:
    """Seconds in one ``time_unit``; a :class:`~procsim.errors.UsageError` (a ``ValueError``)
    for anything but seconds, minutes, hours and days.

    >>> seconds_per("hours")
    3600.0
    """
    try:
        return SECONDS_PER[time_unit]
    except (KeyError, TypeError):
        raise UsageError(f"expected a time unit ({', '.join(SECONDS_PER)}), got "
                         f"{_shown(time_unit)}") from None


def parse_duration(value: object, time_unit: str) -> float:
    """Convert a number or a duration string into the model's ``time_unit``.

    Parameters
    ----------
    value : float, int or str
        A bare number (already in ``time_unit``) or a string such as ``"30min"``.
    time_unit : {"seconds", "minutes", "hours", "days"}
        The model's time unit.

    Raises
    ------
    procsim.errors.UsageError
        A ``ValueError`` too, with a message saying what was expected and what was found;
        also for an infinite or not-a-number amount (``.inf``, ``nan``, ``1e999min``).

    Examples
    --------
    >>> parse_duration("2h", "minutes")
    120.0
    >>> parse_duration(90, "seconds")
    90.0
    >>> parse_duration("1.5d", "hours")
    36.0
    """
    if isinstance(value, bool):
        raise UsageError(f"expected {EXPECTED_DURATION}, got {value!r}")
    amount: float | None = None
    if isinstance(value, int | float):
        amount = float(value)
    elif isinstance(value, str):
        m = _DURATION_RE.match(value)
        if m and m.group(2) in SUFFIX_SECONDS:
            amount = float(m.group(1)) * SUFFIX_SECONDS[m.group(2)] / seconds_per(time_unit)
        elif m and m.group(2) in WORKING_UNITS:
            raise UsageError(f"expected {EXPECTED_DURATION}, got {_shown(value)} in "
                             f"{WORKING_UNITS[m.group(2)]}: {WORKING_ONLY}")
        else:
            try:  # a number written as a string, e.g. "12"
                amount = float(value)
            except ValueError:
                pass
    if amount is None:
        raise UsageError(f"expected {EXPECTED_DURATION}, got {_shown(value)}")
    if not math.isfinite(amount):
        raise UsageError(f"expected a finite duration, got {_shown(value)}")
    return amount


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 62 else f"{text[:61]}…({len(str(value)):,} characters)"


def to_hours(amount: float, time_unit: str) -> float:
    """Convert an amount of model time into hours (for costs per hour and rates per hour).

    Examples
    --------
    >>> to_hours(90, "minutes")
    1.5
    """
    return amount * seconds_per(time_unit) / 3600.0


#: The short form of each time unit, as shown beside numbers.
SHORT_UNITS = {"seconds": "s", "minutes": "min", "hours": "h", "days": "d"}


def short_unit(unit: str) -> str:
    """``"min"`` for ``"minutes"`` and so on; any other unit (a currency, a rate) as it is.

    >>> short_unit("minutes"), short_unit("EUR")
    ('min', 'EUR')
    """
    return SHORT_UNITS.get(unit, unit)


def format_duration(amount: float, time_unit: str) -> str:
    """A short human-readable rendering, e.g. ``"12.3 min"``.

    Examples
    --------
    >>> format_duration(12.345, "minutes")
    '12.3 min'
    """
    seconds_per(time_unit)  # an unknown unit is a UsageError
    short = SHORT_UNITS[time_unit]
    return f"{amount:.3g} {short}" if abs(amount) < 100 else f"{amount:,.0f} {short}"
