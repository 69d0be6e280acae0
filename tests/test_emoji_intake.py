"""Emoji intake over signed events: the desk's emoji on a message opens a ticket from it and its thread,
credited to its author and linked to it, once however many react or however often Slack retries."""

from __future__ import annotations

from typing import Any

from harness import Probe, Slack, card_text

GENERAL = "C0GENERAL"


def react(slack: Slack, ts: str, *, user: str, emoji: str = "ticket", event_id: str, retry: int = 0) -> int:
    event = {
        "type": "reaction_added",
        "user": user,
        "reaction": emoji,
        "item": {"type": "message", "channel": GENERAL, "ts": ts},
        "item_user": "U0CUSTOMER",
        "event_ts": "1800000000.000900",
    }
    options: dict[str, Any] = {"retry_num": retry} if retry else {}
    return slack.send(slack.requests.event(event, event_id=event_id, **options)).status


def test_the_emoji_opens_one_ticket_from_the_thread_credited_to_its_author(
    slack: Slack, probe: Probe
) -> None:
    root = slack.standin.post_as(GENERAL, "U0CUSTOMER", "The export crashes &amp; hangs on &lt;big&gt; files")
    slack.standin.post_as(GENERAL, "U0AGENT2", "Which browser, <@U0CUSTOMER>?", thread_ts=root)
    slack.standin.post_as(GENERAL, "U0CUSTOMER", "Firefox 120", thread_ts=root)

    assert react(slack, root, user="U0AGENT1", event_id="EvR1") == 200
    assert react(slack, root, user="U0AGENT1", event_id="EvR1", retry=1) == 200
    assert react(slack, root, user="U0AGENT2", event_id="EvR2") == 200

    card = slack.card(1)
    [ticket] = probe.tickets()
    assert (ticket.requester, ticket.filed_by, ticket.via) == ("slack:U0CUSTOMER", "slack:U0AGENT1", "emoji")
    assert ticket.title == "The export crashes & hangs on <big> files"
    assert ticket.description == (
        "The export crashes & hangs on <big> files\n\n"
        "— u0agent2: Which browser, @u0customer?\n\n"
        "— u0customer: Firefox 120"
    )
    assert "Filed by" in card_text(card)
    slack.standin.wait_for("chat.getPermalink")
    # The second person to react is told which ticket it is, privately.
    assert any("Ticket #1" in text for text in slack.ephemerals("U0AGENT2"))


def test_another_emoji_or_a_bots_message_opens_nothing(slack: Slack, probe: Probe) -> None:
    root = slack.standin.post_as(GENERAL, "U0CUSTOMER", "Lunch at noon?")

    react(slack, root, user="U0AGENT1", emoji="thumbsup", event_id="EvR3")
    react(slack, "1700000000.999999", user="U0AGENT1", event_id="EvR4")

    assert probe.tickets() == []
    assert any("could not read that message" in text for text in slack.ephemerals("U0AGENT1"))
