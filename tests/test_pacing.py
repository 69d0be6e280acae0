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


def test_a_call_takes_a_slot_in_its_conversation_and_in_the_tenant_around_it() -> None:
    tenant = Pace("teams:tenant", per_second=2.0, burst=2)
    pacer = Pacer()

    # Each conversation could take ten at once; the tenant takes two, then one every half second, so a
    # second conversation's call queues behind the first conversation's though its own scope is free.
    first = [pacer.book(Pace("teams:a", 10.0, 10, within=tenant), job, now=0.0) for job in (1, 2, 3)]
    second = pacer.book(Pace("teams:b", 10.0, 10, within=tenant), 4, now=0.0)

    assert first == [0.0, 0.0, 0.5]
    assert second == 1.0


def test_a_long_queue_in_one_conversation_leaves_the_tenant_free_for_the_others() -> None:
    tenant = Pace("teams:tenant", per_second=50.0, burst=50)
    pacer = Pacer()
    queued = [pacer.book(Pace("teams:busy", 1.0, 1, within=tenant), job, now=0.0) for job in range(1, 21)]

    other = pacer.book(Pace("teams:quiet", 1.0, 1, within=tenant), 99, now=0.0)

    # The busy conversation's calls wait their turns in it; the tenant's limit is taken only by calls
    # about to go, so another conversation goes at once.
    assert queued == [float(n) for n in range(20)]
    assert other == 0.0
    # When a queued call's turn comes, it takes its place in the tenant's limit then.
    assert pacer.book(Pace("teams:busy", 1.0, 1, within=tenant), 5, now=4.0) == 4.0


def test_jobs_back_late_from_their_slots_go_only_as_what_went_before_them_allows() -> None:
    pacer = Pacer()
    slots = [pacer.book(CHANNEL, job, now=100.0) for job in range(1, 8)]
    assert slots == [100.0, 100.0, 100.0, 101.0, 102.0, 103.0, 104.0]
    assert [pacer.going(CHANNEL, job, now=100.0) for job in (1, 2, 3)] == [True, True, True]

    # Jobs 4 to 7 come back together at 103.5, their slots past: Slack has room for three by then, not
    # four, and the fourth waits for the room the others leave.
    late = [pacer.going(CHANNEL, job, now=103.5) for job in (4, 5, 6, 7)]

    assert late == [True, True, True, False]
    assert pacer.book(CHANNEL, 7, now=103.5) == 104.5
    assert pacer.going(CHANNEL, 7, now=104.5)


def test_after_a_429_nothing_goes_before_the_quiet_is_over_even_a_job_whose_slot_came_first() -> None:
    pacer = Pacer()
    slot = pacer.book(CHANNEL, 1, now=0.0)

    pacer.hold(CHANNEL, until=30.0)

    assert slot == 0.0 and not pacer.going(CHANNEL, 1, now=1.0)
    assert pacer.book(CHANNEL, 1, now=1.0) == 30.0
