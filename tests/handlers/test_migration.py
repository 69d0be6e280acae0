"""A database made by the foundation's schema (revision 0002) comes through 0003 whole: people by person id,
cards and origins as links, queued rows with a target and in the new kinds' words, and the desk works it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from recording import RecordingGateway, drain
from sqlalchemy.orm import Session
from world import START, World, rules

from chatops.bootstrap import dispatcher_for
from chatops.messaging.ports import MessageRef, Place
from chatops.rich import Mention
from chatops.store import migrate
from chatops.store.db import Database
from chatops.store.tables import OutboxMessage, Person, TicketEvent, TicketLink
from chatops.tickets.commands import Claim, ListMine

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NAIVE = T0.replace(tzinfo=None)


def foundation_database(url: str) -> None:
    db = Database(url)
    migrate.upgrade(db.engine, to="0002")
    ticket = {
        "title": "Export crashes",
        "description": "Export crashes",
        "platform": "slack",
        "workspace": "T0",
        "category": "bug",
        "priority": "normal",
        "team": "support",
        "tier": 1,
        "reasons": "[]",
        "created_at": NAIVE,
        "updated_at": NAIVE,
        "first_response_due": NAIVE,
        "resolution_due": NAIVE,
    }
    with db.engine.begin() as connection:
        insert = sa.text(
            "INSERT INTO tickets (id, title, description, requester, filed_by, platform, workspace, via, "
            "origin_place, origin_ref, origin_permalink, category, priority, team, tier, status, assignee, "
            "reasons, version, created_at, updated_at, first_response_due, resolution_due, next_check_at) "
            "VALUES (:id, :title, :description, :requester, :filed_by, :platform, :workspace, :via, "
            ":origin_place, :origin_ref, :origin_permalink, :category, :priority, :team, :tier, :status, "
            ":assignee, :reasons, :version, :created_at, :updated_at, :first_response_due, :resolution_due, "
            ":created_at)"
        )
        connection.execute(
            insert,
            {
                **ticket,
                "id": 1,
                "requester": "U0CUSTOMER",
                "filed_by": "U0AGENT2",
                "via": "shortcut",
                "origin_place": "C0GENERAL",
                "origin_ref": "17.1",
                "origin_permalink": "https://acme.slack.com/archives/C0GENERAL/p171",
                "status": "triaged",
                "assignee": None,
                "version": 1,
            },
        )
        connection.execute(
            insert,
            {
                **ticket,
                "id": 2,
                "requester": "U0CUSTOMER",
                "filed_by": None,
                "via": "dm",
                "origin_place": None,
                "origin_ref": None,
                "origin_permalink": None,
                "status": "assigned",
                "assignee": "U0AGENT1",
                "version": 2,
            },
        )
        connection.execute(
            sa.text(
                "INSERT INTO ticket_events (ticket_id, at, actor, action, from_value, to_value) VALUES "
                "(1, :at, 'U0AGENT2', 'opened', NULL, 'new'), (1, :at, 'triage', 'triage', 'new', 'triaged')"
            ),
            {"at": NAIVE},
        )
        connection.execute(
            sa.text(
                "INSERT INTO platform_messages (ticket_id, platform, role, place, ref, created_at) "
                "VALUES (1, 'slack', 'card', 'C0SUPPORT', '18.1', :at)"
            ),
            {"at": NAIVE},
        )
        outbox = sa.text(
            "INSERT INTO outbox (kind, ticket_id, payload, created_at, available_at, attempts, in_doubt, "
            "failed, done_at) VALUES (:kind, :ticket, :payload, :at, :at, 0, false, false, :done)"
        )
        for kind, ticket_id, payload, done in [
            (
                "whisper",
                None,
                '{"place": "C0GENERAL", "user": "U0AGENT2", "text": ["Ticket #1 opened"]}',
                None,
            ),
            (
                "message",
                1,
                '{"to": {"place": null, "user": "U0CUSTOMER"}, '
                '"text": [{"person": "U0AGENT2"}, " opened a ticket from your message."]}',
                None,
            ),
            ("thread_note", 1, '{"text": [{"person": "U0AGENT1"}, " looked"]}', None),
            ("post_card", 1, "{}", NAIVE),
        ]:
            connection.execute(
                outbox, {"kind": kind, "ticket": ticket_id, "payload": payload, "at": NAIVE, "done": done}
            )
    migrate.upgrade(db.engine)
    db.close()


def test_a_foundation_database_is_restated_and_worked_on(database_url: str, schema_template) -> None:  # type: ignore[no-untyped-def]
    foundation_database(database_url)
    world = World(database_url, rules())
    try:
        one, two = world.ticket(1), world.ticket(2)
        assert (one.requester, one.filed_by, one.assignee) == ("slack:U0CUSTOMER", "slack:U0AGENT2", None)
        assert (two.requester, two.assignee) == ("slack:U0CUSTOMER", "slack:U0AGENT1")
        with Session(world.db.engine) as session:
            people = {(p.id, p.slack) for p in session.scalars(sa.select(Person))}
            actors = [e.actor for e in session.scalars(sa.select(TicketEvent).order_by(TicketEvent.id))]
            links = {
                (k.ticket_id, k.kind, k.system, k.address, k.ref, k.url)
                for k in session.scalars(sa.select(TicketLink))
            }
            rows = [
                (r.target, r.kind, r.payload, r.done_at is None)
                for r in session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))
            ]
        assert people == {(f"slack:{u}", u) for u in ("U0CUSTOMER", "U0AGENT1", "U0AGENT2")}
        assert actors == ["slack:U0AGENT2", "system:triage"]
        assert links == {
            (1, "card", "slack", "C0SUPPORT", "18.1", None),
            (1, "origin", "slack", "C0GENERAL", "17.1", "https://acme.slack.com/archives/C0GENERAL/p171"),
        }
        assert rows[0][:2] == ("slack", "tell_privately") and rows[0][2]["person"] == "slack:U0AGENT2"
        assert rows[1][2]["to"] == {"place": None, "person": "slack:U0CUSTOMER"}
        assert rows[1][2]["text"][0] == {"person": "slack:U0AGENT2"}
        assert rows[2][2]["text"][0] == {"person": "slack:U0AGENT1"}
        assert rows[3][:2] == ("slack", "post_card")

        # The desk carries out what was queued, on the card it already had, and works the old tickets.
        slack = RecordingGateway("slack")
        drain(dispatcher_for(world.db, world.desk, world.clock, {"slack": slack}))  # type: ignore[dict-item]
        assert slack.kinds() == ["tell_privately", "post", "post"]
        assert slack.calls[0][1][1] == "slack:U0AGENT2"
        note = slack.calls[2][1]
        assert (note[0].thread.id, note[1][0]) == ("18.1", Mention("slack:U0AGENT1"))
        assert world.do(Claim(1, 1, "slack:U0AGENT1", Place("slack", "C0SUPPORT"))).done
        assert {v.id for v in world.ask(ListMine("slack:U0CUSTOMER")).value} == {1, 2}
    finally:
        world.close()


def said(text: str, *, place: str | None = None, person: str | None = None) -> dict[str, object]:
    """A message's payload as revision 0008 wrote it."""
    return {"to": {"place": place, "person": person}, "text": [text]}


def database_at_0008_with_queued_words(url: str) -> None:
    """A ticket with its card posted and a word sent long ago; then its word to the team's channel waiting
    out Slack's pause, its word to the lead, a note for its card's thread; and a private word to an agent."""
    db = Database(url)
    migrate.upgrade(db.engine, to="0008")
    waiting = START.replace(tzinfo=None) + timedelta(hours=1)
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO tickets (id, title, description, requester, platform, via, priority, team, "
                "tier, status, reasons, version, created_at, updated_at, first_response_due, resolution_due, "
                "sla_anchor_at) VALUES (1, 'Checkout is down', 'Checkout is down', 'slack:U0CUSTOMER', "
                "'slack', 'command', 'urgent', 'support', 1, 'triaged', '[]', 1, :at, :at, :at, :at, :at)"
            ),
            {"at": NAIVE},
        )
        connection.execute(
            sa.text(
                "INSERT INTO ticket_links (ticket_id, kind, system, address, ref, created_at) "
                "VALUES (1, 'card', 'slack', 'C0SUPPORT', '18.1', :at)"
            ),
            {"at": NAIVE},
        )
        outbox = sa.text(
            "INSERT INTO outbox (id, target, kind, ticket_id, payload, created_at, available_at, attempts, "
            "in_doubt, after_card, failed, done_at) "
            "VALUES (:id, 'slack', :kind, :ticket, :payload, :at, :available, 0, false, false, false, :done)"
        )
        private = {"place": "C0SUPPORT", "person": "slack:U0AGENT1", "text": ["Not yours"]}
        for row, kind, ticket, payload, available, done in [
            (1, "message", 1, said("Sent", person="slack:U0CUSTOMER"), NAIVE, NAIVE),
            (2, "message", 1, said("Unassigned", place="C0SUPPORT"), waiting, None),
            (3, "message", 1, said("Breached", person="slack:U0LEAD"), NAIVE, None),
            (4, "thread_note", 1, {"text": ["SLA breached"]}, NAIVE, None),
            (5, "tell_privately", None, private, NAIVE, None),
        ]:
            values = {"payload": json.dumps(payload), "available": available, "done": done, "at": NAIVE}
            connection.execute(outbox, {"id": row, "kind": kind, "ticket": ticket, **values})
    migrate.upgrade(db.engine)
    db.close()


def test_queued_words_name_their_destination_and_a_word_to_a_person_waits_on_no_channel(
    database_url: str,
) -> None:
    database_at_0008_with_queued_words(database_url)
    world = World(database_url, rules())
    try:
        with Session(world.db.engine) as session:
            rows = session.execute(
                sa.select(OutboxMessage.id, OutboxMessage.destination).order_by(OutboxMessage.id)
            )
            assert list(rows) == [
                (1, None),
                (2, "place:C0SUPPORT"),
                (3, "person:slack:U0LEAD"),
                (4, None),
                (5, "person:slack:U0AGENT1"),
            ]

        # The word to the channel still waits; the lead, the card's thread and the agent hear at once.
        slack = RecordingGateway("slack")
        drain(
            dispatcher_for(world.db, world.desk, world.clock, {"slack": slack}),  # type: ignore[dict-item]
            until=lambda: len(slack.calls) >= 3,
        )
        posts = [call for kind, call in slack.calls if kind == "post"]
        assert [(to.person, to.place, to.thread) for to, _, _ in posts] == [
            ("slack:U0LEAD", None, None),
            (None, "C0SUPPORT", MessageRef("C0SUPPORT", "18.1")),
        ]
        assert slack.kinds().count("tell_privately") == 1
    finally:
        world.close()


def test_a_row_that_waited_for_its_card_keeps_its_time_once_the_flag_is_gone(database_url: str) -> None:
    db = Database(database_url)
    migrate.upgrade(db.engine, to="0009")
    later = NAIVE + timedelta(minutes=1)
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO outbox (id, target, kind, payload, created_at, available_at, attempts, "
                "in_doubt, after_card, failed) "
                "VALUES (1, 'jira', 'create_issue', '{}', :at, :later, 0, false, true, false)"
            ),
            {"at": NAIVE, "later": later},
        )
    migrate.upgrade(db.engine)
    try:
        assert "after_card" not in {c["name"] for c in sa.inspect(db.engine).get_columns("outbox")}
        with Session(db.engine) as session:
            row = session.get(OutboxMessage, 1)
            assert row is not None and row.done_at is None
            assert row.available_at == later.replace(tzinfo=UTC)
    finally:
        db.close()
