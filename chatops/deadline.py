"""The time by which the current request must be answered, carried with the request's task."""

from __future__ import annotations

import time
from contextvars import ContextVar

# Chat platforms give up on an answer after a few seconds (Slack: 3 s); keep a margin for the trip back.
REPLY_BUDGET = 2.5

_answer_by: ContextVar[float | None] = ContextVar("answer_by", default=None)


def start(budget: float = REPLY_BUDGET) -> None:
    """Note that a request arrived now and must be answered within `budget` seconds."""
    _answer_by.set(time.monotonic() + budget)


def answer_by() -> float | None:
    """The monotonic time by which the current request must be answered, if it has one."""
    return _answer_by.get()
