"""Serving the desk's web app: on the current event loop, or from a background thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")


async def start_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Start serving `app`; port 0 picks a free port. Returns the runner and the URL it answers on."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    bound = runner.addresses[0][1] if runner.addresses else port
    return runner, f"http://{host}:{bound}"


class BackgroundServer:
    """A web app served from its own thread and event loop, for the demo and the test suite."""

    def __init__(self, build: Callable[[], web.Application], host: str = "127.0.0.1") -> None:
        self._build = build
        self._host = host
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="chatops-server", daemon=True)
        self._runner: web.AppRunner | None = None
        self.url = ""

    def start(self) -> BackgroundServer:
        """Build the app on the server's loop and start serving on a free port."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=60)
        return self

    async def _start(self) -> None:
        self._runner, self.url = await start_site(self._build(), self._host, 0)

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's loop (to connect Socket Mode, say) and return its result."""
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=60)

    def stop(self) -> None:
        """Shut the app down cleanly (the dispatcher finishes its batch) and end the thread."""
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=60)
            self._runner = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
