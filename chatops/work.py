"""The unit of work a command handler runs in: one transaction, its moment, and the side effects it queues."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from chatops.messaging.outbox import insert_rows, outbox_row


@dataclass
class Work:
    """One transaction: everything a handler writes, outbox rows included, commits or fails together."""

    session: Session
    now: datetime
    _outbox: list[dict[str, Any]] = field(default_factory=list)
    # What to remember in this process once the transaction has committed (never before: it may not).
    committed: list[Callable[[], None]] = field(default_factory=list)

    def send(
        self,
        target: str,
        kind: str,
        *,
        ticket_id: int | None = None,
        payload: dict[str, Any] | None = None,
        after: timedelta | None = None,
        after_card: bool = False,
    ) -> None:
        """Queue a side effect for `target` (a chat platform, or another system), carried out after commit:
        not before `after` has passed, if given, unless `after_card` and the ticket's card is posted first."""
        row = outbox_row(target, kind, now=self.now, ticket_id=ticket_id, payload=payload)
        if after:
            row["available_at"] = self.now + after
        row["after_card"] = after_card
        self._outbox.append(row)

    def finish(self) -> None:
        """Write the queued side effects into the transaction, in one statement."""
        insert_rows(self.session, self._outbox)
        self._outbox = []
