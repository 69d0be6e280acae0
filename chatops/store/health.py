"""Whether this replica can do its work: the database takes its writes and keeps them where it should."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from chatops.clock import Clock
from chatops.errors import StorageUnavailable
from chatops.store.db import Database
from chatops.store.tables import Replica

_REPLICAS = Replica.__table__
# A load balancer's probe gives up after a few seconds; so does this check, with an answer.
WRITE_TIMEOUT = 5.0


@dataclass
class Health:
    """This replica's health check: a real write, committed where the database is configured to be."""

    db: Database
    clock: Clock
    replica: str = field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    )
    started_at: datetime | None = None

    async def problem(self) -> str | None:
        """Why the desk cannot keep what it is told right now, or None when it can."""
        problem = self.db.storage_problem()
        if problem is not None:
            return problem
        try:
            await asyncio.wait_for(self.db.run(self._seen), WRITE_TIMEOUT)
        except TimeoutError:
            return f"the database did not take a write within {WRITE_TIMEOUT:g} s"
        except StorageUnavailable as lost:
            return lost.problem
        except SQLAlchemyError as error:
            return f"writes fail: {str(getattr(error, 'orig', None) or error).splitlines()[0]}"
        return None

    def _seen(self, session: Session) -> None:
        now = self.clock.now()
        self.started_at = self.started_at or now
        touched = session.execute(update(_REPLICAS).where(_REPLICAS.c.id == self.replica).values(seen_at=now))
        if touched.rowcount == 0:
            session.execute(
                insert(_REPLICAS).values(
                    id=self.replica, host=socket.gethostname()[:255], started_at=self.started_at, seen_at=now
                )
            )
