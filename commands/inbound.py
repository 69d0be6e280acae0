"""What a person did on a chat platform, as the desk needs to know it, whichever platform it was: each
adapter turns its payloads into these, and does nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from chatops.messaging.cards import ActionRef


@dataclass(frozen=True, kw_only=True)
class Inbound:
    """Who did it (their id on the platform), where, and what the platform calls this very delivery."""

    platform: str
    user: str
    # The channel or conversation it happened in (None where the platform names none).
    place: str | None
    # The platform's id of this request, so that a replay of it changes nothing.
    request_id: str | None = None
    # What the platform calls the person, when it says so with the request.
    name: str | None = None
    workspace: str | None = None
    # How the person types the desk's command there (`/ticket`, `ticket`), to name it in answers.
    command: str = ""
    # The platform has no way to answer within this request: whatever the person is to read goes to
    # them privately, through the outbox, where they are.
    answer_later: bool = True


@dataclass(frozen=True, kw_only=True)
class Typed(Inbound):
    """The desk's command, with what was typed after it (as written, markup read back)."""

    text: str
    # The platform has the ticket form (the command alone opens it) and the message shortcut.
    form: bool = False


@dataclass(frozen=True, kw_only=True)
class Pressed(Inbound):
    """A control on one of the desk's cards pressed (or the form behind it sent)."""

    ref: ActionRef
    # The option chosen, or the words typed into the control's form.
    choice: str | None = None
    # The choice is a person, by their id on the platform (a people picker).
    chose_user: bool = False


@dataclass(frozen=True, kw_only=True)
class Searched(Inbound):
    """Words typed into one of a card's menus whose options the platform asks for as they are typed."""

    ref: ActionRef
    typed: str = ""


@dataclass(frozen=True, kw_only=True)
class Direct(Inbound):
    """A message to the bot in the person's own conversation with it."""

    text: str
    # The message's id on the platform.
    ref: str
    # Whether words here may be the desk's commands (where the platform has no command of its own).
    commands: bool = False


@dataclass(frozen=True, kw_only=True)
class Posted(Inbound):
    """A message in a channel: a new one, or a reply in the thread of another."""

    text: str
    ref: str
    # The message it replies to (None: a new message).
    thread: str | None = None
    # It replies under one of the bot's own messages (a card whose post may not be on record yet).
    under_own: bool = False
    # It speaks to the bot (mentions it), where channel messages are otherwise not for the bot.
    addressed: bool = False
    # Why it is not someone's words at all (a bot's message, an edit, a join), if it is not.
    skipped: str | None = None


@dataclass(frozen=True, kw_only=True)
class Reacted(Inbound):
    """The desk's emoji put on someone's message: that message (and its thread) is a request."""

    # The message's author, by their id on the platform (None: no person wrote it).
    author: str | None
    ref: str
    author_name: str | None = None
    # The message as its title, and the message with its thread so far as the request.
    title: str | None = None
    text: str = ""


@dataclass(frozen=True, kw_only=True)
class Shortcut(Inbound):
    """A message turned into a ticket from its menu, by whoever used the menu."""

    # The message's author, by their id on the platform (None: a bot wrote it).
    author: str | None
    ref: str | None
    author_name: str | None = None
    text: str = ""


@dataclass(frozen=True, kw_only=True)
class Submitted(Inbound):
    """The ticket form sent: its summary, description, and the category and priority chosen, if any."""

    summary: str
    description: str = ""
    category: str | None = None
    priority: str | None = None
