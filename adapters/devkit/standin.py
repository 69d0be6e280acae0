"""A stand-in for a remote service: served on a free port from its own thread and event loop, it records
every call and answers the next ones with the faults a test injects."""

import asyncio
import concurrent.futures
import contextlib
import ssl
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Self, TypeVar

from aiohttp import web

# Faults model what a caller can observe: "ratelimit" (429 + Retry-After), "server_error" (500), "timeout"
# (held for `delay`, acted on only if the caller still waits) and "slow_effect" (acted on at once, answered
# after `delay`: the service did it but the caller never heard).
FAULTS = frozenset({"ratelimit", "server_error", "timeout", "slow_effect"})

C = TypeVar("C")


@dataclass(frozen=True)
class Fault:
    """A fault waiting for the next call of its kind."""

    kind: str
    retry_after: int
    delay: float


class StandIn(Generic[C]):
    """The server machinery of a stand-in; a subclass adds its routes and says what its calls are named."""

    name = "stand-in"

    def __init__(self, *, port: int = 0, ssl_context: ssl.SSLContext | None = None) -> None:
        """`port` 0 picks a free one; a given port lets a test bring a service back where its client looks."""
        self._requested_port = port
        self._ssl_context = ssl_context
        # Guards everything shared between the server thread and callers' threads.
        self._lock = threading.Lock()
        self._calls: list[C] = []
        self._faults: dict[str, deque[Fault]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._port: int | None = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port served on."""
        if self._port is None:
            raise RuntimeError(f"the {self.name} is not started")
        return self._port

    def start(self) -> Self:
        """Serve from a daemon thread; return once listening."""
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

    def calls(self, name: str | None = None) -> list[C]:
        """Recorded calls in arrival order, of one kind or of all."""
        with self._lock:
            return [c for c in self._calls if name is None or self._name_of(c) == name]

    def wait_for(
        self, name: str, count: int = 1, *, timeout: float = 5.0, where: Callable[[C], bool] | None = None
    ) -> list[C]:
        """Wait until `count` calls named `name` (matching `where`) arrived and return them all."""
        deadline = time.monotonic() + timeout
        while True:
            recorded = self.calls()
            matched = [c for c in recorded if self._name_of(c) == name and (where is None or where(c))]
            if len(matched) >= count:
                return matched
            if time.monotonic() >= deadline:
                seen = Counter(self._name_of(c) for c in recorded)
                summary = ", ".join(f"{called} x{n}" for called, n in seen.items()) or "none"
                condition = " matching the condition" if where else ""
                raise AssertionError(
                    f"expected {count} call(s) of {name}{condition} within {timeout}s, got {len(matched)}; "
                    f"called: {summary}"
                )
            time.sleep(0.01)

    def inject(
        self, name: str, fault: str, *, times: int = 1, retry_after: int = 1, delay: float = 0.0
    ) -> None:
        """Answer the next `times` calls named `name` with `fault` (kinds are described at FAULTS)."""
        self._check_fault(fault)
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.setdefault(name, deque()).extend([Fault(fault, retry_after, delay)] * times)

    def _check_fault(self, fault: str) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; use one of {sorted(FAULTS)}")

    def _name_of(self, call: C) -> str:
        raise NotImplementedError

    def _add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def _closing(self) -> None:
        """What to end before the server stops (open websockets, say)."""

    def _next_fault(self, name: str) -> Fault | None:
        """The fault injected for the next call named `name`, taken; the caller holds the lock."""
        queued = self._faults.get(name)
        return queued.popleft() if queued else None

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
            site = web.TCPSite(runner, "127.0.0.1", self._requested_port, ssl_context=self._ssl_context)
            await site.start()
            ready.set_result(runner.addresses[0][1])
            await self._stopping.wait()
            await self._closing()
        finally:
            await runner.cleanup()

    async def _pause(self, delay: float) -> None:
        assert self._stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=delay)
