"""The desk's timers, as each domain registered them (the SLA and closing sweeps, the look at what changed
in the tracker, housekeeping), fired on the running event loop while the process serves.

APScheduler only fires the timers, in each process that runs them; it keeps no job store, since its
stores must never be shared by several schedulers. Who acts on what is the database's to decide: a sweep
claims due tickets with their rows locked, and records each notice under a unique key.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from chatops.bus import TIMERS, MessageBus
from chatops.clock import Timer

log = structlog.get_logger("chatops.schedule")


class Timers:
    """Runs the domains' timers on the running event loop while the process serves."""

    def __init__(
        self, bus: MessageBus, *, timers: tuple[Timer, ...] = TIMERS, batch: int | None = None
    ) -> None:
        """`batch`: how many rows one run of a batched timer takes at most (its command's own limit if
        None)."""
        self.bus = bus
        self.timers = {timer.name: timer for timer in timers}
        self.batch = batch
        self._scheduler: AsyncIOScheduler | None = None

    def start(self) -> None:
        """Start the timers that run on this desk; those due at start run at once."""
        # APScheduler reports every run, and every run skipped while one overruns, which is by design here.
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        scheduler = AsyncIOScheduler(timezone=UTC)
        for timer in self.timers.values():
            seconds = timer.every(self.bus.desk)
            if seconds is None:
                continue
            first = {"next_run_time": datetime.now(UTC)} if timer.at_start else {}
            # One run at a time in a process: one that overruns its interval is not started twice.
            scheduler.add_job(
                until_stopped(lambda timer=timer: self.run(timer.name)),
                "interval",
                seconds=seconds,
                max_instances=1,
                coalesce=True,
                id=timer.name,
                **first,
            )
        scheduler.start()
        self._scheduler = scheduler

    def stop(self) -> None:
        """Stop the timers (a run in progress finishes its unit of work)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    async def run(self, name: str) -> int:
        """Run a timer's command, again while a run takes a whole batch; how much it took in all (for a
        command that says)."""
        timer = self.timers[name]
        total = 0
        while True:
            command = timer.command(self.bus.desk)
            if self.batch is not None and hasattr(command, "limit"):
                command = dataclasses.replace(command, limit=self.batch)
            answer = await self.bus.handle(command)
            if not answer.done:
                log.warning("timer_failed", timer=name, reason=str(answer.refusal))
                return total
            took = answer.value if isinstance(answer.value, int) and not isinstance(answer.value, bool) else 0
            total += took
            if not took or took < getattr(command, "limit", took + 1):
                if took:
                    log.info("timer_done", timer=name, rows=total)
                return total


def until_stopped(job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
    """A timer's run that ends quietly when the process stops under it: its unit of work committed or
    not, as a whole, and the next process's timer takes up what is left."""

    async def run() -> None:
        try:
            await job()
        except asyncio.CancelledError:
            log.info("timer_stopped", job=getattr(job, "__name__", "timer"))

    return run
