"""The desk's timers: the SLA sweep and the closing steps' sweep every `sla.sweep_seconds`, the look at
what changed in the tracker every `jira.reconcile_minutes`, and housekeeping every hour (done outbox rows,
old request ids and tracker receipts are deleted after `sla.retention_days`).

APScheduler only fires the timers, in each process that runs them; it keeps no job store, since its
stores must never be shared by several schedulers. Who acts on what is the database's to decide: a sweep
claims due tickets with their rows locked, and records each notice under a unique key.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from chatops.bus import MessageBus
from chatops.clock import Clock
from chatops.closing.commands import SweepQuiet
from chatops.messaging.outbox_store import forget_done
from chatops.tickets.repository import forget_intake_keys
from chatops.tickets.sweep import SweepSla
from chatops.tracking.commands import Reconcile
from chatops.tracking.repository import forget_receipts

log = structlog.get_logger("chatops.schedule")

SWEEP_BATCH = 200
HOUSEKEEPING_BATCH = 1000
HOUSEKEEPING_EVERY = timedelta(hours=1)


class Timers:
    """Runs the sweep and the housekeeping on the running event loop while the process serves."""

    def __init__(self, bus: MessageBus, clock: Clock, *, batch: int = HOUSEKEEPING_BATCH) -> None:
        """`batch`: how many rows one housekeeping transaction deletes at most."""
        self.bus = bus
        self.clock = clock
        self.batch = batch
        self._scheduler: AsyncIOScheduler | None = None

    def start(self) -> None:
        """Start the timers; the first sweep runs at once."""
        sla = self.bus.desk.config.sla
        # APScheduler reports every run, and every run skipped while one overruns, which is by design here.
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        scheduler = AsyncIOScheduler(timezone=UTC)

        def every(
            seconds: float, job: Callable[[], Awaitable[object]], name: str, *, now: bool = False
        ) -> None:
            # One run at a time in a process: one that overruns its interval is not started twice.
            first = {"next_run_time": datetime.now(UTC)} if now else {}
            scheduler.add_job(
                until_stopped(job),
                "interval",
                seconds=seconds,
                max_instances=1,
                coalesce=True,
                id=name,
                **first,
            )

        every(sla.sweep_seconds, self.sweep, "sla-sweep", now=True)
        every(sla.sweep_seconds, self.closing, "closing-sweep", now=True)
        every(HOUSEKEEPING_EVERY.total_seconds(), self.housekeeping, "housekeeping")
        rules = self.bus.desk.config.jira
        if self.bus.desk.tracker is not None:
            every(
                (rules.reconcile_minutes if rules is not None else 10.0) * 60,
                self.reconcile,
                "tracker-reconcile",
            )
        scheduler.start()
        self._scheduler = scheduler

    def stop(self) -> None:
        """Stop the timers (a sweep in progress finishes its unit of work)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    async def sweep(self) -> int:
        """Sweep the SLA clocks until no due ticket is left; how many were looked at."""
        return await self._until_done(SweepSla, "sla_sweep_failed")

    async def closing(self) -> int:
        """Take the closing steps that have come (follow-ups, closing by themselves, surveys), until none
        is left; how many tickets were looked at."""
        return await self._until_done(SweepQuiet, "closing_sweep_failed")

    async def _until_done(self, sweep: type[SweepSla] | type[SweepQuiet], failed: str) -> int:
        total = 0
        while True:
            answer = await self.bus.handle(sweep(limit=SWEEP_BATCH))
            if not answer.done:
                log.warning(failed, reason=str(answer.refusal))
                return total
            total += answer.value
            if answer.value < SWEEP_BATCH:
                return total

    async def reconcile(self) -> bool:
        """Ask the tracker for what changed, if this replica takes the round; whether it did."""
        answer = await self.bus.handle(Reconcile())
        if not answer.done:
            log.warning("tracker_reconcile_failed", reason=str(answer.refusal))
            return False
        return bool(answer.value)

    async def housekeeping(self) -> int:
        """Delete outbox rows carried out, and the request ids of tickets opened, longer ago than the
        retention, in bounded batches; how many rows were touched."""
        before = self.clock.now() - timedelta(days=self.bus.desk.config.sla.retention_days)
        total = 0
        for name, forget in (
            ("outbox_rows", forget_done),
            ("intake_keys", forget_intake_keys),
            ("tracker_receipts", forget_receipts),
        ):
            done = 0
            while True:
                try:
                    count = await self.bus.db.run(
                        lambda session, forget=forget: forget(session, before, self.batch)
                    )
                except Exception:  # noqa: BLE001 - the next hour tries again; what is left is only kept longer
                    log.exception("housekeeping_failed", what=name)
                    break
                done += count
                if count < self.batch:
                    break
            if done:
                log.info("housekeeping_done", what=name, rows=done)
            total += done
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
