"""From a control on a card to the command it stands for, whichever platform it was pressed on: each
domain names its verbs, and this puts them together."""

from __future__ import annotations

from chatops.closing import controls as closing
from chatops.conversation import controls as conversation
from chatops.errors import InvalidInput
from chatops.messaging.cards import ActionRef
from chatops.messaging.ports import Place
from chatops.tickets import controls as tickets
from chatops.tickets.card import Click, Verb
from chatops.tickets.commands import TicketCommand
from chatops.tracking import controls as tracking

VERBS: dict[str, Verb] = {**tickets.VERBS, **conversation.VERBS, **tracking.VERBS, **closing.VERBS}


def command_for(ref: ActionRef, actor: str, place: Place | None, choice: str | None = None) -> TicketCommand:
    """The command a click asks for; `choice` is the person (a person id) or option a menu carried, or the
    words typed into a control's form."""
    verb = VERBS.get(ref.verb)
    if verb is None:
        raise InvalidInput(f"This card offers an action ({ref.verb!r}) the desk does not know.")
    return verb(Click(ref, actor, place, choice))
