"""The changes made from a card, each through the bus: who may, what moves, what is told, what is queued."""

from __future__ import annotations

import pytest
from world import AGENT, CHANNEL, CUSTOMER, World

from chatops.composition.cards import MenuChoices
from chatops.errors import Forbidden, IllegalTransition, InvalidInput, NotFound, StaleCard
from chatops.messaging.cards import ActionRef
from chatops.tickets.commands import (
    Assign,
    ChangePriority,
    Claim,
    Escalate,
    Reopen,
    Resolve,
)

OTHER_AGENT = "slack:U0AGENT2"
LEAD = "slack:U0LEAD"


def test_claim_assigns_records_notes_and_tells_the_requester(world: World) -> None:
    number = world.open_one()
    before = world.last_outbox_id()

    answer = world.click(Claim, number)

    ticket = world.ticket(number)
    assert answer.done and (ticket.status, ticket.assignee, ticket.version) == ("assigned", AGENT, 2)
    assert [(r.kind, r.target) for r in world.outbox(after=before)] == [
        ("message", "slack"),
        ("update_card", "slack"),
        ("thread_note", "slack"),
    ]
    assert world.outbox(after=before)[0].payload["to"]["person"] == CUSTOMER
    assert world.events(number)[-1].detail == {"assignee": AGENT}


@pytest.mark.parametrize(
    ("kind", "fields", "status", "check"),
    [
        (Claim, {}, "assigned", lambda t, actor: t.assignee == actor),
        (Assign, {"assignee": OTHER_AGENT}, "assigned", lambda t, actor: t.assignee == OTHER_AGENT),
        (Assign, {"assignee": LEAD}, "assigned", lambda t, actor: t.assignee == LEAD),
        (Escalate, {"reason": "needs the database team"}, "triaged", lambda t, actor: t.tier == 2),
        (ChangePriority, {"priority": "urgent"}, "triaged", lambda t, actor: t.priority == "urgent"),
        (ChangePriority, {"priority": "low"}, "triaged", lambda t, actor: t.priority == "low"),
        (Resolve, {}, "resolved", lambda t, actor: t.resolved_at is not None),
    ],
)
@pytest.mark.parametrize("actor", [AGENT, OTHER_AGENT, LEAD])
def test_every_agent_and_lead_may_work_the_card(world: World, kind, fields, status, check, actor) -> None:  # type: ignore[no-untyped-def]
    number = world.open_one()
    answer = world.click(kind, number, actor, **fields)
    ticket = world.ticket(number)
    assert answer.done, answer.refusal
    assert ticket.status == status and check(ticket, actor) and ticket.version == 2


@pytest.mark.parametrize("kind", [Claim, Escalate, Resolve])
@pytest.mark.parametrize(
    "outsider", [CUSTOMER, "slack:U0BILL1", "teams:6f1c2a9e-1b7d-4c39-9a57-0e3b8d2f4a11"]
)
def test_anyone_else_is_told_privately_where_they_clicked_and_nothing_changes(
    world: World, kind, outsider
) -> None:  # type: ignore[no-untyped-def]
    number = world.open_one()
    before = world.last_outbox_id()

    answer = world.click(kind, number, outsider)

    assert answer.told and answer.refused(Forbidden)
    assert world.ticket(number).version == 1
    told = world.outbox(after=before)
    assert [(r.kind, r.payload.get("place"), r.payload.get("person")) for r in told] == [
        ("tell_privately", "C0SUPPORT", outsider)
    ]


def test_a_click_on_an_old_card_is_refused_and_the_card_redrawn(world: World) -> None:
    number = world.open_one()
    world.click(Claim, number)
    before = world.last_outbox_id()

    answer = world.do(Escalate(number, 1, AGENT, CHANNEL, reason="needs the database team"))

    assert answer.told and answer.refused(StaleCard)
    assert world.ticket(number).tier == 1
    assert [r.kind for r in world.outbox(after=before)] == ["update_card", "tell_privately"]


@pytest.mark.parametrize(
    ("kind", "fields", "refusal"),
    [
        (Assign, {"assignee": None}, InvalidInput),
        (Assign, {"assignee": "slack:U0BILL1"}, Forbidden),
        (ChangePriority, {"priority": "whenever"}, InvalidInput),
        (ChangePriority, {"priority": "normal"}, IllegalTransition),
        (Reopen, {}, IllegalTransition),
    ],
)
def test_impossible_changes_say_why(world: World, kind, fields, refusal) -> None:  # type: ignore[no-untyped-def]
    number = world.open_one()
    answer = world.click(kind, number, **fields)
    assert answer.refused(refusal)
    assert world.ticket(number).version == 1


def test_the_top_tier_cannot_be_escalated(world: World) -> None:
    number = world.open_one()
    world.click(Escalate, number, reason="needs the database team")
    world.click(Escalate, number, reason="needs the vendor")
    answer = world.click(Escalate, number, reason="still broken")
    assert answer.refused(IllegalTransition) and world.ticket(number).tier == 3


def test_assigning_the_same_person_again_is_refused(world: World) -> None:
    number = world.open_one()
    world.click(Claim, number)
    answer = world.click(Assign, number, assignee=AGENT)
    assert answer.refused(IllegalTransition)


def test_a_menu_gives_the_options_its_card_shows_that_contain_what_was_typed(world: World) -> None:
    number = world.open_one()

    def search(verb: str, typed: str) -> list[str]:
        answer = world.ask(MenuChoices(ActionRef(number, verb, 1), typed, world.clock.now()))
        assert answer.done, answer.refusal
        return [choice.value for choice in answer.value]

    assert search("category", "") == ["billing", "bug", "feedback", "access"]
    # Labels and values alike, whatever the case and the spaces around.
    assert search("category", " ACC ") == ["access"]
    assert search("move", "bill") == ["billing"]
    assert search("move", "support") == []
    assert search("assign", "") == []
    world.click(Resolve, number)
    assert search("category", "") == []


def test_a_menu_of_a_ticket_that_is_gone_has_no_options(world: World) -> None:
    answer = world.ask(MenuChoices(ActionRef(999, "category", 1), "", world.clock.now()))

    assert answer.refused(NotFound)
