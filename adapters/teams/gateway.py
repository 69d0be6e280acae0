"""The chat gateway over the Bot Connector: posts and edits cards and messages in Teams conversations, and
opens a person's one-to-one chat with the bot, from the conversation references Teams gave us."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
import structlog
from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
    Entity,
)

from adapters.teams.cards import attachment
from adapters.teams.connection import TeamsConnection
from adapters.teams.text import message_text
from chatops.messaging.addresses import AddressBook, chat_key, place_key
from chatops.messaging.cards import Card
from chatops.messaging.ports import (
    CallKind,
    Destination,
    MessageRef,
    Pace,
    PermanentFailure,
    RateLimited,
    TransientFailure,
)
from chatops.people.directory import Directory
from chatops.rich import Rich

log = structlog.get_logger("chatops.teams")

PLATFORM = "teams"
# Teams' limits for a bot: in one conversation 7 messages in a second, 8 in two and 60 in thirty; 50 a
# second across a tenant's conversations. Four back to back, then one every 2/3 s, stays inside all three
# windows of a conversation (at most 5, 7 and 49 of them).
TENANT = Pace("teams:tenant", per_second=50.0, burst=50)
_CONVERSATION_RATE, _CONVERSATION_BURST = 1.5, 4

T = TypeVar("T")


def member_key(person: str) -> str:
    """The key of a person's Teams account as the bot met it (their `29:` id, tenant and service URL)."""
    return f"member:{person}"


class Unseen(TransientFailure):
    """Teams never showed the bot this conversation: nothing can be sent there until it does."""

    def __init__(self, what: str) -> None:
        super().__init__(f"waiting for Teams to show the bot {what}", in_doubt=False)


class TeamsGateway:
    """ChatGateway for Teams."""

    platform = PLATFORM

    def __init__(self, connection: TeamsConnection, addresses: AddressBook, people: Directory) -> None:
        self.connection = connection
        self.addresses = addresses
        self.people = people

    async def close(self) -> None:
        """Close the connection's sessions."""
        await self.connection.close()

    async def post(
        self, to: Destination, body: Card | Rich, *, key: str, look_since: datetime | None = None
    ) -> MessageRef:
        """Post a card or a text: in a channel, in the thread under a card, or in a person's chat."""
        if look_since is not None:
            # The Bot Connector cannot list what a bot posted: an answer lost on its way back is posted again.
            log.warning("teams_post_unverifiable", key=key)
        if to.person is not None and to.place is None:
            reference = await self._personal_chat(to.person)
            conversation = place = reference["conversation"]["id"]
        else:
            place = to.thread.place if to.thread is not None else to.place
            if place is None:
                raise PermanentFailure("a post needs a place or a person")
            reference = await self._reference(place)
            # A reply goes into a channel thread by naming the thread's first message in the conversation id.
            conversation = f"{place};messageid={to.thread.id}" if to.thread is not None else place
        client = await _call(self.connection.client(reference["serviceUrl"]))
        answer = await _call(client.conversations.send_to_conversation(conversation, self._activity(body)))
        return MessageRef(place, answer.id)

    async def update(self, ref: MessageRef, card: Card) -> None:
        """Redraw a posted card, for everyone who sees it."""
        reference = await self._reference(ref.place)
        client = await _call(self.connection.client(reference["serviceUrl"]))
        activity = self._activity(card)
        activity.id = ref.id
        await _call(client.conversations.update_activity(ref.place, ref.id, activity))

    async def tell_privately(self, place: str | None, person: str, text: Rich) -> None:
        """Teams shows a bot's message to everyone in a conversation: a private word goes to the person's
        one-to-one chat with the bot, wherever they were."""
        await self.post(Destination(person=person), text, key="private")

    async def link(self, ref: MessageRef) -> str:
        """A link that opens a channel message in Teams."""
        return f"https://teams.microsoft.com/l/message/{quote(ref.place, safe='')}/{quote(ref.id, safe='')}"

    def pace(self, kind: CallKind, place: str | None) -> Pace:
        """Teams' limits: per conversation (a person's chat is one of its own), within the tenant's."""
        return Pace(f"teams:{place}", per_second=_CONVERSATION_RATE, burst=_CONVERSATION_BURST, within=TENANT)

    def _activity(self, body: Card | Rich) -> Activity:
        if isinstance(body, Card):
            card = attachment(body, self.people)
            return Activity(
                type=ActivityTypes.message,
                summary=body.header[:100],
                attachments=[Attachment(content_type=card["contentType"], content=card["content"])],
            )
        text = message_text(body, self.people)
        return Activity(
            type=ActivityTypes.message,
            text=text.text,
            text_format="markdown",
            entities=[Entity.model_validate(entity) for entity in text.mentions] or None,
        )

    async def _reference(self, place: str) -> dict[str, Any]:
        reference = await self.addresses.recall(place_key(place))
        if reference is None:
            raise Unseen(place)
        return reference

    async def _personal_chat(self, person: str) -> dict[str, Any]:
        """The person's one-to-one chat with the bot: as Teams last showed it, or opened now and kept."""
        person = self.people.canonical(person)
        known = await self.addresses.recall(chat_key(person))
        if known is not None:
            return known
        member = await self.addresses.recall(member_key(person))
        if member is None:
            raise PermanentFailure(f"{person} has never been in touch with the bot in Teams")
        client = await _call(self.connection.client(member["serviceUrl"]))
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=f"28:{self.connection.app_id}"),
            members=[ChannelAccount(id=member["id"])],
            tenant_id=member["tenantId"],
            channel_data={"tenant": {"id": member["tenantId"]}},
        )
        created = await _call(client.conversations.create_conversation(parameters))
        reference = ConversationReference(
            channel_id="msteams",
            service_url=member["serviceUrl"],
            user=ChannelAccount(id=member["id"]),
            bot=ChannelAccount(id=f"28:{self.connection.app_id}"),
            conversation=ConversationAccount(
                id=created.id, conversation_type="personal", tenant_id=member["tenantId"]
            ),
        ).model_dump(mode="json", by_alias=True, exclude_none=True)
        await self.addresses.remember({chat_key(person): reference})
        return reference


async def _call(call: Awaitable[T]) -> T:
    try:
        return await call
    except aiohttp.ClientResponseError as error:
        raise _translate(error) from error
    except aiohttp.ClientConnectorError as error:
        raise TransientFailure(f"cannot reach Teams: {error}", in_doubt=False) from error
    except (TimeoutError, aiohttp.ClientError) as error:
        raise TransientFailure(f"no answer from Teams: {error!r}", in_doubt=True) from error
    except ValueError as error:
        # MSAL found no token to give (the authority is down, or refused): nothing was sent.
        raise TransientFailure(f"no token for Teams: {str(error)[:200]}", in_doubt=False) from error


def _translate(error: aiohttp.ClientResponseError) -> Exception:
    if error.status == 429:
        return RateLimited(_seconds((error.headers or {}).get("Retry-After")))
    if error.status >= 500:
        return TransientFailure(f"Teams answered {error.status}", in_doubt=True)
    if error.status == 401:
        # Our token was refused: a secret rotated under us, say. Worth another try with a fresh token.
        return TransientFailure("Teams refused the bot's token", in_doubt=False)
    return PermanentFailure(f"Teams refused the call: {error.status} {str(error.message)[:200]}")


def _seconds(retry_after: str | None) -> float:
    """Retry-After in seconds; Teams sends seconds, and anything else means a second."""
    try:
        return max(float(retry_after or 1), 0.0)
    except ValueError:
        return 1.0
