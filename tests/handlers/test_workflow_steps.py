"""The workflow's steps that reach people: Start, Escalate with a reason (the requester and the next tier are
told), Move to another team (its cards go with it), and a category that belongs elsewhere offering the
move; each through the bus, as a card or a command asks for it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from world import AGENT, CHANNEL, CUSTOMER, World, rules

from chatops.errors import Forbidden, IllegalTransition, InvalidInput
from chatops.rich import plain, rich_from_json
from chatops.tickets.commands import ChangeCategory, Claim, Escalate, MoveTicket, Start
from chatops.tickets.repository import add_link
from chatops.work import Work

LEAD = "slack:U0LEAD"
BOB = "slack:U0AGENT2"


def said_to(world: World, person: str, after: int) -> list[str]:
    return [
        plain(row.text())
        for row in world.outbox(after=after)
        if row.kind == "message" and row.payload["to"]["person"] == person
    ]


def test_start_moves_an_assigned_ticket_to_in_progress_and_says_so(world: World) -> None:
    number = world.open_one()
    assert world.click(Start, number).refused(IllegalTransition)
    world.click(Claim, number)

    answer = world.click(Start, number)

    assert answer.done and world.ticket(number).status == "in_progress"
    assert world.thread_notes(number)[-1].startswith("@slack:U0AGENT1 started work on the ticket")
    typed = world.do(Start(number, None, AGENT, CHANNEL))
    assert typed.refused(IllegalTransition)


def test_escalating_needs_a_reason_which_the_thread_the_history_and_the_next_tier_get(world: World) -> None:
    number = world.open_one()
    assert world.click(Escalate, number, reason="   ").refused(InvalidInput)
    before = world.last_outbox_id()

    answer = world.click(Escalate, number, reason="Needs the database team")

    assert answer.done and world.ticket(number).tier == 2
    assert world.thread_notes(number)[-1].startswith(
        "@slack:U0AGENT1 escalated the ticket from T1 to T2: “Needs the database team”"
    )
    escalated = world.events(number)[-1]
    assert (escalated.action, escalated.detail) == (
        "escalated",
        {"tier": 2, "reason": "Needs the database team"},
    )
    assert said_to(world, CUSTOMER, before) == [
        "Your ticket #1 “Export crashes every time” has been passed to our Tier 2 team."
    ]
    # No one is named for tier 2 here: the team's lead hears of it, with the reason.
    [to_lead] = said_to(world, LEAD, before)
    assert "comes to Tier 2" in to_lead and "“Needs the database team”" in to_lead


def test_a_team_may_name_who_hears_of_each_tier(world_with: Callable[..., World]) -> None:
    raw = rules().model_dump(mode="json", exclude_none=True)
    raw["teams"][0]["tiers"] = {2: ["U0AGENT2"], 3: ["U0LEAD"]}
    world = world_with(rules(teams=raw["teams"]))
    number = world.open_one()
    before = world.last_outbox_id()

    world.click(Escalate, number, reason="Needs the database team")

    assert len(said_to(world, BOB, before)) == 1 and said_to(world, LEAD, before) == []
    world.click(Escalate, number, reason="Needs the vendor")
    assert len(said_to(world, LEAD, before)) == 1


def test_tiers_beyond_the_top_are_refused_in_the_rules() -> None:
    raw = rules().model_dump(mode="json", exclude_none=True)
    raw["teams"][0]["tiers"] = {4: ["U0AGENT2"]}
    with pytest.raises(ValueError, match=r"teams\[0\]\.tiers\.4: tickets are escalated to tiers 2 to 3 only"):
        rules(teams=raw["teams"])


def test_a_moved_ticket_goes_to_the_other_teams_queue_and_its_cards_follow(world: World) -> None:
    number = world.open_one()
    world.click(Claim, number)
    # The support card, as its post recorded it.
    world.db.run_sync(
        lambda session: add_link(
            Work(session, world.clock.now()), number, "card", "slack", "C0SUPPORT", "1.2"
        )
    )
    due = world.ticket(number).resolution_due
    world.clock.advance(minutes=5)
    before = world.last_outbox_id()

    answer = world.click(MoveTicket, number, team="billing")

    ticket = world.ticket(number)
    assert answer.done and (ticket.team, ticket.status, ticket.assignee) == ("billing", "triaged", None)
    # The clocks go on: both teams work around the clock here, so the due time stands.
    assert ticket.resolution_due == due
    rows = world.outbox(after=before)
    [retired] = [row for row in rows if row.kind == "retire_card"]
    assert retired.payload["card"] == {"place": "C0SUPPORT", "id": "1.2"}
    assert "Moved to Billing by" in plain(rich_from_json(retired.payload["said"]))
    assert [row.kind for row in rows if row.kind in ("post_card", "update_card")] == [
        "post_card",
        "update_card",
    ]
    assert [link.kind for link in world.links(number)] == []
    moved = world.events(number)[-1]
    assert (moved.action, moved.from_value, moved.to_value) == ("moved", "support", "billing")
    assert world.click(Claim, number).refused(Forbidden)
    assert world.click(Claim, number, "slack:U0BILL1").done


def test_moving_to_the_same_or_an_unknown_team_is_refused(world: World) -> None:
    number = world.open_one()
    assert world.click(MoveTicket, number, team="support").refused(IllegalTransition)
    assert world.click(MoveTicket, number, team="nope").refused(InvalidInput)


def test_a_category_that_belongs_to_another_team_is_kept_and_offers_the_move(world: World) -> None:
    number = world.open_one()
    before = world.last_outbox_id()

    answer = world.click(ChangeCategory, number, category="billing")

    assert (
        answer.done and world.ticket(number).category == "billing" and world.ticket(number).team == "support"
    )
    [offer] = [row for row in world.outbox(after=before) if row.kind == "tell_privately"]
    assert offer.payload["person"] == AGENT and offer.payload["place"] == "C0SUPPORT"
    assert "Billing tickets belong to Billing" in plain(offer.text())
    assert "move 1 billing" in plain(offer.text())
