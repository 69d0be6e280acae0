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
    return _fields_problem(body) or _envelope_problem(body)


def _fields_problem(body: dict[str, Any]) -> str | None:
    if "command" in body:
        return _problem(body, _COMMAND)
    kind = body.get("type")
    if not isinstance(kind, str):
        return None
    if kind == "url_verification":
        return _problem(body, (("challenge", _TEXT, True),))
    if kind == "event_callback":
        event = body.get("event")
        named = event.get("type") if isinstance(event, dict) else None
        return _problem(body, _EVENT + (_EVENTS.get(named, ()) if isinstance(named, str) else ()))
    if kind in _INTERACTIONS:
        return _problem(body, _INTERACTION + _INTERACTIONS[kind]) or (
            _actions_problem(body) if kind == "block_actions" else None
        )
    return None


# What a field must be: a Slack id, a message's timestamp, a short token (a trigger, an event id, a
# subtype), any text, or an object. What does not fit is no Slack's, and would not fit our columns.
_ID = "a Slack id"
_TS = "a message timestamp"
_TOKEN = "a token"
_TEXT = "a string"
_OBJECT = "an object"
_PATTERNS = {
    _ID: re.compile(r"[A-Z0-9][A-Za-z0-9._-]{0,63}"),
    _TS: re.compile(r"[0-9]{1,12}\.[0-9]{1,9}"),
    _TOKEN: re.compile(r"[\x21-\x7e]{1,150}"),
}
# Each kind of request's fields, by path: what each must be, and whether it must be there.
_Field = tuple[str, str, bool]
_COMMAND: tuple[_Field, ...] = (
    ("user_id", _ID, True),
    ("channel_id", _ID, True),
    ("command", _TEXT, True),
    ("text", _TEXT, False),
    # Slack gives every command a trigger; the command's form opens with it.
    ("trigger_id", _TOKEN, True),
    ("team_id", _ID, False),
    ("user_name", _TEXT, False),
)
_EVENT: tuple[_Field, ...] = (
    ("team_id", _ID, False),
    ("event_id", _TOKEN, False),
    ("event", _OBJECT, True),
    ("event.type", _TEXT, True),
)
_EVENTS: dict[str, tuple[_Field, ...]] = {
    "message": (
        ("event.text", _TEXT, False),
        # The author becomes the requester: it must be a person's id if it is there at all.
        ("event.user", _ID, False),
        ("event.channel", _ID, False),
        ("event.ts", _TS, False),
        ("event.thread_ts", _TS, False),
        ("event.parent_user_id", _ID, False),
        ("event.channel_type", _TOKEN, False),
        ("event.subtype", _TOKEN, False),
        ("event.bot_id", _TOKEN, False),
    ),
    "reaction_added": (
        ("event.user", _ID, False),
        ("event.reaction", _TEXT, False),
        ("event.item", _OBJECT, False),
        ("event.item.type", _TOKEN, False),
        ("event.item.channel", _ID, False),
        ("event.item.ts", _TS, False),
    ),
}
_INTERACTION: tuple[_Field, ...] = (
    ("user", _OBJECT, True),
    ("user.id", _ID, True),
    ("user.name", _TEXT, False),
    ("team.id", _ID, False),
    ("trigger_id", _TOKEN, False),
)
_INTERACTIONS: dict[str, tuple[_Field, ...]] = {
    "block_actions": (("message.ts", _TS, False),),
    "message_action": (
        ("channel", _OBJECT, True),
        ("channel.id", _ID, True),
        ("message", _OBJECT, True),
        ("message.text", _TEXT, True),
        ("message.user", _ID, False),
        ("message.ts", _TS, False),
        ("message.bot_id", _TOKEN, False),
    ),
    "view_submission": (("view", _OBJECT, True), ("view.private_metadata", _TEXT, False)),
    "view_closed": (("view", _OBJECT, True),),
    "block_suggestion": (
        ("action_id", _TEXT, True),
        ("value", _TEXT, False),
        ("channel", _OBJECT, False),
        ("channel.id", _ID, False),
        ("container", _OBJECT, False),
        ("container.channel_id", _ID, False),
    ),
    "shortcut": (),
}
_ACTION: tuple[_Field, ...] = (
    ("action_id", _TEXT, True),
    ("type", _TOKEN, False),
    ("value", _TEXT, False),
    ("selected_user", _ID, False),
    ("selected_option", _OBJECT, False),
    ("selected_option.value", _TEXT, False),
)


# Bolt reads who and where a request comes from before any listener runs, in the envelope and in the objects
# it looks into (the first authorization, the event, the message), and fails on a type Slack never sends.
_WHO_OR_WHERE = ("enterprise", "team", "user", "channel")
_LISTS = ("authorizations", "response_urls")
_LOOKED_INTO = ("event", "message", "previous_message", "item", "assistant_thread")


def _envelope_problem(body: dict[str, Any], prefix: str = "") -> str | None:
    for key in _WHO_OR_WHERE:
        if not isinstance(body.get(key), str | dict | None):
            return f"{prefix}{key} is neither a string nor an object"
    for key in _LISTS:
        value = body.get(key)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            return f"{prefix}{key} is not a list of objects"
    inner = [(f"{key}.", body[key]) for key in _LOOKED_INTO if isinstance(body.get(key), dict)]
    if body.get("authorizations"):
        inner.append(("authorizations[0].", body["authorizations"][0]))
    return next((p for key, value in inner if (p := _envelope_problem(value, prefix + key))), None)


def _problem(body: dict[str, Any], fields: tuple[_Field, ...], prefix: str = "") -> str | None:
    """The first field that is not what it must be (one inside an object that is not there is absent)."""
    for path, kind, required in fields:
        *parents, name = path.split(".")
        holder: Any = body
        for key in parents:
            holder = holder.get(key) if isinstance(holder, dict) else None
        value = holder.get(name) if isinstance(holder, dict) else None
        label = prefix + path
        if value is None:
            if required:
                return f"{label} is missing"
            if kind != _OBJECT and isinstance(holder, dict) and name in holder:
                return f"{label} is null"
        elif kind == _OBJECT:
            if not isinstance(value, dict):
                return f"{label} is not an object"
        elif not isinstance(value, str) or (kind in _PATTERNS and not _PATTERNS[kind].fullmatch(value)):
            return f"{label} is not {kind}"
    return None


def _actions_problem(body: dict[str, Any]) -> str | None:
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        return "actions is empty"
    for index, action in enumerate(actions):
        if not isinstance(action, dict):
            return f"actions[{index}] is not an object"
        problem = _problem(action, _ACTION, f"actions[{index}].")
        if problem:
            return problem
    channel = body.get("channel") or body.get("container") or {}
    if not isinstance(channel, dict):
        return "channel is not an object"
    return _problem(channel, (("id" if "id" in channel else "channel_id", _ID, True),), "channel.")
