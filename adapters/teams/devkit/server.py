"""What the Teams stand-ins share: https on localhost, calls recorded by operation, faults applied."""

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web

from adapters.devkit.standin import StandIn
from adapters.teams.devkit.tls import HOSTNAME, LocalCA


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


Handler = Callable[[web.Request, Any, str | None], Awaitable[web.Response]]


def bearer(request: web.Request) -> str | None:
    """The bearer token of a request, if it carries one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def error_body(code: str, message: str) -> dict[str, Any]:
    """An error in the Bot Framework's ErrorResponse shape."""
    return {"error": {"code": code, "message": message}}


class StandInServer(StandIn[Call]):
    """A stand-in on https://localhost:PORT, recording every call under the name of its operation."""

    name = "teams-standin"

    def __init__(self, ca: LocalCA, *, port: int = 0) -> None:
        """Serve with a certificate from `ca`; `port` 0 picks a free one."""
        super().__init__(port=port, ssl_context=ca.server_context())
        self._ca = ca

    @property
    def base_url(self) -> str:
        """The origin the stand-in serves, without a trailing slash."""
        return f"https://{HOSTNAME}:{self.port}"

    def clear(self) -> None:
        """Forget recorded calls and pending faults."""
        with self._lock:
            self._calls.clear()
            self._faults.clear()

    def _name_of(self, call: Call) -> str:
        return call.operation

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
                fault = self._next_fault(operation)

            def record(status: int | None) -> Call:
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
                return call

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
            # "timeout": recorded on arrival, acted on only if the caller is still there to hear the answer;
            # the record takes the outcome when the hold is over (504: abandoned, never acted on).
            held = record(None)
            await self._pause(fault.delay)
            if request.transport is None or request.transport.is_closing():
                response = web.Response(status=504)
            else:
                response = await handler(request, body, token)
            with self._lock:
                self._calls[:] = [replace(c, status=response.status) if c is held else c for c in self._calls]
            return response

        return serve
