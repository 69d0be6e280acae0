"""Neutral rich text: words, mentions, moments, links, emphasis, code and lists, for platforms to render."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Mention:
    """A mention of a person, by their person id; each platform shows it its own way."""

    person: str


@dataclass(frozen=True)
class Moment:
    """A point in time, shown in the reader's own time zone where the platform can."""

    at: datetime


@dataclass(frozen=True)
class Link:
    """A hyperlink with a label."""

    url: str
    label: str


@dataclass(frozen=True)
class Strong:
    """Words to stand out."""

    text: str


@dataclass(frozen=True)
class Code:
    """Something to type exactly as shown, such as a command."""

    text: str


@dataclass(frozen=True)
class Bullets:
    """A list, one rich text per item."""

    items: tuple[Rich, ...]


Segment = str | Mention | Moment | Link | Strong | Code | Bullets
Rich = tuple[Segment, ...]


def plain(text: Rich) -> str:
    """Rich text as plain words, for logs and fallbacks (a mention shows its person id)."""
    out: list[str] = []
    for part in text:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Mention):
            out.append(f"@{part.person}")
        elif isinstance(part, Moment):
            out.append(part.at.strftime("%Y-%m-%d %H:%M UTC"))
        elif isinstance(part, Link):
            out.append(f"{part.label} ({part.url})")
        elif isinstance(part, Strong | Code):
            out.append(part.text)
        else:
            out.extend("\n• " + plain(item) for item in part.items)
    return "".join(out)


def rich_to_json(text: Rich) -> list[Any]:
    """Rich text as JSON, to travel in an outbox row."""
    return [_segment_to_json(part) for part in text]


def _segment_to_json(part: Segment) -> Any:
    if isinstance(part, str):
        return part
    if isinstance(part, Mention):
        return {"person": part.person}
    if isinstance(part, Moment):
        return {"moment": part.at.isoformat()}
    if isinstance(part, Link):
        return {"link": part.url, "label": part.label}
    if isinstance(part, Strong):
        return {"strong": part.text}
    if isinstance(part, Code):
        return {"code": part.text}
    return {"bullets": [rich_to_json(item) for item in part.items]}


def rich_from_json(data: list[Any]) -> Rich:
    """The inverse of rich_to_json."""
    return tuple(_segment_from_json(item) for item in data)


def _segment_from_json(item: Any) -> Segment:
    if isinstance(item, str):
        return item
    if "person" in item:
        return Mention(item["person"])
    if "moment" in item:
        return Moment(datetime.fromisoformat(item["moment"]))
    if "link" in item:
        return Link(item["link"], item["label"])
    if "strong" in item:
        return Strong(item["strong"])
    if "code" in item:
        return Code(item["code"])
    return Bullets(tuple(rich_from_json(entry) for entry in item["bullets"]))
