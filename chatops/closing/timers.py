"""When a ticket's next closing step comes: set as it starts waiting on its customer or is resolved."""

from __future__ import annotations

from typing import Protocol

from chatops.closing.questions import Asked, ask_confirmation
from chatops.desk import Desk
from chatops.work import Work

# The survey's course: to be sent, sent, rated (a comment may follow), over, over unanswered, not sent.
DUE, ASKED, RATED, DONE, EXPIRED, OFF = "due", "asked", "rated", "done", "expired", "off"


class Timed(Asked, Protocol):
    """What setting a ticket's next step needs of its row, besides asking."""

    nudge_at: object
    nudges: int
    survey: str | None


def waiting(work: Work, desk: Desk, ticket: Timed) -> None:
    """The ticket waits on its customer: a follow-up after the quiet period, or resolving itself after
    the second when there is no follow-up."""
    config = desk.config
    ticket.nudges = 0 if config.follow_up_after is not None else 1
    quiet = config.follow_up_after or config.auto_resolve_after
    ticket.nudge_at = work.now + quiet if quiet is not None else None


def resolved(work: Work, desk: Desk, ticket: Timed, actor: str) -> None:
    """The ticket is resolved: its requester is asked whether that solved it (unless they resolved it
    themselves), and without an answer it closes itself."""
    ticket.nudge_at = work.now + desk.config.confirm_close_after
    if not desk.roles.same(actor, ticket.requester):
        ask_confirmation(work, desk, ticket)


def reopened(ticket: Timed) -> None:
    """The ticket is open again: a survey not yet answered is withdrawn (the next close asks anew)."""
    if ticket.survey in (DUE, ASKED):
        ticket.survey = None
    ticket.nudge_at = None
