"""Housekeeping: what the desk no longer needs is deleted after the retention, in bounded batches, and
nothing that is still owed or still useful."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from recording import RecordingGateway, drain
from sqlalchemy.orm import Session
from world import World, rules

from chatops.bootstrap import dispatcher_for
from chatops.scheduling import Timers, until_stopped
from chatops.tickets.commands import OpenTicket
from chatops.tracking.repository import receive


def open_one(world: World, n: int) -> int:
    command = OpenTicket(
        text=f"Export crashes, case {n}",
        requester="slack:U0CUSTOMER",
        via="dm",
        platform="slack",
        request_id=f"ev{n}",
    )
    return world.do(command).value.ticket.id


def test_done_rows_and_old_request_ids_go_after_the_retention_and_the_rest_stays(world: World) -> None:
    for n in range(5):
        open_one(world, n)
    drain(dispatcher_for(world.db, world.desk, world.clock, {"slack": RecordingGateway("slack")}))  # type: ignore[dict-item]
    done = len(world.outbox())
    world.clock.advance(days=14, hours=1)
    # A ticket of today: its request id still guards against a redelivery, and its rows are still owed.
    fresh = open_one(world, 99)
    owed = len(world.outbox()) - done

    # Two rows a transaction: several batches, each short.
    timers = Timers(world.bus, batch=2)
    touched = asyncio.run(timers.run("outbox-rows")) + asyncio.run(timers.run("intake-keys"))

    assert touched == done + 5
    assert len(world.outbox()) == owed
    assert [world.ticket(n).intake_key for n in range(1, 6)] == [None] * 5
    assert world.ticket(fresh).intake_key == "slack:ev99"
    # The request of today, delivered again, still opens nothing new.
    assert open_one(world, 99) == fresh


def test_tracker_receipts_go_after_the_retention_and_a_fresh_one_still_guards(
    world_with: Callable[..., World],
) -> None:
    world = world_with(rules(), "jira")
    with Session(world.db.engine) as session, session.begin():
        for n in range(3):
            receive(session, "jira", f"delivery:old-{n}", world.clock.now())
    world.clock.advance(days=14, hours=1)
    with Session(world.db.engine) as session, session.begin():
        receive(session, "jira", "delivery:new", world.clock.now())

    touched = asyncio.run(Timers(world.bus, batch=2).run("tracker-receipts"))

    assert touched == 3
    with Session(world.db.engine) as session, session.begin():
        assert receive(session, "jira", "delivery:old-0", world.clock.now()) is True
        assert receive(session, "jira", "delivery:new", world.clock.now()) is False


def test_a_timer_stopped_mid_run_by_the_process_ending_ends_quietly() -> None:
    async def stop_mid_run() -> bool:
        started = asyncio.Event()

        async def long_sweep() -> None:
            started.set()
            await asyncio.Event().wait()

        running = asyncio.create_task(until_stopped(long_sweep)())
        await started.wait()
        running.cancel()
        # The scheduler awaiting it sees it end, not an exception to print with its traceback.
        await running
        return running.cancelled()

    assert asyncio.run(stop_mid_run()) is False
