"""A request body read once, where it arrives: UTF-8 text holding one JSON object nested no deeper than the
desk ever needs. Anything else is refused with a reason fit for a 400 and a log line (never the body)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

# The platforms' bodies stay a few levels deep (an Adaptive Card inside an activity is among the deepest);
# far deeper is no platform's, and would only strain whatever reads the body next.
MAX_DEPTH = 64
_UTF8 = ("utf-8", "utf8")


@dataclass(frozen=True)
class Unreadable:
    """A body the desk cannot take as it is; `problem` says why, in words fit for the sender."""

    problem: str


def utf8_text(body: bytes, content_type: str | None = None) -> str | Unreadable:
    """The body as text; a charset that `content_type` names must be UTF-8 (None: no charset is consulted)."""
    charset = _charset(content_type or "")
    if charset is not None and charset.lower() not in _UTF8:
        return Unreadable(f"the body's charset {charset[:40]!r} is not UTF-8")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return Unreadable("the body is not UTF-8")


def json_object(text: str, what: str = "the body") -> dict[str, Any] | Unreadable:
    """`text` as one JSON object; `what` names it in the problem."""
    try:
        value = json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except RecursionError:
        return Unreadable(f"{what} is nested more than {MAX_DEPTH} deep")
    except ValueError:
        return Unreadable(f"{what} is not JSON")
    if not isinstance(value, dict):
        kind = "null" if value is None else type(value).__name__
        return Unreadable(f"{what} is a JSON {kind}, not an object")
    if _deeper_than(value, MAX_DEPTH):
        return Unreadable(f"{what} is nested more than {MAX_DEPTH} deep")
    return value


def read_object(body: bytes, content_type: str | None) -> dict[str, Any] | Unreadable:
    """A body that must be one JSON object in UTF-8, whatever `content_type` claims otherwise."""
    text = utf8_text(body, content_type)
    return text if isinstance(text, Unreadable) else json_object(text)


def _not_json(word: str) -> Any:
    # Python reads NaN and Infinity, which JSON has not, and which PostgreSQL's jsonb refuses to store.
    raise ValueError(f"{word} is not JSON")


def _finite(number: str) -> float:
    value = float(number)
    if not math.isfinite(value):
        raise ValueError(f"{number[:20]} is too large a number")
    return value


def _charset(content_type: str) -> str | None:
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"')
    return None


def _deeper_than(value: Any, limit: int) -> bool:
    # Without recursion: the depth is what is being checked.
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False
