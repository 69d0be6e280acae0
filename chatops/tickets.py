"""Read-only snapshots of tickets, safe to hand across threads and to renderers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Row

from chatops.store.models import Ticket
from chatops.workflow import Status


@dataclass(frozen=True)
class TicketView:
    """A ticket as it stood when read."""

    id: int
    title: str
    description: str
    requester: str
    filed_by: str | None
    via: str
    origin_place: str | None
    origin_ref: str | None
    origin_permalink: str | None
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

    @classmethod
    def of(cls, ticket: Ticket | Row[Any] | SimpleNamespace) -> TicketView:
        """Snapshot a ticket: its ORM object, a row of the tickets table, or the values just inserted."""
        return cls(
            id=ticket.id,
            title=ticket.title,
            description=ticket.description,
            requester=ticket.requester,
            filed_by=ticket.filed_by,
            via=ticket.via,
            origin_place=ticket.origin_place,
            origin_ref=ticket.origin_ref,
            origin_permalink=ticket.origin_permalink,
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
        )

    @property
    def number(self) -> str:
        """The ticket number as people quote it."""
        return f"#{self.id}"
