"""Commands run against the desk, answered with neutral rich text."""

from __future__ import annotations

from dataclasses import dataclass

from chatops.cards import Rich
from chatops.desk import Intake
from chatops.service import DeskService
from chatops.ticket_card import status_line
from chatops.tickets import TicketView
from commands.parser import Command, Help, ListMine, ListOpen, OpenTicket, ShowStatus, help_text


@dataclass(frozen=True)
class Caller:
    """Who typed the command, and where."""

    user: str
    place: str
    platform: str
    workspace: str | None = None
    # The platform's id of this very request, so that a replay of it opens nothing new.
    request_id: str | None = None


class CommandHandler:
    """Runs parsed commands; DeskErrors propagate for the adapter to show."""

    def __init__(self, service: DeskService, command: str) -> None:
        self.service = service
        self.command = command

    async def handle(self, command: Command, caller: Caller) -> Rich:
        """Run a command (other than opening the form) and return the reply for the caller."""
        if isinstance(command, Help):
            return (help_text(self.command),)
        if isinstance(command, OpenTicket):
            view = await self.service.open(
                Intake(
                    text=command.text,
                    requester=caller.user,
                    via="command",
                    platform=caller.platform,
                    workspace=caller.workspace,
                    origin_place=caller.place,
                    command=self.command,
                    event_id=caller.request_id,
                )
            )
            return self.service.desk.confirmation(view, self.command)
        if isinstance(command, ShowStatus):
            return status_line(await self.service.show(command.number, caller.user))
        if isinstance(command, ListMine):
            return _listing("Your tickets", await self.service.mine(caller.user), "You have no tickets yet.")
        if isinstance(command, ListOpen):
            return _listing("Open queue", await self.service.queue(caller.user), "The queue is empty.")
        raise TypeError(f"the form is opened by the adapter, not here: {command!r}")


def _listing(title: str, views: list[TicketView], empty: str) -> Rich:
    if not views:
        return (empty,)
    parts: list = [f"*{title}*"]
    for view in views:
        parts.append("\n• ")
        parts.extend(status_line(view))
    return tuple(parts)
