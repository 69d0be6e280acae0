"""Emoji intake: a reaction with the desk's emoji on any message in a channel the bot is in opens a ticket
from that message and its thread so far, credited to the message's author, once however many react."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.text import SlackNames, read_message_text
from chatops.bus import MessageBus
from chatops.errors import Overloaded
from chatops.messaging.rich import Rich
from chatops.tickets.commands import OpenTicket

log = structlog.get_logger("chatops.slack")

PLATFORM = "slack"
# A thread longer than this is cut: its first messages are the request, and the card links to the rest.
THREAD_LIMIT = 200


def listen_for_emoji(
    app: AsyncApp,
    *,
    bus: MessageBus,
    client: AsyncWebClient,
    names: SlackNames,
    person: Callable[[str], str],
    tell: Callable[[str, str, Rich], Awaitable[None]],
    emoji: str,
    command: str,
) -> None:
    """Open a ticket when someone reacts with `emoji` (its name, without colons)."""

    @app.event("reaction_added")
    async def on_reaction(body: dict[str, Any], event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        reactor, channel, ts = event.get("user"), item.get("channel"), item.get("ts")
        if (
            event.get("reaction") != emoji
            or item.get("type") != "message"
            or not (reactor and channel and ts)
        ):
            return
        try:
            answer = await client.conversations_replies(channel=channel, ts=ts, limit=THREAD_LIMIT)
        except SlackApiError as error:
            log.warning("slack_emoji_unreadable", channel=channel, error=error.response.get("error"))
            await tell(channel, reactor, ("I could not read that message, so no ticket was opened.",))
            return
        thread = [m for m in answer.get("messages") or [] if isinstance(m, dict)]
        reacted = next((m for m in thread if m.get("ts") == ts), None)
        author = reacted.get("user") if reacted is not None and not reacted.get("bot_id") else None
        if reacted is None or author is None:
            await tell(channel, reactor, ("Only a person's message can become a ticket.",))
            return
        opened = await bus.handle(
            OpenTicket(
                text=await _thread_text(thread, names),
                title=(await read_message_text(reacted.get("text") or "", names)).strip() or None,
                requester=person(author),
                requester_name=(await names.names([author])).get(author),
                filed_by=person(reactor) if reactor != author else None,
                via="emoji",
                platform=PLATFORM,
                command=command,
                workspace=body.get("team_id"),
                origin_place=channel,
                origin_ref=ts,
                link_origin=True,
                confirm_privately_in=channel,
                # The message, not the reaction: a second reaction, or a second person's, opens nothing new.
                request_id=f"message:{channel}:{ts}",
            )
        )
        if opened.retry:
            raise Overloaded()
        if not opened.done:
            await tell(channel, reactor, opened.refusal or ())
        elif not opened.value.new:
            await tell(channel, reactor, opened.value.confirmation)


async def _thread_text(thread: list[dict[str, Any]], names: SlackNames) -> str:
    """The thread as the ticket keeps it: the first message, then each reply under its author's name."""
    authors = await names.names([m["user"] for m in thread if m.get("user")])
    parts = []
    for index, message in enumerate(thread):
        said = await read_message_text(message.get("text") or "", names)
        if index == 0:
            parts.append(said)
        else:
            who = authors.get(message.get("user", ""), message.get("user", "someone"))
            parts.append(f"— {who}: {said}")
    return "\n\n".join(parts)
