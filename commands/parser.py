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


@dataclass(frozen=True)
class SaveReply:
    """Save a canned reply under a name, for the cards' menus (agents and leads)."""

    name: str
    text: str


@dataclass(frozen=True)
class RemoveReply:
    """Take a canned reply saved from chat off the cards' menus (agents and leads)."""

    name: str


@dataclass(frozen=True)
class ListReplies:
    """List the canned replies, the rules' and those saved from chat (agents and leads)."""


@dataclass(frozen=True)
class SwitchChannel:
    """Make the channel typed in a request channel, or an ordinary one again (team leads)."""

    on: bool


Command = (
    Help
    | OpenForm
    | OpenTicket
    | ShowStatus
    | ListMine
    | ListOpen
    | ShowSla
    | LinkIssue
    | UnlinkIssue
    | SwitchChannel
    | SaveReply
    | RemoveReply
    | ListReplies
)

_NUMBER = re.compile(r"#?(\d{1,9})")
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*-\d+")
# "reply is slow" is a request in plain words; add, remove or list after it makes it the command. A reply's
# text runs to the end, line breaks and all.
_REPLY = re.compile(r"reply\s+(add|remove|list)(?:\s+(.*))?", re.IGNORECASE | re.DOTALL)
_NAMED = re.compile(r"(\S+)(?:\s+(.*))?", re.DOTALL)


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
    # "channel is down" is a request; only on or off after it makes it the command.
    if verb == "channel" and (not rest or rest.lower() in ("on", "off")):
        if not rest:
            raise InvalidInput(
                Code("channel"),
                " takes ",
                Code("on"),
                " or ",
                Code("off"),
                ", as in ",
                Code(f"{command} channel on"),
                ".",
            )
        return SwitchChannel(on=rest.lower() == "on")
    replying = _REPLY.fullmatch(text)
    if replying is not None or (verb == "reply" and not rest):
        return _reply(replying, command)
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


def _reply(typed: re.Match[str] | None, command: str) -> Command:
    """`reply add <name> <text>`, `reply remove <name>` or `reply list`; names are taken in lowercase."""
    action = typed.group(1).lower() if typed is not None else None
    rest = (typed.group(2) or "").strip() if typed is not None else ""
    named = _NAMED.fullmatch(rest)
    if action == "list" and not rest:
        return ListReplies()
    if action == "add" and named is not None and named.group(2):
        return SaveReply(named.group(1).lower(), named.group(2).strip())
    if action == "remove" and named is not None and not named.group(2):
        return RemoveReply(named.group(1).lower())
    adding = Code(f"{command} reply add thanks-wait Hi {{requester}}, we are looking into {{ticket}}")
    if action == "add":
        raise InvalidInput(Code("reply add"), " needs a name, then the reply's text, as in ", adding, ".")
    if action == "remove":
        raise InvalidInput(
            Code("reply remove"),
            " needs the reply's name alone, as in ",
            Code(f"{command} reply remove thanks-wait"),
            ".",
        )
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
                (
                    Code(f"{command} channel on"),
                    " typed in a channel makes each new message there a ticket for your team (team leads); ",
                    Code(f"{command} channel off"),
                    " stops it",
                ),
                (
                    Code(f"{command} reply add <name> <text>"),
                    " saves a canned reply for the cards' menus, with {requester}, {ticket}, {title} and "
                    "{agent} filled in when sent (agents); ",
                    Code(f"{command} reply list"),
                    " shows them, ",
                    Code(f"{command} reply remove <name>"),
                    " takes one off",
                ),
                elsewhere,
            )
        ),
    )
