"""Reading tickets: snapshots safe to hand across threads and to renderers; one ticket for those who may
see it, a person's own tickets, a team's queue, and the clocks nearest to breach."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from chatops.desk import Desk
from chatops.errors import Forbidden, NotFound
from chatops.rich import Code, Mention, Rich
from chatops.sla.clocks import FIRST_RESPONSE, RESOLUTION, Clocks, left
from chatops.text import clip
from chatops.tickets import repository
from chatops.tickets.clocking import clocks_of, running_of
from chatops.tickets.commands import ListMine, ListNearBreach, ListQueue, ShowTicket
from chatops.tickets.workflow import OPEN, Status


@dataclass(frozen=True)
class Answered:
    """What a requester's answer to a question card came to: the ticket as it now stands, and what they
    read in place of the question, where the platform can replace it (never the ticket's own card)."""

    ticket: TicketView
    said: Rich


@dataclass(frozen=True)
class TicketView:
    """A ticket as it stood when read; people by person id."""

    id: int
    title: str
    description: str
    requester: str
    filed_by: str | None
    via: str
    platform: str
    category: str | None
    priority: str
    team: str
    tier: int
    status: Status
    assignee: str | None
    reasons: tuple[str, ...]
    version: int
    created_at: datetime
    updated_at: datetime
    # The SLA clocks, as the row holds them (see chatops/tickets/clocking.py).
    clocks: Clocks
    first_responded_at: datetime | None
    resolved_at: datetime | None
    # The requester's rating (1 to 5) and comment, once they gave them; and the survey's course.
    csat_score: int | None = None
    csat_comment: str | None = None
    survey: str | None = None

    @classmethod
    def of(cls, ticket: Any) -> TicketView:
        """Snapshot a ticket: a row of the tickets table, its ORM object, or the values just inserted."""
        return cls(
            id=ticket.id,
            title=ticket.title,
            description=ticket.description,
            requester=ticket.requester,
            filed_by=ticket.filed_by,
            via=ticket.via,
            platform=ticket.platform,
            category=ticket.category,
            priority=ticket.priority,
            team=ticket.team,
            tier=ticket.tier,
            status=Status(ticket.status),
            assignee=ticket.assignee,
            reasons=tuple(ticket.reasons),
            version=ticket.version,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            clocks=clocks_of(ticket),
            first_responded_at=ticket.first_responded_at,
            resolved_at=ticket.resolved_at,
            csat_score=ticket.csat_score,
            csat_comment=ticket.csat_comment,
            survey=ticket.survey,
        )

    @property
    def number(self) -> str:
        """The ticket number as people quote it."""
        return f"#{self.id}"


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


def status_line(view: TicketView) -> Rich:
    """One line about a ticket, for status and list replies."""
    assignee: Rich = (Mention(view.assignee),) if view.assignee else ("unassigned",)
    return (
        f"{view.number} {clip(view.title, 80)} · {view.category or 'uncategorised'} · {view.priority} · "
        f"{view.status.label.lower()} · T{view.tier} · ",
        *assignee,
    )


QUERY_HANDLERS = {ShowTicket: show, ListMine: mine, ListQueue: queue, ListNearBreach: near_breach}
