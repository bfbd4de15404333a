"""Time units and durations written with a unit (``90s``, ``30min``, ``2h``, ``1.5d``).

A model declares a ``time_unit``; bare numbers are in that unit, strings carry
their own. Everything inside the engine is a float in the model's time unit.
"""

from __future__ import annotations

import math
import re
from typing import Literal

__all__ = ["SECONDS_PER", "TimeUnit", "format_duration", "parse_duration", "short_unit",
           "to_hours"]

TimeUnit = Literal["seconds", "minutes", "hours", "days"]

#: Length of each model time unit in seconds.
SECONDS_PER: dict[str, float] = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0, "days": 86400.0}

# Suffixes accepted in duration strings, in seconds. "m" is left out on purpose:
# minutes or months? A user writes "min".
_SUFFIX_SECONDS: dict[str, float] = {
    "s": 1.0,
    "sec": 1.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 7 * 86400.0,
}
_DURATION_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-z]+)\s*$")

EXPECTED_DURATION = "a number or a duration such as '90s', '30min', '2h', '1.5d'"


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
    ValueError
        With a message saying what was expected and what was found; also for an infinite or
        not-a-number amount (``.inf``, ``nan``, ``1e999min``).

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
        raise ValueError(f"expected {EXPECTED_DURATION}, got {value!r}")
    amount: float | None = None
    if isinstance(value, int | float):
        amount = float(value)
    elif isinstance(value, str):
        m = _DURATION_RE.match(value)
        if m and m.group(2) in _SUFFIX_SECONDS:
            amount = float(m.group(1)) * _SUFFIX_SECONDS[m.group(2)] / SECONDS_PER[time_unit]
        else:
            try:  # a number written as a string, e.g. "12"
                amount = float(value)
            except ValueError:
                pass
    if amount is None:
        raise ValueError(f"expected {EXPECTED_DURATION}, got {_shown(value)}")
    if not math.isfinite(amount):
        raise ValueError(f"expected a finite duration, got {_shown(value)}")
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
    return amount * SECONDS_PER[time_unit] / 3600.0


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
    short = SHORT_UNITS[time_unit]
    return f"{amount:.3g} {short}" if abs(amount) < 100 else f"{amount:,.0f} {short}"
