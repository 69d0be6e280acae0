"""A word to one person that changes no ticket: why their click did nothing, or that a ticket is theirs."""

from __future__ import annotations

from dataclasses import dataclass

from chatops.messaging.outbox import TELL_PRIVATELY, private_payload, send_words
from chatops.messaging.ports import Place
from chatops.rich import Rich
from chatops.work import Work


@dataclass(frozen=True)
class TellPrivately:
    """Show one person a text in the place where they are, as privately as their platform allows."""

    place: Place
    person: str
    text: Rich


def tell_privately(work: Work, command: TellPrivately, _desk: object = None) -> None:
    """Queue the private word on the place's platform."""
    payload = private_payload(command.place.address, command.person, command.text)
    send_words(work, command.place.platform, TELL_PRIVATELY, payload)
