"""Start, Escalate with a reason, and Move to another team, over signed requests: from the card and by
command, in Slack and in Teams; who is told, what the cards and their threads say."""

from __future__ import annotations

from typing import Any

from teams_harness import ALICE, CUSTOMER, TOM, Teams

from adapters.slack.devkit.cards import verbs
from adapters.slack.devkit.standin import SlackStandIn
from adapters.teams.devkit.cards import card_of, executes, words
from chatops.entrypoints.serving import BackgroundServer
from harness import Probe, Slack, card_text, wait_until

AGENT = "U0AGENT1"


def test_start_moves_an_assigned_ticket_to_in_progress_from_the_card_and_by_command(
    slack: Slack, probe: Probe
) -> None:
    first, second = slack.open_ticket("The export crashes"), slack.open_ticket("The import crashes")
    slack.click(first, "claim", user=AGENT)
    assert "start" in verbs(slack.card(first, version=2))

    slack.click(first, "start", user=AGENT)

    assert "*Status*\nIn progress" in card_text(slack.card(first, version=3))
    assert "started work on the ticket" in slack.wait_thread(first, 2)[-1]
    assert slack.reply_text(slack.command(f"start {second}", user=AGENT)).startswith(
        "A ticket that is triaged cannot be started; that needs a ticket that is assigned."
    )
    slack.click(second, "claim", user=AGENT)
    assert (
        slack.reply_text(slack.command(f"start {second}", user=AGENT)) == f"Ticket #{second} is in progress."
    )
    assert probe.ticket(second).status == "in_progress"


def test_escalating_asks_why_and_the_requester_and_the_next_tier_are_told(slack: Slack, probe: Probe) -> None:
    number = slack.open_ticket("The export crashes")

    empty = slack.prompt(number, "escalate", "   ", user=AGENT)
    assert empty.json()["errors"]["words"].startswith("Say why the ticket needs the next tier")
    slack.prompt(number, "escalate", "The database team has to look at the export job", user=AGENT)

    card = slack.card(number, version=2)
    assert "*Tier*\nT2" in card_text(card)
    assert (
        "escalated the ticket from T1 to T2: “The database team has to look at the export job”"
        in (slack.wait_thread(number, 1)[-1])
    )
    told = slack.dms("U0CUSTOMER")
    assert f"Your ticket #{number} “The export crashes” has been passed to our Tier 2 team." in told
    [to_lead] = slack.dms("U0LEAD")
    assert "comes to Tier 2" in to_lead and "The database team has to look at the export job" in to_lead
    assert [e[1] for e in probe.events(number)].count("escalated") == 1

    typed = slack.reply_text(slack.command(f"escalate {number} Still broken, needs the vendor", user=AGENT))
    assert typed == f"Ticket #{number} is at T3 now; its requester and the next tier were told."
    assert "needs a ticket number and why" in slack.reply_text(
        slack.command(f"escalate {number}", user=AGENT)
    )


def test_a_ticket_moved_to_another_team_takes_its_card_there_and_leaves_a_note(
    slack: Slack, probe: Probe
) -> None:
    number = slack.open_ticket("The export crashes")
    old = slack.card(number)
    slack.click(number, "claim", user=AGENT)
    slack.card(number, version=2)

    slack.click(
        number,
        "move",
        user=AGENT,
        selected_option={"text": {"type": "plain_text", "text": "Billing"}, "value": "billing"},
    )

    moved = slack.card(number, "C0BILLING")
    assert "*Status*\nTriaged" in card_text(moved) and "*Assignee*\nUnassigned" in card_text(moved)
    left = wait_until(
        lambda: next(m for m in slack.standin.messages("C0SUPPORT") if m["ts"] == old["ts"]),
        lambda message: "Moved to Billing by" in card_text(message),
        "the old card saying where the ticket went",
    )
    assert verbs(left) == []
    assert "moved the ticket to Billing" in slack.wait_thread(number, 1, "C0BILLING")[-1]
    ticket = probe.ticket(number)
    assert (ticket.team, ticket.assignee, ticket.status) == ("billing", None, "triaged")

    back = slack.reply_text(slack.command(f"move {number} support", user="U0BILL1"))
    assert back == f"Ticket #{number} is with Customer Support now; its card is in their channel."


def test_a_category_that_belongs_to_another_team_offers_the_move(slack: Slack, probe: Probe) -> None:
    number = slack.open_ticket("The export crashes")

    slack.click(
        number,
        "category",
        user=AGENT,
        selected_option={"text": {"type": "plain_text", "text": "Billing"}, "value": "billing"},
    )

    [offer] = slack.ephemerals(AGENT)
    assert "Billing tickets belong to Billing" in offer and f"`move {number} billing`" in offer
    assert (probe.ticket(number).category, probe.ticket(number).team) == ("billing", "support")


def _fresh(teams: Teams, card: dict[str, Any], reply: Any) -> dict[str, Any]:
    """The card as the clicker sees it after their press: the invoke's answer, in the message it replaced."""
    return {**card, "attachments": [{"content": reply.body["value"]}]}


def test_in_teams_an_agent_starts_escalates_and_moves_a_ticket_from_the_card(
    teams: Teams, teams_served: BackgroundServer, standin: SlackStandIn, probe: Probe
) -> None:
    card = teams.ticket_card("The VPN drops every hour")
    card = _fresh(teams, card, teams.click(TOM, card, "Assign to me"))
    card = _fresh(teams, card, teams.click(TOM, card, "Start"))
    assert "In progress" in words(card_of(card))

    escalated = teams.click(TOM, card, "Escalate", choice="The network team has to look")
    card = _fresh(teams, card, escalated)
    assert "T2" in words(card_of(card))
    told = wait_until(
        lambda: teams.chat(CUSTOMER),
        lambda texts: any("has been passed to our Tier 2 team" in text for text in texts),
        "the requester told in their Teams chat",
    )
    assert any("is now handled by" in text for text in told)

    moved = teams.click(TOM, card, "Move to team", choice="billing")
    assert "Moved to Billing by" in words(moved.body["value"])
    assert [title for title, _ in executes(moved.body["value"])] == []
    # Billing works in Slack only: its card is there, and Support's Teams card stays, saying where it went.
    billing = wait_until(
        lambda: [m for m in standin.messages("C0BILLING") if m.get("blocks")], bool, "Billing's card in Slack"
    )
    assert "*Status*\nTriaged" in card_text(billing[-1])
    (ticket,) = probe.tickets()
    assert (ticket.team, ticket.tier, ticket.status) == ("billing", 2, "triaged")


def test_in_teams_start_escalate_and_move_are_commands_too(
    teams: Teams, teams_served: BackgroundServer, probe: Probe
) -> None:
    teams.ticket_card("The VPN drops every hour")
    teams.say(ALICE, "start 1")
    teams.say(ALICE, "escalate 1 The network team has to look")
    teams.say(ALICE, "move 1 billing")

    said = wait_until(
        lambda: teams.chat(ALICE),
        lambda texts: any("is with Billing now" in text for text in texts),
        "Alice's answers in her chat",
        10,
    )
    assert any("A ticket that is triaged cannot be started" in text for text in said)
    assert any("Ticket #1 is at T2 now" in text for text in said)
    assert probe.ticket(1).team == "billing"
