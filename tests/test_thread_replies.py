"""Replies under a card, over signed requests: a `reply:` reaches the requester on their platform under the
agent's name; anything else said there stays among agents, whatever the fakes were asked to send."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from teams_harness import ALICE, CUSTOMER, SUPPORT, Teams

from adapters.slack.devkit.requests import SlackRequests
from adapters.teams.devkit.connector import personal_chat_id
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


def test_a_reply_reaches_the_slack_requester_and_a_note_never_does(slack: Slack, probe: Probe) -> None:
    number = slack.open_ticket("The export crashes every time")
    card = slack.card(number)

    note = slack.write_under(card, "VIP account, handle with care", user="U0AGENT1", ts="1800000000.000001")
    reply = slack.write_under(
        card, "reply: Please clear the cache &amp; retry", user="U0AGENT1", ts="1800000000.000002"
    )
    assert (note.status, reply.status) == (200, 200)

    [relayed] = [t for t in slack.dms("U0CUSTOMER", count=1, timeout=10) if "of the support team" in t]
    assert relayed.endswith("Please clear the cache &amp; retry")
    wait_until(lambda: card_text(slack.card(number)), lambda shown: "answered" in shown, "the card answered")
    sent = json.dumps([call.params for call in slack.standin.calls()])
    assert "handle with care" not in sent
    assert probe.ticket(number).first_responded_at is not None
    # Each message is on record with where it was written, and the relayed one with where its copy landed.
    [(kind, _, written, copies)] = wait_until(
        lambda: [m for m in probe.conversation(number) if m[0] == "public"],
        lambda found: bool(found and found[0][3]),
        "the relayed copy on record",
    )
    [dm] = [m for m in slack.standin.messages("DU0CUSTOMER") if "of the support team" in m["text"]]
    assert written == "slack:C0SUPPORT:1800000000.000002" and copies == [("slack", "DU0CUSTOMER", dm["ts"])]
    assert [(m[0], m[3]) for m in probe.conversation(number) if m[0] == "internal"] == [("internal", [])]


def test_someone_outside_the_team_cannot_reply_through_the_thread(slack: Slack) -> None:
    number = slack.open_ticket("The export crashes every time")
    card = slack.card(number)

    slack.write_under(card, "reply: buy our competitor instead", user="U0BILL1", ts="1800000000.000003")
    slack.write_under(card, "reply: We are on it", user="U0AGENT1", ts="1800000000.000004")

    dms = slack.dms("U0CUSTOMER", count=1, timeout=10)
    wait_until(
        lambda: slack.dms("U0CUSTOMER"), lambda found: any("We are on it" in t for t in found), "the reply"
    )
    assert not any("competitor" in text for text in slack.dms("U0CUSTOMER")) and dms


def test_a_reply_from_slack_reaches_a_teams_requester_in_their_chat(
    teams: Teams, teams_served: BackgroundServer, standin: Any
) -> None:
    teams.ticket_card("The export fails with error 500")
    slack = Slack(standin, SlackRequests(SIGNING_SECRET), lambda: teams_served.url)
    card = slack.card(1)

    slack.write_under(
        card, "reply: Fixed on our side, please try again", user="U0AGENT1", ts="1800000000.000005"
    )

    told = wait_until(
        lambda: teams.chat(CUSTOMER),
        lambda texts: any("Fixed on our side, please try again" in t for t in texts),
        "the reply in the customer's Teams chat",
        10,
    )
    assert any("Alice Ng, of the support team" in t for t in told)


def test_a_reply_under_the_teams_card_reaches_the_requester_and_a_note_does_not(
    teams: Teams, teams_served: BackgroundServer
) -> None:
    card = teams.ticket_card("The export fails with error 500")

    note = teams.activities.thread_reply(
        ALICE, SUPPORT, card["id"], "Known bug, do not promise a date", mention_bot=False
    )
    reply = teams.activities.thread_reply(
        ALICE, SUPPORT, card["id"], "reply: We found it, a fix is coming", mention_bot=False
    )
    assert teams.send(note).status in (200, 202) and teams.send(reply).status in (200, 202)

    told = wait_until(
        lambda: teams.chat(CUSTOMER),
        lambda texts: any("We found it, a fix is coming" in t for t in texts),
        "the reply in the customer's Teams chat",
        10,
    )
    assert not any("promise a date" in t for t in told)
    assert not any(
        "promise a date" in json.dumps(m)
        for m in teams.connector.messages(personal_chat_id(CUSTOMER.user_id))
    )


def test_an_agent_sends_a_canned_reply_from_the_card(database_url: str, standin: Any, tmp_path: Path) -> None:
    raw = yaml.safe_load(CONFIG_PATH.read_text())
    raw["canned_replies"] = [
        {"name": "cache", "text": "Hi {requester}, please clear the cache for {ticket}. {agent}"}
    ]
    rules = tmp_path / "canned.yaml"
    rules.write_text(yaml.safe_dump(raw))
    desk = served_desk(settings_for(database_url, standin.base_url, chatops_config=str(rules))).start()
    try:
        slack = Slack(standin, SlackRequests(SIGNING_SECRET), lambda: desk.url)
        number = slack.open_ticket("The export crashes every time")
        option = {"text": {"type": "plain_text", "text": "cache"}, "value": "cache"}

        assert slack.click(number, "canned", user="U0AGENT1", selected_option=option).status == 200

        told = wait_until(
            lambda: slack.dms("U0CUSTOMER"),
            lambda found: any("please clear the cache" in t for t in found),
            "the canned reply",
            10,
        )
        assert any(
            t.endswith(f":\nHi u0customer, please clear the cache for #{number}. U0AGENT1") for t in told
        )
    finally:
        desk.stop()
