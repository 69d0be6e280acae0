"""Webhooks as Jira Cloud's admin webhooks send them: one at a time, in event order, retried on failure,
signed with the webhook's secret (or carrying it in the query string)."""

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import aiohttp

# The events an admin webhook can be registered for here; a desk subscribes to all of them by default.
EVENTS = frozenset({"jira:issue_created", "jira:issue_updated", "comment_created"})
RAW = "raw"


def signature(secret: str, body: bytes) -> str:
    """The X-Hub-Signature Jira puts on a body sent with `secret`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver an event: what went out and how the receiver answered."""

    identifier: str
    event: str
    key: str | None
    attempt: int
    status: int | None
    error: str | None
    body: bytes
    headers: dict[str, str]
    # Where it went: the receiver's URL, with ?secret= in query mode.
    url: str
    at: float

    @property
    def ok(self) -> bool:
        """Whether the receiver took it (any 2xx answer)."""
        return self.status is not None and 200 <= self.status < 300

    def json(self) -> Any:
        """The body, parsed."""
        return json.loads(self.body)


@dataclass(frozen=True)
class _Event:
    identifier: str
    event: str
    key: str | None
    body: bytes


@dataclass(frozen=True)
class _Target:
    url: str
    secret: str
    mode: Literal["signature", "query"]
    retries: int
    retry_delay: float
    events: frozenset[str]
    timeout: float


class Sender:
    """Queues events and delivers them from the stand-in's event loop; every method but `run` and `post` is
    safe to call from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._target: _Target | None = None
        self._muted = False
        self._outbox: deque[_Event] = deque()
        self._deliveries: list[Delivery] = []
        # Events taken from the outbox and not yet delivered or given up on.
        self._busy = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._session: aiohttp.ClientSession | None = None
        self._numbers = itertools.count(1)

    def configure(
        self,
        url: str,
        *,
        secret: str,
        mode: Literal["signature", "query"],
        retries: int,
        retry_delay: float,
        events: Collection[str],
        timeout: float,
    ) -> None:
        """Send events from now on to `url` (see JiraStandIn.send_webhooks)."""
        if mode not in ("signature", "query"):
            raise ValueError(f"unknown webhook mode {mode!r}; use 'signature' or 'query'")
        if unknown := set(events) - EVENTS:
            raise ValueError(f"unknown webhook events {sorted(unknown)}; use some of {sorted(EVENTS)}")
        if retries < 0 or retry_delay < 0:
            raise ValueError("retries and retry_delay must not be negative")
        with self._lock:
            self._target = _Target(url, secret, mode, retries, retry_delay, frozenset(events), timeout)

    def mute(self, muted: bool) -> None:
        """While muted, events are lost, as when Jira gives up on a webhook or never sends it."""
        with self._lock:
            self._muted = muted

    def emit(self, event: str, key: str, payload: Mapping[str, Any]) -> None:
        """Queue an event as it happens; its body is fixed now, as Jira fixes it when the event fires."""
        with self._lock:
            target = self._target
            if target is None or self._muted or event not in target.events:
                return
            identifier = f"{next(self._numbers)}-{uuid.uuid4()}"
            body = json.dumps(payload).encode()
            self._outbox.append(_Event(identifier, event, key, body))
        self._nudge()

    def redeliver(self, identifier: str) -> None:
        """Queue a duplicate of a sent event, with the same identifier and body, muted or not."""
        with self._lock:
            sent = next((d for d in self._deliveries if d.identifier == identifier), None)
            if sent is None:
                raise KeyError(f"no event with identifier {identifier!r} was sent")
            self._outbox.append(_Event(identifier, sent.event, sent.key, sent.body))
        self._nudge()

    def deliveries(self) -> list[Delivery]:
        """Every attempt so far, oldest first."""
        with self._lock:
            return list(self._deliveries)

    def pending(self) -> int:
        """Events queued or being delivered."""
        with self._lock:
            return len(self._outbox) + self._busy

    def wait(
        self, predicate: Callable[[Delivery], bool], count: int, timeout: float, described: str
    ) -> list[Delivery]:
        """Wait until `count` attempts match `predicate`; return them all."""
        deadline = time.monotonic() + timeout
        while True:
            matched = [d for d in self.deliveries() if predicate(d)]
            if len(matched) >= count:
                return matched
            if time.monotonic() >= deadline:
                seen = ", ".join(
                    f"{d.event} {d.key} #{d.attempt}: {d.status or d.error}" for d in self.deliveries()
                )
                raise AssertionError(
                    f"expected {count} webhook deliveries {described} within {timeout}s, got {len(matched)}; "
                    f"sent: {seen or 'none'}"
                )
            time.sleep(0.01)

    def _nudge(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            # A stopped stand-in's loop is gone; the event waits in the outbox for the next start.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wake.set)

    async def run(self) -> None:
        """Deliver queued events one at a time until cancelled (on the stand-in's loop)."""
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        self._session = aiohttp.ClientSession()
        try:
            while True:
                with self._lock:
                    event = self._outbox.popleft() if self._outbox else None
                    target = self._target
                    if event is not None:
                        self._busy += 1
                if event is None:
                    await self._wake.wait()
                    self._wake.clear()
                    continue
                try:
                    if target is not None:
                        await self._deliver(event, target)
                finally:
                    with self._lock:
                        self._busy -= 1
        finally:
            await self._session.close()

    async def _deliver(self, event: _Event, target: _Target) -> None:
        for attempt in range(1, target.retries + 2):
            headers = {"X-Atlassian-Webhook-Identifier": event.identifier}
            if attempt > 1:
                # Jira counts retries, not attempts, and only says so on a retry.
                headers["X-Atlassian-Webhook-Retry"] = str(attempt - 1)
            delivery = await self.post(event, target, headers, attempt)
            if delivery.ok:
                return
            if attempt <= target.retries:
                await asyncio.sleep(target.retry_delay * 2 ** (attempt - 1))

    async def post(
        self, event: _Event, target: _Target, headers: dict[str, str], attempt: int, *, signed: bool = True
    ) -> Delivery:
        """POST one event's body to the target once and record the attempt."""
        assert self._session is not None
        url = target.url
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Atlassian Webhook HTTP Client",
            **headers,
        }
        if signed and target.mode == "signature":
            headers["X-Hub-Signature"] = signature(target.secret, event.body)
        elif signed:
            url += ("&" if "?" in url else "?") + "secret=" + quote(target.secret, safe="")
        status, error = None, None
        try:
            timeout = aiohttp.ClientTimeout(total=target.timeout)
            async with self._session.post(url, data=event.body, headers=headers, timeout=timeout) as answer:
                await answer.read()
                status = answer.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        delivery = Delivery(
            event.identifier,
            event.event,
            event.key,
            attempt,
            status,
            error,
            event.body,
            headers,
            url,
            time.time(),
        )
        with self._lock:
            self._deliveries.append(delivery)
        return delivery

    def post_raw(self, body: bytes, headers: Mapping[str, str], signed: bool) -> Delivery:
        """Send a hand-made body once to the configured receiver, from any thread but the loop's."""
        with self._lock:
            target = self._target
        if target is None or self._loop is None:
            raise RuntimeError("no webhook is configured, or the stand-in is not started")
        sent = {"X-Atlassian-Webhook-Identifier": f"raw-{uuid.uuid4()}", **headers}
        event = _Event(sent["X-Atlassian-Webhook-Identifier"], RAW, None, body)
        posting = asyncio.run_coroutine_threadsafe(
            self.post(event, target, sent, 1, signed=signed), self._loop
        )
        return posting.result(timeout=target.timeout + 5)
