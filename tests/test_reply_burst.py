"""A burst of customer replies, over signed requests: each one reaches the card's thread once, in the order
written, at Slack's pace (which the stand-in enforces) and through a 429 met on the way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.slack.devkit.rate_limits import Limit
from adapters.slack.devkit.requests import SlackRequests
from adapters.slack.devkit.standin import RATE_LIMITED, SlackStandIn
from chatops.bootstrap import build_desk, build_web_app
from chatops.config.loading import load_desk_config
from chatops.entrypoints.serving import BackgroundServer
from harness import SIGNING_SECRET, Probe, Slack, fresh_database, settings_for, wait_until

BURST = 30
# Slack's one post a second per channel, five times over on both sides, so that thirty notes take
# seconds rather than half a minute; the stand-in allows one more at once than the desk's burst of three,
# as a call's own latency may bring it a little closer to the one before.
PACE = 5.0
CHANNEL_LIMIT = Limit(per_second=PACE, burst=4, per_channel=True)


@pytest.fixture
def paced(tmp_path: Path) -> Iterator[tuple[Slack, Probe]]:
    """A desk whose Slack holds it to one pace of posts per channel, and the desk keeping that pace."""
    with (
        fresh_database(tmp_path) as url,
        SlackStandIn(rate_limits=True, limits={"chat.postMessage": CHANNEL_LIMIT}) as standin,
    ):
        settings = settings_for(url, standin.base_url)
        desk = BackgroundServer(
            lambda: build_web_app(
                build_desk(settings, load_desk_config(settings.chatops_config), slack_posts_per_second=PACE)
            )
        ).start()
        probe = Probe(url)
        try:
            yield Slack(standin, SlackRequests(SIGNING_SECRET), lambda: desk.url), probe
        finally:
            desk.stop()
            probe.close()


def test_a_burst_of_customer_replies_reaches_the_thread_in_order_at_slacks_pace(
    paced: tuple[Slack, Probe],
) -> None:
    slack, probe = paced
    slack.send(slack.requests.direct_message("The export crashes every time", user_id="U0CUSTOMER"))
    slack.card(1)

    for n in range(1, BURST + 1):
        answer = slack.send(
            slack.requests.direct_message(
                f"Detail {n:02d}",
                user_id="U0CUSTOMER",
                ts=f"1800000100.{n:06d}",
                event_id=f"EvBurst{n:02d}",
            )
        )
        assert answer.status == 200
    # Partway through, Slack says "too many": once in the thread's channel, once in the requester's DM.
    slack.wait_thread(1, 5)
    slack.standin.inject("chat.postMessage", "ratelimit", retry_after=1, times=2)

    def from_the_customer() -> list[str]:
        return [note.rsplit("\n", 1)[-1] for note in slack.thread(1) if note.startswith("From the customer")]

    wait_until(from_the_customer, lambda found: len(found) >= BURST, f"{BURST} notes from the customer", 30)
    wait_until(probe.pending_outbox, lambda pending: pending == 0, "an empty outbox", 15)

    # Each once, in the order written.
    assert from_the_customer() == [f"Detail {n:02d}" for n in range(1, BURST + 1)]
    posts = slack.standin.calls("chat.postMessage")
    assert any(c.fault == "ratelimit" and c.params["channel"] == "C0SUPPORT" for c in posts)
    # The desk keeps Slack's pace itself: the stand-in never had to refuse it.
    assert [c.params["channel"] for c in posts if c.fault == RATE_LIMITED] == []
