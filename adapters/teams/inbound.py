"""Teams' requests to the bot: the agent that turns each activity into what the desk is asked (the
`/api/messages` route that hands it each activity is in adapters.teams.http)."""

from __future__ import annotations

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
from chatops.bus import SORRY
from chatops.composition.cards import DrawCard
from chatops.conversation import noise
from chatops.messaging.addresses import AddressBook, chat_key, place_key
from chatops.messaging.cards import Card
from chatops.messaging.ports import Place
from chatops.rich import plain
from commands.inbound import Direct, Inbound, Posted, Pressed, Typed
from commands.pipeline import Pipeline

log = structlog.get_logger("chatops.teams")

# How a person asks the bot in Teams: `ticket <what is wrong>`, or one of the desk's commands on its own.
COMMAND = "ticket"
CARD_ACTION = "adaptiveCard/action"


class Redeliver(Exception):
    """The desk could not record the activity: Teams should send it again."""


class TeamsAgent:
    """Turns each activity into what the desk's pipeline takes, and keeps how to reach whoever it came
    from; renders what the pipeline replies."""

    def __init__(self, pipeline: Pipeline, addresses: AddressBook) -> None:
        self.pipeline = pipeline
        self.addresses = addresses

    async def on_turn(self, context: TurnContext) -> None:
        """One activity: remember its conversation, then act on a message or a card's action."""
        activity = context.activity
        try:
            await self.addresses.remember(_addresses(activity, self._person(activity)))
            if activity.type == ActivityTypes.message:
                await self._message(activity)
            elif activity.type == ActivityTypes.invoke and activity.name == CARD_ACTION:
                await self._card_action(context)
            elif activity.type == ActivityTypes.invoke:
                # An invoke the bot offers nothing for (a message extension's, say): done, nothing to add.
                await context.send_activity(
                    Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=200))
                )
        except Redeliver:
            raise
        except Exception:  # noqa: BLE001 - the person gets a clear answer; the details go to the log
            log.exception("teams_turn_failed", activity_type=activity.type, activity_id=activity.id)
            await _say_sorry(context)

    def _person(self, activity: Activity) -> str | None:
        user = _user(activity)
        return self.pipeline.bus.desk.directory.person(PLATFORM, user) if user else None

    async def _message(self, activity: Activity) -> None:
        user = _user(activity)
        if user is None or activity.conversation is None:
            log.warning("teams_message_ignored", problem="no sender or conversation", activity_id=activity.id)
            return
        text = with_attachments(written_text(activity), activity)
        personal = activity.conversation.conversation_type == "personal"
        # Teams shows the bot every message of a channel it may read: only those mentioning it speak to it.
        addressed = personal or mentions_bot(activity)
        common = {
            "platform": PLATFORM,
            "user": user,
            "place": _place(activity),
            "request_id": activity.id,
            "name": _name(activity),
            "workspace": _tenant(activity),
            "command": COMMAND,
        }
        word, _, rest = text.partition(" ")
        inbound: Inbound
        if addressed and word.lower() == COMMAND:
            inbound = Typed(**common, text=rest)
        elif personal:
            inbound = Direct(**common, text=text, ref=activity.id or "", commands=True)
        else:
            inbound = Posted(
                **common,
                text=text,
                ref=activity.id or "",
                thread=_thread_root(activity),
                addressed=addressed,
                skipped=noise.BOT if _from_a_bot(activity) else (None if activity.id else "no message id"),
            )
        if (await self.pipeline.take(inbound)).retry:
            raise Redeliver()

    async def _card_action(self, context: TurnContext) -> None:
        activity = context.activity
        user = _user(activity)
        try:
            ref, choice = read_action(activity.value)
        except ValueError as error:
            log.warning("teams_action_unknown", problem=str(error)[:200], activity_id=activity.id)
            await _answer_invoke(context, _message("This control is not one the desk knows."))
            return
        if user is None:
            await _answer_invoke(context, _message("Teams did not say who pressed this."))
            return
        # The answer comes back here, shown to the clicker alone, as the invoke's answer.
        pressed = Pressed(
            platform=PLATFORM,
            user=user,
            place=_place(activity) if activity.conversation is not None else None,
            request_id=activity.id,
            workspace=_tenant(activity),
            command=COMMAND,
            answer_later=False,
            ref=ref,
            choice=choice,
        )
        reply = await self.pipeline.take(pressed)
        if reply.retry:
            raise Redeliver()
        people = self.pipeline.bus.desk.directory
        if reply.said is not None:
            await _answer_invoke(context, _message(plain(reply.said)))
            return
        if reply.settled is not None:
            # A requester's answer: the question gives way to what became of it, never to the ticket's card.
            said = reply.settled
            card = adaptive_card(Card(header="Thank you", summary=plain(said), body=said), people)
        else:
            bus = self.pipeline.bus
            place = Place(PLATFORM, pressed.place) if pressed.place else None
            drawn = await bus.ask(DrawCard(reply.ticket or ref.ticket_id, bus.clock.now(), place))
            if not drawn.done:
                await _answer_invoke(context, _message(plain(drawn.refusal or SORRY)))
                return
            card = adaptive_card(drawn.value, people)
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


def _user(activity: Activity) -> str | None:
    """Who sent an activity, by their Teams id (their Entra object id where Teams gives it)."""
    sender = activity.from_property
    return (sender.aad_object_id or sender.id or None) if sender is not None else None


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
