"""Tickets as their cards show them: with what outside the desk belongs to them (the message each was
made from, its issue in the tracker), the open issues a ticket without one could be merged onto, and the
canned replies saved from chat that a worked ticket's card offers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from chatops.conversation import repository as conversation
from chatops.tickets import repository
from chatops.tickets.card import MENU_LIMIT
from chatops.tickets.model import IssueLink, TicketView
from chatops.tickets.repository import ORIGIN
from chatops.tickets.workflow import WORKED, Status
from chatops.tracking import repository as tracking
from chatops.tracking.repository import ISSUE

# A card's menu of issues to merge onto stays short enough to read (and within every platform's limits).
MERGE_CHOICES = 20


def views_of(
    session: Session,
    tickets: Sequence[Any],
    tracker: str | None,
    links: dict[tuple[int, str, str], Any] | None = None,
) -> dict[int, TicketView]:
    """Snapshots of tickets (rows or records) with their links (by ticket, kind and system, if loaded
    already), by id; `tracker`: the tracker the desk is connected to, if any."""
    if links is None:
        links = {
            (link.ticket_id, link.kind, link.system): link
            for link in repository.links_of(session, [t.id for t in tickets])
        }
    issues: dict[int, IssueLink] = {}
    if tracker is not None:
        keys = {
            ticket_id: link
            for (ticket_id, kind, system), link in links.items()
            if (kind, system) == (ISSUE, tracker)
        }
        known_issues = tracking.tracked_many(
            session, tracker, (link.ref for link in keys.values() if link.ref)
        )
        for ticket_id, link in keys.items():
            known = known_issues.get(link.ref) if link.ref else None
            issues[ticket_id] = IssueLink(
                project=link.address,
                key=link.ref,
                url=link.url or (known.url if known else None),
                status=known.status if known else None,
                summary=known.summary if known else None,
                shipped=bool(known and known.shipped_at),
            )
    options: tuple[IssueLink, ...] = ()
    if tracker is not None and sum(1 for i in issues.values() if i.key) < len(tickets):
        options = tuple(
            IssueLink(i.project, i.key, i.url, i.status, i.summary)
            for i in tracking.open_issues(session, tracker, MERGE_CHOICES)
        )
    worked = {ticket.id for ticket in tickets if Status(ticket.status) in WORKED}
    saved = tuple(conversation.saved_reply_names(session, MENU_LIMIT)) if worked else ()
    views = {}
    for ticket in tickets:
        origin = links.get((ticket.id, ORIGIN, ticket.platform))
        issue = issues.get(ticket.id)
        views[ticket.id] = TicketView.of(
            ticket,
            origin_url=origin.url if origin is not None else None,
            issue=issue,
            merge_options=() if issue is not None and issue.key is not None else options,
            saved_replies=saved if ticket.id in worked else (),
        )
    return views


def view_of(session: Session, ticket: Any, tracker: str | None) -> TicketView:
    """A snapshot of one ticket with its links."""
    return views_of(session, [ticket], tracker)[ticket.id]
