"""The ticket form (a Slack modal): how it is drawn, and how its submission is read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adapters.slack.blocks import clip, mrkdwn_object
from chatops.config.rules import DeskConfig
from chatops.text import clean

FORM_CALLBACK = "chatops_ticket_form"
SUMMARY_LIMIT = 150
DESCRIPTION_LIMIT = 3000
_TRIAGE_DECIDES = "auto"


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _select(block_id: str, label: str, choices: list[tuple[str, str]]) -> dict[str, Any]:
    options = [{"text": _plain("Let triage decide"), "value": _TRIAGE_DECIDES}]
    options += [{"text": _plain(clip(name, 75)), "value": value} for value, name in choices]
    return {
        "type": "input",
        "block_id": block_id,
        "optional": True,
        "label": _plain(label),
        "element": {
            "type": "static_select",
            "action_id": "value",
            "options": options,
            "initial_option": options[0],
        },
    }


def ticket_form(config: DeskConfig, *, channel: str) -> dict[str, Any]:
    """The modal `/ticket` opens when given no text."""
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": _plain("New ticket"),
        "submit": _plain("Open ticket"),
        "close": _plain("Cancel"),
        "private_metadata": json.dumps({"channel": channel}),
        "blocks": [
            {
                "type": "input",
                "block_id": "summary",
                "label": _plain("Summary"),
                "element": {"type": "plain_text_input", "action_id": "value", "max_length": SUMMARY_LIMIT},
            },
            {
                "type": "input",
                "block_id": "description",
                "optional": True,
                "label": _plain("Description"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": DESCRIPTION_LIMIT,
                },
            },
            _select("category", "Category", [(c.id, c.id.capitalize()) for c in config.categories]),
            _select("priority", "Priority", [(p.id, p.id.capitalize()) for p in config.priorities]),
        ],
    }


@dataclass(frozen=True)
class FormEntry:
    """What the requester typed and chose in the form."""

    summary: str
    description: str
    category: str | None
    priority: str | None
    channel: str | None


def read_form(view: dict[str, Any]) -> FormEntry:
    """Read a submitted form; missing optional fields read as None."""
    values = _object(_object(view.get("state")).get("values"))

    def field(block: str) -> dict[str, Any]:
        return _object(_object(values.get(block)).get("value"))

    def text(block: str) -> str:
        # A form's fields arrive as typed, without Slack's message escapes.
        value = field(block).get("value")
        return clean(value).strip() if isinstance(value, str) else ""

    def choice(block: str) -> str | None:
        value = _object(field(block).get("selected_option")).get("value")
        return None if value in (None, _TRIAGE_DECIDES) else str(value)

    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        metadata = {}
    channel = metadata.get("channel") if isinstance(metadata, dict) else None
    return FormEntry(
        text("summary"),
        text("description"),
        choice("category"),
        choice("priority"),
        channel if isinstance(channel, str) and channel else None,
    )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def notice_view(title: str, text: str) -> dict[str, Any]:
    """A modal that shows one message (the form is replaced by it on submit)."""
    return {
        "type": "modal",
        "title": _plain(clip(title, 24)),
        "close": _plain("Close"),
        "blocks": [{"type": "section", "text": mrkdwn_object(clip(text, 3000))}],
    }
