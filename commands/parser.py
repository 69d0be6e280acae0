"""The `/ticket` text language, parsed into commands; pure, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatops.errors import InvalidInput
from chatops.messaging.rich import Bullets, Code, Rich, Strong

MAX_COMMAND_TEXT = 4000


@dataclass(frozen=True)
class Help:
    """Show what the command can do."""


@dataclass(frozen=True)
class OpenForm:
    """Open the ticket form (no text was given)."""


@dataclass(frozen=True)
class OpenTicket:
    """Open a ticket from the text."""

    text: str


@dataclass(frozen=True)
class ShowStatus:
    """Show one ticket."""

    number: int


@dataclass(frozen=True)
class ListMine:
    """List the caller's own tickets."""


@dataclass(frozen=True)
class ListOpen:
    """List the open queue of the caller's teams."""


@dataclass(frozen=True)
class ShowSla:
    """List the caller's teams' tickets nearest to an SLA breach."""


@dataclass(frozen=True)
class LinkIssue:
    """Link a ticket to an issue in the tracker, by the issue's key."""

    number: int
    key: str


@dataclass(frozen=True)
class UnlinkIssue:
    """Take a ticket off its issue."""

    number: int


Command = Help | OpenForm | OpenTicket | ShowStatus | ListMine | ListOpen | ShowSla | LinkIssue | UnlinkIssue

_NUMBER = re.compile(r"#?(\d{1,9})")
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*-\d+")


def parse(text: str, *, command: str = "/ticket") -> Command:
    """Read the text typed after the command; InvalidInput says what was wrong and how to say it."""
    text = text.strip()
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
    verb, rest = word.lower(), rest.strip()
    single_argument = bool(rest) and " " not in rest

    if verb == "help" and not rest:
        return Help()
    if verb == "sla" and not rest:
        return ShowSla()
    if verb == "status" and (not rest or single_argument):
        match = _NUMBER.fullmatch(rest)
        if not match:
            raise InvalidInput(
                Code("status"), " needs a ticket number, as in ", Code(f"{command} status 42"), "."
            )
        return ShowStatus(int(match.group(1)))
    parts = rest.split()
    # "link is broken" is a request in plain words; a number or an issue key first makes it the command.
    if verb == "link" and (not parts or _NUMBER.fullmatch(parts[0]) or _KEY.fullmatch(parts[0])):
        match = _NUMBER.fullmatch(parts[0]) if len(parts) == 2 else None
        if match is None:
            raise InvalidInput(
                Code("link"),
                " needs a ticket number and an issue key, as in ",
                Code(f"{command} link 42 SUP-123"),
                ".",
            )
        return LinkIssue(int(match.group(1)), parts[1])
    if verb == "unlink" and (not rest or _NUMBER.fullmatch(rest)):
        match = _NUMBER.fullmatch(rest)
        if not match:
            raise InvalidInput(
                Code("unlink"), " needs a ticket number, as in ", Code(f"{command} unlink 42"), "."
            )
        return UnlinkIssue(int(match.group(1)))
    if verb == "list" and (not rest or single_argument):
        if not rest:
            return ListMine()
        if rest.lower() == "open":
            return ListOpen()
        raise InvalidInput(
            Code("list"),
            " takes nothing (your tickets) or ",
            Code("open"),
            f" (your team's queue), not {rest!r}.",
        )
    if not rest:
        raise InvalidInput(
            f"“{word}” is not something ",
            Code(command),
            " knows. Describe the problem in a few words to open a ticket, or see ",
            Code(f"{command} help"),
            ".",
        )
    return OpenTicket(text)


def help_text(command: str, *, form: bool = True, tracker: str | None = None) -> Rich:
    """What `help` answers; `form` where the platform has the form and the message shortcut (Slack);
    `tracker`, the issue tracker tickets can be linked to, if the desk has one."""
    opening: list[Rich] = [
        (
            Code(f"{command} <what is wrong>"),
            " opens a ticket, e.g. ",
            Code(f"{command} The export crashes with error 500"),
        )
    ]
    if form:
        opening.append(
            (Code(command), " alone opens a form with summary, description, category and priority")
        )
    elsewhere: Rich = (
        (
            "You can also send the bot a direct message, or use ",
            Strong("Create ticket"),
            " on any message's menu.",
        )
        if form
        else (
            "You can also write to the bot in a personal chat: a message there that is not a command "
            "opens a ticket.",
        )
    )
    return (
        Strong("Support desk"),
        Bullets(
            (
                *opening,
                (Code(f"{command} status 42"), " shows ticket #42"),
                (
                    Code(f"{command} list"),
                    " lists your tickets; agents can use ",
                    Code(f"{command} list open"),
                    " for their team's queue, and ",
                    Code(f"{command} sla"),
                    " for its tickets nearest to an SLA breach",
                ),
                *(
                    (
                        (
                            Code(f"{command} link 42 SUP-123"),
                            f" links ticket #42 to a {tracker.capitalize()} issue (agents); ",
                            Code(f"{command} unlink 42"),
                            " takes it off",
                        ),
                    )
                    if tracker
                    else ()
                ),
                elsewhere,
            )
        ),
    )
