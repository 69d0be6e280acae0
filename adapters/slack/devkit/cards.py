"""The bot's cards as Slack shows them: their controls, read back through the desk's own action refs."""

from __future__ import annotations

from typing import Any

from adapters.slack.blocks import PROMPT
from chatops.messaging.cards import ActionRef


def controls(message: dict[str, Any]) -> list[tuple[ActionRef, dict[str, Any]]]:
    """Every control of ours on a posted card, with its ref and the element (block_id filled in); a
    prompt's button is read through the form it opens."""
    found = []
    for block in message.get("blocks", []):
        for element in block.get("elements", []):
            try:
                ref = ActionRef.unpack(element.get("action_id", "").removeprefix(PROMPT))
            except ValueError:
                continue
            found.append((ref, {**element, "block_id": block.get("block_id")}))
    return found


def control(message: dict[str, Any], verb: str) -> dict[str, Any]:
    """The element that does `verb`; KeyError naming the verbs the card offers if none does."""
    for ref, element in controls(message):
        if ref.verb == verb:
            return element
    raise KeyError(f"the card offers no {verb!r}, only {verbs(message)}")


def verbs(message: dict[str, Any]) -> list[str]:
    """The verbs of the card's controls, in order."""
    return [ref.verb for ref, _ in controls(message)]


def version(message: dict[str, Any]) -> int | None:
    """The ticket version the card was drawn from (None for a card without controls)."""
    found = controls(message)
    return found[0][0].version if found else None
