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
from chatops.messaging.cards import ActionRef, Card, Choice, Menu
from chatops.messaging.ports import Place
from chatops.tickets import card, repository
from chatops.tickets import controls as tickets
from chatops.tickets.card import TicketCard, left_behind, moved_line
from chatops.tickets.views import TicketView
from chatops.tracking import controls as tracking

PARTS = (tickets.PART, conversation.PART, tickets.ROUTING, tracking.PART, closing.PART)


@dataclass(frozen=True)
class DrawCard:
    """A ticket's card as it stands at `now`, as shown in `place` (to show in place of one just clicked
    there): in a place no longer its team's, the card it left behind."""

    ticket_id: int
    now: datetime
    place: Place | None = None


@dataclass(frozen=True)
class MenuChoices:
    """The options of one of a ticket's menus, as its card stands at `now`, that contain what was typed
    into it (all of them for nothing typed): for a platform that asks as a person types."""

    ref: ActionRef
    typed: str
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
    drawn = draw(load(session, [view], desk)[view.id], desk, query.now)
    moved = repository.last_event(session, view.id, "moved")
    if query.place is None or moved is None or query.place in desk.config.team(view.team).places():
        return drawn
    return left_behind(drawn, moved_line(desk.config.team(view.team).name, moved.actor, moved.at))


def menu_choices(session: Session, query: MenuChoices, desk: Desk) -> tuple[Choice, ...]:
    """The options of the menu a card shows for the reference's verb, matched against what was typed; none
    once the card no longer shows that menu."""
    drawn = draw_card(session, DrawCard(query.ref.ticket_id, query.now), desk)
    menu = next(
        (c for c in drawn.actions if isinstance(c, Menu) and c.ref.verb == query.ref.verb),
        None,
    )
    if menu is None:
        return ()
    typed = query.typed.strip().casefold()
    return tuple(o for o in menu.options if typed in o.label.casefold() or typed in o.value.casefold())
