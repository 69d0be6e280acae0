"""How tying tickets to the tracker reacts to what happens to them: a ticket whose category goes to the
tracker is sent there (when it opens, and when an agent picks the category), and an issue waiting for its
ticket's card is made as soon as the card is up."""

from __future__ import annotations

from chatops.desk import Desk
from chatops.messaging.outbox_store import release
from chatops.tickets import repository as tickets
from chatops.tickets.events import CardPosted, CategoryChanged, TicketOpened
from chatops.tickets.outbound import note
from chatops.tracking.outbound import CREATE
from chatops.tracking.pushing import push_category
from chatops.work import Work


def push_opened(work: Work, event: TicketOpened, desk: Desk) -> None:
    """A new ticket whose category goes to the tracker is sent there."""
    push_category(work, desk, event.ticket_id, event.category)


def push_recategorised(work: Work, event: CategoryChanged, desk: Desk) -> None:
    """A ticket given a category that goes to the tracker is sent there, and its thread says so."""
    kind = push_category(work, desk, event.ticket_id, event.after)
    if kind is not None and desk.tracker is not None:
        ticket = tickets.get(work.session, event.ticket_id)
        assert ticket is not None, "a ticket is never deleted"
        said = (f"Sent to {desk.tracker.capitalize()} as {kind.choice}",)
        note(work, desk, ticket.id, ticket.team, said)


def card_posted(work: Work, event: CardPosted, desk: Desk) -> None:
    """An issue that waited for the ticket's card to link to is made now."""
    if desk.tracker is not None:
        release(work.session, event.ticket_id, desk.tracker, CREATE, work.now)


EVENT_HANDLERS = {
    TicketOpened: [push_opened],
    CategoryChanged: [push_recategorised],
    CardPosted: [card_posted],
}
