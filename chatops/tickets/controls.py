"""What the tickets domain adds to a ticket's card: who and what it is, where it stands and its clocks;
the controls that work it (assign, start, escalate, priority, hold, resolve, category, move); and the
verbs those controls stand for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache

from sqlalchemy.orm import Session

from chatops.config.rules import MAX_TIER
from chatops.desk import Desk
from chatops.messaging.cards import ActionRef, Button, Choice, Control, Field, Menu, PersonPicker, Prompt
from chatops.rich import Mention, Moment, Rich
from chatops.sla.clocks import FIRST_RESPONSE, RESOLUTION, WARNING, checkpoints
from chatops.tickets import repository
from chatops.tickets.card import TICKETS, CardPart, TicketCard, Verb
from chatops.tickets.clocking import running
from chatops.tickets.commands import (
    Assign,
    ChangeCategory,
    ChangePriority,
    Claim,
    Escalate,
    MoveTicket,
    Resolve,
    Resume,
    Start,
    WaitOnCustomer,
)
from chatops.tickets.repository import ORIGIN
from chatops.tickets.views import TicketView
from chatops.tickets.workflow import DONE, WORKED, Action, Status

# The verbs of the ticket's controls that are not workflow actions of the same name.
CATEGORY = "category"


def _load(session: Session, views: Sequence[TicketView], _desk: Desk) -> Mapping[int, str]:
    """A link to the message each ticket came from, once its platform gave one."""
    platforms = {view.id: view.platform for view in views}
    return {
        link.ticket_id: link.url
        for link in repository.links_of(session, list(platforms))
        if link.kind == ORIGIN and link.url and link.system == platforms[link.ticket_id]
    }


def _fields(card: TicketCard, desk: Desk, now: datetime) -> tuple[Field, ...]:
    view = card.view
    return (
        Field("Requester", (Mention(view.requester),)),
        *((Field("Filed by", (Mention(view.filed_by),)),) if view.filed_by else ()),
        Field("Category", (view.category or "uncategorised",)),
        Field("Priority", (view.priority,)),
        Field("Status", (view.status.label,)),
        Field("Assignee", (Mention(view.assignee),) if view.assignee else ("Unassigned",)),
        Field("Tier", (f"T{view.tier}",)),
        *_clock_fields(view, desk, now),
    )


def _clock_fields(view: TicketView, desk: Desk, now: datetime) -> tuple[Field, ...]:
    """Each SLA clock: when it is due (in each reader's own time zone), and whether it is near or past."""
    config = desk.config
    going = running(view.status.value, view.first_responded_at)
    points = {
        (p.clock, p.kind): p.at
        for p in checkpoints(
            view.clocks,
            going,
            config.priority(view.priority),
            config.clockwork(view.team),
            config.sla.warn_at,
        )
    }
    stopped_at = {FIRST_RESPONSE: view.first_responded_at, RESOLUTION: view.resolved_at}
    fields = []
    for clock, label in ((FIRST_RESPONSE, "First response"), (RESOLUTION, "Resolution")):
        due = view.clocks.due(clock)
        done = stopped_at[clock]
        if going.of(clock):
            state = (
                " · SLA breached"
                if now >= due
                else (" · due soon" if now >= points.get((clock, WARNING), due) else "")
            )
            value: Rich = ("due ", Moment(due), state)
        elif done is not None and (clock == FIRST_RESPONSE or view.status in DONE):
            value = ("answered " if clock == FIRST_RESPONSE else "resolved ", Moment(done))
        elif view.status is Status.WAITING_ON_CUSTOMER:
            value = ("paused while waiting on the customer",)
        else:
            value = ("—",)
        fields.append(Field(label, value))
    return tuple(fields)


def _controls(card: TicketCard, desk: Desk) -> tuple[Control, ...]:
    view = card.view
    if view.status not in WORKED:
        return ()

    def ref(verb: str) -> ActionRef:
        return ActionRef(view.id, verb, view.version)

    config = desk.config
    staff = desk.roles.staff(view.team)
    controls: list[Control] = [
        Button("Assign to me", ref(Action.CLAIM), style="primary"),
        PersonPicker("Assign to…", ref(Action.ASSIGN), people=staff, selected=view.assignee),
    ]
    if view.status is Status.ASSIGNED:
        controls.append(Button("Start", ref(Action.START)))
    if view.tier < MAX_TIER:
        controls.append(
            Prompt(
                f"Escalate to T{view.tier + 1}",
                ref(Action.ESCALATE),
                title=f"Escalate {view.number} to T{view.tier + 1}",
                placeholder="Why it needs the next tier: what was tried, what is needed",
                submit="Escalate",
            )
        )
    controls.append(
        Menu(
            "Priority",
            ref(Action.PRIORITY),
            _choices(tuple((p.id.capitalize(), p.id) for p in config.priorities)),
            selected=view.priority,
        )
    )
    if view.status is Status.WAITING_ON_CUSTOMER:
        controls.append(Button("Resume", ref(Action.RESUME)))
    elif view.status in (Status.ASSIGNED, Status.IN_PROGRESS):
        controls.append(Button("Waiting on customer", ref(Action.WAIT)))
    controls.append(Button("Resolve", ref(Action.RESOLVE), style="primary"))
    return tuple(controls)


def _routing(card: TicketCard, desk: Desk) -> tuple[Control, ...]:
    """Where the ticket belongs: its category, and another team to hand it to."""
    view, config = card.view, desk.config
    if view.status not in WORKED:
        return ()
    controls: list[Control] = []
    if config.categories:
        controls.append(
            Menu(
                "Category",
                ActionRef(view.id, CATEGORY, view.version),
                _choices(tuple((c.id.capitalize(), c.id) for c in config.categories)),
                selected=view.category,
            )
        )
    others = _choices(tuple((team.name, team.id) for team in config.teams if team.id != view.team))
    if others:
        controls.append(Menu("Move to team…", ActionRef(view.id, Action.MOVE, view.version), others))
    return tuple(controls)


@lru_cache(maxsize=256)
def _choices(options: tuple[tuple[str, str], ...]) -> tuple[Choice, ...]:
    """A menu's options (label, value), made once per list: every change of every ticket draws its card,
    and a desk's lists of teams and categories rarely change."""
    return tuple(Choice(label, value) for label, value in options)


PART = CardPart(TICKETS, load=_load, fields=_fields, controls=_controls)
# Shown after the conversation's controls: working a ticket comes before filing it elsewhere.
ROUTING = CardPart("routing", controls=_routing)

VERBS: dict[str, Verb] = {
    Action.CLAIM: lambda click: Claim(**click.about()),
    Action.ASSIGN: lambda click: Assign(**click.about(), assignee=click.choice),
    Action.START: lambda click: Start(**click.about()),
    Action.ESCALATE: lambda click: Escalate(**click.about(), reason=click.choice),
    Action.PRIORITY: lambda click: ChangePriority(**click.about(), priority=click.choice),
    Action.WAIT: lambda click: WaitOnCustomer(**click.about()),
    Action.RESUME: lambda click: Resume(**click.about()),
    Action.RESOLVE: lambda click: Resolve(**click.about()),
    CATEGORY: lambda click: ChangeCategory(**click.about(), category=click.choice),
    Action.MOVE: lambda click: MoveTicket(**click.about(), team=click.choice),
}
