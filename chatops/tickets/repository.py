"""The tickets' tables as the tickets package uses them: each query or write, built once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from chatops.store.db import insert_ignoring
from chatops.store.tables import MessageCopy, SlaPing, Ticket, TicketEvent, TicketLink
from chatops.work import Work

# The kinds of link a ticket has: its card on a platform, and the message it was made from.
CARD = "card"
ORIGIN = "origin"
# The ORM record of a ticket: handlers change it in place, and the unit of work writes it back.
TicketRecord = Ticket
_TICKETS = Ticket.__table__
_LINKS = TicketLink.__table__
# A second delivery of the same request racing the first inserts nothing and gets no id back.
_INSERT_TICKET = insert_ignoring(_TICKETS, on=[_TICKETS.c.intake_key], returning=_TICKETS.c.id)
# A link found again (a card recovered by looking before posting) keeps its first row.
_INSERT_LINK = insert_ignoring(_LINKS)
# Two sweeps owing the same notice at the same moment: one records it, the other records nothing.
_INSERT_PING = insert_ignoring(SlaPing.__table__, returning=SlaPing.__table__.c.id)
_INSERT_COPY = insert_ignoring(MessageCopy.__table__)
_OPENED_BY = select(_TICKETS).where(_TICKETS.c.intake_key == bindparam("key"))
_INSERT_EVENTS = insert(TicketEvent.__table__)
_IDS = bindparam("ids", expanding=True)
_BY_IDS = select(_TICKETS).where(_TICKETS.c.id.in_(_IDS))
_LINKS_OF = select(_LINKS).where(_LINKS.c.ticket_id.in_(_IDS))
_SET_URL = (
    update(_LINKS)
    .where(
        _LINKS.c.ticket_id == bindparam("ticket"),
        _LINKS.c.kind == bindparam("link_kind"),
        _LINKS.c.system == bindparam("link_system"),
    )
    .values(url=bindparam("url"))
)


def replayed(session: Session, key: str) -> Row[Any] | None:
    """The ticket an earlier delivery of the same request opened, looked up before inserting.

    On PostgreSQL a refused insert still uses up a number, and a replay must leave no gap; SQLite numbers
    a ticket after the highest one, so a replay goes straight to the insert, which refuses it.
    """
    return None if session.connection().dialect.name == "sqlite" else opened_by(session, key)


def opened_by(session: Session, key: str) -> Row[Any] | None:
    """The ticket an earlier delivery of the same request opened, if any."""
    return session.connection().execute(_OPENED_BY, {"key": key}).one_or_none()


def insert_ticket(session: Session, values: dict[str, Any]) -> int | None:
    """Insert a ticket; None when another delivery of the same request got there first."""
    connection = session.connection()
    return connection.execute(_INSERT_TICKET[connection.dialect.name], values).scalar_one_or_none()


def event(
    ticket_id: int,
    at: datetime,
    actor: str,
    action: str,
    before: str | None,
    after: str | None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One line of a ticket's history: who did what, from what to what, with the values themselves."""
    return {
        "ticket_id": ticket_id,
        "at": at,
        "actor": actor,
        "action": action,
        "from_value": before,
        "to_value": after,
        "detail": detail,
    }


def insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append lines to tickets' histories."""
    session.connection().execute(_INSERT_EVENTS, rows)


def last_event(session: Session, ticket_id: int, action: str) -> TicketEvent | None:
    """The latest line of a kind in a ticket's history, if it has one."""
    query = (
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket_id, TicketEvent.action == action)
        .order_by(TicketEvent.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def add_link(
    work: Work, ticket_id: int, kind: str, system: str, address: str, ref: str | None = None
) -> None:
    """Record something outside the desk that belongs to a ticket (a link already on record is kept)."""
    row = {
        "ticket_id": ticket_id,
        "kind": kind,
        "system": system,
        "address": address,
        "ref": ref,
        "url": None,
        "created_at": work.now,
    }
    connection = work.session.connection()
    connection.execute(_INSERT_LINK[connection.dialect.name], row)


def set_link_url(session: Session, ticket_id: int, kind: str, system: str, url: str) -> None:
    """Remember where people can open a linked thing."""
    session.connection().execute(
        _SET_URL, {"ticket": ticket_id, "link_kind": kind, "link_system": system, "url": url}
    )


def drop_links(session: Session, ticket_id: int, kind: str) -> list[Row[Any]]:
    """Take a ticket's links of a kind off it; the links as they were."""
    found = list(
        session.connection().execute(
            select(_LINKS).where(_LINKS.c.ticket_id == ticket_id, _LINKS.c.kind == kind)
        )
    )
    if found:
        session.connection().execute(
            delete(_LINKS).where(_LINKS.c.ticket_id == ticket_id, _LINKS.c.kind == kind)
        )
    return found


def locked(session: Session, ticket_id: int) -> Ticket | None:
    """A ticket to change, locked against other writers until the transaction ends."""
    return session.get(Ticket, ticket_id, with_for_update=True)


def get(session: Session, ticket_id: int) -> Ticket | None:
    """A ticket to read."""
    return session.get(Ticket, ticket_id)


def existing(session: Session, ticket_id: int) -> Ticket:
    """A ticket known to exist (tickets are never deleted), as the unit already holds it."""
    ticket = session.get(Ticket, ticket_id)
    assert ticket is not None, f"ticket #{ticket_id} is never deleted"
    return ticket


def by_ids(session: Session, ids: Iterable[int]) -> list[Row[Any]]:
    """Tickets by id."""
    return list(session.connection().execute(_BY_IDS, {"ids": list(ids)}))


def links_of(session: Session, ids: Iterable[int]) -> list[Row[Any]]:
    """The links of some tickets."""
    return list(session.connection().execute(_LINKS_OF, {"ids": list(ids)}))


def of_people(session: Session, people: Iterable[str], limit: int) -> list[Ticket]:
    """Tickets asked for by, or assigned to, any of these person ids; newest first."""
    ids = list(people)
    query = (
        select(Ticket)
        .where(Ticket.requester.in_(ids) | Ticket.assignee.in_(ids))
        .order_by(Ticket.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def opened_since(session: Session, people: Iterable[str], since: datetime) -> int:
    """How many tickets were opened for any of these person ids since then."""
    query = select(func.count()).where(Ticket.requester.in_(list(people)), Ticket.created_at >= since)
    return session.scalar(query) or 0


def of_teams(session: Session, teams: list[str], statuses: list[str]) -> list[Ticket]:
    """Tickets of these teams in these statuses."""
    return list(session.scalars(select(Ticket).where(Ticket.team.in_(teams), Ticket.status.in_(statuses))))


def due_for_check(session: Session, now: datetime, limit: int) -> list[Ticket]:
    """Tickets whose next SLA check has come, oldest first, locked; rows another sweep holds are skipped,
    so that sweeps on several replicas share the work instead of queueing behind each other."""
    query = (
        select(Ticket)
        .where(Ticket.next_check_at <= now)
        .order_by(Ticket.next_check_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def record_ping(
    session: Session, ticket_id: int, clock: str, kind: str, due_at: datetime, now: datetime
) -> bool:
    """Record a notice as sent for this clock and due time; False if it was sent already (for this due time
    or a later one), and then nothing is recorded."""
    sent = select(SlaPing.id).where(
        SlaPing.ticket_id == ticket_id, SlaPing.clock == clock, SlaPing.kind == kind, SlaPing.due_at >= due_at
    )
    if session.scalar(sent.limit(1)) is not None:
        return False
    connection = session.connection()
    row = {"ticket_id": ticket_id, "clock": clock, "kind": kind, "due_at": due_at, "sent_at": now}
    # The id comes back only for a row actually inserted (rowcount is not reliable across drivers here).
    return connection.execute(_INSERT_PING[connection.dialect.name], row).first() is not None


def forget_intake_keys(session: Session, before: datetime, limit: int) -> int:
    """Drop the request ids of up to `limit` tickets opened before `before`: a platform redelivers a
    request within minutes, so older ids guard against nothing; how many were dropped."""
    oldest = (
        select(Ticket.id)
        .where(Ticket.intake_key.is_not(None), Ticket.created_at < before)
        .order_by(Ticket.id)
        .limit(limit)
    )
    ids = list(session.scalars(oldest))
    if ids:
        session.execute(update(Ticket).where(Ticket.id.in_(ids)).values(intake_key=None))
    return len(ids)


def record_copy(session: Session, message_id: int, platform: str, place: str, ref: str) -> None:
    """Keep where a relayed copy of a ticket's message landed (once, however often it is recorded)."""
    connection = session.connection()
    row = {"message_id": message_id, "platform": platform, "place": place, "ref": ref}
    connection.execute(_INSERT_COPY[connection.dialect.name], row)
