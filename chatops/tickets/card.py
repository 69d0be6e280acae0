"""The triage card of a ticket, in the neutral card model."""

from __future__ import annotations

from datetime import datetime

from chatops.config.rules import DeskConfig
from chatops.messaging.cards import (
    ActionRef,
    Button,
    Card,
    Choice,
    Control,
    Field,
    Menu,
    PersonPicker,
    Prompt,
)
from chatops.messaging.rich import Link, Mention, Moment, Rich
from chatops.sla.clocks import FIRST_RESPONSE, RESOLUTION, WARNING, checkpoints
from chatops.tickets.clocking import running
from chatops.tickets.model import IssueLink, TicketView
from chatops.tickets.workflow import DONE, MAX_TIER, WORKED, Action, Status

# How much of a request its card shows; the whole of a longer one goes into the card's thread.
BODY_LIMIT = 2500
# Each part of a long request posted in the card's thread: within what every chat platform shows whole.
NOTE_LIMIT = 3000
# The most options a card's menu offers: as many as a Slack menu holds.
MENU_LIMIT = 100
# The verbs of a card's controls that are not workflow actions: its category, a canned reply to the
# requester, and its issue in the tracker.
CATEGORY = "category"
CANNED = "canned"
SEND = "send"
MERGE = "merge"
# Closing a resolved ticket without sending its requester the survey.
CLOSE_QUIETLY = "close-quietly"
REPLY = "reply"
VIA = {
    "command": "command",
    "form": "form",
    "shortcut": "message shortcut",
    "dm": "direct message",
    "emoji": "emoji on a message",
    "channel": "request channel",
}


def clip(text: str, limit: int) -> str:
    """Shorten text to `limit` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def ticket_card(
    view: TicketView, config: DeskConfig, staff: tuple[str, ...], now: datetime, tracker: str | None = None
) -> Card:
    """The card that stands for a ticket in its team's places as of `now`; `staff` are those it may be
    assigned to; `tracker` the issue tracker the desk is connected to, if any."""
    header = f"{view.number} {view.title}"
    fields = (
        Field("Requester", (Mention(view.requester),)),
        *((Field("Filed by", (Mention(view.filed_by),)),) if view.filed_by else ()),
        Field("Category", (view.category or "uncategorised",)),
        Field("Priority", (view.priority,)),
        Field("Status", (view.status.label,)),
        Field("Assignee", (Mention(view.assignee),) if view.assignee else ("Unassigned",)),
        Field("Tier", (f"T{view.tier}",)),
        *((Field(tracker.capitalize(), issue_text(view.issue)),) if tracker and view.issue else ()),
        *_clock_fields(view, config, now),
        *((Field("Satisfaction", _rating(view)),) if view.csat_score is not None else ()),
        Field("Why", ("\n".join(view.reasons) or "no rule matched; defaults applied",)),
    )
    body: Rich = (clip(view.description, BODY_LIMIT),)
    if len(view.description) > BODY_LIMIT:
        body = (
            f"(Shortened: all {len(view.description):,} characters of the request are in the thread.)\n",
            *body,
        )
    if view.origin_url:
        body += ("\n", Link(view.origin_url, "Original message"))
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
        actions=_controls(view, config, staff) + _tracker_controls(view, config, tracker),
    )


def issue_text(issue: IssueLink) -> Rich:
    """A ticket's issue as its card and thread show it: the key as a link, where it stands."""
    if issue.key is None:
        return (f"on its way to {issue.project}…",)
    shown: Rich = (Link(issue.url, issue.key),) if issue.url else (issue.key,)
    if issue.status:
        shown += (f" · {issue.status}",)
    if issue.shipped:
        shown += (" · shipped, requesters told",)
    return shown


def _rating(view: TicketView) -> Rich:
    """The requester's rating, with their comment as they wrote it."""
    score = view.csat_score or 0
    shown: Rich = (f"{'★' * score}{'☆' * (5 - score)} {score} of 5",)
    return shown + ((" · “", clip(view.csat_comment, 500), "”") if view.csat_comment else ())


def _clock_fields(view: TicketView, config: DeskConfig, now: datetime) -> tuple[Field, ...]:
    """Each SLA clock: when it is due (in each reader's own time zone), and whether it is near or past."""
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


def _controls(view: TicketView, config: DeskConfig, staff: tuple[str, ...]) -> tuple[Control, ...]:
    def ref(action: Action) -> ActionRef:
        return ActionRef(view.id, action.value, view.version)

    if view.status is Status.RESOLVED:
        closing: tuple[Control, ...] = (Button("Close", ref(Action.CLOSE), style="primary"),)
        if config.surveys(view.team) and view.csat_score is None:
            closing += (Button("Close without survey", ActionRef(view.id, CLOSE_QUIETLY, view.version)),)
        return (*closing, Button("Reopen", ref(Action.REOPEN)))
    if view.status in DONE:
        return (Button("Reopen", ref(Action.REOPEN)),)
    if view.status not in WORKED:
        return ()
    controls: list[Control] = [
        Button("Assign to me", ref(Action.CLAIM), style="primary"),
        PersonPicker("Assign to…", ref(Action.ASSIGN), people=staff, selected=view.assignee),
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
    if view.status is Status.WAITING_ON_CUSTOMER:
        controls.append(Button("Resume", ref(Action.RESUME)))
    elif view.status in (Status.ASSIGNED, Status.IN_PROGRESS):
        controls.append(Button("Waiting on customer", ref(Action.WAIT)))
    controls.append(Button("Resolve", ref(Action.RESOLVE), style="primary"))
    controls.append(
        Prompt(
            "Reply to customer",
            ActionRef(view.id, REPLY, view.version),
            title=f"Reply on {view.number}",
            placeholder="What the requester reads, under your name",
            submit="Send",
        )
    )
    canned = [c.name for c in config.canned_replies]
    canned += [name for name in view.saved_replies if name not in canned]
    if canned:
        controls.append(
            Menu(
                "Canned reply…",
                ActionRef(view.id, CANNED, view.version),
                tuple(Choice(name, name) for name in canned[:MENU_LIMIT]),
            )
        )
    if config.categories:
        controls.append(
            Menu(
                "Category",
                ActionRef(view.id, CATEGORY, view.version),
                tuple(Choice(c.id.capitalize(), c.id) for c in config.categories),
                selected=view.category,
            )
        )
    return tuple(controls)


def _tracker_controls(view: TicketView, config: DeskConfig, tracker: str | None) -> tuple[Control, ...]:
    """Send to the tracker, or merge onto an issue in it: for a worked ticket that has no issue yet (one
    whose issue is still to be made can be merged instead)."""
    if (
        tracker is None
        or (view.issue is not None and view.issue.key is not None)
        or view.status not in WORKED
    ):
        return ()
    controls: list[Control] = []
    kinds = config.jira.kinds() if config.jira is not None else []
    if kinds and view.issue is None:
        controls.append(
            Menu(
                f"Send to {tracker.capitalize()}",
                ActionRef(view.id, SEND, view.version),
                tuple(Choice(kind.choice, kind.choice) for kind in kinds),
            )
        )
    options = tuple(
        Choice(clip(f"{issue.key} {issue.summary or ''}".strip(), 75), issue.key)
        for issue in view.merge_options
        if issue.key
    )
    if options:
        controls.append(Menu("Merge onto…", ActionRef(view.id, MERGE, view.version), options))
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
    assignee: Rich = (Mention(view.assignee),) if view.assignee else ("unassigned",)
    return (
        f"{view.number} {clip(view.title, 80)} · {view.category or 'uncategorised'} · {view.priority} · "
        f"{view.status.label.lower()} · T{view.tier} · ",
        *assignee,
    )
