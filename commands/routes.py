"""Where each kind of Inbound goes: the desk's command it stands for, and what its sender reads of it.
Every request the desk takes from chat is made here, once per way it comes in."""

from __future__ import annotations

from dataclasses import fields, replace

import structlog

from chatops.bus import MessageBus
from chatops.composition.cards import MenuChoices
from chatops.composition.verbs import command_for
from chatops.conversation.commands import ChannelMessage, DirectMessage, RequestChannelOf, ThreadMessage
from chatops.conversation.follow_ups import direct_request
from chatops.errors import DeskError
from chatops.messaging.ports import Place
from chatops.rich import Rich
from chatops.tickets.commands import OpenTicket, Via
from chatops.tickets.views import Answered
from commands.answers import ANSWERS
from commands.help import help_text
from commands.inbound import (
    Direct,
    Inbound,
    Posted,
    Pressed,
    Reacted,
    Searched,
    Shortcut,
    Submitted,
    Typed,
)
from commands.parser import Caller, Help, OpenForm, is_command, parse
from commands.pipeline import Pipeline, Reply, Route, message_key

log = structlog.get_logger("chatops.inbound")


async def typed(pipeline: Pipeline, inbound: Typed, person: str) -> Reply:
    """The desk's command: parsed into the desk's own command or query, run, and answered in words."""
    bus = pipeline.bus
    caller = Caller(
        person=person,
        platform=inbound.platform,
        place=inbound.place or "",
        command=inbound.command,
        now=bus.clock.now(),
        tell=pipeline.where(inbound),
        workspace=inbound.workspace,
        request_id=inbound.request_id,
        name=inbound.name,
    )
    try:
        parsed = parse(inbound.text, caller)
    except DeskError as refusal:
        return await pipeline.say(inbound, person, refusal.text, refused=type(refusal))
    if isinstance(parsed, OpenForm) and inbound.form:
        return Reply(form=True)
    if isinstance(parsed, Help | OpenForm):
        return await pipeline.say(inbound, person, _help(pipeline, inbound))
    answer = await bus.run(parsed)
    if not answer.done:
        return await pipeline.answered(inbound, person, answer)
    said = ANSWERS[type(parsed)](parsed, answer.value, bus.desk, inbound.command)
    return await pipeline.say(inbound, person, said)


async def pressed(pipeline: Pipeline, inbound: Pressed, person: str) -> Reply:
    """A card's control: the command its verb stands for, with the person or option chosen."""
    choice = inbound.choice
    if inbound.chose_user and choice:
        choice = pipeline.bus.desk.directory.person(inbound.platform, choice)
    try:
        command = command_for(inbound.ref, person, pipeline.where(inbound), choice)
    except DeskError as refusal:
        return await pipeline.say(inbound, person, refusal.text, refused=type(refusal))
    answer = await pipeline.bus.handle(command)
    if not answer.done:
        return await pipeline.answered(inbound, person, answer)
    if isinstance(answer.value, Answered):
        # A requester's answer: the question gives way to what became of it, never to the ticket's card.
        return Reply(settled=answer.value.said)
    return Reply(ticket=getattr(answer.value, "id", None))


async def searched(pipeline: Pipeline, inbound: Searched, _person: str) -> Reply:
    """A card's menu asking for its options as someone types: those of the card as it stands now (none for
    a ticket that is gone, or a menu its card no longer shows)."""
    bus = pipeline.bus
    answer = await bus.ask(MenuChoices(inbound.ref, inbound.typed, bus.clock.now()))
    return Reply(choices=answer.value if answer.done else ())


async def direct(pipeline: Pipeline, inbound: Direct, person: str) -> Reply:
    """A message to the bot in the person's own conversation: the desk's command where the platform has
    none of its own, else words for their open ticket, or a new one."""
    if inbound.commands and is_command(inbound.text):
        return await typed(pipeline, _as_typed(inbound, inbound.text), person)
    if inbound.commands and not inbound.text.strip():
        # Where this chat is the command line too, a message without words is answered with how to ask.
        return await pipeline.say(inbound, person, _help(pipeline, inbound))
    request = direct_request(
        inbound.platform,
        person,
        inbound.place or "",
        inbound.ref,
        inbound.text,
        request_id=message_key(inbound, inbound.ref),
        command=inbound.command,
        name=inbound.name,
        workspace=inbound.workspace,
    )
    return await pipeline.answered(inbound, person, await pipeline.bus.handle(DirectMessage(request)))


async def posted(pipeline: Pipeline, inbound: Posted, person: str) -> Reply:
    """A message in a channel: under a ticket's card, the ticket's conversation; in a request channel, a
    request or a reply to one; speaking to the bot, its command or how to ask."""
    bus, place = pipeline.bus, Place(inbound.platform, inbound.place or "")
    if inbound.thread is not None and not inbound.skipped and place in _card_places(pipeline):
        answer = await bus.handle(
            ThreadMessage(
                inbound.platform,
                place.address,
                inbound.thread,
                person,
                inbound.text,
                inbound.ref,
                inbound.under_own,
            )
        )
        if not answer.done or answer.value is not None:
            return await pipeline.answered(inbound, person, answer)
    if inbound.addressed and not inbound.skipped and is_command(inbound.text):
        return await typed(pipeline, _as_typed(inbound, inbound.text), person)
    if place in _card_places(pipeline):
        # The cards' channels hold the cards and the talk under them, never requests.
        team: str | None = None
    else:
        # Asked each time, never kept: a channel turned on or off from chat counts from its next message.
        asked = await bus.ask(RequestChannelOf(inbound.platform, place.address))
        if not asked.done:
            return Reply(retry=True)
        team = asked.value
    if team is None:
        return await pipeline.say(inbound, person, _help(pipeline, inbound)) if inbound.addressed else Reply()
    if inbound.skipped:
        log.info(
            "request_skipped",
            reason=inbound.skipped,
            platform=inbound.platform,
            place=place.address,
            message=inbound.ref,
        )
        return Reply()
    message = ChannelMessage(
        platform=inbound.platform,
        place=place.address,
        author=person,
        text=inbound.text,
        ref=inbound.ref,
        thread=inbound.thread,
        author_name=inbound.name,
        workspace=inbound.workspace,
        command=inbound.command,
    )
    return await pipeline.answered(inbound, person, await bus.handle(message))


async def reacted(pipeline: Pipeline, inbound: Reacted, person: str) -> Reply:
    """The desk's emoji on a message: a ticket for its author, from the message and its thread so far."""
    if inbound.author is None:
        return await pipeline.say(inbound, person, ("Only a person's message can become a ticket.",))
    author = pipeline.bus.desk.directory.person(inbound.platform, inbound.author)
    request = _from_message(inbound, person, author, inbound.author_name, Via.EMOJI, inbound.text)
    return await _opened(pipeline, inbound, person, replace(request, title=inbound.title), again=True)


async def shortcut(pipeline: Pipeline, inbound: Shortcut, person: str) -> Reply:
    """A message turned into a ticket from its menu: its author's ticket, filed by whoever used the menu
    (a bot's message has no one behind it to tell, so the filer stands in)."""
    author = (
        pipeline.bus.desk.directory.person(inbound.platform, inbound.author) if inbound.author else person
    )
    request = _from_message(inbound, person, author, inbound.author_name, Via.SHORTCUT, inbound.text)
    return await _opened(pipeline, inbound, person, request, again=True)


def _from_message(
    inbound: Reacted | Shortcut, person: str, author: str, name: str | None, via: Via, text: str
) -> OpenTicket:
    """A request made of someone's message in a channel by whoever picked it: the author's ticket, linked
    to the message, confirmed privately where it was picked."""
    return OpenTicket(
        text=text,
        requester=author,
        requester_name=name,
        filed_by=person if person != author else None,
        via=via,
        platform=inbound.platform,
        command=inbound.command,
        workspace=inbound.workspace,
        origin_place=inbound.place,
        origin_ref=inbound.ref,
        link_origin=True,
        confirm_privately_in=inbound.place,
        request_id=message_key(inbound, inbound.ref),
    )


async def submitted(pipeline: Pipeline, inbound: Submitted, person: str) -> Reply:
    """The ticket form: a ticket with the summary, description, category and priority given."""
    request = OpenTicket(
        text=inbound.description,
        title=inbound.summary,
        requester=person,
        requester_name=inbound.name,
        via=Via.FORM,
        platform=inbound.platform,
        command=inbound.command,
        workspace=inbound.workspace,
        origin_place=inbound.place,
        category=inbound.category,
        priority=inbound.priority,
        request_id=inbound.request_id,
    )
    return await _opened(pipeline, inbound, person, request, again=False)


async def _opened(
    pipeline: Pipeline, inbound: Inbound, person: str, request: OpenTicket, *, again: bool
) -> Reply:
    """Open a ticket; the person reads its confirmation (`again`: only when it was opened before, since
    the new ticket's confirmation goes out with it)."""
    answer = await pipeline.bus.handle(request)
    if not answer.done:
        return await pipeline.answered(inbound, person, answer)
    opened = answer.value
    if again and opened.new:
        return Reply(ticket=opened.ticket.id)
    return replace(await pipeline.say(inbound, person, opened.confirmation), ticket=opened.ticket.id)


def _help(pipeline: Pipeline, inbound: Inbound) -> Rich:
    """How to ask, on the inbound's platform: with the form and the shortcut where it has them."""
    return help_text(
        inbound.command, form=isinstance(inbound, Typed) and inbound.form, tracker=pipeline.bus.desk.tracker
    )


def _as_typed(inbound: Inbound, text: str) -> Typed:
    """Words written to the bot that are its command, as if typed after the command."""
    common = {field.name: getattr(inbound, field.name) for field in fields(Inbound)}
    return Typed(**common, text=text)


def _card_places(pipeline: Pipeline) -> set[Place]:
    """The places the desk posts its cards in: only their threads can be a ticket's."""
    return {place for _, place in pipeline.bus.desk.config.all_places()}


ROUTES: dict[type, Route] = {
    Typed: typed,
    Pressed: pressed,
    Searched: searched,
    Direct: direct,
    Posted: posted,
    Reacted: reacted,
    Shortcut: shortcut,
    Submitted: submitted,
}


def pipeline_of(bus: MessageBus) -> Pipeline:
    """The pipeline every adapter hands its platform's requests to."""
    return Pipeline(bus, ROUTES)
