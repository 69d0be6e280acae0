"""Working a ticket from its card: who may click, what each control does, and what everyone sees."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from adapters.slack.devkit.cards import control, verbs
from chatops.messaging.cards import ActionRef
from harness import Probe, Slack, card_text


def test_assign_to_me_edits_the_card_notes_the_thread_and_tells_the_requester(
    slack: Slack, probe: Probe
) -> None:
    number = slack.open_ticket("Export crashes every time")
    slack.card(number)

    assert slack.click(number, "claim", user="U0AGENT1").status == 200

    card = slack.card(number, version=2)
    assert "*Assignee*\n<@U0AGENT1>" in card_text(card) and "*Status*\nAssigned" in card_text(card)
    assert len(slack.standin.calls("chat.postMessage")) >= 1
    notes = slack.wait_thread(number, 1)
    assert notes[0].startswith("<@U0AGENT1> assigned the ticket to themselves · <!date^")
    assert (
        slack.dms("U0CUSTOMER")[0]
        == f"Your ticket #{number} “Export crashes every time” is now handled by <@U0AGENT1>."
    )
    assert probe.ticket(number).first_responded_at is not None
    assert ("slack:U0AGENT1", "claim", "triaged", "assigned") in probe.events(number)


def test_the_user_picker_assigns_someone_else(slack: Slack, probe: Probe) -> None:
    number = slack.open_ticket("Export crashes every time")
    slack.card(number)

    slack.click(number, "assign", user="U0LEAD", selected_user="U0AGENT2")

    card = slack.card(number, version=2)
    picker = control(card, "assign")
    assert picker["initial_user"] == "U0AGENT2"
    assert slack.wait_thread(number, 1)[0].startswith("<@U0LEAD> assigned the ticket to <@U0AGENT2>")
    assert probe.ticket(number).assignee == "slack:U0AGENT2"


def test_assigning_to_someone_outside_the_team_is_refused(slack: Slack, probe: Probe) -> None:
    number = slack.open_ticket("Export crashes every time")
    slack.card(number)

    slack.click(number, "assign", user="U0AGENT1", selected_user="U0BILL1")

    assert slack.ephemerals("U0AGENT1") == [
        "Tickets of Customer Support can only go to its agents and leads."
    ]
    assert probe.ticket(number).assignee is None


def test_escalate_climbs_tiers_and_stops_at_t3(slack: Slack, probe: Probe) -> None:
    number = slack.open_ticket("Export crashes every time")
    slack.card(number)

    slack.prompt(number, "escalate", "The database team needs to look", user="U0AGENT1")
    slack.card(number, version=2)
    slack.prompt(number, "escalate", "Needs the vendor", user="U0AGENT1")
    card = slack.card(number, version=3)

    assert probe.ticket(number).tier == 3
    assert "*Tier*\nT3" in card_text(card)
    assert verbs(card) == ["claim", "assign", "priority", "resolve", "reply", "category", "move"]
    notes = slack.wait_thread(number, 2)
    assert "escalated the ticket from T1 to T2: “The database team needs to look”" in notes[0]
    assert "escalated the ticket from T2 to T3: “Needs the vendor”" in notes[1]


def test_priority_menu_changes_priority_and_due_times(slack: Slack, probe: Probe) -> None:
    number = slack.open_ticket("Export crashes every time")
    slack.card(number)
    before = probe.ticket(number)

    slack.click(
        number,
        "priority",
        user="U0AGENT2",
        selected_option={"text": {"type": "plain_text", "text": "Urgent"}, "value": "urgent"},
    )

    card = slack.card(number, version=2)
    after = probe.ticket(number)
    assert (before.priority, after.priority) == ("normal", "urgent")
    assert (after.first_response_due - after.created_at).total_seconds() == 15 * 60
    assert (after.resolution_due - after.created_at).total_seconds() == 4 * 3600
    assert control(card, "priority")["initial_option"]["value"] == "urgent"
    assert "changed the priority from normal to urgent" in slack.wait_thread(number, 1)[0]


def test_resolve_then_reopen(slack: Slack, probe: Probe) -> None:
    number = slack.open_ticket("Export crashes every time")
    slack.card(number)

    slack.click(number, "resolve", user="U0AGENT1")
    resolved = slack.card(number, version=2)

    assert probe.ticket(number).status == "resolved"
    assert verbs(resolved) == ["close", "close-quietly", "reopen"]
    assert (
        slack.dms("U0CUSTOMER")[0]
        == f"Your ticket #{number} “Export crashes every time” has been resolved by <@U0AGENT1>."
    )

    slack.click(number, "reopen", user="U0AGENT1")
    slack.card(number, version=3)
    assert probe.ticket(number).status == "triaged"
    assert [a for _, a, _, _ in probe.events(number)] == ["opened", "triage", "routed", "resolve", "reopen"]


def test_only_the_teams_agents_may_act_and_nothing_changes_otherwise(slack: Slack, probe: Probe) -> None:
    number = slack.open_ticket("Export crashes every time")
    card = slack.card(number)

    slack.click(number, "claim", user="U0BILL1")
    slack.click(number, "resolve", user="U0CUSTOMER")

    assert slack.ephemerals("U0BILL1") == ["Only agents of Customer Support can do that."]
    assert slack.ephemerals("U0CUSTOMER") == ["Only agents of Customer Support can do that."]
    ticket = probe.ticket(number)
    assert (ticket.status, ticket.assignee, ticket.version) == ("triaged", None, 1)
    assert slack.standin.calls("chat.update") == []
    assert slack.card(number) == card


def test_a_double_click_makes_one_transition(slack: Slack, probe: Probe) -> None:
    number = slack.open_ticket("Export crashes every time")
    message = slack.card(number)
    click = control(message, "resolve")
    request = slack.requests.block_action(click, user_id="U0AGENT1", channel_id="C0SUPPORT", message=message)

    first = slack.send(request)
    second = slack.send(
        slack.requests.block_action(click, user_id="U0AGENT1", channel_id="C0SUPPORT", message=message)
    )

    assert (first.status, second.status) == (200, 200)
    assert probe.ticket(number).status == "resolved"
    assert [a for _, a, _, _ in probe.events(number)].count("resolve") == 1
    assert "changed since this card was drawn" in slack.ephemerals("U0AGENT1")[0]
    assert len(slack.wait_thread(number, 1)) == 1


def test_every_card_the_bot_sends_is_valid_block_kit(slack: Slack) -> None:
    number = slack.open_ticket("crash <script> & co " + "x" * 3900)
    slack.card(number)
    slack.click(number, "claim", user="U0AGENT1")
    slack.card(number, version=2)
    slack.click(number, "resolve", user="U0AGENT1")
    slack.card(number, version=3)

    sent = slack.standin.calls("chat.postMessage") + slack.standin.calls("chat.update")
    with_blocks = [c for c in sent if c.params.get("blocks")]
    assert len(with_blocks) >= 3
    for call in with_blocks:
        assert len(call.params["blocks"]) <= 50
        for block in call.params["blocks"]:
            parsed = Block.parse(block)
            parsed.validate_json()
            # Nothing of ours is lost to slack_sdk's models, `verbatim` included.
            assert parsed.to_dict() == block
    header = with_blocks[0].params["blocks"][0]["text"]["text"]
    assert len(header) <= 150 and header.endswith("…")
    assert "&lt;script&gt; &amp; co" in str(with_blocks[0].params["blocks"])


def test_an_illegal_transition_is_refused_with_its_reason(slack: Slack, probe: Probe) -> None:
    number = slack.open_ticket("Export crashes every time")
    slack.card(number)
    slack.click(number, "resolve", user="U0AGENT1")
    resolved = slack.card(number, version=2)
    # A crafted click: "resolve" with the current version, though the card no longer offers it.
    forged = {
        **control(resolved, "reopen"),
        "action_id": ActionRef(number, "resolve", 2).pack(),
        "value": "x",
    }

    slack.send(
        slack.requests.block_action(forged, user_id="U0AGENT1", channel_id="C0SUPPORT", message=resolved)
    )

    assert slack.ephemerals("U0AGENT1") == [
        "A ticket that is resolved cannot be resolved; that needs a ticket that is assigned, in progress, "
        "triaged, waiting on customer."
    ]
    assert probe.ticket(number).version == 2
