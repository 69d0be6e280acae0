"""`/ticket help | status | list`, and every kind of bad input, answered ephemerally and clearly."""

from __future__ import annotations

from sqlalchemy import text as sql

from harness import Probe, Slack


def reply(slack: Slack, text: str, user: str = "U0CUSTOMER") -> str:
    response = slack.command(text, user=user)
    body = response.json()
    assert body["response_type"] == "ephemeral", body
    return str(body["text"])


def test_help_lists_what_the_command_does(slack: Slack) -> None:
    text = reply(slack, "help")

    for usage in ("`/ticket status 42`", "`/ticket list`", "`/ticket list open`", "*Create ticket*"):
        assert usage in text


def test_status_shows_a_customer_their_own_ticket_only(slack: Slack) -> None:
    mine = slack.open_ticket("Export crashes every time", user="U0CUSTOMER")
    theirs = slack.open_ticket("Invoice is wrong", user="U0OTHER")

    assert reply(slack, f"status {mine}").startswith(
        f"#{mine} Export crashes every time · bug · normal · triaged · T1 · unassigned"
    )
    assert reply(slack, f"status #{theirs}") == f"There is no ticket #{theirs} that you can see."
    assert reply(slack, "status 999") == "There is no ticket #999 that you can see."


def test_agents_see_their_teams_tickets(slack: Slack) -> None:
    number = slack.open_ticket("Export crashes every time")

    assert reply(slack, f"status {number}", user="U0AGENT1").startswith(f"#{number} Export crashes")
    assert (
        reply(slack, f"status {number}", user="U0BILL1") == f"There is no ticket #{number} that you can see."
    )


def test_list_shows_my_tickets_and_list_open_the_team_queue(slack: Slack) -> None:
    first = slack.open_ticket("Export crashes every time")
    second = slack.open_ticket("Site is down, urgent")
    billing = slack.open_ticket("Refund my invoice please")
    slack.open_ticket("Another customer's crash", user="U0OTHER")

    mine = reply(slack, "list")
    assert mine.startswith("*Your tickets*")
    assert [f"#{n} " in mine for n in (first, second, billing)] == [True, True, True]
    assert "Another customer" not in mine

    queue = reply(slack, "list open", user="U0AGENT1")
    lines = queue.splitlines()
    assert lines[0] == "*Open queue*"
    assert lines[1].startswith(f"• #{second} ") and lines[2].startswith(f"• #{first} ")
    assert "Refund" not in queue and "Another customer" in queue

    assert reply(slack, "list open") == "The open queue is for agents. `list` shows your own tickets."


def test_unknown_subcommands_and_bad_arguments_get_a_clear_answer(slack: Slack, probe: Probe) -> None:
    assert reply(slack, "stats").startswith("“stats” is not something `/ticket` knows.")
    assert reply(slack, "status abc") == "`status` needs a ticket number, as in `/ticket status 42`."
    assert reply(slack, "list closed").startswith("`list` takes nothing (your tickets) or `open`")
    assert probe.tickets() == []


def test_oversized_text_is_refused_and_nothing_is_opened(slack: Slack, probe: Probe) -> None:
    text = reply(slack, "crash " * 700)

    assert text.startswith("That is 4,199 characters; `/ticket` takes at most 4,000.")
    assert probe.tickets() == []


def test_a_sentence_starting_with_a_subcommand_word_is_a_ticket(slack: Slack, probe: Probe) -> None:
    assert reply(slack, "status page shows an error").startswith("Ticket #1 opened")
    assert probe.ticket(1).category == "bug"


def test_a_form_that_cannot_open_gets_a_clear_way_forward(slack: Slack, probe: Probe) -> None:
    slack.standin.inject("views.open", "error:expired_trigger_id")

    text = reply(slack, "")

    assert text.startswith("The form could not be opened just now.")
    assert "`/ticket The export fails with error 500`" in text
    assert probe.tickets() == []


def test_a_failure_on_our_side_is_a_clear_message_and_leaves_nothing_half_done(
    slack: Slack, probe: Probe
) -> None:
    with probe.engine.begin() as connection:
        connection.execute(sql("DROP TABLE ticket_events"))

    answer = reply(slack, "Export crashes every time")

    assert answer.startswith("Something went wrong on our side and your request was not recorded.")
    assert probe.tickets() == []
    assert probe.pending_outbox() == 0
