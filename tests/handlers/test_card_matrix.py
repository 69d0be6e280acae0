"""Every card command from every state a card shows, by every kind of person: what is allowed, what is
refused and why, and what an allowed change sends out."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from world import World

from chatops.closing.commands import Close
from chatops.errors import Forbidden, IllegalTransition
from chatops.messaging.ports import Place
from chatops.tickets.commands import (
    Assign,
    ChangePriority,
    Claim,
    Escalate,
    OpenTicket,
    Reopen,
    Resolve,
    TicketCommand,
)

AGENT, LEAD, OUTSIDER, CUSTOMER = "slack:U0AGENT2", "slack:U0LEAD", "slack:U0BILL1", "slack:U0CUSTOMER"
CHANNEL = Place("slack", "C0SUPPORT")


def at_tier_three(world: World, number: int) -> None:
    for tier in (1, 2):
        world.do(Escalate(number, tier, "slack:U0AGENT1", CHANNEL, reason="needs the next tier"))


def assigned(world: World, number: int) -> None:
    world.do(Claim(number, 1, "slack:U0AGENT1", CHANNEL))


def resolved(world: World, number: int) -> None:
    world.do(Resolve(number, 1, "slack:U0AGENT1", CHANNEL))


STATES: dict[str, Callable[[World, int], None]] = {
    "triaged": lambda world, number: None,
    "assigned": assigned,
    "resolved": resolved,
    "at T3": at_tier_three,
}
COMMANDS: dict[str, Callable[[int, int, str], TicketCommand]] = {
    "claim": lambda n, v, actor: Claim(n, v, actor, CHANNEL),
    "assign": lambda n, v, actor: Assign(n, v, actor, CHANNEL, assignee=LEAD),
    "escalate": lambda n, v, actor: Escalate(n, v, actor, CHANNEL, reason="needs the next tier"),
    "priority": lambda n, v, actor: ChangePriority(n, v, actor, CHANNEL, priority="urgent"),
    "resolve": lambda n, v, actor: Resolve(n, v, actor, CHANNEL),
    "reopen": lambda n, v, actor: Reopen(n, v, actor, CHANNEL),
    "close": lambda n, v, actor: Close(n, v, actor, CHANNEL),
}
# What the workflow refuses, by state; everything else is allowed to the team.
REFUSED = {
    ("triaged", "reopen"),
    ("assigned", "reopen"),
    *{("resolved", command) for command in ("claim", "assign", "escalate", "priority", "resolve")},
    ("at T3", "escalate"),
    ("at T3", "reopen"),
    ("triaged", "close"),
    ("assigned", "close"),
    ("at T3", "close"),
}
# Who hears of an allowed change besides the card and its thread: the requester, when it is theirs to know
# (a resolve tells them, then asks whether it solved it; a close sends the survey), and for an escalation
# the next tier too (the team's lead, where no one is named for the tier).
TELLS = {"claim": 1, "assign": 1, "escalate": 2, "resolve": 2, "close": 1, "reopen": 1}


@pytest.mark.parametrize("actor", [AGENT, LEAD, OUTSIDER, CUSTOMER])
@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("state", list(STATES))
def test_a_card_command(world: World, state: str, command: str, actor: str) -> None:
    opened = world.do(OpenTicket(text="Export crashes", requester=CUSTOMER, via="command", platform="slack"))
    number = opened.value.ticket.id
    STATES[state](world, number)
    version = world.ticket(number).version
    queued = world.last_outbox_id()

    answer = world.do(COMMANDS[command](number, version, actor))

    after = world.ticket(number)
    sent = [row.kind for row in world.outbox(after=queued)]
    if actor in (OUTSIDER, CUSTOMER):
        assert answer.refused(Forbidden)
        assert (after.version, sent) == (version, ["tell_privately"])
        return
    if (state, command) in REFUSED:
        assert answer.refused(IllegalTransition)
        assert (after.version, sent) == (version, ["tell_privately"])
        return
    assert answer.done, answer.refusal
    assert after.version == version + 1
    expected = ["message"] * TELLS.get(command, 0)
    assert sent == [*expected, "update_card", "thread_note"]
    assert (after.next_check_at is None) == (after.status in ("resolved", "closed"))
