"""Talk under a card: internal by default, a `reply:` goes to the requester under the agent's name, once,
and answers the first-response clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError
from world import AGENT, CUSTOMER, World, rules

from chatops.conversation.commands import SendCanned, ThreadMessage
from chatops.conversation.repository import messages_of
from chatops.errors import InvalidInput, StaleCard
from chatops.rich import plain
from chatops.tickets.repository import add_link
from chatops.work import Work

CARD = "1700000000.000100"


def with_card(world: World) -> int:
    """A ticket whose card is posted in the support channel."""
    number = world.open_one()

    def link(session: Any) -> None:
        add_link(Work(session, world.clock.now()), number, "card", "slack", "C0SUPPORT", CARD)

    world.db.run_sync(link)
    return number


def say(world: World, text: str, ref: str, author: str = AGENT) -> Any:
    return world.do(ThreadMessage("slack", "C0SUPPORT", CARD, author, text, ref))


def to_customer(world: World, after: int = 0) -> list[str]:
    return [
        plain(row.text())
        for row in world.outbox(after=after)
        if row.kind in ("message", "relay") and row.payload["to"]["person"] == CUSTOMER
    ]


def test_a_plain_message_under_the_card_stays_internal(world: World) -> None:
    number = with_card(world)
    before = world.last_outbox_id()

    assert say(world, "The customer is on the old plan; reply: later", "1.1").done

    assert world.outbox(after=before) == []
    assert world.ticket(number).first_responded_at is None
    [kept] = world.db.run_sync(lambda session: [(m.kind, m.text) for m in messages_of(session, number)])
    assert kept == ("internal", "The customer is on the old plan; reply: later")


def test_a_reply_reaches_the_requester_once_under_the_agents_name_and_answers_the_clock(world: World) -> None:
    number = with_card(world)
    before = world.last_outbox_id()

    assert say(world, "Reply:  Please clear the cache & try <again>", "1.2").done
    assert say(world, "Reply:  Please clear the cache & try <again>", "1.2").done

    [relayed] = to_customer(world, before)
    assert relayed.startswith(f"U0AGENT1, of the support team, about your ticket #{number}")
    assert relayed.endswith(":\nPlease clear the cache & try <again>")
    assert world.ticket(number).first_responded_at == world.clock.now()
    assert world.thread_notes(number)[-1].startswith("@slack:U0AGENT1 replied to the customer: “Please clear")


def test_only_the_teams_agents_can_reply_and_an_empty_reply_is_refused(world: World) -> None:
    number = with_card(world)
    before = world.last_outbox_id()

    assert say(world, "reply: I am the customer's colleague", "1.3", author="slack:U0BILL1").done
    empty = say(world, "reply:   ", "1.4")

    assert to_customer(world, before) == []
    assert empty.refused(InvalidInput)
    assert world.ticket(number).first_responded_at is None


def test_a_thread_that_is_not_a_cards_is_left_alone(world: World) -> None:
    world.open_one()
    before = world.last_outbox_id()

    answer = world.do(ThreadMessage("slack", "C0SUPPORT", "1.0", AGENT, "reply: hello", "1.5"))

    assert answer.done and answer.value is None
    assert world.outbox(after=before) == []


CANNED = [
    {
        "name": "reset-link",
        "text": "Hi {requester}, I have sent a new reset link for ticket {ticket} ({title}).",
    },
    {"name": "signed", "text": "Regards, {agent}"},
]


def test_a_canned_reply_is_filled_in_and_reaches_the_requester_like_a_typed_one(
    world_with: Callable[..., World],
) -> None:
    desk = world_with(rules(canned_replies=CANNED))
    number = desk.open_one("Cannot log in")
    before = desk.last_outbox_id()

    assert desk.click(SendCanned, number, name="reset-link").done
    refused = desk.click(SendCanned, number, name="nope")

    [relayed] = to_customer(desk, before)
    assert relayed.endswith(
        f":\nHi U0CUSTOMER, I have sent a new reset link for ticket #{number} (Cannot log in)."
    )
    assert refused.refused(StaleCard)
    assert desk.ticket(number).first_responded_at is not None
    kept = desk.db.run_sync(lambda session: [(m.kind, m.author) for m in messages_of(session, number)])
    assert kept == [("public", AGENT)]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Hi {customer}", "{customer} is not one of {requester}, {ticket}, {title}, {agent}"),
        ("Hi {requester", "write a brace as {{ or }}"),
    ],
)
def test_a_canned_reply_with_a_field_the_desk_cannot_fill_is_refused(text: str, problem: str) -> None:
    with pytest.raises(ValidationError) as refused:
        rules(canned_replies=[{"name": "bad", "text": text}])
    assert problem in str(refused.value)


def test_a_reply_under_the_bots_own_message_not_yet_known_as_a_card_is_asked_for_again(world: World) -> None:
    world.open_one()
    before = world.last_outbox_id()

    answer = world.do(
        ThreadMessage("slack", "C0SUPPORT", "1.0", AGENT, "reply: hello", "1.6", under_own=True)
    )

    assert answer.retry and not answer.done
    assert world.outbox(after=before) == []
