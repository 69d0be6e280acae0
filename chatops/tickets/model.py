"""Read-only snapshots of tickets, safe to hand across threads and to renderers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatops.messaging.rich import Rich
from chatops.sla.clocks import Clocks
from chatops.tickets.clocking import clocks_of
from chatops.tickets.workflow import Status


@dataclass(frozen=True)
class IssueLink:
    """An issue in the tracker, as a card shows it: its key (None while being created), link and status."""

    project: str
    key: str | None
    url: str | None = None
    status: str | None = None
    summary: str | None = None
    shipped: bool = False


@dataclass(frozen=True)
class Answered:
    """What a requester's answer to a question card came to: the ticket as it now stands, and what they
    read in place of the question, where the platform can replace it (never the ticket's own card)."""

    ticket: TicketView
    said: Rich


@dataclass(frozen=True)
class TicketView:
    """A ticket as it stood when read; people by person id."""

    id: int
    title: str
    description: str
    requester: str
    filed_by: str | None
    via: str
    platform: str
    category: str | None
    priority: str
    team: str
    tier: int
    status: Status
    assignee: str | None
    reasons: tuple[str, ...]
    version: int
    created_at: datetime
    updated_at: datetime
    # The SLA clocks, as the row holds them (see chatops/tickets/clocking.py).
    clocks: Clocks
    first_responded_at: datetime | None
    resolved_at: datetime | None
    # A link people can open to the message the ticket was made from, once the platform has given one.
    origin_url: str | None = None
    # The ticket's issue in the tracker, if it has one.
    issue: IssueLink | None = None
    # The open issues it could be merged onto (offered on its card while it has none).
    merge_options: tuple[IssueLink, ...] = ()
    # The requester's rating (1 to 5) and comment, once they gave them; and the survey's course.
    csat_score: int | None = None
    csat_comment: str | None = None
    survey: str | None = None
    # The canned replies saved from chat, by name, that its card offers beside the rules' (read only for
    # a ticket being worked: no other card offers canned replies).
    saved_replies: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        ticket: Any,
        *,
        origin_url: str | None = None,
        issue: IssueLink | None = None,
        merge_options: tuple[IssueLink, ...] = (),
        saved_replies: tuple[str, ...] = (),
    ) -> TicketView:
        """Snapshot a ticket: a row of the tickets table, its ORM object, or the values just inserted."""
        return cls(
            id=ticket.id,
            title=ticket.title,
            description=ticket.description,
            requester=ticket.requester,
            filed_by=ticket.filed_by,
            via=ticket.via,
            platform=ticket.platform,
            category=ticket.category,
            priority=ticket.priority,
            team=ticket.team,
            tier=ticket.tier,
            status=Status(ticket.status),
            assignee=ticket.assignee,
            reasons=tuple(ticket.reasons),
            version=ticket.version,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            clocks=clocks_of(ticket),
            first_responded_at=ticket.first_responded_at,
            resolved_at=ticket.resolved_at,
            origin_url=origin_url,
            issue=issue,
            merge_options=merge_options,
            saved_replies=saved_replies,
            csat_score=ticket.csat_score,
            csat_comment=ticket.csat_comment,
            survey=ticket.survey,
        )

    @property
    def number(self) -> str:
        """The ticket number as people quote it."""
        return f"#{self.id}"
