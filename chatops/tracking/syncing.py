"""Following the tracker back: an issue's new status moves its tickets (and, once it ships, every requester
hears of it, once), a comment marked for the customer reaches them, and the periodic look for what the
webhooks missed. Whatever came before (a redelivery, an echo of the desk's own change) changes nothing."""

from __future__ import annotations

from math import ceil

import structlog

from chatops.desk import Desk
from chatops.people.identity import system
from chatops.rich import Link, Rich
from chatops.text import clip
from chatops.tickets.model import Ticket
from chatops.tickets.outbound import note, tell_person, tell_requester
from chatops.tickets.workflow import DONE, OPEN, Action, Status, path
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
    mapped = rules.status_for(state.status) if rules is not None else None
    target = Status(mapped) if mapped is not None else None
    actor = system(tracker)
    rows = repository.tickets_on(work.session, tracker, state.key)
    # Every requester hears once that what they asked for shipped, on their own platform.
    shipping = target is Status.RESOLVED and issue.shipped_at is None and bool(rows)
    told: set[str] = set()
    moved = 0
    for ticket in (Ticket(row, work, desk) for row in rows):
        person = desk.directory.canonical(ticket.requester)
        news = _shipped(ticket, state) if shipping and person not in told else None
        told |= {person} if news else set()
        said: Rich = (f"{tracker.capitalize()} issue ", *_key(state), f" moved to {state.status}")
        if target is not None and ticket.state is not target:
            went, news = _follow(work, desk, ticket, target, state, news)
            said += went
            moved += ticket.state is target
        if news is not None:
            tell_person(work, desk, ticket.requester, news, prefer=ticket.platform, ticket_id=ticket.id)
        ticket.changed(actor, said)
    if shipping:
        issue.shipped_at = work.now
        log.info("issue_shipped", issue=state.key, requesters=len(told))
    outbound.redraw_product(work, desk, state.key)
    log.info("issue_followed", issue=state.key, status=state.status, tickets=len(rows), moved=moved)
    return moved


def _follow(
    work: Work, desk: Desk, ticket: Ticket, target: Status, state: IssueState, news: Rich | None
) -> tuple[Rich, Rich | None]:
    """Take the ticket towards where its issue's status maps, by the workflow's own way there: what its
    thread says of it, and the news still to tell its requester (None: told with the move)."""
    actor = system(desk.tracker or "tracker")
    before = ticket.state
    steps = path(before, target)
    if steps is None and before in DONE and target in OPEN:
        # As far as the workflow goes: open again, waiting for someone to take it further.
        steps = [Action.REOPEN]
    if steps is None:
        stays, becomes = before.label.lower(), target.label.lower()
        return (f"; the ticket stays {stays}, since it cannot become {becomes} from there",), news
    moved_to = f"{state.key} moved to {state.status}"
    for action in steps:
        if action is Action.RESOLVE:
            ticket.resolve(actor, news)
            news = None
        elif action is Action.CLOSE:
            ticket.close(actor, survey=False)
            ticket_closed: Rich = (f"was closed: {state.resolution or state.status} ({state.key}).",)
            tell_requester(work, desk, ticket, ticket_closed)
        elif action is Action.REOPEN:
            ticket.reopen(actor, why=(f"its issue {moved_to}",))
        else:
            ticket.move(actor, action)
    detail = {"issue": state.key, "status": state.status}
    ticket.audit(actor, "followed", before.value, ticket.state.value, detail)
    return (f"; the ticket is now {ticket.state.label.lower()}",), news


def _shipped(ticket: Ticket, state: IssueState) -> Rich:
    """What a requester hears when what they asked for shipped."""
    return (
        f"Good news: “{clip(ticket.title, 80)}”, which you asked for in ticket #{ticket.id}, has shipped: ",
        *_key(state),
        ".",
    )


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
