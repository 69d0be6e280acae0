"""Pacing calls to a platform within its rate limits: the next free moment in each scope, booked ahead."""

from __future__ import annotations

from dataclasses import dataclass

from chatops.messaging.ports import Pace


@dataclass
class _Scope:
    # The moment the scope is next free if no burst credit were left ("theoretical arrival time"), by the
    # slots booked, and by the calls that actually went.
    free_at: float = 0.0
    went_at: float = 0.0


class Pacer:
    """Books calls into slots so that each scope sees at most its rate, with its burst, and no more.

    A slot is booked for a job and kept for it: a job that cannot go soon is put off to its slot and
    finds that slot still its own when it comes back, so a long queue drains in order at the limit
    instead of every job racing for the next free moment. The platform counts calls as they arrive,
    though, and a job may come back long after its slot: its call only goes (`going`) when the calls
    that actually went leave room for it, so late jobs coming back together do not go all at once.
    """

    def __init__(self, *, keep: float = 600.0) -> None:
        self._scopes: dict[str, _Scope] = {}
        # Per job: its slot, the scope it was booked in, and whether the wider limits are booked too.
        self._booked: dict[int, tuple[float, str, bool]] = {}
        self._keep = keep

    def book(self, pace: Pace, job: int, now: float) -> float:
        """When the job's call may go in pace's scope: its booked slot, or the next free one (booked now)."""
        held = self._booked.get(job)
        if held is not None and held[1] == pace.scope:
            slot, _, wide = held
        else:
            slot, wide = self._next(pace, now), pace.within is None
        if not wide and slot <= now:
            # Only a call about to go takes its place in the wider limit: booked ahead, a conversation's
            # long queue would push the whole tenant's next free moment out to its last slot.
            wider = pace.within
            while wider is not None:
                slot = self._next(wider, max(slot, now))
                wider = wider.within
            wide = True
        slot = max(slot, self._room(pace))
        self._booked[job] = (slot, pace.scope, wide)
        self._forget_before(now)
        return slot

    def going(self, pace: Pace, job: int, now: float) -> bool:
        """Whether the job's call may go now by what went before it in pace's scope and the wider ones;
        if so it is counted as gone, and its slot freed."""
        if now < self._room(pace):
            return False
        scoped: Pace | None = pace
        while scoped is not None:
            scope = self._scopes.setdefault(scoped.scope, _Scope())
            scope.went_at = max(scope.went_at, now) + 1.0 / scoped.per_second
            scoped = scoped.within
        self.release(job)
        return True

    def _room(self, pace: Pace) -> float:
        """The first moment a call may go by the calls that went in pace's scope and the wider ones."""
        room, scoped = 0.0, pace
        while scoped is not None:
            scope = self._scopes.get(scoped.scope)
            if scope is not None:
                room = max(room, scope.went_at - (scoped.burst - 1) / scoped.per_second)
            scoped = scoped.within
        return room

    def _next(self, pace: Pace, now: float) -> float:
        scope = self._scopes.setdefault(pace.scope, _Scope())
        interval = 1.0 / pace.per_second
        # Up to `burst` calls may go back to back after a quiet spell; then one per interval.
        slot = max(now, scope.free_at - (pace.burst - 1) * interval)
        scope.free_at = max(scope.free_at, slot) + interval
        return slot

    def release(self, job: int) -> None:
        """The job's call went out (or will never go): its slot is no longer held for it."""
        self._booked.pop(job, None)

    def hold(self, pace: Pace, until: float) -> None:
        """The platform asked for quiet in this scope until `until`: nothing before, and no burst after.

        Every slot booked in the scope is void: its job books again when it comes back, after `until`.
        """
        quiet = until + (pace.burst - 1) / pace.per_second
        self._scopes[pace.scope] = _Scope(free_at=quiet, went_at=quiet)
        self._booked = {job: booked for job, booked in self._booked.items() if booked[1] != pace.scope}

    def _forget_before(self, now: float) -> None:
        # A job that never came back (done by another replica, say) must not hold memory forever.
        if len(self._booked) > 10_000:
            stale = [job for job, (slot, _, _) in self._booked.items() if slot < now - self._keep]
            for job in stale:
                del self._booked[job]
