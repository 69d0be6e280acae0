"""The ticket command's words (`/ticket ...` in Slack, `ticket ...` in Teams), read into the desk's own
commands and queries; pure, no I/O. Each verb is one row of the grammar; words that are no command are a
request in plain words."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chatops.conversation.commands import ListReplies, RemoveReply, SaveReply, SwitchRequestChannel
from chatops.errors import InvalidInput
from chatops.messaging.ports import Place
from chatops.rich import Code
from chatops.tickets.commands import (
    Escalate,
    ListMine,
    ListNearBreach,
    ListQueue,
    MoveTicket,
    OpenTicket,
    ShowTicket,
    Start,
    Via,
)
from chatops.tracking.commands import LinkIssue, UnlinkIssue

MAX_COMMAND_TEXT = 4000


@dataclass(frozen=True)
class Caller:
    """Who typed the command (a person id), where, when, and how the command is spelt on their platform."""

    person: str
    platform: str
    # The channel or conversation it was typed in.
    place: str
    command: str
    now: datetime
    # Where a refusal is told privately later (None: it is the answer to the command itself).
    tell: Place | None = None
    workspace: str | None = None
    # The platform's id of this very request, so that a replay of it opens nothing new.
    request_id: str | None = None
    # What the platform calls the person, when it says so with the request.
    name: str | None = None


@dataclass(frozen=True)
class Help:
    """Show what the command can do."""


@dataclass(frozen=True)
class OpenForm:
    """Open the ticket form (no text was given)."""


_NUMBER = re.compile(r"#?(\d{1,9})")
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*-\d+")
_NAMED = re.compile(r"(\S+)(?:\s+(.*))?", re.DOTALL)
# A verb's words: what follows it (None: the words are a request in plain words, not the command).
Grammar = Callable[[str, Caller], Any]


def parse(text: str, caller: Caller) -> Any:
    """The desk's command or query for the typed text (Help, OpenForm, or a request to open a ticket);
    InvalidInput says what was wrong and how to say it."""
    text = text.strip()
    command = caller.command
    if len(text) > MAX_COMMAND_TEXT:
        raise InvalidInput(
            f"That is {len(text):,} characters; ",
            Code(command),
            f" takes at most {MAX_COMMAND_TEXT:,}. Send the details as a direct message to the bot, or use ",
            Code(command),
            " alone to open the form.",
        )
    if not text:
        return OpenForm()
    word, _, rest = text.partition(" ")
    grammar = GRAMMAR.get(word.lower())
    parsed = grammar(rest.strip(), caller) if grammar is not None else None
    if parsed is not None:
        return parsed
    if not rest.strip():
        raise InvalidInput(
            f"“{word}” is not something ",
            Code(command),
            " knows. Describe the problem in a few words to open a ticket, or see ",
            Code(f"{command} help"),
            ".",
        )
    return request(text, caller)


def is_command(text: str) -> bool:
    """Whether typed words are one of the desk's commands rather than a request in plain words (where a
    platform has no command of its own to tell them apart)."""
    word, _, rest = text.strip().partition(" ")
    grammar = GRAMMAR.get(word.lower())
    if grammar is None:
        return False
    try:
        return grammar(rest.strip(), _NOBODY) is not None
    except InvalidInput:
        return True


def request(text: str, caller: Caller) -> OpenTicket:
    """A request in plain words, typed after the command."""
    return OpenTicket(
        text=text,
        requester=caller.person,
        requester_name=caller.name,
        via=Via.COMMAND,
        platform=caller.platform,
        workspace=caller.workspace,
        origin_place=caller.place,
        command=caller.command,
        request_id=caller.request_id,
    )


def _alone(build: Callable[[Caller], Any]) -> Grammar:
    """A verb that takes nothing after it (with words after it, it is a request in plain words)."""
    return lambda rest, caller: None if rest else build(caller)


def _status(rest: str, caller: Caller) -> ShowTicket | None:
    if rest and " " in rest:
        return None
    number = _NUMBER.fullmatch(rest)
    if number is None:
        raise _needs("status", "a ticket number", f"{caller.command} status 42")
    return ShowTicket(int(number.group(1)), caller.person)


def _list(rest: str, caller: Caller) -> ListMine | ListQueue | None:
    if not rest:
        return ListMine(caller.person)
    if " " in rest:
        return None
    if rest.lower() == "open":
        return ListQueue(caller.person)
    raise InvalidInput(
        Code("list"),
        " takes nothing (your tickets) or ",
        Code("open"),
        f" (your team's queue), not {rest!r}.",
    )


def _link(rest: str, caller: Caller) -> LinkIssue | None:
    parts = rest.split()
    # "link is broken" is a request in plain words; a number or an issue key first makes it the command.
    if parts and not (_NUMBER.fullmatch(parts[0]) or _KEY.fullmatch(parts[0])):
        return None
    number = _NUMBER.fullmatch(parts[0]) if len(parts) == 2 else None
    if number is None:
        raise _needs("link", "a ticket number and an issue key", f"{caller.command} link 42 SUP-123")
    return LinkIssue(int(number.group(1)), None, caller.person, caller.tell, key=parts[1])


def _numbered(verb: str, build: Callable[[int, Caller], Any]) -> Grammar:
    """A verb that takes a ticket number alone (other words after it are a request in plain words)."""

    def read(rest: str, caller: Caller) -> Any:
        number = _NUMBER.fullmatch(rest)
        if rest and number is None:
            return None
        if number is None:
            raise _needs(verb, "a ticket number", f"{caller.command} {verb} 42")
        return build(int(number.group(1)), caller)

    return read


def _escalate(rest: str, caller: Caller) -> Escalate | None:
    number, _, reason = rest.partition(" ")
    found = _NUMBER.fullmatch(number)
    # "escalate this please" is a request in plain words; a ticket number first makes it the command.
    if number and found is None:
        return None
    if found is None or not reason.strip():
        raise _needs(
            "escalate", "a ticket number and why", f"{caller.command} escalate 42 needs the database team"
        )
    return Escalate(int(found.group(1)), None, caller.person, caller.tell, reason=reason.strip())


def _move(rest: str, caller: Caller) -> MoveTicket | None:
    parts = rest.split()
    found = _NUMBER.fullmatch(parts[0]) if parts else None
    if parts and found is None:
        return None
    if found is None or len(parts) != 2:
        raise _needs("move", "a ticket number and a team", f"{caller.command} move 42 billing")
    return MoveTicket(int(found.group(1)), None, caller.person, caller.tell, team=parts[1].lower())


def _channel(rest: str, caller: Caller) -> SwitchRequestChannel | None:
    # "channel is down" is a request; only on or off after it makes it the command.
    if rest and rest.lower() not in ("on", "off"):
        return None
    if not rest:
        raise InvalidInput(
            Code("channel"),
            " takes ",
            Code("on"),
            " or ",
            Code("off"),
            ", as in ",
            Code(f"{caller.command} channel on"),
            ".",
        )
    return SwitchRequestChannel(caller.platform, caller.place, caller.person, on=rest.lower() == "on")


def _reply(rest: str, caller: Caller) -> Any:
    """`reply add <name> <text>`, `reply remove <name>` or `reply list`; names are taken in lowercase.
    "reply is slow" is a request in plain words; a reply's text runs to the end, line breaks and all."""
    action, _, words = rest.partition(" ")
    action = action.lower()
    if rest and action not in ("add", "remove", "list"):
        return None
    named = _NAMED.fullmatch(words.strip())
    command = caller.command
    if action == "list" and not words.strip():
        return ListReplies(caller.person)
    if action == "add" and named is not None and named.group(2):
        return SaveReply(named.group(1).lower(), named.group(2).strip(), caller.person, command)
    if action == "remove" and named is not None and not named.group(2):
        return RemoveReply(named.group(1).lower(), caller.person)
    adding = Code(f"{command} reply add thanks-wait Hi {{requester}}, we are looking into {{ticket}}")
    if action == "add":
        raise InvalidInput(Code("reply add"), " needs a name, then the reply's text, as in ", adding, ".")
    if action == "remove":
        raise _needs("reply remove", "the reply's name alone", f"{command} reply remove thanks-wait")
    if action == "list":
        raise InvalidInput(Code("reply list"), " takes nothing after it.")
    raise InvalidInput(
        adding,
        " saves a canned reply for the cards' menus; ",
        Code(f"{command} reply remove thanks-wait"),
        " takes one off, and ",
        Code(f"{command} reply list"),
        " shows them all.",
    )


def _needs(verb: str, what: str, example: str) -> InvalidInput:
    return InvalidInput(Code(verb), f" needs {what}, as in ", Code(example), ".")


GRAMMAR: dict[str, Grammar] = {
    "help": _alone(lambda caller: Help()),
    "sla": _alone(lambda caller: ListNearBreach(caller.person, caller.now)),
    "status": _status,
    "list": _list,
    "link": _link,
    "unlink": _numbered(
        "unlink", lambda number, caller: UnlinkIssue(number, None, caller.person, caller.tell)
    ),
    "start": _numbered("start", lambda number, caller: Start(number, None, caller.person, caller.tell)),
    "escalate": _escalate,
    "move": _move,
    "channel": _channel,
    "reply": _reply,
}

_NOBODY = Caller("", "", "", "", datetime.fromtimestamp(0, UTC))
