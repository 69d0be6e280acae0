"""The ticket command's words, read into the desk's own commands: what is a command, what it needs, and
what stays a request in plain words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatops.conversation.commands import ListReplies, RemoveReply, SaveReply, SwitchRequestChannel
from chatops.errors import InvalidInput
from chatops.messaging.ports import Place
from chatops.rich import plain
from chatops.tickets.commands import (
    Escalate,
    ListMine,
    ListNearBreach,
    ListQueue,
    MoveTicket,
    OpenTicket,
    ShowTicket,
    Start,
    Via,
)
from chatops.tracking.commands import LinkIssue, UnlinkIssue
from commands.help import help_text
from commands.parser import Caller, Help, OpenForm, is_command, parse

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANN = "slack:U0AGENT1"
CALLER = Caller(ANN, "slack", "C0GENERAL", "/ticket", NOW, request_id="trigger:1")
LATER = Caller(ANN, "teams", "19:chat", "ticket", NOW, tell=Place("teams", "19:chat"))


def request(text: str) -> OpenTicket:
    return OpenTicket(
        text=text,
        requester=ANN,
        via=Via.COMMAND,
        platform="slack",
        origin_place="C0GENERAL",
        command="/ticket",
        request_id="trigger:1",
    )


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ("", OpenForm()),
        ("help", Help()),
        ("sla", ListNearBreach(ANN, NOW)),
        ("status #42", ShowTicket(42, ANN)),
        ("list", ListMine(ANN)),
        ("list open", ListQueue(ANN)),
        ("link 42 SUP-123", LinkIssue(42, None, ANN, key="SUP-123")),
        ("link #42 sup-7", LinkIssue(42, None, ANN, key="sup-7")),
        ("unlink 42", UnlinkIssue(42, None, ANN)),
        ("start 42", Start(42, None, ANN)),
        ("escalate 42 needs the  database team", Escalate(42, None, ANN, reason="needs the  database team")),
        ("move 42 Billing", MoveTicket(42, None, ANN, team="billing")),
        ("channel on", SwitchRequestChannel("slack", "C0GENERAL", ANN, on=True)),
        ("Channel OFF", SwitchRequestChannel("slack", "C0GENERAL", ANN, on=False)),
        ("reply add thanks-wait Hi {requester}", SaveReply("thanks-wait", "Hi {requester}", ANN, "/ticket")),
        (
            "Reply ADD Thanks-Wait  Hi,\n\nwe are on it.  ",
            SaveReply("thanks-wait", "Hi,\n\nwe are on it.", ANN, "/ticket"),
        ),
        ("reply remove thanks-wait", RemoveReply("thanks-wait", ANN)),
        ("reply list", ListReplies(ANN)),
    ],
)
def test_each_verb_is_the_desks_own_command(typed: str, parsed: object) -> None:
    assert parse(typed, CALLER) == parsed


@pytest.mark.parametrize(
    "typed",
    [
        "link is broken on the pricing page",
        "unlink my account from SSO",
        "start the export again please",
        "escalate this, it is urgent",
        "move my meeting to Friday",
        "channel is down since noon",
        "reply is slow to arrive by email",
        "reply add-on does not load",
        "status of my order please",
        "list of users is empty",
        "help me with the export",
        "sla reports are wrong",
    ],
)
def test_a_verb_followed_by_plain_words_is_a_request(typed: str) -> None:
    assert parse(typed, CALLER) == request(typed)
    assert not is_command(typed)


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("link", "link needs a ticket number and an issue key, as in /ticket link 42 SUP-123"),
        ("link 42", "as in /ticket link 42 SUP-123"),
        ("link SUP-1", "as in /ticket link 42 SUP-123"),
        ("link 42 SUP-1 now", "as in /ticket link 42 SUP-123"),
        ("unlink", "as in /ticket unlink 42"),
        ("start", "start needs a ticket number, as in /ticket start 42"),
        ("escalate 42", "escalate needs a ticket number and why"),
        ("move 42", "move needs a ticket number and a team, as in /ticket move 42 billing"),
        ("status", "status needs a ticket number"),
        ("channel", "channel takes on or off"),
        ("reply", "/ticket reply add thanks-wait Hi {requester}"),
        ("reply add thanks-wait", "reply add needs a name, then the reply's text"),
        ("reply remove thanks-wait now", "reply remove needs the reply's name alone"),
        ("reply list all", "reply list takes nothing after it"),
        ("hello", "“hello” is not something /ticket knows"),
    ],
)
def test_a_command_missing_its_parts_says_how(typed: str, hint: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse(typed, CALLER)
    assert hint in refused.value.message


def test_a_command_typed_where_the_answer_comes_later_is_refused_there() -> None:
    assert parse("start 42", LATER) == Start(42, None, ANN, Place("teams", "19:chat"))
    assert is_command("start 42") and is_command("start") and is_command("help")


def test_help_tells_agents_how_to_save_a_reply_and_work_a_ticket_by_command() -> None:
    said = plain(help_text("/ticket"))
    assert "/ticket reply add <name> <text> saves a canned reply" in said
    assert "/ticket escalate 42 <why> passes it to the next tier" in said
