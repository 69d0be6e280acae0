"""What arrives from Slack, checked first: the signature over the raw bytes, then the body."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from chatops.request_body import Unreadable, json_object, utf8_text

# Slack refuses to honour a signature older than five minutes; so do we (replays after that are refused).
MAX_AGE = 300
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
# Slack's ids are short runs of capitals and digits; anything else would not fit our columns or mean anything.
_ID = re.compile(r"[A-Z0-9][A-Za-z0-9._-]{0,63}")
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def signature_problem(body: bytes, headers: Mapping[str, str], secret: str, *, now: float) -> str | None:
    """Why a request cannot be Slack's, or None when its signature holds for these exact bytes."""
    stamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not _TIMESTAMP.fullmatch(stamp):
        return "missing or malformed X-Slack-Request-Timestamp"
    if abs(now - int(stamp)) > MAX_AGE:
        return "X-Slack-Request-Timestamp is more than five minutes away"
    if not _SIGNATURE.fullmatch(signature):
        return "missing or malformed X-Slack-Signature"
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest("v0=" + digest, signature):
        return "X-Slack-Signature does not match the body"
    return None


def read_body(body: bytes, content_type: str) -> dict[str, Any] | Unreadable:
    """The fields of a signed body: a form, a form carrying `payload=<json>`, or a JSON object.

    Slack always sends UTF-8 whatever the charset parameter says, so the parameter is not consulted.
    """
    text = utf8_text(body)
    if isinstance(text, Unreadable):
        return text
    media = content_type.split(";", 1)[0].strip().lower()
    if media == JSON:
        return json_object(text, "the JSON body")
    if media != FORM:
        return Unreadable(f"unexpected content type {media or 'none'!r}")
    fields = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in fields:
        return json_object(fields["payload"], "payload=")
    return fields


def shape_problem(body: dict[str, Any]) -> str | None:
    """What is missing or mistyped in a request we act on (None when it can be handled as it is)."""
    if "command" in body:
        return _first(
            _id(body, "user_id"),
            _id(body, "channel_id"),
            _text(body, "command", required=True),
            _text(body, "text"),
            _text(body, "trigger_id"),
        )
    kind = body.get("type")
    if kind == "url_verification":
        return _text(body, "challenge", required=True)
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict):
            return "event is not an object"
        return _event_problem(event)
    if kind in ("block_actions", "message_action", "view_submission", "view_closed", "shortcut"):
        user = body.get("user")
        if not isinstance(user, dict):
            return "user is missing"
        problem = _id(user, "id", "user.id")
        if problem:
            return problem
    if kind == "block_actions":
        return _actions_problem(body)
    if kind == "message_action":
        channel = body.get("channel")
        if not isinstance(channel, dict):
            return "channel is missing"
        if not isinstance(body.get("message"), dict):
            return "message is missing"
        message = body["message"]
        return _first(
            _id(channel, "id", "channel.id"),
            _text(message, "text", "message.text"),
            # The author becomes the requester: it must be a person's id if it is there at all.
            _optional_id(message, "user", "message.user"),
        )
    if kind in ("view_submission", "view_closed") and not isinstance(body.get("view"), dict):
        return "view is missing"
    return None


def _actions_problem(body: dict[str, Any]) -> str | None:
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        return "actions is empty"
    for index, action in enumerate(actions):
        if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
            return f"actions[{index}].action_id is missing or not a string"
    channel = body.get("channel") or body.get("container") or {}
    if not isinstance(channel, dict):
        return "channel is not an object"
    return _id(channel, "id" if "id" in channel else "channel_id", "channel")


def _event_problem(event: dict[str, Any]) -> str | None:
    if not isinstance(event.get("type"), str):
        return "event.type is missing"
    if event["type"] != "message":
        return None
    return _first(
        _text(event, "text", "event.text"),
        _optional_id(event, "user", "event.user"),
        _optional_id(event, "channel", "event.channel"),
    )


def _first(*problems: str | None) -> str | None:
    return next((p for p in problems if p), None)


def _text(
    fields: dict[str, Any], key: str, label: str | None = None, *, required: bool = False
) -> str | None:
    if key not in fields:
        return f"{label or key} is missing" if required else None
    if not isinstance(fields[key], str):
        return f"{label or key} is {'null' if fields[key] is None else 'not a string'}"
    return None


def _id(fields: dict[str, Any], key: str, label: str | None = None) -> str | None:
    value = fields.get(key)
    if not isinstance(value, str) or not _ID.fullmatch(value):
        return f"{label or key} is {'missing' if value is None else 'not a Slack id'}"
    return None


def _optional_id(fields: dict[str, Any], key: str, label: str) -> str | None:
    return _id(fields, key, label) if key in fields else None
