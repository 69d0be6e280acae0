"""Every change to a ticket, as a small frozen command: what was asked, by whom, on which card version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chatops.messaging.ports import Place


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
class CardCommand:
    """A change asked for from a ticket's card: which ticket, the version the card showed, who, where."""

    ticket_id: int
    version: int
    actor: str
    # Where the person clicked, so that a refusal can be told to them privately there.
    place: Place | None = None


@dataclass(frozen=True)
class Asked:
    """A change asked for by command, not from a card: which ticket, who, and where they typed it."""

    ticket_id: int
    actor: str
    place: Place | None = None


@dataclass(frozen=True)
class Claim(CardCommand):
    """Assign the ticket to the person who asked."""


@dataclass(frozen=True)
class Assign(CardCommand):
    """Assign the ticket to one of its team's agents or leads."""

    assignee: str | None = None


@dataclass(frozen=True)
class Escalate(CardCommand):
    """Move the ticket up one tier."""


@dataclass(frozen=True)
class ChangePriority(CardCommand):
    """Give the ticket another priority; its clocks follow."""

    priority: str | None = None


@dataclass(frozen=True)
class ChangeCategory(CardCommand):
    """Give the ticket another category; a category that goes to the tracker sends it there."""

    category: str | None = None


@dataclass(frozen=True)
class WaitOnCustomer(CardCommand):
    """Put the ticket on hold for the customer: its clocks pause."""


@dataclass(frozen=True)
class Resume(CardCommand):
    """Take the ticket off hold: its clocks go on from where they stood."""


@dataclass(frozen=True)
class Resolve(CardCommand):
    """Mark the ticket resolved; its requester is told."""


@dataclass(frozen=True)
class Reopen(CardCommand):
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
