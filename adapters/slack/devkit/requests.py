"""Slack-signed requests (slash commands, interactivity, Events API) encoded exactly as Slack sends them."""

import copy
import hashlib
import hmac
import http.client
import itertools
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
# The legacy verification token Slack still puts in every payload; Bolt ignores it in favour of signatures.
VERIFICATION_TOKEN = "standin-verification-token"
_SELECTIONS = {"users_select": "selected_user", "static_select": "selected_option"}
# Select menus echo back their choice, not the list they offered.
_NOT_ECHOED = ("options", "option_groups")


@dataclass(frozen=True)
class SignedRequest:
    """A request body with the headers Slack would send alongside it."""

    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Response:
    """An HTTP response as received, whatever its status."""

    status: int
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            raise ValueError(f"body of the {self.status} response is not JSON: {self.body[:500]!r}") from None

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8", errors="replace")


def as_slack_sends(typed: str) -> str:
    """Text as Slack delivers what a person typed: `&`, `<` and `>` escaped (mentions and links are not typed
    but inserted, so a test that wants one writes it in Slack's markup and passes `encoded=True`)."""
    return typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def find_action(blocks: list[dict], action_id: str) -> dict:
    """The element with `action_id` in `blocks`, block_id filled in; KeyError lists the ones present."""
    present = []
    for block in blocks:
        elements = [*block.get("elements", []), block.get("accessory"), block.get("element")]
        for element in elements:
            if not isinstance(element, dict) or "action_id" not in element:
                continue
            if element["action_id"] == action_id:
                return {**copy.deepcopy(element), "block_id": element.get("block_id", block.get("block_id"))}
            present.append(element["action_id"])
    raise KeyError(f"no element with action_id {action_id!r}; action_ids present: {present}")


def send(url: str, request: SignedRequest, *, timeout: float = 10.0) -> Response:
    """POST a signed request with the standard library, returning status and body even for 4xx/5xx."""
    parts = urlsplit(url)
    connection_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(parts.netloc, timeout=timeout)
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", target, request.body, request.headers)
        answer = connection.getresponse()
        return Response(answer.status, answer.read())
    finally:
        connection.close()


class SlackRequests:
    """Builds Slack-signed request bodies for one workspace."""

    def __init__(
        self,
        signing_secret: str,
        *,
        team_id: str = "T0TEST",
        team_domain: str = "standin",
        api_app_id: str = "A0CHATOPS",
        bot_user_id: str = "U0BOT",
        response_url_base: str = "https://hooks.slack.test/",
    ) -> None:
        self._secret = signing_secret.encode()
        self.team_id, self.team_domain, self.api_app_id = team_id, team_domain, api_app_id
        self.bot_user_id = bot_user_id
        self.response_url_base = response_url_base
        self._serial = itertools.count(1)

    def sign(
        self,
        body: bytes,
        *,
        content_type: str,
        timestamp: int | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> SignedRequest:
        """Sign `body` as Slack does (v0 HMAC-SHA256 over "v0:<timestamp>:<body>", the body's raw bytes)."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        base = b"v0:" + stamp.encode() + b":" + body
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": "v0=" + hmac.new(self._secret, base, hashlib.sha256).hexdigest(),
        }
        return SignedRequest(body=body, headers={**headers, **(extra_headers or {})})

    # -- payloads: shared by the signed HTTP requests and Socket Mode envelopes --

    def slash_command_payload(
        self,
        text: str,
        *,
        user_id: str,
        channel_id: str = "C0GENERAL",
        command: str = "/ticket",
        trigger_id: str | None = None,
        encoded: bool = False,
    ) -> dict[str, str]:
        """The fields of a slash command invocation (all strings, as Slack form-encodes them).

        `text` is what the person typed, escaped here as Slack does; `encoded=True` sends it as given.
        """
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": _channel_name(channel_id),
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text if encoded else as_slack_sends(text),
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": self._response_url("commands"),
            "trigger_id": trigger_id or self._trigger_id(),
        }

    def block_action_payload(
        self,
        action: dict,
        *,
        user_id: str,
        channel_id: str,
        message: dict,
        selected_user: str | None = None,
        selected_option: dict | None = None,
    ) -> dict[str, Any]:
        """A block_actions payload for clicking/choosing `action` in a posted `message`."""
        acted = {k: v for k, v in copy.deepcopy(action).items() if k not in _NOT_ECHOED}
        if not acted.get("block_id"):
            acted["block_id"] = find_action(message.get("blocks") or [], action["action_id"])["block_id"]
        choice = {"selected_user": selected_user, "selected_option": copy.deepcopy(selected_option)}
        selection_key = _SELECTIONS.get(acted.get("type", ""))
        if selection_key is not None:
            if choice[selection_key] is None:
                raise ValueError(f"a {acted['type']} action needs {selection_key}")
            acted[selection_key] = choice[selection_key]
        acted["action_ts"] = _now_ts()
        container = {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        if message.get("thread_ts"):
            container["thread_ts"] = message["thread_ts"]
        return {
            **self._interaction("block_actions", user_id),
            "container": container,
            "channel": {"id": channel_id, "name": _channel_name(channel_id)},
            "message": {"type": "message", **copy.deepcopy(message)},
            "state": {"values": {}},
            "response_url": self._response_url("actions"),
            "actions": [acted],
        }

    def message_shortcut_payload(
        self, *, callback_id: str, user_id: str, channel_id: str, message: dict
    ) -> dict[str, Any]:
        """A message_action payload: a message shortcut chosen from a message's menu."""
        return {
            **self._interaction("message_action", user_id),
            "callback_id": callback_id,
            "action_ts": _now_ts(),
            "channel": {"id": channel_id, "name": _channel_name(channel_id)},
            "message_ts": message["ts"],
            "message": {"type": "message", **copy.deepcopy(message)},
            "response_url": self._response_url("app"),
        }

    def view_submission_payload(
        self, view: dict, *, user_id: str, values: dict[str, dict[str, dict]]
    ) -> dict[str, Any]:
        """A view_submission payload for `view` with state `values` (block_id -> action_id -> value)."""
        block_ids = [b.get("block_id") for b in view.get("blocks", [])]
        unknown = sorted(set(values) - set(block_ids))
        if unknown:
            raise ValueError(f"values for block_ids {unknown} not in the view; its block_ids: {block_ids}")
        view_id = view.get("id") or f"V{next(self._serial):08d}"
        submitted = {
            "team_id": self.team_id,
            "type": "modal",
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "hash": f"{int(time.time())}.{view_id}",
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.api_app_id,
            "app_installed_team_id": self.team_id,
            "clear_on_close": False,
            "notify_on_close": False,
            **copy.deepcopy(view),
            "id": view_id,
            "state": {"values": copy.deepcopy(values)},
        }
        return {**self._interaction("view_submission", user_id), "view": submitted, "response_urls": []}

    def event_payload(self, event: dict, *, event_id: str | None = None) -> dict[str, Any]:
        """An Events API event_callback envelope around `event`, authorized for the bot user."""
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
            "api_app_id": self.api_app_id,
            # Slack stamps every event; message events reuse their ts.
            "event": {"event_ts": event.get("ts") or _now_ts(), **copy.deepcopy(event)},
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }

    def direct_message_event(
        self,
        text: str,
        *,
        user_id: str,
        channel_id: str | None = None,
        ts: str | None = None,
        encoded: bool = False,
    ) -> dict[str, Any]:
        """A `message` event a user sends the bot in their DM (channel_type "im"); `text` as for commands."""
        stamp = ts or _now_ts()
        return {
            "type": "message",
            "user": user_id,
            "text": text if encoded else as_slack_sends(text),
            "blocks": [
                {
                    "type": "rich_text",
                    "block_id": uuid.uuid4().hex[:5],
                    "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
                }
            ],
            "client_msg_id": str(uuid.uuid4()),
            "team": self.team_id,
            "channel": channel_id or "D" + user_id,
            "channel_type": "im",
            "ts": stamp,
            "event_ts": stamp,
        }

    # -- signed requests --

    def slash_command(
        self,
        text: str,
        *,
        user_id: str,
        channel_id: str = "C0GENERAL",
        command: str = "/ticket",
        trigger_id: str | None = None,
        timestamp: int | None = None,
        encoded: bool = False,
    ) -> SignedRequest:
        """A signed slash command request (form-encoded fields)."""
        payload = self.slash_command_payload(
            text,
            user_id=user_id,
            channel_id=channel_id,
            command=command,
            trigger_id=trigger_id,
            encoded=encoded,
        )
        return self.sign(urlencode(payload).encode(), content_type=FORM, timestamp=timestamp)

    def block_action(
        self,
        action: dict,
        *,
        user_id: str,
        channel_id: str,
        message: dict,
        selected_user: str | None = None,
        selected_option: dict | None = None,
    ) -> SignedRequest:
        """A signed block_actions request (form-encoded `payload=<json>`)."""
        return self._interactive(
            self.block_action_payload(
                action,
                user_id=user_id,
                channel_id=channel_id,
                message=message,
                selected_user=selected_user,
                selected_option=selected_option,
            )
        )

    def message_shortcut(
        self, *, callback_id: str, user_id: str, channel_id: str, message: dict
    ) -> SignedRequest:
        """A signed message shortcut request (form-encoded `payload=<json>`)."""
        return self._interactive(
            self.message_shortcut_payload(
                callback_id=callback_id, user_id=user_id, channel_id=channel_id, message=message
            )
        )

    def view_submission(
        self, view: dict, *, user_id: str, values: dict[str, dict[str, dict]]
    ) -> SignedRequest:
        """A signed view_submission request (form-encoded `payload=<json>`)."""
        return self._interactive(self.view_submission_payload(view, user_id=user_id, values=values))

    def event(
        self,
        event: dict,
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> SignedRequest:
        """A signed Events API request (JSON body), optionally marked as Slack's n-th retry."""
        retry = {}
        if retry_num is not None:
            retry = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        body = json.dumps(self.event_payload(event, event_id=event_id)).encode()
        return self.sign(body, content_type=JSON, extra_headers=retry)

    def direct_message(
        self,
        text: str,
        *,
        user_id: str,
        channel_id: str | None = None,
        event_id: str | None = None,
        ts: str | None = None,
        encoded: bool = False,
    ) -> SignedRequest:
        """A signed Events API request carrying a user's direct message to the bot."""
        event = self.direct_message_event(
            text, user_id=user_id, channel_id=channel_id, ts=ts, encoded=encoded
        )
        return self.event(event, event_id=event_id)

    def url_verification(self, challenge: str) -> SignedRequest:
        """The signed url_verification handshake Slack sends when the Request URL is configured."""
        body = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        return self.sign(json.dumps(body).encode(), content_type=JSON)

    def _interactive(self, payload: dict) -> SignedRequest:
        return self.sign(urlencode({"payload": json.dumps(payload)}).encode(), content_type=FORM)

    def _interaction(self, kind: str, user_id: str) -> dict[str, Any]:
        return {
            "type": kind,
            "token": VERIFICATION_TOKEN,
            "team": {"id": self.team_id, "domain": self.team_domain},
            "user": {
                "id": user_id,
                "username": user_id.lower(),
                "name": user_id.lower(),
                "team_id": self.team_id,
            },
            "api_app_id": self.api_app_id,
            "trigger_id": self._trigger_id(),
            "is_enterprise_install": False,
            "enterprise": None,
        }

    def _response_url(self, kind: str) -> str:
        return f"{self.response_url_base}{kind}/{self.team_id}/{next(self._serial)}/{uuid.uuid4().hex[:24]}"

    def _trigger_id(self) -> str:
        return f"{next(self._serial)}.{time.time_ns() // 1_000_000}.{uuid.uuid4().hex}"


def _channel_name(channel_id: str) -> str:
    # Slack names every DM "directmessage" in payloads.
    return "directmessage" if channel_id.startswith("D") else channel_id.lower()


def _now_ts() -> str:
    return f"{time.time():.6f}"
