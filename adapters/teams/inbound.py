"""Teams' requests to the bot: the agent that turns each activity into what the desk is asked (the
`/api/messages` route that hands it each activity is in adapters.teams.http)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import structlog
from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    InvokeResponse,
)
from microsoft_agents.hosting.core import TurnContext

from adapters.teams.cards import adaptive_card, read_action
from adapters.teams.gateway import PLATFORM, member_key
from adapters.teams.reading import mentions_bot, with_attachments, written_text
from chatops.bus import SORRY, Answer, MessageBus
from chatops.conversation import noise
from chatops.conversation.commands import ChannelMessage, CustomerWrote, RequestChannelOf, ThreadMessage
from chatops.errors import DeskError, InvalidInput
from chatops.messaging.addresses import AddressBook, chat_key, place_key
from chatops.messaging.cards import Card
from chatops.messaging.notices import TellPrivately
from chatops.messaging.ports import Place
from chatops.messaging.rich import Rich, plain
from chatops.people.directory import Directory
from chatops.tickets.actions import command_for
from chatops.tickets.commands import OpenTicket
from chatops.tickets.model import Answered, TicketView
from commands.handlers import Caller, CommandRunner
from commands.parser import Help, OpenForm, help_text, parse

log = structlog.get_logger("chatops.teams")

# How a person asks the bot in Teams: `ticket <what is wrong>`, or one of the words below on its own.
COMMAND = "ticket"
_VERBS = {"status", "list", "help", "sla", "link", "unlink"}
# `reply` speaks to the desk only before add, remove or list: "reply to me soon" is a customer's own words.
_REPLIES = re.compile(r"reply\s+(add|remove|list)(\s|$)", re.IGNORECASE)
CARD_ACTION = "adaptiveCard/action"


class Redeliver(Exception):
    """The desk was too busy to record the activity: Teams should send it again."""


class TeamsAgent:
    """Turns each activity into what the desk is asked, and keeps how to reach whoever it came from."""

    def __init__(
        self,
        bus: MessageBus,
        addresses: AddressBook,
        people: Directory,
        render: Callable[[TicketView], Card],
    ) -> None:
        self.bus = bus
        self.runner = CommandRunner(bus)
        self.addresses = addresses
        self.people = people
        self.render = render

    async def on_turn(self, context: TurnContext) -> None:
        """One activity: remember its conversation, then act on a message or a card's action."""
        activity = context.activity
        try:
            await self.addresses.remember(_addresses(activity, self._person(activity)))
            if activity.type == ActivityTypes.message:
                await self._message(context)
            elif activity.type == ActivityTypes.invoke and activity.name == CARD_ACTION:
                await self._card_action(context)
        except Redeliver:
            raise
        except Exception:  # noqa: BLE001 - the person gets a clear answer; the details go to the log
            log.exception("teams_turn_failed", activity_type=activity.type, activity_id=activity.id)
            await _say_sorry(context)

    def _person(self, activity: Activity) -> str | None:
        sender = activity.from_property
        if sender is None:
            return None
        user = sender.aad_object_id or sender.id
        return self.people.person(PLATFORM, user) if user else None

    async def _message(self, context: TurnContext) -> None:
        activity = context.activity
        person = self._person(activity)
        if person is None or activity.conversation is None:
            log.warning("teams_message_ignored", problem="no sender or conversation", activity_id=activity.id)
            return
        text = with_attachments(written_text(activity), activity)
        conversation = _place(activity)
        root = _thread_root(activity)
        if root is not None and await self._under_a_card(activity, person, conversation, root, text):
            return
        kind = activity.conversation.conversation_type
        personal = kind == "personal"
        # Teams shows the bot every message of a channel it may read: only those mentioning it speak to it.
        addressed = personal or mentions_bot(activity)
        word, _, rest = text.partition(" ")
        verb = word.lower()
        commanded = addressed and (verb == COMMAND or verb in _VERBS or _REPLIES.match(text) is not None)
        if kind == "channel" and not commanded:
            if await self._in_a_request_channel(activity, person, conversation, root, text):
                return
        if not addressed:
            return
        if commanded:
            await self._command(activity, person, conversation, rest if verb == COMMAND else text)
            return
        if not personal or not text:
            # Only the personal chat takes a request in plain words; elsewhere, or with no words at all (a
            # file on its own), the person learns how to ask.
            await self._tell(person, conversation, _help())
            return
        request = OpenTicket(
            text=text,
            requester=person,
            requester_name=_name(activity),
            via="dm",
            platform=PLATFORM,
            workspace=_tenant(activity),
            origin_place=conversation,
            origin_ref=activity.id,
            request_id=activity.id,
            command=COMMAND,
            confirm_directly=True,
        )
        # A follow-up joins the ticket the person has open in this chat; otherwise it opens one.
        answer = await self.bus.handle(CustomerWrote(request))
        await self._answered(answer, person, conversation)

    async def _in_a_request_channel(
        self, activity: Activity, person: str, conversation: str, root: str | None, text: str
    ) -> bool:
        """A message in a request channel (True): a new one is a request, and a reply in the thread of one
        joins its ticket. The desk is asked each time, so a channel turned on from chat counts at once."""
        known = await self.bus.ask(RequestChannelOf(PLATFORM, conversation))
        if not known.done:
            raise Redeliver()
        if known.value is None:
            return False
        skipped = noise.BOT if _from_a_bot(activity) else None
        if skipped is not None or not activity.id:
            log.info(
                "request_skipped",
                reason=skipped or "no message id",
                platform=PLATFORM,
                place=conversation,
                message=activity.id,
            )
            return True
        answer = await self.bus.handle(
            ChannelMessage(
                platform=PLATFORM,
                place=conversation,
                author=person,
                text=text,
                ref=activity.id,
                thread=root,
                author_name=_name(activity),
                workspace=_tenant(activity),
                command=COMMAND,
            )
        )
        await self._answered(answer, person, conversation)
        return True

    async def _under_a_card(
        self, activity: Activity, person: str, conversation: str, root: str, text: str
    ) -> bool:
        """A reply in a channel thread: under a ticket's card it is the ticket's conversation (True)."""
        answer = await self.bus.handle(
            ThreadMessage(PLATFORM, conversation, root, person, text, activity.id or "")
        )
        if answer.retry:
            raise Redeliver()
        if not answer.done:
            await self._tell(person, conversation, answer.refusal or SORRY)
            return True
        return answer.value is not None

    async def _command(self, activity: Activity, person: str, conversation: str, words: str) -> None:
        try:
            command = parse(words, command=COMMAND)
        except InvalidInput as refusal:
            await self._tell(person, conversation, refusal.text)
            return
        if isinstance(command, Help | OpenForm):
            await self._tell(person, conversation, _help(self.runner.bus.desk.tracker))
            return
        caller = Caller(
            person=person,
            place=conversation,
            platform=PLATFORM,
            command=COMMAND,
            workspace=_tenant(activity),
            request_id=activity.id,
            name=_name(activity),
        )
        answer = await self.runner.run(command, caller)
        if answer.retry:
            raise Redeliver()
        await self._tell(person, conversation, answer.value if answer.done else answer.refusal or SORRY)

    async def _answered(self, answer: Answer, person: str, conversation: str) -> None:
        if answer.retry:
            raise Redeliver()
        if not answer.done:
            await self._tell(person, conversation, answer.refusal or SORRY)

    async def _tell(self, person: str, conversation: str, text: Rich) -> None:
        """An answer for the person alone: Teams has no private message in a shared conversation, so it
        goes to their one-to-one chat with the bot, through the outbox like everything the bot says."""
        answer = await self.bus.handle(TellPrivately(Place(PLATFORM, conversation), person, text))
        if answer.retry:
            raise Redeliver()

    async def _card_action(self, context: TurnContext) -> None:
        activity = context.activity
        person = self._person(activity)
        try:
            ref, choice = read_action(activity.value)
        except ValueError as error:
            log.warning("teams_action_unknown", problem=str(error)[:200], activity_id=activity.id)
            await _answer_invoke(context, _message("This control is not one the desk knows."))
            return
        if person is None:
            await _answer_invoke(context, _message("Teams did not say who pressed this."))
            return
        try:
            # No place: a refusal comes back here and is shown to the clicker alone, as the invoke's answer.
            command = command_for(ref, person, None, choice)
        except DeskError as refusal:
            await _answer_invoke(context, _message(plain(refusal.text)))
            return
        answer = await self.bus.handle(command)
        if answer.retry:
            raise Redeliver()
        if not answer.done:
            await _answer_invoke(context, _message(plain(answer.refusal or SORRY)))
            return
        if isinstance(answer.value, Answered):
            # A requester's answer: the question gives way to what became of it, never to the ticket's card.
            said = answer.value.said
            card = adaptive_card(Card(header="Thank you", summary=plain(said), body=said), self.people)
        else:
            card = adaptive_card(self.render(answer.value), self.people)
        await _answer_invoke(
            context,
            AdaptiveCardInvokeResponse(
                status_code=200, type="application/vnd.microsoft.card.adaptive", value=card
            ),
        )


def _message(text: str) -> AdaptiveCardInvokeResponse:
    """An invoke's answer that Teams shows to the clicker alone, in place of a new card."""
    return AdaptiveCardInvokeResponse(
        status_code=200, type="application/vnd.microsoft.activity.message", value=text
    )


async def _answer_invoke(context: TurnContext, response: AdaptiveCardInvokeResponse) -> None:
    body = response.model_dump(mode="json", by_alias=True, exclude_none=True)
    await context.send_activity(
        Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=body))
    )


async def _say_sorry(context: TurnContext) -> None:
    """Told in the turn itself: the desk may be what failed, so this does not wait on it."""
    try:
        if context.activity.type == ActivityTypes.invoke:
            await _answer_invoke(context, _message(plain(SORRY)))
        else:
            await context.send_activity(plain(SORRY))
    except Exception:  # noqa: BLE001 - the failure is already in the log; Teams is told nothing more
        log.warning("teams_sorry_not_sent", activity_id=context.activity.id)


def _help(tracker: str | None = None) -> Rich:
    return help_text(COMMAND, form=False, tracker=tracker)


def _name(activity: Activity) -> str | None:
    """The sender's display name, as Teams gives it."""
    sender = activity.from_property
    name = sender.name.strip() if sender is not None and sender.name else ""
    return name[:200] or None


def _from_a_bot(activity: Activity) -> bool:
    """Whether a bot wrote the message (Teams gives bots ids starting 28:)."""
    sender = activity.from_property
    return sender is not None and (sender.role == "bot" or (sender.id or "").startswith("28:"))


def _tenant(activity: Activity) -> str | None:
    conversation = activity.conversation
    return conversation.tenant_id if conversation is not None else None


def _place(activity: Activity) -> str:
    """The conversation an activity came from: a channel by its own id, not the thread's."""
    conversation_id = activity.conversation.id if activity.conversation is not None else ""
    return conversation_id.split(";messageid=", 1)[0]


def _thread_root(activity: Activity) -> str | None:
    """The message a channel reply answers (None for a new post, which Teams names after itself)."""
    conversation_id = activity.conversation.id if activity.conversation is not None else ""
    _, threaded, root = conversation_id.partition(";messageid=")
    return root if threaded and root and root != activity.id else None


def _addresses(activity: Activity, person: str | None) -> dict[str, dict[str, Any]]:
    """How to reach the conversation an activity came from, and its sender, from our side later."""
    if activity.conversation is None or not activity.service_url:
        return {}
    reference = activity.get_conversation_reference()
    reference.activity_id = None
    reference.conversation.id = _place(activity)
    document = reference.model_dump(mode="json", by_alias=True, exclude_none=True)
    found = {place_key(reference.conversation.id): document}
    sender = activity.from_property
    if person is not None and sender is not None and sender.id:
        found[member_key(person)] = {
            "id": sender.id,
            "serviceUrl": activity.service_url,
            "tenantId": _tenant(activity),
        }
        if activity.conversation.conversation_type == "personal":
            found[chat_key(person)] = document
    return found
