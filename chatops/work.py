"""The unit of work a handler runs in: one transaction, its moment, what happened in it (the domain
events, each reacted to before the commit), and the side effects it queues."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from chatops.store.tables import OutboxMessage

_INSERT = insert(OutboxMessage.__table__)


class Event:
    """Something that happened to the desk's records; the domains that care react to it in the same unit."""


# How the desk reacts to an event: every reaction registered for its type, in the same transaction.
React = Callable[["Work", Event], None]


@dataclass
class Work:
    """One transaction: everything a handler and the reactions to its events write, outbox rows included,
    commits or fails together."""

    session: Session
    now: datetime
    # None where nothing reacts (a bare unit that records no events).
    react: React | None = None
    _outbox: list[dict[str, Any]] = field(default_factory=list)
    _events: deque[Event] = field(default_factory=deque)
    # What to remember in this process once the transaction has committed (never before: it may not).
    committed: list[Callable[[], None]] = field(default_factory=list)
    # Every event of the unit, in the order it happened (for the log, and for tests to read).
    happened: list[Event] = field(default_factory=list)

    def record(self, event: Event) -> None:
        """Note that something happened; its reactions run before the unit commits."""
        self._events.append(event)
        self.happened.append(event)

    def send(
        self,
        target: str,
        kind: str,
        *,
        ticket_id: int | None = None,
        payload: dict[str, Any] | None = None,
        after: timedelta | None = None,
        destination: str | None = None,
    ) -> None:
        """Queue a side effect for `target` (a chat platform, or another system), carried out after commit,
        not before `after` has passed, if given; `destination`: the place or person it goes to, for words
        (see chatops.messaging.outbox.send_words)."""
        self._outbox.append(
            {
                "target": target,
                "kind": kind,
                "ticket_id": ticket_id,
                "payload": payload or {},
                "destination": destination,
                "created_at": self.now,
                "available_at": self.now + after if after else self.now,
                "attempts": 0,
                "in_doubt": False,
                "failed": False,
            }
        )

    def finish(self) -> None:
        """React to every event (and to the events the reactions record), then write the queued side
        effects into the transaction, in one statement."""
        while self._events:
            event = self._events.popleft()
            if self.react is not None:
                self.react(self, event)
        if self._outbox:
            self.session.connection().execute(_INSERT, self._outbox)
        self._outbox = []
