"""Request channels in Slack: each new message a person writes in one goes to the desk as a request, and
each reply in its thread as part of that ticket's conversation; bots' messages, edits and joins are skipped
here, each with its reason in the log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp

from adapters.slack.text import SlackNames, read_message_text, with_files
from chatops.bus import MessageBus
from chatops.conversation import noise
from chatops.conversation.commands import ChannelMessage, RequestChannelOf
from chatops.errors import Overloaded
from chatops.messaging.rich import Rich

log = structlog.get_logger("chatops.slack")

PLATFORM = "slack"
# What people write: plain words, words with files, and a thread reply also sent to the channel.
_WRITTEN = frozenset({None, "file_share", "thread_broadcast"})
_SKIPS = {"message_changed": noise.EDIT, "channel_join": noise.JOIN, "group_join": noise.JOIN}


def listen_for_requests(
    app: AsyncApp,
    *,
    bus: MessageBus,
    names: SlackNames,
    person: Callable[[str], str],
    tell: Callable[[str, str, Rich], Awaitable[None]],
    command: str,
) -> None:
    """Take the messages of request channels. Register it before any other listener of messages: Bolt
    hands a message to the first listener whose matchers pass, and only to it."""

    async def in_a_request_channel(event: dict[str, Any]) -> bool:
        channel = event.get("channel")
        # An edit's event may leave the channel type out; a DM's id never names a request channel anyway.
        if event.get("channel_type", "channel") not in ("channel", "group") or not isinstance(channel, str):
            return False
        # Asked each time, never kept here: a channel turned on or off from chat counts from its next message.
        answer = await bus.ask(RequestChannelOf(PLATFORM, channel))
        if not answer.done:
            # Unanswered, Slack delivers the event again: a request is not dropped for a moment's trouble.
            raise Overloaded()
        return answer.value is not None

    @app.event("message", matchers=[in_a_request_channel])
    async def on_request_channel(body: dict[str, Any], event: dict[str, Any]) -> None:
        channel, ts, user = event["channel"], event.get("ts"), event.get("user")
        skipped = _skipped(event)
        if skipped is not None or not isinstance(user, str) or not isinstance(ts, str):
            log.info(
                "request_skipped",
                reason=skipped or "no author or message id",
                platform=PLATFORM,
                place=channel,
                message=ts,
                event_id=body.get("event_id"),
            )
            return
        thread = event.get("thread_ts")
        answer = await bus.handle(
            ChannelMessage(
                platform=PLATFORM,
                place=channel,
                author=person(user),
                text=with_files(await read_message_text(event.get("text") or "", names), event),
                ref=ts,
                thread=thread if isinstance(thread, str) and thread != ts else None,
                author_name=(await names.names([user])).get(user),
                workspace=body.get("team_id"),
                command=command,
            )
        )
        if answer.retry:
            # Slack delivers it again later; the message's own id keeps that to one ticket.
            raise Overloaded()
        if not answer.done:
            await tell(channel, user, answer.refusal or ())


def _skipped(event: dict[str, Any]) -> str | None:
    """Why a message event in a request channel is not someone's words at all (None: it is)."""
    subtype = event.get("subtype")
    # The desk's own answers among them: taking them in would echo them back and forth for ever.
    if event.get("bot_id") or subtype == "bot_message":
        return noise.BOT
    if subtype in _WRITTEN:
        return None
    return _SKIPS.get(subtype, f"{subtype} event")
