"""Request channels over signed requests: each new message there opens one ticket, answered in its thread;
what is no request opens nothing; the thread and the card's thread talk to each other; a lead turns a
channel on from chat and it counts at once; and the same in Teams."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from structlog.testing import capture_logs
from teams_harness import ALICE, CUSTOMER, SUPPORT, TEAMS_CONFIG, TOM, Teams, teams_settings

from adapters.slack.devkit.parsing import pings
from adapters.slack.devkit.payloads import as_slack_sends
from adapters.slack.devkit.requests import SlackRequests
from adapters.slack.devkit.standin import SlackStandIn
from adapters.teams.devkit.authority import IdentityProvider
from adapters.teams.devkit.connector import BotConnector, personal_chat_id
from adapters.teams.devkit.tls import LocalCA
from harness import (
    CONFIG_PATH,
    SIGNING_SECRET,
    Probe,
    Slack,
    card_text,
    channel_event,
    served_desk,
    settings_for,
    wait_until,
)

HELP = "C0HELP"
TEAMS_HELP = "19:help@thread.tacv2"


def rules_with(base: Path, tmp_path: Path, **changes: Any) -> str:
    """The test desk's rules with some keys changed, written where the desk can read them."""
    raw = yaml.safe_load(base.read_text())
    raw.update(changes)
    path = tmp_path / "request-channels.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


@pytest.fixture
def slack(database_url: str, standin: SlackStandIn, tmp_path: Path) -> Iterator[Slack]:
    """The desk with #help a request channel of Customer Support."""
    config = rules_with(CONFIG_PATH, tmp_path, request_channels=[{"channel": HELP, "team": "support"}])
    desk = served_desk(settings_for(database_url, standin.base_url, chatops_config=config)).start()
    yield Slack(standin, SlackRequests(SIGNING_SECRET), lambda: desk.url)
    desk.stop()


def event(channel: str, text: str, *, user: str = "U0CUSTOMER", ts: str, **more: Any) -> dict[str, Any]:
    return channel_event(channel, text, user=user, ts=ts, **more)


def deliver(slack: Slack, message: dict[str, Any], event_id: str, *, retry: int | None = None) -> int:
    return slack.deliver(message, event_id, retry=retry).status


def ask(slack: Slack, text: str, *, user: str = "U0CUSTOMER", channel: str = HELP) -> str:
    """`user` writes a new message in the channel (typed as `text`); its ts once the desk has taken it."""
    ts = slack.standin.post_as(channel, user, as_slack_sends(text))
    assert deliver(slack, event(channel, as_slack_sends(text), user=user, ts=ts), f"Ev{ts}") == 200
    return ts


def reply(slack: Slack, root: str, text: str, *, user: str, channel: str = HELP) -> str:
    """`user` replies in the thread of `root` (text as Slack sends it)."""
    ts = slack.standin.post_as(channel, user, text, thread_ts=root)
    message = event(channel, text, user=user, ts=ts, thread_ts=root, parent_user_id="U0CUSTOMER")
    assert deliver(slack, message, f"Ev{ts}") == 200
    return ts


def bot_in_thread(slack: Slack, root: str, channel: str = HELP) -> list[str]:
    """What the bot wrote in the thread of `root`."""
    return [
        m["text"]
        for m in slack.standin.messages(channel)
        if m.get("thread_ts") == root and m["ts"] != root and m.get("bot_id")
    ]


def answered_in_thread(slack: Slack, root: str, count: int = 1, channel: str = HELP) -> list[str]:
    return wait_until(
        lambda: bot_in_thread(slack, root, channel),
        lambda found: len(found) >= count,
        f"{count} answer(s) of the bot in the thread of {root}",
    )


def test_a_new_message_opens_a_ticket_answered_in_its_thread(slack: Slack, probe: Probe) -> None:
    # Billing's words, but the channel files for Customer Support.
    root = ask(slack, "My invoice shows the wrong amount")

    [answer] = answered_in_thread(slack, root)
    [ticket] = probe.tickets()
    assert answer.startswith("Ticket #1 opened: “My invoice shows the wrong amount”.")
    assert "routed to Customer Support." in answer and "It is triaged; replies in this thread" in answer
    assert (ticket.via, ticket.team, ticket.requester) == ("channel", "support", "slack:U0CUSTOMER")
    shown = wait_until(
        lambda: card_text(slack.card(1)), lambda text: "Original message" in text, "the link on the card"
    )
    assert "opened via request channel" in shown
    assert not slack.standin.messages("DU0CUSTOMER")


def test_what_is_no_request_opens_nothing_and_each_skip_says_why(slack: Slack, probe: Probe) -> None:
    with capture_logs() as logs:
        ask(slack, "Thanks!")
        ask(slack, ":tada: :raised_hands::skin-tone-2:")
        ask(slack, "🙏")
        bot = event(HELP, "Deploy finished", ts="1800000000.000101", bot_id="B0CI", subtype="bot_message")
        deliver(slack, {k: v for k, v in bot.items() if k != "user"}, "EvBot")
        edited = {
            "type": "message",
            "subtype": "message_changed",
            "channel": HELP,
            "channel_type": "channel",
            "hidden": True,
            "ts": "1800000000.000103",
            "message": {"type": "message", "user": "U0CUSTOMER", "text": "The VPN is down", "ts": "1.0"},
        }
        deliver(slack, edited, "EvEdit")
        joined = event(HELP, "<@U0NEW> has joined the channel", user="U0NEW", ts="1800000000.000104")
        deliver(slack, {**joined, "subtype": "channel_join"}, "EvJoin")

    assert probe.tickets() == []
    skipped = [entry["reason"] for entry in logs if entry["event"] == "request_skipped"]
    assert skipped == ["thanks", "emoji only", "emoji only", "bot message", "edit", "join"]
    # Not a word queued for anyone either.
    assert probe.pending_outbox() == 0


def test_a_retry_and_a_second_delivery_of_the_same_message_open_one_ticket(
    slack: Slack, probe: Probe
) -> None:
    ts = slack.standin.post_as(HELP, "U0CUSTOMER", "The VPN drops every hour")
    message = event(HELP, "The VPN drops every hour", ts=ts)

    assert deliver(slack, message, "EvFirst") == 200
    assert deliver(slack, message, "EvFirst", retry=1) == 200
    assert deliver(slack, message, "EvOther") == 200

    answered_in_thread(slack, ts)
    wait_until(probe.pending_outbox, lambda pending: pending == 0, "the outbox drained")
    assert [t.id for t in probe.tickets()] == [1]
    assert len(bot_in_thread(slack, ts)) == 1


def test_the_requesters_reply_in_the_thread_reaches_the_cards_thread(slack: Slack, probe: Probe) -> None:
    root = ask(slack, "The export crashes every time")
    answered_in_thread(slack, root)

    reply(slack, root, "It fails on &lt;big&gt; files &amp; <@U0AGENT2> saw it too, @here", user="U0CUSTOMER")

    notes = wait_until(
        lambda: slack.thread(1), lambda found: any("From the customer" in n for n in found), "the reply"
    )
    [noted] = [n for n in notes if "From the customer" in n]
    # Escaped once on the way out, the mention a name: as the customer wrote it, and nobody pinged again.
    assert noted.endswith("It fails on &lt;big&gt; files &amp; @u0agent2 saw it too, @here")
    assert "<@" not in noted
    [note] = [m for m in slack.standin.messages("C0SUPPORT") if m["text"] == noted]
    assert pings(note) == set()
    assert len(probe.tickets()) == 1


def test_an_agents_reply_in_the_thread_is_public_stops_the_clock_and_is_not_relayed_again(
    slack: Slack, probe: Probe
) -> None:
    root = ask(slack, "The export crashes every time")
    answered_in_thread(slack, root)

    reply(slack, root, "Which browser do you use?", user="U0AGENT1")

    wait_until(lambda: card_text(slack.card(1)), lambda shown: "answered" in shown, "the card answered")
    assert probe.ticket(1).first_responded_at is not None
    wait_until(
        lambda: slack.thread(1),
        lambda found: any("replied to the customer in the request thread" in n for n in found),
        "the reply noted under the card",
    )
    wait_until(probe.pending_outbox, lambda pending: pending == 0, "the outbox drained")
    assert len(bot_in_thread(slack, root)) == 1
    assert not any("Which browser" in m["text"] for m in slack.standin.messages("DU0CUSTOMER"))


def test_a_reply_under_the_card_reaches_the_requester_in_the_request_thread(
    slack: Slack, probe: Probe
) -> None:
    root = ask(slack, "Where do I find the API keys?")
    answered_in_thread(slack, root)
    card = slack.card(1)

    slack.write_under(
        card, "reply: Under Settings &gt; API &amp; Keys", user="U0AGENT1", ts="1800000000.000201"
    )

    _, relayed = answered_in_thread(slack, root, 2)
    assert "of the support team, about your ticket #1" in relayed
    assert relayed.endswith(":\nUnder Settings &gt; API &amp; Keys")
    assert not any("Settings" in m["text"] for m in slack.standin.messages("DU0CUSTOMER"))
    assert probe.ticket(1).first_responded_at is not None


def test_a_lead_turns_a_channel_on_and_its_next_message_is_a_ticket(slack: Slack, probe: Probe) -> None:
    refused = slack.reply_text(slack.command("channel on", user="U0AGENT1", channel="C0NEW"))
    assert "Only a team lead" in refused
    ask(slack, "The printer is on fire", channel="C0NEW")
    assert probe.tickets() == []

    on = slack.reply_text(slack.command("channel on", user="U0LEAD", channel="C0NEW"))

    assert "now a request channel" in on and "the first of the teams you lead" in on
    root = ask(slack, "The printer is still on fire", channel="C0NEW")
    answered_in_thread(slack, root, channel="C0NEW")
    [ticket] = probe.tickets()
    assert (ticket.title, ticket.team, ticket.via) == ("The printer is still on fire", "support", "channel")
    assert "already" in slack.reply_text(slack.command("channel on", user="U0LEAD", channel="C0NEW"))
    in_dm = slack.reply_text(slack.command("channel on", user="U0LEAD", channel="DU0LEAD"))
    assert "Only a channel can be a request channel" in in_dm
    assert "no longer become tickets" in slack.reply_text(
        slack.command("channel off", user="U0LEAD", channel="C0NEW")
    )


def test_what_was_typed_with_signs_and_a_mention_arrives_intact(slack: Slack, probe: Probe) -> None:
    ts = slack.standin.post_as(HELP, "U0CUSTOMER", "x")
    typed = "Export &amp; import fail on &lt;big&gt; files, ask <@U0AGENT2>"

    assert deliver(slack, event(HELP, typed, ts=ts), f"Ev{ts}") == 200

    answered_in_thread(slack, ts)
    assert probe.ticket(1).description == "Export & import fail on <big> files, ask @u0agent2"
    shown = card_text(slack.card(1))
    assert "Export &amp; import fail on &lt;big&gt; files, ask @u0agent2" in shown
    sent = json.dumps([call.params for call in slack.standin.calls()])
    assert "&amp;amp;" not in sent and "<@U0AGENT2>" not in sent


@pytest.fixture
def teams(
    database_url: str,
    standin: SlackStandIn,
    identity: IdentityProvider,
    connector: BotConnector,
    trusting: LocalCA,
    tmp_path: Path,
) -> Iterator[Teams]:
    """The Teams desk with a request channel in Teams, and Tom a lead of Customer Support."""
    raw = yaml.safe_load(TEAMS_CONFIG.read_text())
    raw["teams"][0]["agents"] = ["alice", "U0AGENT2"]
    raw["teams"][0]["leads"] = ["U0LEAD", "tom"]
    path = tmp_path / "teams-request-channels.yaml"
    path.write_text(yaml.safe_dump({**raw, "request_channels": [TEAMS_HELP]}))
    settings = teams_settings(database_url, standin.base_url, identity, chatops_config=str(path))
    desk = served_desk(settings).start()
    yield Teams(identity, connector, lambda: desk.url)
    desk.stop()


def teams_thread(teams: Teams, channel: str, root: str) -> list[str]:
    return [m.get("text", "") for m in teams.connector.messages(f"{channel};messageid={root}")]


def test_a_teams_request_channel_opens_a_ticket_and_its_thread_talks_to_the_card(
    teams: Teams, probe: Probe
) -> None:
    teams.add_bot_to_team()
    asked = teams.activities.channel_message(
        CUSTOMER, TEAMS_HELP, "The export fails with error 500", mention_bot=False
    )
    thanks = teams.activities.channel_message(CUSTOMER, TEAMS_HELP, "thanks!", mention_bot=False)
    chatter = teams.activities.channel_message(
        CUSTOMER, "19:general@thread.tacv2", "lunch?", mention_bot=False
    )

    assert {teams.send(a).status for a in (asked, thanks, chatter)} <= {200, 202}

    [answer] = wait_until(
        lambda: teams_thread(teams, TEAMS_HELP, asked["id"]), bool, "the answer in the request's thread", 10
    )
    assert "routed to Customer Support" in answer and "It is triaged" in answer
    [ticket] = probe.tickets()
    assert (ticket.via, ticket.platform, ticket.title) == (
        "channel",
        "teams",
        "The export fails with error 500",
    )
    # Neither the thanks nor a word in another channel opened anything, or drew an answer.
    assert teams.connector.messages(personal_chat_id(CUSTOMER.user_id)) == []
    [card] = teams.cards()

    follow_up = teams.activities.thread_reply(
        CUSTOMER, TEAMS_HELP, asked["id"], "Also on CSV", mention_bot=False
    )
    assert teams.send(follow_up).status in (200, 202)
    wait_until(
        lambda: teams.thread(card),
        lambda texts: any("From the customer, Cara Diaz" in t and "Also on CSV" in t for t in texts),
        "the customer's reply under the card",
        10,
    )
    answer_back = teams.activities.thread_reply(
        ALICE, SUPPORT, card["id"], "reply: Fixed, try again", mention_bot=False
    )
    assert teams.send(answer_back).status in (200, 202)
    wait_until(
        lambda: teams_thread(teams, TEAMS_HELP, asked["id"]),
        lambda texts: any("Alice Ng, of the support team" in t and "Fixed, try again" in t for t in texts),
        "the reply in the request's thread",
        10,
    )
    assert teams.connector.messages(personal_chat_id(CUSTOMER.user_id)) == []


def test_a_teams_lead_turns_a_channel_on_with_a_mention(teams: Teams, probe: Probe) -> None:
    channel = "19:requests@thread.tacv2"
    turn_on = teams.activities.channel_message(TOM, channel, "ticket channel on")

    assert teams.send(turn_on).status in (200, 202)

    [told] = teams.chat(TOM)
    assert "now a request channel" in told
    asked = teams.activities.channel_message(CUSTOMER, channel, "The VPN drops every hour", mention_bot=False)
    assert teams.send(asked).status in (200, 202)
    wait_until(lambda: teams_thread(teams, channel, asked["id"]), bool, "the answer in the thread", 10)
    [ticket] = probe.tickets()
    assert (ticket.via, ticket.title) == ("channel", "The VPN drops every hour")
