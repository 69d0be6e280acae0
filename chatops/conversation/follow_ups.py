"""A requester's next words join their open ticket: kept as the ticket's conversation, brought to its
card's thread, and taking it off hold if it waited for them; `new <text>` opens another ticket."""

from __future__ import annotations

from dataclasses import dataclass, replace

from chatops.conversation import repository as conversation
from chatops.conversation.commands import CustomerWrote
from chatops.desk import Desk
from chatops.messaging.rich import Code, Rich
from chatops.people.identity import system
from chatops.tickets import repository as tickets
from chatops.tickets.card import clip
from chatops.tickets.clocking import reclock, running_of
from chatops.tickets.commands import OpenTicket
from chatops.tickets.handlers import changed, record
from chatops.tickets.intake import Opened, open_ticket
from chatops.tickets.links import view_of
from chatops.tickets.model import TicketView
from chatops.tickets.outbound import note, tell_person
from chatops.tickets.repository import TicketRecord as Ticket
from chatops.tickets.workflow import OPEN, Action, Status, next_status
from chatops.work import Work

# The word that opens a separate ticket when the requester already has one open here.
NEW = "new"
CONVERSATION = system("conversation")


@dataclass(frozen=True)
class Joined:
    """A requester's message joined the ticket they have open in that conversation."""

    ticket: TicketView
    # Never a new ticket; said for the log, as an opened ticket says it.
    new: bool
    confirmation: Rich


def customer_wrote(work: Work, command: CustomerWrote, desk: Desk) -> Opened | Joined:
    """Join the message to the requester's open ticket from this conversation, or open a ticket."""
    request = command.request
    word, _, rest = request.text.strip().partition(" ")
    if word.lower() == NEW:
        return open_ticket(work, replace(request, text=rest.strip()), desk)
    if request.origin_place is None or request.origin_ref is None or _opened_it(work, request):
        # A redelivery of the message that opened a ticket is answered as the first delivery was.
        return open_ticket(work, request, desk)
    statuses = [status.value for status in OPEN]
    waiting = conversation.open_from(
        work.session, request.requester, request.platform, request.origin_place, statuses
    )
    if not waiting:
        return open_ticket(work, request, desk)
    ticket, others = waiting[0], waiting[1:]
    said = request.text.strip()
    told = confirmation(ticket, others, request.command)
    fresh = conversation.add(
        work.session,
        ticket.id,
        at=work.now,
        author=request.requester,
        kind=conversation.CUSTOMER,
        platform=request.platform,
        place=request.origin_place,
        ref=request.origin_ref,
        text=said,
    )
    if not fresh:
        # The same message delivered again: taken in already.
        return Joined(view_of(work.session, ticket, desk.tracker), False, told)
    name = desk.directory.name(request.requester)
    note(work, desk, ticket.id, ticket.team, (f"From the customer, {name}:\n", said))
    tell_person(work, desk, request.requester, told, prefer=request.platform, ticket_id=ticket.id)
    if ticket.status == Status.WAITING_ON_CUSTOMER.value:
        return Joined(_resumed(work, ticket, request.requester, name, desk), False, told)
    ticket.updated_at = work.now
    return Joined(view_of(work.session, ticket, desk.tracker), False, told)


def _opened_it(work: Work, request: OpenTicket) -> bool:
    """Whether this very request (by the platform's id of it) opened a ticket already."""
    if request.request_id is None:
        return False
    return tickets.opened_by(work.session, f"{request.platform}:{request.request_id}") is not None


def _resumed(work: Work, ticket: Ticket, requester: str, name: str, desk: Desk) -> TicketView:
    """The requester answered: the ticket comes off hold, and its clocks go on from where they stood."""
    reclock(ticket, desk, work.now, running_of(ticket))
    before = ticket.status
    ticket.status = next_status(Status(before), Action.RESUME).value
    record(work, ticket, requester, Action.RESUME.value, before, ticket.status, None)
    return changed(work, ticket, CONVERSATION, desk, (f"{name} wrote back, so the ticket is off hold",))


def confirmation(ticket: Ticket, others: list[Ticket], command: str | None) -> Rich:
    """What the requester reads once their message joined a ticket."""
    text: Rich = (
        f"Added to your ticket #{ticket.id} “{clip(ticket.title, 80)}”; the team sees it. "
        "To open a separate ticket instead, start your message with ",
        Code(f"{NEW} "),
        ".",
    )
    if others:
        text += (f" You have other open tickets too: {', '.join(f'#{t.id}' for t in others)}.",)
    if command:
        text += (" Check on it any time with ", Code(f"{command} status {ticket.id}"), ".")
    return text
