"""Follow-ups over signed requests: a customer's next DM (Slack) or personal-chat message (Teams) joins
the ticket they have open there, as they wrote it, and `new` opens another."""

from __future__ import annotations

from teams_harness import CUSTOMER, Teams

from adapters.slack.devkit.parsing import pings
from chatops.entrypoints.serving import BackgroundServer
from harness import Probe, Slack, wait_until


def test_a_follow_up_dm_joins_the_open_ticket_as_written_and_pings_no_one(slack: Slack, probe: Probe) -> None:
    slack.send(slack.requests.direct_message("The export crashes every time", user_id="U0CUSTOMER"))
    slack.card(1)

    slack.send(
        slack.requests.direct_message(
            "Same with &lt;PDF&gt; &amp; CSV files, <@U0AGENT2> knows, ask @here in #general",
            user_id="U0CUSTOMER",
            encoded=True,
        )
    )

    notes = wait_until(
        lambda: slack.thread(1), lambda found: any("From the customer" in n for n in found), "the follow-up"
    )
    [follow_up] = [n for n in notes if "From the customer" in n]
    # Slack escapes once on the way out, and the mention is a name: nobody is pinged.
    assert follow_up.endswith("Same with &lt;PDF&gt; &amp; CSV files, @u0agent2 knows, ask @here in #general")
    assert "<@" not in follow_up
    assert any("Added to your ticket #1" in text for text in slack.dms("U0CUSTOMER", count=2))
    assert [t.id for t in probe.tickets()] == [1]
    # Kept as the customer wrote it, with where its copy landed in the card's thread.
    card = slack.card(1)
    [note] = [m for m in slack.standin.messages("C0SUPPORT") if "From the customer" in m["text"]]
    assert pings(note) == set()
    [(kind, text, _, copies)] = wait_until(
        lambda: probe.conversation(1), lambda found: bool(found and found[0][3]), "the copy on record"
    )
    assert (kind, text) == ("customer", "Same with <PDF> & CSV files, @u0agent2 knows, ask @here in #general")
    assert copies == [("slack", "C0SUPPORT", note["ts"])] and note["thread_ts"] == card["ts"]


def test_new_in_a_dm_opens_another_ticket(slack: Slack, probe: Probe) -> None:
    slack.send(slack.requests.direct_message("The export crashes every time", user_id="U0CUSTOMER"))
    slack.card(1)

    slack.send(slack.requests.direct_message("new My invoice is wrong", user_id="U0CUSTOMER"))

    slack.card(2, "C0BILLING")
    assert probe.ticket(2).title == "My invoice is wrong"


def test_with_two_open_the_requester_picks_the_ticket_with_a_button(slack: Slack, probe: Probe) -> None:
    slack.send(slack.requests.direct_message("The export crashes every time", user_id="U0CUSTOMER"))
    slack.card(1)
    slack.send(slack.requests.direct_message("new My invoice is wrong", user_id="U0CUSTOMER"))
    slack.card(2, "C0BILLING")

    slack.send(slack.requests.direct_message("It is the PDF export, tell @channel", user_id="U0CUSTOMER"))
    asked = wait_until(
        lambda: [
            m for m in slack.standin.messages("DU0CUSTOMER") if m.get("blocks") and "which one" in m["text"]
        ],
        bool,
        "the chooser in the DM",
    )[-1]
    # The chooser quotes the message as it was written, and pings no one with it.
    assert "It is the PDF export, tell @channel" in str(asked["blocks"]) and pings(asked) == set()
    button = next(
        element
        for block in asked["blocks"]
        for element in block.get("elements", [])
        if element.get("text", {}).get("text", "").startswith("#1 ")
    )
    slack.send(
        slack.requests.block_action(
            {**button, "block_id": "ticket_actions"},
            user_id="U0CUSTOMER",
            channel_id="DU0CUSTOMER",
            message=asked,
        )
    )

    wait_until(
        lambda: slack.thread(1),
        lambda notes: any("It is the PDF export" in n for n in notes),
        "the held message in ticket #1's thread",
    )
    assert not any("PDF" in n for n in slack.thread(2, "C0BILLING"))
    assert [t.id for t in probe.tickets()] == [1, 2]


def test_a_follow_up_in_the_teams_chat_joins_the_open_ticket(
    teams: Teams, teams_served: BackgroundServer, probe: Probe
) -> None:
    card = teams.ticket_card("The export fails with error 500")

    teams.say(CUSTOMER, "It fails for PDF & CSV")

    wait_until(
        lambda: teams.thread(card),
        # Markdown's escape keeps the ampersand a character on the card's thread.
        lambda notes: any(n.startswith("From the customer, Cara Diaz") and "PDF \\& CSV" in n for n in notes),
        "the follow-up in the Teams card's thread",
    )
    assert [t.id for t in probe.tickets()] == [1]
    assert any("Added to your ticket #1" in text for text in teams.chat(CUSTOMER, count=2))


def test_a_file_sent_as_a_follow_up_reaches_the_thread_as_a_link(slack: Slack) -> None:
    slack.send(slack.requests.direct_message("The export crashes every time", user_id="U0CUSTOMER"))
    slack.card(1)
    event = slack.requests.direct_message_event("Here is the log", user_id="U0CUSTOMER")
    event["subtype"] = "file_share"
    event["files"] = [{"name": "export.log", "permalink": "https://files.slack.test/F0LOG/export.log"}]

    slack.send(slack.requests.event(event, event_id="EvFile1"))

    wait_until(
        lambda: slack.thread(1),
        lambda notes: any(
            "Here is the log\nFile: export.log https://files.slack.test/F0LOG/export.log" in n for n in notes
        ),
        "the file's link in the thread",
    )


def test_a_file_in_the_teams_chat_reaches_the_thread_as_a_link(
    teams: Teams, teams_served: BackgroundServer
) -> None:
    card = teams.ticket_card("The export fails with error 500")
    activity = teams.activities.personal_message(CUSTOMER, "The log")
    activity["attachments"] = [
        {
            "contentType": "application/vnd.microsoft.teams.file.download.info",
            "contentUrl": "https://contoso.sharepoint.test/export.log",
            "name": "export.log",
        }
    ]

    teams.send(activity)

    wait_until(
        lambda: teams.thread(card),
        lambda notes: any("File: export.log https://contoso.sharepoint.test/export.log" in n for n in notes),
        "the file's link in the Teams thread",
    )
