"""What the desk asks a requester once their ticket is resolved or closed, as cards with buttons in their
direct messages: did this solve it, how did we do, and a word with the rating."""

from __future__ import annotations

from typing import Protocol

import structlog

from chatops.desk import Desk
from chatops.messaging.cards import ActionRef, Button, Card, Prompt
from chatops.messaging.outbox import MESSAGE, card_payload, send_words
from chatops.messaging.ports import Destination
from chatops.rich import Rich, plain
from chatops.text import clip
from chatops.work import Work

log = structlog.get_logger("chatops.closing")

# The verbs of the requester's buttons; a rating's verb ends with its score.
SOLVED = "solved"
UNSOLVED = "unsolved"
RATE = "rate-"
COMMENT = "comment"
SCORES = range(1, 6)


class Asked(Protocol):
    """What asking a requester needs of a ticket row."""

    id: int
    title: str
    requester: str
    platform: str
    asks: int


def ask_confirmation(work: Work, desk: Desk, ticket: Asked, news: Rich | None = None) -> None:
    """Ask the requester whether the resolution solved it, with Yes and No; `news`: what they hear first,
    in the same message (that what they asked for shipped, say)."""
    number = _next(ticket)
    said: Rich = (*news, "\n\n") if news else ()
    # The notification says the news too: it is what the requester most wants to read first.
    summary = f"{plain(news)} " if news else ""
    card = Card(
        header=f"Ticket #{ticket.id}: did this solve it?",
        summary=f"{summary}Ticket #{ticket.id} was resolved: did this solve it?",
        body=(
            *said,
            f"Your ticket #{ticket.id} “{clip(ticket.title, 80)}” was resolved. Did this solve it? "
            "If you do not answer, it closes by itself in a few days.",
        ),
        actions=(
            Button("Yes, close it", ActionRef(ticket.id, SOLVED, number), style="primary"),
            Button("No, reopen it", ActionRef(ticket.id, UNSOLVED, number), style="danger"),
        ),
    )
    _send(work, desk, ticket, card)


def ask_rating(work: Work, desk: Desk, ticket: Asked) -> None:
    """Ask the requester to rate the help they got, 1 (poor) to 5 (great)."""
    number = _next(ticket)
    card = Card(
        header=f"How did we do on ticket #{ticket.id}?",
        summary=f"How did we do on ticket #{ticket.id}? Rate it from 1 to 5.",
        body=(f"Rate the help you got with “{clip(ticket.title, 80)}”, from 1 (poor) to 5 (great).",),
        actions=tuple(Button(str(score), ActionRef(ticket.id, f"{RATE}{score}", number)) for score in SCORES),
    )
    _send(work, desk, ticket, card)


def ask_comment(work: Work, desk: Desk, ticket: Asked, score: int) -> None:
    """Thank the requester for their rating, and offer them a box to say more."""
    number = _next(ticket)
    card = Card(
        header="Thank you",
        summary=f"Thank you for rating ticket #{ticket.id}.",
        body=(f"You rated ticket #{ticket.id} {score} of 5. Anything to add? The team reads every word.",),
        actions=(
            Prompt(
                "Add a comment",
                ActionRef(ticket.id, COMMENT, number),
                title=f"Comment on #{ticket.id}",
                placeholder="What went well, or what could have gone better?",
            ),
        ),
    )
    _send(work, desk, ticket, card)


def _next(ticket: Asked) -> int:
    # Each question has a number of its own: an answer to an earlier one is told it is over.
    ticket.asks += 1
    return ticket.asks


def _send(work: Work, desk: Desk, ticket: Asked, card: Card) -> None:
    platform = desk.directory.reach(ticket.requester, ticket.platform, desk.config.platforms())
    if platform is None:
        log.warning("person_unreachable", person=ticket.requester, ticket=ticket.id)
        return
    payload = card_payload(Destination(person=ticket.requester), card)
    send_words(work, platform, MESSAGE, payload, ticket_id=ticket.id)
