"""The desk keeps within Teams' rate limits: the Bot Connector stand-in here throttles a bot that sends too
fast as Teams does (7 messages a second in one conversation, 8 in 2 s, 60 in 30 s; 50 calls a second in
the tenant), answering 429 with Retry-After."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from teams_harness import SUPPORT, Teams

from adapters.teams.devkit.activities import teams_user
from adapters.teams.devkit.authority import BOT_FRAMEWORK_SCOPE, IdentityProvider
from adapters.teams.devkit.cards import card_of
from adapters.teams.devkit.cards import words as card_words
from adapters.teams.devkit.connector import BotConnector
from adapters.teams.devkit.tls import LocalCA
from harness import Probe, wait_until

CUSTOMERS = [teams_user(f"Customer {n:02d}") for n in range(25)]


@pytest.fixture
def connector(ca: LocalCA, identity: IdentityProvider) -> Iterator[BotConnector]:
    """The Bot Connector behind the activities' serviceUrl, holding the bot to Teams' limits."""
    with BotConnector(ca, identity, enforce_limits=True) as served:
        yield served


def send_all(
    ca: LocalCA, token: str, posts: list[tuple[str, dict[str, Any]]], *, pause: float = 0.0
) -> list[tuple[int, Any, dict[str, str]]]:
    """POST each (url, body) in turn over one https session, as fast as they go; status, body, headers."""

    async def send() -> list[tuple[int, Any, dict[str, str]]]:
        answers = []
        headers = {"Authorization": f"Bearer {token}"}
        connection = aiohttp.TCPConnector(ssl=ca.client_context())
        async with aiohttp.ClientSession(connector=connection) as session:
            for url, body in posts:
                async with session.post(url, json=body, headers=headers) as response:
                    text = await response.text()
                    answers.append(
                        (response.status, json.loads(text) if text else None, dict(response.headers))
                    )
                await asyncio.sleep(pause)
        return answers

    return asyncio.run(send())


def bot_token(identity: IdentityProvider) -> str:
    """An app token for the Bot Connector, as the token endpoint would issue it to the bot."""
    return identity.issue(identity.app_id, BOT_FRAMEWORK_SCOPE).token


def message(text: str) -> dict[str, Any]:
    """A plain message activity."""
    return {"type": "message", "text": text}


def test_the_stand_in_throttles_a_conversation_after_seven_messages_in_a_second(
    connector: BotConnector, identity: IdentityProvider, ca: LocalCA
) -> None:
    token = bot_token(identity)
    url = connector.service_url + f"v3/conversations/{SUPPORT}/activities"

    answers = send_all(ca, token, [(url, message(f"m{n}")) for n in range(9)])

    assert [status for status, _, _ in answers] == [201] * 7 + [429] * 2
    _, body, headers = answers[7]
    assert body["error"]["code"] == "TooManyRequests"
    assert int(headers["Retry-After"]) >= 1
    # Refused messages are not shown, and the refusals are on record for a test to count.
    assert [m["text"] for m in connector.messages(SUPPORT)] == [f"m{n}" for n in range(7)]
    assert [c.status for c in connector.throttled()] == [429, 429]
    # Waiting as told is enough: the second's window has room again, and the 2 s window one more.
    time.sleep(int(headers["Retry-After"]))
    (later,) = send_all(ca, token, [(url, message("after the wait"))])
    assert later[0] == 201


def test_a_thread_counts_as_its_channel_and_other_conversations_go_on(
    connector: BotConnector, identity: IdentityProvider, ca: LocalCA
) -> None:
    token = bot_token(identity)
    channel = connector.service_url + f"v3/conversations/{SUPPORT}/activities"
    thread = connector.service_url + f"v3/conversations/{SUPPORT};messageid=1/activities"
    elsewhere = connector.service_url + "v3/conversations/19:general@thread.tacv2/activities"

    answers = send_all(
        ca,
        token,
        [(channel, message("card"))] * 4 + [(thread, message("note"))] * 4 + [(elsewhere, message("hi"))],
    )

    assert [status for status, _, _ in answers] == [201] * 7 + [429] + [201]
    assert [c.path.endswith(";messageid=1/activities") for c in connector.throttled()] == [True]


def test_a_burst_of_tickets_reaches_teams_once_each_without_being_throttled(
    teams: Teams, probe: Probe
) -> None:
    teams.add_bot_to_team()
    texts = {customer.name: f"{customer.name}: the export fails with error 500" for customer in CUSTOMERS}

    for customer in CUSTOMERS:
        assert teams.say(customer, texts[customer.name]).status in (200, 202)

    # 25 cards in one channel take a while: after a burst of 7, Teams allows 8 in 2 s and 60 in 30 s.
    teams.cards(len(CUSTOMERS), timeout=60)
    for customer in CUSTOMERS:
        teams.chat(customer, timeout=30)
    # Only once nothing is left to send can a card posted twice be told from one still on its way.
    wait_until(probe.pending_outbox, lambda pending: pending == 0, "an empty outbox", timeout=30)
    assert len(probe.tickets()) == len(CUSTOMERS)
    cards = [card_words(card_of(card)) for card in teams.connector.messages(SUPPORT)]
    assert sorted(name for words in cards for name, text in texts.items() if text in words) == sorted(texts)
    for customer in CUSTOMERS:
        (confirmation,) = teams.chat(customer)
        assert "opened" in confirmation
    # The desk paces itself to Teams' limits: Teams never had to refuse it.
    assert teams.connector.throttled() == [], refusals(teams.connector)


def refusals(connector: BotConnector) -> str:
    """When and where the stand-in refused calls, counted from the first call, for a failure message."""
    calls = connector.calls()
    listed = ", ".join(
        f"{c.operation} to {c.path.split('/')[-2]} at +{c.at - calls[0].at:.2f}s"
        for c in connector.throttled()
    )
    return f"Teams refused {len(connector.throttled())} call(s): {listed}"
