"""What a typed command answers once the desk has done it: one row per command or query, in words for the
person who typed it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chatops.conversation.commands import ListReplies, RemoveReply, SaveReply, SwitchRequestChannel
from chatops.conversation.saved import Listed
from chatops.desk import Desk
from chatops.rich import Bullets, Code, Mention, Moment, Rich, Strong
from chatops.sla.clocks import LABELS, ZERO, duration
from chatops.text import clip
from chatops.tickets.commands import (
    Escalate,
    ListMine,
    ListNearBreach,
    ListQueue,
    MoveTicket,
    OpenTicket,
    ShowTicket,
    Start,
)
from chatops.tickets.views import ClockStanding, TicketView, status_line
from chatops.tracking.commands import LinkIssue, UnlinkIssue

# How a command's result reads: (the command, its result, the desk, how the command is spelt) -> words.
Answer = Callable[[Any, Any, Desk, str], Rich]


def _listing(title: str, empty: str) -> Answer:
    def listed(_command: Any, views: list[TicketView], _desk: Desk, _spelt: str) -> Rich:
        if not views:
            return (empty,)
        return (Strong(title), Bullets(tuple(status_line(view) for view in views)))

    return listed


def _clocks(_command: Any, standings: list[ClockStanding], _desk: Desk, _spelt: str) -> Rich:
    if not standings:
        return ("No SLA clock is running on your teams' tickets.",)
    lines = tuple(
        (
            f"#{s.ticket.id} {clip(s.ticket.title, 60)} · {LABELS[s.clock]} ",
            *(
                ("due in ", duration(s.left), " (", Moment(s.due), ")")
                if s.left > ZERO
                else ("breached, was due ", Moment(s.due))
            ),
        )
        for s in standings
    )
    return (Strong("Nearest to an SLA breach"), Bullets(lines))


def _replies(_command: Any, listed: list[Listed], _desk: Desk, spelt: str) -> Rich:
    if not listed:
        return ("There are no canned replies yet; save one with ", Code(f"{spelt} reply add"), ".")
    lines = tuple(
        (
            Code(reply.name),
            f" {clip(' '.join(reply.text.split()), 80)} · ",
            *(("saved by ", Mention(reply.saved_by)) if reply.saved_by else ("in the rules",)),
        )
        for reply in listed
    )
    return (Strong("Canned replies"), Bullets(lines))


def _saved(command: SaveReply, _reply: Any, _desk: Desk, _spelt: str) -> Rich:
    # Cards are not all redrawn at once for it: that would spend Slack's edits on every open ticket.
    return (
        f"Saved the canned reply “{command.name}”. Each ticket's card offers it under ",
        Strong("Canned reply…"),
        " from the card's next change.",
    )


def _escalated(_command: Escalate, view: TicketView, _desk: Desk, _spelt: str) -> Rich:
    return (f"Ticket #{view.id} is at T{view.tier} now; its requester and the next tier were told.",)


ANSWERS: dict[type, Answer] = {
    OpenTicket: lambda command, opened, desk, spelt: opened.confirmation,
    ShowTicket: lambda command, view, desk, spelt: status_line(view),
    ListMine: _listing("Your tickets", "You have no tickets yet."),
    ListQueue: _listing("Open queue", "The queue is empty."),
    ListNearBreach: _clocks,
    LinkIssue: lambda command, view, desk, spelt: (
        f"Ticket #{view.id} is linked to {command.key.strip().upper()}; its card shows the link.",
    ),
    UnlinkIssue: lambda command, view, desk, spelt: (f"Ticket #{view.id} is no longer linked to an issue.",),
    Start: lambda command, view, desk, spelt: (f"Ticket #{view.id} is in progress.",),
    Escalate: _escalated,
    MoveTicket: lambda command, view, desk, spelt: (
        f"Ticket #{view.id} is with {desk.config.team(view.team).name} now; its card is in their channel.",
    ),
    SwitchRequestChannel: lambda command, switched, desk, spelt: switched.said,
    SaveReply: _saved,
    RemoveReply: lambda command, name, desk, spelt: (f"Removed the canned reply “{name}”.",),
    ListReplies: _replies,
}
