"""A local stand-in for the Slack Web API and Socket Mode, served from a background thread."""

import asyncio
import concurrent.futures
import contextlib
import copy
import json
import math
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from adapters.devkit.standin import StandIn
from adapters.slack.devkit.arguments import channel_id
from adapters.slack.devkit.rate_limits import RATE_LIMITS, Limit, RateLimiter
from adapters.slack.devkit.refusal import Refusal
from adapters.slack.devkit.workspace import Workspace

# Form-encoded requests carry these structured fields as JSON strings; JSON bodies carry objects.
_JSON_FIELDS = frozenset({"blocks", "attachments", "metadata", "view", "user_auth_blocks"})
# Besides the faults every stand-in takes (adapters/devkit/standin.py), "error:<code>" answers 200 with
# {"ok": false, "error": code}, as Slack refuses a call.
# How calls refused by the stand-in's own rate limits are recorded, apart from the injected "ratelimit".
RATE_LIMITED = "rate_limited"


@dataclass(frozen=True)
class Call:
    """One Web API request as the stand-in received it."""

    method: str
    params: dict[str, Any]
    token: str | None
    at: float
    fault: str | None


async def _read_params(request: web.Request) -> tuple[dict[str, Any], str | None]:
    """Merge query string and body the way Slack does, whichever encoding the client chose."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError:
            body = {}
        if isinstance(body, dict):
            params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        params.update({k: v if isinstance(v, str | bytes) else v.file.read() for k, v in form.items()})
    for key in _JSON_FIELDS & params.keys():
        if isinstance(params[key], str):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
    # Keep tokens out of params so recorded calls compare equal whichever way the token travelled.
    form_token = params.pop("token", None)
    auth = request.headers.get("Authorization", "")
    return params, auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else form_token


class SlackStandIn(StandIn[Call]):
    """A Slack Web API and Socket Mode look-alike on 127.0.0.1 that records every call."""

    name = "slack-standin"

    def __init__(
        self,
        *,
        team_id: str = "T0TEST",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        app_id: str = "A0CHATOPS",
        users: dict[str, dict] | None = None,
        channels: Mapping[str, str] | None = None,
        rate_limits: bool = False,
        limits: Mapping[str, Limit] | None = None,
        port: int = 0,
    ) -> None:
        """With `rate_limits`, calls beyond Slack's limits (RATE_LIMITS, updated with `limits`) get a 429.

        `channels` names channels for their ids, so that a #name in a message is linked as Slack links it.

        `port` 0 picks a free one; a given port lets a test bring Slack back where a client expects it.
        """
        if limits is not None and not rate_limits:
            raise ValueError("limits apply only with rate_limits=True")
        super().__init__(port=port)
        self._workspace = Workspace(
            team_id, bot_user_id, bot_id, app_id, copy.deepcopy(users or {}), dict(channels or {})
        )
        self._limiter = RateLimiter({**RATE_LIMITS, **(limits or {})}) if rate_limits else None
        self._methods = {**self._workspace.methods, "apps.connections.open": self._connections_open}
        self._sockets: list[web.WebSocketResponse] = []
        self._acks: dict[str, concurrent.futures.Future[dict]] = {}

    @property
    def base_url(self) -> str:
        """The Web API base URL to give slack_sdk clients (method names are appended to it)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def _check_fault(self, fault: str) -> None:
        if not (fault.startswith("error:") and len(fault) > len("error:")):
            super()._check_fault(fault)

    def _name_of(self, call: Call) -> str:
        return call.method

    def messages(self, channel: str) -> list[dict]:
        """Stored messages of a channel (a user id means the DM with that user), oldest first."""
        with self._lock:
            return copy.deepcopy(
                self._workspace.messages.by_channel.get(channel_id({"channel": channel}), [])
            )

    def ephemerals(self, channel: str | None = None) -> list[dict]:
        """Ephemeral messages posted, of one channel or of all, oldest first."""
        with self._lock:
            return [
                copy.deepcopy(e)
                for e in self._workspace.messages.ephemerals
                if channel in (None, e["channel"])
            ]

    def add_messages(
        self, channel: str, count: int, *, user: str = "U0CHATTER", text: str = "chatter"
    ) -> None:
        """Append `count` ordinary user messages to a channel's history at once, bypassing HTTP and limits."""
        with self._lock:
            self._workspace.messages.add_chatter(channel, count, user=user, text=text)

    def post_as(self, channel: str, user: str, text: str, *, thread_ts: str | None = None) -> str:
        """A person writes in a channel (in a thread, if given), bypassing HTTP; the message's ts."""
        with self._lock:
            return self._workspace.messages.add_message(channel, user, text, thread_ts=thread_ts)

    def clear(self) -> None:
        """Forget calls, messages, ephemerals, views and pending faults, and refill the rate limits."""
        with self._lock:
            self._calls.clear()
            self._faults.clear()
            self._workspace.clear()
            if self._limiter is not None:
                self._limiter.reset()

    def wait_socket_connected(self, timeout: float = 5.0) -> None:
        """Wait until a Socket Mode client holds an open connection."""
        deadline = time.monotonic() + timeout
        while not self._open_sockets():
            if time.monotonic() >= deadline:
                raise AssertionError(f"no Socket Mode client connected within {timeout}s")
            time.sleep(0.01)

    def socket_request(
        self,
        envelope_type: str,
        payload: dict,
        *,
        timeout: float = 5.0,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> dict:
        """Send an envelope to the first connected Socket Mode client and return its ack frame."""
        if envelope_type not in ("slash_commands", "interactive", "events_api"):
            raise ValueError(f"unknown envelope type {envelope_type!r}")
        sockets = self._open_sockets()
        if not sockets or self._loop is None:
            raise AssertionError("no Socket Mode client is connected to the Slack stand-in")
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {"envelope_id": envelope_id, "type": envelope_type, "payload": payload}
        if envelope_type == "events_api":
            # Slack never takes a response payload for events and always states the delivery attempt.
            envelope.update(
                accepts_response_payload=False, retry_attempt=retry_attempt, retry_reason=retry_reason
            )
        else:
            envelope["accepts_response_payload"] = True
        ack: concurrent.futures.Future[dict] = concurrent.futures.Future()
        with self._lock:
            self._acks[envelope_id] = ack
        try:
            sending = asyncio.run_coroutine_threadsafe(sockets[0].send_str(json.dumps(envelope)), self._loop)
            sending.result(timeout)
            return ack.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            raise AssertionError(
                f"no ack for {envelope_type} envelope {envelope_id} within {timeout}s"
            ) from None
        finally:
            with self._lock:
                self._acks.pop(envelope_id, None)

    def _open_sockets(self) -> list[web.WebSocketResponse]:
        with self._lock:
            return [ws for ws in self._sockets if not ws.closed]

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/link/", self._link)

    async def _closing(self) -> None:
        for ws in self._open_sockets():
            await ws.close()

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params, token = await _read_params(request)
        with self._lock:
            fault = self._next_fault(method)
            # An injected fault decides the call on its own: it neither meets nor spends a rate limit.
            wait = self._limiter.take(method, params) if fault is None and self._limiter else None
            kind = fault.kind if fault else (RATE_LIMITED if wait is not None else None)
            self._calls.append(Call(method, params, token, time.monotonic(), kind))
        if wait is not None:
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        if fault is None:
            return self._answer(method, params, token)
        if fault.kind == "ratelimit":
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(fault.retry_after)},
            )
        if fault.kind == "server_error":
            return web.Response(status=500, text="internal error")
        if fault.kind == "slow_effect":
            response = self._answer(method, params, token)
            await self._pause(fault.delay)
            return response
        if fault.kind == "timeout":
            await self._pause(fault.delay)
            # Slack only acts on a request whose caller is still there to hear the answer.
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=504)
            return self._answer(method, params, token)
        return web.json_response({"ok": False, "error": fault.kind.removeprefix("error:")})

    def _answer(self, method: str, params: dict[str, Any], token: str | None) -> web.Response:
        handler = self._methods.get(method)
        try:
            if handler is None:
                raise Refusal("unknown_method")
            if not token:
                raise Refusal("not_authed")
            if token.startswith("xapp-") != (method == "apps.connections.open"):
                raise Refusal("not_allowed_token_type")
            with self._lock:
                body = {"ok": True, **handler(params)}
        except Refusal as refusal:
            body = {"ok": False, "error": refusal.code}
        return web.json_response(body)

    def _connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": f"ws://127.0.0.1:{self.port}/link/?ticket={uuid.uuid4()}&app_id={self._workspace.app_id}"
        }

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        with self._lock:
            self._sockets.append(ws)
            connections = sum(not s.closed for s in self._sockets)
        try:
            await ws.send_json(
                {
                    "type": "hello",
                    "num_connections": connections,
                    "debug_info": {
                        "host": "standin-applink",
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": self._workspace.app_id},
                }
            )
            async for frame in ws:
                if frame.type == WSMsgType.TEXT:
                    self._take_ack(frame.data)
        finally:
            with self._lock:
                self._sockets.remove(ws)
        return ws

    def _take_ack(self, data: str) -> None:
        try:
            frame = json.loads(data)
        except ValueError:
            return
        if not isinstance(frame, dict):
            return
        with self._lock:
            waiter = self._acks.pop(frame.get("envelope_id"), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(frame)
