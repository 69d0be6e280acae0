"""People across platforms: declared people and raw ids side by side, one person under all their ids."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from world import World, rules

from chatops.bootstrap import desk_of
from chatops.errors import Forbidden, NotFound
from chatops.people.directory import Directory, Person
from chatops.tickets.commands import Claim, ListMine, ListQueue, OpenTicket, Resolve, ShowTicket

ALICE_TEAMS = "6f1c2a9e-1b7d-4c39-9a57-0e3b8d2f4a11"
PEOPLE = [
    {
        "id": "alice",
        "name": "Alice Ng",
        "slack": "U0AGENT1",
        "teams": ALICE_TEAMS,
        "email": "alice@acme.example",
    },
    {"id": "bob", "name": "Bob", "email": "bob@acme.example"},
]


def test_a_person_with_a_slack_identity_and_an_email_is_one_person_on_both() -> None:
    directory = Directory([Person("ann", "Ann", slack="U0ANN", email="ann@acme.example")])

    assert directory.person("slack", "U0ANN") == "ann"
    assert directory.person("email", "ANN@acme.example") == "ann"
    assert directory.address("ann", "slack") == "U0ANN"
    assert directory.address("ann", "email") == "ann@acme.example"
    assert directory.address("ann", "teams") is None
    assert directory.aliases("ann") == {"ann", "slack:U0ANN", "email:ann@acme.example"}
    # Recorded before Ann was declared, under her Slack identity: still Ann.
    assert directory.canonical("slack:U0ANN") == "ann"
    assert directory.reach("ann", "teams", ["slack", "teams"]) == "slack"


def test_someone_undeclared_is_known_by_their_identity_and_reached_only_there() -> None:
    directory = Directory()
    customer = directory.person("teams", ALICE_TEAMS.upper())
    assert customer == f"teams:{ALICE_TEAMS}"
    assert directory.address(customer, "teams") == ALICE_TEAMS
    assert directory.address(customer, "slack") is None
    assert directory.reach(customer, "slack", ["slack", "teams"]) == "teams"
    assert directory.name("slack:U0CUSTOMER") == "U0CUSTOMER"


def test_a_config_may_name_people_by_person_id_and_by_raw_ids_together() -> None:
    teams = rules().model_dump()["teams"]
    teams[0]["agents"] = ["alice", "U0AGENT2", "bob@acme.example", "carol@acme.example"]
    teams[0]["leads"] = ["bob"]
    desk = desk_of(rules(people=PEOPLE, teams=teams, vip_users=["bob", "U0VIP"]))

    assert desk.roles.staff("support") == ("alice", "slack:U0AGENT2", "bob", "email:carol@acme.example")
    for member in (
        "alice",
        "slack:U0AGENT1",
        f"teams:{ALICE_TEAMS}",
        "slack:U0AGENT2",
        "bob",
        "email:carol@acme.example",
    ):
        assert desk.roles.may_act("support", member), member
    assert not desk.roles.may_act("support", "slack:U0CUSTOMER")
    assert desk.roles.is_vip("email:bob@acme.example") and desk.roles.is_vip("slack:U0VIP")


@pytest.mark.parametrize(
    ("people", "message"),
    [
        ([{"id": "Alice", "slack": "U0A"}], "is not a person id"),
        ([{"id": "alice"}], "person 'alice' needs at least one of slack, teams or email"),
        (
            [{"id": "a", "slack": "U0A"}, {"id": "b", "slack": "U0A"}],
            "people[1].slack: 'U0A' belongs to two people",
        ),
        ([{"id": "a", "teams": "not-a-guid"}], "is not a Teams user id"),
        (
            [{"id": "a", "slack": "U0A"}, {"id": "a", "email": "a@b.example"}],
            "people[1].id: 'a' is used twice",
        ),
    ],
)
def test_mistakes_in_people_are_named(people: list[dict[str, str]], message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        rules(people=people)
    assert message in str(refused.value)


def test_tickets_recorded_under_an_identity_are_the_declared_persons_own(world_with) -> None:  # type: ignore[no-untyped-def]
    # Before Alice was declared, her Slack identity opened a ticket and was assigned another.
    before = world_with(rules())
    mine = before.do(OpenTicket(text="My laptop", requester="slack:U0AGENT1", via="dm", platform="slack"))
    theirs = before.do(
        OpenTicket(text="Export fails", requester="slack:U0CUSTOMER", via="dm", platform="slack")
    )
    before.do(Claim(theirs.value.ticket.id, 1, "slack:U0AGENT1"))

    teams = rules().model_dump()["teams"]
    teams[0]["agents"] = ["alice", "U0AGENT2"]
    after = world_with(rules(people=PEOPLE, teams=teams))

    listed = after.ask(ListMine("alice")).value
    assert {v.id for v in listed} == {mine.value.ticket.id, theirs.value.ticket.id}
    assert after.ask(ShowTicket(mine.value.ticket.id, "alice")).done
    assert [v.id for v in after.ask(ListQueue("alice")).value] == [
        mine.value.ticket.id,
        theirs.value.ticket.id,
    ]
    refused = after.ask(ListQueue("slack:U0CUSTOMER"))
    assert refused.refused(Forbidden)


def test_a_stranger_cannot_see_someone_elses_ticket(world: World) -> None:
    opened = world.do(
        OpenTicket(text="Export fails", requester="slack:U0CUSTOMER", via="dm", platform="slack")
    )
    answer = world.ask(ShowTicket(opened.value.ticket.id, "slack:U0STRANGER"))
    assert answer.refused(NotFound)


def test_people_met_are_recorded_once_with_their_identity(world: World) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from chatops.store.tables import Person as PersonRow

    for _ in range(2):
        world.do(OpenTicket(text="Export fails", requester="slack:U0CUSTOMER", via="dm", platform="slack"))
    with Session(world.db.engine) as session:
        rows = [(p.id, p.slack, p.teams) for p in session.scalars(select(PersonRow))]
    assert rows == [("slack:U0CUSTOMER", "U0CUSTOMER", None)]


def test_a_requester_no_platform_can_reach_is_not_sent_to(world_with) -> None:  # type: ignore[no-untyped-def]
    world = world_with(rules(people=[{"id": "erin", "email": "erin@acme.example"}]))
    opened = world.do(OpenTicket(text="Export fails", requester="erin", via="form", platform="slack"))
    assert world.do(Resolve(opened.value.ticket.id, 1, "slack:U0AGENT1")).done
    assert [r.kind for r in world.outbox()] == ["post_card", "update_card", "thread_note"]
