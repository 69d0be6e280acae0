"""A requester's next words join their open ticket: kept as the ticket's conversation, brought to its
card's thread, and taking it off hold if it waited for them; `new <text>` opens another ticket."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from chatops.conversation import repository as conversation
from chatops.conversation.commands import JOIN, DirectMessage, PlaceHeld
from chatops.desk import Desk
from chatops.errors import Forbidden, IllegalTransition, TooMany
from chatops.messaging.cards import ActionRef, Button, Card
from chatops.messaging.outbox import MESSAGE, card_payload, send_words
from chatops.messaging.ports import Destination
from chatops.people.identity import system
from chatops.rich import Code, Rich
from chatops.text import clip
from chatops.tickets import repository as tickets
from chatops.tickets.commands import OpenTicket, Via
from chatops.tickets.intake import Opened, open_ticket
from chatops.tickets.model import Ticket
from chatops.tickets.outbound import in_parts, note, tell_person
from chatops.tickets.views import Answered, TicketView
from chatops.tickets.workflow import OPEN, Action, Status
from chatops.work import Work

# The word that opens a separate ticket when the requester already has one open here.
NEW = "new"
# How many of a requester's open tickets the chooser offers, besides a new one.
CHOICES = 5
# A requester writing again within this long of their last message about a ticket is not told again
# that it was added: thirty lines in a row get one answer, not thirty.
CONFIRM_QUIET = timedelta(minutes=10)
CONVERSATION = system("conversation")


@dataclass(frozen=True)
class Held:
    """A requester's message held while they choose which of their open tickets it is about."""

    open_tickets: int


@dataclass(frozen=True)
class Joined:
    """A requester's message joined the ticket they have open in that conversation."""

    ticket: TicketView
    # Never a new ticket; said for the log, as an opened ticket says it.
    new: bool
    confirmation: Rich


def direct_request(
    platform: str,
    requester: str,
    place: str,
    ref: str,
    text: str,
    *,
    request_id: str | None,
    command: str | None,
    name: str | None = None,
    workspace: str | None = None,
) -> OpenTicket:
    """A requester's message in their own conversation with the bot, as the request it may open."""
    return OpenTicket(
        text=text,
        requester=requester,
        requester_name=name,
        via=Via.DM,
        platform=platform,
        workspace=workspace,
        origin_place=place,
        origin_ref=ref,
        request_id=request_id,
        command=command,
        confirm_directly=True,
    )


def direct_message(work: Work, command: DirectMessage, desk: Desk) -> Opened | Joined | Held:
    """Join the message to the requester's open ticket, or open a ticket; with several open, hold it and
    ask the requester which one it is about. Their chat with the bot is the conversation of every ticket
    whose news reaches them there: a ticket asked for with a command, a form or a shortcut too."""
    request = command.request
    word, _, rest = request.text.strip().partition(" ")
    if word.lower() == NEW:
        return _open_or_join(work, desk, replace(request, text=rest.strip()))
    if request.origin_place is None or request.origin_ref is None or _opened_it(work, request):
        # A redelivery of the message that opened a ticket is answered as the first delivery was.
        return open_ticket(work, request, desk)
    kept = conversation.kept_in(work.session, request.platform, request.origin_place, request.origin_ref)
    if kept is not None:
        # Delivered again once it joined its ticket: taken in already.
        ticket = tickets.get(work.session, kept)
        assert ticket is not None, "a kept message's ticket is never deleted"
        return Joined(TicketView.of(ticket), False, confirmation(ticket, request.command))
    statuses = [status.value for status in OPEN]
    waiting = conversation.open_for(work.session, request.requester, request.platform, statuses)
    if not waiting:
        return _open_or_join(work, desk, request)
    if len(waiting) > 1:
        return _held(work, desk, request, waiting)
    return _join(work, desk, request, Ticket(waiting[0], work, desk))


def place_held(work: Work, command: PlaceHeld, desk: Desk) -> Answered:
    """Put a held message in the ticket its requester chose, or open a ticket from it."""
    message = conversation.held(work.session, command.version)
    if message is None:
        raise IllegalTransition("That message is in a ticket already; write again to add more.")
    if not desk.roles.same(command.actor, message.requester):
        raise Forbidden("Only the person who wrote that message can choose its ticket.")
    request = direct_request(
        message.platform,
        message.requester,
        message.place,
        message.ref,
        message.text,
        request_id=message.request_id,
        command=message.command,
    )
    conversation.release(work.session, message)
    if command.ticket_id == 0:
        opened = open_ticket(work, request, desk)
        return Answered(opened.ticket, (f"Your message opened ticket #{opened.ticket.id}.",))
    ticket = Ticket.load(work, desk, command.ticket_id)
    if ticket is None or ticket.requester != message.requester or ticket.state not in OPEN:
        raise IllegalTransition(
            f"Ticket #{command.ticket_id} is no longer open; choose another, or a new ticket."
        )
    joined = _join(work, desk, request, ticket)
    return Answered(joined.ticket, (f"Added to ticket #{ticket.id}.",))


def _open_or_join(work: Work, desk: Desk, request: OpenTicket) -> Opened | Joined:
    """Open a ticket from the message; past the requester's intake limit, it joins their latest open
    ticket instead (they are told why), so that nothing they wrote is lost."""
    try:
        return open_ticket(work, request, desk)
    except TooMany as refusal:
        statuses = [status.value for status in OPEN]
        waiting = conversation.open_for(work.session, request.requester, request.platform, statuses)
        if not waiting:
            raise
        return _join(work, desk, request, Ticket(waiting[0], work, desk), why=refusal.text)


def _join(work: Work, desk: Desk, request: OpenTicket, ticket: Ticket, *, why: Rich = ()) -> Joined:
    """Keep the message as the ticket's, bring it to the card's thread, and take the ticket off hold;
    `why`: what the requester is told first, when it was not theirs to choose."""
    assert request.origin_place is not None and request.origin_ref is not None
    said = request.text.strip()
    told: Rich = (
        (*why, " ", *confirmation(ticket, request.command)) if why else confirmation(ticket, request.command)
    )
    message = conversation.add(
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
    name = desk.directory.name(request.requester)
    for part in in_parts((f"From the customer, {name}",), said):
        note(work, desk, ticket.id, ticket.team, part, copy_of=message)
    if message is not None and not conversation.heard_since(
        work.session, ticket.id, work.now - CONFIRM_QUIET, before=message
    ):
        # The first of a run of messages is confirmed; the rest follow where the requester knows they go.
        tell_person(work, desk, request.requester, told, prefer=request.platform, ticket_id=ticket.id)
    if ticket.state is Status.WAITING_ON_CUSTOMER:
        return Joined(resumed(ticket, request.requester, name), False, told)
    ticket.updated_at = work.now
    return Joined(ticket.view(), False, told)


def _held(work: Work, desk: Desk, request: OpenTicket, waiting: list[tickets.TicketRecord]) -> Held:
    """Hold the message, and ask the requester which of their open tickets it is about."""
    assert request.origin_place is not None and request.origin_ref is not None
    said = request.text.strip()
    held_id = conversation.hold(
        work.session,
        {
            "requester": request.requester,
            "platform": request.platform,
            "place": request.origin_place,
            "ref": request.origin_ref,
            "request_id": request.request_id,
            "command": request.command,
            "text": said,
            "at": work.now,
        },
    )
    if held_id is None:
        # Delivered again while the requester chooses: asked already.
        return Held(len(waiting))
    choices = tuple(
        Button(f"#{ticket.id} {clip(ticket.title, 40)}", ActionRef(ticket.id, JOIN, held_id))
        for ticket in waiting[:CHOICES]
    )
    card = Card(
        header="Which ticket is this about?",
        summary=f"You have {len(waiting)} open tickets here: which one is this message about?",
        body=(
            f"You have {len(waiting)} open tickets here. Your message goes to the one you pick:\n",
            clip(said, 300),
        ),
        actions=(*choices, Button("A new ticket", ActionRef(0, JOIN, held_id))),
    )
    payload = card_payload(Destination(person=request.requester), card)
    send_words(work, request.platform, MESSAGE, payload, ticket_id=waiting[0].id)
    return Held(len(waiting))


def _opened_it(work: Work, request: OpenTicket) -> bool:
    """Whether this very request (by the platform's id of it) opened a ticket already."""
    if request.request_id is None:
        return False
    return tickets.opened_by(work.session, f"{request.platform}:{request.request_id}") is not None


def resumed(ticket: Ticket, requester: str, name: str) -> TicketView:
    """The requester answered: the ticket comes off hold, and its clocks go on from where they stood."""
    ticket.move(requester, Action.RESUME)
    return ticket.changed(CONVERSATION, (f"{name} wrote back, so the ticket is off hold",))


def confirmation(ticket: Ticket | tickets.TicketRecord, command: str | None) -> Rich:
    """What the requester reads once their message joined a ticket."""
    text: Rich = (
        f"Added to your ticket #{ticket.id} “{clip(ticket.title, 80)}”; the team sees it. "
        "To open a separate ticket instead, start your message with ",
        Code(f"{NEW} "),
        ".",
    )
    if command:
        text += (" Check on it any time with ", Code(f"{command} status {ticket.id}"), ".")
    return text
