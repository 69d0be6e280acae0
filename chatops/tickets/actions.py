"""From a control on a ticket's card to the command it stands for, whichever platform it was clicked on."""

from __future__ import annotations

import re

from chatops.closing.commands import Close, Comment, Confirm, Rate
from chatops.closing.questions import COMMENT, RATE, SOLVED, UNSOLVED
from chatops.conversation.commands import JOIN, PlaceHeld, ReplyToCustomer, SendCanned
from chatops.errors import InvalidInput
from chatops.messaging.cards import ActionRef
from chatops.messaging.ports import Place
from chatops.tickets.card import CANNED, CATEGORY, CLOSE_QUIETLY, MERGE, REPLY, SEND
from chatops.tickets.commands import (
    Assign,
    CardCommand,
    ChangeCategory,
    ChangePriority,
    Claim,
    Escalate,
    Reopen,
    Resolve,
    Resume,
    WaitOnCustomer,
)
from chatops.tickets.workflow import Action
from chatops.tracking.commands import MergeOnto, SendToTracker

# A rating's score is one to nine ASCII digits: str.isdigit() also takes superscripts and other scripts'
# digits, which int() cannot read or reads as a score nobody was offered.
_SCORE = re.compile(re.escape(RATE) + "([0-9]{1,9})")

_PLAIN = {
    Action.CLAIM: Claim,
    Action.ESCALATE: Escalate,
    Action.RESOLVE: Resolve,
    Action.REOPEN: Reopen,
    Action.WAIT: WaitOnCustomer,
    Action.RESUME: Resume,
}


def command_for(ref: ActionRef, actor: str, place: Place | None, choice: str | None = None) -> CardCommand:
    """The command a click asks for; `choice` is the person (a person id) or option a menu carried."""
    common = {"ticket_id": ref.ticket_id, "version": ref.version, "actor": actor, "place": place}
    if ref.verb == CATEGORY:
        return ChangeCategory(**common, category=choice)
    if ref.verb == CANNED:
        return SendCanned(**common, name=choice)
    if ref.verb == SEND:
        return SendToTracker(**common, choice=choice)
    if ref.verb == MERGE:
        return MergeOnto(**common, key=choice)
    if ref.verb in (SOLVED, UNSOLVED):
        return Confirm(**common, solved=ref.verb == SOLVED)
    if (rated := _SCORE.fullmatch(ref.verb)) is not None:
        return Rate(**common, score=int(rated[1]))
    if ref.verb == COMMENT:
        return Comment(**common, text=choice)
    if ref.verb == JOIN:
        return PlaceHeld(**common)
    if ref.verb == REPLY:
        return ReplyToCustomer(**common, text=choice)
    if ref.verb == CLOSE_QUIETLY:
        return Close(**common, survey=False)
    try:
        action = Action(ref.verb)
    except ValueError:
        raise InvalidInput(f"This card offers an action ({ref.verb!r}) the desk does not know.") from None
    if action is Action.ASSIGN:
        return Assign(**common, assignee=choice)
    if action is Action.PRIORITY:
        return ChangePriority(**common, priority=choice)
    if action is Action.CLOSE:
        return Close(**common)
    if action in _PLAIN:
        return _PLAIN[action](**common)
    raise InvalidInput(f"{action.value} cannot be done from a card.")
