"""Slack-signed requests (slash commands, interactivity, Events API) encoded exactly as Slack sends them."""

import hashlib
import hmac
import http.client
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from adapters.slack.devkit.payloads import VERIFICATION_TOKEN, SlackPayloads

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


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


class SlackRequests(SlackPayloads):
    """Builds Slack-signed request bodies for one workspace."""

    def __init__(self, signing_secret: str, **workspace: str) -> None:
        super().__init__(**workspace)
        self._secret = signing_secret.encode()

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

    def block_suggestion(
        self, action: dict, *, user_id: str, channel_id: str, message: dict, value: str = ""
    ) -> SignedRequest:
        """A signed block_suggestion request (form-encoded `payload=<json>`)."""
        return self._interactive(
            self.block_suggestion_payload(
                action, user_id=user_id, channel_id=channel_id, message=message, value=value
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
