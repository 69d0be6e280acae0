"""A Teams requester and Jira: their bug goes to Jira from their personal chat, and when it ships they
are told in that chat, as Teams' Bot Connector stand-in records it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jira_fixtures import RULES, WEBHOOK_SECRET, jira_settings, with_jira
from teams_harness import ALICE, CUSTOMER, TEAMS_CONFIG, Teams, teams_settings

from adapters.teams.devkit.authority import IdentityProvider
from adapters.teams.devkit.cards import card_of, words
from adapters.teams.devkit.tls import LocalCA
from chatops.config.settings import Settings
from chatops.entrypoints.serving import BackgroundServer
from harness import Probe, at_least, wait_until
from integrations.jira.devkit.standin import JiraStandIn


@pytest.fixture
def teams_desk_settings(
    database_url: str,
    standin: Any,
    identity: IdentityProvider,
    trusting: LocalCA,
    jira: JiraStandIn,
    tmp_path: Path,
) -> Settings:
    # The Teams desk has no feedback category: only its bugs go to Jira.
    rules = with_jira(TEAMS_CONFIG, tmp_path, categories={"bug": RULES["categories"]["bug"]})
    return teams_settings(
        database_url, standin.base_url, identity, chatops_config=str(rules), **jira_settings(jira)
    )


def test_a_teams_customers_bug_goes_to_jira_and_they_hear_in_teams_when_it_ships(
    teams: Teams, teams_served: BackgroundServer, jira: JiraStandIn, probe: Probe
) -> None:
    jira.send_webhooks(teams_served.url + "/jira/webhook", secret=WEBHOOK_SECRET)
    teams.ticket_card("The export fails with error 500")

    [issue] = at_least(1, jira.issues, "an issue in Jira", 10)
    wait_until(
        lambda: [
            words(card_of(c))
            for c in teams.connector.messages("19:support@thread.tacv2")
            if c.get("attachments")
        ],
        lambda drawn: any(issue["key"] in text for text in drawn),
        "the issue's key on the Teams card",
        10,
    )
    jira.set_status(issue["key"], "Done")

    told = wait_until(
        lambda: teams.chat(CUSTOMER),
        lambda texts: any("has shipped" in text for text in texts),
        "the shipping news in the customer's Teams chat",
        10,
    )
    [shipped] = [text for text in told if "has shipped" in text]
    # Resolved by Jira, it asks as any resolve does, in the one message that tells the news.
    assert "Did this solve it?" in shipped and "Yes, close it" in shipped
    assert probe.ticket(1).status == "resolved"


def test_an_agent_links_a_ticket_from_teams_and_is_answered_in_their_chat(
    teams: Teams, teams_served: BackgroundServer, jira: JiraStandIn, probe: Probe
) -> None:
    key = jira.add_issue("SUP", "Login page is slow")
    teams.ticket_card("The login page is slow for our team")

    teams.say(ALICE, f"link 1 {key}")

    told = wait_until(
        lambda: teams.chat(ALICE),
        lambda texts: any(f"Ticket #1 is linked to {key}" in text for text in texts),
        "the answer in Alice's chat",
        10,
    )
    assert told
    assert probe.links(1)[("issue", "jira")][1] == key
    stored = wait_until(lambda: jira.issue(key), lambda i: bool(i["comments"]), "the requester's comment", 10)
    assert "Cara Diaz" in stored["comments"][0]["body"]


def test_a_teams_requesters_resolved_ticket_is_reopened_when_its_issue_moves_on(
    teams: Teams, teams_served: BackgroundServer, jira: JiraStandIn, probe: Probe
) -> None:
    jira.send_webhooks(teams_served.url + "/jira/webhook", secret=WEBHOOK_SECRET)
    key = jira.add_issue("SUP", "VPN drops")
    teams.ticket_card("The VPN drops every hour")
    teams.say(ALICE, f"link 1 {key}")
    wait_until(
        lambda: probe.links(1), lambda links: any(r and r[1] == key for r in links.values()), "the link"
    )
    # Once the card shows where the issue stands, it is the card as it stands: a click on it is current.
    card = wait_until(
        lambda: teams.cards()[0],
        lambda drawn: key in words(card_of(drawn)) and "To Do" in words(card_of(drawn)),
        "the card showing the issue and where it stands",
        10,
    )
    teams.click(ALICE, card, "Resolve")
    wait_until(lambda: probe.ticket(1).status, lambda s: s == "resolved", "the ticket resolved")

    jira.set_status(key, "In Progress")

    told = wait_until(
        lambda: teams.chat(CUSTOMER),
        lambda texts: any("is open again" in text for text in texts),
        "the requester told in their Teams chat",
        10,
    )
    assert any(f"its issue {key} moved to In Progress" in text for text in told)
    assert probe.ticket(1).status == "triaged"
    # The question the resolve asked is over: its answer would change nothing now.
    assert any("did this solve it?" in text for text in told)
