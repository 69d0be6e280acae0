"""Following the tracker back: an issue's new status moves its tickets (and, once it ships, every requester
hears of it, once), a comment marked for the customer reaches them, and the periodic look for what the
webhooks missed. Whatever came before (a redelivery, an echo of the desk's own change) changes nothing."""

from __future__ import annotations

from math import ceil

import structlog

from chatops.desk import Desk
from chatops.messaging.rich import Link, Rich
from chatops.people.identity import system
from chatops.tickets.card import clip
from chatops.tickets.clocking import reclock, running_of
from chatops.tickets.handlers import answered, changed, record
from chatops.tickets.outbound import note, tell_person, tell_requester
from chatops.tickets.repository import TicketRecord as Ticket
from chatops.tickets.workflow import DONE, Status
from chatops.tracking import outbound, repository
from chatops.tracking.commands import FollowIssue, Reconcile, TakeComment
from chatops.tracking.ports import IssueState
from chatops.work import Work

log = structlog.get_logger("chatops.tracking")

# Changes that reach the desk twice (a webhook and the reconcile) are applied once, so rounds overlap.
RECONCILE_OVERLAP_MINUTES = 5


def follow_issue(work: Work, command: FollowIssue, desk: Desk) -> int:
    """Bring the issue's tickets to where the issue stands; how many tickets moved."""
    tracker = desk.tracker
    if tracker is None:
        return 0
    if command.delivery is not None and not repository.receive(
        work.session, tracker, f"delivery:{command.delivery}", work.now
    ):
        return 0
    return follow(work, desk, command.state)


def follow(work: Work, desk: Desk, state: IssueState) -> int:
    """Apply an issue's state to its tickets if its status changed since the desk last saw it."""
    tracker = desk.tracker
    assert tracker is not None
    issue = repository.tracked(work.session, tracker, state.key, lock=True)
    if issue is None:
        return 0
    if state.changed_at is not None and issue.changed_at is not None and state.changed_at < issue.changed_at:
        # A late delivery: the desk has newer news of this issue already.
        return 0
    before = issue.status
    outbound.remember(work, desk, state)
    if before is None or before == state.status:
        # Unchanged, or the first the desk hears of it (a link still being looked up): nothing moves.
        return 0
    rules = desk.config.jira
    target = rules.status_for(state.status) if rules is not None else None
    name = tracker.capitalize()
    moved = 0
    tickets = repository.tickets_on(work.session, tracker, state.key)
    for ticket in tickets:
        reclock(ticket, desk, work.now, running_of(ticket))
        said: Rich = (
            f"{name} issue ",
            *_key(state),
            f" moved to {state.status}",
        )
        if target is not None and ticket.status != target:
            said += (f"; the ticket is now {Status(target).label.lower()}",)
            _move(work, desk, ticket, Status(target), state)
            moved += 1
        changed(work, ticket, system(tracker), desk, said)
    if target == Status.RESOLVED.value and issue.shipped_at is None and tickets:
        issue.shipped_at = work.now
        _close_the_loop(work, desk, tickets, state)
    outbound.redraw_product(work, desk, state.key)
    log.info("issue_followed", issue=state.key, status=state.status, tickets=len(tickets), moved=moved)
    return moved


def _move(work: Work, desk: Desk, ticket: Ticket, target: Status, state: IssueState) -> None:
    actor = system(desk.tracker or "tracker")
    record(
        work,
        ticket,
        actor,
        "followed",
        ticket.status,
        target.value,
        {"issue": state.key, "status": state.status},
    )
    ticket.status = target.value
    if target in DONE:
        ticket.resolved_at = ticket.resolved_at or work.now
        answered(work, ticket, actor, desk)
    else:
        ticket.resolved_at = None
    if target is Status.CLOSED:
        reason = state.resolution or state.status
        tell_requester(work, desk, ticket, (f"was closed: {reason} ({state.key}).",))


def _close_the_loop(work: Work, desk: Desk, tickets: list[Ticket], state: IssueState) -> None:
    """Tell every requester of the issue, once each, on their own platform, that it shipped."""
    told: set[str] = set()
    for ticket in tickets:
        person = desk.directory.canonical(ticket.requester)
        if person in told:
            continue
        told.add(person)
        text: Rich = (
            f"Good news: “{clip(ticket.title, 80)}”, which you asked for in ticket #{ticket.id}, "
            "has shipped (",
            *_key(state),
            ").",
        )
        tell_person(work, desk, ticket.requester, text, prefer=ticket.platform, ticket_id=ticket.id)
    log.info("issue_shipped", issue=state.key, requesters=len(told))


def take_comment(work: Work, command: TakeComment, desk: Desk) -> int:
    """Bring a comment marked for the customer to its tickets' threads and requesters; how many tickets."""
    tracker, rules = desk.tracker, desk.config.jira
    if tracker is None:
        return 0
    receipts = [f"comment:{command.comment.id}"]
    if command.delivery is not None:
        receipts.append(f"delivery:{command.delivery}")
    # Both are taken in: the desk's own comment was received when it was written, so its echo stops here.
    fresh = [repository.receive(work.session, tracker, key, work.now) for key in receipts]
    if not all(fresh):
        return 0
    prefix = rules.public_comment_prefix if rules is not None else None
    body = command.comment.body.lstrip()
    if prefix is None or not body.startswith(prefix):
        return 0
    said = body[len(prefix) :].strip()
    if not said:
        return 0
    tickets = repository.tickets_on(work.session, tracker, command.key)
    name = tracker.capitalize()
    for ticket in tickets:
        note(
            work,
            desk,
            ticket.id,
            ticket.team,
            (f"From {name} ({command.key}), {command.comment.author}: {said}",),
        )
        tell_requester(
            work, desk, ticket, (f"has news from the team working on it ({command.key}):\n{said}",)
        )
    return len(tickets)


def reconcile(work: Work, command: Reconcile, desk: Desk) -> bool:
    """Queue this round's look at what changed in the tracker, if this replica takes the round."""
    tracker, rules = desk.tracker, desk.config.jira
    if tracker is None:
        return False
    every = (rules.reconcile_minutes if rules is not None else 10.0) * 60
    since = repository.reconcile_turn(work.session, tracker, work.now, every)
    if since is None:
        return False
    minutes = ceil((work.now - since).total_seconds() / 60) + RECONCILE_OVERLAP_MINUTES
    work.send(tracker, outbound.RECONCILE, payload={"minutes": minutes})
    return True


def _key(state: IssueState) -> Rich:
    return (Link(state.url, state.key),) if state.url else (state.key,)
