"""What a ticket's change sends out: its cards in every place of its team, notes in their threads, and
words to its requester on the platform they asked from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import structlog

from chatops.desk import Desk
from chatops.messaging.outbox import MESSAGE, RELAY, message_payload, send_words
from chatops.messaging.ports import Destination, MessageRef
from chatops.rich import Rich, rich_to_json
from chatops.text import clip, pieces
from chatops.work import Work

log = structlog.get_logger("chatops.tickets")

# The kinds of outbox row that keep a ticket's cards on their platforms.
POST_CARD = "post_card"
UPDATE_CARD = "update_card"
THREAD_NOTE = "thread_note"
LINK_ORIGIN = "link_origin"
# Each part of long words posted as messages: within what every chat platform shows whole.
PART_LIMIT = 3000
# A card left behind in a team's place when its ticket moved to another team: it says where, and offers
# nothing more.
RETIRE_CARD = "retire_card"


def in_parts(lead: Rich, words: str) -> list[Rich]:
    """Words that may be long, as messages in order, each within what every chat platform shows whole:
    `lead` (said before them), then the words, in numbered parts if they need several."""
    parts = pieces(words, PART_LIMIT)
    if len(parts) == 1:
        return [(*lead, ":\n", words)]
    return [(*lead, f", part {i} of {len(parts)}:\n", part) for i, part in enumerate(parts, start=1)]


def post_cards(work: Work, desk: Desk, ticket_id: int, team: str) -> None:
    """Post the ticket's card in each of its team's places."""
    for place in desk.config.team(team).places():
        work.send(place.platform, POST_CARD, ticket_id=ticket_id)


def update_cards(work: Work, desk: Desk, ticket_id: int, team: str) -> None:
    """Redraw the ticket's cards wherever they are."""
    for place in desk.config.team(team).places():
        work.send(place.platform, UPDATE_CARD, ticket_id=ticket_id)


def note(
    work: Work, desk: Desk, ticket_id: int, team: str, text: Rich, *, copy_of: int | None = None
) -> None:
    """Add a line to the thread under each of the ticket's cards; `copy_of`: the ticket's message it
    relays, whose copies are kept once posted."""
    payload: dict[str, object] = {"text": rich_to_json(text)}
    if copy_of is not None:
        payload["copy_of"] = copy_of
    for place in desk.config.team(team).places():
        work.send(place.platform, THREAD_NOTE, ticket_id=ticket_id, payload=payload)


def tell_person(
    work: Work,
    desk: Desk,
    person: str,
    text: Rich,
    *,
    prefer: str,
    ticket_id: int | None,
    cards: Mapping[str, MessageRef] | None = None,
    copy_of: int | None = None,
) -> None:
    """Send a person a direct message on the platform they are on (`prefer`, if they are on it); with the
    ticket's `cards` (by platform), it ends with a link to the card on that platform, if there is one;
    `copy_of`: the ticket's message it relays, whose copy is kept once posted."""
    platform = desk.directory.reach(person, prefer, desk.config.platforms())
    if platform is None:
        # Someone known only by an email, say: no chat platform of ours can reach them. Said, not lost unseen.
        log.warning("person_unreachable", person=person, ticket=ticket_id)
        return
    card = (cards or {}).get(platform)
    payload = message_payload(Destination(person=person), text, link_to=card, label="Open the card")
    if copy_of is None:
        send_words(work, platform, MESSAGE, payload, ticket_id=ticket_id)
    else:
        relay(work, platform, ticket_id, payload, copy_of)


def relay(work: Work, platform: str, ticket_id: int | None, payload: dict[str, object], copy_of: int) -> None:
    """Queue words relayed from one person to another, keeping where they land once posted."""
    send_words(work, platform, RELAY, {**payload, "copy_of": copy_of}, ticket_id=ticket_id)


def tell_requester(work: Work, desk: Desk, ticket: TicketLike, news: Rich) -> None:
    """Tell the requester what became of their ticket, where they asked."""
    text: Rich = (f"Your ticket #{ticket.id} “{clip(ticket.title, 80)}” ", *news)
    tell_person(work, desk, ticket.requester, text, prefer=ticket.platform, ticket_id=ticket.id)


class TicketLike(Protocol):
    """What telling a requester needs to know of a ticket (a view or a row both have it)."""

    id: int
    title: str
    requester: str
    platform: str
