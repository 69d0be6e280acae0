"""The changes that tie tickets to the issue tracker, as small frozen commands: from agents (send, link,
merge, unlink) and from the tracker itself (a status, a comment, the periodic look for what was missed)."""

from __future__ import annotations

from dataclasses import dataclass

from chatops.tickets.commands import TicketCommand
from chatops.tracking.ports import Comment, IssueState


@dataclass(frozen=True)
class SendToTracker(TicketCommand):
    """Create an issue for the ticket, as one of the configured project and issue type pairs."""

    choice: str | None = None


@dataclass(frozen=True)
class MergeOnto(TicketCommand):
    """Link the ticket to an issue other tickets are on already (chosen on the card)."""

    key: str | None = None


@dataclass(frozen=True)
class LinkIssue(TicketCommand):
    """Link a ticket to an existing issue by its key, typed in a command."""

    key: str = ""


@dataclass(frozen=True)
class UnlinkIssue(TicketCommand):
    """Take a ticket off its issue."""


@dataclass(frozen=True)
class FollowIssue:
    """An issue as the tracker says it stands now: its tickets follow its status."""

    state: IssueState
    # The tracker's id of the delivery that said so, if it came by webhook: a redelivery changes nothing.
    delivery: str | None = None


@dataclass(frozen=True)
class TakeComment:
    """A comment made on an issue: one marked for the customer reaches the threads and requesters."""

    key: str
    comment: Comment
    delivery: str | None = None


@dataclass(frozen=True)
class Reconcile:
    """Ask the tracker, once per round across replicas, what changed that webhooks may have missed."""


@dataclass(frozen=True)
class ForgetReceipts:
    """Delete up to `limit` receipts from the tracker older than the retention."""

    limit: int = 1000
