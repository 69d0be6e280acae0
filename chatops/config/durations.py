"""Durations as the desk's rules write them: 15m, 4h, 3d."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

# The sign is accepted so that '-5m' is refused as not positive rather than as not a duration.
_DURATION = re.compile(r"^\s*(-?\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: Any) -> timedelta:
    """Read '15m', '4h', '3d' (or a number of seconds) as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration such as 15m, 4h or 3d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def positive_duration(value: Any) -> timedelta:
    """A duration that must be more than nothing."""
    duration = parse_duration(value)
    if duration <= timedelta(0):
        raise ValueError(f"{value!r} must be positive, such as 15m, 4h or 3d")
    return duration


def duration_or_zero(value: Any) -> timedelta:
    """A duration that may be nothing (0) but never negative."""
    if value in (0, "0", None):
        return timedelta(0)
    duration = parse_duration(value)
    if duration < timedelta(0):
        raise ValueError(f"{value!r} must not be negative; use 0 or a duration such as 10m")
    return duration
