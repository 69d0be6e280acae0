"""The workflow table: every action's allowed sources, and the reasons it gives for refusing."""

from __future__ import annotations

import pytest

from chatops.errors import IllegalTransition
from chatops.tickets.workflow import WORKFLOW, Action, Status, next_status


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        (Status.NEW, Action.TRIAGE, Status.TRIAGED),
        (Status.TRIAGED, Action.CLAIM, Status.ASSIGNED),
        (Status.ASSIGNED, Action.ASSIGN, Status.ASSIGNED),
        (Status.ASSIGNED, Action.START, Status.IN_PROGRESS),
        (Status.IN_PROGRESS, Action.WAIT, Status.WAITING_ON_CUSTOMER),
        (Status.WAITING_ON_CUSTOMER, Action.RESUME, Status.IN_PROGRESS),
        (Status.IN_PROGRESS, Action.ESCALATE, Status.IN_PROGRESS),
        (Status.WAITING_ON_CUSTOMER, Action.RESOLVE, Status.RESOLVED),
        (Status.RESOLVED, Action.CLOSE, Status.CLOSED),
        (Status.CLOSED, Action.REOPEN, Status.TRIAGED),
    ],
)
def test_allowed_steps(start: Status, action: Action, end: Status) -> None:
    assert next_status(start, action) is end


def test_every_illegal_step_is_refused_with_a_reason() -> None:
    refused = 0
    for action, step in WORKFLOW.items():
        for status in set(Status) - step.sources:
            with pytest.raises(IllegalTransition, match=f"A ticket that is {status.label.lower()} cannot be"):
                next_status(status, action)
            refused += 1
    assert refused > 40


def test_a_new_ticket_must_be_triaged_before_it_is_worked() -> None:
    with pytest.raises(IllegalTransition, match="that needs a ticket that is"):
        next_status(Status.NEW, Action.CLAIM)
