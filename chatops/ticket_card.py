"""The triage card of a ticket, in the neutral card model."""

from __future__ import annotations

from chatops.cards import (
    ActionRef,
    Button,
    Card,
    Choice,
    Control,
    Field,
    Link,
    Menu,
    Moment,
    Person,
    PersonPicker,
    Rich,
)
from chatops.config import DeskConfig
from chatops.tickets import TicketView
from chatops.workflow import DONE, MAX_TIER, WORKED, Action

HEADER_LIMIT = 150
BODY_LIMIT = 2500
VIA = {"command": "slash command", "form": "form", "shortcut": "message shortcut", "dm": "direct message"}


def clip(text: str, limit: int) -> str:
    """Shorten text to `limit` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def ticket_card(view: TicketView, config: DeskConfig) -> Card:
    """The card that stands for a ticket in its team's channel."""
    header = clip(f"{view.number} {view.title}", HEADER_LIMIT)
    fields = (
        Field("Requester", (Person(view.requester),)),
        Field("Category", (view.category or "uncategorised",)),
        Field("Priority", (view.priority,)),
        Field("Status", (view.status.label,)),
        Field("Assignee", (Person(view.assignee),) if view.assignee else ("Unassigned",)),
        Field("Tier", (f"T{view.tier}",)),
        Field("Why", ("\n".join(view.reasons) or "no rule matched; defaults applied",)),
    )
    body: Rich = (clip(view.description, BODY_LIMIT),)
    if view.origin_permalink:
        body += ("\n", Link(view.origin_permalink, "Original message"))
    context: Rich = (
        f"{config.team(view.team).name} · opened via {VIA.get(view.via, view.via)} ",
        Moment(view.created_at),
    )
    return Card(
        header=header,
        summary=f"{header} ({view.priority}, {view.status.label.lower()})",
        fields=fields,
        body=body,
        context=context,
        actions=_controls(view, config),
    )


def _controls(view: TicketView, config: DeskConfig) -> tuple[Control, ...]:
    def ref(action: Action) -> ActionRef:
        return ActionRef(view.id, action.value, view.version)

    if view.status in DONE:
        return (Button("Reopen", ref(Action.REOPEN)),)
    if view.status not in WORKED:
        return ()
    controls: list[Control] = [
        Button("Assign to me", ref(Action.CLAIM), style="primary"),
        PersonPicker("Assign to…", ref(Action.ASSIGN), selected=view.assignee),
    ]
    if view.tier < MAX_TIER:
        controls.append(Button(f"Escalate to T{view.tier + 1}", ref(Action.ESCALATE), style="danger"))
    controls.append(
        Menu(
            "Priority",
            ref(Action.PRIORITY),
            tuple(Choice(p.id.capitalize(), p.id) for p in config.priorities),
            selected=view.priority,
        )
    )
    controls.append(Button("Resolve", ref(Action.RESOLVE), style="primary"))
    return tuple(controls)


def status_line(view: TicketView) -> Rich:
    """One line about a ticket, for status and list replies."""
    assignee: Rich = (Person(view.assignee),) if view.assignee else ("unassigned",)
    return (
        f"{view.number} {clip(view.title, 80)} · {view.category or 'uncategorised'} · {view.priority} · "
        f"{view.status.label.lower()} · T{view.tier} · ",
        *assignee,
    )
