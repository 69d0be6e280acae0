"""The durable outbox: side effects written with the change that caused them, carried out afterwards.

A row names its target (a chat platform by name, or another system such as `jira`) and its kind; the
dispatcher finds the handler for the pair. Each domain names its own kinds.
"""

from __future__ import annotations

from typing import Any

from chatops.messaging.cards import Card, card_to_json
from chatops.messaging.ports import Destination, MessageRef
from chatops.rich import Rich, rich_to_json
from chatops.work import Work

# Kinds every chat platform carries out, whatever the message is about.
MESSAGE = "message"
TELL_PRIVATELY = "tell_privately"
# Words relayed from one person to another (a requester's to the team, an agent's to the requester): the
# domain that relays them carries them out, and keeps where each copy landed.
RELAY = "relay"
# The kinds that carry words to a place or a person, named in their payload: their destination.
WORDS = (MESSAGE, TELL_PRIVATELY, RELAY)


def send_words(
    work: Work, platform: str, kind: str, payload: dict[str, Any], *, ticket_id: int | None = None
) -> None:
    """Queue words to a person or a place: a ticket's rows keep their order per destination, so that a word
    to a person never waits behind a busy channel."""
    work.send(platform, kind, ticket_id=ticket_id, payload=payload, destination=destination_of(kind, payload))


def destination_of(kind: str, payload: dict[str, Any]) -> str | None:
    """Where a row goes, as the outbox keeps a ticket's rows in order: `person:<id>` for a person (their
    direct messages, or a private word), `place:<address>` for a place. None for a ticket's card rows,
    which go to its team's place on the row's platform, and for rows to other systems."""
    if kind not in WORDS:
        return None
    # A private word names its person and place beside its text; a message, in its `to`.
    to = payload.get("to", payload)
    if to.get("person"):
        return f"person:{to['person']}"
    return f"place:{to['place']}" if to.get("place") else None


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
