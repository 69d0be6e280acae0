"""How a ticket comes to a close, without HTTP: the requester asked whether it is solved (Yes closes, No
reopens a tier up), closing itself unanswered, the survey once, and a waiting ticket followed up and
resolving itself; every step taken once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from world import AGENT, CONFIG, CUSTOMER, Row, World, rules

from chatops.closing.commands import Close, Comment, Confirm, Rate, SweepQuiet
from chatops.errors import Forbidden, IllegalTransition
from chatops.messaging.cards import ActionRef, Prompt, card_from_json
from chatops.rich import plain
from chatops.tickets.commands import Claim, Reopen, Resolve, Resume, WaitOnCustomer


def questions(desk: World, after: int = 0) -> list[Any]:
    """The cards sent to the requester since `after`."""
    return [
        card_from_json(row.payload["card"])
        for row in desk.outbox(after=after)
        if row.kind == "message" and "card" in row.payload and row.payload["to"]["person"] == CUSTOMER
    ]


def words_to(desk: World, person: str, after: int = 0) -> list[str]:
    return [
        plain(row.text()) for row in desk.outbox(after=after) if _to(row) == person and "text" in row.payload
    ]


def _to(row: Row) -> str | None:
    return row.payload.get("to", {}).get("person") if row.kind == "message" else None


def refs(card: Any) -> list[ActionRef]:
    return [control.ref for control in card.actions]


def answer(desk: World, kind: type, ref: ActionRef, actor: str = CUSTOMER, **fields: Any) -> Any:
    return desk.do(kind(ref.ticket_id, ref.version, actor, None, **fields))


def resolved_one(desk: World) -> int:
    number = desk.open_one()
    desk.click(Claim, number)
    desk.click(Resolve, number)
    return number


def test_resolving_asks_the_requester_and_yes_closes_it_and_sends_the_survey(world: World) -> None:
    number = resolved_one(world)
    [question] = questions(world)
    assert question.header == f"Ticket #{number}: did this solve it?"
    assert [(c.label, c.ref.verb) for c in question.actions] == [
        ("Yes, close it", "solved"),
        ("No, reopen it", "unsolved"),
    ]
    before = world.last_outbox_id()

    done = answer(world, Confirm, refs(question)[0], solved=True)

    assert done.done, done.refusal
    ticket = world.ticket(number)
    assert (ticket.status, ticket.survey) == ("closed", "asked")
    [survey] = questions(world, before)
    assert [c.label for c in survey.actions] == ["1", "2", "3", "4", "5"]
    assert any("confirmed it is solved" in note for note in world.thread_notes(number))
    assert "Yes, it is solved" in plain(done.value.said)


def test_a_rating_lands_once_with_its_comment_and_a_second_answer_is_refused(world: World) -> None:
    number = resolved_one(world)
    answer(world, Confirm, refs(questions(world)[0])[0], solved=True)
    survey = questions(world)[-1]
    before = world.last_outbox_id()

    rated = answer(world, Rate, refs(survey)[3], score=4)
    again = answer(world, Rate, refs(survey)[4], score=5)

    assert rated.done and not again.done
    assert again.refused(IllegalTransition)
    [thanks] = questions(world, before)
    [prompt] = thanks.actions
    assert isinstance(prompt, Prompt) and prompt.ref.verb == "comment"
    said = answer(world, Comment, prompt.ref, text="Quick & <kind> help")
    twice = answer(world, Comment, prompt.ref, text="Again")
    assert said.done and twice.refused(IllegalTransition)
    ticket = world.ticket(number)
    assert (ticket.csat_score, ticket.csat_comment) == (4, "Quick & <kind> help")
    assert [e.action for e in world.events(number)].count("csat") == 1
    assert any("rated the help 4 of 5" in note for note in world.thread_notes(number))


def test_no_reopens_the_ticket_a_tier_up_and_tells_its_assignee(world: World) -> None:
    number = resolved_one(world)
    before = world.last_outbox_id()

    done = answer(world, Confirm, refs(questions(world)[0])[1], solved=False)

    assert done.done, done.refusal
    ticket = world.ticket(number)
    assert (ticket.status, ticket.tier, ticket.resolved_at) == ("triaged", 2, None)
    [told] = words_to(world, AGENT, before)
    assert "said it is not solved" in told and "escalated from T1 to T2" in told
    assert any("open again" in text for text in words_to(world, CUSTOMER, before))


def test_only_the_requester_answers_and_only_the_latest_question(world: World) -> None:
    number = resolved_one(world)
    first = questions(world)[0]

    someone = answer(world, Confirm, refs(first)[0], actor="slack:U0BILL1", solved=True)
    assert someone.refused(Forbidden)

    answer(world, Confirm, refs(first)[1], solved=False)
    world.click(Resolve, number)
    stale = answer(world, Confirm, refs(first)[0], solved=True)

    assert stale.refused(IllegalTransition)
    latest = questions(world)[-1]
    assert answer(world, Confirm, refs(latest)[0], solved=True).done


def test_unanswered_it_closes_itself_once_and_the_survey_goes_out(world: World) -> None:
    number = resolved_one(world)
    world.clock.advance(days=2, hours=23)
    assert world.do(SweepQuiet()).value == 0
    world.clock.advance(hours=2)
    before = world.last_outbox_id()

    world.do(SweepQuiet())
    world.do(SweepQuiet())

    ticket = world.ticket(number)
    assert (ticket.status, ticket.survey) == ("closed", "asked")
    assert len(questions(world, before)) == 1
    assert any("No answer from the customer in 3 days" in note for note in world.thread_notes(number))


def test_a_late_rating_is_thanked_and_not_counted(world: World) -> None:
    resolved_one(world)
    answer(world, Confirm, refs(questions(world)[0])[0], solved=True)
    survey = questions(world)[-1]
    world.clock.advance(days=8)
    world.do(SweepQuiet())

    late = answer(world, Rate, refs(survey)[2], score=3)

    assert late.refused(IllegalTransition)
    assert world.ticket(survey.actions[0].ref.ticket_id).csat_score is None


def test_the_survey_waits_for_its_delay(world_with: Callable[..., World]) -> None:
    desk = world_with(rules(csat={"delay": "1h"}))
    number = resolved_one(desk)
    answer(desk, Confirm, refs(questions(desk)[0])[0], solved=True)
    assert (desk.ticket(number).survey, len(questions(desk))) == ("due", 1)

    desk.clock.advance(minutes=61)
    desk.do(SweepQuiet())

    assert desk.ticket(number).survey == "asked" and len(questions(desk)) == 2


def test_a_team_without_surveys_sends_none(world_with: Callable[..., World]) -> None:
    raw = yaml.safe_load(CONFIG.read_text())
    raw["teams"][0]["csat"] = False
    desk = world_with(rules(teams=raw["teams"]))
    number = resolved_one(desk)

    answer(desk, Confirm, refs(questions(desk)[0])[0], solved=True)

    assert (desk.ticket(number).survey, len(questions(desk))) == ("off", 1)
    assert [c.label for c in card(desk, number).actions] == ["Reopen"]


def test_an_agent_may_close_without_the_survey(world: World) -> None:
    number = resolved_one(world)
    assert [c.label for c in card(world, number).actions] == ["Close", "Close without survey", "Reopen"]

    world.click(Close, number, survey=False)

    assert (world.ticket(number).survey, len(questions(world))) == ("off", 1)


def card(desk: World, number: int) -> Any:
    return desk.card(number)


def test_a_waiting_ticket_is_followed_up_once_then_resolves_itself(world: World) -> None:
    number = world.open_one()
    world.click(Claim, number)
    world.click(WaitOnCustomer, number)
    world.clock.advance(days=2, minutes=1)
    before = world.last_outbox_id()

    world.do(SweepQuiet())
    world.do(SweepQuiet())

    [nudge] = words_to(world, CUSTOMER, before)
    assert nudge.startswith(f"Still there? Your ticket #{number}") and "resolves itself" in nudge
    assert "Reply here and it goes straight to the team" in nudge
    assert world.ticket(number).status == "waiting_on_customer"
    world.clock.advance(days=5)
    world.do(SweepQuiet())
    ticket = world.ticket(number)
    assert (ticket.status, ticket.resolved_at) == ("resolved", world.clock.now())
    assert questions(world)[-1].header == f"Ticket #{number}: did this solve it?"
    assert any("the ticket resolved itself" in note for note in world.thread_notes(number))


def test_an_answer_from_the_customer_stops_the_follow_up(world: World) -> None:
    number = world.open_one()
    world.click(Claim, number)
    world.click(WaitOnCustomer, number)
    world.clock.advance(days=1)
    world.click(Resume, number)
    world.clock.advance(days=2)
    before = world.last_outbox_id()

    world.do(SweepQuiet())

    assert words_to(world, CUSTOMER, before) == []
    ticket = world.ticket(number)
    assert (ticket.status, ticket.nudge_at) == ("in_progress", None)


def test_a_comment_after_the_survey_is_over_is_not_kept(world: World) -> None:
    number = resolved_one(world)
    answer(world, Confirm, refs(questions(world)[0])[0], solved=True)
    answer(world, Rate, refs(questions(world)[-1])[4], score=5)
    [prompt] = questions(world)[-1].actions
    world.clock.advance(days=8)
    world.do(SweepQuiet())

    late = answer(world, Comment, prompt.ref, text="Great help")

    assert late.refused(IllegalTransition)
    assert (world.ticket(number).csat_score, world.ticket(number).csat_comment) == (5, None)


def test_reopening_withdraws_an_unanswered_survey_and_the_next_close_asks_anew(world: World) -> None:
    number = resolved_one(world)
    answer(world, Confirm, refs(questions(world)[0])[0], solved=True)
    first = questions(world)[-1]
    world.click(Reopen, number)

    withdrawn = answer(world, Rate, refs(first)[1], score=2)

    assert withdrawn.refused(IllegalTransition)
    world.click(Resolve, number)
    world.click(Close, number)
    assert answer(world, Rate, refs(questions(world)[-1])[3], score=4).done
    assert world.ticket(number).csat_score == 4
