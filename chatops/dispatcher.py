"""The outbox dispatcher: claims due side effects, carries them out, and records what happened."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import structlog

from chatops.cards import Card, rich_from_json
from chatops.errors import StorageUnavailable
from chatops.outbox import Kind, destination_from
from chatops.outbox_store import Claim, Job, OutboxStore, Outcome
from chatops.pacing import Pacer
from chatops.ports import (
    CallKind,
    ChatGateway,
    Clock,
    Destination,
    MessageRef,
    PermanentFailure,
    RateLimited,
    TransientFailure,
)
from chatops.store.db import Database
from chatops.tickets import TicketView

log = structlog.get_logger("chatops.dispatcher")

# A post may show up in history with a timestamp a little before the row, if clocks disagree.
_CLOCK_SKEW = timedelta(minutes=2)
_MAX_BACKOFF = 300.0


class Dispatcher:
    """Carries out outbox rows through a chat gateway, exactly once as far as the platform lets us tell."""

    def __init__(
        self,
        db: Database,
        gateway: ChatGateway,
        clock: Clock,
        *,
        render: Callable[[TicketView], Card],
        card_place: Callable[[TicketView], str],
        batch_size: int = 100,
        concurrency: int = 16,
        pipeline: int = 2,
        gather: float = 0.01,
        lease: timedelta = timedelta(seconds=15),
        poll_interval: float = 1.0,
        horizon: float = 2.0,
    ) -> None:
        self.db = db
        self.gateway = gateway
        self.clock = clock
        self.render = render
        self.card_place = card_place
        self.store = OutboxStore(
            owner=f"dispatcher-{uuid.uuid4().hex[:12]}",
            platform=gateway.platform,
            lease=lease,
            batch_size=batch_size,
            skip_locked=not db.is_sqlite,
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
        self._wakeup = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Look for new rows now rather than at the next poll."""
        self._wakeup.set()

    def stop(self) -> None:
        """Finish the batch at hand, then return from run()."""
        self._stopping = True
        self._wakeup.set()

    async def run(self) -> None:
        """Dispatch until stopped, claiming the next batch while earlier ones are still being carried out."""
        inflight: set[asyncio.Task[None]] = set()
        renewing = asyncio.create_task(self._keep_claims())
        try:
            while not self._stopping:
                self._wakeup.clear()
                claim = await self._next_claim() if len(inflight) < self.pipeline else None
                if claim is not None and claim.jobs:
                    task = asyncio.create_task(self._carry_out(claim))
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
        """Extend the lease on our rows while we live: a dead replica's rows free up within one lease."""
        every = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            try:
                await self.db.run(lambda session: self.store.renew(session, self.clock.now()))
            except Exception:  # noqa: BLE001 - the next round tries again; the lease is three rounds long
                log.exception("outbox_lease_renewal_failed")

    async def _next_claim(self) -> Claim | None:
        try:
            return await self.db.run(lambda session: self.store.claim(session, self.clock.now()))
        except StorageUnavailable as lost:
            log.warning("outbox_claim_failed", problem=lost.problem)
            return None
        except Exception:  # noqa: BLE001 - the loop must outlive a database hiccup; rows stay in the outbox
            log.exception("outbox_claim_failed")
            return None

    async def _carry_out(self, claim: Claim) -> None:
        """Carry out one claimed batch, a ticket's jobs in order, and record every outcome."""
        groups: dict[Any, list[Job]] = defaultdict(list)
        for job in claim.jobs:
            groups[job.ticket_id if job.ticket_id is not None else ("free", job.id)].append(job)
        try:
            results = await asyncio.gather(*(self._run_group(jobs, claim) for jobs in groups.values()))
            outcomes = [outcome for group in results for outcome in group]
            await self.db.run(lambda session: self.store.record(session, outcomes, self.clock.now()))
        except Exception:  # noqa: BLE001 - unrecorded rows are claimed again when their lease runs out
            log.exception("outbox_batch_failed", jobs=[j.id for j in claim.jobs])
        finally:
            self._wakeup.set()

    async def _run_group(self, jobs: list[Job], claim: Claim) -> list[Outcome]:
        """One ticket's jobs, in order: the card first, then edits (as one), then the rest."""
        outcomes: list[Outcome] = []
        ticket_id = jobs[0].ticket_id
        view = claim.tickets.get(ticket_id) if ticket_id is not None else None
        card = claim.cards.get(ticket_id) if ticket_id is not None else None
        updates = [j for j in jobs if j.kind is Kind.UPDATE_CARD]
        for job in jobs:
            if job.kind is Kind.POST_CARD:
                if view is None:
                    outcomes.append(Outcome([job.id], failed=True, error="the ticket no longer exists"))
                    continue
                outcome = await self._post_card(job, view, card)
                outcomes.append(outcome)
                if outcome.card is not None:
                    card = outcome.card
                    # The card was drawn from the same snapshot the edits would use: they are done.
                    outcomes.append(Outcome([u.id for u in updates], ticket_id))
                    updates = []
        if updates:
            outcomes.append(await self._update_card(updates, view, card))
        for job in jobs:
            if job.kind in (Kind.POST_CARD, Kind.UPDATE_CARD):
                continue
            outcomes.append(await self._other(job, view, card))
        return outcomes

    async def _post_card(self, job: Job, view: TicketView, card: MessageRef | None) -> Outcome:
        if card is not None:
            return Outcome([job.id], view.id, card=card)
        to = Destination(place=self.card_place(view))
        key = f"ticket-{view.id}-card"
        return await self._attempt(
            [job],
            view.id,
            "post",
            to.place,
            lambda: self._post_once(job, to, self.render(view), key),
            card=True,
        )

    async def _update_card(
        self, jobs: list[Job], view: TicketView | None, card: MessageRef | None
    ) -> Outcome:
        ids = [j.id for j in jobs]
        if view is None:
            return Outcome(ids, failed=True, error="the ticket no longer exists")
        if card is None:
            return self._wait_for_card(jobs, view.id)
        rendered = self.render(view)
        return await self._attempt(
            jobs, view.id, "update", card.place, lambda: self.gateway.update(card, rendered)
        )

    async def _other(self, job: Job, view: TicketView | None, card: MessageRef | None) -> Outcome:
        payload = job.payload
        if job.kind is Kind.THREAD_NOTE:
            if card is None:
                return self._wait_for_card([job], job.ticket_id)
            to = Destination(place=card.place, thread=card)
            text = rich_from_json(payload["text"])
            return await self._attempt(
                [job],
                job.ticket_id,
                "post",
                card.place,
                lambda: self._post_once(job, to, text, f"outbox-{job.id}"),
            )
        if job.kind is Kind.MESSAGE:
            to = destination_from(payload["to"])
            text = rich_from_json(payload["text"])
            return await self._attempt(
                [job],
                job.ticket_id,
                "post",
                to.place or to.user,
                lambda: self._post_once(job, to, text, f"outbox-{job.id}"),
            )
        if job.kind is Kind.WHISPER:
            text = rich_from_json(payload["text"])
            return await self._attempt(
                [job],
                None,
                "whisper",
                payload["place"],
                lambda: self.gateway.whisper(payload["place"], payload["user"], text),
            )
        if job.kind is Kind.PERMALINK:
            if view is None or not view.origin_place or not view.origin_ref:
                return Outcome([job.id], job.ticket_id, failed=True, error="the ticket has no origin message")
            origin = MessageRef(view.origin_place, view.origin_ref)
            return await self._attempt(
                [job],
                view.id,
                "permalink",
                origin.place,
                lambda: self.gateway.permalink(origin),
                permalink=True,
            )
        return Outcome([job.id], job.ticket_id, failed=True, error=f"unknown outbox kind {job.kind}")

    def _wait_for_card(self, jobs: list[Job], ticket_id: int | None) -> Outcome:
        # Backing off, so that a card that can never be posted does not keep its edits spinning.
        attempt = max(j.attempt for j in jobs)
        return Outcome(
            [j.id for j in jobs],
            ticket_id,
            retry_at=self.clock.now() + _backoff(attempt),
            error="waiting for the card",
        )

    async def _post_once(self, job: Job, to: Destination, body: Any, key: str) -> MessageRef:
        if job.in_doubt:
            found = await self.gateway.find(to, key, since=job.created_at - _CLOCK_SKEW)
            if found is not None:
                log.info("outbox_reconciled", job=job.id, kind=job.kind.value, key=key)
                return found
        return await self.gateway.post(to, body, key=key)

    async def _attempt(
        self,
        jobs: list[Job],
        ticket_id: int | None,
        kind: CallKind,
        place: str | None,
        call: Callable[[], Awaitable[Any]],
        *,
        card: bool = False,
        permalink: bool = False,
    ) -> Outcome:
        ids = [j.id for j in jobs]
        pace = self.gateway.pace(kind, place)
        # Wait for the call's slot in its scope; a slot further off than the horizon puts the jobs off
        # until then, unattempted, and frees this batch for other places meanwhile.
        while (delay := self._pacer.book(pace, ids[0], time.monotonic()) - time.monotonic()) > 0:
            if delay > self.horizon:
                return self._put_off(jobs, ticket_id, delay)
            await asyncio.sleep(delay)
        self._pacer.release(ids[0])
        now = self.clock.now()
        attempt = max(j.attempt for j in jobs)
        try:
            async with self._slots:
                result = await call()
        except RateLimited as limit:
            until = now + timedelta(seconds=limit.retry_after)
            self._pacer.hold(pace, time.monotonic() + limit.retry_after)
            log.warning("outbox_rate_limited", jobs=ids, scope=pace.scope, retry_after=limit.retry_after)
            return Outcome(ids, ticket_id, retry_at=until, error=str(limit))
        except TransientFailure as failure:
            log.warning(
                "outbox_retry", jobs=ids, attempt=attempt, error=str(failure), in_doubt=failure.in_doubt
            )
            return Outcome(
                ids,
                ticket_id,
                retry_at=now + _backoff(attempt),
                in_doubt=failure.in_doubt,
                error=str(failure),
            )
        except PermanentFailure as failure:
            log.error("outbox_failed", jobs=ids, error=str(failure))
            return Outcome(ids, ticket_id, failed=True, error=str(failure))
        except Exception as error:  # noqa: BLE001 - an unknown failure: retry, and look before posting again
            log.exception("outbox_unexpected_error", jobs=ids)
            return Outcome(ids, ticket_id, retry_at=now + _backoff(attempt), in_doubt=True, error=repr(error))
        return Outcome(
            ids,
            ticket_id,
            card=result if card else None,
            permalink=result if permalink else None,
        )

    def _put_off(self, jobs: list[Job], ticket_id: int | None, delay: float) -> Outcome:
        due = time.monotonic() + delay
        self._next_due = due if self._next_due is None else min(self._next_due, due)
        return Outcome(
            [j.id for j in jobs],
            ticket_id,
            retry_at=self.clock.now() + timedelta(seconds=delay),
            put_off=True,
            # Nothing went out, so nothing is in doubt that was not before.
            in_doubt=any(j.in_doubt for j in jobs),
        )


def _backoff(attempt: int) -> timedelta:
    return timedelta(seconds=min(_MAX_BACKOFF, 0.5 * 2 ** (attempt - 1)))
