"""When a ticket's next closing step comes (set as it starts waiting on its customer, is resolved, closed
or reopened), and the timer that takes the steps that have come."""

from __future__ import annotations

from typing import Protocol

from chatops.clock import Timer
from chatops.closing.commands import SweepQuiet
from chatops.closing.questions import Asked, ask_confirmation, ask_rating
from chatops.desk import Desk
from chatops.rich import Rich
from chatops.work import Work

# The survey's course: to be sent, sent, rated (a comment may follow), over, over unanswered, not sent.
DUE, ASKED, RATED, DONE, EXPIRED, OFF = "due", "asked", "rated", "done", "expired", "off"


class Timed(Asked, Protocol):
    """What setting a ticket's next step needs of its row, besides asking."""

    nudge_at: object
    nudges: int
    survey: str | None
    csat_score: int | None
    team: str


def waiting(work: Work, desk: Desk, ticket: Timed) -> None:
    """The ticket waits on its customer: a follow-up after the quiet period, or resolving itself after
    the second when there is no follow-up."""
    config = desk.config
    ticket.nudges = 0 if config.follow_up_after is not None else 1
    quiet = config.follow_up_after or config.auto_resolve_after
    ticket.nudge_at = work.now + quiet if quiet is not None else None


def resolved(work: Work, desk: Desk, ticket: Timed, actor: str, news: Rich | None) -> None:
    """The ticket is resolved: its requester is asked whether that solved it (unless they resolved it
    themselves), with the news the resolution came with, and without an answer it closes itself."""
    ticket.nudge_at = work.now + desk.config.confirm_close_after
    if not desk.roles.same(actor, ticket.requester):
        ask_confirmation(work, desk, ticket, news)


def closed(work: Work, desk: Desk, ticket: Timed, survey_allowed: bool) -> None:
    """The ticket is closed: its requester gets the survey, now or after the delay, once per ticket."""
    ticket.nudge_at = None
    if ticket.csat_score is not None:
        return
    if not (survey_allowed and desk.config.surveys(ticket.team)):
        ticket.survey = OFF
    elif desk.config.csat.delay:
        ticket.survey = DUE
        ticket.nudge_at = work.now + desk.config.csat.delay
    else:
        survey(work, desk, ticket)


def survey(work: Work, desk: Desk, ticket: Timed) -> None:
    """Ask the requester how it went; the survey stays open for its time."""
    ticket.survey = ASKED
    ticket.nudge_at = work.now + desk.config.csat.answer_within
    ask_rating(work, desk, ticket)


def reopened(ticket: Timed) -> None:
    """The ticket is open again: a survey not yet answered is withdrawn (the next close asks anew)."""
    if ticket.survey in (DUE, ASKED):
        ticket.survey = None
    ticket.nudge_at = None


TIMERS = (
    Timer(
        "closing-sweep",
        lambda desk: SweepQuiet(),
        every=lambda desk: desk.config.sla.sweep_seconds,
        at_start=True,
    ),
)
