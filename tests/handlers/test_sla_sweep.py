"""The SLA sweep on a manual clock: warnings to the assignee or the team, breaches to the leads, each owed
notice once however often the sweep runs, escalation at the breach, business hours and holidays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from recording import RecordingGateway, drain
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from world import AGENT, World, rules

from chatops.bootstrap import dispatcher_for
from chatops.messaging.outbox import MESSAGE
from chatops.messaging.ports import PermanentFailure
from chatops.store.tables import SlaPing
from chatops.tickets.commands import ChangePriority, Claim, Reopen, Resolve
from chatops.tickets.outbound import THREAD_NOTE, UPDATE_CARD
from chatops.tickets.sweep import SweepSla

LEAD = "slack:U0LEAD"


def swept(world: World) -> list:  # type: ignore[type-arg]
    """Run a sweep; the outbox rows it queued."""
    before = world.last_outbox_id()
    world.do(SweepSla())
    return world.outbox(after=before)


def said(rows: list, kind: str = MESSAGE) -> list[str]:  # type: ignore[type-arg]
    return [str(row.text()) for row in rows if row.kind == kind]


def pings(world: World) -> list[tuple[str, str]]:
    with Session(world.db.engine) as session:
        return [(p.clock, p.kind) for p in session.scalars(select(SlaPing).order_by(SlaPing.id))]


def test_nothing_is_owed_before_the_warning(world: World) -> None:
    world.open_one()
    world.clock.advance(hours=2, minutes=59)

    assert swept(world) == []


def test_the_assignee_is_warned_once_at_three_quarters_of_the_target(world: World) -> None:
    number = world.open_one()
    world.click(Claim, number)  # the first response: the resolution clock (3d) is the one left
    world.clock.advance(days=3 * 0.75)

    rows = swept(world)
    again = swept(world)

    warning = [row for row in rows if row.kind == MESSAGE]
    assert len(warning) == 1 and warning[0].payload["to"]["person"] == AGENT
    assert "the resolution is due in 18 h" in str(warning[0].text())
    assert any("SLA: the resolution is due in 18 h" in text for text in said(rows, THREAD_NOTE))
    assert UPDATE_CARD in {row.kind for row in rows}
    assert again == [] and pings(world) == [("resolution", "warning")]


def test_an_unassigned_ticket_is_called_out_in_the_team_place_naming_its_agents(world: World) -> None:
    world.open_one()
    world.clock.advance(hours=3)

    rows = swept(world)

    (callout,) = [row for row in rows if row.kind == MESSAGE]
    assert callout.payload["to"]["place"] == "C0SUPPORT"
    assert "Unassigned; on duty" in str(callout.text()) and "U0AGENT1" in str(callout.text())


def test_the_leads_hear_of_a_breach_and_it_is_on_record(world: World) -> None:
    number = world.open_one()
    world.clock.advance(hours=4)

    rows = swept(world)

    told = [row for row in rows if row.kind == MESSAGE and row.payload["to"]["person"] == LEAD]
    assert told and "SLA breached: the first response was due" in str(told[0].text())
    assert ("sla", "sla_breached") == ("sla", world.events(number)[-1].action)
    assert set(pings(world)) == {("first_response", "warning"), ("first_response", "breach")}
    assert swept(world) == []


def test_a_team_that_escalates_on_breach_moves_the_ticket_up_a_tier(world_with) -> None:  # type: ignore[no-untyped-def]
    teams = rules().model_dump()["teams"]
    teams[0]["escalate_on_breach"] = True
    world = world_with(rules(teams=teams))
    number = world.open_one()
    world.clock.advance(hours=4)

    swept(world)

    ticket = world.ticket(number)
    assert ticket.tier == 2
    assert [e.action for e in world.events(number)][-2:] == ["sla_breached", "escalated"]


def test_a_later_due_time_owes_a_new_warning_and_an_earlier_one_does_not(world: World) -> None:
    number = world.open_one()
    world.clock.advance(hours=3)
    swept(world)
    assert pings(world) == [("first_response", "warning")]

    # Urgent (15m) moves the due time earlier: the warning already sent covers it. (Urgent's resolution
    # target, 4h, is now three quarters used: that clock's warning is owed.)
    world.click(ChangePriority, number, LEAD, priority="urgent")
    world.clock.advance(minutes=1)
    texts = [str(row.text()) for row in swept(world) if row.kind == MESSAGE]
    assert not [text for text in texts if "the first response is due in" in text]
    assert [text for text in texts if "the resolution is due in" in text]

    # Back to low (1d): the due time is later than when the warning went, so a new one is owed, once.
    world.click(ChangePriority, number, LEAD, priority="low")
    world.clock.advance(hours=18)
    assert [row for row in swept(world) if row.kind == MESSAGE]
    assert pings(world).count(("first_response", "warning")) == 2


def test_a_resolved_ticket_owes_nothing_and_a_reopened_one_is_watched_again(world: World) -> None:
    number = world.open_one()
    world.click(Resolve, number)
    world.clock.advance(days=10)
    assert swept(world) == []

    world.click(Reopen, number)
    world.clock.advance(days=3)
    assert [row for row in swept(world) if row.kind == MESSAGE]


def test_business_hours_and_a_holiday_count_working_time_only(world_with) -> None:  # type: ignore[no-untyped-def]
    berlin = {
        "timezone": "Europe/Berlin",
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "09:00",
        "end": "17:00",
        "holidays": "DE-BE",
    }
    teams = rules().model_dump()["teams"]
    teams[0]["calendar"] = "berlin"
    world = world_with(rules(teams=teams, calendars={"berlin": berlin}))
    # Thursday 2026-04-30 16:00 Berlin (14:00 UTC); Friday 1 May is a public holiday, then the weekend.
    world.clock.at = datetime(2026, 4, 30, 14, 0, tzinfo=UTC)
    number = world.open_one()

    ticket = world.ticket(number)
    # 4 working hours: one on Thursday, three on Monday 4 May: 12:00 Berlin, 10:00 UTC.
    assert ticket.first_response_due == datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    world.clock.at = datetime(2026, 5, 4, 8, 59, tzinfo=UTC)
    assert swept(world) == []
    world.clock.at += timedelta(minutes=1)
    assert [row for row in swept(world) if row.kind == MESSAGE]


def test_the_sweep_reads_only_what_is_due(world: World) -> None:
    for n in range(5):
        world.open_one(f"Export crashes, case {n}")
    world.clock.advance(hours=3)
    with Session(world.db.engine) as session:
        due = session.scalar(select(func.count()).select_from(SlaPing))
    assert due == 0

    assert world.do(SweepSla(limit=2)).value == 2
    assert world.do(SweepSla(limit=10)).value == 3
    assert world.do(SweepSla(limit=10)).value == 0


def test_a_warning_recorded_before_a_restart_is_sent_once_after_it(world: World) -> None:
    number = world.open_one()
    world.click(Claim, number)
    world.clock.advance(days=3 * 0.75)
    # The sweep commits the warning and its message together; the process then dies before sending.
    world.do(SweepSla())

    # A new process: its dispatcher finds the message, its sweep finds nothing more owed.
    gateway = RecordingGateway("slack")
    world.do(SweepSla())
    drain(dispatcher_for(world.db, world.desk, world.clock, {"slack": gateway}))  # type: ignore[dict-item]

    warnings = [body for kind, body in gateway.calls if kind == "post" and body[0].person == AGENT]
    assert len(warnings) == 1 and "the resolution is due in 18 h" in str(warnings[0][1])


def test_a_warning_ends_with_a_link_to_the_card_and_goes_out_without_it_if_the_card_is_gone(
    world: World,
) -> None:
    number = world.open_one()
    world.click(Claim, number)
    drain(dispatcher_for(world.db, world.desk, world.clock, {"slack": RecordingGateway("slack")}))  # type: ignore[dict-item]
    world.clock.advance(days=3 * 0.75)
    world.do(SweepSla())
    world.do(SweepSla())

    gone = RecordingGateway("slack", link_failure=PermanentFailure("message_not_found"))
    drain(dispatcher_for(world.db, world.desk, world.clock, {"slack": gone}))  # type: ignore[dict-item]

    (warning,) = [body for kind, body in gone.calls if kind == "post" and body[0].person == AGENT]
    assert "the resolution is due in 18 h" in str(warning[1]) and "Open the card" not in str(warning[1])
    assert [kind for kind, _ in gone.calls].count("link") == 1
