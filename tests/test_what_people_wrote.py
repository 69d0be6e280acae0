"""What a person wrote is stored as written, shown as written, pings nobody, and is never cut out of reach."""

from __future__ import annotations

import re
from typing import Any

from adapters.slack.devkit.parsing import mrkdwn_objects, pings
from harness import Probe, Slack, at_least, card_text, wait_until

ATTACK = (
    "<!channel> <!here> <!everyone> <@U0LEAD> <https://evil.example|click> <!subteam^S0ONCALL|@oncall> "
    "<#C0GENERAL|general> <mailto:boss@example.com|the boss> the export crashes"
)
# Each piece of the request's markup that would ping, mention or link if it reached a message unescaped.
LIVE_MARKUP = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0LEAD>",
    "<https://evil",
    "<!subteam",
    "<#C0G",
    "<mailto",
)


def everything_sent(slack: Slack) -> list[str]:
    """Every text Slack reads as markup that the bot sent: message texts (notifications), mrkdwn blocks
    (plain_text shows markup as typed and never pings)."""
    sent = []
    for call in slack.standin.calls():
        if call.method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            sent.append(str(call.params.get("text", "")))
            sent.extend(o["text"] for o in mrkdwn_objects(call.params.get("blocks") or []))
    return sent


def live_markup(slack: Slack) -> list[str]:
    """The request's markup as it went out live in anything the bot sent."""
    return [piece for text in everything_sent(slack) for piece in LIVE_MARKUP if piece in text]


def test_mentions_and_links_in_a_request_ping_nobody_and_show_where_they_lead(
    slack: Slack, probe: Probe
) -> None:
    slack.send(slack.requests.direct_message(ATTACK, user_id="U0CUSTOMER", encoded=True))

    card = slack.card(1)
    shown = card_text(card)
    assert (
        "@channel @here @everyone @u0lead click (https://evil.example) @oncall #general "
        "the boss (boss@example.com) the export crashes"
    ) in shown
    posted = slack.standin.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == "C0SUPPORT")[0]
    assert "@channel @here @everyone @u0lead" in posted.params["text"]
    assert live_markup(slack) == []
    # Slack's own parsing included: the requester named on their card, and nobody else.
    assert pings(card) == {"<@U0CUSTOMER>"}
    assert probe.ticket(1).description.startswith(
        "@channel @here @everyone @u0lead click (https://evil.example)"
    )


def test_a_typed_broadcast_channel_name_or_address_stays_words_on_the_card_and_in_the_dms(
    slack: Slack, probe: Probe
) -> None:
    typed = "@here @channel the export at https://app.example/export crashes, as #general knows"
    slack.send(slack.requests.direct_message(typed, user_id="U0CUSTOMER"))

    card = slack.card(1)
    assert probe.ticket(1).description == typed
    # As Slack keeps it after its own parsing: nothing in the words became a mention or a link.
    [body] = [b["text"]["text"] for b in card["blocks"] if b["type"] == "section" and "text" in b]
    assert body.startswith(typed) and card["text"].startswith(f"#1 {typed[:40]}")
    assert pings(card) == {"<@U0CUSTOMER>"}
    assert all(o.get("verbatim") is True for o in mrkdwn_objects(card["blocks"]))
    slack.click(1, "claim", user="U0AGENT1")
    claimed = slack.card(1, version=2)
    assert pings(claimed) == {"<@U0CUSTOMER>", "<@U0AGENT1>"}
    dms = at_least(2, lambda: slack.standin.messages("DU0CUSTOMER"), "the confirmation and the assignment")
    assert [pings(dm) for dm in dms] == [set(), {"<@U0AGENT1>"}]


def test_markup_typed_as_text_is_shown_as_typed_in_the_card_and_its_notification(
    slack: Slack, probe: Probe
) -> None:
    typed = "<!channel> R&D says <b>the export</b> crashes & burns"
    number = slack.open_ticket(typed)

    card = slack.card(number)
    assert probe.ticket(number).description == typed
    escaped = "&lt;!channel&gt; R&amp;D says &lt;b&gt;the export&lt;/b&gt; crashes &amp; burns"
    assert escaped in card_text(card)
    assert card["text"].startswith(f"#{number} {escaped}")
    slack.click(number, "claim", user="U0AGENT1")
    update = slack.standin.wait_for("chat.update")[0]
    assert update.params["text"].startswith(f"#{number} {escaped}")
    assert live_markup(slack) == []
    for text in everything_sent(slack):
        assert "&amp;amp;" not in text and "&amp;lt;" not in text


def test_a_mentioned_person_is_named_and_looked_up_once(slack: Slack, probe: Probe) -> None:
    for opening in ("", "new "):
        slack.send(
            slack.requests.direct_message(
                f"{opening}<@U0AGENT2> said the export crashes, case {2 if opening else 1}",
                user_id="U0CUSTOMER",
                encoded=True,
            )
        )
    slack.card(2)

    assert [probe.ticket(n).description for n in (1, 2)] == [
        "@u0agent2 said the export crashes, case 1",
        "@u0agent2 said the export crashes, case 2",
    ]
    # The sender is looked up too, for the name the cards call them by; each of them once.
    assert sorted(c.params["user"] for c in slack.standin.calls("users.info")) == ["U0AGENT2", "U0CUSTOMER"]


def test_control_characters_are_dropped_and_the_rest_kept_as_written(slack: Slack, probe: Probe) -> None:
    reply = slack.reply_text(slack.command("Export\x00 crashes\x01 on\x7f start\ttab\r\nnext line"))
    slack.send(slack.requests.direct_message("Login\x00 fails\x1b[31m", user_id="U0VIP"))

    assert reply.startswith("Ticket #1 opened")
    assert slack.dms("U0VIP")[0].startswith("Ticket #2 opened")
    assert probe.ticket(1).description == "Export crashes on start\ttab\nnext line"
    assert probe.ticket(2).description == "Login fails[31m"


def test_a_long_request_is_cut_on_the_card_and_posted_whole_in_its_thread(slack: Slack, probe: Probe) -> None:
    paragraphs = [f"Step {i}: the export & import <crash> again. " * 12 for i in range(20)]
    text = "\n".join(paragraphs).strip()
    assert len(text) > 9000

    slack.send(slack.requests.direct_message(text, user_id="U0CUSTOMER"))

    card = card_text(slack.card(1))
    assert f"(Shortened: all {len(text):,} characters of the request are in the thread.)" in card
    first = slack.wait_thread(1, 1)[0]
    parts = int(re.fullmatch(r"The whole request, part 1 of (\d+):", first.split("\n", 1)[0]).group(1))
    assert parts >= 4
    notes = slack.wait_thread(1, parts)
    headers = [note.split("\n", 1)[0] for note in notes]
    assert headers == [f"The whole request, part {i} of {parts}:" for i in range(1, parts + 1)]
    whole = "".join(note.split("\n", 1)[1] for note in notes)
    unescaped = whole.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert unescaped == text
    assert all(len(note) <= 40_000 for note in notes)


def test_a_request_that_fits_its_card_gets_no_copy_in_the_thread(slack: Slack) -> None:
    slack.send(slack.requests.direct_message("x " * 1200, user_id="U0CUSTOMER"))

    assert "Shortened" not in card_text(slack.card(1))
    slack.click(1, "claim", user="U0AGENT1")
    assert slack.wait_thread(1, 1)[0].startswith("<@U0AGENT1> assigned")


def test_a_command_about_a_payload_is_a_ticket_like_any_other(slack: Slack, probe: Probe) -> None:
    reply = slack.reply_text(slack.command("The payload of the export webhook is empty"))

    assert reply.startswith("Ticket #1 opened")
    assert probe.ticket(1).title == "The payload of the export webhook is empty"


def _dm_texts(slack: Slack, user: str) -> list[str]:
    return [m["text"] for m in slack.standin.messages("D" + user)]


def _shortcut(slack: Slack, message: dict[str, Any], *, user: str) -> int:
    response = slack.send(
        slack.requests.message_shortcut(
            callback_id="chatops_create_ticket", user_id=user, channel_id="C0GENERAL", message=message
        )
    )
    return response.status


def test_a_ticket_filed_from_a_message_belongs_to_its_author(slack: Slack, probe: Probe) -> None:
    slack.standin.add_messages(
        "C0GENERAL", 1, user="U0CUSTOMER", text="The payment page is down for everyone"
    )
    original = slack.standin.messages("C0GENERAL")[-1]

    assert _shortcut(slack, original, user="U0AGENT2") == 200

    ticket = probe.ticket(1)
    assert (ticket.requester, ticket.filed_by) == ("slack:U0CUSTOMER", "slack:U0AGENT2")
    assert slack.ephemerals("U0AGENT2")[0].startswith("Ticket #1 opened")
    told = slack.dms("U0CUSTOMER")[0]
    assert told.startswith("<@U0AGENT2> opened a ticket from your message. Ticket #1 opened")
    card = card_text(slack.card(1, "C0BILLING"))
    assert "*Requester*\n<@U0CUSTOMER>" in card and "*Filed by*\n<@U0AGENT2>" in card
    assert ("slack:U0AGENT2", "opened", None, "new") in probe.events(1)

    slack.click(1, "claim", user="U0BILL1", channel="C0BILLING")
    wait_until(lambda: _dm_texts(slack, "U0CUSTOMER"), lambda dms: len(dms) == 2, "the assignment notice")


def test_a_ticket_filed_from_a_bot_message_is_the_filers_own(slack: Slack, probe: Probe) -> None:
    bot_message = {"type": "message", "bot_id": "B0OTHER", "text": "Alert: export crashes", "ts": "1.2"}

    assert _shortcut(slack, bot_message, user="U0AGENT2") == 200

    ticket = probe.ticket(1)
    assert (ticket.requester, ticket.filed_by) == ("slack:U0AGENT2", None)
    assert "Filed by" not in card_text(slack.card(1))
