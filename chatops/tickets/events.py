"""What happens to tickets, as small frozen events: each domain that cares reacts to them in the same unit
of work, whatever command, timer or tracker caused them."""

from __future__ import annotations

from dataclasses import dataclass

from chatops.rich import Rich
from chatops.work import Event


@dataclass(frozen=True)
class TicketOpened(Event):
    """A ticket was opened (and triaged) from a request."""

    ticket_id: int
    team: str
    category: str | None


@dataclass(frozen=True)
class TicketChanged(Event):
    """A ticket changed: its cards are drawn again; `said`, if anything, is the line for their threads
    (after the person who made the change, unless the desk did)."""

    ticket_id: int
    team: str
    actor: str
    said: Rich | None


@dataclass(frozen=True)
class StatusChanged(Event):
    """A ticket moved from one status to another through the workflow."""

    ticket_id: int
    actor: str
    before: str
    after: str


@dataclass(frozen=True)
class Assigned(Event):
    """A ticket was given to someone of its team."""

    ticket_id: int
    actor: str
    assignee: str


@dataclass(frozen=True)
class Escalated(Event):
    """A ticket went up a tier, and why."""

    ticket_id: int
    actor: str
    before: int
    after: int
    reason: str
    # The requester heard of it already, in what the change that escalated it told them.
    requester_told: bool = False


@dataclass(frozen=True)
class CategoryChanged(Event):
    """A ticket was given another category."""

    ticket_id: int
    actor: str
    before: str | None
    after: str


@dataclass(frozen=True)
class Moved(Event):
    """A ticket went from one team to another; its cards go with it."""

    ticket_id: int
    actor: str
    before: str
    after: str


@dataclass(frozen=True)
class Resolved(Event):
    """A ticket was resolved, by whoever or whatever; `news`, if any, is what its requester has to hear
    with it (an issue that shipped, say)."""

    ticket_id: int
    actor: str
    news: Rich | None = None


@dataclass(frozen=True)
class Closed(Event):
    """A resolved ticket was closed; `survey`: whether its requester may be asked how it went."""

    ticket_id: int
    actor: str
    survey: bool


@dataclass(frozen=True)
class Reopened(Event):
    """A resolved or closed ticket is open again; `why`, if not a person's doing, is what its requester
    hears of the reason."""

    ticket_id: int
    actor: str
    why: Rich | None = None
    # The requester heard of it already, in what the change that reopened it told them.
    requester_told: bool = False


@dataclass(frozen=True)
class CardPosted(Event):
    """A ticket's card is up on a platform."""

    ticket_id: int
    platform: str
