"""A card's long menu in Slack: an external select, whose options Slack asks for as its reader types."""

from __future__ import annotations

import re
from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp

from adapters.slack.blocks import menu_options
from chatops.messaging.cards import ActionRef
from commands.inbound import Searched
from commands.pipeline import Pipeline

log = structlog.get_logger("chatops.slack")

PLATFORM = "slack"


def listen_for_menus(app: AsyncApp, *, pipeline: Pipeline, command: str) -> None:
    """Answer a long menu's search with the options of the card as it stands that match what was typed;
    a menu that is not one of the desk's gets none."""

    @app.options(re.compile(r"^chatops\|"))
    async def on_search(ack: AsyncAck, body: dict[str, Any]) -> None:
        try:
            ref = ActionRef.unpack(body["action_id"])
        except ValueError:
            log.warning("slack_menu_unknown", action_id=body["action_id"][:255])
            await ack(options=[])
            return
        place = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        typed = body.get("value")
        reply = await pipeline.take(
            Searched(
                platform=PLATFORM,
                user=body["user"]["id"],
                place=place or None,
                command=command,
                answer_later=False,
                ref=ref,
                typed=typed if isinstance(typed, str) else "",
            )
        )
        await ack(options=menu_options(reply.choices))
