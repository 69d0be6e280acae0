"""How closing reacts to what happens to a ticket, whatever caused it: a resolved ticket asks its
requester whether that solved it, a closed one may survey them, a reopened one withdraws the survey, and
one put on hold waits for its customer."""

from __future__ import annotations

from chatops.closing import timers
from chatops.desk import Desk
from chatops.tickets import repository as tickets
from chatops.tickets.events import Closed, Reopened, Resolved, StatusChanged
from chatops.tickets.workflow import Status
from chatops.work import Work


def ask_on_resolve(work: Work, event: Resolved, desk: Desk) -> None:
    """Every resolve asks its requester whether it solved it, and closes by itself without an answer
    (unless the same change took it further: a ticket closed at once asks nothing)."""
    ticket = tickets.existing(work.session, event.ticket_id)
    if ticket.status == Status.RESOLVED.value:
        timers.resolved(work, desk, ticket, event.actor, event.news)


def survey_on_close(work: Work, event: Closed, desk: Desk) -> None:
    """A closed ticket's requester may be asked how it went."""
    timers.closed(work, desk, tickets.existing(work.session, event.ticket_id), event.survey)


def withdraw_on_reopen(work: Work, event: Reopened, desk: Desk) -> None:
    """A reopened ticket's survey, if not answered yet, is withdrawn; its next close asks anew."""
    timers.reopened(tickets.existing(work.session, event.ticket_id))


def wait_for_customer(work: Work, event: StatusChanged, desk: Desk) -> None:
    """A ticket put on hold for its customer follows them up after a quiet spell."""
    if event.after == Status.WAITING_ON_CUSTOMER.value:
        timers.waiting(work, desk, tickets.existing(work.session, event.ticket_id))


EVENT_HANDLERS = {
    Resolved: [ask_on_resolve],
    Closed: [survey_on_close],
    Reopened: [withdraw_on_reopen],
    StatusChanged: [wait_for_customer],
}
