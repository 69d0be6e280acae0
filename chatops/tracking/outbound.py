"""What tying tickets to the tracker sends out: calls to the tracker, and the product team's cards."""

from __future__ import annotations

from chatops.desk import Desk
from chatops.tracking import repository
from chatops.tracking.ports import IssueState
from chatops.work import Work

# The kinds of outbox row carried out by the tracker (the row's target is the tracker's system name).
CREATE = "create_issue"
FETCH = "fetch_issue"
COMMENT = "comment_issue"
RECONCILE = "reconcile"
# The kinds carried out on a chat platform: an issue's card in the product places.
POST_ISSUE_CARD = "post_issue_card"
UPDATE_ISSUE_CARD = "update_issue_card"


def show_product(work: Work, desk: Desk, key: str) -> None:
    """Put an issue's card in the product places, once; after that, redraw it."""
    tracker = desk.tracker
    assert tracker is not None, "only a desk with a tracker follows issues"
    issue = repository.tracked(work.session, tracker, key, lock=True)
    if issue is None:
        return
    kind = UPDATE_ISSUE_CARD if issue.product else POST_ISSUE_CARD
    issue.product = True
    for place in desk.config.product.places():
        work.send(place.platform, kind, payload={"issue": key})


def redraw_product(work: Work, desk: Desk, key: str) -> None:
    """Redraw an issue's product cards, if it has them."""
    tracker = desk.tracker
    issue = repository.tracked(work.session, tracker, key) if tracker else None
    if issue is not None and issue.product:
        for place in desk.config.product.places():
            work.send(place.platform, UPDATE_ISSUE_CARD, payload={"issue": key})


def comment(work: Work, desk: Desk, ticket_id: int, key: str, body: str) -> None:
    """Add a comment to an issue."""
    assert desk.tracker is not None
    work.send(desk.tracker, COMMENT, ticket_id=ticket_id, payload={"key": key, "body": body})


def remember(work: Work, desk: Desk, state: IssueState) -> None:
    """Take in an issue as the tracker described it: follow it, and show its link on every ticket."""
    assert desk.tracker is not None
    repository.track(work.session, desk.tracker, state.key, work.now, state=state)
    repository.set_urls(work.session, desk.tracker, state.key, state.url)
