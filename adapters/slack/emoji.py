"""Emoji intake: a reaction with the desk's emoji on any message in a channel the bot is in opens a ticket
from that message and its thread so far, credited to the message's author, once however many react."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.text import SlackNames, read_message_text
from chatops.errors import Overloaded
from commands.inbound import Reacted
from commands.pipeline import Pipeline

log = structlog.get_logger("chatops.slack")

PLATFORM = "slack"
# A thread longer than this is cut: its first messages are the request, and the card links to the rest.
THREAD_LIMIT = 200


def listen_for_emoji(
    app: AsyncApp,
    *,
    pipeline: Pipeline,
    client: AsyncWebClient,
    names: SlackNames,
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
            or not (isinstance(reactor, str) and isinstance(channel, str) and isinstance(ts, str))
        ):
            return
        common = {
            "platform": PLATFORM,
            "user": reactor,
            "place": channel,
            "request_id": body.get("event_id"),
            "workspace": body.get("team_id"),
            "command": command,
        }
        try:
            answer = await client.conversations_replies(channel=channel, ts=ts, limit=THREAD_LIMIT)
        except SlackApiError as error:
            log.warning("slack_emoji_unreadable", channel=channel, error=error.response.get("error"))
            shown = await pipeline.notice(
                Reacted(**common, author=None, ref=ts),
                ("I could not read that message, so no ticket was opened.",),
            )
            if shown.retry:
                raise Overloaded() from None
            return
        thread = [m for m in answer.get("messages") or [] if isinstance(m, dict)]
        reacted = next((m for m in thread if m.get("ts") == ts), None)
        author = reacted.get("user") if reacted is not None and not reacted.get("bot_id") else None
        reply = await pipeline.take(
            Reacted(
                **common,
                author=author if isinstance(author, str) else None,
                author_name=(await names.names([author])).get(author) if isinstance(author, str) else None,
                ref=ts,
                title=(await read_message_text(reacted.get("text") or "", names)).strip() or None
                if reacted is not None
                else None,
                text=await _thread_text(thread, names),
            )
        )
        if reply.retry:
            # Unanswered, Slack delivers the event again; the message's own id keeps that to one ticket.
            raise Overloaded()


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
