"""The outbox's leases against a real database: a batch whose outcome could not be recorded is left to its
lease, and claimed again, in doubt, once that runs out."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from recording import RecordingGateway
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from structlog.testing import capture_logs
from world import World

from chatops.bootstrap import dispatcher_for
from chatops.clock import SystemClock
from chatops.messaging.cards import Card
from chatops.messaging.ports import Destination, MessageRef
from chatops.rich import Rich
from chatops.store.tables import OutboxMessage
from harness import refusing_writes

LEASE = timedelta(seconds=6)


@dataclass
class HeldGateway(RecordingGateway):
    """Holds every post until released, and notes from when each post looked for an earlier try."""

    released: asyncio.Event = field(default_factory=asyncio.Event)
    looked: list[datetime | None] = field(default_factory=list)

    async def post(
        self, to: Destination, body: Card | Rich, *, key: str, look_since: datetime | None
    ) -> MessageRef:
        self.looked.append(look_since)
        await self.released.wait()
        return await super().post(to, body, key=key, look_since=look_since)


async def until(condition: Callable[[], bool], wanted: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout:g} s for {wanted}"
        await asyncio.sleep(0.02)


def pending(world: World) -> int:
    with Session(world.db.engine) as session:
        query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.done_at.is_(None))
        return session.scalar(query) or 0


def test_a_batch_whose_record_failed_is_claimed_again_once_its_lease_runs_out(
    world: World, database_url: str
) -> None:
    world.clock.at = datetime.now(UTC)
    numbers = [world.open_one(f"Export crashes, case {n}") for n in range(3)]
    slack = HeldGateway("slack")
    dispatcher = dispatcher_for(
        world.db, world.desk, SystemClock(), {"slack": slack}, lease=LEASE, poll_interval=0.2
    )

    async def scenario() -> None:
        running = asyncio.create_task(dispatcher.run())
        await until(lambda: len(slack.looked) == len(numbers), "every card's post in flight", 10)
        # The cards go out, but the database takes no writes when the dispatcher records that they did.
        with capture_logs() as logs, refusing_writes(database_url, world.db.engine):
            slack.released.set()
            failed = {"event": "outbox_batch_failed"}
            await until(lambda: any(failed.items() <= entry.items() for entry in logs), "a failed record", 10)
        # The database is back; the dispatcher, alive all along, must not hold on to the unrecorded rows.
        await until(lambda: pending(world) == 0, "every card recorded", LEASE.total_seconds() * 4)
        dispatcher.stop()
        await running

    asyncio.run(scenario())

    # Each card was posted, then claimed again in doubt: the second try looked before posting.
    assert [since is None for since in slack.looked] == [True] * 3 + [False] * 3
    assert all(("card", "slack") in {(k.kind, k.system) for k in world.links(n)} for n in numbers)
