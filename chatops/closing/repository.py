"""The closing steps' view of the tickets table: whose timed step has come."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatops.store.tables import Ticket


def due(session: Session, now: datetime, limit: int) -> list[Ticket]:
    """Tickets whose next closing step has come, oldest first, locked; rows another sweep holds are
    skipped, so that several replicas share the work and each step is taken once."""
    query = (
        select(Ticket)
        .where(Ticket.nudge_at <= now)
        .order_by(Ticket.nudge_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))
