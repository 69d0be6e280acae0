"""A card's control that asks for words, pressed as a person in Slack would: the button opens a form (the
stand-in records the form the desk asked Slack to open), the words are typed into it and it is sent."""

from __future__ import annotations

from typing import Any

from adapters.slack.devkit.cards import control
from adapters.slack.devkit.requests import Response, SlackRequests, send
from adapters.slack.devkit.standin import SlackStandIn

# The form's one input, as the desk draws it (see adapters/slack/prompts.py).
WORDS = "words"


def open_prompt(
    url: str,
    standin: SlackStandIn,
    requests: SlackRequests,
    message: dict[str, Any],
    verb: str,
    *,
    user: str,
    channel: str,
) -> dict[str, Any]:
    """Press the card's control that does `verb`; the form Slack was asked to open for it."""
    before = len(standin.calls("views.open"))
    send(
        url, requests.block_action(control(message, verb), user_id=user, channel_id=channel, message=message)
    )
    return standin.wait_for("views.open", count=before + 1, timeout=10)[-1].params["view"]


def submit_prompt(
    url: str, requests: SlackRequests, form: dict[str, Any], typed: str, *, user: str
) -> Response:
    """Send a prompt's form with the words typed into it."""
    values = {WORDS: {WORDS: {"type": "plain_text_input", "value": typed}}}
    return send(url, requests.view_submission(form, user_id=user, values=values))
