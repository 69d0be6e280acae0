"""The conversation as small frozen commands: what people say to the desk after their first word, what
is said in request channels, and turning a channel into one."""

from __future__ import annotations

from dataclasses import dataclass

from chatops.tickets.commands import OpenTicket, TicketCommand


@dataclass(frozen=True)
class DirectMessage:
    """A requester wrote to the bot in a conversation of their own (a DM, a personal chat): it joins their
    open ticket from that conversation, or opens one (`new <text>` always opens one)."""

    request: OpenTicket


# The verb of the buttons that place a held message.
JOIN = "join"


@dataclass(frozen=True)
class PlaceHeld(TicketCommand):
    """The requester chose the ticket a held message of theirs is about (ticket 0: a new one); the card
    command's version is the held message's id."""


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
class SendCanned(TicketCommand):
    """Send the requester one of the rules' canned replies, chosen on the card."""

    name: str | None = None


@dataclass(frozen=True)
class ReplyToCustomer(TicketCommand):
    """An agent's reply to the requester, typed in the card's Reply to customer form: sent whatever the
    card showed since, so that typed words are never turned away for a stale card."""

    text: str | None = None


@dataclass(frozen=True)
class ChannelMessage:
    """Someone wrote in a channel that may be a request channel: a new message there is a request, and a
    reply in the thread of one that became a ticket is part of that ticket's conversation."""

    platform: str
    place: str
    author: str
    text: str
    # The platform's id of the message itself: a redelivery, or a second delivery of it, opens one ticket.
    ref: str
    # The message it replies to, in a thread (None: a new message).
    thread: str | None = None
    author_name: str | None = None
    workspace: str | None = None
    # The command people ask about a ticket with, on this platform (for the answer in the thread).
    command: str | None = None


@dataclass(frozen=True)
class SwitchRequestChannel:
    """A lead turns the channel they typed in into a request channel for their team, or back."""

    platform: str
    place: str
    actor: str
    on: bool


@dataclass(frozen=True)
class RequestChannelOf:
    """Which team a channel files its messages for, if it is a request channel (by the rules or from chat)."""

    platform: str
    place: str


@dataclass(frozen=True)
class SaveReply:
    """An agent or lead saves a canned reply from chat, for every card's menu beside the rules' ones."""

    name: str
    text: str
    actor: str
    # How the person types the desk's command on their platform, to name it in an answer.
    command: str | None = None


@dataclass(frozen=True)
class RemoveReply:
    """An agent or lead takes a canned reply saved from chat off the cards' menus."""

    name: str
    actor: str


@dataclass(frozen=True)
class ListReplies:
    """Every canned reply an agent can send: the rules' and those saved from chat."""

    actor: str
