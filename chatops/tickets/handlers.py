"""The handlers of the changes agents make to a ticket, from its card or by command, one per command.

Each checks who is asking and that the card they clicked is current, then changes the ticket through its
own methods; what follows (cards, thread lines, words to people) is the reactions' to the events.
"""

from __future__ import annotations

from datetime import timedelta

from chatops.desk import Desk
from chatops.errors import Forbidden, IllegalTransition, InvalidInput
from chatops.messaging.notices import TellPrivately, tell_privately
from chatops.rich import Code, Mention, Rich
from chatops.tickets import repository
from chatops.tickets.commands import (
    Assign,
    ChangeCategory,
    ChangePriority,
    Claim,
    Escalate,
    ForgetIntakeKeys,
    MoveTicket,
    OpenTicket,
    RedrawCards,
    Reopen,
    Resolve,
    Resume,
    Start,
    SweepSla,
    TicketCommand,
    WaitOnCustomer,
)
from chatops.tickets.events import TicketChanged
from chatops.tickets.intake import open_ticket
from chatops.tickets.model import Ticket
from chatops.tickets.sweep import sweep
from chatops.tickets.views import TicketView
from chatops.tickets.workflow import Action
from chatops.work import Work

REASON_LIMIT = 1000


def claim(work: Work, command: Claim, desk: Desk) -> TicketView:
    """Assign the ticket to whoever clicked."""
    return _assign(work, command, desk, command.actor, Action.CLAIM)


def assign(work: Work, command: Assign, desk: Desk) -> TicketView:
    """Assign the ticket to the person chosen."""
    if not command.assignee:
        raise InvalidInput("Pick someone to assign the ticket to.")
    return _assign(work, command, desk, command.assignee, Action.ASSIGN)


def _assign(work: Work, command: TicketCommand, desk: Desk, assignee: str, action: Action) -> TicketView:
    ticket = Ticket.for_command(work, desk, command)
    team = desk.config.team(ticket.team)
    if not desk.roles.may_act(ticket.team, assignee):
        raise Forbidden(f"Tickets of {team.name} can only go to its agents and leads.")
    assignee = desk.directory.canonical(assignee)
    if desk.roles.same(assignee, ticket.assignee):
        raise IllegalTransition("The ticket is already assigned to that person.")
    ticket.assign(command.actor, assignee, action)
    ticket.answered(command.actor)
    said: Rich = (
        ("assigned the ticket to themselves",)
        if desk.roles.same(assignee, command.actor)
        else ("assigned the ticket to ", Mention(assignee))
    )
    return ticket.changed(command.actor, said)


def start(work: Work, command: Start, desk: Desk) -> TicketView:
    """Start work on an assigned ticket."""
    ticket = Ticket.for_command(work, desk, command)
    ticket.move(command.actor, Action.START)
    return ticket.changed(command.actor, ("started work on the ticket",))


def escalate(work: Work, command: Escalate, desk: Desk) -> TicketView:
    """Move the ticket up a tier, with the reason given."""
    ticket = Ticket.for_command(work, desk, command)
    reason = (command.reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the ticket needs the next tier, so that they can pick it up from there.")
    if len(reason) > REASON_LIMIT:
        raise InvalidInput(f"Please keep the reason within {REASON_LIMIT:,} characters.")
    before = ticket.tier
    ticket.escalate(command.actor, reason)
    return ticket.changed(
        command.actor, (f"escalated the ticket from T{before} to T{ticket.tier}: “", reason, "”")
    )


def change_priority(work: Work, command: ChangePriority, desk: Desk) -> TicketView:
    """Give the ticket another priority; its due times and next check follow."""
    ticket = Ticket.for_command(work, desk, command)
    chosen = command.priority
    if chosen not in {p.id for p in desk.config.priorities}:
        raise InvalidInput(f"There is no priority {chosen!r}.")
    if chosen == ticket.priority:
        raise IllegalTransition(f"The priority is already {chosen}.")
    before = ticket.priority
    ticket.reprioritise(command.actor, chosen)
    return ticket.changed(command.actor, (f"changed the priority from {before} to {chosen}",))


def wait_on_customer(work: Work, command: WaitOnCustomer, desk: Desk) -> TicketView:
    """Put the ticket on hold for the customer; its clocks pause where they stand."""
    ticket = Ticket.for_command(work, desk, command)
    ticket.move(command.actor, Action.WAIT)
    return ticket.changed(command.actor, ("put the ticket on hold for the customer",))


def resume(work: Work, command: Resume, desk: Desk) -> TicketView:
    """Take the ticket off hold; its clocks go on from where they stood."""
    ticket = Ticket.for_command(work, desk, command)
    ticket.move(command.actor, Action.RESUME)
    return ticket.changed(command.actor, ("took the ticket off hold",))


def resolve(work: Work, command: Resolve, desk: Desk) -> TicketView:
    """Resolve the ticket; its requester is told and asked whether that solved it."""
    ticket = Ticket.for_command(work, desk, command)
    ticket.resolve(command.actor)
    return ticket.changed(command.actor, ("resolved the ticket",))


def reopen(work: Work, command: Reopen, desk: Desk) -> TicketView:
    """Open the ticket again; its clocks run again."""
    ticket = Ticket.for_command(work, desk, command)
    ticket.reopen(command.actor)
    return ticket.changed(command.actor, ("reopened the ticket",))


def change_category(work: Work, command: ChangeCategory, desk: Desk) -> TicketView:
    """Give the ticket another category (one that belongs to another team offers to move it there)."""
    ticket = Ticket.for_command(work, desk, command)
    chosen = command.category
    category = desk.config.category(chosen) if chosen else None
    if category is None:
        raise InvalidInput(f"There is no category {chosen!r}.")
    if category.id == ticket.category:
        raise IllegalTransition(f"The category is already {category.id}.")
    before = ticket.category
    ticket.recategorise(command.actor, category.id)
    said: Rich = (f"changed the category from {before or 'uncategorised'} to {category.id}",)
    view = ticket.changed(command.actor, said)
    if category.team is not None and category.team != ticket.team:
        offer_move(work, desk, command, view.id, category.team, category.id)
    return view


def offer_move(work: Work, desk: Desk, command: TicketCommand, ticket_id: int, team: str, why: str) -> None:
    """Tell the person who changed the category whose tickets these are, and how to move this one there."""
    if command.place is None:
        return
    name = desk.config.team(team).name
    text: Rich = (
        f"{why.capitalize()} tickets belong to {name}. To hand ticket #{ticket_id} over, pick {name} in "
        "the card's Move to team… menu, or type ",
        Code(f"move {ticket_id} {team}"),
        ".",
    )
    tell_privately(work, TellPrivately(command.place, command.actor, text))


def move(work: Work, command: MoveTicket, desk: Desk) -> TicketView:
    """Hand the ticket to another team: its cards go to that team's places, and its clocks go on."""
    ticket = Ticket.for_command(work, desk, command)
    team = next((t for t in desk.config.teams if t.id == command.team), None)
    if team is None:
        raise InvalidInput(f"There is no team {command.team!r}.")
    if team.id == ticket.team:
        raise IllegalTransition(f"Ticket #{ticket.id} is already with {team.name}.")
    ticket.move_to(command.actor, team.id)
    return ticket.changed(command.actor, ("moved the ticket to ", team.name))


def redraw_cards(work: Work, command: RedrawCards, desk: Desk) -> None:
    """Draw the ticket's cards again as it stands (a click came from an old one)."""
    ticket = repository.get(work.session, command.ticket_id)
    if ticket is not None:
        work.record(TicketChanged(ticket.id, ticket.team, "", None))


def forget_intake_keys(work: Work, command: ForgetIntakeKeys, desk: Desk) -> int:
    """Drop the request ids of tickets opened longer ago than the retention; how many."""
    before = work.now - timedelta(days=desk.config.sla.retention_days)
    return repository.forget_intake_keys(work.session, before, command.limit)


COMMAND_HANDLERS = {
    OpenTicket: open_ticket,
    Claim: claim,
    Assign: assign,
    Start: start,
    Escalate: escalate,
    ChangePriority: change_priority,
    WaitOnCustomer: wait_on_customer,
    Resume: resume,
    Resolve: resolve,
    Reopen: reopen,
    ChangeCategory: change_category,
    MoveTicket: move,
    RedrawCards: redraw_cards,
    SweepSla: sweep,
    ForgetIntakeKeys: forget_intake_keys,
}
