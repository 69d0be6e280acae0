"""Canned replies saved from chat: `/ticket reply add|remove|list` in Slack (`reply ...` to the bot in Teams),
parsed, checked as the rules' ones are, offered on the cards and sent to the requester as typed."""

from __future__ import annotations

from typing import Any

import pytest
from teams_harness import ALICE, CUSTOMER, Teams

from adapters.slack.devkit.cards import control
from chatops.entrypoints.serving import BackgroundServer
from harness import Probe, Slack, wait_until


def answer(slack: Slack, text: str, user: str) -> str:
    response = slack.command(text, user=user)
    assert response.json()["response_type"] == "ephemeral"
    return slack.reply_text(response)


def canned_options(card: dict[str, Any]) -> list[str]:
    return [option["value"] for option in control(card, "canned")["options"]]


def test_a_reply_saved_in_slack_is_on_the_card_and_reaches_the_requester_filled_in(
    slack: Slack, probe: Probe
) -> None:
    number = slack.open_ticket("The export crashes every time")
    slack.card(number)

    saved = answer(
        slack,
        "reply add thanks-wait Hi {requester}, {ticket} & <b>{title}</b> is with us. {agent}",
        "U0AGENT1",
    )
    assert saved.startswith("Saved the canned reply “thanks-wait”.")
    # The card offers it from its next change on.
    assert slack.click(number, "claim", user="U0AGENT1").status == 200
    card = slack.card(number, version=2)
    assert canned_options(card) == ["thanks-wait"]

    option = {"text": {"type": "plain_text", "text": "thanks-wait"}, "value": "thanks-wait"}
    assert slack.click(number, "canned", user="U0AGENT1", selected_option=option).status == 200

    told = wait_until(
        lambda: slack.dms("U0CUSTOMER"),
        lambda found: any("is with us" in t for t in found),
        "the saved reply in the requester's DM",
        10,
    )
    # Stored as typed, escaped once on the way out.
    assert any(
        t.endswith(
            f":\nHi u0customer, #{number} &amp; &lt;b&gt;The export crashes every time&lt;/b&gt; "
            "is with us. U0AGENT1"
        )
        for t in told
    )
    assert probe.ticket(number).first_responded_at is not None
    listed = answer(slack, "reply list", "U0LEAD")
    assert "`thanks-wait` Hi {requester}, {ticket} &amp; &lt;b&gt;{title}&lt;/b&gt; is with us." in listed
    assert "saved by <@U0AGENT1>" in listed


def test_a_reply_with_a_field_the_desk_cannot_fill_is_refused_and_so_is_a_customer(
    slack: Slack,
) -> None:
    bad_field = answer(slack, "reply add thanks-wait Hi {customer}", "U0AGENT1")
    customer = answer(slack, "reply add free-stuff Everything is free", "U0CUSTOMER")
    customer_list = answer(slack, "reply list", "U0CUSTOMER")

    assert bad_field == (
        "Not saved: canned reply 'thanks-wait': {customer} is not one of {requester}, {ticket}, {title}, "
        "{agent}."
    )
    assert customer == "Only the support teams' agents and leads can save canned replies."
    assert customer_list == "Only the support teams' agents and leads can see the canned replies."
    assert answer(slack, "reply list", "U0AGENT1").startswith("There are no canned replies yet")


def test_a_reply_removed_in_slack_leaves_the_card(slack: Slack) -> None:
    number = slack.open_ticket("The export crashes every time")
    answer(slack, "reply add thanks-wait Thanks for waiting", "U0AGENT1")
    slack.click(number, "claim", user="U0AGENT1")
    assert canned_options(slack.card(number, version=2)) == ["thanks-wait"]

    assert answer(slack, "reply remove thanks-wait", "U0LEAD") == "Removed the canned reply “thanks-wait”."
    slack.click(number, "start", user="U0AGENT1")

    card = slack.card(number, version=3)
    with pytest.raises(KeyError):
        control(card, "canned")


def test_an_agent_saves_a_reply_in_teams_and_a_customers_reply_words_are_no_command(
    teams: Teams, teams_served: BackgroundServer, probe: Probe
) -> None:
    teams.say(ALICE, "reply add thanks-wait Hi {requester}, we are on it")
    teams.say(ALICE, "reply list")
    teams.say(CUSTOMER, "reply to me by email please, the chat is hard for me")

    said = teams.chat(ALICE, count=2)
    assert any(text.startswith("Saved the canned reply “thanks-wait”.") for text in said)
    assert any("`thanks-wait` Hi {requester}, we are on it · saved by" in text for text in said)
    wait_until(probe.tickets, lambda tickets: len(tickets) == 1, "the customer's words as a ticket")
    assert probe.tickets()[0].title.startswith("reply to me by email please")
