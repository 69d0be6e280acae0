"""The neutral card: header, fields, body and controls, which every chat adapter renders its own way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from chatops.messaging.rich import Rich


@dataclass(frozen=True)
class ActionRef:
    """What a control does: the ticket, the verb, and the ticket version the card showed."""

    ticket_id: int
    verb: str
    version: int

    PREFIX = "chatops"

    def pack(self) -> str:
        """A compact string that survives a round trip through a platform's button."""
        return f"{self.PREFIX}|{self.ticket_id}|{self.verb}|{self.version}"

    @classmethod
    def unpack(cls, packed: str) -> ActionRef:
        """Read a packed reference; ValueError when it is not one of ours."""
        prefix, ticket_id, verb, version = packed.split("|")
        if prefix != cls.PREFIX:
            raise ValueError(f"not a chatops action: {packed!r}")
        return cls(int(ticket_id), verb, int(version))


@dataclass(frozen=True)
class Button:
    """A push button."""

    label: str
    ref: ActionRef
    style: Literal["primary", "danger"] | None = None
    confirm: str | None = None


@dataclass(frozen=True)
class PersonPicker:
    """A control to choose a person (a person id) among `people`, for platforms without a picker."""

    placeholder: str
    ref: ActionRef
    people: tuple[str, ...] = ()
    selected: str | None = None


@dataclass(frozen=True)
class Choice:
    """One option of a menu."""

    label: str
    value: str


@dataclass(frozen=True)
class Menu:
    """A single-choice menu."""

    placeholder: str
    ref: ActionRef
    options: tuple[Choice, ...]
    selected: str | None = None


Control = Button | PersonPicker | Menu


@dataclass(frozen=True)
class Field:
    """A labelled value shown in a card's grid of fields."""

    label: str
    value: Rich


@dataclass(frozen=True)
class Card:
    """A message with a header, fields, body, footnote and controls; `summary` is the plain fallback."""

    header: str
    summary: str
    fields: tuple[Field, ...] = ()
    body: Rich = ()
    context: Rich = ()
    actions: tuple[Control, ...] = field(default_factory=tuple)
