"""Several replicas on one database: requests spread over them, every card still posted exactly once."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from adapters.slack.devkit.requests import SlackRequests, send
from adapters.slack.devkit.standin import SlackStandIn
from chatops.config.settings import Settings
from harness import SIGNING_SECRET, Probe, served_desk, wait_until


def test_three_replicas_share_the_work_and_post_each_card_once(
    settings: Settings, standin: SlackStandIn, probe: Probe
) -> None:
    replicas = [served_desk(settings).start() for _ in range(3)]
    requests = SlackRequests(SIGNING_SECRET)
    # Some posts fail at first, so retries and claims by other replicas overlap.
    standin.inject("chat.postMessage", "server_error", times=5)
    try:

        def open_ticket(i: int) -> str:
            replica = replicas[i % len(replicas)]
            answer = send(
                replica.url + "/slack/events", requests.slash_command(f"Crash report {i}", user_id=f"U0C{i}")
            )
            assert answer.status == 200
            return str(answer.json()["text"])

        with ThreadPoolExecutor(max_workers=6) as pool:
            replies = list(pool.map(open_ticket, range(60)))

        assert all(r.startswith("Ticket #") for r in replies)
        assert len(probe.tickets()) == 60
        # Each replica posts at most about a card a second to the channel: 60 cards take a while.
        wait_until(probe.pending_outbox, lambda n: n == 0, "an empty outbox", 90)
        keys = Counter(
            m["metadata"]["event_payload"]["key"] for m in standin.messages("C0SUPPORT") if m.get("metadata")
        )
        assert keys == {f"ticket-{n}-card": 1 for n in range(1, 61)}
    finally:
        for replica in replicas:
            replica.stop()
