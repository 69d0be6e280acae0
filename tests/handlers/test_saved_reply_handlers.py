"""Canned replies saved from chat: held to the rules' checks, one name each across the rules and chat, on
the menu of every worked ticket's card after the rules' ones, and sent like the rules' ones."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from world import AGENT, CHANNEL, CUSTOMER, World, rules

from chatops.conversation.commands import ListReplies, RemoveReply, SaveReply, SendCanned
from chatops.conversation.controls import CANNED
from chatops.conversation.saved import Listed
from chatops.errors import Forbidden, InvalidInput, NotFound, StaleCard
from chatops.messaging.cards import Menu
from chatops.rich import plain
from chatops.tickets.commands import Claim, Resolve

LEAD = "slack:U0LEAD"
RULES = [{"name": "reset-link", "text": "Hi {requester}, I have sent a new reset link for {ticket}."}]
WAIT = "Hi {requester}, we are on {ticket} ({title}) & <will> write soon. {agent}"


@pytest.fixture
def desk(world_with: Callable[..., World]) -> World:
    return world_with(rules(canned_replies=RULES))


def canned_menu(desk: World, number: int) -> list[str]:
    """The names the ticket's card offers under Canned reply…, none if it offers no such menu."""
    menus = [c for c in desk.card(number).actions if isinstance(c, Menu) and c.ref.verb == CANNED]
    return [choice.value for menu in menus for choice in menu.options]


def to_customer(desk: World, after: int) -> list[str]:
    return [
        plain(row.text())
        for row in desk.outbox(after=after)
        if row.kind in ("message", "relay") and row.payload["to"]["person"] == CUSTOMER
    ]


def test_a_saved_reply_joins_the_cards_menu_after_the_rules_and_reaches_the_requester(desk: World) -> None:
    number = desk.open_one("Cannot log in")

    assert desk.do(SaveReply("thanks-wait", WAIT, AGENT)).done
    claimed = desk.click(Claim, number)
    before = desk.last_outbox_id()
    sent = desk.click(SendCanned, number, name="thanks-wait")

    assert canned_menu(desk, claimed.value.id) == ["reset-link", "thanks-wait"]
    assert sent.done
    [relayed] = to_customer(desk, before)
    assert relayed.endswith(
        f":\nHi U0CUSTOMER, we are on #{number} (Cannot log in) & <will> write soon. U0AGENT1"
    )
    assert desk.ticket(number).first_responded_at == desk.clock.now()


def test_the_list_shows_the_rules_replies_then_the_saved_ones_with_who_saved_them(desk: World) -> None:
    desk.do(SaveReply("thanks-wait", WAIT, AGENT))
    desk.clock.advance(minutes=1)
    desk.do(SaveReply("closing", "Closing {ticket} now.", LEAD))

    assert desk.ask(ListReplies(AGENT)).value == [
        Listed("reset-link", RULES[0]["text"]),
        Listed("thanks-wait", WAIT, AGENT),
        Listed("closing", "Closing {ticket} now.", LEAD),
    ]


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("thanks-wait", "Hi {customer}", "{customer} is not one of {requester}, {ticket}, {title}, {agent}"),
        ("thanks-wait", "Hi {requester", "write a brace as {{ or }}"),
        ("Thanks wait!", "Hi", "cannot name a canned reply: use up to 40 lowercase letters"),
        ("thanks-wait", "x" * 3001, "takes at most 3,000 characters, and this one has 3,001"),
    ],
)
def test_a_reply_the_rules_would_refuse_is_not_saved(desk: World, name: str, text: str, problem: str) -> None:
    refused = desk.do(SaveReply(name, text, AGENT))

    assert refused.refused(InvalidInput)
    assert desk.ask(ListReplies(AGENT)).value == [Listed("reset-link", RULES[0]["text"])]


def test_a_name_already_used_in_the_rules_or_saved_from_chat_is_refused(desk: World) -> None:
    desk.do(SaveReply("thanks-wait", WAIT, AGENT))

    in_rules = desk.do(SaveReply("reset-link", "Something else", LEAD))
    saved = desk.do(SaveReply("thanks-wait", "Something else", LEAD, command="/ticket"))
    again = desk.do(SaveReply("thanks-wait", "Something else", AGENT))

    assert in_rules.refused(InvalidInput) and saved.refused(InvalidInput) and again.refused(InvalidInput)
    assert [r.text for r in desk.ask(ListReplies(AGENT)).value if r.name == "thanks-wait"] == [WAIT]


def test_customers_can_neither_save_remove_nor_list_replies(desk: World) -> None:
    desk.do(SaveReply("thanks-wait", WAIT, AGENT))

    answers = [
        desk.do(SaveReply("free-stuff", "Everything is free", CUSTOMER)),
        desk.do(RemoveReply("thanks-wait", CUSTOMER)),
        desk.ask(ListReplies(CUSTOMER)),
    ]

    for refused in answers:
        assert refused.refused(Forbidden)
    assert [r.name for r in desk.ask(ListReplies(AGENT)).value] == ["reset-link", "thanks-wait"]


def test_a_saved_reply_is_removed_but_one_of_the_rules_is_not(desk: World) -> None:
    desk.do(SaveReply("thanks-wait", WAIT, AGENT))

    removed = desk.do(RemoveReply("thanks-wait", LEAD))
    rules_one = desk.do(RemoveReply("reset-link", LEAD))
    unknown = desk.do(RemoveReply("thanks-wait", LEAD))

    assert removed.done
    assert rules_one.refused(InvalidInput) and unknown.refused(NotFound)
    assert [r.name for r in desk.ask(ListReplies(AGENT)).value] == ["reset-link"]


def test_a_reply_removed_since_the_card_was_drawn_sends_nothing_and_redraws_the_card(desk: World) -> None:
    number = desk.open_one("Cannot log in")
    desk.do(SaveReply("thanks-wait", WAIT, AGENT))
    desk.do(RemoveReply("thanks-wait", LEAD))
    before = desk.last_outbox_id()

    refused = desk.click(SendCanned, number, name="thanks-wait")

    assert refused.refused(StaleCard)
    assert to_customer(desk, before) == []
    assert [row.kind for row in desk.outbox(after=before)] == ["update_card", "tell_privately"]


def test_only_a_worked_tickets_view_reads_the_saved_names(desk: World) -> None:
    worked, resolved = desk.open_one("Cannot log in"), desk.open_one("Export fails")
    desk.do(SaveReply("thanks-wait", WAIT, AGENT))
    desk.do(Resolve(resolved, 1, AGENT, CHANNEL))

    loaded = (desk.loaded(worked, "conversation"), desk.loaded(resolved, "conversation"))

    assert loaded == (("thanks-wait",), None)
    assert canned_menu(desk, resolved) == []
