"""The messages of a Slack stand-in's channels and the chat.* and conversations.* methods over them."""

import copy
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from adapters.slack.devkit.arguments import channel_id, flag, ts_key
from adapters.slack.devkit.content import message_content
from adapters.slack.devkit.paging import HISTORY_MAX_LIMIT, REPLIES_MAX_LIMIT, listing, page_of
from adapters.slack.devkit.refusal import Refusal

PERMALINK_BASE = "https://standin.slack.test/archives/"


class Messages:
    """Messages by channel and ephemerals, and the methods that post and list them; callers hold the lock."""

    def __init__(
        self, *, team_id: str, bot_user_id: str, bot_id: str, app_id: str, channels: Mapping[str, str]
    ) -> None:
        """`channels`: the names of the channels Slack knows, for their ids."""
        self.team_id, self.bot_user_id, self.bot_id, self.app_id = team_id, bot_user_id, bot_id, app_id
        self.channels = channels
        # Channel id -> its messages, thread replies included, oldest first.
        self.by_channel: dict[str, list[dict]] = {}
        self.ephemerals: list[dict] = []
        self._last_micros = 0

    def clear(self) -> None:
        """Forget messages and ephemerals (ts values keep increasing)."""
        self.by_channel.clear()
        self.ephemerals.clear()

    def next_ts(self) -> str:
        """A unique, increasing Slack timestamp near the current time."""
        self._last_micros = max(time.time_ns() // 1000, self._last_micros + 1)
        return f"{self._last_micros // 1_000_000}.{self._last_micros % 1_000_000:06d}"

    def find(self, channel: str, ts: Any) -> dict | None:
        """The stored message of `channel` with this ts, or None."""
        return next((m for m in self.by_channel.get(channel, []) if m["ts"] == ts), None)

    def add_chatter(self, channel: str, count: int, *, user: str, text: str) -> None:
        """Append `count` ordinary user messages to a channel, as if people had been talking there."""
        if count < 0:
            raise ValueError("count must not be negative")
        stored = self.by_channel.setdefault(channel_id({"channel": channel}), [])
        stored.extend(
            {"type": "message", "ts": self.next_ts(), "user": user, "text": text, "team": self.team_id}
            for _ in range(count)
        )

    def add_message(self, channel: str, user: str, text: str, *, thread_ts: str | None = None) -> str:
        """Append one person's message (a reply, with `thread_ts`) to a channel; its ts."""
        ts = self.next_ts()
        message = {"type": "message", "ts": ts, "user": user, "text": text, "team": self.team_id}
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        self.by_channel.setdefault(channel_id({"channel": channel}), []).append(message)
        return ts

    def post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        """chat.postMessage: store the message (thread replies included) in its channel."""
        channel = channel_id(params)
        message = {
            "type": "message",
            "ts": self.next_ts(),
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            **message_content(params, self.channels),
        }
        parent = self.find(channel, params.get("thread_ts")) if params.get("thread_ts") else None
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        if parent is not None:
            # Slack keeps thread bookkeeping on the parent message.
            parent.update(
                thread_ts=parent["ts"],
                reply_count=parent.get("reply_count", 0) + 1,
                latest_reply=message["ts"],
                reply_users=sorted({*parent.get("reply_users", []), self.bot_user_id}),
            )
        self.by_channel.setdefault(channel, []).append(message)
        return {"channel": channel, "ts": message["ts"], "message": copy.deepcopy(message)}

    def update(self, params: dict[str, Any]) -> dict[str, Any]:
        """chat.update: replace the content of an existing message."""
        channel = channel_id(params)
        message = self.find(channel, params.get("ts"))
        if message is None:
            raise Refusal("message_not_found")
        content = message_content(params, self.channels)
        message.update(
            text=content["text"],
            blocks=content["blocks"],
            edited={"user": self.bot_user_id, "ts": self.next_ts()},
        )
        if "metadata" in content:
            message["metadata"] = content["metadata"]
        return {
            "channel": channel,
            "ts": message["ts"],
            "text": message["text"],
            "message": copy.deepcopy(message),
        }

    def post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        """chat.postEphemeral: kept apart from channel messages, as only one user sees it."""
        channel = channel_id(params)
        if not params.get("user"):
            raise Refusal("user_not_in_channel")
        content = message_content(params, self.channels)
        self.ephemerals.append(
            {"channel": channel, "user": params["user"], "text": content["text"], "blocks": content["blocks"]}
        )
        return {"message_ts": self.next_ts()}

    def get_permalink(self, params: dict[str, Any]) -> dict[str, Any]:
        """chat.getPermalink for a stored message."""
        channel = channel_id(params)
        message = self.find(channel, params.get("message_ts"))
        if message is None:
            raise Refusal("message_not_found")
        link = f"{PERMALINK_BASE}{channel}/p{message['ts'].replace('.', '')}"
        if message.get("thread_ts", message["ts"]) != message["ts"]:
            link += f"?thread_ts={message['thread_ts']}&cid={channel}"
        return {"channel": channel, "permalink": link}

    def history(self, params: dict[str, Any]) -> dict[str, Any]:
        """conversations.history: top-level messages, newest first, within oldest/latest."""
        channel = channel_id(params)
        oldest = ts_key(params.get("oldest") or "0")
        latest = ts_key(params["latest"]) if params.get("latest") else None
        inclusive = flag(params.get("inclusive"))

        def within(ts: Decimal) -> bool:
            after = ts >= oldest if inclusive else ts > oldest
            before = latest is None or (ts <= latest if inclusive else ts < latest)
            return after and before

        top = [
            m
            for m in reversed(self.by_channel.get(channel, []))
            if m.get("thread_ts", m["ts"]) == m["ts"] and within(ts_key(m["ts"]))
        ]
        page, next_cursor = page_of(top, params, 100, HISTORY_MAX_LIMIT, newest_first=True)
        return listing(page, next_cursor, params)

    def replies(self, params: dict[str, Any]) -> dict[str, Any]:
        """conversations.replies: the parent, then its replies oldest first."""
        channel = channel_id(params)
        parent = self.find(channel, params.get("ts"))
        if parent is None:
            raise Refusal("thread_not_found")
        root = parent.get("thread_ts", parent["ts"])
        thread = [m for m in self.by_channel[channel] if m["ts"] == root or m.get("thread_ts") == root]
        page, next_cursor = page_of(thread, params, 1000, REPLIES_MAX_LIMIT, newest_first=False)
        return listing(page, next_cursor, params)
