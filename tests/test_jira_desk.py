"""The desk with Jira, end to end: signed Slack requests into the served desk, the `jira` library against
the Jira stand-in over HTTP, and the stand-in's webhooks (signed, retried, duplicated) coming back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jira_fixtures import RULES, WEBHOOK_SECRET, jira_settings, with_jira

from adapters.slack.devkit.cards import verbs
from adapters.slack.devkit.requests import SignedRequest, SlackRequests, send
from chatops.config.settings import Settings
from chatops.entrypoints.serving import BackgroundServer
from harness import (
    CONFIG_PATH,
    SIGNING_SECRET,
    Probe,
    Slack,
    at_least,
    card_text,
    served_desk,
    settings_for,
    wait_until,
)
from integrations.jira.devkit.standin import JiraStandIn
from integrations.jira.devkit.webhooks import signature

AGENT = "U0AGENT1"


# Feedback waits a while before its issue is made, so that an agent can merge it onto one first.
HELD = {
    **RULES["categories"],
    "feedback": {"project": "PROD", "issue_type": "Story", "labels": ["customer-feedback"], "hold": "10m"},
}


def desk_settings(database_url: str, standin: Any, jira: JiraStandIn, folder: Path, **rules: Any) -> Settings:
    """The test desk with Jira, its rules' jira section changed by `rules`."""
    path = with_jira(CONFIG_PATH, folder, **{"categories": HELD, **rules})
    return settings_for(database_url, standin.base_url, chatops_config=str(path), **jira_settings(jira))


@pytest.fixture
def settings(database_url: str, standin: Any, jira: JiraStandIn, tmp_path: Path) -> Settings:
    return desk_settings(database_url, standin, jira, tmp_path)


@pytest.fixture
def hooked(jira: JiraStandIn, served: BackgroundServer) -> JiraStandIn:
    """Jira sending its webhooks to the served desk, signed with the secret."""
    jira.send_webhooks(served.url + "/jira/webhook", secret=WEBHOOK_SECRET)
    return jira


def issue_of(jira: JiraStandIn, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
    return at_least(count, jira.issues, "issues in Jira", timeout)


def card_shows(slack: Slack, number: int, text: str, timeout: float = 10.0) -> str:
    return wait_until(
        lambda: card_text(slack.card(number)),
        lambda shown: text in shown,
        f"{text!r} on #{number}'s card",
        timeout,
    )


def test_a_bug_becomes_one_issue_told_in_full_and_its_key_shows_on_the_card(
    slack: Slack, hooked: JiraStandIn, probe: Probe
) -> None:
    number = slack.open_ticket("The export crashes with error 500 on <PDF> & *bold* {noformat} @here")

    [issue] = issue_of(hooked)
    assert issue["project"] == "SUP" and issue["issuetype"] == "Bug"
    assert issue["summary"].startswith("The export crashes with error 500")
    assert set(issue["labels"]) == {"from-support", "chatops", f"chatops-ticket-{number}"}
    description = issue["description"]
    assert "The export crashes with error 500 on <PDF> & *bold*" in description
    assert f"#{number}" in description and "*Category:* bug" in description and "customer" in description
    assert "[Ticket card|" in description
    shown = card_shows(slack, number, issue["key"])
    assert "Jira" in shown
    wait_until(
        lambda: slack.thread(number),
        lambda notes: any(
            f"Jira issue created: <{hooked.base_url}/browse/{issue['key']}|" in n for n in notes
        ),
        "the issue's link in the card's thread",
        10,
    )
    assert probe.links(number)[("issue", "jira")][1] == issue["key"]


def test_an_agent_sends_any_ticket_to_jira_from_the_card_choosing_the_type(
    slack: Slack, hooked: JiraStandIn
) -> None:
    number = slack.open_ticket("The dashboard looks odd since Monday")
    assert "send" in verbs(slack.card(number))

    option = {"text": {"type": "plain_text", "text": "SUP · Task"}, "value": "SUP · Bug"}
    assert slack.click(number, "send", user=AGENT, selected_option=option).status == 200

    [issue] = issue_of(hooked)
    assert (issue["project"], issue["issuetype"]) == ("SUP", "Bug")
    card_shows(slack, number, issue["key"])
    assert "send" not in verbs(slack.card(number))


def test_the_issue_carries_the_agents_internal_notes_marked_as_such(
    slack: Slack, hooked: JiraStandIn
) -> None:
    number = slack.open_ticket("The dashboard looks odd since Monday")
    card = slack.card(number)
    slack.write_under(card, "Seen on the *EU* cluster only", user="U0AGENT1", ts="1800000000.000001")
    wait_until(lambda: "send" in verbs(slack.card(number)), bool, "the card")

    option = {"text": {"type": "plain_text", "text": "SUP · Bug"}, "value": "SUP · Bug"}
    slack.click(number, "send", user=AGENT, selected_option=option)

    [issue] = issue_of(hooked)
    assert "*Internal notes* (from the support team, not seen by the customer):" in issue["description"]
    assert "* U0AGENT1: Seen on the \\*EU\\* cluster only" in issue["description"]


def test_link_and_unlink_by_command_and_a_key_jira_does_not_have(
    slack: Slack, hooked: JiraStandIn, standin: Any
) -> None:
    key = hooked.add_issue("SUP", "Login page is slow")
    number = slack.open_ticket("Login is slow for our whole team")

    reply = slack.reply_text(slack.command(f"link {number} {key.lower()}", user=AGENT))
    assert f"Ticket #{number} is linked to {key}" in reply
    card_shows(slack, number, f"|{key}> · To Do")
    stored = wait_until(
        lambda: hooked.issue(key), lambda i: i["comments"] and "chatops" in i["labels"], "a comment"
    )
    # Written in Jira's markup, escaped: Jira shows it as "support ticket #1".
    assert f"support ticket \\#{number}: “Login is slow for our whole team”" in stored["comments"][0]["body"]

    reply = slack.reply_text(slack.command(f"unlink {number}", user=AGENT))
    assert "no longer linked" in reply
    wait_until(
        lambda: card_text(slack.card(number)), lambda shown: key not in shown, "the key gone from the card"
    )

    slack.reply_text(slack.command(f"link {number} SUP-999", user=AGENT))
    told = slack.dms(AGENT, timeout=10)
    assert any("Jira has no issue SUP-999" in text for text in told)
    wait_until(
        lambda: card_text(slack.card(number)), lambda shown: "SUP-999" not in shown, "the bad key unlinked"
    )


def test_a_customer_cannot_link_and_bad_input_is_told_plainly(slack: Slack, hooked: JiraStandIn) -> None:
    number = slack.open_ticket("Login is slow for our whole team")

    assert "Only agents" in slack.reply_text(slack.command(f"link {number} SUP-1"))
    assert "needs a ticket number and an issue key" in slack.reply_text(
        slack.command("link SUP-1", user=AGENT)
    )
    assert "is not an issue key" in slack.reply_text(slack.command(f"link {number} <@U0LEAD>", user=AGENT))
    assert hooked.calls("comment") == []


def test_a_second_request_merges_onto_the_issue_with_a_comment_and_the_product_card_counts_both(
    slack: Slack, hooked: JiraStandIn, standin: Any
) -> None:
    key = hooked.add_issue("PROD", "Export to PDF")
    first = slack.open_ticket("Feature request: export to PDF please")
    slack.reply_text(slack.command(f"link {first} {key}", user=AGENT))
    card_shows(slack, first, f"|{key}> · To Do")

    # Jira refuses to make the feedback ticket's own issue for now, so that the merge finds it still to
    # be made (as an agent merging soon after the card appears does), however busy the machine.
    hooked.inject("create", "server_error", times=1000)
    second = slack.open_ticket("Feedback: would be nice to export to PDF", user="U0VIP")
    option = {"text": {"type": "plain_text", "text": key}, "value": key}
    wait_until(lambda: "merge" in verbs(slack.card(second)), bool, "a merge control")
    assert slack.click(second, "merge", user=AGENT, selected_option=option).status == 200

    product = wait_until(
        lambda: standin.messages("C0PRODUCT"),
        lambda found: bool(found) and found[0]["text"].endswith(": 2 requesters"),
        "the product card counting two requesters",
        10,
    )
    assert len(product) == 1 and "(VIP)" in card_text(product[0])
    stored = wait_until(lambda: hooked.issue(key), lambda i: len(i["comments"]) == 2, "two comments")
    assert stored["comments"][1]["body"].startswith("Another requester: ")
    assert len(hooked.issues()) == 1


def test_jira_down_for_a_while_then_back_makes_exactly_one_issue(slack: Slack, hooked: JiraStandIn) -> None:
    hooked.inject("create", "server_error", times=3)

    number = slack.open_ticket("Checkout fails with an exception")

    [issue] = issue_of(hooked, timeout=20)
    card_shows(slack, number, issue["key"], timeout=20)
    assert len(hooked.calls("create")) == 4
    assert len(hooked.issues()) == 1


def test_a_rate_limited_create_waits_as_long_as_jira_asks_and_makes_one_issue(
    slack: Slack, hooked: JiraStandIn
) -> None:
    hooked.inject("create", "ratelimit", retry_after=2)

    number = slack.open_ticket("Checkout fails with an exception")

    card_shows(slack, number, "SUP-1", timeout=20)
    refused, made = hooked.calls("create")
    assert made.at - refused.at >= 2.0
    assert len(hooked.issues()) == 1


@pytest.mark.parametrize("fault", ["timeout", "slow_effect"])
def test_a_create_jira_answers_too_late_makes_one_issue(
    slack: Slack, hooked: JiraStandIn, fault: str
) -> None:
    # Past JIRA_TIMEOUT: the desk stops waiting; with slow_effect Jira made the issue all the same.
    hooked.inject("create", fault, delay=2.5)

    number = slack.open_ticket("Checkout fails with an exception")

    card_shows(slack, number, "SUP-1", timeout=20)
    assert len(hooked.issues()) == 1
    assert len(hooked.calls("create")) == (2 if fault == "timeout" else 1)


def test_a_create_whose_answer_was_lost_is_found_by_its_label_not_made_twice(
    slack: Slack, hooked: JiraStandIn
) -> None:
    hooked.inject("create", "drop")

    number = slack.open_ticket("Checkout fails with an exception")

    card_shows(slack, number, "SUP-1", timeout=20)
    assert len(hooked.calls("create")) == 1
    assert [i["key"] for i in hooked.issues()] == ["SUP-1"]
    assert any("chatops-ticket" in str(call.query) for call in hooked.calls("search"))


def test_done_in_jira_resolves_every_ticket_and_each_requester_is_told_once(
    slack: Slack, hooked: JiraStandIn, probe: Probe
) -> None:
    key = hooked.add_issue("SUP", "Export to PDF broken")
    tickets = [
        slack.open_ticket("The PDF export looks wrong", user="U0CUSTOMER"),
        slack.open_ticket("The PDF export looks wrong here too", user="U0OTHER"),
        slack.open_ticket("Still wrong for me", user="U0OTHER"),
    ]
    for number in tickets:
        assert "is linked to" in slack.reply_text(slack.command(f"link {number} {key}", user=AGENT))
    for number in tickets:
        card_shows(slack, number, f"|{key}> · To Do")

    hooked.set_status(key, "Done")
    [delivery] = hooked.wait_for_delivery(moved, event="jira:issue_updated", key=key, timeout=10)
    hooked.redeliver(delivery.identifier)
    hooked.settle_webhooks()

    wait_until(
        lambda: {probe.ticket(n).status for n in tickets}, lambda s: s == {"resolved"}, "all resolved", 10
    )
    for user in ("U0CUSTOMER", "U0OTHER"):
        shipped = [t for t in slack.dms(user, timeout=10) if "has shipped" in t]
        assert len(shipped) == 1, shipped
    card_shows(slack, tickets[0], "shipped, requesters told")
    assert [a for _, a, _, _ in probe.events(tickets[0])].count("followed") == 1


@pytest.mark.parametrize(
    "forged",
    [
        {"X-Hub-Signature": "sha256=" + "0" * 64},
        {"X-Hub-Signature": signature("another secret", b"{}")},
    ],
)
def test_a_webhook_without_the_secret_is_refused_and_changes_nothing(
    slack: Slack, hooked: JiraStandIn, served: BackgroundServer, probe: Probe, forged: dict[str, str]
) -> None:
    key = hooked.add_issue("SUP", "Export to PDF broken")
    number = slack.open_ticket("The PDF export looks wrong")
    slack.reply_text(slack.command(f"link {number} {key}", user=AGENT))
    card_shows(slack, number, key)
    body = _done_event(key)

    signed = _post(served.url + "/jira/webhook", body, forged)
    wrong_query = _post(served.url + "/jira/webhook?secret=guess", body, {})
    bare = _post(served.url + "/jira/webhook", body, {})

    assert (signed.status, wrong_query.status, bare.status) == (401, 401, 401)
    assert probe.ticket(number).status != "resolved"


def test_data_center_passes_the_secret_in_the_url_and_odd_bodies_change_nothing(
    slack: Slack, hooked: JiraStandIn, served: BackgroundServer, probe: Probe
) -> None:
    key = hooked.add_issue("SUP", "Export to PDF broken")
    number = slack.open_ticket("The PDF export looks wrong")
    slack.reply_text(slack.command(f"link {number} {key}", user=AGENT))
    card_shows(slack, number, key)
    url = served.url + f"/jira/webhook?secret={WEBHOOK_SECRET}"

    garbled = _post(url, b"{not json", {})
    unknown = _post(url, _done_event("NOPE-1"), {})
    unused = _post(url, json.dumps({"webhookEvent": "sprint_started"}).encode(), {})
    # Not JSON is refused; an event the desk does not follow is taken, so that Jira does not send it again.
    assert (garbled.status, unknown.status, unused.status) == (400, 200, 200)
    assert probe.ticket(number).status != "resolved"

    done = _post(url, _done_event(key), {"X-Atlassian-Webhook-Identifier": "dc-1"})
    assert done.status == 200
    assert probe.ticket(number).status == "resolved"


def test_the_desks_own_comment_coming_back_by_webhook_posts_nothing(
    slack: Slack, hooked: JiraStandIn
) -> None:
    key = hooked.add_issue("SUP", "Export to PDF broken")
    number = slack.open_ticket("The PDF export looks wrong")
    slack.reply_text(slack.command(f"link {number} {key}", user=AGENT))
    [echo] = hooked.wait_for_delivery(lambda d: d.ok, event="comment_created", key=key, timeout=10)
    slack.wait_thread(number, 1)

    hooked.add_comment(key, "[customer] Fixed in 4.2, out on Monday")
    hooked.wait_for_delivery(
        lambda d: d.ok and d.identifier != echo.identifier, event="comment_created", key=key
    )

    after = wait_until(
        lambda: slack.thread(number),
        lambda notes: any("From Jira" in note for note in notes),
        "the public comment in the card's thread",
        10,
    )
    from_jira = [note for note in after if "From Jira" in note]
    assert from_jira == [f"From Jira ({key}), Pat Product: Fixed in 4.2, out on Monday"]
    assert not any("A requester" in note for note in after)


def test_a_reconcile_catches_a_status_change_whose_webhook_never_came(
    database_url: str, standin: Any, jira: JiraStandIn, tmp_path: Path, probe: Probe
) -> None:
    # A round every 1.2 s here, where a desk would take minutes.
    desk = served_desk(desk_settings(database_url, standin, jira, tmp_path, reconcile_minutes=0.02)).start()
    try:
        slack = Slack(standin, SlackRequests(SIGNING_SECRET), lambda: desk.url)
        key = jira.add_issue("SUP", "Export to PDF broken")
        number = slack.open_ticket("The PDF export looks wrong")
        slack.reply_text(slack.command(f"link {number} {key}", user=AGENT))
        card_shows(slack, number, f"|{key}> · To Do")
        jira.mute_webhooks()
        jira.send_webhooks(desk.url + "/jira/webhook", secret=WEBHOOK_SECRET)
        jira.set_status(key, "Done")

        wait_until(lambda: probe.ticket(number).status, lambda s: s == "resolved", "the ticket resolved", 10)
        assert jira.deliveries() == []
        assert any("updated >=" in str(call.query) + str(call.body) for call in jira.calls("search"))
    finally:
        desk.stop()


def moved(delivery: Any) -> bool:
    """A delivered webhook saying an issue changed status."""
    items = (delivery.json().get("changelog") or {}).get("items", [])
    return delivery.ok and any(item.get("field") == "status" for item in items)


def _done_event(key: str) -> bytes:
    return json.dumps(
        {
            "webhookEvent": "jira:issue_updated",
            "issue": {
                "key": key,
                "fields": {
                    "summary": "Export to PDF broken",
                    "status": {"name": "Done", "statusCategory": {"key": "done"}},
                    "resolution": {"name": "Done"},
                },
            },
        }
    ).encode()


def _post(url: str, body: bytes, headers: dict[str, str]) -> Any:
    return send(url, SignedRequest(body, {"Content-Type": "application/json", **headers}))


def test_without_jira_the_card_has_no_jira_controls_and_link_says_jira_is_not_set_up(
    database_url: str, standin: Any
) -> None:
    desk = served_desk(settings_for(database_url, standin.base_url)).start()
    try:
        slack = Slack(standin, SlackRequests(SIGNING_SECRET), lambda: desk.url)
        number = slack.open_ticket("The export crashes with error 500")
        card = slack.card(number)

        assert not {"send", "merge"} & set(verbs(card)) and "Jira" not in card_text(card)
        reply = slack.reply_text(slack.command(f"link {number} SUP-1", user=AGENT))
        assert reply == "Jira is not set up for this desk, so tickets cannot be linked to issues."
        assert "link 42" not in slack.reply_text(slack.command("help", user=AGENT))
        assert _post(desk.url + "/jira/webhook", _done_event("SUP-1"), {}).status == 404
    finally:
        desk.stop()


def test_a_closed_ticket_whose_issue_moves_on_is_reopened_and_its_requester_told(
    slack: Slack, hooked: JiraStandIn, probe: Probe
) -> None:
    key = hooked.add_issue("SUP", "Export to PDF broken")
    number = slack.open_ticket("The PDF export looks wrong")
    slack.reply_text(slack.command(f"link {number} {key}", user=AGENT))
    card_shows(slack, number, f"|{key}> · To Do")
    # The desk's own comment comes back by webhook and the issue is followed again, which may redraw the
    # card once more: the agent clicks the card as it ends up.
    hooked.wait_for_delivery(lambda d: d.ok, event="comment_created", key=key, timeout=10)
    wait_until(probe.pending_outbox, lambda pending: pending == 0, "the card settled", timeout=15)
    slack.click(number, "claim", user=AGENT)
    card_shows(slack, number, "*Status*\nAssigned")
    slack.click(number, "resolve", user=AGENT)
    card_shows(slack, number, "*Status*\nResolved")
    slack.click(number, "close", user=AGENT)
    card_shows(slack, number, "*Status*\nClosed")

    hooked.set_status(key, "In Progress")

    card_shows(slack, number, "*Status*\nTriaged")
    told = wait_until(
        lambda: slack.dms("U0CUSTOMER"),
        lambda texts: any("is open again" in text for text in texts),
        "the requester told it is open again",
    )
    assert f"is open again: its issue {key} moved to In Progress." in told[-1]
    wait_until(
        lambda: slack.thread(number),
        lambda notes: any("moved to In Progress; the ticket is now triaged" in note for note in notes),
        "the line in the card's thread",
    )
    assert probe.ticket(number).survey is None
    assert [a for _, a, _, _ in probe.events(number)][-2:] == ["reopen", "followed"]


def test_done_in_jira_asks_its_requester_whether_it_solved_it_with_the_news(
    slack: Slack, hooked: JiraStandIn, probe: Probe
) -> None:
    key = hooked.add_issue("SUP", "Export to PDF broken")
    number = slack.open_ticket("The PDF export looks wrong")
    slack.reply_text(slack.command(f"link {number} {key}", user=AGENT))
    card_shows(slack, number, f"|{key}> · To Do")

    hooked.set_status(key, "Done")

    asked = wait_until(
        lambda: [m for m in slack.standin.messages("DU0CUSTOMER") if "solved" in verbs(m)],
        bool,
        "the question in the requester's DMs",
    )
    assert "has shipped" in card_text(asked[-1]) and "did this solve it?" in card_text(asked[-1])
    assert probe.ticket(number).status == "resolved"
