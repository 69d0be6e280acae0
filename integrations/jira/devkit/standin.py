"""A Jira REST API (v2) look-alike on 127.0.0.1 for tests and the local demo: the calls the `jira` library
makes, Basic or bearer auth, injected faults, JQL search in Cloud's and Data Center's flavours, and admin
webhooks."""

import asyncio
import base64
import binascii
import contextlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from aiohttp import web

from adapters.devkit.standin import FAULTS as COMMON_FAULTS
from adapters.devkit.standin import StandIn
from integrations.jira.devkit.tracker import BOT_NAME, FIELDS, PERSON, STATUSES, Refusal, Tracker
from integrations.jira.devkit.webhooks import EVENTS, Delivery, Sender

__all__ = ["BOT_NAME", "FAULTS", "PERSON", "STATUSES", "Call", "Delivery", "JiraStandIn"]

# Besides the faults every stand-in takes, "drop": the call takes effect, then the connection is closed
# without an answer.
FAULTS = COMMON_FAULTS | {"drop"}
_UNAUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
_DEFAULT_PROJECTS = {"SUP": ["Bug", "Task"], "PROD": ["Story", "Bug"]}
# A handler gets the request and its JSON body, and answers (status, JSON) or raises Refusal.
Handler = Callable[[web.Request, Any], tuple[int, Any]]


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


def _field_list(values: Iterable[Any] | None) -> list[str] | None:
    """The `fields` of a request, repeated, comma-separated or a JSON list; None if not given."""
    if values is None:
        return None
    return [n.strip() for v in values for n in str(v).split(",") if n.strip()]


def _number(value: Any, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        raise Refusal(400, [f"'{value}' is not a number."]) from None


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
        self._user, self._api_token, self._pat = user, api_token, pat
        self._deployment = deployment
        self._cloud = deployment == "Cloud"
        self._webhooks = Sender()
        self._tracker = Tracker(
            projects or _DEFAULT_PROJECTS,
            cloud=self._cloud,
            user=user,
            base_url=lambda: self.base_url,
            emit=self._webhooks.emit,
        )
        self._page_tokens: dict[str, int] = {}
        self._latency = 0.0
        self._page_limit = 100
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
            self._page_limit = max(1, limit)

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
        tracker = self._tracker
        issue = "/issue/{issue}"
        routes: list[tuple[str, str, str, Handler]] = [
            ("GET", "/serverInfo", "serverInfo", lambda r, b: (200, tracker.server_info(self._deployment))),
            ("GET", "/myself", "myself", lambda r, b: (200, tracker.person(None))),
            ("GET", "/field", "field", lambda r, b: (200, FIELDS)),
            (
                "GET",
                "/project/{project}",
                "project",
                lambda r, b: (200, tracker.project(r.match_info["project"])),
            ),
            ("GET", "/issue/createmeta/{project}/issuetypes", "issuetypes", self._issue_types),
            ("POST", "/issue", "create", lambda r, b: (201, tracker.create(b))),
            ("GET", issue, "get", self._get),
            ("PUT", issue, "update", lambda r, b: (204, tracker.update(r.match_info["issue"], b))),
            ("GET", issue + "/comment", "comment", self._comments),
            (
                "POST",
                issue + "/comment",
                "comment",
                lambda r, b: (201, tracker.comment(r.match_info["issue"], b)),
            ),
            ("GET", issue + "/transitions", "transitions", self._transitions),
            (
                "POST",
                issue + "/transitions",
                "transition",
                lambda r, b: (204, tracker.transition(r.match_info["issue"], b)),
            ),
            ("GET", "/search/jql", "search", self._enhanced_search),
            ("POST", "/search/jql", "search", self._enhanced_search),
            ("GET", "/search", "search", self._search),
            ("POST", "/search", "search", self._search),
        ]
        for method, path, name, handler in routes:
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
                return self._answer(request, handler, body, readable)
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
                return self._answer(request, handler, body, readable)
            response = self._answer(request, handler, body, readable)
            if fault.kind == "drop":
                # The effect stands; the caller sees its connection closed without an answer.
                if request.transport is not None:
                    request.transport.close()
            else:
                await self._pause(fault.delay)
            return response

        return serve

    def _answer(
        self, request: web.Request, handler: Handler | None, body: Any, readable: bool
    ) -> web.Response:
        if handler is None:
            # Jira's REST layer answers a path it does not serve this way.
            return web.json_response(
                {"message": f"null for uri: {request.url}", "status-code": 404}, status=404
            )
        if not self._authorized(request.headers.get("Authorization", "")):
            refused = {"errorMessages": [_UNAUTHENTICATED], "errors": {}}
            headers = {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"}
            return web.json_response(refused, status=401, headers=headers)
        if request.method in ("POST", "PUT") and not (readable and isinstance(body, dict)):
            return web.json_response(
                {"errorMessages": ["Unexpected character: not a JSON object"]}, status=400
            )
        try:
            with self._lock:
                status, answer = handler(request, body)
        except Refusal as refusal:
            return web.json_response(refusal.body, status=refusal.status)
        if answer is None:
            return web.Response(status=status)
        return web.json_response(answer, status=status)

    def _authorized(self, header: str) -> bool:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer":
            return self._pat is not None and hmac.compare_digest(credentials.strip(), self._pat)
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(given, f"{self._user}:{self._api_token}")

    # -- the endpoints that read the request (the lock is held) ------------------------------------------

    def _issue_types(self, request: web.Request, body: Any) -> tuple[int, Any]:
        start, size = _number(request.query.get("startAt"), 0), _number(request.query.get("maxResults"), 50)
        return 200, self._tracker.issue_types(request.match_info["project"], start, size)

    def _get(self, request: web.Request, body: Any) -> tuple[int, Any]:
        wanted = _field_list(request.query.getall("fields")) if "fields" in request.query else None
        return 200, self._tracker.get(request.match_info["issue"], wanted)

    def _comments(self, request: web.Request, body: Any) -> tuple[int, Any]:
        start, size = _number(request.query.get("startAt"), 0), _number(request.query.get("maxResults"), 5000)
        return 200, self._tracker.comments(request.match_info["issue"], start, size)

    def _transitions(self, request: web.Request, body: Any) -> tuple[int, Any]:
        return 200, self._tracker.transitions(request.match_info["issue"], request.query.get("transitionId"))

    def _search_params(self, request: web.Request, body: Any) -> dict[str, Any]:
        """A search's parameters, from the query string (GET) or the JSON body (POST)."""
        if request.method == "POST":
            params = dict(body)
            fields = params.get("fields")
            params["fields"] = (
                _field_list(fields if isinstance(fields, list) else [fields]) if fields else None
            )
        else:
            params = {k: request.query[k] for k in request.query}
            params["fields"] = (
                _field_list(request.query.getall("fields")) if "fields" in request.query else None
            )
        # Strict unless told only to warn: then a key Jira does not have is no error.
        strict = str(params.get("validateQuery", "strict")).lower() not in ("warn", "none", "false")
        params["matched"] = self._tracker.search(str(params.get("jql") or ""), validate=strict)
        asked = _number(params.get("maxResults"), 50)
        params["size"] = min(asked if asked >= 0 else 50, self._page_limit)
        return params

    def _search(self, request: web.Request, body: Any) -> tuple[int, Any]:
        """Data Center's search, paged by startAt."""
        if self._cloud:
            # Jira Cloud retired this search; only the enhanced one (search/jql) answers there.
            raise Refusal(
                410, ["The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."]
            )
        params = self._search_params(request, body)
        matched, size, start = params["matched"], params["size"], max(0, _number(params.get("startAt"), 0))
        issues = [self._tracker.issue_json(i, params["fields"]) for i in matched[start : start + size]]
        return 200, {"startAt": start, "maxResults": size, "total": len(matched), "issues": issues}

    def _enhanced_search(self, request: web.Request, body: Any) -> tuple[int, Any]:
        """Cloud's search, paged by nextPageToken."""
        if not self._cloud:
            return 404, {"message": f"null for uri: {request.url}", "status-code": 404}
        params = self._search_params(request, body)
        token = params.get("nextPageToken")
        start = self._page_tokens.get(str(token)) if token else 0
        if start is None:
            raise Refusal(400, ["The nextPageToken is invalid or has expired."])
        page = params["matched"][start : start + (params["size"] or 50)]
        # Cloud answers with issue ids only unless asked for fields.
        fields = params["fields"]
        issues = [self._tracker.issue_json(i, fields) if fields else {"id": i.id} for i in page]
        answer: dict[str, Any] = {"issues": issues, "isLast": start + len(page) >= len(params["matched"])}
        if not answer["isLast"]:
            answer["nextPageToken"] = token = secrets.token_urlsafe(24)
            self._page_tokens[token] = start + len(page)
        return 200, answer
