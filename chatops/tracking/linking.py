"""The handlers of the changes agents make between tickets and the tracker: send a ticket there, link it
to an issue that exists (merging it onto one other tickets are on), and unlink it."""

from __future__ import annotations

import re

from chatops.desk import Desk
from chatops.errors import IllegalTransition, InvalidInput, NotFound
from chatops.messaging.outbox_store import withdraw
from chatops.rich import Code, Rich
from chatops.tickets.commands import TicketCommand
from chatops.tickets.model import Ticket
from chatops.tickets.views import TicketView
from chatops.tracking import outbound, repository
from chatops.tracking.commands import LinkIssue, MergeOnto, SendToTracker, UnlinkIssue
from chatops.tracking.pushing import push
from chatops.work import Work

ISSUE_KEY = re.compile(r"[A-Z][A-Z0-9_]{1,9}-[1-9][0-9]{0,8}")


class TrackerMissing(NotFound):
    """The desk has no tracker connected."""

    def __init__(self) -> None:
        super().__init__("Jira is not set up for this desk, so tickets cannot be linked to issues.")


def tracker_of(desk: Desk) -> str:
    """The tracker the desk is connected to, or the refusal that says there is none."""
    if desk.tracker is None:
        raise TrackerMissing()
    return desk.tracker


def send_to_tracker(work: Work, command: SendToTracker, desk: Desk) -> TicketView:
    """Have an issue created for the ticket, as the project and issue type chosen on its card."""
    tracker = tracker_of(desk)
    ticket = Ticket.for_command(work, desk, command)
    rules = desk.config.jira
    kind = rules.kind(command.choice) if rules is not None and command.choice else None
    if kind is None:
        raise InvalidInput("Pick one of the project and issue types the card offers.")
    _unlinked(work, ticket, tracker)
    push(work, desk, ticket.id, kind, product=rules is not None and rules.shows_product_kind(kind))
    ticket.audit(command.actor, "sent", None, kind.choice, {"project": kind.project})
    return ticket.changed(command.actor, (f"sent the ticket to {tracker.capitalize()} as {kind.choice}",))


def merge_onto(work: Work, command: MergeOnto, desk: Desk) -> TicketView:
    """Link the ticket to the issue chosen on its card."""
    return _link(work, command, desk, command.key or "")


def link_issue(work: Work, command: LinkIssue, desk: Desk) -> TicketView:
    """Link the ticket to the issue named in a command."""
    return _link(work, command, desk, command.key)


def unlink_issue(work: Work, command: UnlinkIssue, desk: Desk) -> TicketView:
    """Take the ticket off its issue; the issue stays in the tracker."""
    tracker = tracker_of(desk)
    ticket = Ticket.for_command(work, desk, command)
    link = repository.link_of(work.session, ticket.id, tracker)
    if link is None:
        raise IllegalTransition(f"Ticket #{ticket.id} is not linked to any {tracker.capitalize()} issue.")
    key = link.ref
    repository.drop_link(work.session, ticket.id, tracker)
    if key is None:
        withdraw(work.session, ticket.id, tracker, outbound.CREATE, work.now)
    ticket.audit(command.actor, "unlinked", key, None, {"issue": key})
    if key is not None:
        outbound.redraw_product(work, desk, key)
    shown = key or "the issue being created"
    return ticket.changed(command.actor, (f"unlinked the ticket from {shown}",))


def _link(work: Work, command: TicketCommand, desk: Desk, typed: str) -> TicketView:
    tracker = tracker_of(desk)
    key = typed.strip().upper()
    if not ISSUE_KEY.fullmatch(key):
        raise InvalidInput(f"“{typed.strip()}” is not an issue key; keys look like SUP-123.")
    ticket = Ticket.for_command(work, desk, command)
    waiting = repository.link_of(work.session, ticket.id, tracker)
    if waiting is not None and waiting.ref is None:
        # Its own issue is not made yet: merged now, it never will be.
        repository.drop_link(work.session, ticket.id, tracker)
        withdraw(work.session, ticket.id, tracker, outbound.CREATE, work.now)
    _unlinked(work, ticket, tracker, key)
    issue = repository.tracked(work.session, tracker, key, lock=True)
    others = repository.requesters_on(work.session, tracker, key)
    repository.add_link(work.session, ticket.id, tracker, repository.project_of(key), key, work.now)
    if issue is None:
        # Not known yet: the tracker is asked whether it exists, and where it stands.
        issue = repository.track(work.session, tracker, key, work.now)
        work.send(
            tracker,
            outbound.FETCH,
            ticket_id=ticket.id,
            payload={"key": key, "actor": command.actor, "place": _place(command)},
        )
    elif issue.url:
        repository.set_urls(work.session, tracker, key, issue.url)
    outbound.comment(work, desk, ticket.id, key, requester_comment(desk, ticket, merged=bool(others)))
    rules = desk.config.jira
    if issue.product or (rules is not None and rules.shows_product(ticket.category)):
        outbound.show_product(work, desk, key)
    ticket.audit(command.actor, "linked", None, key, {"issue": key})
    requesters = len({row.requester for row in others} | {ticket.requester})
    said: Rich = (
        (f"merged the ticket onto {key}, which {requesters} requesters are now on",)
        if others
        else (f"linked the ticket to {key}",)
    )
    return ticket.changed(command.actor, said)


def requester_comment(desk: Desk, ticket: Ticket, *, merged: bool) -> str:
    """What the issue is told when a ticket is linked to it: who asked, their tier, and what they wrote."""
    who = desk.directory.name(ticket.requester)
    tier = "a VIP customer" if desk.roles.is_vip(ticket.requester) else "a customer"
    opening = "Another requester" if merged else "A requester"
    return f"{opening}: {who} ({tier}) asked for this in support ticket #{ticket.id}: “{ticket.title}”"


def _unlinked(work: Work, ticket: Ticket, tracker: str, key: str | None = None) -> None:
    link = repository.link_of(work.session, ticket.id, tracker)
    if link is None:
        return
    if key is not None and link.ref == key:
        raise IllegalTransition(f"Ticket #{ticket.id} is already linked to {key}.")
    raise IllegalTransition(
        f"Ticket #{ticket.id} is already linked to {link.ref or 'an issue being created'}; "
        "unlink it first with ",
        Code(f"unlink {ticket.id}"),
        ".",
    )


def _place(command: TicketCommand) -> dict[str, str] | None:
    place = command.place
    return {"platform": place.platform, "address": place.address} if place is not None else None
