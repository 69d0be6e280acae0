"""The triage card of a ticket, in the neutral card model: the ticket's own header, fields and words, and
what each domain adds to it (its parts: fields, controls and the verbs those controls stand for)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from chatops.desk import Desk
from chatops.messaging.cards import ActionRef, Card, Control, Field
from chatops.messaging.ports import Place
from chatops.rich import Link, Mention, Moment, Rich
from chatops.text import clip
from chatops.tickets.commands import TicketCommand, Via
from chatops.tickets.views import TicketView

# How much of a request its card shows; the whole of a longer one goes into the card's thread.
BODY_LIMIT = 2500
# The tickets' own part of the card loads a link to the message each ticket came from, if it has one.
TICKETS = "tickets"
VIA = {
    Via.COMMAND: "command",
    Via.FORM: "form",
    Via.SHORTCUT: "message shortcut",
    Via.DM: "direct message",
    Via.EMOJI: "emoji on a message",
    Via.CHANNEL: "request channel",
}


@dataclass(frozen=True)
class TicketCard:
    """A ticket as its card shows it: the ticket, and what each part of the card loaded for it (by the
    part's name)."""

    view: TicketView
    loaded: Mapping[str, Any] = field(default_factory=dict)

    def of(self, part: str) -> Any:
        """What a part loaded for this ticket (None if it loaded nothing)."""
        return self.loaded.get(part)


@dataclass(frozen=True)
class Click:
    """A card's control pressed: the reference it carried, who pressed it, where, and the person or option
    chosen or the words typed with it."""

    ref: ActionRef
    actor: str
    place: Place | None
    choice: str | None = None

    def about(self) -> dict[str, Any]:
        """The fields every command asked for from a card starts with."""
        return {
            "ticket_id": self.ref.ticket_id,
            "version": self.ref.version,
            "actor": self.actor,
            "place": self.place,
        }


# What a control's verb stands for: the command a click on it asks for.
Verb = Callable[[Click], TicketCommand]


@dataclass(frozen=True)
class CardPart:
    """What one domain adds to a ticket's card: what it loads for a batch of tickets (by ticket id), its
    fields, and its controls."""

    name: str
    load: Callable[[Session, Sequence[TicketView], Desk], Mapping[int, Any]] | None = None
    fields: Callable[[TicketCard, Desk, datetime], tuple[Field, ...]] | None = None
    controls: Callable[[TicketCard, Desk], tuple[Control, ...]] | None = None


def draw(card: TicketCard, parts: Sequence[CardPart], desk: Desk, now: datetime) -> Card:
    """The card that stands for a ticket in its team's places as of `now`, with every part's share."""
    view = card.view
    header = f"{view.number} {view.title}"
    body: Rich = (clip(view.description, BODY_LIMIT),)
    if len(view.description) > BODY_LIMIT:
        body = (
            f"(Shortened: all {len(view.description):,} characters of the request are in the thread.)\n",
            *body,
        )
    origin = card.of(TICKETS)
    if origin:
        body += ("\n", Link(origin, "Original message"))
    context: Rich = (
        f"{desk.config.team(view.team).name} · opened via {VIA.get(view.via, view.via)} ",
        Moment(view.created_at),
    )
    why = Field("Why", ("\n".join(view.reasons) or "no rule matched; defaults applied",))
    return Card(
        header=header,
        summary=f"{header} ({view.priority}, {view.status.label.lower()})",
        fields=(*(f for part in parts if part.fields for f in part.fields(card, desk, now)), why),
        body=body,
        context=context,
        actions=tuple(c for part in parts if part.controls for c in part.controls(card, desk)),
    )


def moved_line(team: str, actor: str, at: datetime) -> Rich:
    """What a card left behind in a team's places says once its ticket went to another team."""
    return ("Moved to ", team, " by ", Mention(actor), " · ", Moment(at))


def left_behind(card: Card, said: Rich) -> Card:
    """A card left behind in a team's places: the ticket as it stands, saying where it went, with no
    controls (they belong to the new team's card)."""
    return replace(card, context=said, actions=())


def load(
    session: Session, views: Sequence[TicketView], parts: Sequence[CardPart], desk: Desk
) -> dict[int, TicketCard]:
    """The cards' data of some tickets: what every part loads for them, in one go per part."""
    loaded = {part.name: part.load(session, views, desk) for part in parts if part.load}
    return {
        view.id: TicketCard(
            view, {name: found[view.id] for name, found in loaded.items() if view.id in found}
        )
        for view in views
    }
