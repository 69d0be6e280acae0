"""A Jira REST API (v2) look-alike on 127.0.0.1 for tests and the local demo: the calls the `jira` library
makes, Basic or bearer auth, injected faults, JQL search in Cloud's and Data Center's flavours, and admin
webhooks."""

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from aiohttp import web

from adapters.devkit.standin import FAULTS as COMMON_FAULTS
from adapters.devkit.standin import StandIn
from integrations.jira.devkit.endpoints import Endpoints, Handler
from integrations.jira.devkit.issues import PERSON
from integrations.jira.devkit.operations import Operations
from integrations.jira.devkit.tracker import Tracker
from integrations.jira.devkit.webhooks import EVENTS, Delivery, Sender
from integrations.jira.devkit.workflow import STATUSES

# Besides the faults every stand-in takes, "drop": the call takes effect, then the connection is closed
# without an answer.
FAULTS = COMMON_FAULTS | {"drop"}
_DEFAULT_PROJECTS = {"SUP": ["Bug", "Task"], "PROD": ["Story", "Bug"]}


@dataclass(frozen=True)
class Call:
    """One REST request as the stand-in received it (repeated query parameters as lists)."""

    name: str
    method: str
    path: str
    query: dict[str, Any]
    body: Any
    at: float
    fault: str | None


class JiraStandIn(StandIn[Call]):
    """Answers the REST calls of the `jira` library as Jira Cloud or Data Center would, and sends webhooks.

    Calls are named serverInfo, myself, field, project, issuetypes, create, get, update, comment (GET and
    POST), transitions, transition and search (both flavours); a path Jira would not serve is "unknown".
    """

    name = "jira-standin"

    def __init__(
        self,
        *,
        user: str = "bot@example.com",
        api_token: str = "jira-api-token",
        pat: str | None = None,
        deployment: str = "Cloud",
        projects: dict[str, list[str]] | None = None,
        port: int = 0,
    ) -> None:
        """Accept Basic `user:api_token` or Bearer `pat`; `deployment` "Cloud", or "Server" (Data Center).

        `projects` maps each project's key to its issue type names.
        """
        super().__init__(port=port)
        cloud = deployment == "Cloud"
        self._webhooks = Sender()
        self._tracker = Tracker(
            projects or _DEFAULT_PROJECTS,
            cloud=cloud,
            user=user,
            base_url=lambda: self.base_url,
            emit=self._webhooks.emit,
        )
        self._endpoints = Endpoints(
            self._tracker,
            Operations(self._tracker, cloud=cloud, base_url=lambda: self.base_url),
            self._lock,
            deployment=deployment,
            user=user,
            api_token=api_token,
            pat=pat,
        )
        self._latency = 0.0
        self._worker: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str:
        """The server URL to give the `jira` client."""
        return f"http://127.0.0.1:{self.port}"

    # -- what tests and the demo do as people in Jira, and what they see ---------------------------------

    def issue(self, key: str) -> dict[str, Any]:
        """A copy of a stored issue, comments and labels included; KeyError if there is none."""
        with self._lock:
            return self._tracker.stored(key).snapshot()

    def issues(self) -> list[dict[str, Any]]:
        """Copies of every issue, in creation order."""
        with self._lock:
            return [issue.snapshot() for issue in self._tracker.issues.values()]

    def add_issue(
        self,
        project: str,
        summary: str,
        *,
        issue_type: str | None = None,
        labels: Iterable[str] = (),
        status: str = "To Do",
        by: str = PERSON,
    ) -> str:
        """An issue someone made in Jira (for link and merge tests); returns its key."""
        types = self._tracker.projects.get(project.upper())
        if types is None or (issue_type or types[0]) not in types or status not in STATUSES:
            raise ValueError(f"no project {project!r}, issue type {issue_type!r} in it, or status {status!r}")
        with self._lock:
            issue = self._tracker.new_issue(
                project.upper(), issue_type or types[0], summary, labels=labels, status=status, by=by
            )
            return issue.key

    def set_status(self, key: str, status: str, *, resolution: str | None = None, by: str = PERSON) -> None:
        """Someone moves an issue in Jira; a finished status takes `resolution` (by default its own)."""
        if status not in STATUSES:
            raise ValueError(f"no status {status!r}; use one of {sorted(STATUSES)}")
        with self._lock:
            self._tracker.move(self._tracker.stored(key), status, resolution, by)

    def add_comment(
        self, key: str, body: str, *, by: str = PERSON, visibility: dict[str, str] | None = None
    ) -> str:
        """Someone comments on an issue in Jira; returns the comment's id."""
        with self._lock:
            return self._tracker.add_comment(self._tracker.stored(key), body, visibility, by).id

    def set_updated(self, key: str, at: datetime) -> None:
        """Backdate an issue's last change (for searches by time); no event is sent."""
        with self._lock:
            self._tracker.stored(key).updated = at.timestamp()

    def set_latency(self, seconds: float) -> None:
        """Delay every REST answer by `seconds` (Jira on a slow day)."""
        with self._lock:
            self._latency = max(0.0, seconds)

    def set_page_limit(self, limit: int) -> None:
        """The most issues a search page holds, whatever the caller asks (100, as Jira, by default)."""
        with self._lock:
            self._endpoints.page_limit = max(1, limit)

    # -- webhooks ---------------------------------------------------------------------------------------

    def send_webhooks(
        self,
        url: str,
        *,
        secret: str,
        mode: Literal["signature", "query"] = "signature",
        retries: int = 5,
        retry_delay: float = 0.2,
        events: Collection[str] = EVENTS,
        timeout: float = 10.0,
    ) -> None:
        """POST every issue event from now on to `url`, signed (X-Hub-Signature) or with `?secret=`.

        Events go one at a time, in order; a non-2xx answer or a connection error is retried `retries` times,
        `retry_delay` apart at first, doubling.
        """
        self._webhooks.configure(
            url,
            secret=secret,
            mode=mode,
            retries=retries,
            retry_delay=retry_delay,
            events=events,
            timeout=timeout,
        )

    def deliveries(self) -> list[Delivery]:
        """Every webhook attempt so far, oldest first."""
        return self._webhooks.deliveries()

    def wait_for_delivery(
        self,
        predicate: Callable[[Delivery], bool] | None = None,
        *,
        event: str | None = None,
        key: str | None = None,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[Delivery]:
        """Wait until `count` webhook attempts match the predicate, event and issue key given; return them."""

        def matches(d: Delivery) -> bool:
            return (predicate is None or predicate(d)) and event in (None, d.event) and key in (None, d.key)

        described = " ".join(f"{n}={v}" for n, v in (("event", event), ("key", key)) if v) or "of any kind"
        return self._webhooks.wait(matches, count, timeout, described)

    def settle_webhooks(self, timeout: float = 5.0) -> None:
        """Wait until every event so far was delivered or given up on."""
        deadline = time.monotonic() + timeout
        while self._webhooks.pending():
            if time.monotonic() >= deadline:
                raise AssertionError(f"webhooks still pending after {timeout}s")
            time.sleep(0.01)

    def redeliver(self, identifier: str) -> None:
        """Send a sent event once more, same identifier and body, as Jira's duplicates come."""
        self._webhooks.redeliver(identifier)

    def mute_webhooks(self) -> None:
        """Lose every event from now on (webhooks Jira never sends)."""
        self._webhooks.mute(True)

    def unmute_webhooks(self) -> None:
        """Send events again; those lost while muted stay lost."""
        self._webhooks.mute(False)

    def deliver_raw(
        self, body: bytes, headers: dict[str, str] | None = None, *, signed: bool = True
    ) -> Delivery:
        """POST a hand-made body to the webhook receiver once; signed (or with the secret) unless not."""
        return self._webhooks.post_raw(body, headers or {}, signed)

    # -- serving ----------------------------------------------------------------------------------------

    def _check_fault(self, fault: str) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; use one of {sorted(FAULTS)}")

    def _name_of(self, call: Call) -> str:
        return call.name

    def _add_routes(self, app: web.Application) -> None:
        for method, path, name, handler in self._endpoints.routes():
            app.router.add_route(method, "/rest/api/{version:2|latest}" + path, self._route(name, handler))
        app.router.add_route("*", "/{tail:.*}", self._route("unknown", None))
        app.on_startup.append(self._start_webhooks)

    async def _start_webhooks(self, app: web.Application) -> None:
        self._worker = asyncio.get_running_loop().create_task(self._webhooks.run())

    async def _closing(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    def _route(self, name: str, handler: Handler | None) -> Callable:
        """Wrap `handler` so its calls are recorded, delayed by the latency and hit by injected faults."""

        async def serve(request: web.Request) -> web.StreamResponse:
            raw = await request.read() if request.body_exists else b""
            try:
                body, readable = (json.loads(raw), True) if raw else (None, True)
            except ValueError:
                body, readable = raw.decode(errors="replace"), False
            query = {k: v[0] if len(v) == 1 else v for k in request.query if (v := request.query.getall(k))}
            with self._lock:
                fault = self._next_fault(name)
                latency = self._latency
                kind = fault.kind if fault else None
                self._calls.append(
                    Call(name, request.method, request.path, query, body, time.monotonic(), kind)
                )
            if latency:
                await self._pause(latency)
            if fault is None:
                return self._endpoints.answer(request, handler, body, readable)
            if fault.kind == "ratelimit":
                retry_after = {"Retry-After": str(fault.retry_after)}
                return web.json_response({"message": "Rate limit exceeded."}, status=429, headers=retry_after)
            if fault.kind == "server_error":
                return web.json_response(
                    {"errorMessages": ["Internal server error"], "errors": {}}, status=500
                )
            if fault.kind == "timeout":
                await self._pause(fault.delay)
                # Jira acts only on a request whose caller is still there to hear the answer.
                if request.transport is None or request.transport.is_closing():
                    return web.Response(status=504)
                return self._endpoints.answer(request, handler, body, readable)
            response = self._endpoints.answer(request, handler, body, readable)
            if fault.kind == "drop":
                # The effect stands; the caller sees its connection closed without an answer.
                if request.transport is not None:
                    request.transport.close()
            else:
                await self._pause(fault.delay)
            return response

        return serve
