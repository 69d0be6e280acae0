"""The database's units of work: group commit keeps neighbours apart, and late units are shed unrun."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from chatops.errors import Overloaded
from chatops.store import migrate
from chatops.store.db import Database
from chatops.store.tables import Replica


@pytest.fixture
def db(database_url: str):
    database = Database(database_url, writers=1)
    migrate.upgrade(database.engine)
    yield database
    database.close()


def remember(event_id: str):
    def unit(session: Session) -> str:
        now = datetime.now(UTC)
        session.execute(insert(Replica), {"id": event_id, "host": "test", "started_at": now, "seen_at": now})
        return event_id

    return unit


def count(db: Database) -> int:
    with Session(db.engine) as session:
        return session.scalar(select(func.count()).select_from(Replica)) or 0


def test_a_unit_still_queued_after_its_deadline_is_dropped_unrun(db: Database) -> None:
    started = threading.Event()

    def slow(session: Session) -> None:
        started.set()
        time.sleep(0.5)

    blocker = threading.Thread(target=db.run_sync, args=(slow,))
    blocker.start()
    started.wait(5)

    async def late() -> str:
        return await db.run(remember("late"), deadline=time.monotonic() + 0.1)

    with pytest.raises(Overloaded, match="nothing was saved"):
        asyncio.run(late())
    blocker.join()
    assert count(db) == 0
    assert asyncio.run(db.run(remember("on time"), deadline=time.monotonic() + 5)) == "on time"
    assert count(db) == 1


def test_one_failing_unit_of_a_batch_does_not_undo_its_neighbours(db: Database) -> None:
    started = threading.Event()

    def slow(session: Session) -> None:
        started.set()
        time.sleep(0.3)

    async def batch() -> list[object]:
        # The slow unit holds the writer, so the next three queue up and commit as one batch.
        blocker = asyncio.get_running_loop().run_in_executor(None, db.run_sync, slow)
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
        results = await asyncio.gather(
            db.run(remember("a")), db.run(remember("a")), db.run(remember("b")), return_exceptions=True
        )
        await blocker
        return results

    first, duplicate, other = asyncio.run(batch())

    assert (first, other) == ("a", "b")
    assert "UNIQUE" in str(duplicate).upper() or "duplicate key" in str(duplicate)
    assert count(db) == 2
