"""The time, as a protocol, so that tests and SLA sweeps can control it; and the timers domains ask for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol


class Clock(Protocol):
    """The time, injectable so that tests and SLA sweeps can control it."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)


@dataclass(frozen=True)
class Timer:
    """A command a domain wants handled every so often, in every process that runs the timers (the
    database decides who acts on what): `command` makes it and `every` says how often (None: never),
    each from the desk."""

    name: str
    command: Callable[[Any], Any]
    every: Callable[[Any], float | None]
    # Run once at start-up too, not only after the first interval.
    at_start: bool = False
