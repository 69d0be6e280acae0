"""Pacing: slots within a rate and its burst, kept for the job that booked them, voided by a 429."""

from __future__ import annotations

from chatops.messaging.pacing import Pacer
from chatops.messaging.ports import Pace

CHANNEL = Pace("post:C0SUPPORT", per_second=1.0, burst=3)


def test_a_burst_then_one_a_second_each_job_in_its_own_slot() -> None:
    pacer = Pacer()

    slots = [pacer.book(CHANNEL, job, now=100.0) for job in range(1, 7)]

    assert slots == [100.0, 100.0, 100.0, 101.0, 102.0, 103.0]


def test_a_job_put_off_finds_its_slot_still_its_own() -> None:
    pacer = Pacer()
    for job in range(1, 6):
        pacer.book(CHANNEL, job, now=100.0)

    # Job 5 comes back when its slot is due; later arrivals queue behind it, not in front.
    assert pacer.book(Pace("post:C0SUPPORT", 1.0, 3), 9, now=102.0) == 103.0
    assert pacer.book(CHANNEL, 5, now=102.0) == 102.0
    pacer.release(5)
    assert pacer.book(CHANNEL, 5, now=102.0) == 104.0


def test_scopes_are_paced_apart() -> None:
    pacer = Pacer()
    for job in range(1, 5):
        pacer.book(CHANNEL, job, now=0.0)

    assert pacer.book(Pace("post:C0BILLING", 1.0, 3), 10, now=0.0) == 0.0


def test_a_429_voids_the_scopes_slots_and_allows_no_burst_after_it() -> None:
    pacer = Pacer()
    for job in range(1, 6):
        pacer.book(CHANNEL, job, now=0.0)

    pacer.hold(CHANNEL, until=30.0)

    assert [pacer.book(CHANNEL, job, now=1.0) for job in (4, 5, 6)] == [30.0, 31.0, 32.0]
