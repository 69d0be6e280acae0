"""Opening tickets: slash command, form, message shortcut and DM; idempotent intake; bad input."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlalchemy import text as sql

from harness import Probe, Slack, wait_until


def test_slash_command_confirms_ephemerally_and_posts_a_triage_card(slack: Slack, probe: Probe) -> None:
    reply = slack.reply_text(slack.command("The export button crashes with error 500, urgent"))

    assert reply.startswith("Ticket #1 opened")
    assert "Category bug, priority urgent, routed to Customer Support" in reply
    ticket = probe.ticket(1)
    assert (ticket.category, ticket.priority, ticket.team, ticket.status) == (
        "bug",
        "urgent",
        "support",
        "triaged",
    )
    card = slack.card(1)
    header = card["blocks"][0]["text"]["text"]
    assert header == "#1 The export button crashes with error 500, urgent"
    fields = " ".join(f["text"] for block in card["blocks"] for f in block.get("fields", []))
    for expected in (
        "<@U0CUSTOMER>",
        "bug",
        "urgent",
        "Triaged",
        "Unassigned",
        "T1",
        '"crashes"',
        '"error"',
        '"urgent"',
    ):
        assert expected in fields
    labels = [
        e.get("text", {}).get("text") or e["type"]
        for b in card["blocks"]
        for e in b.get("elements", [])
        if "action_id" in e
    ]
    assert labels == [
        "Assign to me",
        "users_select",
        "Escalate to T2",
        "static_select",
        "Resolve",
        "Reply to customer",
        "static_select",
        "static_select",
    ]
    for block in card["blocks"]:
        Block.parse(block).validate_json()


def test_keywords_route_billing_tickets_to_the_billing_channel(slack: Slack, probe: Probe) -> None:
    number = slack.open_ticket("I was charged twice on my last invoice")

    assert probe.ticket(number).team == "billing"
    assert slack.card(number, "C0BILLING")["blocks"][0]["text"]["text"].startswith(f"#{number} ")
    assert slack.standin.messages("C0SUPPORT") == []


def test_vip_requesters_get_one_priority_step_up(slack: Slack, probe: Probe) -> None:
    number = slack.open_ticket("Login page looks odd", user="U0VIP")

    ticket = probe.ticket(number)
    assert (ticket.category, ticket.priority) == ("access", "high")
    assert "priority raised from normal to high: VIP requester" in ticket.reasons


def test_empty_command_opens_the_form_and_submitting_it_opens_the_ticket(slack: Slack, probe: Probe) -> None:
    response = slack.command("")
    assert response.status == 200
    opened = slack.standin.wait_for("views.open")[0]
    view = opened.params["view"]
    View(**view).validate_json()
    assert opened.params["trigger_id"]

    answer = slack.send(
        slack.requests.view_submission(
            view,
            user_id="U0CUSTOMER",
            values={
                "summary": {"value": {"type": "plain_text_input", "value": "Cannot download reports"}},
                "description": {
                    "value": {"type": "plain_text_input", "value": "Every report gives a blank page."}
                },
                "category": {"value": {"type": "static_select", "selected_option": {"value": "bug"}}},
                "priority": {"value": {"type": "static_select", "selected_option": {"value": "low"}}},
            },
        )
    )

    body = answer.json()
    assert body["response_action"] == "update"
    View(**body["view"]).validate_json()
    notice = body["view"]["blocks"][0]["text"]
    assert "Ticket #1 opened" in notice["text"] and notice["verbatim"] is True
    ticket = probe.ticket(1)
    assert (ticket.title, ticket.description, ticket.category, ticket.priority, ticket.via) == (
        "Cannot download reports",
        "Every report gives a blank page.",
        "bug",
        "low",
        "form",
    )
    assert "category bug: chosen by the requester" in ticket.reasons
    slack.card(1)


def test_a_form_the_desk_fails_to_record_says_so_in_the_form(slack: Slack, probe: Probe) -> None:
    slack.command("")
    view = slack.standin.wait_for("views.open")[0].params["view"]
    with probe.engine.begin() as connection:
        connection.execute(sql("DROP TABLE ticket_events"))
    summary = {"summary": {"value": {"type": "plain_text_input", "value": "Cannot download reports"}}}

    answer = slack.send(slack.requests.view_submission(view, user_id="U0CUSTOMER", values=summary))

    body = answer.json()
    assert body["response_action"] == "update"
    assert body["view"]["title"]["text"] == "Ticket not opened"
    assert body["view"]["blocks"][0]["text"]["text"].startswith("Something went wrong on our side")
    assert probe.tickets() == []


def test_form_without_summary_is_refused_in_the_form(slack: Slack, probe: Probe) -> None:
    slack.command("")
    view = slack.standin.wait_for("views.open")[0].params["view"]

    answer = slack.send(slack.requests.view_submission(view, user_id="U0CUSTOMER", values={}))

    assert answer.json() == {
        "response_action": "errors",
        "errors": {"summary": "Give the ticket a short summary."},
    }
    assert probe.tickets() == []


def test_message_shortcut_keeps_the_permalink_and_confirms_privately(slack: Slack, probe: Probe) -> None:
    posted = WebClient(token="xoxb-someone", base_url=slack.standin.base_url).chat_postMessage(
        channel="C0GENERAL", text="The payment page is down for everyone"
    )
    original = posted["message"]

    response = slack.send(
        slack.requests.message_shortcut(
            callback_id="chatops_create_ticket", user_id="U0AGENT2", channel_id="C0GENERAL", message=original
        )
    )

    assert response.status == 200
    assert slack.ephemerals("U0AGENT2")[0].startswith("Ticket #1 opened")
    link = f"https://standin.slack.test/archives/C0GENERAL/p{original['ts'].replace('.', '')}"
    slack.standin.wait_for("chat.update", where=lambda c: link in str(c.params.get("blocks")))
    ticket = probe.ticket(1)
    assert probe.links(1)[("origin", "slack")] == ("C0GENERAL", original["ts"], link)
    assert (ticket.via, ticket.category, ticket.priority) == (
        "shortcut",
        "billing",
        "urgent",
    )
    assert (
        slack.card(1, "C0BILLING")["blocks"][0]["text"]["text"] == "#1 The payment page is down for everyone"
    )


def test_direct_message_opens_a_ticket_and_answers_in_the_dm(slack: Slack, probe: Probe) -> None:
    long_text = "My SSO login fails after the update. " + "Details. " * 600

    response = slack.send(slack.requests.direct_message(long_text, user_id="U0CUSTOMER", event_id="Ev001"))

    assert response.status == 200
    assert slack.dms("U0CUSTOMER")[0].startswith("Ticket #1 opened")
    ticket = probe.ticket(1)
    assert len(ticket.description) > 4000
    assert (ticket.category, ticket.via) == ("access", "dm")
    slack.card(1)


def test_an_events_api_retry_never_makes_a_second_ticket(slack: Slack, probe: Probe) -> None:
    # Slack delivers the very same event again, under the same id, when it did not hear back in time.
    event = slack.requests.direct_message_event(
        "The app crashes on start", user_id="U0CUSTOMER", ts="1700000002.000100"
    )
    assert slack.send(slack.requests.event(event, event_id="Ev042")).status == 200

    assert slack.send(slack.requests.event(event, event_id="Ev042", retry_num=1)).status == 200

    assert len(probe.tickets()) == 1
    slack.card(1)
    wait_until(probe.pending_outbox, lambda pending: pending == 0, "the outbox carried out")
    assert len(slack.dms("U0CUSTOMER")) == 1


def test_bot_messages_and_channel_messages_are_not_tickets(slack: Slack, probe: Probe) -> None:
    bot_post = {
        "type": "message",
        "channel_type": "im",
        "channel": "DU0X",
        "bot_id": "B0OTHER",
        "text": "hi",
        "ts": "1.1",
    }
    channel_post = {
        "type": "message",
        "channel_type": "channel",
        "channel": "C0GENERAL",
        "user": "U0X",
        "text": "crash",
        "ts": "1.2",
    }

    assert slack.send(slack.requests.event(bot_post, event_id="Ev1")).status == 200
    assert slack.send(slack.requests.event(channel_post, event_id="Ev2")).status == 200

    assert probe.tickets() == []


def test_an_oversized_or_empty_dm_is_answered_privately_and_opens_nothing(slack: Slack, probe: Probe) -> None:
    too_long = "crash " * 7000
    slack.send(slack.requests.direct_message(too_long, user_id="U0CUSTOMER", event_id="Ev100"))
    slack.send(slack.requests.direct_message("   ", user_id="U0CUSTOMER", event_id="Ev101"))

    notes = slack.ephemerals("U0CUSTOMER", count=2)
    assert notes[0].startswith("That is 41,999 characters; a ticket takes at most 40,000.")
    assert notes[1] == "A ticket needs a few words about the problem."
    assert probe.tickets() == []


def test_a_replayed_slash_command_is_answered_as_before_without_a_second_ticket(
    slack: Slack, probe: Probe
) -> None:
    request = slack.requests.slash_command("The export crashes every time", user_id="U0CUSTOMER")

    first, replay = slack.send(request), slack.send(request)

    assert first.status == replay.status == 200
    assert first.json()["text"].startswith("Ticket #1 opened")
    assert replay.json()["text"] == first.json()["text"]
    assert [t.id for t in probe.tickets()] == [1]
    slack.card(1)


def test_a_replayed_form_or_shortcut_opens_one_ticket(slack: Slack, probe: Probe) -> None:
    slack.command("")
    view = slack.standin.wait_for("views.open")[0].params["view"]
    summary = {"summary": {"value": {"type": "plain_text_input", "value": "Reports are blank"}}}
    form = slack.requests.view_submission(view, user_id="U0CUSTOMER", values=summary)
    slack.standin.add_messages("C0GENERAL", 1, user="U0CUSTOMER", text="The export crashes")
    message = slack.standin.messages("C0GENERAL")[-1]
    shortcut = slack.requests.message_shortcut(
        callback_id="chatops_create_ticket", user_id="U0AGENT1", channel_id="C0GENERAL", message=message
    )

    answers = [slack.send(form), slack.send(form), slack.send(shortcut), slack.send(shortcut)]

    assert [a.status for a in answers] == [200] * 4
    assert answers[1].json() == answers[0].json()
    assert [(t.id, t.title) for t in probe.tickets()] == [(1, "Reports are blank"), (2, "The export crashes")]
    wait_until(probe.pending_outbox, lambda n: n == 0, "the outbox to settle", 10)
    # One message is one ticket: whoever uses the shortcut on it again is told which ticket it is.
    told = slack.ephemerals("U0AGENT1", count=2)
    assert len(told) == 2 and all(note.startswith("Ticket #2 opened") for note in told)
