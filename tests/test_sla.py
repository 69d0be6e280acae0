"""The SLA engine as people meet it, over HTTP with the stand-ins and a clock the test moves: the expected
first answer, warnings and breaches reaching a Slack person and a Teams person, and `sla` for agents."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from teams_harness import TOM, Teams, teams_settings

from adapters.slack.devkit.rate_limits import Limit
from adapters.slack.devkit.requests import SlackRequests
from adapters.slack.devkit.standin import RATE_LIMITED, Call, SlackStandIn
from adapters.teams.devkit.authority import IdentityProvider
from adapters.teams.devkit.connector import BotConnector
from adapters.teams.devkit.tls import LocalCA
from chatops.bootstrap import build_desk, build_web_app
from chatops.config.loading import load_desk_config
from chatops.config.settings import Settings
from chatops.entrypoints.serving import BackgroundServer
from harness import SIGNING_SECRET, Slack, settings_for, wait_until


@dataclass
class MovedClock:
    """The desk's time, moved by the test; the timers still fire in real time and read it."""

    at: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


def quick_sweeps(config: str, tmp_path: Path) -> str:
    """The config with sweeps every tenth of a second."""
    path = tmp_path / "desk.yaml"
    path.write_text(Path(config).read_text() + "sla: {sweep_seconds: 0.1}\n")
    return str(path)


def served_at(settings: Settings, clock: MovedClock, **options: float) -> BackgroundServer:
    return BackgroundServer(
        lambda: build_web_app(
            build_desk(settings, load_desk_config(settings.chatops_config), clock=clock, **options)  # type: ignore[arg-type]
        )
    ).start()


@pytest.fixture
def clock() -> MovedClock:
    return MovedClock()


@pytest.fixture
def slack_at(database_url: str, standin: SlackStandIn, clock: MovedClock, tmp_path: Path) -> Iterator[Slack]:
    settings = settings_for(database_url, standin.base_url)
    settings = settings.model_copy(update={"chatops_config": quick_sweeps(settings.chatops_config, tmp_path)})
    desk = served_at(settings, clock)
    yield Slack(standin, SlackRequests(SIGNING_SECRET), lambda: desk.url)
    desk.stop()


def test_the_confirmation_says_when_to_expect_a_first_answer(slack_at: Slack) -> None:
    reply = slack_at.reply_text(slack_at.command("The export crashes"))

    # Normal priority: a first answer within 4 hours, 13:00 UTC, shown in the reader's own time zone.
    expected = int(datetime(2026, 3, 2, 13, 0, tzinfo=UTC).timestamp())
    assert f"Expect a first answer by <!date^{expected}^" in reply


def test_the_assignee_is_warned_and_the_leads_hear_of_the_breach_in_slack(
    slack_at: Slack, clock: MovedClock
) -> None:
    number = slack_at.open_ticket("The export crashes")
    slack_at.click(number, "claim", user="U0AGENT1")
    slack_at.card(number, version=2)

    clock.at += timedelta(days=3) * 0.75
    (warning,) = slack_at.dms("U0AGENT1", timeout=10)
    assert f"Ticket #{number}" in warning and "the resolution is due in 18 h" in warning
    # It ends with a link to the card in #support.
    card = slack_at.card(number)
    assert f"C0SUPPORT/p{card['ts'].replace('.', '')}|Open the card>" in warning

    clock.at += timedelta(days=3) * 0.25
    (breach,) = slack_at.dms("U0LEAD", timeout=10)
    assert "SLA breached: the resolution was due" in breach
    wait_until(
        lambda: slack_at.thread(number),
        lambda notes: any("SLA breached" in note for note in notes),
        "the breach in the card's thread",
        10,
    )
    wait_until(
        lambda: str(slack_at.card(number)), lambda card: "SLA breached" in card, "the card breached", 10
    )


# Slack's one post a second per channel, four times over on both sides, so that the backlog drains in
# seconds; the stand-in allows one more at once than the desk's burst, as in the reply burst.
PACE = 4.0
BACKLOG = 40


@dataclass
class RunningClock(MovedClock):
    """The desk's time, running as the machine's from where the test last set it: what the outbox puts off
    until a slot under the platform's pace falls due, as it would in production."""

    set_at: float = field(default_factory=time.monotonic)

    def now(self) -> datetime:
        return self.at + timedelta(seconds=time.monotonic() - self.set_at)


@pytest.fixture
def busy_channel(database_url: str, tmp_path: Path) -> Iterator[tuple[Slack, RunningClock]]:
    """A desk whose Slack holds it to a pace of posts per channel and per DM, the desk keeping that pace."""
    limits = {"chat.postMessage": Limit(per_second=PACE, burst=4, per_channel=True)}
    with SlackStandIn(rate_limits=True, limits=limits) as standin:
        settings = settings_for(database_url, standin.base_url)
        config = quick_sweeps(settings.chatops_config, tmp_path)
        clock = RunningClock()
        desk = served_at(
            settings.model_copy(update={"chatops_config": config}), clock, slack_posts_per_second=PACE
        )
        try:
            yield Slack(standin, SlackRequests(SIGNING_SECRET), lambda: desk.url), clock
        finally:
            desk.stop()


def test_the_lead_hears_of_a_breach_at_once_however_busy_the_teams_channel(
    busy_channel: tuple[Slack, RunningClock],
) -> None:
    slack, clock = busy_channel
    for n in range(BACKLOG):
        slack.open_ticket(f"Export crashes, case {n}")
    urgent = slack.open_ticket("Checkout is down, urgent")

    # Its first answer is overdue, and nobody has it: the channel is told, and the lead directly.
    clock.at += timedelta(minutes=16)
    (breach,) = slack.dms("U0LEAD", timeout=30)
    assert f"Ticket #{urgent}" in breach and "SLA breached: the first response was due" in breach

    posts = wait_until(
        lambda: [c for c in slack.standin.calls("chat.postMessage") if c.fault is None],
        lambda posts: len([c for c in posts if is_card(c)]) == BACKLOG + 1 and any(map(is_call_out, posts)),
        "every card and the call-out in the channel",
        30,
    )
    # The lead's message went out while the channel's backlog still drained at its pace: it waited neither
    # for the cards queued before it nor for the ticket's own call-out in that channel.
    lead = next(i for i, c in enumerate(posts) if c.params["channel"] == "U0LEAD")
    last_card = max(i for i, c in enumerate(posts) if is_card(c))
    call_out = next(i for i, c in enumerate(posts) if is_call_out(c))
    assert lead < last_card and lead < call_out
    # The desk kept Slack's pace itself: the stand-in never had to refuse it.
    assert [c for c in slack.standin.calls("chat.postMessage") if c.fault == RATE_LIMITED] == []


def is_card(call: Call) -> bool:
    key = ((call.params.get("metadata") or {}).get("event_payload") or {}).get("key", "")
    return (
        call.params["channel"] == "C0SUPPORT" and key.startswith("ticket-") and "thread_ts" not in call.params
    )


def is_call_out(call: Call) -> bool:
    return call.params["channel"] == "C0SUPPORT" and "Unassigned" in call.params.get("text", "")


def test_sla_lists_the_clocks_nearest_to_breach_for_agents_only(slack_at: Slack, clock: MovedClock) -> None:
    slack_at.open_ticket("The export crashes")
    slack_at.open_ticket("Login is down, urgent")
    clock.at += timedelta(minutes=5)

    listing = slack_at.reply_text(slack_at.command("sla", user="U0AGENT1"))
    refused = slack_at.reply_text(slack_at.command("sla", user="U0CUSTOMER"))

    lines = listing.splitlines()
    assert "Nearest to an SLA breach" in lines[0]
    assert "Login is down" in lines[1] and "first response due in 10 min" in lines[1]
    assert "The SLA view is for agents" in refused


def test_a_teams_assignee_is_warned_in_their_personal_chat(
    database_url: str,
    standin: SlackStandIn,
    identity: IdentityProvider,
    connector: BotConnector,
    trusting: LocalCA,
    clock: MovedClock,
    tmp_path: Path,
) -> None:
    settings = teams_settings(database_url, standin.base_url, identity)
    settings = settings.model_copy(update={"chatops_config": quick_sweeps(settings.chatops_config, tmp_path)})
    desk = served_at(settings, clock)
    try:
        teams = Teams(identity, connector, lambda: desk.url)
        card = teams.ticket_card()
        assert teams.click(TOM, card, "Assign to me").status == 200

        clock.at += timedelta(days=3) * 0.75

        (warning,) = teams.chat(TOM, timeout=10)
        assert "the resolution is due in 18 h" in warning
        assert "[Open the card](https://teams.microsoft.com/l/message/" in warning and card["id"] in warning
    finally:
        desk.stop()
