"""A ticket's SLA clocks as its row holds them: which run in each status, and bringing them up to date
with every change, in the one place that does it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chatops.desk import Desk
from chatops.sla.clocks import Clocks, Running, reclocked, started
from chatops.tickets.workflow import OPEN, Status


def running(status: str, first_responded_at: datetime | None) -> Running:
    """Which clocks run: both while the ticket is open and not waiting on the customer, the first response
    only until someone has answered."""
    going = Status(status) in OPEN and Status(status) is not Status.WAITING_ON_CUSTOMER
    return Running(going and first_responded_at is None, going)


def running_of(ticket: Any) -> Running:
    """Which of a ticket's clocks run as it stands."""
    return running(ticket.status, ticket.first_responded_at)


def clocks_of(ticket: Any) -> Clocks:
    """A ticket's clocks, read from its row."""
    return Clocks(
        ticket.sla_anchor_at,
        timedelta(seconds=ticket.first_response_used),
        timedelta(seconds=ticket.resolution_used),
        ticket.first_response_due,
        ticket.resolution_due,
        ticket.next_check_at,
    )


def columns(clocks: Clocks) -> dict[str, Any]:
    """The row's values for a ticket's clocks."""
    return {
        "sla_anchor_at": clocks.anchor_at,
        "first_response_used": clocks.first_response_used.total_seconds(),
        "resolution_used": clocks.resolution_used.total_seconds(),
        "first_response_due": clocks.first_response_due,
        "resolution_due": clocks.resolution_due,
        "next_check_at": clocks.next_check_at,
    }


def opening_clocks(desk: Desk, team: str, priority: str, now: datetime) -> dict[str, Any]:
    """The clock columns of a ticket opened now."""
    config = desk.config
    return columns(started(now, config.priority(priority), config.clockwork(team), config.sla.warn_at))


def reclock(ticket: Any, desk: Desk, now: datetime, was: Running) -> None:
    """Bring a ticket's clocks up to `now` (those in `was` ran until now) and set them for where it stands."""
    config = desk.config
    clocks = reclocked(
        clocks_of(ticket),
        now=now,
        was=was,
        running=running_of(ticket),
        targets=config.priority(ticket.priority),
        calendar=config.clockwork(ticket.team),
        warn_at=config.sla.warn_at,
    )
    for name, value in columns(clocks).items():
        setattr(ticket, name, value)
