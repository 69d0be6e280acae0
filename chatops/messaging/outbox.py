"""The durable outbox: side effects written with the change that caused them, carried out afterwards.

A row names its target (a chat platform by name, or another system such as `jira`) and its kind; the
dispatcher finds the handler for the pair. Each domain names its own kinds.
"""

from __future__ import annotations

from typing import Any

from chatops.messaging.cards import Card, card_to_json
from chatops.messaging.ports import Destination, MessageRef
from chatops.rich import Rich, rich_to_json

# Kinds every chat platform carries out, whatever the message is about.
MESSAGE = "message"
TELL_PRIVATELY = "tell_privately"
# Words relayed from one person to another (a requester's to the team, an agent's to the requester): the
# domain that relays them carries them out, and keeps where each copy landed.
RELAY = "relay"
# The kinds that carry words to a person; they keep their own order, apart from a ticket's cards.
WORDS = (MESSAGE, TELL_PRIVATELY, RELAY)


def message_payload(
    to: Destination, text: Rich, *, link_to: MessageRef | None = None, label: str = ""
) -> dict[str, Any]:
    """What a MESSAGE row carries: where to, the rich text, and a message on the same platform to end it
    with a link to (labelled `label`), which only the platform can make when the text is sent."""
    payload: dict[str, Any] = {"to": _target(to), "text": rich_to_json(text)}
    if link_to is not None:
        payload["link"] = {"place": link_to.place, "id": link_to.id, "label": label}
    return payload


def card_payload(to: Destination, card: Card) -> dict[str, Any]:
    """What a MESSAGE row carries that posts a card of its own (a question with buttons, say)."""
    return {"to": _target(to), "card": card_to_json(card)}


def _target(to: Destination) -> dict[str, Any]:
    target: dict[str, Any] = {"place": to.place, "person": to.person}
    if to.thread is not None:
        target["thread"] = {"place": to.thread.place, "id": to.thread.id}
    return target


def private_payload(place: str | None, person: str, text: Rich) -> dict[str, Any]:
    """What a TELL_PRIVATELY row carries: the person, the place they are in (if any), and the text."""
    return {"place": place, "person": person, "text": rich_to_json(text)}


def destination_from(payload: dict[str, Any]) -> Destination:
    """The destination stored by message_payload."""
    thread = payload.get("thread")
    return Destination(
        place=payload.get("place"),
        person=payload.get("person"),
        thread=MessageRef(thread["place"], thread["id"]) if thread else None,
    )
