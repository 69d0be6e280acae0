"""Teams at its edges: every kind of bad token refused with no side effect, the Bot Connector's 429s and
5xx, a channel the bot has not seen yet, a restart between a ticket and its news, and one desk in both."""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.request
from typing import Any

import pytest
from teams_harness import CUSTOMER, STRANGER, SUPPORT, TOM, Teams, teams_settings

from adapters.slack.devkit.requests import SlackRequests
from adapters.slack.devkit.standin import SlackStandIn
from adapters.teams.connection import TeamsConnection
from adapters.teams.devkit.authority import APP_ID, APP_SECRET, TENANT_ID, IdentityProvider
from adapters.teams.devkit.cards import card_of
from adapters.teams.devkit.cards import words as card_words
from adapters.teams.devkit.connector import BotConnector, personal_chat_id
from adapters.teams.devkit.tls import LocalCA
from chatops.config.settings import Settings
from chatops.errors import ConfigError
from harness import SIGNING_SECRET, Probe, Slack, card_text, served_desk, wait_until

FOREIGN_TENANT_ISSUER = "https://sts.windows.net/00000000-0000-4000-8000-00000000beef/"


@pytest.mark.parametrize(
    "bad",
    [
        {"signer": "none"},
        {"expired": True},
        {"audience": "00000000-0000-4000-8000-0000000000ff"},
        {"issuer": FOREIGN_TENANT_ISSUER},
        {"signer": "foreign"},
        {"kid": None},
        {"claims": {"serviceurl": "https://smba.example.test/amer/"}},
    ],
    ids=["unsigned", "expired", "wrong-audience", "wrong-issuer", "foreign-key", "no-key-id", "service-url"],
)
def test_each_bad_token_gets_401_and_changes_nothing(teams: Teams, probe: Probe, bad: dict[str, Any]) -> None:
    reply = teams.send(teams.activities.personal_message(CUSTOMER, "The export fails"), **bad)

    assert reply.status == 401
    assert probe.tickets() == [] and probe.pending_outbox() == 0
    assert teams.connector.calls() == []


def test_a_request_without_a_token_or_with_a_garbled_body_is_refused(teams: Teams, probe: Probe) -> None:
    activity = teams.activities.personal_message(CUSTOMER, "The export fails")
    headers = {"Content-Type": "application/json"}

    assert teams.post(json.dumps(activity).encode(), headers).status == 401
    token = {"Authorization": "Bearer " + teams.identity.mint(activity["serviceUrl"]), **headers}
    assert teams.post(b"{not json", token).status == 400
    assert teams.post(b"[1, 2]", token).status == 400
    assert probe.tickets() == []


def test_the_connector_s_429s_and_5xx_delay_a_card_but_never_lose_or_double_it(
    teams: Teams, probe: Probe
) -> None:
    teams.add_bot_to_team()
    teams.connector.inject("send_to_conversation", "ratelimit", retry_after=1)
    teams.connector.inject("send_to_conversation", "server_error", times=2)

    teams.say(CUSTOMER, "The export fails with error 500")

    (card,) = teams.cards(timeout=15)
    assert "The export fails" in card_words(card)
    # Every message still arrives once: the card, and the confirmation in the customer's chat.
    (confirmation,) = teams.chat(CUSTOMER, timeout=15)
    assert "opened" in confirmation
    faults = [c.fault for c in teams.connector.calls("send_to_conversation") if c.fault]
    assert faults == ["ratelimit", "server_error", "server_error"]
    wait_until(probe.pending_outbox, lambda pending: pending == 0, "the outbox carried out")
    assert len(teams.cards()) == 1


def test_a_card_for_a_channel_the_bot_has_not_seen_waits_and_health_says_so(
    teams: Teams, probe: Probe
) -> None:
    teams.say(CUSTOMER, "The export fails with error 500")
    teams.chat(CUSTOMER)

    health = json.loads(_get(teams.url() + "/healthz"))
    assert health == {"ok": True, "teams_waiting_for": [SUPPORT]}
    assert teams.connector.messages(SUPPORT) == []

    teams.add_bot_to_team()

    assert len(teams.cards(timeout=15)) == 1
    assert json.loads(_get(teams.url() + "/healthz")) == {"ok": True}


def test_the_requester_hears_the_news_in_teams_after_a_restart(
    teams_desk_settings: Settings, identity: IdentityProvider, connector: BotConnector, probe: Probe
) -> None:
    first = served_desk(teams_desk_settings).start()
    teams = Teams(identity, connector, lambda: first.url)
    teams.add_bot_to_team()
    teams.say(CUSTOMER, "The export fails with error 500")
    (card,) = teams.cards()
    teams.chat(CUSTOMER)
    first.stop()

    # A new process knows the customer's chat only from the database.
    second = served_desk(teams_desk_settings).start()
    try:
        teams = Teams(identity, connector, lambda: second.url)
        assert teams.click(TOM, card, "Resolve").status == 200
        news = teams.chat(CUSTOMER, 2)[1]
        assert "resolved" in news
    finally:
        second.stop()
    (ticket,) = probe.tickets()
    assert ticket.status == "resolved"


def test_a_ticket_opened_in_slack_is_worked_in_teams_and_back_with_both_cards_current(
    teams: Teams, standin: SlackStandIn, probe: Probe
) -> None:
    slack = Slack(standin, SlackRequests(SIGNING_SECRET), teams.url)
    teams.add_bot_to_team()
    number = slack.open_ticket("The export fails with error 500")
    (teams_card,) = teams.cards()
    slack.card(number)
    # Teams cannot mention a Slack customer: it calls them what Slack's request named them.
    assert "Requester" in card_words(card_of(teams_card))
    assert "u0customer" in card_words(card_of(teams_card))

    # Worked from Teams: the Slack card follows.
    assert teams.click(TOM, teams_card, "Assign to me").status == 200
    standin.wait_for("chat.update")
    # Tom has no Slack identity: his name stands where a mention would.
    assert "Tom Ito" in card_text(slack.card(number, version=2))

    # Worked from Slack by the same person Teams knows as Alice: the Teams card follows.
    assert slack.prompt(number, "escalate", "Needs the database team", user="U0AGENT1").status == 200
    teams.connector.wait_for("update_activity", 2)
    (teams_card,) = teams.cards()
    assert "T2" in card_words(teams_card)
    (ticket,) = probe.tickets()
    assert (ticket.id, ticket.tier, ticket.assignee) == (number, 2, "tom")
    assert [e for e in probe.events(number) if e[1] == "escalated"][-1][0] == "alice"


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return answer.read().decode()


def test_the_emulator_mode_takes_activities_without_tokens(
    database_url: str,
    standin: SlackStandIn,
    identity: IdentityProvider,
    connector: BotConnector,
    probe: Probe,
) -> None:
    settings = teams_settings(
        database_url, standin.base_url, identity, microsoft_app_id="", chatops_teams_insecure=True
    )
    desk = served_desk(settings).start()
    try:
        teams = Teams(identity, connector, lambda: desk.url)
        activity = teams.activities.personal_message(CUSTOMER, "The export fails")

        reply = teams.post(json.dumps(activity).encode(), {"Content-Type": "application/json"})

        assert reply.status in (200, 202)
        assert len(probe.tickets()) == 1
    finally:
        desk.stop()


def test_a_call_to_teams_that_times_out_is_tried_again_and_the_card_arrives_once(
    teams: Teams, probe: Probe
) -> None:
    teams.add_bot_to_team()
    teams.connector.inject("send_to_conversation", "timeout", delay=6.0)

    teams.say(CUSTOMER, "The export fails with error 500")

    (card,) = teams.cards(timeout=15)
    assert "The export fails" in card_words(card)
    wait_until(probe.pending_outbox, lambda pending: pending == 0, "the outbox carried out", timeout=15)
    assert len(teams.cards()) == 1 and len(teams.chat(CUSTOMER)) == 1


def test_an_agent_lists_the_queue_in_teams_and_a_stranger_may_not(teams: Teams, probe: Probe) -> None:
    teams.say(CUSTOMER, "The export fails with error 500")
    teams.chat(CUSTOMER)

    teams.say(TOM, "list open")
    teams.say(STRANGER, "list open")

    (queue,) = teams.chat(TOM)
    assert "Open queue" in queue and "The export fails with error 500" in queue
    (refused,) = teams.chat(STRANGER)
    assert "agents" in refused.lower()


def test_the_bot_keeps_how_to_reach_someone_from_the_moment_they_install_it(
    teams: Teams, probe: Probe
) -> None:
    assert teams.send(teams.activities.installed_personal(TOM)).status in (200, 202)

    # Told nothing yet, but reachable: the chat Teams described is the one the bot writes to later.
    assert probe.addresses("teams") >= {"chat:tom", "member:tom", f"place:{personal_chat_id(TOM.user_id)}"}


@pytest.mark.parametrize(
    ("wrong", "setting"),
    [
        ({"password": "not-the-secret"}, "MICROSOFT_APP_PASSWORD"),
        ({"tenant_id": "00000000-0000-4000-8000-00000000beef"}, "MICROSOFT_APP_TENANT_ID"),
    ],
)
def test_credentials_the_authority_refuses_are_named_before_serving(
    identity: IdentityProvider, trusting: LocalCA, wrong: dict[str, str], setting: str
) -> None:
    values = {"password": APP_SECRET, "tenant_id": TENANT_ID} | wrong
    authority = f"{identity.base_url}/dstsv2/{values['tenant_id']}"
    connection = TeamsConnection(app_id=APP_ID, authority=authority, timeout=2.0, **values)

    with pytest.raises(ConfigError, match=setting):
        asyncio.run(connection.check_credentials())


def test_an_authority_that_does_not_answer_is_reported_and_serving_goes_on(trusting: LocalCA) -> None:
    connection = TeamsConnection(
        app_id=APP_ID,
        password=APP_SECRET,
        tenant_id=TENANT_ID,
        authority=f"https://localhost:{_free_port()}/dstsv2/{TENANT_ID}",
        timeout=2.0,
    )

    assert asyncio.run(connection.check_credentials())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
