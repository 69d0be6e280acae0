"""The ticket workflow: states, actions and the guarded transitions between them, as one table."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chatops.errors import IllegalTransition


class Status(StrEnum):
    """Where a ticket stands in the workflow."""

    NEW = "new"
    TRIAGED = "triaged"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        """The status as people read it."""
        return self.value.replace("_", " ").capitalize()


class Action(StrEnum):
    """Something that can happen to a ticket."""

    TRIAGE = "triage"
    CLAIM = "claim"
    ASSIGN = "assign"
    START = "start"
    WAIT = "wait"
    RESUME = "resume"
    ESCALATE = "escalate"
    PRIORITY = "priority"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"
    MOVE = "move"


OPEN = frozenset(
    {Status.NEW, Status.TRIAGED, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER}
)
WORKED = OPEN - {Status.NEW}
DONE = frozenset({Status.RESOLVED, Status.CLOSED})


@dataclass(frozen=True)
class Step:
    """Which states an action may start from, and where it leads (None: the status stays)."""

    sources: frozenset[Status]
    target: Status | None


WORKFLOW: dict[Action, Step] = {
    Action.TRIAGE: Step(frozenset({Status.NEW}), Status.TRIAGED),
    Action.CLAIM: Step(WORKED, Status.ASSIGNED),
    Action.ASSIGN: Step(WORKED, Status.ASSIGNED),
    Action.START: Step(frozenset({Status.ASSIGNED}), Status.IN_PROGRESS),
    Action.WAIT: Step(frozenset({Status.ASSIGNED, Status.IN_PROGRESS}), Status.WAITING_ON_CUSTOMER),
    Action.RESUME: Step(frozenset({Status.WAITING_ON_CUSTOMER}), Status.IN_PROGRESS),
    Action.ESCALATE: Step(WORKED, None),
    Action.PRIORITY: Step(WORKED, None),
    Action.RESOLVE: Step(WORKED, Status.RESOLVED),
    Action.CLOSE: Step(frozenset({Status.RESOLVED}), Status.CLOSED),
    Action.REOPEN: Step(DONE, Status.TRIAGED),
    # Another team's queue: whoever had it there is not on that team.
    Action.MOVE: Step(WORKED, Status.TRIAGED),
}


# The actions that need nothing but the ticket (no person, team or words): those a path may take.
BY_ITSELF = (Action.REOPEN, Action.START, Action.RESUME, Action.WAIT, Action.RESOLVE, Action.CLOSE)


def path(current: Status, target: Status) -> list[Action] | None:
    """The fewest actions that need nothing but the ticket and lead it from `current` to `target` (empty
    when it is there), never by way of resolving a ticket that is to stay open or reopening one that is to
    stay done; None when there is no such way."""
    passable = OPEN if target in OPEN else DONE | (OPEN if current in OPEN else frozenset())
    paths: dict[Status, list[Action]] = {current: []}
    frontier = [current]
    while frontier and target not in paths:
        reached = []
        for status in frontier:
            for action in BY_ITSELF:
                step = WORKFLOW[action]
                if status in step.sources and step.target in passable and step.target not in paths:
                    paths[step.target] = [*paths[status], action]
                    reached.append(step.target)
        frontier = reached
    return paths.get(target)


def next_status(current: Status, action: Action) -> Status:
    """The status after `action`, or IllegalTransition saying why it cannot happen now."""
    step = WORKFLOW[action]
    if current not in step.sources:
        allowed = ", ".join(sorted(s.label.lower() for s in step.sources))
        raise IllegalTransition(
            f"A ticket that is {current.label.lower()} cannot be {_past(action)}; "
            f"that needs a ticket that is {allowed}."
        )
    return step.target or current


def _past(action: Action) -> str:
    return {
        Action.CLAIM: "claimed",
        Action.ASSIGN: "assigned",
        Action.START: "started",
        Action.WAIT: "put on hold for the customer",
        Action.RESUME: "resumed",
        Action.ESCALATE: "escalated",
        Action.PRIORITY: "re-prioritised",
        Action.RESOLVE: "resolved",
        Action.CLOSE: "closed",
        Action.REOPEN: "reopened",
        Action.TRIAGE: "triaged",
        Action.MOVE: "moved to another team",
    }[action]
