"""What a person wrote in Teams, as they wrote it: the bot's own mention taken off, other mentions as
`@name`, and the little HTML Teams wraps formatted messages in undone."""

from __future__ import annotations

import html
import re
from typing import Any

# Teams sends a formatted message as HTML; a person's own `<` arrives as `&lt;`, so a tag here is Teams'.
_BREAKS = re.compile(r"(?i)<br\s*/?>|</p>|</div>|</li>")
_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_MENTION = re.compile(r"<at>(.*?)</at>", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def written_text(activity: Any) -> str:
    """The text of a message activity without the bot's mention, as its author wrote it."""
    text = activity.text or ""
    bot = activity.recipient.id if activity.recipient is not None else None
    for entity in activity.entities or []:
        tag = getattr(entity, "text", None)
        if isinstance(tag, str) and tag and _mentioned(entity) == bot:
            text = text.replace(tag, " ")
    # Anyone else mentioned reads as @name; the words pinged them once already, in Teams, and never again.
    text = _MENTION.sub(lambda m: "@" + m.group(1).strip(), text)
    text = _BREAKS.sub("\n", text)
    text = _TAG.sub("", text)
    text = _CONTROL.sub("", html.unescape(text)).replace("\xa0", " ")
    return "\n".join(line.strip() for line in text.strip().splitlines()).strip()


def mentions_bot(activity: Any) -> bool:
    """Whether a message mentions the bot itself: in a channel, how a person speaks to it."""
    bot = activity.recipient.id if activity.recipient is not None else None
    return bot is not None and any(_mentioned(entity) == bot for entity in activity.entities or [])


def _mentioned(entity: Any) -> str | None:
    """Who a mention entity names (None for an entity of another kind)."""
    if entity.type != "mention":
        return None
    mentioned = getattr(entity, "mentioned", None) or {}
    return mentioned.get("id") if isinstance(mentioned, dict) else getattr(mentioned, "id", None)


def with_attachments(text: str, activity: Any) -> str:
    """A message's text followed by a link to each file attached to it (the files stay in Teams)."""
    shared = [
        f"File: {getattr(a, 'name', None) or 'file'} {a.content_url}"
        for a in activity.attachments or []
        if getattr(a, "content_url", None) and str(a.content_url).startswith("https://")
    ]
    return "\n".join(part for part in (text, *shared) if part)
