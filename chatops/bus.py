"""The one way into the desk: a command or query goes to its handler, within the caller's deadline.

For every platform and transport alike, `handle` runs a command's handler as one unit of work in the
group commit, drops it unrun if its caller has given up, wakes the dispatcher after the commit, and turns
any refusal into what the person is told: privately where they clicked, or as the answer to return.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from chatops import deadline
from chatops.clock import Clock
from chatops.closing import handlers as closing
from chatops.closing.commands import Close, Comment, Confirm, Rate, SweepQuiet
from chatops.conversation import channels, saved
from chatops.conversation.channel_requests import channel_message
from chatops.conversation.commands import (
    ChannelMessage,
    CustomerWrote,
    ListReplies,
    PlaceHeld,
    RemoveReply,
    ReplyToCustomer,
    RequestChannelOf,
    SaveReply,
    SendCanned,
    SwitchRequestChannel,
    ThreadMessage,
)
from chatops.conversation.follow_ups import customer_wrote, place_held
from chatops.conversation.replies import reply_to_customer, send_canned, thread_message
from chatops.desk import Desk
from chatops.errors import DeskError, Overloaded, StaleCard
from chatops.messaging.notices import TellPrivately, tell_privately
from chatops.messaging.rich import Rich
from chatops.store.db import Database
from chatops.tickets import handlers, views
from chatops.tickets.commands import (
    Assign,
    ChangeCategory,
    ChangePriority,
    Claim,
    Escalate,
    ListMine,
    ListNearBreach,
    ListQueue,
    OpenTicket,
    RedrawCards,
    Reopen,
    Resolve,
    Resume,
    ShowTicket,
    WaitOnCustomer,
)
from chatops.tickets.intake import open_ticket
from chatops.tickets.sweep import SweepSla, sweep
from chatops.tracking import linking, syncing
from chatops.tracking.commands import (
    FollowIssue,
    LinkIssue,
    MergeOnto,
    Reconcile,
    SendToTracker,
    TakeComment,
    UnlinkIssue,
)
from chatops.work import Work

log = structlog.get_logger("chatops.bus")

SORRY: Rich = (
    "Something went wrong on our side and your request was not recorded. Please try again in a minute; "
    "if it keeps happening, tell the support team.",
)

COMMAND_HANDLERS: Mapping[type, Callable[[Work, Any, Desk], Any]] = {
    OpenTicket: open_ticket,
    Claim: handlers.claim,
    Assign: handlers.assign,
    Escalate: handlers.escalate,
    ChangePriority: handlers.change_priority,
    Resolve: handlers.resolve,
    Reopen: handlers.reopen,
    WaitOnCustomer: handlers.wait_on_customer,
    Resume: handlers.resume,
    RedrawCards: handlers.redraw_cards,
    TellPrivately: tell_privately,
    SweepSla: sweep,
    ChangeCategory: handlers.change_category,
    SendToTracker: linking.send_to_tracker,
    MergeOnto: linking.merge_onto,
    LinkIssue: linking.link_issue,
    UnlinkIssue: linking.unlink_issue,
    FollowIssue: syncing.follow_issue,
    TakeComment: syncing.take_comment,
    Reconcile: syncing.reconcile,
    CustomerWrote: customer_wrote,
    ThreadMessage: thread_message,
    SendCanned: send_canned,
    SaveReply: saved.save_reply,
    RemoveReply: saved.remove_reply,
    ReplyToCustomer: reply_to_customer,
    PlaceHeld: place_held,
    ChannelMessage: channel_message,
    SwitchRequestChannel: channels.switch_request_channel,
    Confirm: closing.confirm,
    Rate: closing.rate,
    Comment: closing.comment,
    Close: closing.close,
    SweepQuiet: closing.sweep,
}

QUERY_HANDLERS: Mapping[type, Callable[[Any, Any, Desk], Any]] = {
    ShowTicket: views.show,
    ListMine: views.mine,
    ListQueue: views.queue,
    ListNearBreach: views.near_breach,
    RequestChannelOf: channels.request_channel_of,
    ListReplies: saved.list_replies,
}


@dataclass(frozen=True)
class Answer:
    """What became of a command or query: its result, or what the person is to be told instead."""

    value: Any = None
    # Why nothing was done, for the person who asked (None: it was done).
    refusal: Rich | None = None
    # The refusal has already gone to the person privately; the transport only acknowledges.
    told: bool = False
    # Nothing was recorded because the desk was too busy: a platform that redelivers should do so.
    retry: bool = False

    @property
    def done(self) -> bool:
        """Whether the command was carried out."""
        return self.refusal is None


class MessageBus:
    """Hands commands and queries to their handlers, each as one unit of work."""

    def __init__(self, db: Database, desk: Desk, clock: Clock, *, on_commit: Callable[[], None]) -> None:
        self.db = db
        self.desk = desk
        self.clock = clock
        self._on_commit = on_commit

    async def handle(self, command: Any) -> Answer:
        """Run a command's handler in a unit of work; a refusal is mapped to what the person is told."""
        handler = COMMAND_HANDLERS[type(command)]

        def unit(session: Any) -> tuple[Any, Work]:
            work = Work(session, self.clock.now())
            result = handler(work, command, self.desk)
            work.finish()
            return result, work

        try:
            result, work = await self.db.run(unit, deadline=deadline.answer_by())
        except DeskError as refusal:
            return await self._refused(command, refusal)
        except Exception:  # noqa: BLE001 - the person gets a clear answer; the details go to the log
            log.exception("command_failed", command=type(command).__name__)
            return Answer(refusal=SORRY)
        for remember in work.committed:
            remember()
        self._on_commit()
        log.info("command_done", command=type(command).__name__, **_facts(command, result))
        return Answer(result)

    async def ask(self, query: Any) -> Answer:
        """Run a query beside the writers; a refusal (not found, not allowed) is the answer."""
        try:
            return Answer(
                await self.db.read(lambda session: QUERY_HANDLERS[type(query)](session, query, self.desk))
            )
        except DeskError as refusal:
            return Answer(refusal=refusal.text)
        except Exception:  # noqa: BLE001 - the person gets a clear answer; the details go to the log
            log.exception("query_failed", query=type(query).__name__)
            return Answer(refusal=SORRY)

    async def _refused(self, command: Any, refusal: DeskError) -> Answer:
        log.info("command_refused", command=type(command).__name__, reason=type(refusal).__name__)
        if isinstance(refusal, Overloaded):
            return Answer(refusal=refusal.text, retry=True)
        followups: list[Any] = []
        if isinstance(refusal, StaleCard):
            followups.append(RedrawCards(refusal.ticket_id))
        place, actor = getattr(command, "place", None), getattr(command, "actor", None)
        if place is not None and actor is not None:
            followups.append(TellPrivately(place, actor, refusal.text))
        for followup in followups:
            answer = await self.handle(followup)
            if not answer.done:
                return Answer(refusal=refusal.text)
        return Answer(refusal=refusal.text, told=place is not None and actor is not None)


def _facts(command: Any, result: Any) -> dict[str, Any]:
    """What a log line says of a handled command: the ticket, and whether it was new."""
    ticket = getattr(result, "ticket", result)
    facts: dict[str, Any] = {}
    if hasattr(ticket, "id"):
        facts["ticket"] = ticket.id
    if hasattr(result, "new"):
        facts["new"] = result.new
    return facts
