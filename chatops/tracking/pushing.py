"""Sending a ticket to the tracker: the link that says an issue is being made for it, and the call."""

from __future__ import annotations

from datetime import timedelta

from chatops.config.tracking import IssueKind
from chatops.desk import Desk
from chatops.tickets import repository as tickets
from chatops.tickets.repository import CARD
from chatops.tracking import repository
from chatops.tracking.outbound import CREATE
from chatops.work import Work

# How long a new issue waits for its ticket's card to link to.
CARD_WAIT = timedelta(seconds=60)


def push(work: Work, desk: Desk, ticket_id: int, kind: IssueKind, *, product: bool) -> None:
    """Have an issue created for the ticket (its link says so until the tracker answers)."""
    tracker = desk.tracker
    assert tracker is not None, "only a desk with a tracker sends tickets to one"
    repository.add_link(work.session, ticket_id, tracker, kind.project, None, work.now)
    payload = {
        "project": kind.project,
        "issue_type": kind.issue_type,
        "labels": list(kind.labels),
        "product": product,
    }
    if kind.hold:
        work.send(tracker, CREATE, ticket_id=ticket_id, payload=payload, after=kind.hold)
    elif any(link.kind == CARD and link.ref for link in tickets.links_of(work.session, [ticket_id])):
        work.send(tracker, CREATE, ticket_id=ticket_id, payload=payload)
    else:
        # Made once the ticket's card is posted (see card_posted), so that the issue can link to it; if
        # the card is slow (a channel its platform has not shown the bot yet), without the link.
        work.send(tracker, CREATE, ticket_id=ticket_id, payload=payload, after=CARD_WAIT)


def push_category(work: Work, desk: Desk, ticket_id: int, category: str | None) -> IssueKind | None:
    """Send the ticket to the tracker if its category goes there and it has no issue yet; where to."""
    rules = desk.config.jira
    if desk.tracker is None or rules is None or category is None:
        return None
    kind = rules.categories.get(category)
    if kind is None or repository.link_of(work.session, ticket_id, desk.tracker) is not None:
        return None
    push(work, desk, ticket_id, kind, product=rules.shows_product(category))
    return kind
