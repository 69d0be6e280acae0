"""Every change to a ticket, as a small frozen command: what was asked, by whom, on which card version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chatops.messaging.ports import Place


class Via(StrEnum):
    """How a request came in."""

    COMMAND = "command"
    FORM = "form"
    SHORTCUT = "shortcut"
    DM = "dm"
    EMOJI = "emoji"
    CHANNEL = "channel"


@dataclass(frozen=True)
class OpenTicket:
    """Open a ticket for a request, however it came in."""

    text: str
    # Person ids: who the ticket is for, and who filed it for them from something they wrote, if not them.
    requester: str
    via: str
    platform: str
    filed_by: str | None = None
    # What the requester's platform calls them, when the platform says so with the request.
    requester_name: str | None = None
    workspace: str | None = None
    # Where the request was made, and the message it was made from (by the platform's own ids).
    origin_place: str | None = None
    origin_ref: str | None = None
    # Whether the origin message is worth a link on the card (a message in a channel, not a DM).
    link_origin: bool = False
    title: str | None = None
    category: str | None = None
    priority: str | None = None
    # The team the request is for, whatever the rules' routing would say (a request channel's team).
    team: str | None = None
    # The platform's id of this very request: a redelivery or a replay of it opens nothing new.
    request_id: str | None = None
    # The command the requester can ask about the ticket with, on their platform (for the confirmation).
    command: str | None = None
    # How to confirm the new ticket to whoever filed it: privately in this place, or a direct message.
    confirm_privately_in: str | None = None
    confirm_directly: bool = False


@dataclass(frozen=True)
class TicketCommand:
    """A change to one ticket: which, the version of the card it was asked from (None: typed, not
    clicked, so no card can be out of date), who asked, and where."""

    ticket_id: int
    version: int | None
    actor: str
    # Where the person clicked or typed, so that a refusal can be told to them privately there.
    place: Place | None = None


@dataclass(frozen=True)
class Claim(TicketCommand):
    """Assign the ticket to the person who asked."""


@dataclass(frozen=True)
class Assign(TicketCommand):
    """Assign the ticket to one of its team's agents or leads."""

    assignee: str | None = None


@dataclass(frozen=True)
class Start(TicketCommand):
    """Start work on an assigned ticket: it is in progress."""


@dataclass(frozen=True)
class Escalate(TicketCommand):
    """Move the ticket up one tier, saying why."""

    reason: str | None = None


@dataclass(frozen=True)
class MoveTicket(TicketCommand):
    """Hand the ticket to another team."""

    team: str | None = None


@dataclass(frozen=True)
class ChangePriority(TicketCommand):
    """Give the ticket another priority; its clocks follow."""

    priority: str | None = None


@dataclass(frozen=True)
class ChangeCategory(TicketCommand):
    """Give the ticket another category; a category that goes to the tracker sends it there."""

    category: str | None = None


@dataclass(frozen=True)
class WaitOnCustomer(TicketCommand):
    """Put the ticket on hold for the customer: its clocks pause."""


@dataclass(frozen=True)
class Resume(TicketCommand):
    """Take the ticket off hold: its clocks go on from where they stood."""


@dataclass(frozen=True)
class Resolve(TicketCommand):
    """Mark the ticket resolved; its requester is told."""


@dataclass(frozen=True)
class Reopen(TicketCommand):
    """Open a resolved or closed ticket again; its clocks run again."""


@dataclass(frozen=True)
class RedrawCards:
    """Draw the ticket's cards again as the ticket stands (a click came from an old one)."""

    ticket_id: int


@dataclass(frozen=True)
class ShowTicket:
    """A ticket, for its requester or an agent of its team."""

    number: int
    viewer: str


@dataclass(frozen=True)
class ListMine:
    """The viewer's own tickets: asked for, or assigned to them."""

    viewer: str


@dataclass(frozen=True)
class ListQueue:
    """The open tickets of the viewer's teams, most urgent first."""

    viewer: str


@dataclass(frozen=True)
class ListNearBreach:
    """The running SLA clocks of the viewer's teams, nearest to breach first (for agents and leads)."""

    viewer: str
    now: datetime


@dataclass(frozen=True)
class SweepSla:
    """Look at up to `limit` tickets whose next SLA check has come."""

    limit: int = 200


@dataclass(frozen=True)
class ForgetIntakeKeys:
    """Drop the request ids of up to `limit` tickets opened longer ago than the retention."""

    limit: int = 1000
