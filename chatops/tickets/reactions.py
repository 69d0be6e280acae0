"""How the tickets domain reacts to what happens to a ticket, whatever caused it: its cards are drawn
again with a line in their threads, its requester hears what became of their request, the next tier
hears of an escalation, and a moved ticket's cards go to its new team."""

from __future__ import annotations

from chatops.desk import Desk
from chatops.messaging.ports import MessageRef
from chatops.people.identity import is_system
from chatops.rich import Mention, Moment, Rich, Strong, rich_to_json
from chatops.text import clip
from chatops.tickets import repository
from chatops.tickets.card import moved_line
from chatops.tickets.events import Assigned, Escalated, Moved, Reopened, Resolved, TicketChanged
from chatops.tickets.outbound import RETIRE_CARD, note, post_cards, tell_person, tell_requester, update_cards
from chatops.tickets.repository import CARD
from chatops.work import Work


def redraw(work: Work, event: TicketChanged, desk: Desk) -> None:
    """Draw the ticket's cards again; a person's change names them first, the desk's says only what
    happened."""
    update_cards(work, desk, event.ticket_id, event.team)
    if event.said is not None:
        who: Rich = () if is_system(event.actor) else (Mention(event.actor), " ")
        note(work, desk, event.ticket_id, event.team, (*who, *event.said, " · ", Moment(work.now)))


def tell_assigned(work: Work, event: Assigned, desk: Desk) -> None:
    """The requester learns who handles their ticket."""
    ticket = repository.existing(work.session, event.ticket_id)
    tell_requester(work, desk, ticket, ("is now handled by ", Mention(event.assignee), "."))


def tell_resolved(work: Work, event: Resolved, desk: Desk) -> None:
    """The requester learns who resolved their ticket (news the resolution came with is told with the
    question that follows it, in one message)."""
    if event.news is None and not is_system(event.actor):
        ticket = repository.existing(work.session, event.ticket_id)
        if not desk.roles.same(event.actor, ticket.requester):
            tell_requester(work, desk, ticket, ("has been resolved by ", Mention(event.actor), "."))


def tell_reopened(work: Work, event: Reopened, desk: Desk) -> None:
    """The requester learns their ticket is open again, and why, unless they reopened it themselves."""
    ticket = repository.existing(work.session, event.ticket_id)
    if event.requester_told or desk.roles.same(event.actor, ticket.requester):
        return
    why: Rich = event.why or ("reopened by ", Mention(event.actor))
    tell_requester(work, desk, ticket, ("is open again: ", *why, "."))


def tell_escalated(work: Work, event: Escalated, desk: Desk) -> None:
    """The requester learns their ticket went up; the next tier hears why, with a link to its card."""
    ticket = repository.existing(work.session, event.ticket_id)
    if not event.requester_told:
        tell_requester(work, desk, ticket, (f"has been passed to our Tier {event.after} team.",))
    cards = {
        link.system: MessageRef(link.address, link.ref)
        for link in repository.links_of(work.session, [ticket.id])
        if link.kind == CARD and link.ref
    }
    who: Rich = ("The desk" if is_system(event.actor) else Mention(event.actor),)
    said: Rich = (
        Strong(f"Ticket #{ticket.id}"),
        f" “{clip(ticket.title, 80)}” comes to Tier {event.after}: ",
        *who,
        " escalated it from T",
        str(event.before),
        ": “",
        event.reason,
        "”.",
    )
    for person in desk.roles.tier(ticket.team, event.after):
        tell_person(work, desk, person, said, prefer=ticket.platform, ticket_id=ticket.id, cards=cards)


def move_cards(work: Work, event: Moved, desk: Desk) -> None:
    """The old team's cards say where the ticket went and lose their controls; the new team's places get
    a card of their own."""
    name = desk.config.team(event.after).name
    said = moved_line(name, event.actor, work.now)
    for link in repository.drop_links(work.session, event.ticket_id, CARD):
        if link.ref:
            payload = {"card": {"place": link.address, "id": link.ref}, "said": rich_to_json(said)}
            work.send(link.system, RETIRE_CARD, ticket_id=event.ticket_id, payload=payload)
    post_cards(work, desk, event.ticket_id, event.after)


EVENT_HANDLERS = {
    TicketChanged: [redraw],
    Assigned: [tell_assigned],
    Resolved: [tell_resolved],
    Reopened: [tell_reopened],
    Escalated: [tell_escalated],
    Moved: [move_cards],
}
