"""What closing adds to a ticket's card (the requester's rating, and Close, Close without survey and Reopen
once it is resolved or closed), and the verbs of those controls and of the requester's questions."""

from __future__ import annotations

from datetime import datetime

from chatops.closing.commands import Close, Comment, Confirm, Rate
from chatops.closing.questions import COMMENT, RATE, SCORES, SOLVED, UNSOLVED
from chatops.desk import Desk
from chatops.messaging.cards import ActionRef, Button, Control, Field
from chatops.rich import Rich
from chatops.text import clip
from chatops.tickets.card import CardPart, TicketCard, Verb
from chatops.tickets.commands import Reopen
from chatops.tickets.workflow import Action, Status

# Closing a resolved ticket without sending its requester the survey.
CLOSE_QUIETLY = "close-quietly"


def _fields(card: TicketCard, _desk: Desk, _now: datetime) -> tuple[Field, ...]:
    """The requester's rating, with their comment as they wrote it."""
    view = card.view
    if view.csat_score is None:
        return ()
    score = view.csat_score
    shown: Rich = (f"{'★' * score}{'☆' * (5 - score)} {score} of 5",)
    if view.csat_comment:
        shown += (" · “", clip(view.csat_comment, 500), "”")
    return (Field("Satisfaction", shown),)


def _controls(card: TicketCard, desk: Desk) -> tuple[Control, ...]:
    view = card.view

    def ref(verb: str) -> ActionRef:
        return ActionRef(view.id, verb, view.version)

    if view.status is Status.RESOLVED:
        closing: tuple[Control, ...] = (Button("Close", ref(Action.CLOSE), style="primary"),)
        if desk.config.surveys(view.team) and view.csat_score is None:
            closing += (Button("Close without survey", ref(CLOSE_QUIETLY)),)
        return (*closing, Button("Reopen", ref(Action.REOPEN)))
    if view.status is Status.CLOSED:
        return (Button("Reopen", ref(Action.REOPEN)),)
    return ()


PART = CardPart("closing", fields=_fields, controls=_controls)


def _rate(score: int) -> Verb:
    return lambda click: Rate(**click.about(), score=score)


VERBS: dict[str, Verb] = {
    Action.CLOSE: lambda click: Close(**click.about()),
    CLOSE_QUIETLY: lambda click: Close(**click.about(), survey=False),
    Action.REOPEN: lambda click: Reopen(**click.about()),
    SOLVED: lambda click: Confirm(**click.about(), solved=True),
    UNSOLVED: lambda click: Confirm(**click.about(), solved=False),
    COMMENT: lambda click: Comment(**click.about(), text=click.choice),
    **{f"{RATE}{score}": _rate(score) for score in SCORES},
}
