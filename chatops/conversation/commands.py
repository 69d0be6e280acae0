"""What requesters say to the desk after their first word, as small frozen commands."""

from __future__ import annotations

from dataclasses import dataclass

from chatops.tickets.commands import CardCommand, OpenTicket


@dataclass(frozen=True)
class CustomerWrote:
    """A requester wrote to the bot in a conversation of their own (a DM, a personal chat): it joins their
    open ticket from that conversation, or opens one (`new <text>` always opens one)."""

    request: OpenTicket


@dataclass(frozen=True)
class ThreadMessage:
    """Someone wrote in the thread under a ticket's card: talk among agents, unless it starts with the
    reply prefix, which makes it a public reply to the requester."""

    platform: str
    place: str
    # The card's message, whose thread it is.
    card: str
    author: str
    text: str
    # The platform's id of the message itself: a redelivery is taken in once.
    ref: str
    # Whether the message replied to is the bot's own: a card whose post is not on record yet, maybe.
    under_own: bool = False


@dataclass(frozen=True)
class SendCanned(CardCommand):
    """Send the requester one of the rules' canned replies, chosen on the card."""

    name: str | None = None
