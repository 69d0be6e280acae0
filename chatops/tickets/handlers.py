"""The handlers of the changes made from a ticket's card, one function per command.

Each checks who is asking and that the card they clicked is current, moves the ticket, writes its
history, resets its clocks, and queues the card edits, the thread note and any word to the requester.
"""

from __future__ import annotations

from chatops.closing.timers import reopened, resolved, waiting
from chatops.desk import Desk
from chatops.errors import Forbidden, IllegalTransition, InvalidInput, NotFound, StaleCard
from chatops.messaging.rich import Mention, Moment, Rich
from chatops.people import repository as people
from chatops.people.identity import is_system
from chatops.sla.clocks import STOPPED
from chatops.tickets import repository
from chatops.tickets.clocking import reclock, running_of
from chatops.tickets.commands import (
    Asked,
    Assign,
    CardCommand,
    ChangeCategory,
    ChangePriority,
    Claim,
    Escalate,
    RedrawCards,
    Reopen,
    Resolve,
    Resume,
    WaitOnCustomer,
)
from chatops.tickets.links import view_of
from chatops.tickets.model import TicketView
from chatops.tickets.outbound import note, tell_requester, update_cards
from chatops.tickets.repository import TicketRecord as Ticket
from chatops.tickets.workflow import MAX_TIER, Action, Status, next_status
from chatops.tracking.pushing import push_category
from chatops.work import Work


def claim(work: Work, command: Claim, desk: Desk) -> TicketView:
    """Assign the ticket to whoever clicked."""
    return _assign(work, command, desk, command.actor, Action.CLAIM)


def assign(work: Work, command: Assign, desk: Desk) -> TicketView:
    """Assign the ticket to the person chosen."""
    if not command.assignee:
        raise InvalidInput("Pick someone to assign the ticket to.")
    return _assign(work, command, desk, command.assignee, Action.ASSIGN)


def _assign(work: Work, command: CardCommand, desk: Desk, assignee: str, action: Action) -> TicketView:
    ticket = current(work, command, desk)
    team = desk.config.team(ticket.team)
    if not desk.roles.may_act(ticket.team, assignee):
        raise Forbidden(f"Tickets of {team.name} can only go to its agents and leads.")
    assignee = desk.directory.canonical(assignee)
    if desk.roles.same(assignee, ticket.assignee):
        raise IllegalTransition("The ticket is already assigned to that person.")
    move(work, ticket, command.actor, action)
    record(work, ticket, command.actor, "assigned", ticket.assignee, assignee, {"assignee": assignee})
    ticket.assignee = assignee
    people.met(work, desk.directory, desk.known, [assignee])
    said: Rich = (
        ("assigned the ticket to themselves",)
        if desk.roles.same(assignee, command.actor)
        else ("assigned the ticket to ", Mention(assignee))
    )
    answered(work, ticket, command.actor, desk)
    tell_requester(work, desk, ticket, ("is now handled by ", Mention(assignee), "."))
    return changed(work, ticket, command.actor, desk, said)


def escalate(work: Work, command: Escalate, desk: Desk) -> TicketView:
    """Move the ticket up a tier."""
    ticket = current(work, command, desk)
    if ticket.tier >= MAX_TIER:
        raise IllegalTransition(f"Ticket #{ticket.id} is already at T{MAX_TIER}, the top tier.")
    move(work, ticket, command.actor, Action.ESCALATE)
    record(
        work,
        ticket,
        command.actor,
        "escalated",
        f"T{ticket.tier}",
        f"T{ticket.tier + 1}",
        {"tier": ticket.tier + 1},
    )
    said = (f"escalated the ticket from T{ticket.tier} to T{ticket.tier + 1}",)
    ticket.tier += 1
    return changed(work, ticket, command.actor, desk, said)


def change_priority(work: Work, command: ChangePriority, desk: Desk) -> TicketView:
    """Give the ticket another priority; its due times and next check follow."""
    ticket = current(work, command, desk)
    chosen = command.priority
    if chosen not in {p.id for p in desk.config.priorities}:
        raise InvalidInput(f"There is no priority {chosen!r}.")
    if chosen == ticket.priority:
        raise IllegalTransition(f"The priority is already {chosen}.")
    move(work, ticket, command.actor, Action.PRIORITY)
    record(work, ticket, command.actor, "priority", ticket.priority, chosen, {"priority": chosen})
    said = (f"changed the priority from {ticket.priority} to {chosen}",)
    ticket.priority = chosen
    return changed(work, ticket, command.actor, desk, said)


def wait_on_customer(work: Work, command: WaitOnCustomer, desk: Desk) -> TicketView:
    """Put the ticket on hold for the customer; its clocks pause where they stand."""
    ticket = current(work, command, desk)
    move(work, ticket, command.actor, Action.WAIT)
    waiting(work, desk, ticket)
    return changed(work, ticket, command.actor, desk, ("put the ticket on hold for the customer",))


def resume(work: Work, command: Resume, desk: Desk) -> TicketView:
    """Take the ticket off hold; its clocks go on from where they stood."""
    ticket = current(work, command, desk)
    move(work, ticket, command.actor, Action.RESUME)
    return changed(work, ticket, command.actor, desk, ("took the ticket off hold",))


def resolve(work: Work, command: Resolve, desk: Desk) -> TicketView:
    """Resolve the ticket and tell its requester."""
    ticket = current(work, command, desk)
    move(work, ticket, command.actor, Action.RESOLVE)
    ticket.resolved_at = work.now
    answered(work, ticket, command.actor, desk)
    tell_requester(work, desk, ticket, ("has been resolved by ", Mention(command.actor), "."))
    resolved(work, desk, ticket, command.actor)
    return changed(work, ticket, command.actor, desk, ("resolved the ticket",))


def reopen(work: Work, command: Reopen, desk: Desk) -> TicketView:
    """Open the ticket again; its clocks run again."""
    ticket = current(work, command, desk)
    move(work, ticket, command.actor, Action.REOPEN)
    ticket.resolved_at = None
    reopened(ticket)
    return changed(work, ticket, command.actor, desk, ("reopened the ticket",))


def change_category(work: Work, command: ChangeCategory, desk: Desk) -> TicketView:
    """Give the ticket another category; one that goes to the tracker sends the ticket there."""
    ticket = current(work, command, desk)
    chosen = command.category
    if not chosen or desk.config.category(chosen) is None:
        raise InvalidInput(f"There is no category {chosen!r}.")
    if chosen == ticket.category:
        raise IllegalTransition(f"The category is already {chosen}.")
    record(work, ticket, command.actor, "category", ticket.category, chosen, {"category": chosen})
    said: Rich = (f"changed the category from {ticket.category or 'uncategorised'} to {chosen}",)
    ticket.category = chosen
    kind = push_category(work, desk, ticket.id, chosen)
    if kind is not None:
        said += (f", which sends it to {desk.tracker.capitalize() if desk.tracker else ''} as {kind.choice}",)
    return changed(work, ticket, command.actor, desk, said)


def redraw_cards(work: Work, command: RedrawCards, desk: Desk) -> None:
    """Queue a redraw of the ticket's cards."""
    ticket = repository.get(work.session, command.ticket_id)
    if ticket is not None:
        update_cards(work, desk, ticket.id, ticket.team)


def current(work: Work, command: CardCommand | Asked, desk: Desk) -> Ticket:
    """The ticket, locked, if the person may work it and (for a click) the card they clicked shows it as it
    stands; its clocks are brought up to now, as they ran before the change."""
    ticket = repository.locked(work.session, command.ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket #{command.ticket_id} no longer exists.")
    if not desk.roles.may_act(ticket.team, command.actor):
        raise Forbidden(f"Only agents of {desk.config.team(ticket.team).name} can do that.")
    if isinstance(command, CardCommand) and command.version != ticket.version:
        raise StaleCard(
            f"Ticket #{ticket.id} changed since this card was drawn, so nothing was done; "
            "the card now shows where it stands. Try again if you still need to.",
            ticket_id=ticket.id,
        )
    reclock(ticket, desk, work.now, running_of(ticket))
    return ticket


def answered(work: Work, ticket: Ticket, actor: str, desk: Desk) -> None:
    """A change that reaches the requester from someone else is their first response, if none came yet."""
    if ticket.first_responded_at is None and not desk.roles.same(actor, ticket.requester):
        ticket.first_responded_at = work.now


def move(work: Work, ticket: Ticket, actor: str, action: Action) -> None:
    """Move the ticket as the action says (IllegalTransition if it cannot), and record the move."""
    before = Status(ticket.status)
    after = next_status(before, action)
    if after is not before:
        ticket.status = after.value
        record(work, ticket, actor, action.value, before.value, after.value, None)


def record(
    work: Work,
    ticket: Ticket,
    actor: str,
    action: str,
    before: str | None,
    after: str | None,
    detail: dict | None,
) -> None:
    repository.insert_events(
        work.session, [repository.event(ticket.id, work.now, actor, action, before, after, detail)]
    )


def changed(work: Work, ticket: Ticket, actor: str, desk: Desk, said: Rich) -> TicketView:
    """What every change ends with: a new version, fresh clocks, redrawn cards and a line in their threads
    (a person's change names them first; the desk's own says only what happened)."""
    now = work.now
    # The clocks ran up to now already (see current): nothing more runs in between, only the new state.
    reclock(ticket, desk, now, STOPPED)
    ticket.version += 1
    ticket.updated_at = now
    update_cards(work, desk, ticket.id, ticket.team)
    who: Rich = () if is_system(actor) else (Mention(actor), " ")
    note(work, desk, ticket.id, ticket.team, (*who, *said, " · ", Moment(now)))
    return view_of(work.session, ticket, desk.tracker)
