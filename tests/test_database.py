"""The database's units of work: group commit keeps neighbours apart, and late units are shed unrun."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from chatops.errors import Overloaded
from chatops.store import migrate
from chatops.store.db import Database, Unit, WritesRefused
from chatops.store.tables import Replica
from harness import refusing_writes, wait_until


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


def test_a_late_unit_is_told_that_the_database_refuses_writes_rather_than_that_it_was_busy(
    db: Database, database_url: str
) -> None:
    past = time.monotonic() - 1
    with refusing_writes(database_url, db.engine):
        with pytest.raises(DBAPIError):
            asyncio.run(db.run(remember("refused")))

        # It would have been refused had it been on time: being late is not why nothing was saved.
        with pytest.raises(WritesRefused, match="read-only|readonly"):
            asyncio.run(db.run(remember("late"), deadline=past))

    assert asyncio.run(db.run(remember("taken"))) == "taken"
    with pytest.raises(Overloaded):
        asyncio.run(db.run(remember("late"), deadline=past))
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


def test_sqlite_log_is_copied_into_the_database_file_by_a_thread_of_its_own_not_by_a_commit(
    tmp_path: Path,
) -> None:
    path = tmp_path / "desk.db"
    database = Database(f"sqlite:///{path}", writers=1)
    try:
        migrate.upgrade(database.engine)
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        for n in range(3):
            database.run_sync(remember(f"event-{n}"))

        def in_the_file_itself() -> int:
            # The database file alone, as it would be read without its log.
            alone = tmp_path / "alone.db"
            shutil.copyfile(path, alone)
            try:
                with contextlib.closing(sqlite3.connect(alone)) as copy:
                    return copy.execute("SELECT count(*) FROM replicas").fetchone()[0]
            except sqlite3.DatabaseError:
                return 0
            finally:
                alone.unlink()

        wait_until(in_the_file_itself, lambda rows: rows == 3, "the rows in the database file itself")
    finally:
        database.close()


def test_writers_that_deadlock_on_postgresql_both_commit(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer, which cannot deadlock with itself")
    db = Database(database_url, writers=2)
    migrate.upgrade(db.engine)
    for name in ("x", "y"):
        db.run_sync(remember(name))
    holding = {"x": threading.Event(), "y": threading.Event()}

    def crosswise(first: str, then: str) -> Unit[str]:
        def unit(session: Session) -> str:
            session.execute(update(Replica).where(Replica.id == first).values(host=f"{first} first"))
            holding[first].set()
            # Each waits until the other holds its row, then asks for it: PostgreSQL fails one of them.
            holding[then].wait(10)
            session.execute(update(Replica).where(Replica.id == then).values(host=f"{first} first"))
            return first

        return unit

    async def both() -> list[str]:
        one = asyncio.ensure_future(db.run(crosswise("x", "y")))
        # The second goes to the other writer only once the first writer is busy with its unit.
        await asyncio.get_running_loop().run_in_executor(None, holding["x"].wait, 10)
        return await asyncio.gather(one, db.run(crosswise("y", "x")))

    try:
        assert asyncio.run(both()) == ["x", "y"]
        with Session(db.engine) as session:
            hosts = set(session.scalars(select(Replica.host).where(Replica.id.in_(["x", "y"]))))
        # Both committed, one after the other: the rows hold what the later of them wrote.
        assert hosts in ({"x first"}, {"y first"})
    finally:
        db.close()
