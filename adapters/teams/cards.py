"""Neutral cards rendered as Adaptive Cards for Teams, and Teams' card action invokes read back."""

from __future__ import annotations

import json
from typing import Any

from adapters.teams.text import Mentions, clip, escape, markdown, unbrace
from chatops.messaging.cards import ActionRef, Button, Card, Control, Menu, PersonPicker, Prompt
from chatops.people.directory import Directory

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
# Teams shows at most six actions in a card's `actions`; further buttons go in an ActionSet in the body.
MAX_ACTIONS = 6
HEADER_LIMIT = 150
# Teams refuses a bot message over about 40 KB; the card's parts stay well within it between them.
TEXT_LIMIT = 5000
FACT_LIMIT = 1000
TITLE_LIMIT = 75  # action titles, choice titles and labels: plain text on one line
CHOICES_LIMIT = 100
STYLES = {"primary": "positive", "danger": "destructive"}
# The key of an action's data that holds its packed reference, and the one naming its input.
REF_KEY = "chatops"
INPUT_KEY = "chatops_input"


def _plain(text: str, limit: int = TITLE_LIMIT) -> str:
    # Titles and labels are not markdown, but Teams may still evaluate a date function in them.
    text = " ".join(text.split())
    return unbrace(text if len(text) <= limit else text[: limit - 1].rstrip() + "…")


def adaptive_card(card: Card, people: Directory) -> dict[str, Any]:
    """A card as an Adaptive Card 1.5, with the mention entities its text needs."""
    mentions = Mentions()
    header = card.header if len(card.header) <= HEADER_LIMIT else card.header[: HEADER_LIMIT - 1] + "…"
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": escape(" ".join(header.split())),
            "size": "Large",
            "weight": "Bolder",
            "style": "heading",
            "wrap": True,
        }
    ]
    if card.fields:
        # Teams reads markdown and mentions in a fact's title and value, as in a TextBlock.
        facts = [
            {
                "title": escape(" ".join(f.label.split())),
                "value": clip(markdown(f.value, people, mentions), FACT_LIMIT) or "\u2014",
            }
            for f in card.fields
        ]
        body.append({"type": "FactSet", "facts": facts})
    if card.body:
        text = clip(markdown(card.body, people, mentions), TEXT_LIMIT)
        body.append({"type": "TextBlock", "text": text, "wrap": True})
    actions: list[dict[str, Any]] = []
    for index, control in enumerate(card.actions):
        if isinstance(control, Button):
            actions.append(_execute(control.label, control.ref, style=control.style))
        elif isinstance(control, Prompt):
            actions.append(_prompt(control, index))
        else:
            body.extend(_choice(control, index, people))
    if len(actions) > MAX_ACTIONS:
        body.append({"type": "ActionSet", "actions": actions[MAX_ACTIONS:]})
        actions = actions[:MAX_ACTIONS]
    if card.context:
        text = clip(markdown(card.context, people, mentions), TEXT_LIMIT)
        body.append(
            {
                "type": "TextBlock",
                "text": text,
                "wrap": True,
                "isSubtle": True,
                "size": "Small",
                "spacing": "Medium",
            }
        )
    adaptive: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "fallbackText": card.summary,
        "body": body,
    }
    if actions:
        adaptive["actions"] = actions
    msteams: dict[str, Any] = {"width": "Full"}
    # A tag clipped out of the text must not leave its entity behind to ping someone unseen.
    shown = json.dumps(body, ensure_ascii=False)
    entities = [e for e in mentions.entities() if json.dumps(e["text"], ensure_ascii=False)[1:-1] in shown]
    if entities:
        msteams["entities"] = entities
    adaptive["msteams"] = msteams
    return adaptive


def attachment(card: Card, people: Directory) -> dict[str, Any]:
    """A card as the attachment of a Bot Framework activity."""
    return {"contentType": "application/vnd.microsoft.card.adaptive", "content": adaptive_card(card, people)}


def _execute(
    title: str, ref: ActionRef, *, style: str | None = None, input_id: str | None = None
) -> dict[str, Any]:
    packed = ref.pack()
    data: dict[str, Any] = {REF_KEY: packed}
    if input_id is not None:
        data[INPUT_KEY] = input_id
    action: dict[str, Any] = {"type": "Action.Execute", "title": _plain(title), "verb": packed, "data": data}
    if style in STYLES:
        action["style"] = STYLES[style]
    return action


def _prompt(control: Prompt, index: int) -> dict[str, Any]:
    """A button that opens a box for words under it, sent with the prompt's own submit button."""
    input_id = f"{REF_KEY}.{control.ref.verb}.{index}"
    box = {
        "type": "Input.Text",
        "id": input_id,
        "isMultiline": True,
        "isRequired": True,
        "errorMessage": "Write something first.",
        "label": _plain(control.title),
        "placeholder": _plain(control.placeholder),
        "maxLength": TEXT_LIMIT,
    }
    return {
        "type": "Action.ShowCard",
        "title": _plain(control.label),
        "card": {
            "type": "AdaptiveCard",
            "body": [box],
            "actions": [_execute(control.submit, control.ref, input_id=input_id)],
        },
    }


def _choice(control: Control, index: int, people: Directory) -> list[dict[str, Any]]:
    """A choice input and the button that submits it, side by side; nothing when there is no choice."""
    assert isinstance(control, PersonPicker | Menu)
    if isinstance(control, PersonPicker):
        # Only people Teams knows can be chosen here; the others are assigned from the other platforms.
        choices = [
            {"title": _plain(people.name(p)), "value": p}
            for p in control.people
            if people.address(p, "teams")
        ]
    else:
        choices = [{"title": _plain(o.label), "value": o.value} for o in control.options]
    choices = choices[:CHOICES_LIMIT]
    if not choices:
        return []
    input_id = f"{REF_KEY}.{control.ref.verb}.{index}"
    choice_set: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "style": "compact",
        "label": _plain(control.placeholder.rstrip("…. ")),
        "placeholder": _plain(control.placeholder),
        "choices": choices,
    }
    if control.selected is not None and any(c["value"] == control.selected for c in choices):
        choice_set["value"] = control.selected
    submit = _execute("Apply", control.ref, input_id=input_id)
    return [
        {
            "type": "ColumnSet",
            "columns": [
                {"type": "Column", "width": "stretch", "items": [choice_set]},
                {
                    "type": "Column",
                    "width": "auto",
                    "verticalContentAlignment": "Bottom",
                    "items": [{"type": "ActionSet", "actions": [submit]}],
                },
            ],
        }
    ]


def read_action(value: Any) -> tuple[ActionRef, str | None]:
    """The reference and chosen value of an `adaptiveCard/action` invoke's value; ValueError if not ours."""
    if not isinstance(value, dict) or not isinstance(value.get("action"), dict):
        raise ValueError("not a card action: no `action` object")
    action = value["action"]
    if action.get("type") != "Action.Execute":
        raise ValueError(f"not a card action: type {action.get('type')!r}")
    verb, data = action.get("verb"), action.get("data")
    if not isinstance(verb, str) or not isinstance(data, dict):
        raise ValueError("not a chatops card action: no verb or no data")
    # The verb and the data are both the card's own; a mismatch means the value was made up or mangled.
    if data.get(REF_KEY) != verb:
        raise ValueError(f"not a chatops card action: verb {verb!r} and data disagree")
    try:
        ref = ActionRef.unpack(verb)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a chatops card action: {verb!r}") from exc
    input_id = data.get(INPUT_KEY)
    if input_id is None:
        return ref, None
    if not isinstance(input_id, str) or not input_id.startswith(f"{REF_KEY}.{ref.verb}."):
        raise ValueError(f"not a chatops card action: input {input_id!r}")
    chosen = data.get(input_id)
    if chosen is not None and not isinstance(chosen, str):
        raise ValueError(f"card action {verb!r}: the chosen value is not text")
    return ref, chosen or None
