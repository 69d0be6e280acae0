"""The one way into the desk: a command or query goes to its handler, within the caller's deadline, and
what happened in it to the reactions every domain registered, in the same transaction.

For every platform and transport alike, `handle` runs a command's handler as one unit of work in the
group commit, drops it unrun if its caller has given up, wakes the dispatcher after the commit, and turns
any refusal into what the person is told (with its kind): privately where they clicked, or as the answer
to return.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from chatops import deadline
from chatops.clock import Clock, Timer
from chatops.closing import handlers as closing
from chatops.closing import reactions as closing_reactions
from chatops.closing import timers as closing_timers
from chatops.composition import cards
from chatops.conversation import handlers as conversation
from chatops.desk import Desk
from chatops.errors import DeskError, Overloaded, StaleCard, StorageUnavailable
from chatops.messaging import timers as messaging_timers
from chatops.messaging.notices import TellPrivately, tell_privately
from chatops.rich import Rich
from chatops.store.db import Database
from chatops.tickets import handlers as tickets
from chatops.tickets import reactions as ticket_reactions
from chatops.tickets import timers as ticket_timers
from chatops.tickets import views
from chatops.tickets.commands import RedrawCards
from chatops.tracking import handlers as tracking
from chatops.tracking import reactions as tracking_reactions
from chatops.tracking import timers as tracking_timers
from chatops.work import Event, Work

log = structlog.get_logger("chatops.bus")

SORRY: Rich = (
    "Something went wrong on our side and your request was not recorded. Please try again in a minute; "
    "if it keeps happening, tell the support team.",
)

Handler = Callable[[Work, Any, Desk], Any]
Reaction = Callable[[Work, Any, Desk], None]


def _one_each(*tables: Mapping[type, Handler]) -> dict[type, Handler]:
    """The domains' tables as one: a command has one handler."""
    merged: dict[type, Handler] = {}
    for table in tables:
        for kind, handler in table.items():
            assert kind not in merged, f"{kind.__name__} has two handlers"
            merged[kind] = handler
    return merged


def _all_of(*tables: Mapping[type, list[Reaction]]) -> dict[type, tuple[Reaction, ...]]:
    """The domains' reactions as one table: an event has every reaction registered for it, in order."""
    merged: dict[type, tuple[Reaction, ...]] = {}
    for table in tables:
        for kind, reactions in table.items():
            merged[kind] = (*merged.get(kind, ()), *reactions)
    return merged


COMMAND_HANDLERS = _one_each(
    tickets.COMMAND_HANDLERS,
    conversation.COMMAND_HANDLERS,
    tracking.COMMAND_HANDLERS,
    closing.COMMAND_HANDLERS,
    {TellPrivately: tell_privately, messaging_timers.ForgetDone: messaging_timers.forget_done_rows},
)

QUERY_HANDLERS = _one_each(
    views.QUERY_HANDLERS,
    conversation.QUERY_HANDLERS,
    {cards.DrawCard: cards.draw_card, cards.MenuChoices: cards.menu_choices},
)

EVENT_HANDLERS = _all_of(
    ticket_reactions.EVENT_HANDLERS,
    tracking_reactions.EVENT_HANDLERS,
    closing_reactions.EVENT_HANDLERS,
)

TIMERS: tuple[Timer, ...] = (
    *ticket_timers.TIMERS,
    *closing_timers.TIMERS,
    *tracking_timers.TIMERS,
    *messaging_timers.TIMERS,
)


class Reactions:
    """Runs every reaction registered for an event, in the unit of work it happened in."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def __call__(self, work: Work, event: Event) -> None:
        for reaction in EVENT_HANDLERS.get(type(event), ()):
            reaction(work, event, self.desk)


@dataclass(frozen=True)
class Answer:
    """What became of a command or query: its result, or what the person is to be told instead."""

    value: Any = None
    # Why nothing was done, for the person who asked (None: it was done).
    refusal: Rich | None = None
    # What kind of refusal it was (Forbidden, StaleCard, ...), for callers that act on it.
    kind: type[DeskError] | None = None
    # The refusal has already gone to the person privately; the transport only acknowledges.
    told: bool = False
    # Nothing was recorded (the desk was too busy, or could not write): a platform that redelivers should.
    retry: bool = False

    @property
    def done(self) -> bool:
        """Whether the command was carried out."""
        return self.refusal is None

    def refused(self, kind: type[DeskError]) -> bool:
        """Whether it was refused, for this kind of reason."""
        return self.kind is not None and issubclass(self.kind, kind)


class MessageBus:
    """Hands commands and queries to their handlers, each as one unit of work."""

    def __init__(self, db: Database, desk: Desk, clock: Clock, *, on_commit: Callable[[], None]) -> None:
        self.db = db
        self.desk = desk
        self.clock = clock
        self.reactions = Reactions(desk)
        self._on_commit = on_commit

    async def handle(self, command: Any) -> Answer:
        """Run a command's handler in a unit of work; a refusal is mapped to what the person is told."""
        handler = COMMAND_HANDLERS[type(command)]

        def unit(session: Any) -> tuple[Any, Work]:
            work = Work(session, self.clock.now(), self.reactions)
            result = handler(work, command, self.desk)
            work.finish()
            return result, work

        try:
            result, work = await self.db.run(unit, deadline=deadline.answer_by())
        except DeskError as refusal:
            return await self._refused(command, refusal)
        except Exception:  # noqa: BLE001 - the person gets a clear answer; the details go to the log
            log.exception("command_failed", command=type(command).__name__)
            # The unit rolled back as a whole: nothing of it was recorded, so a platform that delivers
            # again should (a database refusing writes, say, may take it the next time).
            return Answer(refusal=SORRY, retry=True)
        for remember in work.committed:
            remember()
        self._on_commit()
        log.info("command_done", command=type(command).__name__, **_facts(command, result, work.happened))
        return Answer(result)

    async def run(self, message: Any) -> Answer:
        """A command or a query, whichever it is."""
        return await (self.ask(message) if type(message) in QUERY_HANDLERS else self.handle(message))

    async def ask(self, query: Any) -> Answer:
        """Run a query beside the writers; a refusal (not found, not allowed) is the answer."""
        try:
            return Answer(
                await self.db.read(lambda session: QUERY_HANDLERS[type(query)](session, query, self.desk))
            )
        except DeskError as refusal:
            return Answer(refusal=refusal.text, kind=type(refusal))
        except Exception:  # noqa: BLE001 - the person gets a clear answer; the details go to the log
            log.exception("query_failed", query=type(query).__name__)
            return Answer(refusal=SORRY)

    async def _refused(self, command: Any, refusal: DeskError) -> Answer:
        log.info("command_refused", command=type(command).__name__, reason=type(refusal).__name__)
        kind = type(refusal)
        if isinstance(refusal, Overloaded | StorageUnavailable):
            # Nothing was recorded, and no word of it could be: the platform's redelivery is its chance.
            return Answer(refusal=refusal.text, kind=kind, retry=True)
        followups: list[Any] = []
        if isinstance(refusal, StaleCard):
            followups.append(RedrawCards(refusal.ticket_id))
        place, actor = getattr(command, "place", None), getattr(command, "actor", None)
        if place is not None and actor is not None:
            followups.append(TellPrivately(place, actor, refusal.text))
        for followup in followups:
            answer = await self.handle(followup)
            if not answer.done:
                return Answer(refusal=refusal.text, kind=kind)
        return Answer(refusal=refusal.text, kind=kind, told=place is not None and actor is not None)


def _facts(command: Any, result: Any, happened: Iterable[Event]) -> dict[str, Any]:
    """What a log line says of a handled command: the ticket, whether it was new, and what happened."""
    ticket = getattr(result, "ticket", result)
    facts: dict[str, Any] = {}
    if hasattr(ticket, "id"):
        facts["ticket"] = ticket.id
    if hasattr(result, "new"):
        facts["new"] = result.new
    events = [type(event).__name__ for event in happened]
    if events:
        facts["events"] = events
    return facts
