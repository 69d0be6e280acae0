"""What tying tickets to the tracker adds to a ticket's card: its issue (key, link, status), and for a
worked ticket with none yet, Send to the tracker and Merge onto an issue others are on; with the verbs of
those controls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from chatops.desk import Desk
from chatops.messaging.cards import ActionRef, Choice, Control, Field, Menu
from chatops.tickets.card import CardPart, TicketCard, Verb
from chatops.tickets.views import TicketView
from chatops.tickets.workflow import WORKED
from chatops.tracking import repository
from chatops.tracking.commands import MergeOnto, SendToTracker
from chatops.tracking.views import IssueLink, issue_text

# The verbs of the tracker's controls.
SEND = "send"
MERGE = "merge"
# A card's menu of issues to merge onto stays short enough to read.
MERGE_CHOICES = 20


@dataclass(frozen=True)
class Tracked:
    """A ticket's share of the tracker, as its card shows it: its issue, or the open issues it could be
    merged onto while it has none."""

    issue: IssueLink | None
    merge_options: tuple[IssueLink, ...] = ()


def _load(session: Session, views: Sequence[TicketView], desk: Desk) -> Mapping[int, Tracked]:
    tracker = desk.tracker
    if tracker is None:
        return {}
    links = repository.linked_keys(session, (view.id for view in views), tracker)
    known = repository.tracked_many(session, tracker, (link.ref for link in links.values() if link.ref))
    issues = {}
    for ticket_id, link in links.items():
        found = known.get(link.ref) if link.ref else None
        issues[ticket_id] = IssueLink(
            project=link.address,
            key=link.ref,
            url=link.url or (found.url if found else None),
            status=found.status if found else None,
            summary=found.summary if found else None,
            shipped=bool(found and found.shipped_at),
        )
    # A ticket whose issue is still to be made can be merged onto one instead.
    mergeable = {view.id for view in views if view.status in WORKED and not _keyed(issues.get(view.id))}
    options: tuple[IssueLink, ...] = ()
    if mergeable:
        options = tuple(
            IssueLink(i.project, i.key, i.url, i.status, i.summary)
            for i in repository.open_issues(session, tracker, MERGE_CHOICES)
        )
    return {view.id: Tracked(issues.get(view.id), options if view.id in mergeable else ()) for view in views}


def _keyed(issue: IssueLink | None) -> bool:
    return issue is not None and issue.key is not None


def _fields(card: TicketCard, desk: Desk, _now: datetime) -> tuple[Field, ...]:
    tracked: Tracked | None = card.of(PART.name)
    if desk.tracker is None or tracked is None or tracked.issue is None:
        return ()
    return (Field(desk.tracker.capitalize(), issue_text(tracked.issue)),)


def _controls(card: TicketCard, desk: Desk) -> tuple[Control, ...]:
    """Send to the tracker, or merge onto an issue in it: for a worked ticket that has no issue yet (one
    whose issue is still to be made can be merged instead)."""
    view, tracked = card.view, card.of(PART.name)
    tracker = desk.tracker
    if tracker is None or tracked is None or view.status not in WORKED:
        return ()
    if _keyed(tracked.issue):
        return ()
    controls: list[Control] = []
    rules = desk.config.jira
    kinds = rules.kinds() if rules is not None else []
    if kinds and tracked.issue is None:
        controls.append(
            Menu(
                f"Send to {tracker.capitalize()}",
                ActionRef(view.id, SEND, view.version),
                tuple(Choice(kind.choice, kind.choice) for kind in kinds),
            )
        )
    options = tuple(
        Choice(f"{issue.key} {issue.summary or ''}".strip(), issue.key)
        for issue in tracked.merge_options
        if issue.key
    )
    if options:
        controls.append(Menu("Merge onto…", ActionRef(view.id, MERGE, view.version), options))
    return tuple(controls)


PART = CardPart("tracking", load=_load, fields=_fields, controls=_controls)

VERBS: dict[str, Verb] = {
    SEND: lambda click: SendToTracker(**click.about(), choice=click.choice),
    MERGE: lambda click: MergeOnto(**click.about(), key=click.choice),
}
