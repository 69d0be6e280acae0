"""Talk in a card's thread: internal among agents by default, so that a forgotten prefix never leaks a
note; a message starting with the reply prefix is a public reply, relayed to the requester under the
agent's name, and the first one answers the ticket's first-response clock."""

from __future__ import annotations

from chatops.conversation import repository as conversation
from chatops.conversation.commands import SendCanned, ThreadMessage
from chatops.desk import Desk
from chatops.errors import InvalidInput, Overloaded
from chatops.messaging.rich import Code, Rich
from chatops.tickets.card import clip
from chatops.tickets.clocking import reclock, running_of
from chatops.tickets.handlers import answered, changed, current
from chatops.tickets.links import view_of
from chatops.tickets.model import TicketView
from chatops.tickets.outbound import tell_person
from chatops.tickets.repository import TicketRecord as Ticket
from chatops.work import Work

# Where a message the desk itself sent on an agent's behalf (a canned reply) is kept.
DESK = "desk"


def thread_message(work: Work, command: ThreadMessage, desk: Desk) -> TicketView | None:
    """Keep what was said under a card; relay it to the requester if it is a public reply. None: the
    thread is not a card's."""
    ticket = conversation.ticket_of_card(work.session, command.platform, command.place, command.card)
    if ticket is None:
        if command.under_own:
            # The bot's own message, not known as a card: one just posted, whose post is still being
            # recorded. Nothing is kept now; the platform delivers the reply again shortly.
            raise Overloaded()
        return None
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
        return view_of(work.session, ticket, desk.tracker)
    reclock(ticket, desk, work.now, running_of(ticket))
    return _relay(
        work, desk, ticket, command.author, body, (f"replied to the customer: “{clip(body, 200)}”",)
    )


def send_canned(work: Work, command: SendCanned, desk: Desk) -> TicketView:
    """Send the requester a canned reply, filled in for this ticket, the same way as a typed one."""
    ticket = current(work, command, desk)
    canned = desk.config.canned(command.name) if command.name else None
    if canned is None:
        raise InvalidInput("Pick one of the canned replies the card offers.")
    body = canned.text.format(
        requester=desk.directory.name(ticket.requester),
        ticket=f"#{ticket.id}",
        title=ticket.title,
        agent=desk.directory.name(command.actor),
    )
    conversation.add(
        work.session,
        ticket.id,
        at=work.now,
        author=command.actor,
        kind=conversation.PUBLIC,
        platform=DESK,
        place=f"ticket:{ticket.id}",
        # A card version is clicked once: the change it makes draws the next.
        ref=f"canned:{command.version}",
        text=body,
    )
    said: Rich = (f"sent the canned reply “{canned.name}” to the customer: “{clip(body, 200)}”",)
    return _relay(work, desk, ticket, command.actor, body, said)


def _relay(work: Work, desk: Desk, ticket: Ticket, author: str, body: str, said: Rich) -> TicketView:
    """Bring a public reply to the requester under the agent's name, and answer the ticket's clock."""
    agent = desk.directory.name(author)
    relayed: Rich = (
        f"{agent}, of the support team, about your ticket #{ticket.id} “{clip(ticket.title, 60)}”:\n",
        body,
    )
    tell_person(work, desk, ticket.requester, relayed, prefer=ticket.platform, ticket_id=ticket.id)
    answered(work, ticket, author, desk)
    return changed(work, ticket, author, desk, said)
