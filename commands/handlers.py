"""Running the ticket command's words (`/ticket ...` in Slack, `ticket ...` in Teams) against the desk."""

from __future__ import annotations

from dataclasses import dataclass

from chatops.bus import Answer, MessageBus
from chatops.conversation import commands as conversation
from chatops.conversation.commands import SwitchRequestChannel
from chatops.conversation.saved import Listed
from chatops.messaging.rich import Bullets, Code, Mention, Moment, Rich, Strong
from chatops.sla.clocks import LABELS, ZERO, duration
from chatops.tickets import commands as ticket
from chatops.tickets.card import clip, status_line
from chatops.tickets.model import TicketView
from chatops.tickets.views import ClockStanding
from chatops.tracking import commands as tracking
from commands.parser import (
    Command,
    Help,
    LinkIssue,
    ListMine,
    ListOpen,
    ListReplies,
    OpenTicket,
    RemoveReply,
    SaveReply,
    ShowSla,
    ShowStatus,
    SwitchChannel,
    UnlinkIssue,
    help_text,
)


@dataclass(frozen=True)
class Caller:
    """Who typed the command (a person id), where, and how the command is spelt on their platform."""

    person: str
    place: str
    platform: str
    command: str
    workspace: str | None = None
    # The platform's id of this very request, so that a replay of it opens nothing new.
    request_id: str | None = None
    # What the platform calls the person, when it says so with the request.
    name: str | None = None


class CommandRunner:
    """Runs parsed commands through the bus and answers with neutral rich text."""

    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus

    async def run(self, command: Command, caller: Caller) -> Answer:
        """Run a command (other than opening the form); the answer's value is the reply for the caller."""
        if isinstance(command, Help):
            return Answer(help_text(caller.command, tracker=self.bus.desk.tracker))
        if isinstance(command, OpenTicket):
            answer = await self.bus.handle(
                ticket.OpenTicket(
                    text=command.text,
                    requester=caller.person,
                    requester_name=caller.name,
                    via="command",
                    platform=caller.platform,
                    workspace=caller.workspace,
                    origin_place=caller.place,
                    command=caller.command,
                    request_id=caller.request_id,
                )
            )
            return Answer(answer.value.confirmation) if answer.done else answer
        if isinstance(command, ShowStatus):
            answer = await self.bus.ask(ticket.ShowTicket(command.number, caller.person))
            return Answer(status_line(answer.value)) if answer.done else answer
        if isinstance(command, ListMine):
            answer = await self.bus.ask(ticket.ListMine(caller.person))
            return _listing("Your tickets", answer, "You have no tickets yet.")
        if isinstance(command, ListOpen):
            answer = await self.bus.ask(ticket.ListQueue(caller.person))
            return _listing("Open queue", answer, "The queue is empty.")
        if isinstance(command, ShowSla):
            answer = await self.bus.ask(ticket.ListNearBreach(caller.person, self.bus.clock.now()))
            return _clocks(answer)
        if isinstance(command, LinkIssue):
            answer = await self.bus.handle(tracking.LinkIssue(command.number, caller.person, key=command.key))
            return Answer(_linked(answer.value)) if answer.done else answer
        if isinstance(command, UnlinkIssue):
            answer = await self.bus.handle(tracking.UnlinkIssue(command.number, caller.person))
            return (
                Answer((f"Ticket #{command.number} is no longer linked to an issue.",))
                if answer.done
                else answer
            )
        if isinstance(command, SwitchChannel):
            answer = await self.bus.handle(
                SwitchRequestChannel(caller.platform, caller.place, caller.person, on=command.on)
            )
            return Answer(answer.value.said) if answer.done else answer
        if isinstance(command, SaveReply):
            answer = await self.bus.handle(
                conversation.SaveReply(command.name, command.text, caller.person, caller.command)
            )
            return Answer(_saved(command.name)) if answer.done else answer
        if isinstance(command, RemoveReply):
            answer = await self.bus.handle(conversation.RemoveReply(command.name, caller.person))
            return Answer((f"Removed the canned reply “{command.name}”.",)) if answer.done else answer
        if isinstance(command, ListReplies):
            return _replies(await self.bus.ask(conversation.ListReplies(caller.person)), caller.command)
        raise TypeError(f"the form is opened by the adapter, not here: {command!r}")


def _saved(name: str) -> Rich:
    # Cards are not all redrawn at once for it: that would spend Slack's edits on every open ticket.
    return (
        f"Saved the canned reply “{name}”. Each ticket's card offers it under ",
        Strong("Canned reply…"),
        " from the card's next change.",
    )


def _replies(answer: Answer, command: str) -> Answer:
    if not answer.done:
        return answer
    listed: list[Listed] = answer.value
    if not listed:
        return Answer(("There are no canned replies yet; save one with ", Code(f"{command} reply add"), "."))
    lines = tuple(
        (
            Code(reply.name),
            f" {clip(' '.join(reply.text.split()), 80)} · ",
            *(("saved by ", Mention(reply.saved_by)) if reply.saved_by else ("in the rules",)),
        )
        for reply in listed
    )
    return Answer((Strong("Canned replies"), Bullets(lines)))


def _linked(view: TicketView) -> Rich:
    issue = view.issue
    key = issue.key if issue is not None else "the issue"
    return (f"Ticket #{view.id} is linked to {key}; its card shows the link.",)


def _clocks(answer: Answer) -> Answer:
    if not answer.done:
        return answer
    standings: list[ClockStanding] = answer.value
    if not standings:
        return Answer(("No SLA clock is running on your teams' tickets.",))
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
    return Answer((Strong("Nearest to an SLA breach"), Bullets(lines)))


def _listing(title: str, answer: Answer, empty: str) -> Answer:
    if not answer.done:
        return answer
    views: list[TicketView] = answer.value
    if not views:
        return Answer((empty,))
    listing: Rich = (Strong(title), Bullets(tuple(status_line(view) for view in views)))
    return Answer(listing)
