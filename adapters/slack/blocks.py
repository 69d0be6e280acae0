"""Neutral cards and rich text rendered as Slack mrkdwn and Block Kit, within Slack's limits."""

from __future__ import annotations

import json
from typing import Any

from chatops.messaging.cards import Button, Card, Choice, Control, Menu, PersonPicker, Prompt
from chatops.people.directory import Directory
from chatops.rich import Bullets, Code, Link, Mention, Moment, Rich, Strong

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
FIELDS_PER_SECTION = 10
ELEMENTS_PER_ACTIONS = 25
PLAIN_LIMIT = 75  # button labels, option labels and placeholders
OPTIONS_LIMIT = 100  # a select's options, and the options of one answer to a search
OPTION_VALUE_LIMIT = 150
# A menu longer than this is searched as its reader types (an external select, whose options the desk
# gives when asked) rather than listed in the card: a card goes out whole again with every edit, and a
# typed search finds one of many faster than scrolling does.
LISTED_OPTIONS = 25
# A prompt's button opens a form instead of acting: its action id is the packed reference behind this.
PROMPT = "prompt|"


def escape(text: str) -> str:
    """Escape the three characters mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: Rich, people: Directory) -> str:
    """Rich text as mrkdwn: mentions of people with a Slack identity, dates in the reader's time zone, links,
    emphasis, code and lists; everyone's words escaped."""
    out: list[str] = []
    for part in text:
        if isinstance(part, str):
            out.append(escape(part))
        elif isinstance(part, Mention):
            user = people.address(part.person, "slack")
            out.append(f"<@{user}>" if user else escape(people.name(part.person)))
        elif isinstance(part, Moment):
            fallback = part.at.strftime("%Y-%m-%d %H:%M UTC")
            out.append(f"<!date^{int(part.at.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>")
        elif isinstance(part, Link):
            out.append(f"<{part.url}|{escape(part.label)}>")
        elif isinstance(part, Strong):
            out.append(f"*{escape(part.text)}*")
        elif isinstance(part, Code):
            out.append(f"`{escape(part.text)}`")
        elif isinstance(part, Bullets):
            out.extend("\n• " + mrkdwn(item, people) for item in part.items)
    return "".join(out)


def clip(text: str, limit: int) -> str:
    """Cut text to a Slack limit, without leaving half an escape or mention at the end."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    opener = max(cut.rfind("<"), cut.rfind("&"))
    if opener > cut.rfind(">") and opener > cut.rfind(";"):
        cut = cut[:opener]
    return cut + "…"


def _plain(text: str, limit: int = PLAIN_LIMIT) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def mrkdwn_object(text: str) -> dict[str, Any]:
    """A mrkdwn text object that Slack shows as written, for text that may carry people's words."""
    # Without `verbatim` Slack makes mentions, channel links and links of its own out of the words (a typed
    # @here would notify the channel); the desk writes every mention and link it means as markup, which
    # verbatim leaves working.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def card_message(card: Card, people: Directory) -> dict[str, Any]:
    """A card as a message: its blocks, and its notification text (escaped too: `<!channel>` there pings)."""
    return {"text": clip(escape(card.summary), SECTION_LIMIT), "blocks": card_blocks(card, people)}


def card_blocks(card: Card, people: Directory) -> list[dict[str, Any]]:
    """The Block Kit blocks of a card."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": _plain(card.header, HEADER_LIMIT)}]
    fields = [
        mrkdwn_object(clip(f"*{escape(f.label)}*\n{mrkdwn(f.value, people)}", FIELD_LIMIT))
        for f in card.fields
    ]
    for start in range(0, len(fields), FIELDS_PER_SECTION):
        blocks.append({"type": "section", "fields": fields[start : start + FIELDS_PER_SECTION]})
    if card.body:
        blocks.append(
            {"type": "section", "text": mrkdwn_object(clip(mrkdwn(card.body, people), SECTION_LIMIT))}
        )
    if card.actions:
        elements = [_control(c, people) for c in card.actions][:ELEMENTS_PER_ACTIONS]
        blocks.append({"type": "actions", "block_id": "ticket_actions", "elements": elements})
    if card.context:
        context = mrkdwn_object(clip(mrkdwn(card.context, people), SECTION_LIMIT))
        blocks.append({"type": "context", "elements": [context]})
    return blocks


def _control(control: Control, people: Directory) -> dict[str, Any]:
    action_id = control.ref.pack()
    if isinstance(control, Prompt):
        # The form is drawn when the button is pressed, from what the button carries.
        form = {"title": control.title, "placeholder": control.placeholder, "submit": control.submit}
        return {
            "type": "button",
            "text": _plain(control.label),
            "action_id": PROMPT + action_id,
            "value": json.dumps(form),
        }
    if isinstance(control, Button):
        element: dict[str, Any] = {
            "type": "button",
            "text": _plain(control.label),
            "action_id": action_id,
            "value": action_id,
        }
        if control.style:
            element["style"] = control.style
        return element
    if isinstance(control, PersonPicker):
        element = {"type": "users_select", "action_id": action_id, "placeholder": _plain(control.placeholder)}
        chosen = people.address(control.selected, "slack") if control.selected else None
        if chosen:
            element["initial_user"] = chosen
        return element
    assert isinstance(control, Menu)
    chosen = next((o for o in control.options if o.value == control.selected and _fits(o)), None)
    element = {"type": "static_select", "action_id": action_id, "placeholder": _plain(control.placeholder)}
    if len(control.options) > LISTED_OPTIONS:
        element.update(type="external_select", min_query_length=0)
    else:
        element["options"] = menu_options(control.options)
    if chosen is not None:
        element["initial_option"] = _option(chosen)
    return element


def menu_options(choices: tuple[Choice, ...]) -> list[dict[str, Any]]:
    """A menu's options as Slack lists them, as many as one select or one search answer takes."""
    return [_option(choice) for choice in choices if _fits(choice)][:OPTIONS_LIMIT]


def _fits(choice: Choice) -> bool:
    return len(choice.value) <= OPTION_VALUE_LIMIT


def _option(choice: Choice) -> dict[str, Any]:
    return {"text": _plain(choice.label), "value": choice.value}
