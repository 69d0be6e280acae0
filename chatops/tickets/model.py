"""The ticket as an aggregate: every change to a ticket goes through its methods, which move its status
only by the workflow table, keep its clocks, write its history, record what happened as events, and end
in `changed`, the one place its version moves on."""

from __future__ import annotations

from typing import Any

from chatops.config.rules import MAX_TIER
from chatops.desk import Desk
from chatops.errors import Forbidden, IllegalTransition, NotFound, StaleCard
from chatops.rich import Rich
from chatops.sla.clocks import STOPPED
from chatops.tickets import repository
from chatops.tickets.clocking import reclock, running_of
from chatops.tickets.commands import TicketCommand
from chatops.tickets.events import (
    Assigned,
    CategoryChanged,
    Closed,
    Escalated,
    Moved,
    Reopened,
    Resolved,
    StatusChanged,
    TicketChanged,
)
from chatops.tickets.repository import TicketRecord
from chatops.tickets.views import TicketView
from chatops.tickets.workflow import Action, Status, next_status
from chatops.work import Work

# What changes only through the methods below: each bears on the workflow, the clocks or the version.
_GUARDED = frozenset(
    {"id", "status", "version", "priority", "team", "tier", "assignee", "category", "first_responded_at"}
)


class Ticket:
    """A ticket being changed in a unit of work (its row locked). Its other columns (the conversation's
    and closing's own) are read and written as attributes."""

    def __init__(self, row: TicketRecord, work: Work, desk: Desk) -> None:
        object.__setattr__(self, "_row", row)
        object.__setattr__(self, "_work", work)
        object.__setattr__(self, "_desk", desk)
        object.__setattr__(self, "_clocked", False)

    @classmethod
    def load(cls, work: Work, desk: Desk, ticket_id: int) -> Ticket | None:
        """The ticket, locked against other writers until the unit ends; None if there is none."""
        row = repository.locked(work.session, ticket_id)
        return cls(row, work, desk) if row is not None else None

    @classmethod
    def for_command(cls, work: Work, desk: Desk, command: TicketCommand) -> Ticket:
        """The ticket a command is about, if the person may work it and (for a click) the card they clicked
        shows it as it stands."""
        ticket = cls.load(work, desk, command.ticket_id)
        if ticket is None:
            raise NotFound(f"Ticket #{command.ticket_id} no longer exists.")
        if not desk.roles.may_act(ticket.team, command.actor):
            raise Forbidden(f"Only agents of {desk.config.team(ticket.team).name} can do that.")
        if command.version is not None and command.version != ticket.version:
            raise StaleCard(
                f"Ticket #{ticket.id} changed since this card was drawn, so nothing was done; "
                "the card now shows where it stands. Try again if you still need to.",
                ticket_id=ticket.id,
            )
        return ticket

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _GUARDED:
            raise AttributeError(f"a ticket's {name} changes only through its methods")
        setattr(self._row, name, value)

    @property
    def state(self) -> Status:
        """Where the ticket stands in the workflow."""
        return Status(self._row.status)

    def view(self) -> TicketView:
        """A snapshot of the ticket as it stands."""
        return TicketView.of(self._row)

    def audit(
        self, actor: str, action: str, before: str | None, after: str | None, detail: dict | None = None
    ) -> None:
        """Add a line to the ticket's history."""
        repository.insert_events(
            self._work.session,
            [repository.event(self._row.id, self._work.now, actor, action, before, after, detail)],
        )

    def move(self, actor: str, action: Action) -> Status:
        """Move the ticket as the workflow lets the action (IllegalTransition if not); the new status."""
        before = self.state
        after = next_status(before, action)
        if after is not before:
            self._up_to_now()
            self._row.status = after.value
            self.audit(actor, action.value, before.value, after.value)
            self._work.record(StatusChanged(self._row.id, actor, before.value, after.value))
        return after

    def assign(self, actor: str, assignee: str, action: Action = Action.ASSIGN) -> None:
        """Give the ticket to someone of its team."""
        self.move(actor, action)
        self.audit(actor, "assigned", self._row.assignee, assignee, {"assignee": assignee})
        self._row.assignee = assignee
        self._work.record(Assigned(self._row.id, actor, assignee))

    def escalate(self, actor: str, reason: str, *, requester_told: bool = False) -> None:
        """Move the ticket up a tier, saying why; `requester_told`: the requester hears of it otherwise."""
        if self._row.tier >= MAX_TIER:
            raise IllegalTransition(f"Ticket #{self._row.id} is already at T{MAX_TIER}, the top tier.")
        self.move(actor, Action.ESCALATE)
        before, after = self._row.tier, self._row.tier + 1
        detail = {"tier": after, "reason": reason}
        self.audit(actor, "escalated", f"T{before}", f"T{after}", detail)
        self._row.tier = after
        self._work.record(Escalated(self._row.id, actor, before, after, reason, requester_told))

    def reprioritise(self, actor: str, priority: str) -> None:
        """Give the ticket another priority; its due times follow."""
        self.move(actor, Action.PRIORITY)
        self._up_to_now()
        self.audit(actor, "priority", self._row.priority, priority, {"priority": priority})
        self._row.priority = priority

    def recategorise(self, actor: str, category: str) -> None:
        """Give the ticket another category."""
        before = self._row.category
        self.audit(actor, "category", before, category, {"category": category})
        self._row.category = category
        self._work.record(CategoryChanged(self._row.id, actor, before, category))

    def move_to(self, actor: str, team: str) -> None:
        """Hand the ticket to another team's queue; its clocks go on, by the new team's hours from now."""
        before = self._row.team
        self.move(actor, Action.MOVE)
        self.audit(actor, "moved", before, team, {"team": team})
        self._row.team = team
        self._row.assignee = None
        self._work.record(Moved(self._row.id, actor, before, team))

    def resolve(self, actor: str, news: Rich | None = None) -> None:
        """Resolve the ticket; `news`: what its requester hears with it, if anything beyond the fact."""
        self.move(actor, Action.RESOLVE)
        self._row.resolved_at = self._work.now
        self.answered(actor)
        self._work.record(Resolved(self._row.id, actor, news))

    def close(self, actor: str, *, survey: bool = True) -> None:
        """Close a resolved ticket; `survey`: whether its requester may be asked how it went."""
        self.move(actor, Action.CLOSE)
        self._work.record(Closed(self._row.id, actor, survey))

    def reopen(self, actor: str, *, why: Rich | None = None, requester_told: bool = False) -> None:
        """Open a resolved or closed ticket again; its clocks run again. `why`: what its requester hears of
        the reason; `requester_told`: they hear of it otherwise."""
        self.move(actor, Action.REOPEN)
        self._row.resolved_at = None
        self._work.record(Reopened(self._row.id, actor, why, requester_told))

    def answered(self, actor: str) -> None:
        """A change that reaches the requester from someone else is their first response, if none came yet."""
        if self._row.first_responded_at is None and not self._desk.roles.same(actor, self._row.requester):
            self._up_to_now()
            self._row.first_responded_at = self._work.now

    def changed(self, actor: str, said: Rich | None) -> TicketView:
        """What every change ends with: fresh clocks, a new version, and the cards drawn again, with `said`
        (if anything) as the line for their threads."""
        self._up_to_now()
        now = self._work.now
        # The clocks ran up to now already: nothing more runs in between, only the new state.
        reclock(self._row, self._desk, now, STOPPED)
        self._row.version += 1
        self._row.updated_at = now
        self._work.record(TicketChanged(self._row.id, self._row.team, actor, said))
        return self.view()

    def _up_to_now(self) -> None:
        """Bring the clocks up to now, as they ran before the change, once per unit."""
        if not self._clocked:
            reclock(self._row, self._desk, self._work.now, running_of(self._row))
            object.__setattr__(self, "_clocked", True)
