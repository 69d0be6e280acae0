"""The card's Reply to customer control, over signed requests: a form in Slack, a box under the card in
Teams; what the agent typed reaches the requester as typed, under their name, once, and answers the
first-response clock; a customer cannot use it and an empty reply is asked for again, the words kept."""

from __future__ import annotations

import json
from typing import Any

from teams_harness import ALICE, CUSTOMER, Teams

from adapters.slack.devkit.cards import control
from adapters.slack.devkit.parsing import pings
from adapters.teams.devkit.cards import card_of, find_action
from chatops.entrypoints.serving import BackgroundServer
from harness import Probe, Slack, wait_until


def open_form(slack: Slack, number: int, user: str) -> dict[str, Any]:
    return slack.open_prompt(number, "reply", user=user)


def submit(slack: Slack, form: dict[str, Any], user: str, typed: str) -> Any:
    return slack.submit_prompt(form, typed, user=user)


def test_an_agent_replies_through_the_form_and_the_requester_reads_it_once(
    slack: Slack, probe: Probe
) -> None:
    number = slack.open_ticket("The export crashes every time")
    form = open_form(slack, number, "U0AGENT1")
    assert form["title"]["text"] == f"Reply on #{number}"

    typed = "Please clear the cache & retry <now>, thanks @here"
    sent = submit(slack, form, "U0AGENT1", typed)
    again = submit(slack, form, "U0AGENT1", typed)

    assert (sent.status, sent.text, again.status) == (200, "", 200)
    relayed = wait_until(
        lambda: [t for t in slack.dms("U0CUSTOMER") if "of the support team" in t],
        bool,
        "the reply in the requester's DM",
        10,
    )
    assert relayed == [relayed[0]] and relayed[0].endswith(
        "Please clear the cache &amp; retry &lt;now&gt;, thanks @here"
    )
    assert "<!here>" not in json.dumps([c.params for c in slack.standin.calls("chat.postMessage")])
    [dm] = [m for m in slack.standin.messages("DU0CUSTOMER") if m["text"] == relayed[0]]
    assert pings(dm) == set()
    wait_until(lambda: probe.ticket(number).first_responded_at, bool, "the first response answered")
    assert any("replied to the customer" in note for note in slack.wait_thread(number, 1))


def test_an_empty_reply_or_a_customer_gets_an_answer_under_the_box(slack: Slack, probe: Probe) -> None:
    number = slack.open_ticket("The export crashes every time")
    form = open_form(slack, number, "U0AGENT1")

    empty = submit(slack, form, "U0AGENT1", "   ")
    customer = submit(slack, open_form(slack, number, "U0CUSTOMER"), "U0CUSTOMER", "I reply to myself")

    assert empty.json()["response_action"] == "errors"
    assert "Write the reply" in empty.json()["errors"]["words"]
    assert "Only agents of Customer Support" in customer.json()["errors"]["words"]
    assert probe.ticket(number).first_responded_at is None


def test_a_teams_agent_replies_from_the_box_under_the_card(
    teams: Teams, teams_served: BackgroundServer
) -> None:
    card = teams.ticket_card("The VPN drops every hour")
    send = find_action(card_of(card), "Send")
    data = {**send["data"], send["data"]["chatops_input"]: "Reconnect, then tell me"}

    answer = teams.send(
        teams.activities.card_action(ALICE, "19:support@thread.tacv2", card["id"], data, send["verb"])
    )

    assert answer.status == 200
    told = wait_until(
        lambda: teams.chat(CUSTOMER),
        lambda texts: any("Reconnect, then tell me" in t for t in texts),
        "the reply in the customer's Teams chat",
        10,
    )
    assert any("Alice Ng, of the support team" in t for t in told)


def test_a_form_that_cannot_open_is_told_to_the_agent(slack: Slack, probe: Probe) -> None:
    number = slack.open_ticket("The export crashes every time")
    card = slack.card(number)
    slack.standin.inject("views.open", "error:expired_trigger_id")

    pressed = slack.send(
        slack.requests.block_action(
            control(card, "reply"), user_id="U0AGENT1", channel_id="C0SUPPORT", message=card
        )
    )

    assert pressed.status == 200
    [told] = slack.ephemerals("U0AGENT1")
    assert told.startswith("The form could not be opened just now")
    assert probe.ticket(number).first_responded_at is None
