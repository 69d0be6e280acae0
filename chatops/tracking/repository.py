"""The tracker's tables as the tracking package uses them: issues, their tickets and cards, receipts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from chatops.store.db import insert_ignoring
from chatops.store.tables import IssueCard, Ticket, TicketLink, TrackedIssue, TrackerReceipt, TrackerSync
from chatops.tracking.ports import IssueState

# The kind of ticket link that names the ticket's issue in a tracker (address: project, ref: issue key).
ISSUE = "issue"
# Every issue the desk follows carries this label, so that one search finds what changed.
FOLLOWED = "chatops"

_FIRST_SYNC = insert_ignoring(TrackerSync.__table__, returning=TrackerSync.__table__.c.system)
# Intake sends a ticket to the tracker on its hot path: plain statements, built once.
_LINKS = TicketLink.__table__
_LINK_OF = select(_LINKS).where(
    _LINKS.c.ticket_id == bindparam("ticket"), _LINKS.c.kind == ISSUE, _LINKS.c.system == bindparam("system")
)
_ADD_LINK = insert(_LINKS)
_RECEIVE = insert_ignoring(TrackerReceipt.__table__, returning=TrackerReceipt.__table__.c.key)


def ticket_label(ticket_id: int) -> str:
    """The label unique to a ticket's issue: a create whose answer was lost is found by it."""
    return f"chatops-ticket-{ticket_id}"


def project_of(key: str) -> str:
    """The project an issue key belongs to (SUP-12 -> SUP)."""
    return key.rsplit("-", 1)[0]


def link_of(session: Session, ticket_id: int, system: str) -> Row[Any] | None:
    """A ticket's link to its issue, if it has one (ref None: the issue is still being created)."""
    return session.connection().execute(_LINK_OF, {"ticket": ticket_id, "system": system}).first()


def add_link(
    session: Session, ticket_id: int, system: str, project: str, key: str | None, now: datetime
) -> None:
    """Link a ticket to an issue (key None: the issue is being created for it)."""
    row = {
        "ticket_id": ticket_id,
        "kind": ISSUE,
        "system": system,
        "address": project,
        "ref": key,
        "url": None,
        "created_at": now,
    }
    session.connection().execute(_ADD_LINK, row)


def drop_link(session: Session, ticket_id: int, system: str) -> None:
    """Unlink a ticket from its issue."""
    session.execute(
        delete(TicketLink).where(
            TicketLink.ticket_id == ticket_id, TicketLink.kind == ISSUE, TicketLink.system == system
        )
    )


def set_link(session: Session, ticket_id: int, system: str, key: str, url: str | None) -> bool:
    """Fill in the issue made for a ticket; False if the ticket no longer waits for one (unlinked, or
    merged onto another issue meanwhile)."""
    result = session.execute(
        update(TicketLink)
        .where(
            TicketLink.ticket_id == ticket_id,
            TicketLink.kind == ISSUE,
            TicketLink.system == system,
            TicketLink.ref.is_(None),
        )
        .values(ref=key, url=url)
    )
    return bool(getattr(result, "rowcount", 0))


def set_urls(session: Session, system: str, key: str, url: str) -> None:
    """Remember where people open an issue, on every ticket linked to it."""
    session.execute(
        update(TicketLink)
        .where(TicketLink.kind == ISSUE, TicketLink.system == system, TicketLink.ref == key)
        .values(url=url)
    )


def tickets_on(session: Session, system: str, key: str) -> list[Ticket]:
    """The tickets linked to an issue, oldest first, locked for a change."""
    linked = select(TicketLink.ticket_id).where(
        TicketLink.kind == ISSUE, TicketLink.system == system, TicketLink.ref == key
    )
    query = select(Ticket).where(Ticket.id.in_(linked)).order_by(Ticket.id).with_for_update()
    return list(session.scalars(query))


def requesters_on(session: Session, system: str, key: str) -> list[Row[Any]]:
    """Who asked for an issue: each linked ticket's id, requester and title, oldest first."""
    query = (
        select(Ticket.id, Ticket.requester, Ticket.title)
        .join(TicketLink, TicketLink.ticket_id == Ticket.id)
        .where(TicketLink.kind == ISSUE, TicketLink.system == system, TicketLink.ref == key)
        .order_by(Ticket.id)
    )
    return list(session.execute(query))


def tracked(session: Session, system: str, key: str, *, lock: bool = False) -> TrackedIssue | None:
    """An issue the desk follows."""
    query = select(TrackedIssue).where(TrackedIssue.system == system, TrackedIssue.key == key)
    return session.scalar(query.with_for_update() if lock else query)


def tracked_many(session: Session, system: str, keys: Iterable[str]) -> dict[str, TrackedIssue]:
    """The issues the desk follows among these keys, by key."""
    wanted = list(keys)
    if not wanted:
        return {}
    query = select(TrackedIssue).where(TrackedIssue.system == system, TrackedIssue.key.in_(wanted))
    return {issue.key: issue for issue in session.scalars(query)}


def track(
    session: Session, system: str, key: str, now: datetime, *, state: IssueState | None = None
) -> TrackedIssue:
    """Follow an issue (from now on, or as before), as the tracker describes it if it said."""
    issue = tracked(session, system, key, lock=True)
    if issue is None:
        issue = TrackedIssue(
            system=system,
            key=key,
            project=project_of(key),
            done=False,
            product=False,
            created_at=now,
            updated_at=now,
        )
        session.add(issue)
    if state is not None:
        if state.changed_at is not None:
            issue.changed_at = max(filter(None, (issue.changed_at, state.changed_at)))
        issue.url, issue.summary, issue.status, issue.done = (
            state.url,
            state.summary[:300],
            state.status,
            state.done,
        )
        issue.updated_at = now
    session.flush()
    return issue


def forget(session: Session, system: str, key: str) -> None:
    """Stop following an issue (one that turned out not to exist), with its product cards."""
    issue = tracked(session, system, key, lock=True)
    if issue is not None:
        session.execute(delete(IssueCard).where(IssueCard.issue_id == issue.id))
        session.delete(issue)
        session.flush()


def open_issues(session: Session, system: str, limit: int) -> list[TrackedIssue]:
    """The issues the desk follows that are not done, most recently changed first."""
    query = (
        select(TrackedIssue)
        .where(TrackedIssue.system == system, TrackedIssue.done.is_(False))
        .order_by(TrackedIssue.updated_at.desc(), TrackedIssue.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def cards_of(session: Session, issue_id: int) -> dict[str, IssueCard]:
    """An issue's product cards, by platform."""
    return {c.platform: c for c in session.scalars(select(IssueCard).where(IssueCard.issue_id == issue_id))}


def add_card(session: Session, issue_id: int, platform: str, address: str, ref: str) -> None:
    """Remember an issue's product card on a platform (one found again keeps its first row)."""
    if session.get(IssueCard, (issue_id, platform)) is None:
        session.add(IssueCard(issue_id=issue_id, platform=platform, address=address, ref=ref))
        session.flush()


def receive(session: Session, system: str, key: str, now: datetime) -> bool:
    """Take something in from a tracker (a delivery, a comment): False if it was taken in before."""
    connection = session.connection()
    row = {"system": system, "key": key, "at": now}
    return connection.execute(_RECEIVE[connection.dialect.name], row).first() is not None


def reconcile_turn(session: Session, system: str, now: datetime, every_seconds: float) -> datetime | None:
    """Take this round of asking the tracker what changed, if it has come: when the last round asked
    (None: not this replica's turn, or not yet time)."""
    sync = session.get(TrackerSync, system, with_for_update=True)
    if sync is None:
        connection = session.connection()
        first = _FIRST_SYNC[connection.dialect.name]
        # Two replicas starting together: one row is made, and only its maker takes the first round.
        taken = connection.execute(first, {"system": system, "reconciled_at": now}).first() is not None
        return now - timedelta(seconds=every_seconds) if taken else None
    # A little early still counts: timers on several replicas drift around the same moment.
    if (now - sync.reconciled_at).total_seconds() < every_seconds * 0.9:
        return None
    since, sync.reconciled_at = sync.reconciled_at, now
    return since


def forget_receipts(session: Session, system: str, before: datetime, limit: int) -> int:
    """Delete up to `limit` of a tracker's receipts older than `before`; how many."""
    oldest = (
        select(TrackerReceipt.key)
        .where(TrackerReceipt.system == system, TrackerReceipt.at < before)
        .limit(limit)
    )
    keys = list(session.scalars(oldest))
    if keys:
        session.execute(
            delete(TrackerReceipt).where(TrackerReceipt.system == system, TrackerReceipt.key.in_(keys))
        )
    return len(keys)


def linked_keys(session: Session, ticket_ids: Iterable[int], system: str) -> dict[int, TicketLink]:
    """The issue links of some tickets, by ticket."""
    ids = list(ticket_ids)
    if not ids:
        return {}
    query = select(TicketLink).where(
        TicketLink.ticket_id.in_(ids), TicketLink.kind == ISSUE, TicketLink.system == system
    )
    return {link.ticket_id: link for link in session.scalars(query)}
