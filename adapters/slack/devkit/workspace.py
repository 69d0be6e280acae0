"""Workspace state and Web API method semantics behind the local Slack stand-in."""

import base64
import copy
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.slack.blocks import escape
from adapters.slack.devkit.parsing import auto_parse, mrkdwn_objects

MAX_BLOCKS = 50
MAX_TEXT = 40_000
PERMALINK_BASE = "https://standin.slack.test/archives/"
# Slack may return fewer messages than asked for; conversations.history never more than 999 at once.
HISTORY_MAX_LIMIT = 999
REPLIES_MAX_LIMIT = 1000


@dataclass(frozen=True)
class Limit:
    """A token bucket: up to `burst` calls at once, refilled at `per_second`; per channel or per workspace."""

    per_second: float
    burst: int
    per_channel: bool = False


# Slack's documented limits: chat.postMessage about one message a second per channel with short bursts;
# Tier 3 is 50+ calls a minute per workspace and method, Tier 4 100+. The burst sizes are ours.
POST_MESSAGE_LIMIT = Limit(per_second=1.0, burst=3, per_channel=True)
TIER_3 = Limit(per_second=50 / 60, burst=10)
TIER_4 = Limit(per_second=100 / 60, burst=20)
RATE_LIMITS: Mapping[str, Limit] = {
    "chat.postMessage": POST_MESSAGE_LIMIT,
    "chat.update": TIER_3,
    "conversations.history": TIER_3,
    "conversations.replies": TIER_3,
    "conversations.open": TIER_3,
    "chat.postEphemeral": TIER_4,
    "views.open": TIER_4,
    "views.push": TIER_4,
    "views.update": TIER_4,
    "users.info": TIER_4,
    "chat.getPermalink": TIER_4,
}


class Refusal(Exception):
    """A Slack API error answered as {"ok": false, "error": code}."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _flag(value: Any) -> bool:
    """Whether a Slack boolean parameter is set, however the client encoded it."""
    return value in (True, 1, "1", "true", "True")


def _ts_key(value: Any) -> Decimal:
    """A Slack timestamp as an exactly comparable number."""
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise Refusal("invalid_arguments") from None


def channel_id(params: dict[str, Any]) -> str:
    """The channel id a request addresses, refusing a missing or malformed one."""
    channel = params.get("channel")
    if not channel or not isinstance(channel, str):
        raise Refusal("channel_not_found")
    # Posting to a user id lands in the bot's DM with that user, as on Slack.
    return "D" + channel if channel[0] in "UW" else channel


def _page(
    items: list[dict], params: dict[str, Any], default_limit: int, max_limit: int, *, newest_first: bool
) -> tuple[list[dict], str]:
    """One page of `items` (in ts order) per the limit and cursor parameters, and the next cursor or ""."""
    try:
        limit = int(params.get("limit") or default_limit)
    except ValueError:
        raise Refusal("invalid_limit") from None
    if cursor := params.get("cursor"):
        try:
            anchor = Decimal(base64.b64decode(cursor).decode().removeprefix("next_ts:"))
        except (ValueError, ArithmeticError):
            raise Refusal("invalid_cursor") from None
        # Like Slack's, a cursor names the first message of the next page, not a position: messages
        # posted between two calls then shift nothing.
        items = [
            m for m in items if (_ts_key(m["ts"]) <= anchor if newest_first else _ts_key(m["ts"]) >= anchor)
        ]
    size = min(max(limit, 1), max_limit)
    page, rest = items[:size], items[size:]
    next_cursor = base64.b64encode(f"next_ts:{rest[0]['ts']}".encode()).decode() if rest else ""
    return page, next_cursor


class RateLimiter:
    """Slack's rate limits as token buckets per method (and channel, where Slack counts per channel).

    Callers hold the lock that guards the workspace.
    """

    def __init__(self, limits: Mapping[str, Limit], clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = dict(limits)
        self._clock = clock
        # (method, channel or "") -> (tokens left, when they were counted)
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}

    def take(self, method: str, params: dict[str, Any]) -> float | None:
        """Spend a token on this call and return None, or else the seconds until a token is free."""
        limit = self.limits.get(method)
        if limit is None:
            return None
        scope = ""
        if limit.per_channel:
            try:
                scope = channel_id(params)
            except Refusal:
                return None  # the method refuses the call itself
        now = self._clock()
        tokens, counted = self._buckets.get((method, scope), (float(limit.burst), now))
        tokens = min(float(limit.burst), tokens + (now - counted) * limit.per_second)
        if tokens >= 1.0:
            self._buckets[method, scope] = (tokens - 1.0, now)
            return None
        self._buckets[method, scope] = (tokens, now)
        return (1.0 - tokens) / limit.per_second

    def reset(self) -> None:
        """Refill every bucket."""
        self._buckets.clear()


class Workspace:
    """Channel, message and view state plus the Web API method semantics; callers hold the lock."""

    def __init__(
        self,
        team_id: str,
        bot_user_id: str,
        bot_id: str,
        app_id: str,
        users: dict[str, dict],
        channels: Mapping[str, str],
    ) -> None:
        """`channels`: the names of the channels Slack knows, for their ids."""
        self.team_id, self.bot_user_id, self.bot_id, self.app_id = team_id, bot_user_id, bot_id, app_id
        self.users = users
        self.channels = channels
        self.messages: dict[str, list[dict]] = {}
        self.ephemerals: list[dict] = []
        self.views: dict[str, dict] = {}
        self._last_micros = 0
        self._view_counter = 0
        self.methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self.auth_test,
            "chat.postMessage": self.post_message,
            "chat.update": self.update,
            "chat.postEphemeral": self.post_ephemeral,
            "chat.getPermalink": self.get_permalink,
            "conversations.history": self.history,
            "conversations.replies": self.replies,
            "conversations.open": self.open_conversation,
            "views.open": lambda p: self.store_view(p, needs_trigger=True),
            "views.push": lambda p: self.store_view(p, needs_trigger=True),
            "views.update": lambda p: self.store_view(p, needs_trigger=False),
            "users.info": self.user_info,
        }

    def clear(self) -> None:
        """Forget messages, ephemerals and views (ts values keep increasing)."""
        self.messages.clear()
        self.ephemerals.clear()
        self.views.clear()

    def next_ts(self) -> str:
        """A unique, increasing Slack timestamp near the current time."""
        self._last_micros = max(time.time_ns() // 1000, self._last_micros + 1)
        return f"{self._last_micros // 1_000_000}.{self._last_micros % 1_000_000:06d}"

    def find(self, channel: str, ts: Any) -> dict | None:
        """The stored message of `channel` with this ts, or None."""
        return next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)

    def add_chatter(self, channel: str, count: int, *, user: str, text: str) -> None:
        """Append `count` ordinary user messages to a channel, as if people had been talking there."""
        if count < 0:
            raise ValueError("count must not be negative")
        stored = self.messages.setdefault(channel_id({"channel": channel}), [])
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
        self.messages.setdefault(channel_id({"channel": channel}), []).append(message)
        return ts

    def auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        """auth.test for the bot token."""
        return {
            "url": "https://standin.slack.test/",
            "team": "Stand-in Workspace",
            "user": "chatops",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

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
            **self._content(params),
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
        self.messages.setdefault(channel, []).append(message)
        return {"channel": channel, "ts": message["ts"], "message": copy.deepcopy(message)}

    def update(self, params: dict[str, Any]) -> dict[str, Any]:
        """chat.update: replace the content of an existing message."""
        channel = channel_id(params)
        message = self.find(channel, params.get("ts"))
        if message is None:
            raise Refusal("message_not_found")
        content = self._content(params)
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
        content = self._content(params)
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
        oldest = _ts_key(params.get("oldest") or "0")
        latest = _ts_key(params["latest"]) if params.get("latest") else None
        inclusive = _flag(params.get("inclusive"))

        def within(ts: Decimal) -> bool:
            after = ts >= oldest if inclusive else ts > oldest
            before = latest is None or (ts <= latest if inclusive else ts < latest)
            return after and before

        top = [
            m
            for m in reversed(self.messages.get(channel, []))
            if m.get("thread_ts", m["ts"]) == m["ts"] and within(_ts_key(m["ts"]))
        ]
        page, next_cursor = _page(top, params, 100, HISTORY_MAX_LIMIT, newest_first=True)
        return self._listing(page, next_cursor, params)

    def replies(self, params: dict[str, Any]) -> dict[str, Any]:
        """conversations.replies: the parent, then its replies oldest first."""
        channel = channel_id(params)
        parent = self.find(channel, params.get("ts"))
        if parent is None:
            raise Refusal("thread_not_found")
        root = parent.get("thread_ts", parent["ts"])
        thread = [m for m in self.messages[channel] if m["ts"] == root or m.get("thread_ts") == root]
        page, next_cursor = _page(thread, params, 1000, REPLIES_MAX_LIMIT, newest_first=False)
        return self._listing(page, next_cursor, params)

    def open_conversation(self, params: dict[str, Any]) -> dict[str, Any]:
        """conversations.open: the DM (or group DM) with the given users."""
        if params.get("channel"):
            return {"channel": {"id": params["channel"]}}
        ids = params.get("users")
        if not isinstance(ids, list):
            ids = [u.strip() for u in str(ids or "").split(",") if u.strip()]
        if not ids:
            raise Refusal("users_list_not_supplied")
        channel = "D" + ids[0] if len(ids) == 1 else "G" + "".join(sorted(u[1:] for u in ids))
        return {"channel": {"id": channel}}

    def store_view(self, params: dict[str, Any], *, needs_trigger: bool) -> dict[str, Any]:
        """views.open / views.push / views.update: validate and keep the view."""
        view = params.get("view")
        if needs_trigger and not (params.get("trigger_id") or params.get("interactivity_pointer")):
            raise Refusal("invalid_trigger_id")
        if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
            raise Refusal("invalid_arguments")
        if needs_trigger:
            self._view_counter += 1
            view_id = f"V{self._view_counter:08d}"
        else:
            external_id = params.get("external_id")
            known = {v["external_id"]: v["id"] for v in self.views.values() if v.get("external_id")}
            view_id = params.get("view_id") or known.get(external_id)
            if view_id is None:
                raise Refusal("not_found")
        stored = {
            "team_id": self.team_id,
            "state": {"values": {}},
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
            "clear_on_close": False,
            "notify_on_close": False,
            **copy.deepcopy(view),
            "id": view_id,
            "hash": f"{time.time_ns()}.{view_id}",
        }
        self.views[view_id] = stored
        return {"view": copy.deepcopy(stored)}

    def user_info(self, params: dict[str, Any]) -> dict[str, Any]:
        """users.info from the configured users, else a plausible generated user."""
        user_id = params.get("user")
        if not user_id:
            raise Refusal("user_not_found")
        name = str(user_id).lower()
        generated = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": f"User {user_id}",
            "deleted": False,
            "is_bot": False,
            "tz": "UTC",
            "profile": {
                "display_name": name,
                "real_name": f"User {user_id}",
                "email": f"{name}@standin.test",
            },
        }
        return {"user": {**generated, **copy.deepcopy(self.users.get(user_id, {}))}}

    def _content(self, params: dict[str, Any]) -> dict[str, Any]:
        text, blocks = params.get("text") or "", params.get("blocks")
        if not text and not blocks and not params.get("attachments"):
            raise Refusal("no_text")
        if blocks is not None and not isinstance(blocks, list):
            raise Refusal("invalid_blocks_format")
        if len(blocks or []) > MAX_BLOCKS:
            raise Refusal("invalid_blocks")
        if len(text) > MAX_TEXT:
            raise Refusal("msg_too_long")
        content: dict[str, Any] = {"text": text, "blocks": copy.deepcopy(blocks or [])}
        self._parse(params, content)
        if params.get("attachments"):
            content["attachments"] = copy.deepcopy(params["attachments"])
        metadata = params.get("metadata")
        if metadata is not None:
            if not isinstance(metadata, dict) or "event_type" not in metadata:
                raise Refusal("invalid_metadata_format")
            content["metadata"] = {
                "event_type": metadata["event_type"],
                "event_payload": copy.deepcopy(metadata.get("event_payload", {})),
            }
        return content

    def _parse(self, params: dict[str, Any], content: dict[str, Any]) -> None:
        """Link what Slack links by itself: in mrkdwn text objects unless `verbatim`, and in the text when
        the call asks for names to be linked (`link_names`, or `parse=full`, which escapes markup first)."""
        for found in mrkdwn_objects(content["blocks"]):
            if found.get("verbatim") is not True and isinstance(found.get("text"), str):
                found["text"] = auto_parse(found["text"], self.channels)
        # Without either, Slack links bare addresses in the text too; left as sent here, as that pings no
        # one and tests read the text the desk wrote.
        if params.get("parse") == "full":
            content["text"] = auto_parse(escape(content["text"]), self.channels)
        elif _flag(params.get("link_names")):
            content["text"] = auto_parse(content["text"], self.channels)

    @staticmethod
    def _listing(page: list[dict], next_cursor: str, params: dict[str, Any]) -> dict[str, Any]:
        keep_metadata = _flag(params.get("include_all_metadata"))
        messages = [copy.deepcopy(m) for m in page]
        for message in messages:
            if not keep_metadata:
                message.pop("metadata", None)
        return {
            "messages": messages,
            "has_more": bool(next_cursor),
            "response_metadata": {"next_cursor": next_cursor},
        }
