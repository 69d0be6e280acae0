"""Where a platform's conversations and people can be reached from our side, as the platform describes it.

Some platforms (Teams) only take a message that starts from us when it names a conversation the way the
platform last described it to us. Those descriptions are kept in the database, so that any replica can use
them, after a restart too, and cached here, since they rarely change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chatops.clock import Clock
from chatops.store.db import Database
from chatops.store.tables import ChatAddress

_TABLE = ChatAddress.__table__


def place_key(address: str) -> str:
    """The key of a conversation (a channel, a group chat) by the platform's id for it."""
    return f"place:{address}"


def chat_key(person: str) -> str:
    """The key of a person's one-to-one chat with the bot, by person id."""
    return f"chat:{person}"


class AddressBook:
    """The addresses of one platform: read through a cache, written only when new or changed."""

    def __init__(self, db: Database, platform: str, clock: Clock) -> None:
        self.db = db
        self.platform = platform
        self.clock = clock
        self._known: dict[str, dict[str, Any]] = {}

    async def remember(self, documents: Mapping[str, dict[str, Any]]) -> None:
        """Keep these addresses (by key) for later; one write for those that are new or have changed."""
        changed = {key: doc for key, doc in documents.items() if self._known.get(key) != doc}
        if not changed:
            return
        now = self.clock.now()
        await self.db.run(lambda session: _upsert(session, self.platform, changed, now))
        self._known.update(changed)

    async def recall(self, key: str) -> dict[str, Any] | None:
        """The address kept under `key`, if the platform ever described it to us."""
        known = self._known.get(key)
        if known is not None:
            return known
        found = await self.db.read(lambda session: _documents(session, self.platform, [key]))
        self._known.update(found)
        return found.get(key)

    async def missing(self, keys: Iterable[str]) -> list[str]:
        """Which of these keys no address is kept for yet."""
        wanted = [key for key in keys if key not in self._known]
        if not wanted:
            return []
        found = await self.db.read(lambda session: _documents(session, self.platform, wanted))
        self._known.update(found)
        return [key for key in wanted if key not in found]


def _upsert(session: Session, platform: str, documents: Mapping[str, dict[str, Any]], now: datetime) -> None:
    connection = session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_TABLE)
    statement = statement.on_conflict_do_update(
        index_elements=["platform", "key"],
        set_={"document": statement.excluded.document, "updated_at": statement.excluded.updated_at},
    )
    rows = [{"platform": platform, "key": k, "document": d, "updated_at": now} for k, d in documents.items()]
    connection.execute(statement, rows)


def _documents(session: Session, platform: str, keys: list[str]) -> dict[str, dict[str, Any]]:
    rows = session.execute(
        select(ChatAddress.key, ChatAddress.document).where(
            ChatAddress.platform == platform, ChatAddress.key.in_(keys)
        )
    )
    return {key: document for key, document in rows}
