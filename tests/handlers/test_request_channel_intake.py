"""Request channels, handler by handler: a new message there opens one ticket for the channel's team and is
answered in its thread, what is no request opens nothing, the thread's replies join the ticket, a reply
from the card reaches the request thread, and a lead turns a channel on or off from chat."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from world import AGENT, CUSTOMER, World, rules

from chatops.closing.commands import SweepQuiet
from chatops.config.conversation import NoiseRules
from chatops.conversation.channel_requests import Skipped
from chatops.conversation.commands import (
    ChannelMessage,
    RequestChannelOf,
    SwitchRequestChannel,
    ThreadMessage,
)
from chatops.conversation.noise import not_a_request
from chatops.conversation.repository import messages_of
from chatops.errors import DeskError, Forbidden, IllegalTransition, InvalidInput
from chatops.rich import plain
from chatops.store.tables import Ticket
from chatops.tickets.commands import Claim, WaitOnCustomer
from chatops.tickets.intake import Opened
from chatops.tickets.repository import add_link
from chatops.work import Work

HELP = "C0HELP"
LEAD = "slack:U0LEAD"
CARD = "1700000000.000100"


@pytest.fixture
def desk(world_with: Callable[..., World]) -> World:
    return world_with(rules(request_channels=[{"channel": HELP, "team": "billing"}, "C0ASK"]))


def write(
    desk: World, text: str, ref: str, *, thread: str | None = None, author: str = CUSTOMER, place: str = HELP
) -> Any:
    answer = desk.do(ChannelMessage("slack", place, author, text, ref, thread=thread, command="/ticket"))
    assert answer.done, answer.refusal
    return answer.value


def in_threads(desk: World, after: int = 0) -> list[tuple[str, str, str]]:
    """The bot's messages posted into a thread of a channel: (channel, thread, text)."""
    return [
        (row.payload["to"]["place"], row.payload["to"]["thread"]["id"], plain(row.text()))
        for row in desk.outbox(after=after)
        if row.kind in ("message", "relay") and row.payload["to"].get("thread")
    ]


def to_requester_directly(desk: World, after: int = 0) -> list[str]:
    return [
        plain(row.text())
        for row in desk.outbox(after=after)
        if row.kind in ("message", "relay") and row.payload["to"]["person"] == CUSTOMER
    ]


def kept(desk: World, number: int) -> list[tuple[str, str, str]]:
    return desk.db.run_sync(lambda s: [(m.kind, m.author, m.text) for m in messages_of(s, number)])


def test_a_new_message_opens_a_ticket_for_the_channels_team_answered_in_its_thread(desk: World) -> None:
    opened = write(desk, "The export crashes on every invoice", "1800000000.000001")

    assert isinstance(opened, Opened) and opened.new
    ticket = desk.ticket(opened.ticket.id)
    # The channel's team wins over the category's routing; the card says where it came from.
    assert (ticket.team, ticket.via, ticket.requester) == ("billing", "channel", CUSTOMER)
    assert "team billing: chosen for where the request was made" in ticket.reasons
    [(place, thread, text)] = in_threads(desk)
    assert (place, thread) == (HELP, "1800000000.000001")
    assert text.startswith(f"Ticket #{ticket.id} opened: “")
    assert "routed to Billing." in text and "It is triaged; replies in this thread go to the team." in text
    assert to_requester_directly(desk) == []
    assert [row.kind for row in desk.outbox() if row.kind == "link_origin"] == ["link_origin"]


def test_a_channel_given_bare_files_for_the_default_team(desk: World) -> None:
    opened = write(desk, "Where do I find the API keys?", "1800000000.000002", place="C0ASK")

    assert desk.ticket(opened.ticket.id).team == "support"


def test_the_same_message_delivered_again_opens_one_ticket_and_answers_once(desk: World) -> None:
    first = write(desk, "The VPN drops every hour", "1800000000.000003")
    before = desk.last_outbox_id()

    again = write(desk, "The VPN drops every hour", "1800000000.000003")

    assert not again.new and again.ticket.id == first.ticket.id
    assert desk.outbox(after=before) == []
    assert desk.db.run_sync(lambda s: s.scalar(select(func.count()).select_from(Ticket))) == 1


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("thanks", "thanks"),
        ("Thank you!!", "thanks"),
        ("ok, thanks :pray:", "thanks"),
        ("Got it.", "thanks"),
        (":tada: :+1::skin-tone-3:", "emoji only"),
        ("🙏🏽 👍", "emoji only"),
        ("1️⃣", "emoji only"),
        ("   ", "no words"),
    ],
)
def test_what_is_no_request_opens_nothing_and_says_why(desk: World, text: str, reason: str) -> None:
    skipped = write(desk, text, "1800000000.000004")

    assert skipped == Skipped(reason)
    assert desk.outbox() == []


@pytest.mark.parametrize(
    "text",
    ["thanks, but the export still fails", "ok great cheers thanks", "the login page is down", "#1 priority"],
)
def test_a_request_that_starts_like_a_thanks_is_still_a_request(text: str) -> None:
    assert not_a_request(text, NoiseRules()) is None


def test_the_noise_rules_come_from_the_config(world_with: Callable[..., World]) -> None:
    noise = {"max_words_for_thanks": 2, "phrases": ["danke"]}
    desk = world_with(rules(request_channels=[HELP], noise=noise))

    assert isinstance(write(desk, "Danke!", "1800000000.000005"), Skipped)
    assert isinstance(write(desk, "thanks", "1800000000.000006"), Opened)


def test_a_channel_that_is_none_opens_nothing(desk: World) -> None:
    assert write(desk, "The export crashes", "1800000000.000007", place="C0GENERAL") is None
    assert desk.outbox() == []


def test_the_requesters_reply_in_the_thread_reaches_the_card_and_takes_the_ticket_off_hold(
    desk: World,
) -> None:
    root = "1800000000.000010"
    number = write(desk, "The export crashes on every invoice", root).ticket.id
    bill = "slack:U0BILL1"
    assert desk.click(Claim, number, actor=bill).done
    assert desk.click(WaitOnCustomer, number, actor=bill).done

    write(desk, "Here is the file: <export.csv> & more", "1800000000.000011", thread=root)
    write(desk, "Here is the file: <export.csv> & more", "1800000000.000011", thread=root)

    notes = desk.thread_notes(number)
    assert "From the customer, U0CUSTOMER:\nHere is the file: <export.csv> & more" in notes
    assert "U0CUSTOMER wrote back, so the ticket is off hold" in notes[-1]
    assert desk.ticket(number).status == "in_progress"
    assert kept(desk, number) == [("customer", CUSTOMER, "Here is the file: <export.csv> & more")]


def test_an_agents_reply_in_the_thread_is_public_answers_the_clock_and_is_not_relayed_again(
    desk: World,
) -> None:
    root = "1800000000.000020"
    number = write(desk, "The export crashes on every invoice", root).ticket.id
    before = desk.last_outbox_id()

    write(desk, "Which browser do you use?", "1800000000.000021", thread=root, author="slack:U0BILL1")

    assert desk.ticket(number).first_responded_at is not None
    assert kept(desk, number) == [("public", "slack:U0BILL1", "Which browser do you use?")]
    assert in_threads(desk, before) == [] and to_requester_directly(desk, before) == []
    assert "replied to the customer in the request thread: “Which browser do you use?”" in "\n".join(
        desk.thread_notes(number)
    )


def test_a_reply_under_the_card_reaches_the_request_thread_not_a_dm(desk: World) -> None:
    root = "1800000000.000030"
    number = write(desk, "Where do I find the API keys?", root, place="C0ASK").ticket.id

    def link(session: Any) -> None:
        add_link(Work(session, desk.clock.now()), number, "card", "slack", "C0SUPPORT", CARD)

    desk.db.run_sync(link)
    before = desk.last_outbox_id()

    answer = desk.do(
        ThreadMessage("slack", "C0SUPPORT", CARD, AGENT, "reply: Under Settings > API", "1800000000.000031")
    )

    assert answer.done
    [(place, thread, text)] = in_threads(desk, before)
    assert (place, thread) == ("C0ASK", root)
    assert text.endswith(":\nUnder Settings > API") and "of the support team" in text
    assert to_requester_directly(desk, before) == []


def test_a_lead_turns_a_channel_on_at_once_and_off_again(desk: World) -> None:
    assert desk.ask(RequestChannelOf("slack", "C0NEW")).value is None

    on = desk.do(SwitchRequestChannel("slack", "C0NEW", LEAD, on=True))

    assert on.done and on.value.team == "support"
    # The lead leads both teams: the answer says which one the channel files for.
    assert "Customer Support (the first of the teams you lead: Customer Support, Billing)" in plain(
        on.value.said
    )
    assert desk.ask(RequestChannelOf("slack", "C0NEW")).value == "support"
    assert isinstance(write(desk, "The printer is on fire", "1800000000.000040", place="C0NEW"), Opened)
    again = desk.do(SwitchRequestChannel("slack", "C0NEW", LEAD, on=True))
    assert again.refused(IllegalTransition)

    off = desk.do(SwitchRequestChannel("slack", "C0NEW", LEAD, on=False))

    assert off.done and desk.ask(RequestChannelOf("slack", "C0NEW")).value is None
    assert write(desk, "Another one", "1800000000.000041", place="C0NEW") is None


@pytest.mark.parametrize(
    ("actor", "place", "refusal"),
    [
        (AGENT, "C0NEW", Forbidden),
        (CUSTOMER, "C0NEW", Forbidden),
        (LEAD, "D0LEAD", InvalidInput),
        (LEAD, "C0SUPPORT", InvalidInput),
    ],
)
def test_turning_a_channel_on_is_refused_to_others_and_outside_a_channel(
    desk: World, actor: str, place: str, refusal: type[DeskError]
) -> None:
    answer = desk.do(SwitchRequestChannel("slack", place, actor, on=True))

    assert answer.refused(refusal)
    assert desk.ask(RequestChannelOf("slack", place)).value is None


def test_a_channel_of_the_rules_cannot_be_turned_off_from_chat(desk: World) -> None:
    answer = desk.do(SwitchRequestChannel("slack", HELP, LEAD, on=False))

    assert answer.refused(IllegalTransition)
    assert desk.ask(RequestChannelOf("slack", HELP)).value == "billing"


def test_a_quiet_requester_is_pointed_back_to_the_request_thread(desk: World) -> None:
    number = write(desk, "The export crashes every time", "1800000000.000001").ticket.id
    assert desk.click(Claim, number, actor="slack:U0BILL1").done
    assert desk.click(WaitOnCustomer, number, actor="slack:U0BILL1").done
    desk.clock.advance(days=2, minutes=1)
    before = desk.last_outbox_id()

    desk.do(SweepQuiet())

    [nudge] = to_requester_directly(desk, before)
    assert "Reply in your request's thread and it goes straight to the team" in nudge
