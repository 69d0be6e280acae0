"""The desk's use cases, each a unit of work on one session: open, act on, show and list tickets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import bindparam, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chatops.cards import ActionRef, Moment, Person, Rich, rich_to_json
from chatops.config import DeskConfig
from chatops.errors import Forbidden, IllegalTransition, InvalidInput, NotFound, StaleCard
from chatops.outbox import Kind, enqueue, enqueue_message, enqueue_whisper
from chatops.ports import Clock, Destination
from chatops.store.models import Ticket, TicketEvent
from chatops.ticket_card import HEADER_LIMIT, clip, whole_text_notes
from chatops.tickets import TicketView
from chatops.triage import classify
from chatops.workflow import MAX_TIER, OPEN, Action, Status, next_status

MAX_DESCRIPTION = 40_000
LIST_LIMIT = 20


_TICKETS = Ticket.__table__
# A second delivery of the same request racing the first inserts nothing and gets no id back.
_INSERT_TICKET = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(_TICKETS)
    .on_conflict_do_nothing(index_elements=[_TICKETS.c.intake_key])
    .returning(_TICKETS.c.id)
    for dialect in (sqlite, postgresql)
}
_OPENED_BY = select(_TICKETS).where(_TICKETS.c.intake_key == bindparam("key"))
_INSERT_EVENT = insert(TicketEvent.__table__)


@dataclass(frozen=True)
class Opened:
    """What an intake came to: a new ticket, or the one an earlier delivery of the same request opened."""

    ticket: TicketView
    new: bool


@dataclass(frozen=True)
class Intake:
    """A request to open a ticket, from whichever way it came in."""

    text: str
    requester: str
    via: str
    platform: str
    # Who opened it for the requester (from a message they wrote), if not the requester themselves.
    filed_by: str | None = None
    workspace: str | None = None
    origin_place: str | None = None
    origin_ref: str | None = None
    title: str | None = None
    category: str | None = None
    priority: str | None = None
    event_id: str | None = None
    # The command the requester can ask about the ticket with, on their platform (for the confirmation).
    command: str | None = None
    # Where to confirm the new ticket: a whisper in the origin place, or a message to a destination.
    confirm_privately_in: str | None = None
    confirm_to: Destination | None = None


class Desk:
    """The rules of the desk applied to the database: every change writes audit rows and outbox rows."""

    def __init__(self, config: DeskConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock

    def open(self, session: Session, intake: Intake) -> Opened:
        """Open, triage and route a ticket, and queue its card; a request seen before changes nothing."""
        now = self.clock.now()
        key = f"{intake.platform}:{intake.event_id}" if intake.event_id is not None else None
        connection = session.connection()
        # Looked up first, so that a replay leaves no gap in the ticket numbers (a refused insert uses one).
        earlier = connection.execute(_OPENED_BY, {"key": key}).one_or_none() if key is not None else None
        if earlier is not None:
            return Opened(TicketView.of(earlier), new=False)
        text = intake.text.strip()
        if not text and not intake.title:
            raise InvalidInput("A ticket needs a few words about the problem.")
        if len(text) > MAX_DESCRIPTION:
            raise InvalidInput(
                f"That is {len(text):,} characters; a ticket takes at most {MAX_DESCRIPTION:,}. "
                "Put the essentials in the ticket and attach the rest."
            )
        if intake.category is not None and self.config.category(intake.category) is None:
            raise InvalidInput(f"There is no category {intake.category!r}.")
        if intake.priority is not None and intake.priority not in {p.id for p in self.config.priorities}:
            raise InvalidInput(f"There is no priority {intake.priority!r}.")

        triage = classify(
            self.config,
            f"{intake.title or ''}\n{text}",
            intake.requester,
            category=intake.category,
            priority=intake.priority,
        )
        targets = self.config.priority(triage.priority)
        title = (intake.title or text).strip().splitlines()[0]
        triaged = next_status(Status.NEW, Action.TRIAGE)
        values = {
            "title": clip(title, HEADER_LIMIT),
            "description": text or title,
            "requester": intake.requester,
            "filed_by": intake.filed_by,
            "intake_key": key,
            "platform": intake.platform,
            "workspace": intake.workspace,
            "via": intake.via,
            "origin_place": intake.origin_place,
            "origin_ref": intake.origin_ref,
            "origin_permalink": None,
            "category": triage.category,
            "priority": triage.priority,
            "team": triage.team,
            "tier": 1,
            "status": triaged.value,
            "assignee": None,
            "reasons": list(triage.reasons),
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "first_response_due": now + targets.first_response,
            "resolution_due": now + targets.resolution,
            "next_check_at": now + targets.first_response,
        }
        # Intake is the hot path: plain inserts cost a fraction of the ORM's unit-of-work bookkeeping.
        ticket_id = connection.execute(_INSERT_TICKET[connection.dialect.name], values).scalar_one_or_none()
        if ticket_id is None:
            # Another writer opened it from the same request a moment ago.
            return Opened(TicketView.of(connection.execute(_OPENED_BY, {"key": key}).one()), new=False)
        audit = [
            (intake.filed_by or intake.requester, "opened", None, Status.NEW.value),
            ("triage", Action.TRIAGE.value, Status.NEW.value, triaged.value),
            ("triage", "routed", None, f"{triage.team}/{triage.category}/{triage.priority}"),
        ]
        connection.execute(
            _INSERT_EVENT,
            [
                {"ticket_id": ticket_id, "at": now, "actor": a, "action": b, "from_value": c, "to_value": d}
                for a, b, c, d in audit
            ],
        )

        enqueue(session, Kind.POST_CARD, now=now, ticket_id=ticket_id)
        for part in whole_text_notes(values["description"]):
            enqueue(
                session, Kind.THREAD_NOTE, now=now, ticket_id=ticket_id, payload={"text": rich_to_json(part)}
            )
        if intake.via == "shortcut" and intake.origin_place and intake.origin_ref:
            enqueue(session, Kind.PERMALINK, now=now, ticket_id=ticket_id)
        view = TicketView.of(SimpleNamespace(id=ticket_id, **values))
        note = self.confirmation(view, intake.command)
        if intake.confirm_privately_in:
            confirm = intake.filed_by or intake.requester
            enqueue_whisper(session, intake.confirm_privately_in, confirm, note, now=now)
        if intake.confirm_to is not None:
            enqueue_message(session, intake.confirm_to, note, now=now, ticket_id=ticket_id)
        if intake.filed_by is not None:
            # The requester did not open it themselves: they learn of it, and how to follow it, from us.
            told: Rich = (Person(intake.filed_by), " opened a ticket from your message. ", *note)
            enqueue_message(session, Destination(user=intake.requester), told, now=now, ticket_id=ticket_id)
        return Opened(view, new=True)

    def confirmation(self, view: TicketView, command: str | None = None) -> Rich:
        """What the requester reads once their ticket exists; with a command, how to check on it."""
        team = self.config.team(view.team).name
        text = (
            f"Ticket {view.number} opened: “{clip(view.title, 80)}”. "
            f"Category {view.category or 'uncategorised'}, priority {view.priority}, routed to {team}."
        )
        if command:
            text += f" Check on it any time with `{command} status {view.id}`."
        return (text,)

    def act(self, session: Session, ref: ActionRef, actor: str, argument: str | None = None) -> TicketView:
        """Apply a click on a ticket's card: check who, check the card is current, move the ticket."""
        ticket = session.get(Ticket, ref.ticket_id, with_for_update=True)
        if ticket is None:
            raise NotFound(f"Ticket #{ref.ticket_id} no longer exists.")
        team = self.config.team(ticket.team)
        if not team.may_act(actor):
            raise Forbidden(f"Only agents of {team.name} can do that.")
        if ref.version != ticket.version:
            raise StaleCard(
                f"Ticket #{ticket.id} changed since this card was drawn, so nothing was done; "
                "the card now shows where it stands. Try again if you still need to."
            )
        try:
            action = Action(ref.verb)
        except ValueError:
            raise InvalidInput(f"This card offers an action ({ref.verb!r}) the desk does not know.") from None

        now = self.clock.now()
        before = TicketView.of(ticket)
        note: Rich
        if action in (Action.CLAIM, Action.ASSIGN):
            assignee = actor if action is Action.CLAIM else argument
            if not assignee:
                raise InvalidInput("Pick someone to assign the ticket to.")
            if not team.may_act(assignee):
                raise Forbidden(f"Tickets of {team.name} can only go to its agents and leads.")
            if assignee == ticket.assignee:
                raise IllegalTransition("The ticket is already assigned to that person.")
            self._transition(session, ticket, actor, action, now)
            self._record(session, ticket, actor, "assigned", ticket.assignee, assignee, now)
            ticket.assignee = assignee
            note = (
                ("assigned the ticket to themselves",)
                if assignee == actor
                else ("assigned the ticket to ", Person(assignee))
            )
            self._tell_requester(session, ticket, ("is now handled by ", Person(assignee), "."), now)
        elif action is Action.ESCALATE:
            if ticket.tier >= MAX_TIER:
                raise IllegalTransition(f"Ticket #{ticket.id} is already at T{MAX_TIER}, the top tier.")
            self._transition(session, ticket, actor, action, now)
            self._record(session, ticket, actor, "escalated", f"T{ticket.tier}", f"T{ticket.tier + 1}", now)
            note = (f"escalated the ticket from T{ticket.tier} to T{ticket.tier + 1}",)
            ticket.tier += 1
        elif action is Action.PRIORITY:
            if argument not in {p.id for p in self.config.priorities}:
                raise InvalidInput(f"There is no priority {argument!r}.")
            if argument == ticket.priority:
                raise IllegalTransition(f"The priority is already {argument}.")
            self._transition(session, ticket, actor, action, now)
            self._record(session, ticket, actor, "priority", ticket.priority, argument, now)
            note = (f"changed the priority from {ticket.priority} to {argument}",)
            ticket.priority = argument
            targets = self.config.priority(argument)
            ticket.first_response_due = ticket.created_at + targets.first_response
            ticket.resolution_due = ticket.created_at + targets.resolution
        elif action is Action.RESOLVE:
            self._transition(session, ticket, actor, action, now)
            ticket.resolved_at = now
            ticket.next_check_at = None
            note = ("resolved the ticket",)
            self._tell_requester(session, ticket, ("has been resolved by ", Person(actor), "."), now)
        elif action is Action.REOPEN:
            self._transition(session, ticket, actor, action, now)
            ticket.resolved_at = None
            note = ("reopened the ticket",)
        else:
            raise InvalidInput(f"{action.value} cannot be done from a card.")

        if ticket.first_responded_at is None and actor != ticket.requester:
            ticket.first_responded_at = now
        ticket.version = before.version + 1
        ticket.updated_at = now
        enqueue(session, Kind.UPDATE_CARD, now=now, ticket_id=ticket.id)
        enqueue(
            session,
            Kind.THREAD_NOTE,
            now=now,
            ticket_id=ticket.id,
            payload={"text": rich_to_json((Person(actor), " ", *note, " · ", Moment(now)))},
        )
        return TicketView.of(ticket)

    def refuse(
        self, session: Session, place: str, user: str, message: str, *, refresh: int | None = None
    ) -> None:
        """Tell one person privately why their click did nothing; redraw a stale card."""
        now = self.clock.now()
        enqueue_whisper(session, place, user, (message,), now=now)
        if refresh is not None and session.get(Ticket, refresh) is not None:
            enqueue(session, Kind.UPDATE_CARD, now=now, ticket_id=refresh)

    def show(self, session: Session, number: int, viewer: str) -> TicketView:
        """A ticket, if the viewer may see it: its requester, or an agent of its team."""
        ticket = session.get(Ticket, number)
        if ticket is None or not (
            ticket.requester == viewer or self.config.team(ticket.team).may_act(viewer)
        ):
            raise NotFound(f"There is no ticket #{number} that you can see.")
        return TicketView.of(ticket)

    def mine(self, session: Session, viewer: str) -> list[TicketView]:
        """The viewer's own tickets: those they asked for and those assigned to them, newest first."""
        query = (
            select(Ticket)
            .where(or_(Ticket.requester == viewer, Ticket.assignee == viewer))
            .order_by(Ticket.id.desc())
            .limit(LIST_LIMIT)
        )
        return [TicketView.of(t) for t in session.scalars(query)]

    def queue(self, session: Session, viewer: str) -> list[TicketView]:
        """The open tickets of the viewer's teams, most urgent first; for agents and leads only."""
        teams = [t.id for t in self.config.teams_of(viewer)]
        if not teams:
            raise Forbidden("The open queue is for agents. `list` shows your own tickets.")
        ranks = {p.id: i for i, p in enumerate(self.config.priorities)}
        query = select(Ticket).where(Ticket.team.in_(teams), Ticket.status.in_([s.value for s in OPEN]))
        tickets = sorted(session.scalars(query), key=lambda t: (ranks.get(t.priority, len(ranks)), t.id))
        return [TicketView.of(t) for t in tickets[:LIST_LIMIT]]

    def _transition(
        self, session: Session, ticket: Ticket, actor: str, action: Action, now: datetime
    ) -> None:
        before = Status(ticket.status)
        after = next_status(before, action)
        if after is not before:
            ticket.status = after.value
            self._record(session, ticket, actor, action.value, before.value, after.value, now)

    def _record(
        self,
        session: Session,
        ticket: Ticket,
        actor: str,
        action: str,
        before: str | None,
        after: str | None,
        now: datetime,
    ) -> None:
        session.connection().execute(
            _INSERT_EVENT,
            {
                "ticket_id": ticket.id,
                "at": now,
                "actor": actor,
                "action": action,
                "from_value": before,
                "to_value": after,
            },
        )

    def _tell_requester(self, session: Session, ticket: Ticket, news: Rich, now: datetime) -> None:
        text: Rich = (f"Your ticket #{ticket.id} “{clip(ticket.title, 80)}” ", *news)
        enqueue_message(session, Destination(user=ticket.requester), text, now=now, ticket_id=ticket.id)
