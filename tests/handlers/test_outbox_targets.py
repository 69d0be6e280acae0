"""The general outbox: a card in every place of its team, on each platform, and rows for systems other
than chat carried out by their own handler."""

from __future__ import annotations

from recording import RecordingGateway, drain
from world import World, rules

from chatops.bootstrap import dispatcher_for
from chatops.messaging.dispatcher import Dispatcher, Run
from chatops.messaging.outbox_store import Job, Outcome
from chatops.messaging.ports import Pace, PermanentFailure, Place, RateLimited, TransientFailure
from chatops.tickets import repository
from chatops.tickets.commands import Claim, OpenTicket
from chatops.work import Work

TEAMS_CHANNEL = "19:support@thread.tacv2"


def two_place_world(world_with) -> World:  # type: ignore[no-untyped-def]
    teams = rules().model_dump()["teams"]
    teams[0]["teams_channel"] = TEAMS_CHANNEL
    return world_with(rules(teams=teams))


def test_a_card_lives_in_each_place_of_its_team_and_every_change_redraws_both(world_with) -> None:  # type: ignore[no-untyped-def]
    world = two_place_world(world_with)
    gateways = {"slack": RecordingGateway("slack"), "teams": RecordingGateway("teams")}
    number = world.do(
        OpenTicket(text="Export crashes", requester="slack:U0CUSTOMER", via="dm", platform="slack")
    )
    number = number.value.ticket.id

    drain(dispatcher_for(world.db, world.desk, world.clock, gateways))  # type: ignore[arg-type]

    slack_post, teams_post = gateways["slack"].calls[0][1], gateways["teams"].calls[0][1]
    assert (slack_post[0].place, teams_post[0].place) == ("C0SUPPORT", TEAMS_CHANNEL)
    assert slack_post[1].header == teams_post[1].header == f"#{number} Export crashes"
    assert {(link.kind, link.system, link.address) for link in world.links(number)} == {
        ("card", "slack", "C0SUPPORT"),
        ("card", "teams", TEAMS_CHANNEL),
    }

    world.do(Claim(number, 1, "slack:U0AGENT1", Place("teams", TEAMS_CHANNEL)))
    drain(dispatcher_for(world.db, world.desk, world.clock, gateways))  # type: ignore[arg-type]

    # Each place: its card, then one redraw and a note in its thread.
    assert gateways["teams"].kinds() == ["post", "update", "post"]
    assert sorted(gateways["slack"].kinds()) == ["post", "post", "post", "update"]
    # The requester asked in Slack: they hear of it there, not in Teams.
    dm = [body for kind, body in gateways["slack"].calls if kind == "post" and body[0].person]
    assert dm and dm[0][0].person == "slack:U0CUSTOMER"
    assert not [body for kind, body in gateways["teams"].calls if kind == "post" and body[0].person]


def test_one_platform_in_trouble_holds_back_no_other(world_with) -> None:  # type: ignore[no-untyped-def]
    world = two_place_world(world_with)
    slack, teams = RecordingGateway("slack"), RecordingGateway("teams", failure=RateLimited(60))
    gateways = {"slack": slack, "teams": teams}
    opened = world.do(
        OpenTicket(text="Export crashes", requester="slack:U0CUSTOMER", via="dm", platform="slack")
    )
    number = opened.value.ticket.id
    drain(
        dispatcher_for(world.db, world.desk, world.clock, gateways),  # type: ignore[arg-type]
        until=lambda: slack.kinds() == ["post"] and teams.kinds() == ["refused"],
    )

    # Teams asked us to wait a minute before its card; the change made meanwhile still reaches Slack.
    world.do(Claim(number, 1, "slack:U0AGENT1", Place("slack", "C0SUPPORT")))
    drain(
        dispatcher_for(world.db, world.desk, world.clock, gateways),  # type: ignore[arg-type]
        until=lambda: "update" in slack.kinds() and len(slack.kinds()) == 4,
    )

    assert sorted(slack.kinds()) == ["post", "post", "post", "update"] and teams.kinds() == ["refused"]
    assert {(link.kind, link.system) for link in world.links(number)} == {("card", "slack")}


def test_a_requesters_news_never_waits_on_a_card_that_cannot_be_posted_yet(world_with) -> None:  # type: ignore[no-untyped-def]
    world = two_place_world(world_with)
    waiting = TransientFailure("the channel is not known yet", in_doubt=False)
    slack, teams = (
        RecordingGateway("slack"),
        RecordingGateway("teams", closed_places={TEAMS_CHANNEL: waiting}),
    )
    gateways = {"slack": slack, "teams": teams}
    opened = world.do(
        OpenTicket(
            text="Export crashes",
            requester="teams:82fef83b-9b57-5477-895e-2692e91a21cd",
            via="dm",
            platform="teams",
            confirm_directly=True,
        )
    )
    number = opened.value.ticket.id
    world.do(Claim(number, 1, "slack:U0AGENT1", Place("slack", "C0SUPPORT")))

    drain(
        dispatcher_for(world.db, world.desk, world.clock, gateways),  # type: ignore[arg-type]
        until=lambda: len([c for c in teams.calls if c[0] == "post"]) == 2,
    )

    # The Teams card waits for its channel; the requester's confirmation and news reach them all the same,
    # in the order they were written.
    posts = [body for kind, body in teams.calls if kind == "post"]
    assert [to.person for to, _, _ in posts] == [opened.value.ticket.requester] * 2
    assert "opened" in str(posts[0][1]) and "handled by" in str(posts[1][1])
    assert not [body for kind, body in teams.calls if kind == "post" and body[0].place == TEAMS_CHANNEL]


def test_a_row_for_another_system_is_carried_out_by_its_handler(world: World) -> None:
    pushed: list[int] = []

    async def push(jobs: list[Job], run: Run) -> list[Outcome]:
        async def call() -> str:
            pushed.extend(j.ticket_id or 0 for j in jobs)
            return f"SUP-{jobs[0].ticket_id}"

        def remember(key: str):  # type: ignore[no-untyped-def]
            def write(work: Work) -> None:
                repository.add_link(work, number, "issue", "tracker", "SUP", key)

            return write

        return [await run.attempt(jobs, Pace("tracker", per_second=5.0), call, then=remember)]

    async def refuse(jobs: list[Job], run: Run) -> list[Outcome]:
        async def call() -> None:
            raise PermanentFailure("the tracker has no such project")

        return [await run.attempt(jobs, None, call)]

    opened = world.do(
        OpenTicket(text="Export crashes", requester="slack:U0CUSTOMER", via="dm", platform="slack")
    )
    number = opened.value.ticket.id

    def queue(work: Work) -> None:
        work.send("tracker", "push", ticket_id=number)
        work.send("tracker", "refuse", ticket_id=number)
        work.finish()

    from sqlalchemy.orm import Session

    with Session(world.db.engine) as session, session.begin():
        queue(Work(session, world.clock.now()))
    slack = RecordingGateway("slack")
    base = dispatcher_for(world.db, world.desk, world.clock, {"slack": slack})  # type: ignore[dict-item]
    dispatcher = Dispatcher(
        world.db,
        world.clock,
        handlers={**base.handlers, ("tracker", "push"): push, ("tracker", "refuse"): refuse},
        gateways=base.gateways,
        prepare=base.prepare,
    )

    drain(dispatcher)

    assert pushed == [number]
    assert ("issue", "tracker", f"SUP-{number}") in {
        (link.kind, link.system, link.ref) for link in world.links(number)
    }
    rows = {(r.target, r.kind): r for r in world.outbox()}
    assert ("tracker", "refuse") in rows
    from sqlalchemy import select

    from chatops.store.tables import OutboxMessage

    with Session(world.db.engine) as session:
        refused = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "refuse")).one()
        assert (refused.failed, refused.last_error) == (True, "the tracker has no such project")
