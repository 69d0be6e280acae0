"""Text as people wrote it, made safe to store: the characters no database or reader can hold are dropped."""

from __future__ import annotations

import re

# C0 and C1 control characters and DEL, except tab and newline: PostgreSQL refuses NUL outright, and the
# rest only garble what an agent reads. A carriage return goes too, so that line ends read the same.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """The text without control characters (tab and newline kept), otherwise exactly as written."""
    return _CONTROL.sub("", text)


def clip(text: str, limit: int) -> str:
    """Shorten text to `limit` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def pieces(text: str, limit: int) -> list[str]:
    """Text cut into pieces of at most `limit` characters, at a line end or a space where there is one."""
    parts = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit + 1), text.rfind(" ", 0, limit + 1))
        if cut <= 0:
            cut = limit
        parts.append(text[:cut])
        text = text[cut:]
    return [*parts, text]
