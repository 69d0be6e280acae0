"""What people write is never lost or doubled, however it arrives: a reply also sent to the channel, words
longer than one message holds, a message that came in two ways, a message the database could not take in,
and one requester writing faster than a team can read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from teams_harness import CUSTOMER, Teams

from adapters.slack.devkit.requests import SlackRequests
from adapters.slack.devkit.standin import SlackStandIn
from chatops.bootstrap import build_desk, build_web_app
from chatops.config.loading import load_desk_config
from chatops.config.settings import Settings
from chatops.entrypoints.serving import BackgroundServer
from harness import (
    CONFIG_PATH,
    SIGNING_SECRET,
    Probe,
    Slack,
    channel_event,
    refusing_writes,
    served_desk,
    settings_for,
    wait_until,
)

AGENT = "U0AGENT1"


def test_a_reply_also_sent_to_the_channel_still_reaches_the_requester(slack: Slack, probe: Probe) -> None:
    number = slack.open_ticket("The export crashes")
    card = slack.card(number)

    event = channel_event(
        "C0SUPPORT",
        "reply: Try the new export, please",
        user=AGENT,
        ts="1800000000.000200",
        thread_ts=card["ts"],
        subtype="thread_broadcast",
        parent_user_id=card.get("user", "U0BOT"),
    )
    assert slack.deliver(event, "EvBroadcast").status == 200

    [told] = slack.dms("U0CUSTOMER")
    assert told.endswith("Try the new export, please")
    [(kind, text, _, _)] = probe.conversation(number)
    assert (kind, text) == ("public", "Try the new export, please")


@pytest.fixture
def quick(settings: Settings, standin: SlackStandIn) -> Iterator[Slack]:
    """The desk posting twenty times faster than Slack lets a channel: many parts go out in a moment."""
    config = load_desk_config(settings.chatops_config)
    desk = BackgroundServer(lambda: build_web_app(build_desk(settings, config, slack_posts_per_second=20)))
    desk.start()
    yield Slack(standin, SlackRequests(SIGNING_SECRET), lambda: desk.url)
    desk.stop()


def test_words_longer_than_a_message_holds_arrive_whole_in_parts(quick: Slack, probe: Probe) -> None:
    slack = quick
    number = slack.open_ticket("The export crashes")
    card = slack.card(number)
    long = " ".join(f"line{n:05d}" for n in range(4100))
    assert len(long) > 40_000

    slack.write_under(card, "reply: " + long, user=AGENT, ts="1800000000.000300")

    # Fourteen messages to one person: Slack's pace lets them out about one a second.
    parts = wait_until(
        lambda: [m["text"] for m in slack.standin.messages("DU0CUSTOMER")],
        lambda found: bool(found) and found[-1].split("\n", 1)[0].endswith("part 14 of 14:"),
        "the reply's last part",
        10,
    )
    heads = [text.split("\n", 1) for text in parts]
    assert all(head.endswith(f"part {i} of {len(parts)}:") for i, (head, _) in enumerate(heads, start=1))
    assert " ".join(body.strip() for _, body in heads) == long

    slack.send(slack.requests.direct_message(long, user_id="U0CUSTOMER", event_id="EvLong"))
    notes = slack.wait_thread(number, 15, timeout=10)
    said = [note.split("\n", 1) for note in notes if "From the customer" in note]
    assert said[0][0].endswith("part 1 of 14:") and " ".join(body.strip() for _, body in said) == long


def test_the_emoji_on_a_direct_message_that_opened_a_ticket_opens_nothing_more(
    slack: Slack, probe: Probe
) -> None:
    ts = slack.standin.post_as("DU0CUSTOMER", "U0CUSTOMER", "The export crashes")
    slack.send(
        slack.requests.direct_message("The export crashes", user_id="U0CUSTOMER", ts=ts, event_id="EvD1")
    )
    wait_until(probe.tickets, lambda tickets: len(tickets) == 1, "the ticket from the message")

    reaction = {
        "type": "reaction_added",
        "user": AGENT,
        "reaction": "ticket",
        "item": {"type": "message", "channel": "DU0CUSTOMER", "ts": ts},
        "event_ts": "1800000000.000900",
    }
    assert slack.send(slack.requests.event(reaction, event_id="EvD2")).status == 200

    assert len(probe.tickets()) == 1
    assert slack.ephemerals(AGENT)[0].startswith("Ticket #1 opened")


def test_a_follow_up_the_database_could_not_take_is_delivered_again_and_joins_its_ticket(
    database_url: str, standin: SlackStandIn, probe: Probe
) -> None:
    settings = settings_for(database_url, standin.base_url)
    requests = SlackRequests(SIGNING_SECRET)
    follow_up = requests.direct_message_event("It fails on Firefox too", user_id="U0CUSTOMER")
    desk = served_desk(settings).start()
    try:
        slack = Slack(standin, requests, lambda: desk.url)
        slack.send(requests.direct_message("The export crashes", user_id="U0CUSTOMER", event_id="EvF0"))
        wait_until(probe.tickets, lambda tickets: len(tickets) == 1, "the first ticket")
    finally:
        desk.stop()

    # The probe's connections go too: SQLite would lend a new connection their writable file.
    with refusing_writes(database_url, probe.engine):
        desk = served_desk(settings).start()
        try:
            refused = Slack(standin, requests, lambda: desk.url).send(
                requests.event(follow_up, event_id="EvF1")
            )
        finally:
            desk.stop()
    # Not answered 2xx: Slack delivers the event again, and then it is taken in.
    assert refused.status >= 500

    desk = served_desk(settings).start()
    try:
        again = Slack(standin, requests, lambda: desk.url)
        assert again.deliver(follow_up, "EvF1", retry=1).status == 200
        wait_until(lambda: probe.conversation(1), lambda said: len(said) == 1, "the follow-up on the ticket")
    finally:
        desk.stop()
    assert len(probe.tickets()) == 1


def limited_rules(tmp_path: Path, source: Path = CONFIG_PATH) -> Path:
    """The test desk's rules with an intake limit of three tickets in ten minutes."""
    rules = yaml.safe_load(source.read_text())
    rules["intake_limit"] = {"tickets": 3, "within": "10m"}
    path = tmp_path / "limited.yaml"
    path.write_text(yaml.safe_dump(rules))
    return path


def test_a_requester_past_the_intake_limit_is_told_and_their_words_join_their_latest_ticket(
    database_url: str, standin: SlackStandIn, probe: Probe, tmp_path: Path
) -> None:
    settings = settings_for(database_url, standin.base_url, chatops_config=str(limited_rules(tmp_path)))
    desk = served_desk(settings).start()
    try:
        slack = Slack(standin, SlackRequests(SIGNING_SECRET), lambda: desk.url)
        for n in range(6):
            dm = slack.requests.direct_message(f"new The export crashes, case {n}", user_id="U0CUSTOMER")
            assert slack.send(dm).status == 200
        command = slack.reply_text(slack.command("The import crashes too"))
    finally:
        desk.stop()

    assert [t.title for t in probe.tickets()] == [f"The export crashes, case {n}" for n in range(3)]
    assert [text for _, text, _, _ in probe.conversation(3)] == [
        f"The export crashes, case {n}" for n in range(3, 6)
    ]
    told = [text for text in slack.dms("U0CUSTOMER", count=4) if "the most the desk takes" in text]
    assert len(told) == 1 and "Added to your ticket #3" in told[0]
    assert command.startswith("3 tickets have been opened for you in the last 10 minutes")


def test_in_teams_a_requester_past_the_intake_limit_is_told_once(
    teams: Teams, teams_served: BackgroundServer, probe: Probe
) -> None:
    for n in range(12):
        teams.say(CUSTOMER, f"new The VPN drops, case {n}")

    told = wait_until(
        lambda: teams.chat(CUSTOMER),
        lambda texts: any("the most the desk takes from one person" in text for text in texts),
        "the requester told of the limit",
        10,
    )
    assert sum("the most the desk takes from one person" in text for text in told) == 1
    assert len(probe.tickets()) == 10
