"""The closing steps, as small frozen commands; a requester's answers carry the number of the question
they answer (in the card command's version), so that only the latest is taken."""

from __future__ import annotations

from dataclasses import dataclass

from chatops.tickets.commands import TicketCommand


@dataclass(frozen=True)
class Confirm(TicketCommand):
    """The requester's answer to “Did this solve it?”: Yes closes the ticket, No reopens it."""

    solved: bool = True


@dataclass(frozen=True)
class Rate(TicketCommand):
    """The requester's rating of the help they got, 1 to 5."""

    score: int = 0


@dataclass(frozen=True)
class Comment(TicketCommand):
    """The requester's words with their rating."""

    text: str | None = None


@dataclass(frozen=True)
class Close(TicketCommand):
    """An agent closes a resolved ticket, with the survey or without it."""

    survey: bool = True


@dataclass(frozen=True)
class SweepQuiet:
    """Take the next timed step of up to `limit` tickets whose step has come."""

    limit: int = 200
