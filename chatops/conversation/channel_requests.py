"""A request channel's messages: a new one is a request, opened as a ticket for the channel's team and
answered in its own thread; a reply in that thread joins the ticket, as the customer's words or, from an
agent of the team, as a public reply that the requester reads there already."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from chatops.conversation import repository as conversation
from chatops.conversation.channels import request_team
from chatops.conversation.commands import ChannelMessage
from chatops.conversation.follow_ups import resumed
from chatops.conversation.noise import not_a_request
from chatops.desk import Desk
from chatops.messaging.outbox import MESSAGE, message_payload, send_words
from chatops.messaging.ports import Destination, MessageRef
from chatops.people import repository as people
from chatops.rich import Rich
from chatops.text import clip
from chatops.tickets.commands import OpenTicket, Via
from chatops.tickets.intake import Opened, confirmation, open_ticket
from chatops.tickets.model import Ticket
from chatops.tickets.outbound import in_parts, note
from chatops.tickets.views import TicketView
from chatops.tickets.workflow import Status
from chatops.work import Work

log = structlog.get_logger("chatops.conversation")


@dataclass(frozen=True)
class Skipped:
    """A new message in a request channel that is not a request, and why."""

    reason: str


def channel_message(work: Work, command: ChannelMessage, desk: Desk) -> Opened | Skipped | TicketView | None:
    """Open a ticket from a new message in a request channel, or join a reply in its thread to its ticket.
    None: the channel is not a request channel, or the thread is not a ticket's."""
    team = request_team(work.session, desk, command.platform, command.place)
    if team is None:
        return None
    if command.thread is not None:
        return _in_thread(work, command, command.thread, desk)
    reason = not_a_request(command.text, desk.config.noise)
    if reason is not None:
        log.info(
            "request_skipped",
            reason=reason,
            platform=command.platform,
            place=command.place,
            message=command.ref,
        )
        return Skipped(reason)
    earlier = conversation.ticket_of_origin(work.session, command.platform, command.place, command.ref)
    if earlier is not None:
        # Delivered again after its request id was forgotten, or made a ticket another way first (an emoji).
        view = TicketView.of(earlier)
        return Opened(view, False, confirmation(view, desk, command.command))
    opened = open_ticket(
        work,
        OpenTicket(
            text=command.text,
            requester=command.author,
            requester_name=command.author_name,
            via=Via.CHANNEL,
            platform=command.platform,
            workspace=command.workspace,
            origin_place=command.place,
            origin_ref=command.ref,
            link_origin=True,
            team=team,
            # The message, not its delivery: a retry, a second delivery or an emoji on it opens nothing new.
            request_id=f"message:{command.place}:{command.ref}",
            command=command.command,
        ),
        desk,
    )
    if opened.new:
        thread = Destination(place=command.place, thread=MessageRef(command.place, command.ref))
        answer = _answer(opened.ticket, desk, command.command)
        send_words(
            work, command.platform, MESSAGE, message_payload(thread, answer), ticket_id=opened.ticket.id
        )
    return opened


def _in_thread(work: Work, command: ChannelMessage, root: str, desk: Desk) -> TicketView | None:
    """A reply under a request: the customer's words, or an agent's public reply, kept once."""
    row = conversation.ticket_of_origin(work.session, command.platform, command.place, root)
    said = command.text.strip()
    if row is None or not said:
        return None
    ticket = Ticket(row, work, desk)
    agent = desk.roles.may_act(ticket.team, command.author)
    fresh = conversation.add(
        work.session,
        ticket.id,
        at=work.now,
        author=command.author,
        kind=conversation.PUBLIC if agent else conversation.CUSTOMER,
        platform=command.platform,
        place=command.place,
        ref=command.ref,
        text=said,
    )
    if not fresh:
        return ticket.view()
    if agent:
        # Written where the requester asked, so it has reached them: it is not relayed again.
        ticket.answered(command.author)
        replied: Rich = (f"replied to the customer in the request thread: “{clip(said, 200)}”",)
        return ticket.changed(command.author, replied)
    name = _name(desk, command)
    if command.author_name:
        people.met(work, desk.directory, desk.known, [command.author], {command.author: command.author_name})
    for part in in_parts((f"From the customer, {name}",), said):
        note(work, desk, ticket.id, ticket.team, part, copy_of=fresh)
    if ticket.state is Status.WAITING_ON_CUSTOMER:
        return resumed(ticket, command.author, name)
    ticket.updated_at = work.now
    return ticket.view()


def _name(desk: Desk, command: ChannelMessage) -> str:
    """What to call the author: as the rules name them, or as their platform does."""
    if desk.directory.knows_name(command.author) or not command.author_name:
        return desk.directory.name(command.author)
    return command.author_name


def _answer(view: TicketView, desk: Desk, command: str | None) -> Rich:
    """What the bot answers in the request's thread: the ticket's number and where it stands."""
    also = f" It is {view.status.label.lower()}; replies in this thread go to the team."
    return confirmation(view, desk, command, also=(also,))
