"""The neutral card and rich-text model that every chat adapter renders in its own format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal


@dataclass(frozen=True)
class Person:
    """A mention of a person by their platform user id."""

    id: str


@dataclass(frozen=True)
class Moment:
    """A point in time, shown in the reader's own time zone where the platform can."""

    at: datetime


@dataclass(frozen=True)
class Link:
    """A hyperlink with a label."""

    url: str
    label: str


Segment = str | Person | Moment | Link
Rich = tuple[Segment, ...]


def rich(*parts: Segment) -> Rich:
    """Build rich text from plain strings, mentions, moments and links."""
    return tuple(parts)


def rich_to_json(text: Rich) -> list[Any]:
    """Rich text as JSON, to travel in an outbox row."""
    out: list[Any] = []
    for part in text:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Person):
            out.append({"person": part.id})
        elif isinstance(part, Moment):
            out.append({"moment": part.at.isoformat()})
        else:
            out.append({"link": part.url, "label": part.label})
    return out


def rich_from_json(data: list[Any]) -> Rich:
    """The inverse of rich_to_json."""
    parts: list[Segment] = []
    for item in data:
        if isinstance(item, str):
            parts.append(item)
        elif "person" in item:
            parts.append(Person(item["person"]))
        elif "moment" in item:
            parts.append(Moment(datetime.fromisoformat(item["moment"])))
        else:
            parts.append(Link(item["link"], item["label"]))
    return tuple(parts)


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
    """A control to choose a person."""

    placeholder: str
    ref: ActionRef
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
