"""The neutral card: header, fields, body and controls, which every chat adapter renders its own way."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from chatops.rich import Rich, rich_from_json, rich_to_json


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
            raise ValueError(f"not a chatops action: {packed[:100]!r}")
        return cls(_number(ticket_id), verb, _number(version))


# Ticket ids and versions are integer columns, 32 bits wide in PostgreSQL; a click naming a larger number
# (or one int() reads from other digits, signs or underscores) names no ticket and is no click of ours.
_LARGEST = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")


def _number(text: str) -> int:
    if not _DIGITS.fullmatch(text) or int(text) > _LARGEST:
        raise ValueError(f"not a ticket number or version: {text[:20]!r}")
    return int(text)


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


@dataclass(frozen=True)
class Prompt:
    """A button that asks for words before it acts (a form where the platform has one); the words are
    the choice its command carries."""

    label: str
    ref: ActionRef
    # The form's title, the hint inside its box, and its submit button.
    title: str
    placeholder: str
    submit: str = "Send"


Control = Button | PersonPicker | Menu | Prompt


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


def card_to_json(card: Card) -> dict[str, Any]:
    """A card as JSON, to travel in an outbox row."""
    return {
        "header": card.header,
        "summary": card.summary,
        "fields": [{"label": f.label, "value": rich_to_json(f.value)} for f in card.fields],
        "body": rich_to_json(card.body),
        "context": rich_to_json(card.context),
        "actions": [_control_to_json(control) for control in card.actions],
    }


def card_from_json(data: dict[str, Any]) -> Card:
    """The inverse of card_to_json."""
    return Card(
        header=data["header"],
        summary=data["summary"],
        fields=tuple(Field(f["label"], rich_from_json(f["value"])) for f in data["fields"]),
        body=rich_from_json(data["body"]),
        context=rich_from_json(data["context"]),
        actions=tuple(_control_from_json(control) for control in data["actions"]),
    )


_CONTROLS: dict[str, type[Control]] = {
    "button": Button,
    "people": PersonPicker,
    "menu": Menu,
    "prompt": Prompt,
}


def _control_to_json(control: Control) -> dict[str, Any]:
    kind = next(name for name, cls in _CONTROLS.items() if isinstance(control, cls))
    values = {name: getattr(control, name) for name in control.__dataclass_fields__}
    values["ref"] = control.ref.pack()
    if isinstance(control, Menu):
        values["options"] = [[o.label, o.value] for o in control.options]
    elif isinstance(control, PersonPicker):
        values["people"] = list(control.people)
    return {"kind": kind, **values}


def _control_from_json(data: dict[str, Any]) -> Control:
    values = {name: value for name, value in data.items() if name != "kind"}
    values["ref"] = ActionRef.unpack(values["ref"])
    if "options" in values:
        values["options"] = tuple(Choice(label, value) for label, value in values["options"])
    if "people" in values:
        values["people"] = tuple(values["people"])
    return _CONTROLS[data["kind"]](**values)
