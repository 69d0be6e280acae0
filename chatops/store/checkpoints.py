"""SQLite's write-ahead log copied back into the database file by a thread of its own, off the writer's path.

SQLite's own checkpoint runs inside whichever commit takes the log past 1,000 pages: that commit then
writes and syncs some 4 MB of the database file before its callers are answered, and every unit queued
behind it waits too (a quarter of a second now and then on a busy desk). So the desk's connections turn
it off, and this thread checkpoints every moment instead, in the PASSIVE mode that never waits for a
reader or writer. The log is rewound by the next commit after a checkpoint that copied all of it.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import structlog

log = structlog.get_logger("chatops.store")

# Often enough that the log stays a few hundred pages at the desk's busiest.
INTERVAL = 0.25


class Checkpointer:
    """Checkpoints one SQLite database every `interval` seconds until closed."""

    def __init__(self, path: Path, interval: float = INTERVAL) -> None:
        self._path = path
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="db-checkpoint", daemon=True)
        self._failing = False

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        connection: sqlite3.Connection | None = None
        while not self._stop.wait(self._interval):
            if connection is None and not self._path.exists():
                # Not created yet (the schema comes first), or gone: nothing to checkpoint.
                continue
            try:
                # Read-write, never create: a file that is not there is not this thread's to make.
                connection = connection or sqlite3.connect(f"{self._path.as_uri()}?mode=rw", uri=True)
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error as error:
                # A file that takes no writes (or is gone) is the writers' to report; said here once.
                if not self._failing:
                    log.warning("checkpoint_failed", error=str(error).splitlines()[0])
                self._failing = True
                if connection is not None:
                    connection.close()
                connection = None
                continue
            self._failing = False
        if connection is not None:
            connection.close()
