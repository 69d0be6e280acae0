"""A local stand-in for the Slack Web API and Socket Mode, served from a background thread."""

import asyncio
import concurrent.futures
import contextlib
import copy
import json
import math
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from adapters.slack.devkit.workspace import RATE_LIMITS, Limit, RateLimiter, Refusal, Workspace, channel_id

# Form-encoded requests carry these structured fields as JSON strings; JSON bodies carry objects.
_JSON_FIELDS = frozenset({"blocks", "attachments", "metadata", "view", "user_auth_blocks"})
# Faults model what a caller can observe: "ratelimit" (429 + Retry-After), "server_error" (500), "timeout"
# (held for `delay`, acted on only if the caller still waits), "slow_effect" (acted on at once, answered after
# `delay`: Slack did it but the caller never heard) and "error:<code>" (200 with {"ok": false}).
_FAULTS = frozenset({"ratelimit", "server_error", "timeout", "slow_effect"})
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


@dataclass(frozen=True)
class _Fault:
    kind: str
    retry_after: int
    delay: float


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


class SlackStandIn:
    """A Slack Web API and Socket Mode look-alike on 127.0.0.1 that records every call."""

    def __init__(
        self,
        *,
        team_id: str = "T0TEST",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        app_id: str = "A0CHATOPS",
        users: dict[str, dict] | None = None,
        rate_limits: bool = False,
        limits: Mapping[str, Limit] | None = None,
        port: int = 0,
    ) -> None:
        """With `rate_limits`, calls beyond Slack's limits (RATE_LIMITS, updated with `limits`) get a 429.

        `port` 0 picks a free one; a given port lets a test bring Slack back where a client expects it.
        """
        if limits is not None and not rate_limits:
            raise ValueError("limits apply only with rate_limits=True")
        self._workspace = Workspace(team_id, bot_user_id, bot_id, app_id, copy.deepcopy(users or {}))
        self._requested_port = port
        self._limiter = RateLimiter({**RATE_LIMITS, **(limits or {})}) if rate_limits else None
        self._methods = {**self._workspace.methods, "apps.connections.open": self._connections_open}
        # Guards everything shared between the server thread and callers' threads.
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._acks: dict[str, concurrent.futures.Future[dict]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._port: int | None = None

    def __enter__(self) -> "SlackStandIn":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The Web API base URL to give slack_sdk clients (method names are appended to it)."""
        if self._port is None:
            raise RuntimeError("the Slack stand-in is not started")
        return f"http://127.0.0.1:{self._port}/api/"

    def start(self) -> "SlackStandIn":
        """Serve on an ephemeral 127.0.0.1 port from a daemon thread; return once listening."""
        if self._thread is not None:
            raise RuntimeError("the Slack stand-in is already started")
        ready: concurrent.futures.Future[int] = concurrent.futures.Future()
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=self._run, args=(loop, ready), name="slack-standin", daemon=True
        )
        self._thread.start()
        try:
            self._port = ready.result(timeout=10)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Close socket clients, stop serving and join the server thread."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None or loop is None:
            return
        if stopping is not None and thread.is_alive():
            loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout=10)
        self._thread = self._loop = self._stopping = None
        self._port = None

    def calls(self, method: str | None = None) -> list[Call]:
        """Recorded calls in arrival order, of one method or of all."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        *,
        timeout: float = 5.0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Wait until `count` calls of `method` (matching `where`) arrived and return them all."""
        deadline = time.monotonic() + timeout
        while True:
            recorded = self.calls()
            matched = [c for c in recorded if c.method == method and (where is None or where(c))]
            if len(matched) >= count:
                return matched
            if time.monotonic() >= deadline:
                seen = Counter(c.method for c in recorded)
                summary = ", ".join(f"{m} x{n}" for m, n in seen.items()) or "none"
                condition = " matching the condition" if where else ""
                raise AssertionError(
                    f"expected {count} call(s) of {method}{condition} within {timeout}s, got {len(matched)}; "
                    f"methods called: {summary}"
                )
            time.sleep(0.01)

    def inject(
        self, method: str, fault: str, *, times: int = 1, retry_after: int = 1, delay: float = 0.0
    ) -> None:
        """Answer the next `times` calls of `method` with `fault` (kinds are described at _FAULTS)."""
        if fault not in _FAULTS and not (fault.startswith("error:") and len(fault) > len("error:")):
            raise ValueError(f"unknown fault {fault!r}; use one of {sorted(_FAULTS)} or 'error:<code>'")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.setdefault(method, deque()).extend([_Fault(fault, retry_after, delay)] * times)

    def messages(self, channel: str) -> list[dict]:
        """Stored messages of a channel (a user id means the DM with that user), oldest first."""
        with self._lock:
            return copy.deepcopy(self._workspace.messages.get(channel_id({"channel": channel}), []))

    def ephemerals(self, channel: str | None = None) -> list[dict]:
        """Ephemeral messages posted, of one channel or of all, oldest first."""
        with self._lock:
            return [copy.deepcopy(e) for e in self._workspace.ephemerals if channel in (None, e["channel"])]

    def add_messages(
        self, channel: str, count: int, *, user: str = "U0CHATTER", text: str = "chatter"
    ) -> None:
        """Append `count` ordinary user messages to a channel's history at once, bypassing HTTP and limits."""
        with self._lock:
            self._workspace.add_chatter(channel, count, user=user, text=text)

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

    def _run(self, loop: asyncio.AbstractEventLoop, ready: concurrent.futures.Future[int]) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve(ready))
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
        finally:
            loop.close()

    async def _serve(self, ready: concurrent.futures.Future[int]) -> None:
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/link/", self._link)
        # A short shutdown timeout: faulted requests may still be sleeping when a test ends.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", self._requested_port).start()
            ready.set_result(runner.addresses[0][1])
            await self._stopping.wait()
            for ws in self._open_sockets():
                await ws.close()
        finally:
            await runner.cleanup()

    async def _pause(self, delay: float) -> None:
        assert self._stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=delay)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params, token = await _read_params(request)
        with self._lock:
            queued = self._faults.get(method)
            fault = queued.popleft() if queued else None
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
            "url": f"ws://127.0.0.1:{self._port}/link/?ticket={uuid.uuid4()}&app_id={self._workspace.app_id}"
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
