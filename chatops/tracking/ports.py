"""What the desk needs from an issue tracker, as a small protocol; Jira implements it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chatops.messaging.ports import PermanentFailure


@dataclass(frozen=True)
class TicketFacts:
    """A ticket as the issue made for it describes it; each tracker writes it in its own way."""

    id: int
    # The requester's words, as they wrote them.
    description: str
    requester: str
    vip: bool
    category: str | None
    priority: str
    tier: int
    team: str
    # Where people can read the request: the message it was made from, or its card.
    link: str | None
    link_label: str
    # What agents said among themselves under the card so far: (who, what), in order.
    notes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class IssueDraft:
    """An issue to create: where, what, and the labels that find it again (one is unique to its ticket)."""

    project: str
    issue_type: str
    summary: str
    facts: TicketFacts
    labels: tuple[str, ...]


@dataclass(frozen=True)
class IssueState:
    """An issue as the tracker has it now."""

    key: str
    url: str
    summary: str
    status: str
    # Whether the status is one of the tracker's finished ones (done, won't do).
    done: bool
    resolution: str | None = None
    # When the tracker last changed it: news older than what the desk has seen is not applied.
    changed_at: datetime | None = None


@dataclass(frozen=True)
class Comment:
    """A comment on an issue."""

    id: str
    author: str
    body: str


class IssueMissing(PermanentFailure):
    """The tracker has no such issue, or does not let the desk see it."""


class Tracker(Protocol):
    """Creates, finds and comments on issues in one tracker; every call may raise the delivery errors of
    chatops.messaging.ports (RateLimited, TransientFailure with `in_doubt`, PermanentFailure)."""

    system: str

    async def create(self, draft: IssueDraft) -> IssueState:
        """Create an issue; a failure after the request went out is TransientFailure(in_doubt=True)."""
        ...

    async def find(self, label: str) -> IssueState | None:
        """The issue carrying a label, if there is one (the oldest, if several)."""
        ...

    async def get(self, key: str) -> IssueState:
        """An issue as it stands (IssueMissing if there is none)."""
        ...

    async def mark(self, key: str, label: str) -> None:
        """Add a label to an issue."""
        ...

    async def comment(self, key: str, body: str, *, look_first: bool) -> Comment:
        """Add a comment to an issue, shown as written (`body` is plain text); with `look_first` (an earlier
        try may have added it), return the issue's comment with the same words if there is one instead."""
        ...

    async def changed_since(self, label: str, minutes: int) -> list[IssueState]:
        """The issues carrying `label` that changed in the last `minutes`, all pages of them."""
        ...

    async def close(self) -> None:
        """Release the tracker's connections and threads."""
        ...
