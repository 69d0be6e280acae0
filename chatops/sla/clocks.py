"""A ticket's two SLA clocks, first response and resolution: the working time each has used, when each is
due, the moments owed a warning or a breach notice, and when the sweep should look at the ticket next.

Working time counts from an anchor: the last moment the clocks were brought up to date. Every change that
can start, stop or move a clock (intake, assignment, priority, hold, resume, resolve, reopen) goes through
`reclocked`, which first adds the working time since the anchor to the clocks that were running, then sets
the due times from what is left of each target. A clock that stops keeps what it used, so a resumed or
reopened clock goes on from where it stood.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from chatops.sla.calendar import Clockwork

ZERO = timedelta(0)
FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"
WARNING = "warning"
BREACH = "breach"
LABELS = {FIRST_RESPONSE: "first response", RESOLUTION: "resolution"}


class Priority(Protocol):
    """A priority's SLA targets: how much working time each clock may use."""

    @property
    def first_response(self) -> timedelta: ...

    @property
    def resolution(self) -> timedelta: ...


@dataclass(frozen=True)
class Running:
    """Which clocks run."""

    first_response: bool
    resolution: bool

    def of(self, clock: str) -> bool:
        """Whether this clock runs."""
        return self.first_response if clock == FIRST_RESPONSE else self.resolution


STOPPED = Running(False, False)


@dataclass(frozen=True)
class Clocks:
    """Both clocks as a ticket holds them."""

    anchor_at: datetime
    first_response_used: timedelta
    resolution_used: timedelta
    first_response_due: datetime
    resolution_due: datetime
    next_check_at: datetime | None

    def used(self, clock: str) -> timedelta:
        """The working time a clock has used up to the anchor."""
        return self.first_response_used if clock == FIRST_RESPONSE else self.resolution_used

    def due(self, clock: str) -> datetime:
        """When a clock breaches (or breached), if it runs on."""
        return self.first_response_due if clock == FIRST_RESPONSE else self.resolution_due


@dataclass(frozen=True)
class Checkpoint:
    """A moment a clock is owed a notice: its warning, or its breach, for the due time it had then."""

    clock: str
    kind: str
    at: datetime
    due: datetime


def target(targets: Priority, clock: str) -> timedelta:
    """A priority's target for a clock."""
    return targets.first_response if clock == FIRST_RESPONSE else targets.resolution


def started(now: datetime, targets: Priority, calendar: Clockwork, warn_at: float) -> Clocks:
    """The clocks of a ticket opened now: both run from zero."""
    fresh = Clocks(now, ZERO, ZERO, now, now, None)
    return reclocked(
        fresh,
        now=now,
        was=STOPPED,
        running=Running(True, True),
        targets=targets,
        calendar=calendar,
        warn_at=warn_at,
    )


def reclocked(
    current: Clocks,
    *,
    now: datetime,
    was: Running,
    running: Running,
    targets: Priority,
    calendar: Clockwork,
    warn_at: float,
) -> Clocks:
    """The clocks brought up to `now` (those in `was` ran since the anchor), then set for `running` under
    `targets`: the one function every change of priority, assignment, hold, resolution or reopening uses."""
    elapsed = (
        calendar.working_between(current.anchor_at, now) if (was.first_response or was.resolution) else ZERO
    )
    used = {
        clock: current.used(clock) + (elapsed if was.of(clock) else ZERO)
        for clock in (FIRST_RESPONSE, RESOLUTION)
    }
    due = {
        clock: _due(now, used[clock], target(targets, clock), current.due(clock), calendar) for clock in used
    }
    clocks = Clocks(now, used[FIRST_RESPONSE], used[RESOLUTION], due[FIRST_RESPONSE], due[RESOLUTION], None)
    points = checkpoints(clocks, running, targets, calendar, warn_at)
    return replace(clocks, next_check_at=min((p.at for p in points), default=None))


def _due(
    now: datetime, used: timedelta, goal: timedelta, previous: datetime, calendar: Clockwork
) -> datetime:
    # A clock past its target breached already: at its old due time if that has passed (moving it to now
    # would hide how late it is), or now, if a tighter target has just put it past.
    return calendar.add_working(now, goal - used) if used < goal else min(previous, now)


def checkpoints(
    clocks: Clocks, running: Running, targets: Priority, calendar: Clockwork, warn_at: float
) -> list[Checkpoint]:
    """The moments the running clocks are owed a warning and a breach notice, with the due time of each."""
    points = []
    for clock in (FIRST_RESPONSE, RESOLUTION):
        if not running.of(clock):
            continue
        due = clocks.due(clock)
        to_warning = target(targets, clock) * warn_at - clocks.used(clock)
        warning = (
            calendar.add_working(clocks.anchor_at, to_warning) if to_warning > ZERO else clocks.anchor_at
        )
        points += [Checkpoint(clock, WARNING, min(warning, due), due), Checkpoint(clock, BREACH, due, due)]
    return points


def left(clocks: Clocks, clock: str, now: datetime, calendar: Clockwork, targets: Priority) -> timedelta:
    """Working time left on a running clock at `now` (negative once it has breached)."""
    used = clocks.used(clock) + calendar.working_between(clocks.anchor_at, now)
    remaining = target(targets, clock) - used
    if remaining > ZERO or now <= clocks.due(clock):
        return remaining
    return -calendar.working_between(clocks.due(clock), now)


def duration(amount: timedelta) -> str:
    """A stretch of time as people say it: 45 min, 2 h 15 min, 3 d 4 h."""
    minutes = max(int(amount.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"
