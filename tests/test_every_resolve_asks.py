"""Every resolve asks its requester whether it solved it, whatever resolved it: here the quiet timers of a
ticket waiting on its customer, in seconds rather than days, over signed requests in Slack and Teams."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from teams_harness import CUSTOMER, TEAMS_CONFIG, TOM, Teams, teams_settings

from adapters.slack.devkit.cards import control, verbs
from adapters.slack.devkit.requests import SlackRequests
from adapters.slack.devkit.standin import SlackStandIn
from adapters.teams.devkit.authority import IdentityProvider
from adapters.teams.devkit.cards import card_of, find_action, words
from adapters.teams.devkit.connector import personal_chat_id
from adapters.teams.devkit.tls import LocalCA
from chatops.config.settings import Settings
from chatops.entrypoints.serving import BackgroundServer
from harness import (
    CONFIG_PATH,
    SIGNING_SECRET,
    Probe,
    Slack,
    card_text,
    served_desk,
    settings_for,
    wait_until,
)

# A quiet second, then another: the follow-up, then the ticket resolves itself and asks.
QUICK = {"follow_up_after": "1s", "auto_resolve_after": "1s", "sla": {"sweep_seconds": 0.2}}


def quick_rules(source: Path, folder: Path) -> Path:
    rules = yaml.safe_load(source.read_text()) | QUICK
    path = folder / "quick.yaml"
    path.write_text(yaml.safe_dump(rules))
    return path


@pytest.fixture
def slack_quick(database_url: str, standin: SlackStandIn, tmp_path: Path) -> Iterator[Slack]:
    settings = settings_for(
        database_url, standin.base_url, chatops_config=str(quick_rules(CONFIG_PATH, tmp_path))
    )
    desk = served_desk(settings).start()
    yield Slack(standin, SlackRequests(SIGNING_SECRET), lambda: desk.url)
    desk.stop()


def test_a_ticket_that_resolves_itself_in_slack_asks_and_yes_closes_it(
    slack_quick: Slack, probe: Probe
) -> None:
    slack = slack_quick
    number = slack.open_ticket("The export crashes")
    slack.click(number, "claim", user="U0AGENT1")
    slack.card(number, version=2)
    slack.click(number, "wait", user="U0AGENT1")

    asked = wait_until(
        lambda: [m for m in slack.standin.messages("DU0CUSTOMER") if "solved" in verbs(m)],
        bool,
        "the question after the ticket resolved itself",
        10,
    )
    assert "was resolved. Did this solve it?" in card_text(asked[-1])
    assert any("Still there?" in m["text"] for m in slack.standin.messages("DU0CUSTOMER"))
    action = control(asked[-1], "solved")
    slack.send(
        slack.requests.block_action(action, user_id="U0CUSTOMER", channel_id="DU0CUSTOMER", message=asked[-1])
    )
    wait_until(lambda: probe.ticket(number).status, lambda s: s == "closed", "the ticket closed on Yes")


@pytest.fixture
def teams_desk_settings(
    database_url: str, standin: Any, identity: IdentityProvider, trusting: LocalCA, tmp_path: Path
) -> Settings:
    return teams_settings(
        database_url, standin.base_url, identity, chatops_config=str(quick_rules(TEAMS_CONFIG, tmp_path))
    )


def test_a_ticket_that_resolves_itself_in_teams_asks_in_the_requesters_chat_and_yes_closes_it(
    teams: Teams, teams_served: BackgroundServer, probe: Probe
) -> None:
    card = teams.ticket_card("The VPN drops every hour")
    claimed = teams.click(TOM, card, "Assign to me")
    teams.click(TOM, {**card, "attachments": [{"content": claimed.body["value"]}]}, "Waiting on customer")

    chat = personal_chat_id(CUSTOMER.user_id)
    asked = wait_until(
        lambda: [m for m in teams.connector.messages(chat) if m.get("attachments")],
        lambda found: any("Did this solve it?" in words(card_of(m)) for m in found),
        "the question in the requester's chat",
        10,
    )
    question = next(m for m in asked if "Did this solve it?" in words(card_of(m)))
    yes = find_action(card_of(question), "Yes, close it")
    teams.send(teams.activities.card_action(CUSTOMER, chat, question["id"], yes["data"], yes["verb"]))
    wait_until(lambda: probe.ticket(1).status, lambda s: s == "closed", "the ticket closed on Yes")
