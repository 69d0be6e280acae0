"""The outbox dispatcher: claims due side effects, hands each to its handler, and records what happened.

What a row means is the business of the handler registered for its (target, kind); how fast and how
safely a platform is called is the business of that platform's gateway. The dispatcher keeps the order of
a ticket's rows, paces calls into their slots, maps failures to retries, and records every outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import timedelta
from typing import Any, Protocol, TypeVar

import structlog
from sqlalchemy.orm import Session

from chatops.clock import Clock
from chatops.errors import StorageUnavailable
from chatops.messaging.lanes import by_kind, in_runs
from chatops.messaging.outbox_store import Job, OutboxStore, Outcome
from chatops.messaging.pacing import Pacer
from chatops.messaging.ports import (
    ChatGateway,
    Pace,
    PermanentFailure,
    RateLimited,
    TransientFailure,
)
from chatops.store.db import Database
from chatops.work import React, Work

log = structlog.get_logger("chatops.dispatcher")

T = TypeVar("T")

_MAX_BACKOFF = 300.0


class Handler(Protocol):
    """Carries out the jobs of one (target, kind) from one ticket's share of a batch, in order."""

    async def __call__(self, jobs: list[Job], run: Run) -> list[Outcome]: ...


# Turns a call's result into what to write with the record (a card's message to remember, say).
Followup = Callable[[Any], Callable[[Work], None] | None]

# Loads, in the claim's transaction, what the batch's handlers need (tickets, cards), as one object.
Prepare = Callable[[Session, list[Job]], Any]


class Run:
    """What a handler works with during one batch: the prepared context, the gateways, and attempts."""

    def __init__(self, dispatcher: Dispatcher, context: Any) -> None:
        self.context = context
        self._dispatcher = dispatcher

    def gateway(self, platform: str) -> ChatGateway:
        """The chat gateway of a platform."""
        return self._dispatcher.gateways[platform]

    async def read(self, query: Callable[[Session], T]) -> T:
        """Read what a job needs from the database, beside the writers."""
        return await self._dispatcher.db.read(query)

    async def attempt(
        self,
        jobs: list[Job],
        pace: Pace | None,
        call: Callable[[], Awaitable[Any]],
        *,
        then: Followup | None = None,
    ) -> Outcome:
        """Make one call for `jobs` in its slot under `pace`; `then` turns its result into what to record."""
        return await self._dispatcher.attempt(jobs, pace, call, then)

    async def in_order(self, jobs: list[Job], one: Callable[[Job], Awaitable[Outcome]]) -> list[Outcome]:
        """Carry out jobs one at a time; once one is to be tried again, the rest wait behind it, untried.

        Going on past it would let the next messages overtake it: after a 429 the next slot comes before
        its retry, and the whole backlog of a place can be in one batch.
        """
        outcomes: list[Outcome] = []
        for index, job in enumerate(jobs):
            outcome = await one(job)
            outcomes.append(outcome)
            if outcome.retry_at is not None:
                outcomes.extend(
                    Outcome([rest.id], retry_at=outcome.retry_at, put_off=True, in_doubt=rest.in_doubt)
                    for rest in jobs[index + 1 :]
                )
                break
        return outcomes

    def later(self, jobs: list[Job], error: str) -> Outcome:
        """Try these jobs again after a backoff, without having called anything."""
        attempt = max(j.attempt for j in jobs)
        return Outcome(
            [j.id for j in jobs],
            retry_at=self._dispatcher.clock.now() + backoff(attempt),
            in_doubt=any(j.in_doubt for j in jobs),
            error=error,
        )


class Dispatcher:
    """Carries out outbox rows through their handlers, exactly once as far as the other side lets us tell."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        handlers: Mapping[tuple[str, str], Handler],
        gateways: Mapping[str, ChatGateway],
        prepare: Prepare | None = None,
        batch_size: int = 100,
        concurrency: int = 16,
        pipeline: int = 2,
        gather: float = 0.01,
        lease: timedelta = timedelta(seconds=15),
        poll_interval: float = 1.0,
        horizon: float = 2.0,
        targets: Collection[str] | None = None,
        excluding: Collection[str] = (),
        react: React | None = None,
    ) -> None:
        """`react`: how the desk reacts to what the handlers' results record happened (a card posted)."""
        self.db = db
        self.react = react
        self.clock = clock
        self.handlers = dict(handlers)
        self.gateways = dict(gateways)
        self.prepare = prepare
        self.store = OutboxStore(
            owner=f"dispatcher-{uuid.uuid4().hex[:12]}",
            lease=lease,
            batch_size=batch_size,
            skip_locked=not db.is_sqlite,
            targets=targets,
            excluding=excluding,
        )
        self.pipeline = pipeline
        self.gather = gather
        self.lease = lease
        self.poll_interval = poll_interval
        # How long a claimed job may wait for its slot in hand; one due later is put off until its slot.
        self.horizon = horizon
        self._slots = asyncio.Semaphore(concurrency)
        self._pacer = Pacer()
        self._next_due: float | None = None
        # After a batch short of full of which nothing could go yet, claims wait until then: under a burst,
        # every commit would otherwise claim the same rows again only to put them off again.
        self._quiet_until = 0.0
        # The jobs of the batches being carried out: only their leases are renewed.
        self._carrying: set[int] = set()
        self._wakeup = asyncio.Event()
        self._stopped = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Look for new rows now rather than at the next poll."""
        self._wakeup.set()

    def stop(self) -> None:
        """Finish the batch at hand, then return from run()."""
        self._stopping = True
        self._stopped.set()
        self._wakeup.set()

    async def run(self) -> None:
        """Dispatch until stopped, claiming the next batch while earlier ones are still being carried out."""
        inflight: set[asyncio.Task[None]] = set()
        renewing = asyncio.create_task(self._keep_claims())
        try:
            while not self._stopping:
                if (quiet := self._quiet_until - time.monotonic()) > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopped.wait(), quiet)
                    continue
                self._wakeup.clear()
                claim = await self._next_claim() if len(inflight) < self.pipeline else None
                if claim is not None and claim[0]:
                    task = asyncio.create_task(self._carry_out(*claim))
                    inflight.add(task)
                    task.add_done_callback(inflight.discard)
                    continue
                waiter = asyncio.ensure_future(self._wakeup.wait())
                try:
                    await asyncio.wait(
                        {waiter, *inflight}, timeout=self._idle_wait(), return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    waiter.cancel()
                if self.gather and not self._stopping:
                    # Let a burst of commits land first: fewer, larger claims leave the writer to intake.
                    await asyncio.sleep(self.gather)
            if inflight:
                await asyncio.wait(inflight)
        finally:
            renewing.cancel()

    def _idle_wait(self) -> float:
        """Until the next poll, or sooner when a job put off until its slot falls due."""
        if self._next_due is None:
            return self.poll_interval
        wait = self._next_due - time.monotonic()
        if wait <= 0:
            self._next_due = None
        return min(self.poll_interval, max(wait, 0.0))

    async def _keep_claims(self) -> None:
        """Extend the lease on the rows we are carrying out while we live: a dead replica's rows, and a
        batch whose outcome could not be recorded, free up within one lease."""
        every = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            if self._carrying:
                await self._renew(list(self._carrying))

    async def _renew(self, ids: list[int]) -> None:
        try:
            await self.db.run(lambda session: self.store.renew(session, ids, self.clock.now()))
        except Exception:  # noqa: BLE001 - the next round tries again; the lease is three rounds long
            log.exception("outbox_lease_renewal_failed")

    async def _next_claim(self) -> tuple[list[Job], Any] | None:
        def claim(session: Session) -> tuple[list[Job], Any]:
            jobs = self.store.claim(session, self.clock.now())
            return jobs, (self.prepare(session, jobs) if jobs and self.prepare is not None else None)

        try:
            return await self.db.run(claim)
        except StorageUnavailable as lost:
            log.warning("outbox_claim_failed", problem=lost.problem)
            return None
        except Exception:  # noqa: BLE001 - the loop must outlive a database hiccup; rows stay in the outbox
            log.exception("outbox_claim_failed")
            return None

    async def _carry_out(self, jobs: list[Job], context: Any) -> None:
        """Carry out one claimed batch, a ticket's jobs in order, and record every outcome."""
        ids = {job.id for job in jobs}
        self._carrying |= ids
        groups: dict[Any, list[Job]] = defaultdict(list)
        for job in jobs:
            groups[job.ticket_id if job.ticket_id is not None else ("free", job.id)].append(job)
        run = Run(self, context)
        try:
            results = await asyncio.gather(*(self._run_group(group, run) for group in groups.values()))
            outcomes = [outcome for group in results for outcome in group]
            await self.db.run(
                lambda session: self.store.record(session, outcomes, self.clock.now(), self.react)
            )
            # A full batch may have left rows behind it that can go now (a word to a person behind a busy
            # channel's backlog): the next claim comes at once, and each row is put off once until its slot.
            full = len(jobs) >= self.store.batch_size
            if not full and outcomes and all(o.put_off for o in outcomes) and self._next_due is not None:
                self._quiet_until = min(self._next_due, time.monotonic() + self.horizon)
        except Exception:  # noqa: BLE001 - unrecorded rows are claimed again when their lease runs out
            log.exception("outbox_batch_failed", jobs=[j.id for j in jobs])
        finally:
            # Recorded or not, the batch is over: its rows' leases are left to run out.
            self._carrying -= ids
            self._wakeup.set()

    async def _run_group(self, jobs: list[Job], run: Run) -> list[Outcome]:
        """One ticket's jobs, lane by lane as the outbox orders them (per target and destination: its cards
        in its team's place, each place or person its words go to), the lanes side by side: a lane waiting
        out its place's pace holds back no other."""
        lanes: dict[tuple[str, str | None], list[Job]] = defaultdict(list)
        for job in jobs:
            lanes[(job.target, job.destination)].append(job)
        results = await asyncio.gather(*(self._run_lane(lane, run) for lane in lanes.values()))
        return [outcome for lane in results for outcome in lane]

    async def _run_lane(self, jobs: list[Job], run: Run) -> list[Outcome]:
        """One lane's jobs, a kind's given together: a card's rows each kind in the order its first row was
        written (its edits make one redraw); words to a place or person run by run, in the order written,
        and once some are to be tried again the rest wait behind them, untried."""
        words = jobs[0].destination is not None
        groups = in_runs(jobs) if words else by_kind(jobs)
        outcomes: list[Outcome] = []
        for index, same in enumerate(groups):
            done = await self._hand_over(same, run)
            outcomes.extend(done)
            retry_at = min((o.retry_at for o in done if o.retry_at is not None), default=None)
            if words and retry_at is not None:
                outcomes.extend(
                    Outcome([rest.id], retry_at=retry_at, put_off=True, in_doubt=rest.in_doubt)
                    for later in groups[index + 1 :]
                    for rest in later
                )
                break
        return outcomes

    async def _hand_over(self, jobs: list[Job], run: Run) -> list[Outcome]:
        """Jobs of one (target, kind), to its handler."""
        key = (jobs[0].target, jobs[0].kind)
        handler = self.handlers.get(key)
        if handler is None:
            return [Outcome([j.id for j in jobs], failed=True, error=f"nothing handles {key}")]
        return await handler(jobs, run)

    async def attempt(
        self,
        jobs: list[Job],
        pace: Pace | None,
        call: Callable[[], Awaitable[Any]],
        then: Followup | None,
    ) -> Outcome:
        """Wait for the call's slot, make it, and turn what happened into an outcome."""
        ids = [j.id for j in jobs]
        put_off = await self._turn(jobs, pace)
        if put_off is not None:
            return put_off
        now = self.clock.now()
        attempt = max(j.attempt for j in jobs)
        # An earlier try that may have taken effect stays in doubt until a try is known to have gone through.
        doubt = any(j.in_doubt for j in jobs)
        try:
            try:
                result = await call()
            finally:
                self._slots.release()
        except RateLimited as limit:
            if pace is not None:
                self._pacer.hold(pace, time.monotonic() + limit.retry_after)
            log.warning("outbox_rate_limited", jobs=ids, retry_after=limit.retry_after)
            return Outcome(
                ids, retry_at=now + timedelta(seconds=limit.retry_after), in_doubt=doubt, error=str(limit)
            )
        except TransientFailure as failure:
            log.warning(
                "outbox_retry", jobs=ids, attempt=attempt, error=str(failure), in_doubt=failure.in_doubt
            )
            return Outcome(
                ids, retry_at=now + backoff(attempt), in_doubt=failure.in_doubt or doubt, error=str(failure)
            )
        except PermanentFailure as failure:
            log.error("outbox_failed", jobs=ids, error=str(failure))
            return Outcome(ids, failed=True, error=str(failure))
        except Exception as error:  # noqa: BLE001 - an unknown failure: retry, and look before posting again
            log.exception("outbox_unexpected_error", jobs=ids)
            return Outcome(ids, retry_at=now + backoff(attempt), in_doubt=True, error=repr(error))
        return Outcome(ids, then=then(result) if then is not None else None)

    async def _turn(self, jobs: list[Job], pace: Pace | None) -> Outcome | None:
        """Wait for the call's turn: its slot under the pace, then a free hand to make it (held on return,
        for the caller to release); or put the jobs off when their slot is further off than the horizon,
        unattempted, which frees this batch for other places meanwhile."""
        job = jobs[0].id
        while True:
            if pace is not None:
                while (delay := self._pacer.book(pace, job, time.monotonic()) - time.monotonic()) > 0:
                    if delay > self.horizon:
                        return self._put_off(jobs, delay)
                    await asyncio.sleep(delay)
            await self._slots.acquire()
            # Counted as gone only with a hand to make it: a call that waited for one since its slot must
            # not crowd the calls booked after it, as the platform counts them when they arrive.
            if pace is None or self._pacer.going(pace, job, time.monotonic()):
                return None
            self._slots.release()

    def _put_off(self, jobs: list[Job], delay: float) -> Outcome:
        due = time.monotonic() + delay
        self._next_due = due if self._next_due is None else min(self._next_due, due)
        return Outcome(
            [j.id for j in jobs],
            retry_at=self.clock.now() + timedelta(seconds=delay),
            put_off=True,
            # Nothing went out, so nothing is in doubt that was not before.
            in_doubt=any(j.in_doubt for j in jobs),
        )


def backoff(attempt: int) -> timedelta:
    """How long to wait before the next try of a job that failed `attempt` times."""
    return timedelta(seconds=min(_MAX_BACKOFF, 0.5 * 2 ** (attempt - 1)))
