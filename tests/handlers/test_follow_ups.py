"""A requester's next words join their open ticket: kept once, brought to the card's thread, and taking
the ticket off hold; `new` opens another, and a ticket from elsewhere does not catch them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from world import CUSTOMER, World, rules

from chatops.conversation.commands import ChannelMessage, DirectMessage, PlaceHeld
from chatops.conversation.follow_ups import Held, Joined
from chatops.errors import Forbidden, IllegalTransition
from chatops.messaging.cards import card_from_json
from chatops.rich import plain
from chatops.tickets.commands import Claim, OpenTicket, WaitOnCustomer
from chatops.tickets.intake import Opened

DM = "D0CUSTOMER"


def write(desk: World, text: str, ref: str, *, place: str = DM, requester: str = CUSTOMER) -> Any:
    request = OpenTicket(
        text=text,
        requester=requester,
        via="dm",
        platform="slack",
        origin_place=place,
        origin_ref=ref,
        request_id=f"ev-{ref}",
        confirm_directly=True,
    )
    answer = desk.do(DirectMessage(request))
    assert answer.done, answer.refusal
    return answer.value


def told(desk: World, after: int) -> list[str]:
    return [
        plain(row.text())
        for row in desk.outbox(after=after)
        if row.kind == "message" and row.payload["to"]["person"] == CUSTOMER
    ]


def test_a_second_message_in_the_same_dm_joins_the_open_ticket_and_reaches_its_thread(world: World) -> None:
    opened = write(world, "The export crashes every time", "1.0")
    before = world.last_outbox_id()

    joined = write(world, "It also fails with <PDF> & CSV, ask @lee", "2.0")

    assert isinstance(opened, Opened) and isinstance(joined, Joined)
    assert joined.ticket.id == opened.ticket.id
    assert world.thread_notes(opened.ticket.id)[-1] == (
        "From the customer, U0CUSTOMER:\nIt also fails with <PDF> & CSV, ask @lee"
    )
    assert any(f"Added to your ticket #{opened.ticket.id}" in text for text in told(world, before))


def test_the_same_message_delivered_again_is_taken_in_once(world: World) -> None:
    opened = write(world, "The export crashes every time", "1.0")
    write(world, "Still broken", "2.0")
    before = world.last_outbox_id()

    again = write(world, "Still broken", "2.0")

    assert again.ticket.id == opened.ticket.id
    assert world.outbox(after=before) == []


def test_new_opens_another_ticket_and_a_closed_one_catches_nothing(world: World) -> None:
    first = write(world, "The export crashes every time", "1.0")

    second = write(world, "new Also, my invoice is wrong", "2.0")

    assert isinstance(second, Opened) and second.ticket.id != first.ticket.id
    assert second.ticket.title == "Also, my invoice is wrong"
    before = world.last_outbox_id()
    third = write(world, "About the export: it is the PDF one", "3.0")
    again = write(world, "About the export: it is the PDF one", "3.0")

    # Both are open from this DM: the message waits for the requester to say which one, asked once.
    assert isinstance(third, Held) and third.open_tickets == 2 and isinstance(again, Held)
    [asked] = chooser_cards(world, before)
    assert asked.header == "Which ticket is this about?"
    assert [c.label for c in asked.actions] == [
        f"#{second.ticket.id} Also, my invoice is wrong",
        f"#{first.ticket.id} The export crashes every time",
        "A new ticket",
    ]
    assert not any("PDF one" in note for note in world.thread_notes(first.ticket.id))


def chooser_cards(world: World, after: int) -> list[Any]:
    return [card_from_json(row.payload["card"]) for row in world.outbox(after=after) if "card" in row.payload]


def choose(world: World, card: Any, label: str, actor: str = CUSTOMER) -> Any:
    button = next(c for c in card.actions if c.label.startswith(label))
    return world.do(PlaceHeld(button.ref.ticket_id, button.ref.version, actor, None))


def test_the_chosen_ticket_gets_the_held_message_once(world: World) -> None:
    first = write(world, "The export crashes every time", "1.0").ticket.id
    second = write(world, "new My invoice is wrong", "2.0").ticket.id
    before = world.last_outbox_id()
    write(world, "It is the PDF export & the <CSV> one", "3.0")
    [card] = chooser_cards(world, before)

    someone = choose(world, card, f"#{first}", actor="slack:U0AGENT1")
    chosen = choose(world, card, f"#{first}")
    twice = choose(world, card, f"#{second}")

    assert someone.refused(Forbidden)
    assert chosen.done and plain(chosen.value.said) == f"Added to ticket #{first}."
    assert twice.refused(IllegalTransition)
    assert "It is the PDF export & the <CSV> one" in world.thread_notes(first)[-1]
    assert not any("PDF" in note for note in world.thread_notes(second))
    redelivered = write(world, "It is the PDF export & the <CSV> one", "3.0")
    assert isinstance(redelivered, Joined) and redelivered.ticket.id == first


def test_a_held_message_can_open_a_new_ticket_instead(world: World) -> None:
    write(world, "The export crashes every time", "1.0")
    write(world, "new My invoice is wrong", "2.0")
    before = world.last_outbox_id()
    write(world, "And the VPN drops hourly", "3.0")
    [card] = chooser_cards(world, before)

    opened = choose(world, card, "A new ticket")

    assert opened.done and opened.value.ticket.title == "And the VPN drops hourly"
    assert plain(opened.value.said) == f"Your message opened ticket #{opened.value.ticket.id}."


def test_a_dm_answers_a_ticket_asked_for_by_command_whose_news_comes_there(world: World) -> None:
    command = world.open_one("The export crashes every time")
    assert world.click(Claim, command).done
    assert world.click(WaitOnCustomer, command).done

    dm = write(world, "Here is the log you asked for", "1.0")

    assert isinstance(dm, Joined) and dm.ticket.id == command
    assert world.ticket(command).status == "in_progress"


def test_a_ticket_asked_for_in_a_request_channel_does_not_catch_a_dm(
    world_with: Callable[..., World],
) -> None:
    desk = world_with(rules(request_channels=["C0HELP"]))
    asked = desk.do(ChannelMessage("slack", "C0HELP", CUSTOMER, "The export crashes", "1700000000.000001"))
    assert asked.done, asked.refusal

    dm = write(desk, "Something else entirely", "1.0")

    assert isinstance(dm, Opened) and dm.ticket.id != asked.value.ticket.id


def test_the_requesters_answer_takes_the_ticket_off_hold(world: World) -> None:
    number = write(world, "The export crashes every time", "1.0").ticket.id
    assert world.click(Claim, number).done
    assert world.click(WaitOnCustomer, number).done

    joined = write(world, "Here is the file you asked for", "2.0")

    assert joined.ticket.status.value == "in_progress"
    assert world.ticket(number).status == "in_progress"
    assert "U0CUSTOMER wrote back, so the ticket is off hold" in world.thread_notes(number)[-1]
    assert [e.action for e in world.events(number)][-1] == "resume"


def test_a_run_of_messages_is_confirmed_once_and_a_later_one_again(world: World) -> None:
    number = write(world, "The export crashes every time", "1.0").ticket.id
    before = world.last_outbox_id()

    for ref in ("2.0", "3.0", "4.0"):
        write(world, f"More detail {ref}", ref)
    world.clock.advance(minutes=11)
    write(world, "Still broken today", "5.0")

    confirmations = [text for text in told(world, before) if text.startswith("Added to your ticket")]
    assert len(confirmations) == 2
    assert sum("More detail" in note for note in world.thread_notes(number)) == 3
