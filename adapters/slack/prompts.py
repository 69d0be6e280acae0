"""A card's prompt in Slack: its button opens a form asking for the words, and the form's submission is
the control's command, carrying them."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import PROMPT, clip
from chatops.bus import MessageBus
from chatops.errors import DeskError
from chatops.messaging.cards import ActionRef
from chatops.messaging.rich import Rich, plain
from chatops.tickets.actions import command_for

log = structlog.get_logger("chatops.slack")

PROMPT_CALLBACK = "chatops_prompt"
WORDS = "words"
# Slack's limits: a modal's title and buttons, an input's length, and an error under it.
TITLE_LIMIT = 24
BUTTON_LIMIT = 24
WORDS_LIMIT = 3000
ERROR_LIMIT = 150
NOT_OPENED = "The form could not be opened just now; press the button again in a moment."


def listen_for_prompts(
    app: AsyncApp,
    *,
    bus: MessageBus,
    person: Callable[[str], str],
    tell: Callable[[str, str, Rich], Awaitable[None]],
) -> None:
    """Open a prompt's form when its button is pressed, and run its command when the form is sent; a form
    that cannot be opened is told to the person who pressed, where they pressed it."""

    @app.action(re.compile("^" + re.escape(PROMPT)))
    async def on_prompt(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        try:
            ActionRef.unpack(action["action_id"][len(PROMPT) :])
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
                await tell(place, user, (NOT_OPENED,))

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
        try:
            command = command_for(ref, person(user), None, words.get("value"))
        except DeskError as refusal:
            await ack(response_action="errors", errors={WORDS: clip(plain(refusal.text), ERROR_LIMIT)})
            return
        answer = await bus.handle(command)
        if not answer.done:
            # The words stay in the form, with what stopped them under the box.
            await ack(
                response_action="errors", errors={WORDS: clip(plain(answer.refusal or ()), ERROR_LIMIT)}
            )
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
