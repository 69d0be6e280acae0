"""The SLA clocks through the card's commands: what stops, pauses and moves each clock, on a manual clock."""

from __future__ import annotations

from datetime import timedelta

from world import AGENT, World, rules

from chatops.tickets.commands import (
    ChangePriority,
    Claim,
    Reopen,
    Resolve,
    Resume,
    WaitOnCustomer,
)

LEAD = "slack:U0LEAD"


def test_a_new_ticket_is_first_looked_at_when_its_first_response_warning_is_due(world: World) -> None:
    number = world.open_one()

    ticket = world.ticket(number)
    # Normal: first response 4h, resolution 3d; the warning comes at 75% of the first target.
    assert ticket.first_response_due == ticket.created_at + timedelta(hours=4)
    assert ticket.resolution_due == ticket.created_at + timedelta(days=3)
    assert ticket.next_check_at == ticket.created_at + timedelta(hours=3)


def test_an_assignment_reaches_the_requester_and_stops_the_first_response_clock(world: World) -> None:
    number = world.open_one()
    world.clock.advance(hours=1)

    world.click(Claim, number)

    ticket = world.ticket(number)
    assert ticket.first_responded_at == ticket.created_at + timedelta(hours=1)
    # Only the resolution clock runs now: its warning is the next look.
    assert ticket.next_check_at == ticket.created_at + timedelta(days=3) * 0.75


def test_a_priority_change_moves_the_due_times_of_the_running_clocks(world: World) -> None:
    number = world.open_one()
    created = world.ticket(number).created_at
    world.clock.advance(minutes=5)

    world.click(ChangePriority, number, LEAD, priority="urgent")

    ticket = world.ticket(number)
    # Urgent: 15m and 4h from the start, minus the 5 minutes already used.
    assert ticket.first_response_due == created + timedelta(minutes=15)
    assert ticket.resolution_due == created + timedelta(hours=4)
    # A priority change does not reach the requester: the first response clock still runs.
    assert ticket.first_responded_at is None
    assert ticket.next_check_at == created + timedelta(minutes=15) * 0.75


def test_resolving_stops_the_clocks_and_reopening_goes_on_from_where_they_stood(world: World) -> None:
    number = world.open_one()
    created = world.ticket(number).created_at
    world.clock.advance(hours=1)
    world.click(Resolve, number)
    assert world.ticket(number).next_check_at is None

    world.clock.advance(hours=10)
    world.click(Reopen, number)

    reopened = world.ticket(number)
    assert reopened.status == "triaged"
    # The resolution clock used one hour before the resolve; the ten hours resolved count for nothing.
    assert reopened.resolution_due == created + timedelta(hours=11) + timedelta(days=3) - timedelta(hours=1)
    assert reopened.first_responded_at == created + timedelta(hours=1)


def test_a_change_by_the_requester_is_no_first_response(world_with) -> None:  # type: ignore[no-untyped-def]
    world = world_with(rules(vip_users=[]))
    number = world.open_one(requester=AGENT)

    world.click(Resolve, number, AGENT)

    assert world.ticket(number).first_responded_at is None


def test_a_hold_for_the_customer_pauses_both_clocks_and_a_resume_goes_on_from_there(world: World) -> None:
    number = world.open_one()
    created = world.ticket(number).created_at
    world.clock.advance(hours=1)
    world.click(Claim, number)  # first response done at 1h; resolution has used 1h
    world.clock.advance(hours=1)

    world.click(WaitOnCustomer, number)
    held = world.ticket(number)
    assert (held.status, held.next_check_at) == ("waiting_on_customer", None)

    world.clock.advance(days=5)
    world.click(Resume, number)

    resumed = world.ticket(number)
    # Two hours used before the hold; the five days on hold count for nothing.
    assert resumed.resolution_due == created + timedelta(hours=2) + timedelta(days=5) + timedelta(
        days=3
    ) - timedelta(hours=2)
    assert resumed.status == "in_progress"
