"""The order of a ticket's outbox rows is kept per destination: its words to a person go in the order
written, whatever their kinds, and never wait on what goes to another place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from recording import RecordingGateway, drain
from sqlalchemy import select
from sqlalchemy.orm import Session
from world import CUSTOMER, World

from chatops.bootstrap import dispatcher_for
from chatops.clock import SystemClock
from chatops.messaging.cards import Card
from chatops.messaging.outbox import MESSAGE, RELAY, message_payload, send_words
from chatops.messaging.ports import CallKind, Destination, MessageRef, Pace, RateLimited
from chatops.rich import Rich, plain
from chatops.store.tables import OutboxMessage
from chatops.work import Work

LEAD = "slack:U0LEAD"


def queue(world: World, ticket: int, *rows: tuple[str, dict[str, Any]]) -> None:
    """Queue rows of the ticket's for Slack, in one transaction, in this order."""
    with Session(world.db.engine) as session, session.begin():
        work = Work(session, world.clock.now())
        for kind, payload in rows:
            send_words(work, "slack", kind, payload, ticket_id=ticket)
        work.finish()


def to(person: str, text: str) -> dict[str, Any]:
    return message_payload(Destination(person=person), (text,))


def words_to(gateway: RecordingGateway, person: str) -> list[str]:
    return [plain(call[1]) for kind, call in gateway.calls if kind == "post" and call[0].person == person]


def posted_to_places(gateway: RecordingGateway) -> list[str]:
    return [call[0].place for kind, call in gateway.calls if kind == "post" and call[0].place is not None]


def settled(world: World) -> bool:
    """Nothing is claimed: the dispatcher has recorded what became of every batch."""
    with Session(world.db.engine) as session:
        return not session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.claimed_by.is_not(None))
        ).all()


@dataclass
class PausedOnce(RecordingGateway):
    """Slack asks for a pause at the first post to one person."""

    person: str = ""
    paused: bool = False

    async def post(self, to: Destination, body: Card | Rich, *, key: str, look_since: Any) -> MessageRef:
        if to.person == self.person and not self.paused:
            self.paused = True
            self.calls.append(("refused", (to, body, key)))
            raise RateLimited(30)
        return await super().post(to, body, key=key, look_since=look_since)


@dataclass
class SlowChannel(RecordingGateway):
    """The team's channel takes a post every four seconds; people's direct messages, at once."""

    def pace(self, kind: CallKind, place: str | None) -> Pace:
        if place == "C0SUPPORT":
            return Pace(f"{kind}:{place}", per_second=0.25)
        return super().pace(kind, place)


def test_a_word_to_a_person_never_waits_on_the_tickets_word_to_a_channel_that_must_wait(world: World) -> None:
    number = world.open_one()
    slack = RecordingGateway("slack", closed_places={"C0SUPPORT": RateLimited(60)})
    channel = message_payload(Destination(place="C0SUPPORT"), ("Unassigned; on duty: the agents",))
    queue(world, number, (MESSAGE, channel), (MESSAGE, to(LEAD, "SLA breached")))

    # The channel asks the desk to wait a minute; the lead hears of the breach all the same.
    drain(
        dispatcher_for(world.db, world.desk, world.clock, {"slack": slack}),  # type: ignore[dict-item]
        until=lambda: bool(words_to(slack, LEAD)) and settled(world),
    )

    assert words_to(slack, LEAD) == ["SLA breached"]
    assert posted_to_places(slack) == []


def test_a_persons_words_keep_their_order_whatever_their_kinds_and_wait_behind_a_pause(world: World) -> None:
    number = world.open_one()
    slack = PausedOnce("slack", person=CUSTOMER)
    words = [(MESSAGE, to(CUSTOMER, "one")), (RELAY, to(CUSTOMER, "two")), (MESSAGE, to(CUSTOMER, "three"))]
    queue(world, number, *words)

    drain(
        dispatcher_for(world.db, world.desk, world.clock, {"slack": slack}),  # type: ignore[dict-item]
        until=lambda: slack.kinds().count("refused") == 1 and settled(world),
    )
    # Slack asked for a pause before the first: the others wait behind it, whatever their kind.
    assert words_to(slack, CUSTOMER) == []

    world.clock.advance(seconds=31)
    drain(dispatcher_for(world.db, world.desk, world.clock, {"slack": slack}))  # type: ignore[dict-item]

    assert words_to(slack, CUSTOMER) == ["one", "two", "three"]


def test_a_word_to_a_person_goes_out_at_once_behind_a_channels_backlog_of_several_batches(
    world: World,
) -> None:
    # In real time: a job put off to its slot comes back when the slot does.
    world.clock.at = datetime.now(UTC)
    numbers = [world.open_one(f"Export crashes, case {n}") for n in range(30)]
    queue(world, numbers[-1], (MESSAGE, to(LEAD, "SLA breached")))
    slack = SlowChannel("slack")

    # Thirty cards to post at the channel's pace, five to a batch; the lead's message was written last.
    drain(
        dispatcher_for(world.db, world.desk, SystemClock(), {"slack": slack}, batch_size=5),  # type: ignore[dict-item]
        until=lambda: bool(words_to(slack, LEAD)),
        timeout=30,
    )

    # The batches of cards were each put off to their slots in turn, with no pause between them: the lead
    # heard before the channel's second slot came.
    assert posted_to_places(slack) == ["C0SUPPORT"]
