"""Slack's message markup read back into what the person wrote, and people's names for their mentions."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from chatops.text import clean

log = structlog.get_logger("chatops.slack")

_TOKEN = re.compile(r"<([^<>]*)>")
_BROADCASTS = frozenset({"here", "channel", "everyone"})


def unescape(text: str) -> str:
    """Undo the three escapes Slack applies to message text."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class SlackNames:
    """People's names for their user ids, from users.info, each looked up once and then kept a while.

    users.info is limited (Tier 4), and a name is wanted while someone waits for an answer: a lookup
    that fails or takes too long leaves the id in place of the name rather than holding the answer up.
    """

    def __init__(
        self, client: AsyncWebClient, *, keep: float = 3600.0, wait: float = 1.0, size: int = 10_000
    ) -> None:
        self._client = client
        self._keep = keep
        self._wait = wait
        self._size = size
        self._known: dict[str, tuple[str | None, float]] = {}
        self._asking: dict[str, asyncio.Task[str | None]] = {}

    async def names(self, user_ids: Iterable[str]) -> dict[str, str]:
        """The names known or found for these ids (ids whose lookup failed are left out)."""
        wanted = set(user_ids)
        now = time.monotonic()
        fresh = {u: self._known[u] for u in wanted if u in self._known and self._known[u][1] > now}
        missing = [u for u in wanted if u not in fresh]
        if missing:
            found = await asyncio.gather(*(self._ask(u) for u in missing))
            fresh |= {u: (name, now) for u, name in zip(missing, found, strict=True)}
        return {u: name for u, (name, _) in fresh.items() if name}

    async def _ask(self, user_id: str) -> str | None:
        task = self._asking.get(user_id)
        if task is None:
            task = asyncio.ensure_future(self._lookup(user_id))
            self._asking[user_id] = task
            task.add_done_callback(lambda _: self._asking.pop(user_id, None))
        try:
            return await asyncio.wait_for(asyncio.shield(task), self._wait)
        except TimeoutError:
            return None

    async def _lookup(self, user_id: str) -> str | None:
        try:
            answer = await self._client.users_info(user=user_id)
        except (SlackApiError, OSError, TimeoutError) as error:
            log.info("slack_name_unknown", user=user_id, error=str(error)[:200])
            # Not asked again for a minute: a workspace that refuses or is down should not be hammered.
            self._remember(user_id, None, 60.0)
            return None
        user = answer.get("user") or {}
        profile = user.get("profile") or {}
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or user.get("real_name")
            or user.get("name")
        )
        self._remember(user_id, name or None, self._keep)
        return name or None

    def _remember(self, user_id: str, name: str | None, keep: float) -> None:
        if len(self._known) >= self._size:
            self._known.clear()
        self._known[user_id] = (name, time.monotonic() + keep)


async def read_message_text(text: str, names: SlackNames) -> str:
    """What the person wrote, from Slack's markup: escapes undone, links with their address in view,
    mentions as @name (so that showing them again pings nobody), control characters dropped."""
    tokens = list(_TOKEN.finditer(text))
    mentioned = {m.group(1)[1:].partition("|")[0] for m in tokens if m.group(1).startswith("@")}
    known = await names.names(mentioned) if mentioned else {}
    parts: list[str] = []
    written = 0
    for token in tokens:
        parts.append(unescape(text[written : token.start()]))
        parts.append(_plain(token.group(1), known))
        written = token.end()
    parts.append(unescape(text[written:]))
    return clean("".join(parts))


def _plain(inner: str, names: dict[str, str]) -> str:
    """One `<...>` token as the person saw it in Slack."""
    target, _, label = inner.partition("|")
    label = unescape(label)
    if target.startswith("@"):
        return "@" + (label or names.get(target[1:]) or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        special = target[1:]
        if special in _BROADCASTS:
            return "@" + special
        if special.startswith("subteam^"):
            return label or "@" + special.removeprefix("subteam^")
        if special.startswith("date^"):
            return label
        return label or special
    address = unescape(target)
    shown = address.removeprefix("mailto:")
    # A link whose label differs from its address shows both: a label alone could disguise where it leads.
    if not label or label in (address, shown):
        return shown
    return f"{label} ({shown})"


def with_files(text: str, event: dict[str, Any]) -> str:
    """A message's text followed by a link to each file shared with it (the files stay in Slack)."""
    files = [f for f in event.get("files") or [] if isinstance(f, dict) and f.get("permalink")]
    shared = [f"File: {f.get('name') or f.get('title') or 'file'} {f['permalink']}" for f in files]
    return "\n".join(part for part in (text, *shared) if part)
