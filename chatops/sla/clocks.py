"""A ticket's SLA clocks: when its first response and resolution are due, and when to look at it next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chatops.config.rules import Priority


@dataclass(frozen=True)
class Clocks:
    """Due times, and the moment the SLA sweep should next look at the ticket (None: nothing runs)."""

    first_response_due: datetime
    resolution_due: datetime
    next_check_at: datetime | None


def clocks(
    *, created_at: datetime, targets: Priority, first_responded_at: datetime | None, running: bool
) -> Clocks:
    """The clocks of a ticket from its priority's targets and where it stands.

    Every command that touches priority, status or assignment sets them from here, so that a reopened
    ticket is looked at again and a new priority moves the next look with the due times.
    """
    first_response_due = created_at + targets.first_response
    resolution_due = created_at + targets.resolution
    if not running:
        return Clocks(first_response_due, resolution_due, None)
    next_check = first_response_due if first_responded_at is None else resolution_due
    return Clocks(first_response_due, resolution_due, next_check)
