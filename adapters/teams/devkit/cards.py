"""Reading the bot's Adaptive Cards as a Teams client would: the card a message carries, and its buttons by
the title a person reads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chatops.messaging.cards import ActionRef


def card_of(message: dict[str, Any]) -> dict[str, Any]:
    """The Adaptive Card a Teams message carries."""
    return message["attachments"][0]["content"]


def nodes(card: Any) -> Iterator[dict[str, Any]]:
    """Every element of a card, depth first, in the order a person reads them."""
    if isinstance(card, dict):
        yield card
        for value in card.values():
            yield from nodes(value)
    elif isinstance(card, list):
        for item in card:
            yield from nodes(item)


def words(card: dict[str, Any]) -> str:
    """Every text, title and value on a card, joined, for reading what it says."""
    return " | ".join(
        node[key]
        for node in nodes(card)
        for key in ("text", "title", "value")
        if isinstance(node.get(key), str)
    )


def executes(card: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The card's Action.Execute buttons, each with the title a person reads (an Apply: its input's label)."""
    found: list[tuple[str, dict[str, Any]]] = []
    label = ""
    for node in nodes(card):
        if node.get("type") == "Input.ChoiceSet":
            label = node.get("label", "")
        if node.get("type") == "Action.Execute":
            found.append((label if node["title"] == "Apply" else node["title"], node))
    return found


def find_action(card: dict[str, Any], title: str) -> dict[str, Any]:
    """The card's button whose title starts with `title`; LookupError, naming those it has, if none does."""
    for name, action in executes(card):
        if name.startswith(title):
            return action
    raise LookupError(f"the card offers no {title!r}, only {[name for name, _ in executes(card)]}")


def version(card: dict[str, Any]) -> int | None:
    """The ticket version a card was drawn from (None for a card without buttons)."""
    found = executes(card)
    return ActionRef.unpack(found[0][1]["verb"]).version if found else None
