"""The desk in Teams, over real HTTPS against the Bot Connector stand-in, with channel tokens checked for
real: intake from a personal chat and from a channel, the card and its actions, and the requester's news."""

from __future__ import annotations

from typing import Any

from adaptive_cards import problems
from teams_harness import ALICE, CUSTOMER, STRANGER, TOM, Reply, Teams

from adapters.teams.devkit.cards import card_of
from adapters.teams.devkit.cards import words as card_words
from adapters.teams.devkit.connector import personal_chat_id
from harness import Probe, wait_until

GROUP_CHAT = "19:group-chat@unq.gbl.spaces"


def test_a_personal_chat_message_opens_a_ticket_whose_card_reaches_the_teams_channel(
    teams: Teams, probe: Probe
) -> None:
    teams.add_bot_to_team()

    reply = teams.say(CUSTOMER, "The export fails with error 500")

    assert reply.status in (200, 202)
    (ticket,) = probe.tickets()
    assert (ticket.platform, ticket.via, ticket.category) == ("teams", "dm", "bug")
    (card,) = teams.cards()
    content = card_of(card)
    assert problems(content) == []
    assert "The export fails with error 500" in card_words(content)
    # The customer is named as Teams names them, though the desk's config does not list them.
    assert CUSTOMER.name in card_words(content)
    (confirmation,) = teams.chat(CUSTOMER)
    assert f"Ticket #{ticket.id} opened" in confirmation
    assert "ticket status" in confirmation


def test_status_list_and_help_answer_in_the_personal_chat(teams: Teams, probe: Probe) -> None:
    teams.say(CUSTOMER, "The export fails with error 500")
    (ticket,) = probe.tickets()
    # The confirmation reaches the customer, though the team's channel is not known yet and its card waits.
    teams.chat(CUSTOMER)

    for question in (f"status {ticket.id}", "list", "help"):
        # Counted before asking: the answer may be in the chat by the time the question is acknowledged.
        before = len(teams.connector.messages(personal_chat_id(CUSTOMER.user_id)))
        teams.say(CUSTOMER, question)
        teams.chat(CUSTOMER, before + 1)
    teams.say(STRANGER, f"ticket status {ticket.id}")

    _, status, listing, help_text = teams.chat(CUSTOMER, 4)
    assert f"#{ticket.id} The export fails with error 500" in status
    assert "Your tickets" in listing and f"#{ticket.id}" in listing
    assert "ticket status 42" in help_text and "personal chat" in help_text
    # Someone else asks about the customer's ticket: the same privacy as in Slack.
    assert teams.chat(STRANGER) == [f"There is no ticket #{ticket.id} that you can see."]
    assert len(probe.tickets()) == 1


def test_a_channel_mention_opens_a_ticket_and_answers_the_person_alone(teams: Teams, probe: Probe) -> None:
    teams.add_bot_to_team()
    activity = teams.activities.channel_message(CUSTOMER, "19:general@thread.tacv2", "ticket Login is broken")

    assert teams.send(activity).status in (200, 202)

    (ticket,) = probe.tickets()
    assert (ticket.title, ticket.via) == ("Login is broken", "command")
    # The answer is not written in the channel for all to read, but in the person's own chat with the bot.
    (answer,) = teams.chat(CUSTOMER)
    assert f"Ticket #{ticket.id} opened" in answer
    assert teams.connector.messages("19:general@thread.tacv2") == []
    assert teams.connector.calls("create_conversation")


def test_a_mention_without_a_command_in_a_channel_opens_nothing_and_gets_help(
    teams: Teams, probe: Probe
) -> None:
    activity = teams.activities.channel_message(CUSTOMER, "19:general@thread.tacv2", "hello there")

    teams.send(activity)

    (answer,) = teams.chat(CUSTOMER)
    assert "opens a ticket" in answer and "personal chat" in answer
    assert probe.tickets() == []


def test_what_the_customer_wrote_is_kept_as_typed(teams: Teams, probe: Probe) -> None:
    activity = teams.activities.personal_message(
        CUSTOMER, "Export &lt;b&gt; fails for <at>Tom Ito</at> &amp; me"
    )

    teams.send(activity)

    (ticket,) = probe.tickets()
    assert ticket.description == "Export <b> fails for @Tom Ito & me"


def test_an_agent_works_the_card_in_teams_and_every_click_updates_it_in_place(
    teams: Teams, probe: Probe
) -> None:
    card = teams.ticket_card()

    claimed = teams.click(TOM, card, "Assign to me")

    # The clicker's own card is redrawn from the invoke's answer, at once.
    assert claimed.status == 200
    assert claimed.body["type"] == "application/vnd.microsoft.card.adaptive"
    assert problems(claimed.body["value"]) == []
    assert "Tom Ito" in card_words(claimed.body["value"])
    # Everyone else's copy is the same message, edited in place, and the thread says what happened.
    teams.connector.wait_for("update_activity")
    (updated,) = teams.cards()
    assert updated["id"] == card["id"] and "Tom Ito" in card_words(card_of(updated))
    assert any("assigned the ticket to themselves" in note for note in teams.thread(card))
    # The requester hears of it in their personal chat, which the bot writes to of its own accord.
    assert any("is now handled by" in message for message in teams.chat(CUSTOMER, 2))

    escalated = teams.click(TOM, updated, "Escalate", choice="The database team needs to look")
    assert "T2" in card_words(escalated.body["value"])
    wait_until(
        lambda: teams.thread(card),
        lambda notes: any("The database team needs to look" in note for note in notes),
        "the reason in the card's thread",
    )
    prioritised = teams.click(TOM, redrawn(card, escalated), "Priority", choice="urgent")
    assert "urgent" in card_words(prioritised.body["value"])
    resolved = teams.click(TOM, redrawn(card, prioritised), "Resolve")
    assert "Reopen" in card_words(resolved.body["value"])
    (ticket,) = probe.tickets()
    assert (ticket.assignee, ticket.tier, ticket.priority, ticket.status) == ("tom", 2, "urgent", "resolved")
    told = teams.chat(CUSTOMER, 5)
    assert any("has been passed to our Tier 2 team" in message for message in told)
    assert any("has been resolved by" in message for message in told)


def test_assigning_someone_from_the_card_offers_the_team_people_teams_knows(
    teams: Teams, probe: Probe
) -> None:
    card = teams.ticket_card()

    answer = teams.click(ALICE, card, "Assign to", choice="tom")

    assert "Tom Ito" in card_words(answer.body["value"])
    (ticket,) = probe.tickets()
    assert ticket.assignee == "tom"


def test_someone_not_of_the_team_is_told_privately_and_nothing_changes(teams: Teams, probe: Probe) -> None:
    card = teams.ticket_card()

    answer = teams.click(STRANGER, card, "Resolve")

    assert answer.status == 200
    assert answer.body["type"] == "application/vnd.microsoft.activity.message"
    assert "only" in answer.body["value"].lower() and "Customer Support" in answer.body["value"]
    (ticket,) = probe.tickets()
    assert (ticket.status, ticket.version) == ("triaged", 1)
    assert teams.connector.calls("update_activity") == []


def test_a_click_on_an_old_card_does_nothing_and_says_why(teams: Teams, probe: Probe) -> None:
    old = teams.ticket_card()
    teams.click(TOM, old, "Assign to me")

    answer = teams.click(ALICE, old, "Resolve")

    assert answer.body["type"] == "application/vnd.microsoft.activity.message"
    assert "changed" in answer.body["value"] or "out of date" in answer.body["value"]
    (ticket,) = probe.tickets()
    assert ticket.status != "resolved"


def redrawn(card: dict[str, Any], reply: Reply) -> dict[str, Any]:
    """The card's message as the clicker sees it once Teams has shown the invoke's answer in its place."""
    return {**card, "attachments": [{"content": reply.body["value"]}]}


def test_a_mention_in_a_group_chat_is_answered_in_the_personal_chat(teams: Teams, probe: Probe) -> None:
    teams.say(CUSTOMER, "The export fails with error 500")
    teams.chat(CUSTOMER)
    (ticket,) = probe.tickets()

    teams.send(
        teams.activities.group_message(CUSTOMER, "19:group-chat@unq.gbl.spaces", f"status {ticket.id}")
    )

    assert f"#{ticket.id} The export fails" in teams.chat(CUSTOMER, 2)[1]
    assert teams.connector.messages("19:group-chat@unq.gbl.spaces") == []
