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
# Each part of a long request posted in the card's thread: within what every chat platform shows whole.
NOTE_LIMIT = 3000
VIA = {"command": "slash command", "form": "form", "shortcut": "message shortcut", "dm": "direct message"}


def clip(text: str, limit: int) -> str:
    """Shorten text to `limit` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def ticket_card(view: TicketView, config: DeskConfig) -> Card:
    """The card that stands for a ticket in its team's channel."""
    header = clip(f"{view.number} {view.title}", HEADER_LIMIT)
    fields = (
        Field("Requester", (Person(view.requester),)),
        *((Field("Filed by", (Person(view.filed_by),)),) if view.filed_by else ()),
        Field("Category", (view.category or "uncategorised",)),
        Field("Priority", (view.priority,)),
        Field("Status", (view.status.label,)),
        Field("Assignee", (Person(view.assignee),) if view.assignee else ("Unassigned",)),
        Field("Tier", (f"T{view.tier}",)),
        Field("Why", ("\n".join(view.reasons) or "no rule matched; defaults applied",)),
    )
    body: Rich = (clip(view.description, BODY_LIMIT),)
    if len(view.description) > BODY_LIMIT:
        body = (
            f"(Shortened: all {len(view.description):,} characters of the request are in the thread.)\n",
            *body,
        )
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


def whole_text_notes(text: str) -> list[Rich]:
    """The whole of a request too long for its card, as thread notes in order (none if the card holds it)."""
    if len(text) <= BODY_LIMIT:
        return []
    parts = _split(text, NOTE_LIMIT)
    if len(parts) == 1:
        return [("The whole request:\n", parts[0])]
    return [
        (f"The whole request, part {i} of {len(parts)}:\n", part) for i, part in enumerate(parts, start=1)
    ]


def _split(text: str, limit: int) -> list[str]:
    """Cut text into pieces of at most `limit` characters, at a line end or a space where there is one."""
    parts = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit + 1), text.rfind(" ", 0, limit + 1))
        if cut <= 0:
            cut = limit
        parts.append(text[:cut])
        text = text[cut:]
    return [*parts, text]


def status_line(view: TicketView) -> Rich:
    """One line about a ticket, for status and list replies."""
    assignee: Rich = (Person(view.assignee),) if view.assignee else ("unassigned",)
    return (
        f"{view.number} {clip(view.title, 80)} · {view.category or 'uncategorised'} · {view.priority} · "
        f"{view.status.label.lower()} · T{view.tier} · ",
        *assignee,
    )
