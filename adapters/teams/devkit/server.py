"""What the Teams stand-ins share: https on localhost from a background thread, recorded calls and faults."""

import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from adapters.teams.devkit.tls import HOSTNAME, LocalCA

# Faults model what a caller can observe: "ratelimit" (429 + Retry-After), "server_error" (500),
# "timeout" (held for `delay`, acted on only if the caller still waits) and "slow_effect" (acted on at once,
# answered after `delay`: the service did it but the caller never heard).
FAULTS = frozenset({"ratelimit", "server_error", "timeout", "slow_effect"})


@dataclass(frozen=True)
class Call:
    """One HTTP request as a stand-in received it."""

    operation: str
    method: str
    path: str
    body: Any
    token: str | None
    at: float
    fault: str | None
    status: int | None


@dataclass(frozen=True)
class _Fault:
    kind: str
    retry_after: int
    delay: float


Handler = Callable[[web.Request, Any, str | None], Awaitable[web.Response]]


def bearer(request: web.Request) -> str | None:
    """The bearer token of a request, if it carries one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def error_body(code: str, message: str) -> dict[str, Any]:
    """An error in the Bot Framework's ErrorResponse shape."""
    return {"error": {"code": code, "message": message}}


class StandInServer:
    """An aiohttp server on https://localhost:PORT in its own thread and event loop, recording every call."""

    name = "teams-standin"

    def __init__(self, ca: LocalCA, *, port: int = 0) -> None:
        """Serve with a certificate from `ca`; `port` 0 picks a free one."""
        self._ca = ca
        self._requested_port = port
        # Guards everything shared between the server thread and callers' threads.
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._port: int | None = None

    def __enter__(self) -> "StandInServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The origin the stand-in serves, without a trailing slash."""
        if self._port is None:
            raise RuntimeError(f"the {self.name} is not started")
        return f"https://{HOSTNAME}:{self._port}"

    def start(self) -> "StandInServer":
        """Serve on a localhost port from a daemon thread; return once listening."""
        if self._thread is not None:
            raise RuntimeError(f"the {self.name} is already started")
        ready: concurrent.futures.Future[int] = concurrent.futures.Future()
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=self._run, args=(loop, ready), name=self.name, daemon=True)
        self._thread.start()
        try:
            self._port = ready.result(timeout=10)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop serving and join the server thread."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None or loop is None:
            return
        if stopping is not None and thread.is_alive():
            loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout=10)
        self._thread = self._loop = self._stopping = None
        self._port = None

    def calls(self, operation: str | None = None) -> list[Call]:
        """Recorded calls in arrival order, of one operation or of all."""
        with self._lock:
            return [c for c in self._calls if operation is None or c.operation == operation]

    def wait_for(
        self,
        operation: str,
        count: int = 1,
        *,
        timeout: float = 5.0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Wait until `count` calls of `operation` (matching `where`) arrived and return them all."""
        deadline = time.monotonic() + timeout
        while True:
            recorded = self.calls()
            matched = [c for c in recorded if c.operation == operation and (where is None or where(c))]
            if len(matched) >= count:
                return matched
            if time.monotonic() >= deadline:
                seen = Counter(c.operation for c in recorded)
                summary = ", ".join(f"{op} x{n}" for op, n in seen.items()) or "none"
                condition = " matching the condition" if where else ""
                raise AssertionError(
                    f"expected {count} call(s) of {operation}{condition} within {timeout}s, "
                    f"got {len(matched)}; operations called: {summary}"
                )
            time.sleep(0.01)

    def inject(
        self, operation: str, fault: str, *, times: int = 1, retry_after: int = 1, delay: float = 0.0
    ) -> None:
        """Answer the next `times` calls of `operation` with `fault` (kinds are described at FAULTS)."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; use one of {sorted(FAULTS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.setdefault(operation, deque()).extend([_Fault(fault, retry_after, delay)] * times)

    def clear(self) -> None:
        """Forget recorded calls and pending faults."""
        with self._lock:
            self._calls.clear()
            self._faults.clear()

    def _add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def _route(self, operation: str, handler: Handler, *, json_body: bool = True) -> Callable:
        """Wrap `handler` so that its calls are recorded and faults injected for `operation` are applied."""

        async def serve(request: web.Request) -> web.StreamResponse:
            body: Any = None
            if request.body_exists:
                if json_body:
                    try:
                        body = await request.json()
                    except ValueError:
                        body = await request.text()
                else:
                    body = dict(await request.post())
            token = bearer(request)
            with self._lock:
                queued = self._faults.get(operation)
                fault = queued.popleft() if queued else None

            def record(status: int | None) -> None:
                call = Call(
                    operation,
                    request.method,
                    request.path,
                    body,
                    token,
                    time.monotonic(),
                    fault.kind if fault else None,
                    status,
                )
                with self._lock:
                    self._calls.append(call)

            if fault is None:
                response = await handler(request, body, token)
                record(response.status)
                return response
            if fault.kind == "ratelimit":
                record(429)
                return web.json_response(
                    error_body("TooManyRequests", "Too many requests, retry later."),
                    status=429,
                    headers={"Retry-After": str(fault.retry_after)},
                )
            if fault.kind == "server_error":
                record(500)
                return web.json_response(error_body("ServiceError", "Internal server error."), status=500)
            if fault.kind == "slow_effect":
                response = await handler(request, body, token)
                record(response.status)
                await self._pause(fault.delay)
                return response
            # "timeout": recorded on arrival, acted on only if the caller is still there to hear the answer.
            record(None)
            await self._pause(fault.delay)
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=504)
            return await handler(request, body, token)

        return serve

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
        self._add_routes(app)
        # A short shutdown timeout: faulted requests may still be sleeping when a test ends.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(
                runner, "127.0.0.1", self._requested_port, ssl_context=self._ca.server_context()
            )
            await site.start()
            ready.set_result(runner.addresses[0][1])
            await self._stopping.wait()
        finally:
            await runner.cleanup()

    async def _pause(self, delay: float) -> None:
        assert self._stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=delay)
