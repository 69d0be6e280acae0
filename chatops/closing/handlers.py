"""The closing steps' handlers: the requester's answers, an agent's close, and the sweep of the timed
steps, each under the ticket's row lock so that every step is taken once whatever runs beside it."""

from __future__ import annotations

from chatops.closing import repository
from chatops.closing.commands import Close, Comment, Confirm, Rate, SweepQuiet
from chatops.closing.questions import SCORES, ask_comment
from chatops.closing.timers import ASKED, DONE, DUE, EXPIRED, RATED, survey
from chatops.config.rules import MAX_TIER
from chatops.desk import Desk
from chatops.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from chatops.people.identity import system
from chatops.rich import Mention, Moment, Rich
from chatops.text import clip
from chatops.tickets.commands import Via
from chatops.tickets.model import Ticket
from chatops.tickets.outbound import note, tell_person, tell_requester
from chatops.tickets.views import Answered, TicketView
from chatops.tickets.workflow import Status
from chatops.work import Work

CLOSING = system("closing")
COMMENT_LIMIT = 3000


def confirm(work: Work, command: Confirm, desk: Desk) -> Answered:
    """Yes closes the ticket (the survey follows); No reopens it one tier up and tells its assignee."""
    ticket = _requesters(work, command, desk)
    if command.version != ticket.asks or ticket.state is not Status.RESOLVED:
        raise IllegalTransition(
            f"Thank you. Ticket #{ticket.id} has moved on since that question "
            f"(it is {ticket.state.label.lower()} now), so the answer changes nothing."
        )
    if command.solved:
        tell_requester(work, desk, ticket, ("is closed. Thank you for letting us know.",))
        ticket.close(command.actor)
        closed = ticket.changed(command.actor, ("confirmed it is solved, so the ticket is closed",))
        return Answered(closed, (f"Yes, it is solved: ticket #{ticket.id} is closed. Thank you.",))
    ticket.reopen(command.actor, requester_told=True)
    said: Rich = ("said it is not solved, so the ticket is open again",)
    sorry = "is open again, and the team has been told it is not solved yet."
    if ticket.tier < MAX_TIER:
        before = ticket.tier
        ticket.escalate(command.actor, "the customer said it is not solved", requester_told=True)
        said += (f" and escalated from T{before} to T{ticket.tier}",)
        sorry = f"is open again, and has been passed to our Tier {ticket.tier} team."
    about: Rich = (f"Ticket #{ticket.id} “{clip(ticket.title, 80)}”: ", Mention(ticket.requester), " ")
    if ticket.assignee is not None:
        tell_person(
            work, desk, ticket.assignee, (*about, *said, "."), prefer=ticket.platform, ticket_id=ticket.id
        )
    tell_requester(work, desk, ticket, (sorry, " Sorry about that."))
    open_again = ticket.changed(command.actor, said)
    return Answered(open_again, (f"Not solved yet: ticket #{ticket.id} is open again, and the team knows.",))


def close(work: Work, command: Close, desk: Desk) -> TicketView:
    """An agent closes a resolved ticket, with the survey (if the team has one) or without it."""
    ticket = Ticket.for_command(work, desk, command)
    ticket.close(command.actor, survey=command.survey)
    said: Rich = ("closed the ticket" if command.survey else "closed the ticket without a survey",)
    return ticket.changed(command.actor, said)


def rate(work: Work, command: Rate, desk: Desk) -> Answered:
    """Keep the requester's rating, once, and offer them a box for a comment."""
    ticket = _requesters(work, command, desk)
    if command.score not in SCORES:
        raise InvalidInput("Pick a rating from 1 to 5.")
    if ticket.csat_score is not None:
        raise IllegalTransition(
            f"You rated ticket #{ticket.id} {ticket.csat_score} of 5 already; that answer stands. Thank you."
        )
    if ticket.survey != ASKED or command.version != ticket.asks:
        raise IllegalTransition(
            f"The survey on ticket #{ticket.id} is over, so this answer was not counted. "
            "Thank you all the same."
        )
    ticket.csat_score = command.score
    ticket.survey = RATED
    # The comment box stays open as long as the survey was.
    ticket.nudge_at = work.now + desk.config.csat.answer_within
    ticket.audit(command.actor, "csat", None, str(command.score), {"score": command.score})
    ask_comment(work, desk, ticket, command.score)
    rated = ticket.changed(command.actor, (f"rated the help {command.score} of 5",))
    return Answered(rated, (f"You rated ticket #{ticket.id} {command.score} of 5. Thank you.",))


def comment(work: Work, command: Comment, desk: Desk) -> Answered:
    """Keep the requester's comment on their rating, once."""
    ticket = _requesters(work, command, desk)
    text = (command.text or "").strip()
    if not text:
        raise InvalidInput("Write your comment in the box, then send it.")
    if len(text) > COMMENT_LIMIT:
        raise InvalidInput(f"Please keep the comment within {COMMENT_LIMIT:,} characters.")
    if ticket.csat_comment is not None:
        raise IllegalTransition(f"Your comment on ticket #{ticket.id} is in already. Thank you.")
    if ticket.survey != RATED or command.version != ticket.asks:
        raise IllegalTransition(
            f"The survey on ticket #{ticket.id} is over, so the comment was not kept. Thank you all the same."
        )
    ticket.csat_comment = text
    ticket.survey = DONE
    ticket.nudge_at = None
    ticket.audit(command.actor, "csat_comment", None, None, {"comment": text})
    said: Rich = ("commented on their rating: “", clip(text, 500), "”")
    return Answered(ticket.changed(command.actor, said), ("Thank you for your comment.",))


def sweep(work: Work, command: SweepQuiet, desk: Desk) -> int:
    """Take the step each due ticket is owed: a follow-up, resolving or closing itself, the survey, or
    the survey's end; a ticket that moved on since its step was set just has it cleared."""
    due = repository.due(work.session, work.now, command.limit)
    for ticket in (Ticket(row, work, desk) for row in due):
        status = ticket.state
        ticket.nudge_at = None
        if status is Status.WAITING_ON_CUSTOMER:
            _quiet_customer(work, desk, ticket)
        elif status is Status.RESOLVED:
            days = _days(desk.config.confirm_close_after.total_seconds())
            ticket.close(CLOSING)
            ticket.changed(CLOSING, (f"No answer from the customer in {days}: the ticket closed itself",))
        elif status is Status.CLOSED and ticket.survey == DUE:
            survey(work, desk, ticket)
        elif status is Status.CLOSED and ticket.survey == ASKED:
            ticket.survey = EXPIRED
        elif status is Status.CLOSED and ticket.survey == RATED:
            # The comment box closes with the survey.
            ticket.survey = DONE
    return len(due)


def _quiet_customer(work: Work, desk: Desk, ticket: Ticket) -> None:
    """One follow-up after the first quiet period; after the second, the ticket resolves itself."""
    config = desk.config
    if ticket.nudges == 0:
        ticket.nudges = 1
        resolves = work.now + config.auto_resolve_after if config.auto_resolve_after is not None else None
        ticket.nudge_at = resolves
        # The requester answers where the ticket's conversation is: a request's thread, or this chat.
        where = "in your request's thread" if ticket.via == Via.CHANNEL else "here"
        text: Rich = (
            f"Still there? Your ticket #{ticket.id} “{clip(ticket.title, 80)}” is waiting for your answer. "
            f"Reply {where} and it goes straight to the team.",
        )
        if resolves is not None:
            text += (" Without an answer it resolves itself ", Moment(resolves), ".")
        tell_person(work, desk, ticket.requester, text, prefer=ticket.platform, ticket_id=ticket.id)
        note(work, desk, ticket.id, ticket.team, ("Followed up with the customer, who has not answered yet",))
        return
    ticket.resolve(CLOSING)
    ticket.changed(CLOSING, ("No answer from the customer: the ticket resolved itself",))


def _requesters(work: Work, command: Confirm | Rate | Comment, desk: Desk) -> Ticket:
    """The ticket, locked, if the one answering is its requester."""
    ticket = Ticket.load(work, desk, command.ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket #{command.ticket_id} no longer exists.")
    if not desk.roles.same(command.actor, ticket.requester):
        raise Forbidden(f"Only the person who asked for ticket #{ticket.id} can answer this.")
    return ticket


def _days(seconds: float) -> str:
    days = seconds / 86400
    return f"{days:g} day{'s' if days != 1 else ''}" if days >= 1 else f"{seconds / 3600:g} hours"


COMMAND_HANDLERS = {Confirm: confirm, Rate: rate, Comment: comment, Close: close, SweepQuiet: sweep}
