"""The outbox's queries: claim due rows for a dispatcher, and record what became of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chatops.outbox import Kind, enqueue
from chatops.ports import MessageRef
from chatops.store.models import OutboxMessage, PlatformMessage, Ticket
from chatops.tickets import TicketView

# Kinds whose lost answer could hide a message that did go out: look for it before posting again.
POSTS = frozenset({Kind.POST_CARD, Kind.THREAD_NOTE, Kind.MESSAGE})

_OUTBOX = OutboxMessage.__table__
_MESSAGES = PlatformMessage.__table__
_TICKETS = Ticket.__table__


@dataclass(frozen=True)
class Job:
    """A claimed outbox row."""

    id: int
    kind: Kind
    ticket_id: int | None
    payload: dict[str, Any]
    attempt: int
    in_doubt: bool
    created_at: datetime


@dataclass(frozen=True)
class Claim:
    """The jobs claimed in one go, with the ticket state and cards they need."""

    jobs: list[Job]
    tickets: dict[int, TicketView]
    cards: dict[int, MessageRef]


@dataclass
class Outcome:
    """What happened to one or more jobs (several when card edits were coalesced)."""

    job_ids: list[int]
    ticket_id: int | None = None
    retry_at: datetime | None = None
    failed: bool = False
    in_doubt: bool = False
    error: str | None = None
    card: MessageRef | None = None
    permalink: str | None = None
    # Put off to its slot under the platform's pace, never attempted: this claim does not count as a try.
    put_off: bool = False


class OutboxStore:
    """Claims and records outbox rows for one dispatcher; statements are built once and reused."""

    def __init__(
        self, *, owner: str, platform: str, lease: timedelta, batch_size: int, skip_locked: bool
    ) -> None:
        self.owner = owner
        self.platform = platform
        self.lease = lease
        self.batch_size = batch_size
        self._dialect = postgresql if skip_locked else sqlite
        now = bindparam("now")
        # Per ticket, first in first out: a row waits while an earlier row of its ticket is in flight
        # or waiting out a retry, so that a card, its edits and its thread notes never overtake each other.
        earlier = _OUTBOX.alias("earlier")
        held_back = (
            select(earlier.c.id)
            .where(
                earlier.c.ticket_id == _OUTBOX.c.ticket_id,
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
        self._due = due.with_for_update(skip_locked=True) if skip_locked else due
        ids = bindparam("ids", expanding=True)
        self._take = (
            update(_OUTBOX)
            .where(_OUTBOX.c.id.in_(ids))
            .values(
                attempts=_OUTBOX.c.attempts + 1,
                claimed_by=owner,
                claimed_until=bindparam("until"),
                # Committed before the call goes out: if we die mid-call, the next claimer looks first.
                in_doubt=or_(_OUTBOX.c.in_doubt, _OUTBOX.c.kind.in_([k.value for k in POSTS])),
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
            .where(_OUTBOX.c.claimed_by == owner, _OUTBOX.c.done_at.is_(None))
            .values(claimed_until=bindparam("until"))
        )
        self._tickets = select(_TICKETS).where(_TICKETS.c.id.in_(ids))
        self._cards = select(_MESSAGES.c.ticket_id, _MESSAGES.c.place, _MESSAGES.c.ref).where(
            _MESSAGES.c.ticket_id.in_(ids), _MESSAGES.c.role == "card", _MESSAGES.c.platform == platform
        )

    def claim(self, session: Session, now: datetime) -> Claim:
        """Take the due rows (under a lease), with the tickets and cards they need."""
        connection = session.connection()
        rows = connection.execute(self._due, {"now": now}).all()
        if not rows:
            return Claim([], {}, {})
        jobs = [
            Job(r.id, Kind(r.kind), r.ticket_id, r.payload, r.attempts + 1, r.in_doubt, r.created_at)
            for r in rows
        ]
        connection.execute(self._take, {"ids": [j.id for j in jobs], "until": now + self.lease})
        ticket_ids = sorted({j.ticket_id for j in jobs if j.ticket_id is not None})
        if not ticket_ids:
            return Claim(jobs, {}, {})
        tickets = {
            row.id: TicketView.of(row) for row in connection.execute(self._tickets, {"ids": ticket_ids})
        }
        cards = {
            row.ticket_id: MessageRef(row.place, row.ref)
            for row in connection.execute(self._cards, {"ids": ticket_ids})
        }
        return Claim(jobs, tickets, cards)

    def renew(self, session: Session, now: datetime) -> None:
        """Extend the lease on every row this dispatcher holds and has not recorded yet."""
        session.execute(self._renew, {"until": now + self.lease})

    def record(self, session: Session, outcomes: list[Outcome], now: datetime) -> None:
        """Mark rows done, failed or due again, remember posted cards, and follow up on permalinks."""
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
        failed = [{"job": job, "error": o.error} for o in outcomes if o.failed for job in o.job_ids]
        if failed:
            session.execute(self._failed, [{**row, "now": now} for row in failed])
        cards = [
            {
                "ticket_id": o.ticket_id,
                "platform": self.platform,
                "role": "card",
                "place": o.card.place,
                "ref": o.card.id,
                "created_at": now,
            }
            for o in outcomes
            if o.card is not None and o.ticket_id is not None
        ]
        if cards:
            # A card found by reconciling may already be on record; the unique key keeps one row.
            session.execute(self._dialect.insert(_MESSAGES).on_conflict_do_nothing(), cards)
        for outcome in outcomes:
            if outcome.permalink is not None and outcome.ticket_id is not None:
                ticket = session.get(Ticket, outcome.ticket_id)
                if ticket is not None:
                    ticket.origin_permalink = outcome.permalink
                    enqueue(session, Kind.UPDATE_CARD, now=now, ticket_id=ticket.id)
