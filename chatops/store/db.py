"""The database: engine set-up per backend, and units of work run off the event loop with group commit."""

from __future__ import annotations

import asyncio
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Column, Engine, Insert, Table, create_engine, event, make_url
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from chatops.errors import Overloaded, StorageUnavailable
from chatops.store.checkpoints import Checkpointer

T = TypeVar("T")
Unit = Callable[[Session], T]

# How each backend says that it takes no writes at all (read-only, or full), whatever the statement:
# PostgreSQL's SQLSTATEs, SQLite's primary result codes.
_REFUSING_STATES = frozenset({"25006", "53100"})
_REFUSING_CODES = frozenset({sqlite3.SQLITE_READONLY, sqlite3.SQLITE_FULL})
# PostgreSQL's answer when it broke a deadlock or a serialization conflict by failing one side: the
# transaction it chose did nothing, and the same work run again goes through once the other has.
_CONFLICT_STATES = frozenset({"40P01", "40001"})
_CONFLICT_RETRIES = 3


class WritesRefused(Exception):
    """The database takes no writes: what a unit that missed its deadline meanwhile is told, since it
    would have been refused had it run in time."""


def normalize_url(url: str) -> str:
    """Use the psycopg 3 driver for a plain postgresql:// URL."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    """An engine tuned for its backend: SQLite in WAL mode with real transactions, PostgreSQL pooled."""
    url = normalize_url(url)
    if not url.startswith("sqlite"):
        return create_engine(url, pool_size=8, max_overflow=4, pool_pre_ping=True)
    if url in ("sqlite://", "sqlite:///:memory:"):
        raise ValueError("an in-memory SQLite database cannot be shared by the server's threads; use a file")
    engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transactions out of pysqlite's hands so that BEGIN, SAVEPOINT and COMMIT mean what they say.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # No checkpoint inside a commit: the Checkpointer's thread does them (chatops/store/checkpoints.py).
        pragmas = ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000")
        for pragma in (*pragmas, "wal_autocheckpoint=0"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front; a deferred upgrade could fail with SQLITE_BUSY mid-unit.
        immediate = connection.get_execution_options().get("chatops_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@dataclass
class _Pending:
    unit: Unit[Any]
    # Answered on its event loop (an asyncio future), or from the writer thread (a concurrent future).
    future: asyncio.Future[Any] | Future[Any]
    deadline: float | None = None


class Database:
    """Runs units of work in writer threads; units queued together commit in one transaction.

    When a unit of a batch fails, the batch runs again with each unit in its own savepoint, so one
    unit's failure does not undo its neighbours. Every caller is answered only after the commit that
    made its unit durable.
    """

    def __init__(self, url: str, *, writers: int | None = None, batch_limit: int = 200) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(self.url)
        self.is_sqlite = self.url.startswith("sqlite")
        self._write_engine = self.engine.execution_options(chatops_write=True)
        self._batch_limit = batch_limit
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        count = writers or (1 if self.is_sqlite else 4)
        self._writers = [
            threading.Thread(target=self._write_loop, name=f"db-writer-{i}", daemon=True)
            for i in range(count)
        ]
        self._readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="db-reader")
        self._file = _sqlite_file(self.url)
        self._file_identity: tuple[int, int] | None = None
        # Why the database refuses writes, from its last refusal until a batch next goes through whole.
        self._refusal: str | None = None
        self._checkpointer = Checkpointer(self._file) if self._file is not None else None
        for thread in self._writers:
            thread.start()
        if self._checkpointer is not None:
            self._checkpointer.start()

    async def run(self, unit: Unit[T], *, deadline: float | None = None) -> T:
        """Run a unit of work in a transaction and return its result once committed.

        A unit still queued at `deadline` (a time.monotonic() value) is dropped unrun with Overloaded:
        its caller has given up waiting, so committing it would only surprise them.
        """
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put(_Pending(unit, future, deadline))
        return await future

    def run_sync(self, unit: Unit[T]) -> T:
        """Run a unit of work from ordinary (non-async) code."""
        future: Future[T] = Future()
        self._queue.put(_Pending(unit, future))
        return future.result()

    async def read(self, unit: Unit[T]) -> T:
        """Run a read-only unit beside the writers."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._read, unit)

    def _read(self, unit: Unit[T]) -> T:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            return unit(session)

    def storage_problem(self) -> str | None:
        """Why a commit would not reach the database file at its configured path (None when it would).

        SQLite keeps writing to a file that was removed or replaced under it, and every commit succeeds:
        into a file nobody will ever open again.
        """
        if self._file is None:
            return None
        try:
            stat = os.stat(self._file)
        except OSError:
            return f"the database file {self._file} is gone (removed or moved while the server runs)"
        identity = (stat.st_dev, stat.st_ino)
        if self._file_identity is None:
            self._file_identity = identity
        elif identity != self._file_identity:
            return f"the database file {self._file} was replaced while the server runs"
        return None

    def close(self) -> None:
        """Stop the writers after the queued units, and release connections."""
        for _ in self._writers:
            self._queue.put(None)
        for thread in self._writers:
            thread.join(timeout=30)
        if self._checkpointer is not None:
            self._checkpointer.close()
        self._readers.shutdown(wait=True)
        self.engine.dispose()

    def _write_loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._batch_limit:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                batch.append(item)
            now = time.monotonic()
            late = [p for p in batch if p.deadline is not None and p.deadline < now]
            if late:
                batch = [p for p in batch if p not in late]
            outcomes = self._commit(batch) if batch and self.storage_problem() is None else []
            # Checked again after the commit: what went into a lost file is not saved, whatever SQLite said.
            problem = self.storage_problem() if batch else None
            if problem is not None:
                outcomes = [(pending, None, StorageUnavailable(problem)) for pending in batch]
            self._learn([error for _, _, error in outcomes])
            _answer([*((pending, None, self._too_late()) for pending in late), *outcomes])

    def _learn(self, errors: list[BaseException | None]) -> None:
        """Note whether the database refuses writes, from how the units of a batch ended."""
        refused = next((error for error in errors if error is not None and _refuses(error)), None)
        if refused is not None:
            self._refusal = str(getattr(refused, "orig", None) or refused).splitlines()[0]
        elif errors and all(error is None for error in errors):
            self._refusal = None

    def _too_late(self) -> Exception:
        """What a unit that missed its deadline is told: that the database refuses writes, when it does
        (being slow is then not why nothing was recorded), else that the desk was too busy."""
        return WritesRefused(self._refusal) if self._refusal is not None else Overloaded()

    def _commit(self, batch: list[_Pending]) -> list[tuple[_Pending, Any, BaseException | None]]:
        """Commit a batch; units the database failed only to break a conflict between writers run again
        (units are pure functions of the database), so no caller hears of a deadlock."""
        outcomes = self._commit_once(batch)
        for _ in range(_CONFLICT_RETRIES):
            again = [pending for pending, _, error in outcomes if error is not None and _conflicted(error)]
            if not again:
                break
            retried = {id(outcome[0]): outcome for outcome in self._commit_once(again)}
            outcomes = [retried.get(id(outcome[0]), outcome) for outcome in outcomes]
        return outcomes

    def _commit_once(self, batch: list[_Pending]) -> list[tuple[_Pending, Any, BaseException | None]]:
        if len(batch) > 1:
            try:
                return self._commit_together(batch)
            except Exception as error:  # noqa: BLE001 - a unit failed: run them again, each in a savepoint
                # Learnt first: a unit found late in the second run is told why.
                self._learn([error])
        return self._commit_isolated(batch)

    def _commit_together(self, batch: list[_Pending]) -> list[tuple[_Pending, Any, BaseException | None]]:
        # The common case, all units succeeding, costs no savepoints; units are pure functions of the
        # database, so running them again after a rollback is safe.
        with Session(self._write_engine, expire_on_commit=False) as session, session.begin():
            return [(pending, self._flushed(pending, session), None) for pending in batch]

    def _commit_isolated(self, batch: list[_Pending]) -> list[tuple[_Pending, Any, BaseException | None]]:
        outcomes: list[tuple[_Pending, Any, BaseException | None]] = []
        try:
            with Session(self._write_engine, expire_on_commit=False) as session, session.begin():
                if len(batch) == 1:
                    outcomes.append((batch[0], self._flushed(batch[0], session), None))
                else:
                    for pending in batch:
                        try:
                            with session.begin_nested():
                                result = self._flushed(pending, session)
                            outcomes.append((pending, result, None))
                        except Exception as error:  # noqa: BLE001 - handed to that unit's caller
                            outcomes.append((pending, None, error))
        except Exception as error:  # noqa: BLE001 - a lone unit raised, or the commit failed
            own = {id(p): e for p, _, e in outcomes if e is not None}
            return [(pending, None, own.get(id(pending), error)) for pending in batch]
        return outcomes

    def _flushed(self, pending: _Pending, session: Session) -> Any:
        # Checked again once the transaction holds the database: waiting for a lock can outlast the caller.
        if pending.deadline is not None and pending.deadline < time.monotonic():
            raise self._too_late()
        result = pending.unit(session)
        session.flush()
        return result


def _conflicted(error: BaseException) -> bool:
    """Whether the database failed a unit only to let another writer's transaction through."""
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in _CONFLICT_STATES


def _refuses(error: BaseException) -> bool:
    """Whether the database refused a write because it takes none, rather than this statement."""
    if not isinstance(error, DBAPIError):
        return False
    state = getattr(error.orig, "sqlstate", None)
    code = getattr(error.orig, "sqlite_errorcode", None)
    return state in _REFUSING_STATES or (code is not None and code & 0xFF in _REFUSING_CODES)


def _sqlite_file(url: str) -> Path | None:
    """The absolute path of a SQLite database file (None for other databases)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database).resolve()


def _answer(outcomes: list[tuple[_Pending, Any, BaseException | None]]) -> None:
    """Hand each unit's outcome to its caller: one wake-up per event loop for the whole batch."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, BaseException | None]]] = {}
    for pending, result, error in outcomes:
        future = pending.future
        if isinstance(future, asyncio.Future):
            by_loop.setdefault(future.get_loop(), []).append((future, result, error))
        elif error is None:
            future.set_result(result)
        else:
            future.set_exception(error)
    for loop, settled in by_loop.items():
        loop.call_soon_threadsafe(_settle, settled)


def _settle(settled: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, result, error in settled:
        if future.cancelled():
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)


def insert_ignoring(
    table: Table, *, returning: Column[Any] | None = None, on: list[Column[Any]] | None = None
) -> dict[str, Insert]:
    """An insert that skips a row whose key is taken (the unique `on` columns, or any), by dialect name;
    with `returning`, only a row actually inserted gives that column back."""
    statements: dict[str, Insert] = {}
    for dialect in (sqlite, postgresql):
        statement = dialect.insert(table).on_conflict_do_nothing(index_elements=on)
        statements[dialect.__name__.rsplit(".", 1)[-1]] = (
            statement.returning(returning) if returning is not None else statement
        )
    return statements
