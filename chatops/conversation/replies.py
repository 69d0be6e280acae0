"""Talk in a card's thread: internal among agents by default, so that a forgotten prefix never leaks a
note; a message starting with the reply prefix is a public reply, relayed to the requester under the
agent's name, and the first one answers the ticket's first-response clock."""

from __future__ import annotations

import hashlib

from chatops.conversation import repository as conversation
from chatops.conversation import saved
from chatops.conversation.commands import ReplyToCustomer, SendCanned, ThreadMessage
from chatops.desk import Desk
from chatops.errors import Forbidden, InvalidInput, NotFound, Overloaded, StaleCard
from chatops.messaging.outbox import message_payload
from chatops.messaging.ports import Destination, MessageRef
from chatops.rich import Code, Rich
from chatops.text import clip
from chatops.tickets.commands import Via
from chatops.tickets.model import Ticket
from chatops.tickets.outbound import in_parts, relay, tell_person
from chatops.tickets.views import TicketView
from chatops.work import Work

# Where a message the desk itself sent on an agent's behalf (a canned reply) is kept.
DESK = "desk"


def thread_message(work: Work, command: ThreadMessage, desk: Desk) -> TicketView | None:
    """Keep what was said under a card; relay it to the requester if it is a public reply. None: the
    thread is not a card's."""
    row = conversation.ticket_of_card(work.session, command.platform, command.place, command.card)
    if row is None:
        if command.under_own:
            # The bot's own message, not known as a card: one just posted, whose post is still being
            # recorded. Nothing is kept now; the platform delivers the reply again shortly.
            raise Overloaded()
        return None
    ticket = Ticket(row, work, desk)
    prefix = desk.config.reply_prefix
    said = command.text.strip()
    public = said[: len(prefix)].casefold() == prefix.casefold() and desk.roles.may_act(
        ticket.team, command.author
    )
    body = said[len(prefix) :].strip() if public else said
    if public and not body:
        raise InvalidInput(
            "Write the reply after ", Code(prefix), ", as in ", Code(f"{prefix} Try again now"), "."
        )
    fresh = conversation.add(
        work.session,
        ticket.id,
        at=work.now,
        author=command.author,
        kind=conversation.PUBLIC if public else conversation.INTERNAL,
        platform=command.platform,
        place=command.place,
        ref=command.ref,
        text=body,
    )
    if not fresh or not public:
        return ticket.view()
    return _relay(work, desk, ticket, command.author, body, fresh)


def send_canned(work: Work, command: SendCanned, desk: Desk) -> TicketView:
    """Send the requester a canned reply, filled in for this ticket, the same way as a typed one."""
    ticket = Ticket.for_command(work, desk, command)
    if not command.name:
        raise InvalidInput("Pick one of the canned replies the card offers.")
    canned = saved.canned(work.session, desk.config, command.name)
    if canned is None:
        # Removed since the card was drawn: the card is drawn again without it.
        raise StaleCard(
            f"There is no canned reply “{command.name}” any more, so nothing was sent. Pick one of the "
            "canned replies the card offers; it now shows those there are.",
            ticket_id=ticket.id,
        )
    body = canned.text.format(
        requester=desk.directory.name(ticket.requester),
        ticket=f"#{ticket.id}",
        title=ticket.title,
        agent=desk.directory.name(command.actor),
    )
    # A card version is clicked once: the change it makes draws the next.
    message = _from_the_desk(work, ticket, command.actor, f"canned:{command.version}", body)
    assert message is not None, "a card version is current once: the change it makes draws the next"
    said: Rich = (f"sent the canned reply “{canned.name}” to the customer: “{clip(body, 200)}”",)
    return _relay(work, desk, ticket, command.actor, body, message, said)


def reply_to_customer(work: Work, command: ReplyToCustomer, desk: Desk) -> TicketView:
    """Send the requester what an agent typed in the card's reply form, the same way as a typed `reply:`;
    the same words sent twice from one card are sent once."""
    ticket = Ticket.load(work, desk, command.ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket #{command.ticket_id} no longer exists.")
    if not desk.roles.may_act(ticket.team, command.actor):
        raise Forbidden(f"Only agents of {desk.config.team(ticket.team).name} can reply to its customers.")
    body = (command.text or "").strip()
    if not body:
        raise InvalidInput("Write the reply in the box, then send it.")
    typed = hashlib.sha256(f"{command.actor}\n{body}".encode()).hexdigest()[:24]
    fresh = _from_the_desk(work, ticket, command.actor, f"form:{command.version}:{typed}", body)
    if not fresh:
        return ticket.view()
    return _relay(work, desk, ticket, command.actor, body, fresh)


def _from_the_desk(work: Work, ticket: Ticket, author: str, ref: str, body: str) -> int | None:
    """Keep a public reply sent through the desk's own controls (no platform message of its own)."""
    return conversation.add(
        work.session,
        ticket.id,
        at=work.now,
        author=author,
        kind=conversation.PUBLIC,
        platform=DESK,
        place=f"ticket:{ticket.id}",
        ref=ref,
        text=body,
    )


def _relay(
    work: Work, desk: Desk, ticket: Ticket, author: str, body: str, message: int, said: Rich | None = None
) -> TicketView:
    """Bring a public reply (the ticket's `message`) to the requester under the agent's name where they
    asked (the thread of a request channel's message, else their own conversation with the bot), and
    answer the ticket's clock; the card's thread says it was sent (`said`, or the reply itself)."""
    agent = desk.directory.name(author)
    lead = f"{agent}, of the support team, about your ticket #{ticket.id} “{clip(ticket.title, 60)}”"
    origin = (
        conversation.origin_of(work.session, ticket.id, ticket.platform)
        if ticket.via == Via.CHANNEL
        else None
    )
    if origin is not None:
        # Asked in front of the channel: answered in the same thread, where the requester is looking.
        place, root = origin
        thread = Destination(place=place, thread=MessageRef(place, root))
        for part in in_parts((lead,), body):
            relay(work, ticket.platform, ticket.id, message_payload(thread, part), message)
    else:
        for part in in_parts((lead,), body):
            tell_person(
                work,
                desk,
                ticket.requester,
                part,
                prefer=ticket.platform,
                ticket_id=ticket.id,
                copy_of=message,
            )
    ticket.answered(author)
    return ticket.changed(author, said or (f"replied to the customer: “{clip(body, 200)}”",))
