"""The ticket card, composed from the part each domain adds: the tickets' own, the conversation's, the
ticket's routing, the tracker's and closing's, in that order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from chatops.closing import controls as closing
from chatops.conversation import controls as conversation
from chatops.desk import Desk
from chatops.errors import NotFound
from chatops.messaging.cards import Card
from chatops.tickets import card, repository
from chatops.tickets import controls as tickets
from chatops.tickets.card import TicketCard
from chatops.tickets.views import TicketView
from chatops.tracking import controls as tracking

PARTS = (tickets.PART, conversation.PART, tickets.ROUTING, tracking.PART, closing.PART)


@dataclass(frozen=True)
class DrawCard:
    """A ticket's card as it stands at `now` (to show in place of one just clicked)."""

    ticket_id: int
    now: datetime


def load(session: Session, views: Sequence[TicketView], desk: Desk) -> dict[int, TicketCard]:
    """What every part of the cards of these tickets needs, by ticket."""
    return card.load(session, views, PARTS, desk)


def draw(ticket: TicketCard, desk: Desk, now: datetime) -> Card:
    """A ticket's card as of `now`."""
    return card.draw(ticket, PARTS, desk, now)


def draw_card(session: Session, query: DrawCard, desk: Desk) -> Card:
    """A ticket's card, read and drawn."""
    row = repository.get(session, query.ticket_id)
    if row is None:
        raise NotFound(f"Ticket #{query.ticket_id} no longer exists.")
    view = TicketView.of(row)
    return draw(load(session, [view], desk)[view.id], desk, query.now)
