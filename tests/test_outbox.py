"""The outbox under Slack's faults: rate limits, 5xx, timeouts, lost answers, and a crash mid-flight."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.slack.devkit.cards import control
from adapters.slack.devkit.requests import SlackRequests, send
from adapters.slack.devkit.standin import SlackStandIn
from chatops.config.settings import Settings
from chatops.store.tables import OutboxMessage
from harness import (
    SIGNING_SECRET,
    Probe,
    ServerProcess,
    Slack,
    card_text,
    served_desk,
    wait_until,
)


def cards_per_ticket(standin: SlackStandIn, channel: str = "C0SUPPORT") -> Counter[str]:
    return Counter(
        m["metadata"]["event_payload"]["key"]
        for m in standin.messages(channel)
        if m.get("metadata") and "thread_ts" not in m
    )


def test_a_429_is_waited_out_for_retry_after_then_the_card_is_posted_once(slack: Slack, probe: Probe) -> None:
    slack.standin.inject("chat.postMessage", "ratelimit", retry_after=2)

    number = slack.open_ticket("Export crashes every time")

    calls = slack.standin.wait_for("chat.postMessage", 2, timeout=10)
    assert calls[0].fault == "ratelimit" and calls[1].fault is None
    assert calls[1].at - calls[0].at >= 1.9
    slack.card(number)
    assert cards_per_ticket(slack.standin) == {f"ticket-{number}-card": 1}
    assert slack.standin.calls("conversations.history") == []


def test_a_5xx_is_retried_after_looking_for_the_card_first(slack: Slack, probe: Probe) -> None:
    slack.standin.inject("chat.postMessage", "server_error")

    number = slack.open_ticket("Export crashes every time")

    slack.standin.wait_for("chat.postMessage", 2, timeout=10)
    slack.card(number)
    assert len(slack.standin.calls("conversations.history")) == 1
    assert cards_per_ticket(slack.standin) == {f"ticket-{number}-card": 1}


def test_a_lost_answer_is_reconciled_instead_of_posting_the_card_twice(slack: Slack, probe: Probe) -> None:
    # Slack posts the card, but the answer never reaches us within the client's timeout.
    slack.standin.inject("chat.postMessage", "slow_effect", delay=2.5)

    number = slack.open_ticket("Export crashes every time")

    slack.standin.wait_for("conversations.history", timeout=10)
    card = slack.card(number)
    assert len(slack.standin.calls("chat.postMessage")) == 1
    slack.click(number, "claim", user="U0AGENT1")
    slack.standin.wait_for("chat.update", where=lambda c: c.params["ts"] == card["ts"], timeout=10)
    assert "<@U0AGENT1>" in card_text(slack.card(number, version=2))
    assert slack.wait_thread(number, 1)[0].startswith("<@U0AGENT1> assigned the ticket to themselves")


def test_a_timeout_without_effect_is_retried_and_posts_once(slack: Slack) -> None:
    slack.standin.inject("chat.postMessage", "timeout", delay=2.5)

    number = slack.open_ticket("Export crashes every time")

    slack.standin.wait_for("chat.postMessage", 2, timeout=10)
    slack.card(number)
    assert cards_per_ticket(slack.standin) == {f"ticket-{number}-card": 1}


def test_pending_card_edits_collapse_into_one_update(slack: Slack, probe: Probe) -> None:
    number = slack.open_ticket("Export crashes every time")
    card = slack.card(number)
    slack.standin.inject("chat.update", "ratelimit", retry_after=2)

    slack.click(number, "claim", user="U0AGENT1")
    slack.standin.wait_for("chat.update")
    # Two more clicks on the old card are refused, but each asks for the card to be redrawn.
    for agent in ("U0AGENT2", "U0LEAD"):
        request = slack.requests.block_action(
            control(card, "resolve"), user_id=agent, channel_id="C0SUPPORT", message=card
        )
        assert slack.send(request).status == 200
    slack.ephemerals("U0AGENT2")
    slack.ephemerals("U0LEAD")

    slack.card(number, version=2, timeout=10)
    time.sleep(0.5)
    updates = slack.standin.calls("chat.update")
    assert [c.fault for c in updates] == ["ratelimit", None]
    assert probe.pending_outbox() == 0
    assert probe.ticket(number).status == "assigned"


def test_a_burst_under_rate_limits_loses_no_card(slack: Slack, probe: Probe) -> None:
    slack.standin.inject("chat.postMessage", "ratelimit", retry_after=1, times=3)

    numbers = [slack.open_ticket(f"Export crashes, case {i}") for i in range(25)]

    # One channel takes about a card a second: the burst drains at Slack's pace.
    wait_until(lambda: len(cards_per_ticket(slack.standin)), lambda n: n >= len(numbers), "every card", 60)
    assert cards_per_ticket(slack.standin) == {f"ticket-{n}-card": 1 for n in numbers}


def test_a_crash_mid_flight_loses_no_ticket_and_posts_no_card_twice(
    settings: Settings, standin: SlackStandIn, probe: Probe, tmp_path: Path
) -> None:
    requests = SlackRequests(SIGNING_SECRET)
    # Slack will take the first card but answer too late: the process dies before recording it.
    standin.inject("chat.postMessage", "slow_effect", delay=30)
    server = ServerProcess(settings, tmp_path / "serve.log").start()
    acked = []
    for i in range(5):
        answer = send(
            server.url + "/slack/events",
            requests.slash_command(f"Export crash number {i}", user_id="U0CUSTOMER"),
        )
        assert answer.status == 200
        acked.append(answer.json()["text"])
    standin.wait_for("chat.postMessage")
    server.kill()

    assert [t.id for t in probe.tickets()] == [1, 2, 3, 4, 5]
    assert all(text.startswith(f"Ticket #{i} opened") for i, text in enumerate(acked, start=1))

    restarted = served_desk(settings).start()
    try:
        # The dead process's claim on the first card runs out; the restarted desk then finds that card
        # in the channel's history instead of posting it again.
        standin.wait_for("conversations.history", timeout=30)
        wait_until(probe.pending_outbox, lambda n: n == 0, "an empty outbox", 10)
        assert cards_per_ticket(standin) == {f"ticket-{n}-card": 1 for n in range(1, 6)}
        assert len(standin.calls("chat.postMessage")) == 5
    finally:
        restarted.stop()


def test_a_card_slack_refuses_for_good_is_marked_failed_not_retried_forever(
    slack: Slack, probe: Probe
) -> None:
    slack.standin.inject("chat.postMessage", "error:not_in_channel")

    reply = slack.reply_text(slack.command("Export crashes every time"))

    assert reply.startswith("Ticket #1 opened")
    wait_until(probe.pending_outbox, lambda n: n == 0, "the outbox to settle", 10)
    with Session(probe.engine) as session:
        row = session.scalars(select(OutboxMessage)).one()
    assert (row.kind, row.failed, row.last_error) == (
        "post_card",
        True,
        "Slack refused the call: not_in_channel",
    )
    time.sleep(0.5)
    assert len(slack.standin.calls("chat.postMessage")) == 1


def test_after_a_crash_a_busy_channel_still_gets_each_card_once(
    settings: Settings, standin: SlackStandIn, probe: Probe, tmp_path: Path
) -> None:
    # Slack takes three cards but answers too late; then the channel gets busy before anyone looks again.
    standin.inject("chat.postMessage", "slow_effect", delay=30, times=3)
    patient = settings.model_copy(update={"slack_timeout": 10.0})
    server = ServerProcess(patient, tmp_path / "serve.log").start()
    requests = SlackRequests(SIGNING_SECRET)
    for i in range(3):
        answer = send(
            server.url + "/slack/events", requests.slash_command(f"Crash {i}", user_id="U0CUSTOMER")
        )
        assert answer.status == 200
    # Two batches are in flight at most: a third card may wait for one of them to give up on Slack.
    standin.wait_for("chat.postMessage", 3, timeout=25)
    server.kill()
    killed_at = datetime.now(UTC)

    with Session(probe.engine) as session:
        held = [
            r.claimed_until
            for r in session.scalars(select(OutboxMessage).where(OutboxMessage.done_at.is_(None)))
        ]
    # The dead replica's claims run out within one short lease, whatever the Slack timeout.
    assert len(held) == 3 and all(until <= killed_at + timedelta(seconds=16) for until in held)
    standin.add_messages("C0SUPPORT", 1100)

    restarted = served_desk(settings).start()
    try:
        wait_until(probe.pending_outbox, lambda n: n == 0, "an empty outbox", 60)
        assert cards_per_ticket(standin) == {f"ticket-{n}-card": 1 for n in range(1, 4)}
        assert len(standin.calls("chat.postMessage")) == 3
        pages = standin.calls("conversations.history")
        assert len(pages) >= 3 * 6
    finally:
        restarted.stop()
