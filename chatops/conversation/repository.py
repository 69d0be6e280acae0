"""The conversation's tables as the conversation package uses them: messages, and where tickets came from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatops.store.db import insert_ignoring
from chatops.store.tables import Ticket, TicketLink, TicketMessage
from chatops.tickets.repository import CARD, ORIGIN

# Who said it: the requester, an agent to the requester, or agents among themselves.
CUSTOMER = "customer"
PUBLIC = "public"
INTERNAL = "internal"
_ADD = insert_ignoring(TicketMessage.__table__, returning=TicketMessage.__table__.c.id)


def add(
    session: Session,
    ticket_id: int,
    *,
    at: datetime,
    author: str,
    kind: str,
    platform: str,
    place: str,
    ref: str,
    text: str,
) -> bool:
    """Keep a message; False if it was kept before (a redelivery of the same platform message)."""
    row: dict[str, Any] = {
        "ticket_id": ticket_id,
        "at": at,
        "author": author,
        "kind": kind,
        "platform": platform,
        "place": place,
        "ref": ref,
        "text": text,
    }
    connection = session.connection()
    return connection.execute(_ADD[connection.dialect.name], row).first() is not None


def open_from(
    session: Session, requester: str, platform: str, place: str, statuses: list[str]
) -> list[Ticket]:
    """The requester's tickets in these statuses that were opened from this conversation, most recently
    changed first, locked for a change."""
    origins = select(TicketLink.ticket_id).where(
        TicketLink.kind == ORIGIN, TicketLink.system == platform, TicketLink.address == place
    )
    query = (
        select(Ticket)
        .where(Ticket.requester == requester, Ticket.status.in_(statuses), Ticket.id.in_(origins))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        .with_for_update()
    )
    return list(session.scalars(query))


def messages_of(session: Session, ticket_id: int) -> list[TicketMessage]:
    """A ticket's conversation, in order."""
    query = select(TicketMessage).where(TicketMessage.ticket_id == ticket_id).order_by(TicketMessage.id)
    return list(session.scalars(query))


def ticket_of_card(session: Session, platform: str, place: str, ref: str) -> Ticket | None:
    """The ticket whose card is this message (a thread under it is the ticket's), locked for a change."""
    cards = select(TicketLink.ticket_id).where(
        TicketLink.kind == CARD,
        TicketLink.system == platform,
        TicketLink.address == place,
        TicketLink.ref == ref,
    )
    return session.scalar(select(Ticket).where(Ticket.id.in_(cards)).with_for_update())
