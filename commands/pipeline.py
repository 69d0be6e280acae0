"""The one way in from every chat platform. An adapter hands over what a person did as an Inbound; the
pipeline gives up on what its sender has given up on (the deadline), finds who it is (identity), keys a
request by the message it came from so that one message is one ticket however it arrives
(de-duplication), routes it to the desk's command by a table, and maps every failure to what the person
is told and whether the platform should deliver it again (one error hook). The adapter renders the Reply.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog

from chatops import deadline
from chatops.bus import SORRY, Answer, MessageBus
from chatops.errors import DeskError
from chatops.messaging.cards import Choice
from chatops.messaging.notices import TellPrivately
from chatops.messaging.ports import Place
from chatops.rich import Rich
from commands.inbound import Inbound

log = structlog.get_logger("chatops.inbound")


@dataclass(frozen=True)
class Reply:
    """What became of an Inbound, for its adapter to render on its platform."""

    # The answer to show within the request itself (only where the platform can: `answer_later` off).
    said: Rich | None = None
    # Why nothing was done, by kind (None: it was done, or there was nothing to do).
    refused: type[DeskError] | None = None
    # Nothing was recorded: the platform should deliver it again (a 5xx, a redelivery asked for).
    retry: bool = False
    # A question was answered: what to show in its place, where the platform can replace it.
    settled: Rich | None = None
    # A ticket's card was worked: which ticket, for a platform that answers with the card as it stands.
    ticket: int | None = None
    # The ticket form was asked for: a platform that has one opens it.
    form: bool = False
    # A menu's options that match what was typed into it.
    choices: tuple[Choice, ...] = ()


Route = Callable[["Pipeline", Any, str], Awaitable[Reply]]


class Pipeline:
    """Takes what people do on every platform to the desk, by the routes each kind of Inbound has."""

    def __init__(self, bus: MessageBus, routes: dict[type, Route]) -> None:
        self.bus = bus
        self.routes = routes

    async def take(self, inbound: Inbound) -> Reply:
        """Carry out what a person did, and say what is to be shown for it."""
        answer_by = deadline.answer_by()
        if answer_by is not None and time.monotonic() > answer_by:
            # Its sender gave up waiting: acting now would only surprise them, and they send it again.
            return Reply(retry=True)
        person = self.bus.desk.directory.person(inbound.platform, inbound.user)
        route = self.routes[type(inbound)]
        try:
            return await route(self, inbound, person)
        except Exception:  # noqa: BLE001 - the person gets a clear answer; the details go to the log
            log.exception("inbound_failed", kind=type(inbound).__name__, platform=inbound.platform)
            return Reply(said=None if inbound.answer_later else SORRY, retry=True)

    async def answered(self, inbound: Inbound, person: str, answer: Answer) -> Reply:
        """What a command's answer comes to for the person: a refusal told to them (now or later), or
        nothing to say; the caller words what a command that was done says."""
        if answer.retry:
            return Reply(said=None if inbound.answer_later else answer.refusal, retry=True)
        if answer.done:
            return Reply()
        if answer.told:
            return Reply(refused=answer.kind)
        return await self.say(inbound, person, answer.refusal or SORRY, refused=answer.kind)

    async def say(
        self, inbound: Inbound, person: str, text: Rich, *, refused: type[DeskError] | None = None
    ) -> Reply:
        """Show the person words: in the answer where the platform has one, else privately where they
        are, through the outbox."""
        if not inbound.answer_later:
            return Reply(said=text, refused=refused)
        answer = await self.tell(inbound, person, text)
        return Reply(refused=refused, retry=answer.retry or not answer.done)

    async def notice(self, inbound: Inbound, text: Rich) -> Reply:
        """Show the person who did it words of the adapter's own (a form that could not be opened, a
        message that could not be read), as `say` does."""
        person = self.bus.desk.directory.person(inbound.platform, inbound.user)
        return await self.say(inbound, person, text)

    async def tell(self, inbound: Inbound, person: str, text: Rich) -> Answer:
        """Tell the person privately where they are, through the outbox."""
        place = inbound.place or ""
        return await self.bus.handle(TellPrivately(Place(inbound.platform, place), person, text))

    def where(self, inbound: Inbound) -> Place | None:
        """Where a refusal of the person's command is told privately later (None: in the answer)."""
        return Place(inbound.platform, inbound.place) if inbound.answer_later and inbound.place else None


def message_key(inbound: Inbound, ref: str | None) -> str | None:
    """The key of a request made from a message: the message itself, so that one message is one ticket
    whether it came as a direct message, in a request channel, by emoji or from its menu."""
    return f"message:{inbound.place}:{ref}" if ref and inbound.place else inbound.request_id
