"""A card's prompt in Slack: its button opens a form asking for the words, and the form's submission is
the control's command, carrying them."""

from __future__ import annotations

import json
import re
from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import PROMPT, clip
from chatops.bus import SORRY
from chatops.messaging.cards import ActionRef
from chatops.rich import plain
from commands.inbound import Pressed
from commands.pipeline import Pipeline

log = structlog.get_logger("chatops.slack")

PLATFORM = "slack"
PROMPT_CALLBACK = "chatops_prompt"
WORDS = "words"
# Slack's limits: a modal's title and buttons, an input's length, and an error under it.
TITLE_LIMIT = 24
BUTTON_LIMIT = 24
WORDS_LIMIT = 3000
ERROR_LIMIT = 150
NOT_OPENED = "The form could not be opened just now; press the button again in a moment."


def listen_for_prompts(app: AsyncApp, *, pipeline: Pipeline, command: str) -> None:
    """Open a prompt's form when its button is pressed, and run its command when the form is sent; a form
    that cannot be opened is told to the person who pressed, where they pressed it."""

    @app.action(re.compile("^" + re.escape(PROMPT)))
    async def on_prompt(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        try:
            ref = ActionRef.unpack(action["action_id"][len(PROMPT) :])
            form = json.loads(action.get("value") or "")
        except ValueError:
            log.warning("slack_prompt_unknown", action_id=action["action_id"][:255])
            return
        metadata = {"ref": action["action_id"][len(PROMPT) :]}
        user = body["user"]["id"]
        try:
            await client.views_open(trigger_id=body.get("trigger_id") or "", view=_form(form, metadata))
        except SlackApiError as error:
            log.warning("prompt_not_opened", user=user, error=error.response.get("error"))
            place = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
            if place:
                pressed = Pressed(platform=PLATFORM, user=user, place=place, command=command, ref=ref)
                await pipeline.notice(pressed, (NOT_OPENED,))

    @app.view(PROMPT_CALLBACK)
    async def on_words(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        try:
            metadata = json.loads(view.get("private_metadata") or "")
            ref = ActionRef.unpack(metadata["ref"])
        except (ValueError, KeyError, TypeError):
            await ack(response_action="errors", errors={WORDS: "This form is not one the desk knows."})
            return
        words = (((view.get("state") or {}).get("values") or {}).get(WORDS) or {}).get(WORDS) or {}
        typed = words.get("value")
        reply = await pipeline.take(
            Pressed(
                platform=PLATFORM,
                user=user,
                place=None,
                command=command,
                answer_later=False,
                ref=ref,
                choice=typed if isinstance(typed, str) else None,
            )
        )
        if reply.said is not None or reply.retry:
            # The words stay in the form, with what stopped them under the box.
            said = plain(reply.said or SORRY)
            await ack(response_action="errors", errors={WORDS: clip(said, ERROR_LIMIT)})
            return
        await ack()


def _form(form: dict[str, Any], metadata: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": PROMPT_CALLBACK,
        "private_metadata": json.dumps(metadata),
        "title": {"type": "plain_text", "text": clip(str(form.get("title") or "Chatops"), TITLE_LIMIT)},
        "submit": {"type": "plain_text", "text": clip(str(form.get("submit") or "Send"), BUTTON_LIMIT)},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": WORDS,
                "label": {"type": "plain_text", "text": clip(str(form.get("title") or "Your words"), 2000)},
                "element": {
                    "type": "plain_text_input",
                    "action_id": WORDS,
                    "multiline": True,
                    "max_length": WORDS_LIMIT,
                    "placeholder": {
                        "type": "plain_text",
                        "text": clip(str(form.get("placeholder") or ""), 150),
                    },
                },
            }
        ],
    }
