"""Opening a ticket through the bus: triage, history, links, and what it queues for each platform."""

from __future__ import annotations

import pytest
from world import World, rules

from chatops.errors import DeskError, InvalidInput
from chatops.rich import Code, Mention
from chatops.tickets.commands import OpenTicket

ASK = {"requester": "slack:U0CUSTOMER", "via": "command", "platform": "slack"}


def opened(world: World, text: str, **fields: object) -> int:
    answer = world.do(OpenTicket(text=text, **{**ASK, **fields}))  # type: ignore[arg-type]
    assert answer.done, answer.refusal
    return answer.value.ticket.id


def test_a_ticket_is_routed_recorded_with_structured_history_and_its_card_queued(world: World) -> None:
    number = opened(world, "The invoice export crashes", command="/ticket", request_id="T1")

    ticket = world.ticket(number)
    assert (ticket.team, ticket.category, ticket.priority, ticket.requester) == (
        "billing",
        "billing",
        "normal",
        "slack:U0CUSTOMER",
    )
    routed = [e for e in world.events(number) if e.action == "routed"][0]
    assert routed.actor == "system:triage"
    assert routed.detail == {"team": "billing", "category": "billing", "priority": "normal"}
    assert [(r.target, r.kind) for r in world.outbox()] == [("slack", "post_card")]
    assert world.commits == 1


def test_the_confirmation_names_the_command_as_code_not_markup(world: World) -> None:
    answer = world.do(OpenTicket(text="Login fails", command="/ticket", **ASK))  # type: ignore[arg-type]
    assert Code(f"/ticket status {answer.value.ticket.id}") in answer.value.confirmation
    assert not any("`" in part for part in answer.value.confirmation if isinstance(part, str))


def test_a_replayed_request_opens_nothing_and_answers_as_the_first_did(world: World) -> None:
    first = world.do(OpenTicket(text="Login fails", request_id="T9", **ASK))  # type: ignore[arg-type]
    again = world.do(OpenTicket(text="Login fails", request_id="T9", **ASK))  # type: ignore[arg-type]
    assert (again.value.new, again.value.ticket.id) == (False, first.value.ticket.id)
    assert again.value.confirmation == first.value.confirmation
    assert len(world.outbox()) == 1


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        ({"text": "   "}, InvalidInput),
        ({"text": "x" * 40_001}, InvalidInput),
        ({"text": "help", "category": "nope"}, InvalidInput),
        ({"text": "help", "priority": "whenever"}, InvalidInput),
    ],
)
def test_bad_requests_are_refused_in_words_and_change_nothing(
    world: World, fields: dict[str, str], refusal: type[DeskError]
) -> None:
    answer = world.do(OpenTicket(**{**ASK, **fields}))  # type: ignore[arg-type]
    assert answer.refused(refusal)
    assert world.outbox() == [] and world.commits == 0


def test_a_vip_named_by_person_id_is_lifted_whatever_id_they_arrive_with(world_with) -> None:  # type: ignore[no-untyped-def]
    config = rules(
        people=[{"id": "vera", "name": "Vera", "slack": "U0VERA", "email": "vera@acme.example"}],
        vip_users=["vera"],
    )
    world = world_with(config)
    number = opened(world, "Something is off", requester=world.desk.directory.person("slack", "U0VERA"))
    ticket = world.ticket(number)
    assert (ticket.requester, ticket.priority) == ("vera", "high")


def test_a_ticket_filed_for_someone_else_tells_them_and_the_filer(world: World) -> None:
    number = opened(
        world,
        "Printer on fire",
        requester="slack:U0AUTHOR",
        filed_by="slack:U0AGENT2",
        via="shortcut",
        origin_place="C0GENERAL",
        origin_ref="1700000000.000100",
        link_origin=True,
        confirm_privately_in="C0GENERAL",
    )
    kinds = [(r.target, r.kind) for r in world.outbox()]
    assert kinds == [
        ("slack", "post_card"),
        ("slack", "link_origin"),
        ("slack", "tell_privately"),
        ("slack", "message"),
    ]
    private, told = world.outbox()[2], world.outbox()[3]
    assert (private.payload["place"], private.payload["person"]) == ("C0GENERAL", "slack:U0AGENT2")
    assert told.payload["to"]["person"] == "slack:U0AUTHOR"
    assert told.text()[0] == Mention("slack:U0AGENT2")
    assert [(link.kind, link.system, link.address, link.ref) for link in world.links(number)] == [
        ("origin", "slack", "C0GENERAL", "1700000000.000100")
    ]


def test_a_long_request_goes_whole_into_the_thread_of_every_card(world_with) -> None:  # type: ignore[no-untyped-def]
    teams = rules().model_dump()["teams"]
    teams[0]["teams_channel"] = "19:support@thread.tacv2"
    world = world_with(rules(teams=teams))
    number = opened(world, "word " * 1500)
    rows = [(r.target, r.kind) for r in world.outbox() if r.ticket_id == number]
    assert rows.count(("slack", "thread_note")) == 3 and rows.count(("teams", "thread_note")) == 3
    assert ("slack", "post_card") in rows and ("teams", "post_card") in rows
