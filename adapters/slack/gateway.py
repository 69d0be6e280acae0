"""The chat gateway over Slack's Web API: posts, finds and edits messages, and maps Slack's errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import datetime
from typing import Any

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.slack.blocks import card_message, mrkdwn
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

log = structlog.get_logger("chatops.slack")

METADATA_EVENT = "chatops_message"
# Slack's own hiccups: worth another try, and the call may have landed.
_TRANSIENT_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
_HISTORY_PAGE = 200
_CONNECTIONS = 32
# slack_sdk formats every request and response in full for a debug line whenever its logger's own level is
# unset (it reads `logger.level`, not whether debug is on): a card's blocks, twice per call. Those bodies
# hold people's words, which the desk's logs never carry, so its client logs from INFO up at any log level.
_CLIENT_LOG = logging.getLogger("chatops.slack.web_api")
_CLIENT_LOG.setLevel(logging.INFO)
# Slack's documented limits: chat.postMessage about one a second per channel; the rest per workspace, by tier.
POSTS_PER_SECOND = 1.0
_PER_MINUTE = {"update": 50, "private": 100, "link": 100}
_BURSTS = {"update": 5, "private": 10, "link": 10}


def make_client(token: str, base_url: str, timeout: float) -> AsyncWebClient:
    """A Web API client on the configured base URL, with retries left to the durable outbox.

    Call it on the running event loop: it opens a pool of kept-alive connections, which the caller
    closes with `client.session.close()`.
    """
    # No client-side retry handlers: a blind retry of chat.postMessage after a dropped connection could
    # post twice, while the outbox retries with a look at the channel first and survives restarts.
    # One shared session: without it slack_sdk opens a new connection for every call. With it,
    # slack_sdk takes the call timeout from the session, so the session carries it.
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=_CONNECTIONS), timeout=aiohttp.ClientTimeout(total=timeout)
    )
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[],
        session=session,
        logger=_CLIENT_LOG,
    )


class SlackGateway:
    """ChatGateway for Slack."""

    platform = "slack"

    def __init__(
        self, client: AsyncWebClient, people: Directory, *, posts_per_second: float = POSTS_PER_SECOND
    ) -> None:
        """`posts_per_second`: the pace of posts in one channel; only a stand-in for Slack takes more."""
        self.client = client
        self.people = people
        self.posts_per_second = posts_per_second

    async def close(self) -> None:
        """Close the client's kept-alive connections."""
        if self.client.session is not None:
            await self.client.session.close()

    async def post(
        self, to: Destination, body: Card | Rich, *, key: str, look_since: datetime | None = None
    ) -> MessageRef:
        """Post a card or text; the key rides along as message metadata, so that a retry can find it first."""
        channel = to.place or self._user(to.person)
        if look_since is not None:
            found = await self._find(channel, to.thread, key, since=look_since)
            if found is not None:
                log.info("slack_post_found", key=key)
                return found
        kwargs: dict[str, Any] = {
            "channel": channel,
            "metadata": {"event_type": METADATA_EVENT, "event_payload": {"key": key}},
        }
        if isinstance(body, Card):
            kwargs |= card_message(body, self.people)
        else:
            kwargs["text"] = mrkdwn(body, self.people)
        if to.thread is not None:
            kwargs["thread_ts"] = to.thread.id
        response = await self._call(self.client.chat_postMessage(**kwargs))
        return MessageRef(response["channel"], response["ts"])

    async def _find(
        self, channel: str, thread: MessageRef | None, key: str, *, since: datetime
    ) -> MessageRef | None:
        """Look through recent history (or the thread) for the message tagged with key."""
        if not channel.startswith(("C", "G", "D")):
            opened = await self._call(self.client.conversations_open(users=channel))
            channel = opened["channel"]["id"]
        oldest = f"{since.timestamp():.6f}"
        cursor: str | None = None
        # Every page back to `since`, however busy the channel: stopping short would post the message twice.
        while True:
            if thread is not None:
                call = self.client.conversations_replies(
                    channel=channel,
                    ts=thread.id,
                    oldest=oldest,
                    limit=_HISTORY_PAGE,
                    include_all_metadata=True,
                    cursor=cursor,
                )
            else:
                call = self.client.conversations_history(
                    channel=channel,
                    oldest=oldest,
                    limit=_HISTORY_PAGE,
                    include_all_metadata=True,
                    cursor=cursor,
                )
            page = await self._call(call)
            for message in page.get("messages", []):
                if (message.get("metadata") or {}).get("event_payload", {}).get("key") == key:
                    return MessageRef(channel, message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                return None

    async def update(self, ref: MessageRef, card: Card) -> None:
        """Redraw a posted card."""
        await self._call(
            self.client.chat_update(channel=ref.place, ts=ref.id, **card_message(card, self.people))
        )

    async def tell_privately(self, place: str | None, person: str, text: Rich) -> None:
        """An ephemeral message in the place where the person is; without a place, a direct message."""
        user = self._user(person)
        if place is None:
            await self._call(self.client.chat_postMessage(channel=user, text=mrkdwn(text, self.people)))
            return
        await self._call(
            self.client.chat_postEphemeral(channel=place, user=user, text=mrkdwn(text, self.people))
        )

    async def link(self, ref: MessageRef) -> str:
        """The permalink of a message."""
        response = await self._call(self.client.chat_getPermalink(channel=ref.place, message_ts=ref.id))
        return str(response["permalink"])

    def _user(self, person: str | None) -> str:
        user = self.people.address(person, "slack") if person else None
        if user is None:
            raise PermanentFailure(f"{person} has no Slack identity")
        return user

    def pace(self, kind: CallKind, place: str | None) -> Pace:
        """Slack's limits: posts per channel (a user's DM is a channel of its own), the rest per workspace."""
        if kind == "post":
            return Pace(f"post:{place}", per_second=self.posts_per_second, burst=3)
        return Pace(kind, per_second=_PER_MINUTE[kind] / 60, burst=_BURSTS[kind])

    async def _call(self, call: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse:
        try:
            return await call
        except SlackApiError as error:
            raise _translate(error) from error
        except aiohttp.ClientConnectorError as error:
            raise TransientFailure(f"cannot reach Slack: {error}", in_doubt=False) from error
        except (TimeoutError, aiohttp.ClientError) as error:
            raise TransientFailure(f"no answer from Slack: {error!r}", in_doubt=True) from error


def _translate(error: SlackApiError) -> Exception:
    status = error.response.status_code
    code = error.response.get("error") if isinstance(error.response.data, dict) else None
    if status == 429 or code == "ratelimited":
        retry_after = float(
            error.response.headers.get("Retry-After", error.response.headers.get("retry-after", 1))
        )
        return RateLimited(retry_after)
    if status >= 500 or code in _TRANSIENT_ERRORS:
        return TransientFailure(f"Slack answered {status} {code or ''}".strip(), in_doubt=True)
    return PermanentFailure(f"Slack refused the call: {code or status}")
