"""A chat gateway that records what it was asked and answers at once: a second platform for the tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatops.messaging.cards import Card
from chatops.messaging.dispatcher import Dispatcher
from chatops.messaging.ports import CallKind, Destination, MessageRef, Pace
from chatops.rich import Rich
from chatops.store.tables import OutboxMessage


@dataclass
class RecordingGateway:
    """Records every call; posts get ids of the form <platform>-<n>."""

    platform: str
    calls: list[tuple[str, Any]] = field(default_factory=list)
    # Raised by every post instead of posting (a platform in trouble), when set.
    failure: Exception | None = None
    # Raised by posts to these places only (a channel the platform will not take posts in yet).
    closed_places: dict[str, Exception] = field(default_factory=dict)
    # Raised by asking for a message's link instead of giving it (the message was deleted), when set.
    link_failure: Exception | None = None

    async def post(
        self, to: Destination, body: Card | Rich, *, key: str, look_since: datetime | None
    ) -> MessageRef:
        if to.place in self.closed_places:
            self.calls.append(("refused", (to, body, key)))
            raise self.closed_places[to.place]
        if self.failure is not None:
            self.calls.append(("refused", (to, body, key)))
            raise self.failure
        self.calls.append(("post", (to, body, key)))
        return MessageRef(to.place or f"dm-{to.person}", f"{self.platform}-{len(self.calls)}")

    async def update(self, ref: MessageRef, card: Card) -> None:
        self.calls.append(("update", (ref, card)))

    async def tell_privately(self, place: str | None, person: str, text: Rich) -> None:
        self.calls.append(("tell_privately", (place, person, text)))

    async def link(self, ref: MessageRef) -> str:
        self.calls.append(("link", ref))
        if self.link_failure is not None:
            raise self.link_failure
        return f"https://{self.platform}.example/{ref.place}/{ref.id}"

    def pace(self, kind: CallKind, place: str | None) -> Pace:
        return Pace(f"{kind}:{place}", per_second=1000.0, burst=100)

    async def close(self) -> None:
        return None

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.calls]


def drain(dispatcher: Dispatcher, timeout: float = 10.0, until: Callable[[], bool] | None = None) -> None:
    """Run the dispatcher until the outbox has nothing left to do now (or until `until` holds)."""

    def pending() -> int:
        with Session(dispatcher.db.engine) as session:
            query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.done_at.is_(None))
            return session.scalar(query) or 0

    async def run() -> None:
        task = asyncio.create_task(dispatcher.run())
        deadline = time.monotonic() + timeout
        while not (until() if until is not None else not pending()):
            assert time.monotonic() < deadline, "the outbox did not drain"
            dispatcher.wake()
            await asyncio.sleep(0.02)
        dispatcher.stop()
        await task

    asyncio.run(run())
