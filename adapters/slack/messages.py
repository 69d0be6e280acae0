"""Slack's message events, as the desk's pipeline takes them: a direct message to the bot, or a message in
a channel (a new one, or a reply in a thread), with why it is not someone's words when it is not (a bot's,
an edit, a join). What the desk does with each is the pipeline's to decide."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from adapters.slack.identity import BotIdentity
from adapters.slack.text import SlackNames, read_message_text, with_files
from chatops.conversation import noise
from chatops.errors import Overloaded
from commands.inbound import Direct, Posted
from commands.pipeline import Pipeline

PLATFORM = "slack"
# What people write: plain words, words with files, and a thread reply also sent to the channel.
_WRITTEN = frozenset({None, "file_share", "thread_broadcast"})
_SKIPS = {"message_changed": noise.EDIT, "channel_join": noise.JOIN, "group_join": noise.JOIN}


def listen_for_messages(
    app: AsyncApp, *, pipeline: Pipeline, names: SlackNames, identity: BotIdentity, command: str
) -> None:
    """Take every message event; one the desk could not record is left unanswered, so that Slack
    delivers it again (the message's own id keeps that to one ticket)."""

    @app.event("message")
    async def on_message(body: dict[str, Any], event: dict[str, Any]) -> None:
        kind = event.get("channel_type", "channel")
        channel, user, ts = event.get("channel"), event.get("user"), event.get("ts")
        if kind not in ("im", "channel", "group") or not isinstance(channel, str):
            return
        skipped = _skipped(event)
        if kind == "im":
            if skipped is not None or not isinstance(user, str) or not isinstance(ts, str):
                return
            inbound: Direct | Posted = Direct(
                platform=PLATFORM,
                user=user,
                place=channel,
                request_id=body.get("event_id"),
                name=(await names.names([user])).get(user),
                workspace=body.get("team_id"),
                command=command,
                text=with_files(await read_message_text(event.get("text") or "", names), event),
                ref=ts,
            )
        else:
            if skipped is None and not (isinstance(user, str) and isinstance(ts, str)):
                skipped = "no author or message id"
            thread = event.get("thread_ts")
            words = skipped is None and isinstance(user, str)
            inbound = Posted(
                platform=PLATFORM,
                user=user if isinstance(user, str) else "",
                place=channel,
                request_id=body.get("event_id"),
                name=(await names.names([user])).get(user) if words and isinstance(user, str) else None,
                workspace=body.get("team_id"),
                command=command,
                # What is not someone's words is not read at all (the desk's own posts mention people).
                text=with_files(await read_message_text(event.get("text") or "", names), event)
                if words
                else "",
                ref=ts if isinstance(ts, str) else "",
                thread=thread if isinstance(thread, str) and thread != ts else None,
                under_own=event.get("parent_user_id") in _bot_users(body, identity),
                skipped=skipped,
            )
        reply = await pipeline.take(inbound)
        if reply.retry:
            # Unanswered, Slack delivers the event again later.
            raise Overloaded()


def _skipped(event: dict[str, Any]) -> str | None:
    """Why a message event is not someone's words at all (None: it is)."""
    subtype = event.get("subtype")
    # The desk's own posts among them: taking them in would echo them back and forth for ever.
    if event.get("bot_id") or subtype == "bot_message":
        return noise.BOT
    if subtype in _WRITTEN:
        return None
    return _SKIPS.get(subtype, f"{subtype} event")


def _bot_users(body: dict[str, Any], identity: BotIdentity) -> set[str]:
    """The bot's own user id, as auth.test said, or as the event's authorizations say."""
    found = {a.get("user_id") for a in body.get("authorizations") or [] if isinstance(a, dict)}
    return {user for user in (identity.user_id, *found) if isinstance(user, str) and user}
