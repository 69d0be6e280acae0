"""The desk in Teams, over real HTTPS against the Bot Connector stand-in, with channel tokens checked for
real: intake from a personal chat and from a channel, the card and its actions, and the requester's news."""

from __future__ import annotations

from adaptive_cards import problems
from harness import Probe
from teams_harness import ALICE, CUSTOMER, STRANGER, TOM, Teams, card_content, card_words


def test_a_personal_chat_message_opens_a_ticket_whose_card_reaches_the_teams_channel(
    teams: Teams, probe: Probe
) -> None:
    teams.add_bot_to_team()

    reply = teams.say(CUSTOMER, "The export fails with error 500")

    assert reply.status in (200, 202)
    (ticket,) = probe.tickets()
    assert (ticket.platform, ticket.via, ticket.category) == ("teams", "dm", "bug")
    (card,) = teams.cards()
    content = card_content(card)
    assert problems(content) == []
    assert "The export fails with error 500" in card_words(content)
    (confirmation,) = teams.chat(CUSTOMER)
    assert f"Ticket #{ticket.id} opened" in confirmation
    assert "ticket status" in confirmation


def test_status_list_and_help_answer_in_the_personal_chat(teams: Teams, probe: Probe) -> None:
    teams.say(CUSTOMER, "The export fails with error 500")
    (ticket,) = probe.tickets()

    teams.say(CUSTOMER, f"status {ticket.id}")
    teams.say(CUSTOMER, "list")
    teams.say(CUSTOMER, "help")
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


def test_a_mention_without_a_command_in_a_channel_opens_nothing_and_gets_help(teams: Teams, probe: Probe) -> None:
    activity = teams.activities.channel_message(CUSTOMER, "19:general@thread.tacv2", "hello there")

    teams.send(activity)

    (answer,) = teams.chat(CUSTOMER)
    assert "opens a ticket" in answer and "personal chat" in answer
    assert probe.tickets() == []


def test_what_the_customer_wrote_is_kept_as_typed(teams: Teams, probe: Probe) -> None:
    activity = teams.activities.personal_message(CUSTOMER, "Export &lt;b&gt; fails for <at>Tom Ito</at> &amp; me")

    teams.send(activity)

    (ticket,) = probe.tickets()
    assert ticket.description == "Export <b> fails for @Tom Ito & me"
