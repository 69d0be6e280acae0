"""The conversation's tables as the conversation package uses them: messages, where tickets came from,
and the channels turned into request channels from chat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from chatops.store.db import insert_ignoring
from chatops.store.tables import (
    HeldMessage,
    RequestChannel,
    SavedReply,
    Ticket,
    TicketLink,
    TicketMessage,
)
from chatops.tickets.commands import Via
from chatops.tickets.repository import CARD, ORIGIN

# How a ticket opened in a request channel says it came in.
# Who said it: the requester, an agent to the requester, or agents among themselves.
CUSTOMER = "customer"
PUBLIC = "public"
INTERNAL = "internal"
_ADD = insert_ignoring(TicketMessage.__table__, returning=TicketMessage.__table__.c.id)
_DECLARE = insert_ignoring(RequestChannel.__table__, returning=RequestChannel.__table__.c.place)
_SAVE = insert_ignoring(SavedReply.__table__, returning=SavedReply.__table__.c.name)
_HOLD = insert_ignoring(HeldMessage.__table__, returning=HeldMessage.__table__.c.id)


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
) -> int | None:
    """Keep a message; its id, or None if it was kept before (a redelivery of the same platform message)."""
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
    kept = connection.execute(_ADD[connection.dialect.name], row).first()
    return None if kept is None else kept[0]


def open_for(session: Session, requester: str, platform: str, statuses: list[str]) -> list[Ticket]:
    """The requester's tickets in these statuses whose conversation is their own chat with the bot on
    this platform (all but those asked in a request channel, whose conversation is that thread), most
    recently changed first, locked for a change."""
    query = (
        select(Ticket)
        .where(
            Ticket.requester == requester,
            Ticket.platform == platform,
            Ticket.via != Via.CHANNEL,
            Ticket.status.in_(statuses),
        )
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


def ticket_of_origin(session: Session, platform: str, place: str, ref: str) -> Ticket | None:
    """The ticket made from this message (a thread under it is the ticket's), locked for a change."""
    origins = select(TicketLink.ticket_id).where(
        TicketLink.kind == ORIGIN,
        TicketLink.system == platform,
        TicketLink.address == place,
        TicketLink.ref == ref,
    )
    query = select(Ticket).where(Ticket.id.in_(origins)).order_by(Ticket.id).limit(1).with_for_update()
    return session.scalar(query)


def origin_of(session: Session, ticket_id: int, platform: str) -> tuple[str, str] | None:
    """Where on the platform the ticket was made from: the place and the message, if it knows both."""
    query = select(TicketLink.address, TicketLink.ref).where(
        TicketLink.ticket_id == ticket_id, TicketLink.kind == ORIGIN, TicketLink.system == platform
    )
    found = session.execute(query).first()
    return (found.address, found.ref) if found is not None and found.ref else None


def declared_channel(session: Session, platform: str, place: str) -> RequestChannel | None:
    """The request channel turned on from chat in this place, if any."""
    return session.get(RequestChannel, (platform, place))


def declare_channel(session: Session, platform: str, place: str, team: str, by: str, at: datetime) -> bool:
    """Turn a place into a request channel for a team; False if someone else just did."""
    row = {"platform": platform, "place": place, "team": team, "added_by": by, "added_at": at}
    connection = session.connection()
    return connection.execute(_DECLARE[connection.dialect.name], row).first() is not None


def drop_channel(session: Session, platform: str, place: str) -> None:
    """A place turned on from chat is an ordinary channel again."""
    session.execute(
        delete(RequestChannel).where(RequestChannel.platform == platform, RequestChannel.place == place)
    )


def saved_replies(session: Session) -> list[SavedReply]:
    """The canned replies saved from chat, oldest first."""
    return list(session.scalars(select(SavedReply).order_by(SavedReply.added_at, SavedReply.name)))


def saved_reply_names(session: Session, limit: int) -> list[str]:
    """The names of the first `limit` canned replies saved from chat, oldest first."""
    query = select(SavedReply.name).order_by(SavedReply.added_at, SavedReply.name).limit(limit)
    return list(session.scalars(query))


def saved_reply(session: Session, name: str) -> SavedReply | None:
    """The canned reply saved from chat under this name, if any."""
    return session.get(SavedReply, name)


def save_reply(session: Session, name: str, text: str, by: str, at: datetime) -> bool:
    """Keep a canned reply under its name; False if the name was taken (by someone just now, maybe)."""
    row = {"name": name, "text": text, "added_by": by, "added_at": at}
    connection = session.connection()
    return connection.execute(_SAVE[connection.dialect.name], row).first() is not None


def drop_reply(session: Session, name: str) -> bool:
    """Forget a canned reply saved from chat; False if there was none by that name."""
    gone = session.execute(delete(SavedReply).where(SavedReply.name == name).returning(SavedReply.name))
    return gone.first() is not None


def kept_in(session: Session, platform: str, place: str, ref: str) -> int | None:
    """The ticket a message was kept in already, if it was (a redelivery finds it)."""
    query = select(TicketMessage.ticket_id).where(
        TicketMessage.platform == platform, TicketMessage.place == place, TicketMessage.ref == ref
    )
    return session.scalar(query)


def hold(session: Session, values: dict[str, Any]) -> int | None:
    """Hold a requester's message while they choose its ticket; None if it is held already."""
    connection = session.connection()
    row = connection.execute(_HOLD[connection.dialect.name], values).first()
    return None if row is None else row[0]


def held(session: Session, held_id: int) -> HeldMessage | None:
    """A held message, locked: the first choice takes it, a second finds it gone."""
    return session.scalar(select(HeldMessage).where(HeldMessage.id == held_id).with_for_update())


def release(session: Session, message: HeldMessage) -> None:
    """The held message has its ticket."""
    session.delete(message)


def heard_since(session: Session, ticket_id: int, since: datetime, *, before: int) -> bool:
    """Whether the requester wrote about the ticket since then, before the message `before`."""
    query = select(TicketMessage.id).where(
        TicketMessage.ticket_id == ticket_id,
        TicketMessage.kind == CUSTOMER,
        TicketMessage.at >= since,
        TicketMessage.id < before,
    )
    return session.scalar(query.limit(1)) is not None
