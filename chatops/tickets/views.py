"""Reading tickets: one ticket for those who may see it, a person's own tickets, a team's queue, and the
clocks nearest to breach."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from chatops.desk import Desk
from chatops.errors import Forbidden, NotFound
from chatops.messaging.rich import Code
from chatops.sla.clocks import FIRST_RESPONSE, RESOLUTION, left
from chatops.tickets import repository
from chatops.tickets.clocking import running_of
from chatops.tickets.commands import ListMine, ListNearBreach, ListQueue, ShowTicket
from chatops.tickets.model import TicketView
from chatops.tickets.workflow import OPEN

LIST_LIMIT = 20


def show(session: Session, query: ShowTicket, desk: Desk) -> TicketView:
    """A ticket, if the viewer may see it: its requester, or an agent of its team."""
    ticket = repository.get(session, query.number)
    if ticket is None or not (
        desk.roles.same(ticket.requester, query.viewer) or desk.roles.may_act(ticket.team, query.viewer)
    ):
        raise NotFound(f"There is no ticket #{query.number} that you can see.")
    return TicketView.of(ticket)


def mine(session: Session, query: ListMine, desk: Desk) -> list[TicketView]:
    """The viewer's own tickets, under any of their ids: those they asked for and those assigned to them."""
    tickets = repository.of_people(session, desk.directory.aliases(query.viewer), LIST_LIMIT)
    return [TicketView.of(t) for t in tickets]


def queue(session: Session, query: ListQueue, desk: Desk) -> list[TicketView]:
    """The open tickets of the viewer's teams, most urgent first; for agents and leads only."""
    teams = desk.roles.teams_of(query.viewer)
    if not teams:
        raise Forbidden("The open queue is for agents. ", Code("list"), " shows your own tickets.")
    ranks = {p.id: i for i, p in enumerate(desk.config.priorities)}
    found = repository.of_teams(session, teams, [s.value for s in OPEN])
    ordered = sorted(found, key=lambda t: (ranks.get(t.priority, len(ranks)), t.id))
    return [TicketView.of(t) for t in ordered[:LIST_LIMIT]]


@dataclass(frozen=True)
class ClockStanding:
    """A running SLA clock of a ticket, and the working time left on it (negative once breached)."""

    ticket: TicketView
    clock: str
    due: datetime
    left: timedelta


def near_breach(session: Session, query: ListNearBreach, desk: Desk) -> list[ClockStanding]:
    """The running clocks of the viewer's teams' open tickets, least time left first."""
    teams = desk.roles.teams_of(query.viewer)
    if not teams:
        raise Forbidden("The SLA view is for agents. ", Code("status"), " shows one of your tickets.")
    standings = []
    for ticket in repository.of_teams(session, teams, [s.value for s in OPEN]):
        view, going = TicketView.of(ticket), running_of(ticket)
        targets, calendar = desk.config.priority(ticket.priority), desk.config.clockwork(ticket.team)
        for clock in (FIRST_RESPONSE, RESOLUTION):
            if going.of(clock):
                remaining = left(view.clocks, clock, query.now, calendar, targets)
                standings.append(ClockStanding(view, clock, view.clocks.due(clock), remaining))
    return sorted(standings, key=lambda s: (s.left, s.ticket.id))[:LIST_LIMIT]
