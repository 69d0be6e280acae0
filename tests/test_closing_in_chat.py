"""How a ticket comes to a close, over signed requests: the requester answers “Did this solve it?” and
rates the help with the buttons of the cards in their direct messages (a comment through the form its
button opens), in Slack and in Teams; a second answer is refused politely, and only the latest counts."""

from __future__ import annotations

import json
import re
from typing import Any

from teams_harness import ALICE, CUSTOMER, Teams

from adapters.slack.devkit.cards import control
from adapters.slack.devkit.parsing import pings
from adapters.teams.devkit.cards import card_of, find_action
from adapters.teams.devkit.connector import personal_chat_id
from chatops.entrypoints.serving import BackgroundServer
from harness import Probe, Slack, card_text, wait_until

DM = "DU0CUSTOMER"


def question(slack: Slack, header: str, *, count: int = 1) -> dict[str, Any]:
    """The latest card with this header in the requester's DMs."""
    found = wait_until(
        lambda: [m for m in slack.standin.messages(DM) if header in card_text(m)],
        lambda found: len(found) >= count,
        f"a DM card {header!r}",
        timeout=10,
    )
    return found[-1]


def press(slack: Slack, message: dict[str, Any], verb: str, *, user: str = "U0CUSTOMER") -> Any:
    action = control(message, verb)
    return slack.send(slack.requests.block_action(action, user_id=user, channel_id=DM, message=message))


def resolved(slack: Slack) -> int:
    number = slack.open_ticket("The export crashes every time")
    slack.click(number, "claim", user="U0AGENT1")
    slack.card(number, version=2)
    slack.click(number, "resolve", user="U0AGENT1")
    slack.card(number, version=3)
    return number


def test_yes_closes_the_ticket_and_a_rating_with_a_comment_lands_on_the_card_once(
    slack: Slack, probe: Probe
) -> None:
    number = resolved(slack)
    asked = question(slack, "did this solve it?")

    assert press(slack, asked, "solved").status == 200
    wait_until(lambda: probe.ticket(number).status, lambda s: s == "closed", "the ticket closed")
    # The question gives way to what became of it: no buttons left to press again.
    [settled] = [m for m in slack.standin.messages(DM) if m["ts"] == asked["ts"]]
    assert settled["text"] == f"Yes, it is solved: ticket #{number} is closed. Thank you."
    assert not any(block["type"] == "actions" for block in settled["blocks"])
    survey = question(slack, "How did we do")
    press(slack, survey, "rate-4")
    thanks = question(slack, "Anything to add")
    card = slack.card(number, version=5)
    assert "★★★★☆ 4 of 5" in card_text(card)

    press(slack, survey, "rate-1")
    [refusal] = slack.ephemerals("U0CUSTOMER")
    assert "4 of 5 already" in refusal and probe.ticket(number).csat_score == 4

    press(slack, thanks, "comment")
    form = slack.standin.wait_for("views.open", timeout=10)[0].params["view"]
    typed = "Quick & kind, thanks <3 @here"
    sent = slack.send(
        slack.requests.view_submission(
            form,
            user_id="U0CUSTOMER",
            values={"words": {"words": {"type": "plain_text_input", "value": typed}}},
        )
    )
    assert sent.status == 200 and sent.text == ""
    wait_until(lambda: probe.ticket(number).csat_comment, lambda c: c == typed, "the comment kept")
    commented = slack.card(number, version=6)
    assert "Quick &amp; kind, thanks &lt;3 @here" in card_text(commented)
    assert pings(commented) == {"<@U0CUSTOMER>", "<@U0AGENT1>"}
    assert [a for _, a, _, _ in probe.events(number)].count("csat") == 1


def test_no_reopens_a_tier_up_and_the_old_question_is_over(slack: Slack, probe: Probe) -> None:
    number = resolved(slack)
    asked = question(slack, "did this solve it?")

    press(slack, asked, "unsolved")

    wait_until(lambda: probe.ticket(number).status, lambda s: s == "triaged", "the ticket reopened")
    assert probe.ticket(number).tier == 2
    told = wait_until(
        lambda: slack.standin.messages("DU0AGENT1"),
        lambda found: any("said it is not solved" in m["text"] for m in found),
        "the assignee told",
    )
    assert told
    press(slack, asked, "solved")
    [refusal] = slack.ephemerals("U0CUSTOMER")
    assert "moved on since that question" in refusal and probe.ticket(number).status == "triaged"


def test_someone_else_cannot_answer_for_the_requester(slack: Slack, probe: Probe) -> None:
    number = resolved(slack)
    asked = question(slack, "did this solve it?")

    press(slack, asked, "solved", user="U0AGENT2")

    [refusal] = slack.ephemerals("U0AGENT2")
    assert re.search(rf"Only the person who asked for ticket #{number}", refusal)
    assert probe.ticket(number).status == "resolved"


def test_a_teams_requester_answers_in_their_chat_and_the_question_gives_way(
    teams: Teams, teams_served: BackgroundServer, probe: Probe
) -> None:
    card = teams.ticket_card("The VPN drops every hour")
    claimed = teams.click(ALICE, card, "Assign to me")
    teams.click(ALICE, {**card, "attachments": [{"content": claimed.body["value"]}]}, "Resolve")
    chat = personal_chat_id(CUSTOMER.user_id)

    asked = in_chat(teams, chat, "did this solve it?")
    answer = press_in_chat(teams, chat, asked, "Yes, close it")

    assert answer.status == 200 and "Yes, it is solved" in json.dumps(answer.body)
    assert "Requester" not in json.dumps(answer.body)
    wait_until(lambda: probe.ticket(1).status, lambda s: s == "closed", "the ticket closed")
    survey = in_chat(teams, chat, "How did we do")
    press_in_chat(teams, chat, survey, "5")
    wait_until(lambda: probe.ticket(1).csat_score, lambda s: s == 5, "the rating kept")
    thanks = in_chat(teams, chat, "You rated ticket")
    commented = press_in_chat(teams, chat, thanks, "Send", "Fast & friendly")
    assert commented.status == 200
    wait_until(lambda: probe.ticket(1).csat_comment, lambda c: c == "Fast & friendly", "the comment kept")


def in_chat(teams: Teams, chat: str, words: str) -> dict[str, Any]:
    """The latest card in the chat that says `words`."""
    found = wait_until(
        lambda: [m for m in teams.connector.messages(chat) if words in json.dumps(m.get("attachments"))],
        bool,
        f"a card saying {words!r} in the chat",
        10,
    )
    return found[-1]


def press_in_chat(teams: Teams, chat: str, card: dict[str, Any], title: str, words: str | None = None) -> Any:
    """The requester presses the action titled `title` of a card in their chat (typing `words` first)."""
    action = find_action(card_of(card), title)
    data = dict(action["data"])
    if words is not None:
        data[data["chatops_input"]] = words
    return teams.send(teams.activities.card_action(CUSTOMER, chat, card["id"], data, action["verb"]))
