"""What the conversation adds to a worked ticket's card (Reply to customer, and the menu of canned replies:
the rules' and those saved from chat), and the verbs of those controls and of the requester's chooser."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from chatops.conversation import repository as conversation
from chatops.conversation.commands import JOIN, PlaceHeld, ReplyToCustomer, SendCanned
from chatops.desk import Desk
from chatops.messaging.cards import ActionRef, Choice, Control, Menu, Prompt
from chatops.tickets.card import CardPart, TicketCard, Verb
from chatops.tickets.views import TicketView
from chatops.tickets.workflow import WORKED

# The verbs of the conversation's controls on a ticket's card.
CANNED = "canned"
REPLY = "reply"
# The most canned replies a card offers: more would not be read.
CANNED_CHOICES = 100


def _load(session: Session, views: Sequence[TicketView], _desk: Desk) -> Mapping[int, tuple[str, ...]]:
    """The canned replies saved from chat, for the worked tickets (no other card offers them)."""
    worked = [view.id for view in views if view.status in WORKED]
    if not worked:
        return {}
    saved = tuple(conversation.saved_reply_names(session, CANNED_CHOICES))
    return dict.fromkeys(worked, saved)


def _controls(card: TicketCard, desk: Desk) -> tuple[Control, ...]:
    view = card.view
    if view.status not in WORKED:
        return ()
    controls: list[Control] = [
        Prompt(
            "Reply to customer",
            ActionRef(view.id, REPLY, view.version),
            title=f"Reply on {view.number}",
            placeholder="What the requester reads, under your name",
            submit="Send",
        )
    ]
    canned = [c.name for c in desk.config.canned_replies]
    canned += [name for name in card.of(PART.name) or () if name not in canned]
    if canned:
        controls.append(
            Menu(
                "Canned reply…",
                ActionRef(view.id, CANNED, view.version),
                tuple(Choice(name, name) for name in canned[:CANNED_CHOICES]),
            )
        )
    return tuple(controls)


PART = CardPart("conversation", load=_load, controls=_controls)

VERBS: dict[str, Verb] = {
    CANNED: lambda click: SendCanned(**click.about(), name=click.choice),
    REPLY: lambda click: ReplyToCustomer(**click.about(), text=click.choice),
    JOIN: lambda click: PlaceHeld(**click.about()),
}
