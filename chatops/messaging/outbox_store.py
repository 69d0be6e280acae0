"""The outbox's queries: claim due rows for a dispatcher, and record what became of them."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from chatops.store.tables import OutboxMessage
from chatops.work import React, Work

_OUTBOX = OutboxMessage.__table__


@dataclass(frozen=True)
class Job:
    """A claimed outbox row."""

    id: int
    target: str
    kind: str
    ticket_id: int | None
    # The place or person it goes to (None: its ticket's card and thread, in its team's place).
    destination: str | None
    payload: dict[str, Any]
    attempt: int
    # An earlier try may have taken effect: a post must look before it posts again.
    in_doubt: bool
    created_at: datetime


@dataclass
class Outcome:
    """What happened to one or more jobs (several when card edits were coalesced)."""

    job_ids: list[int]
    retry_at: datetime | None = None
    failed: bool = False
    in_doubt: bool = False
    error: str | None = None
    # Put off to its slot under the platform's pace, never attempted: this claim does not count as a try.
    put_off: bool = False
    # What the result means for the desk (a card's message to remember, say), written with the record.
    then: Callable[[Work], None] | None = None


class OutboxStore:
    """Claims and records outbox rows for one dispatcher; statements are built once and reused."""

    def __init__(
        self,
        *,
        owner: str,
        lease: timedelta,
        batch_size: int,
        skip_locked: bool,
        targets: Collection[str] | None = None,
        excluding: Collection[str] = (),
    ) -> None:
        """`targets`: claim only rows for these; `excluding`: never claim rows for these (another
        dispatcher carries them out, so that a slow system holds back no other)."""
        self.owner = owner
        self.lease = lease
        self.batch_size = batch_size
        now = bindparam("now")
        # Per ticket, target and destination, first in first out: a row waits while an earlier row of its
        # ticket to the same place or person on the same platform is in flight or waiting out a retry, so
        # that a card, its edits and its thread notes never overtake each other and a person's words keep
        # their order; and one platform's trouble, or one busy channel, holds back nothing that goes
        # elsewhere: a word to a person never waits on a card that cannot be posted yet, nor on a channel's
        # pace.
        earlier = _OUTBOX.alias("earlier")
        held_back = (
            select(earlier.c.id)
            .where(
                earlier.c.ticket_id == _OUTBOX.c.ticket_id,
                earlier.c.target == _OUTBOX.c.target,
                earlier.c.destination.is_not_distinct_from(_OUTBOX.c.destination),
                earlier.c.id < _OUTBOX.c.id,
                earlier.c.done_at.is_(None),
                or_(earlier.c.available_at > now, earlier.c.claimed_until >= now),
            )
            .exists()
        )
        due = (
            select(_OUTBOX)
            .where(
                _OUTBOX.c.done_at.is_(None),
                _OUTBOX.c.available_at <= now,
                or_(_OUTBOX.c.claimed_until.is_(None), _OUTBOX.c.claimed_until < now),
                or_(_OUTBOX.c.ticket_id.is_(None), ~held_back),
            )
            .order_by(_OUTBOX.c.id)
            .limit(batch_size)
        )
        if targets is not None:
            due = due.where(_OUTBOX.c.target.in_(list(targets)))
        if excluding:
            due = due.where(_OUTBOX.c.target.not_in(list(excluding)))
        self._due = due.with_for_update(skip_locked=True) if skip_locked else due
        ids = bindparam("ids", expanding=True)
        self._take = (
            update(_OUTBOX)
            .where(_OUTBOX.c.id.in_(ids))
            # Committed before the call goes out: if we die mid-call, the next claimer looks first.
            .values(
                attempts=_OUTBOX.c.attempts + 1,
                claimed_by=owner,
                claimed_until=bindparam("until"),
                in_doubt=True,
            )
        )
        mine = _OUTBOX.c.claimed_by == owner
        released = {"claimed_by": None, "claimed_until": None}
        self._done = (
            update(_OUTBOX)
            .where(_OUTBOX.c.id.in_(ids), mine)
            .values(done_at=bindparam("now"), failed=False, in_doubt=False, last_error=None, **released)
        )
        job = _OUTBOX.c.id == bindparam("job")
        self._again = (
            update(_OUTBOX)
            .where(job, mine)
            .values(
                available_at=bindparam("at"),
                in_doubt=bindparam("doubt"),
                last_error=bindparam("error"),
                # A job put off to its slot was never tried: the claim that took it does not count.
                attempts=_OUTBOX.c.attempts - bindparam("unclaimed"),
                **released,
            )
        )
        self._failed = (
            update(_OUTBOX)
            .where(job, mine)
            .values(
                done_at=bindparam("now"),
                failed=True,
                in_doubt=False,
                last_error=bindparam("error"),
                **released,
            )
        )
        self._renew = (
            update(_OUTBOX)
            .where(_OUTBOX.c.id.in_(ids), mine, _OUTBOX.c.done_at.is_(None))
            .values(claimed_until=bindparam("until"))
        )

    def claim(self, session: Session, now: datetime) -> list[Job]:
        """Take the due rows, under a lease."""
        connection = session.connection()
        rows = connection.execute(self._due, {"now": now}).all()
        if not rows:
            return []
        jobs = [
            Job(
                r.id,
                r.target,
                r.kind,
                r.ticket_id,
                r.destination,
                r.payload,
                r.attempts + 1,
                r.in_doubt,
                r.created_at,
            )
            for r in rows
        ]
        connection.execute(self._take, {"ids": [j.id for j in jobs], "until": now + self.lease})
        return jobs

    def renew(self, session: Session, ids: Collection[int], now: datetime) -> None:
        """Extend the lease on these rows, of batches still being carried out, while this dispatcher holds
        them; a row left out (its batch's record failed) runs out its lease and is claimed again."""
        session.execute(self._renew, {"ids": list(ids), "until": now + self.lease})

    def record(
        self, session: Session, outcomes: list[Outcome], now: datetime, react: React | None = None
    ) -> None:
        """Mark rows done, failed or due again, and write what their results mean for the desk (`react`:
        how the desk reacts to what that records happened)."""
        succeeded = [i for o in outcomes if o.retry_at is None and not o.failed for i in o.job_ids]
        if succeeded:
            session.execute(self._done, {"ids": succeeded, "now": now})
        # One statement for all rows due again and one for all that failed: under a burst nearly every
        # row of a batch is put off to its slot, and a statement each would hold the writer from intake.
        again = [
            {"job": job, "at": o.retry_at, "doubt": o.in_doubt, "error": o.error, "unclaimed": int(o.put_off)}
            for o in outcomes
            if o.retry_at is not None
            for job in o.job_ids
        ]
        if again:
            session.execute(self._again, again)
        failed = [
            {"job": job, "error": o.error, "now": now} for o in outcomes if o.failed for job in o.job_ids
        ]
        if failed:
            session.execute(self._failed, failed)
        work = Work(session, now, react)
        for outcome in outcomes:
            if outcome.then is not None:
                outcome.then(work)
        work.finish()


def release(session: Session, ticket_id: int, target: str, kind: str, now: datetime) -> None:
    """Make a ticket's rows of a kind that wait, untried, for a later time due now: what they waited for
    came first."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.ticket_id == ticket_id,
            OutboxMessage.target == target,
            OutboxMessage.kind == kind,
            OutboxMessage.done_at.is_(None),
            OutboxMessage.attempts == 0,
            OutboxMessage.available_at > now,
        )
        .values(available_at=now)
    )


def withdraw(session: Session, ticket_id: int, target: str, kind: str, now: datetime) -> None:
    """Call off a ticket's rows of a kind that no dispatcher holds yet (one in flight finds out for itself
    that it is not needed): they are marked done, unattempted."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.ticket_id == ticket_id,
            OutboxMessage.target == target,
            OutboxMessage.kind == kind,
            OutboxMessage.done_at.is_(None),
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .values(done_at=now, last_error="withdrawn: no longer needed")
    )


def forget_done(session: Session, before: datetime, limit: int) -> int:
    """Delete up to `limit` rows carried out before `before` (failed ones stay, for people to look at);
    how many went. Bounded, so that housekeeping never holds the writer for long."""
    oldest = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.done_at.is_not(None),
            OutboxMessage.done_at < before,
            OutboxMessage.failed.is_(False),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    ids = list(session.scalars(oldest))
    if ids:
        session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    return len(ids)
