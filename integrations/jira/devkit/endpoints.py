"""The Jira stand-in's REST endpoints: the paths it serves, how each reads its request, and who may call."""

import base64
import binascii
import hmac
import secrets
import threading
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from integrations.jira.devkit.fields import FIELDS
from integrations.jira.devkit.operations import Operations
from integrations.jira.devkit.refusal import Refusal
from integrations.jira.devkit.tracker import Tracker

_UNAUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
# A handler gets the request and its JSON body, and answers (status, JSON) or raises Refusal.
Handler = Callable[[web.Request, Any], tuple[int, Any]]


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


class Endpoints:
    """Serves the REST operations over HTTP, holding the stand-in's lock around each."""

    def __init__(
        self,
        tracker: Tracker,
        operations: Operations,
        lock: threading.Lock,
        *,
        deployment: str,
        user: str,
        api_token: str,
        pat: str | None,
    ) -> None:
        """Basic `user:api_token` and Bearer `pat` are let in; `deployment` is the stand-in's."""
        self._tracker, self._operations, self._lock = tracker, operations, lock
        self._deployment = deployment
        self._cloud = deployment == "Cloud"
        self._user, self._api_token, self._pat = user, api_token, pat
        self._page_tokens: dict[str, int] = {}
        # The most issues a search page holds, whatever the caller asks; the stand-in sets it under its lock.
        self.page_limit = 100

    def routes(self) -> list[tuple[str, str, str, Handler]]:
        """(method, path under /rest/api/2, call name, handler) for each path the stand-in serves."""
        operations = self._operations
        issue = "/issue/{issue}"
        return [
            (
                "GET",
                "/serverInfo",
                "serverInfo",
                lambda r, b: (200, operations.server_info(self._deployment)),
            ),
            ("GET", "/myself", "myself", lambda r, b: (200, self._tracker.json.person(None))),
            ("GET", "/field", "field", lambda r, b: (200, FIELDS)),
            (
                "GET",
                "/project/{project}",
                "project",
                lambda r, b: (200, operations.project(r.match_info["project"])),
            ),
            ("GET", "/issue/createmeta/{project}/issuetypes", "issuetypes", self._issue_types),
            ("POST", "/issue", "create", lambda r, b: (201, operations.create(b))),
            ("GET", issue, "get", self._get),
            ("PUT", issue, "update", lambda r, b: (204, operations.update(r.match_info["issue"], b))),
            ("GET", issue + "/comment", "comment", self._comments),
            (
                "POST",
                issue + "/comment",
                "comment",
                lambda r, b: (201, operations.comment(r.match_info["issue"], b)),
            ),
            ("GET", issue + "/transitions", "transitions", self._transitions),
            (
                "POST",
                issue + "/transitions",
                "transition",
                lambda r, b: (204, operations.transition(r.match_info["issue"], b)),
            ),
            ("GET", "/search/jql", "search", self._enhanced_search),
            ("POST", "/search/jql", "search", self._enhanced_search),
            ("GET", "/search", "search", self._search),
            ("POST", "/search", "search", self._search),
        ]

    def answer(
        self, request: web.Request, handler: Handler | None, body: Any, readable: bool
    ) -> web.Response:
        """Jira's answer to a request: the handler's, or a refusal (no handler: a path Jira does not have)."""
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
        return 200, self._operations.issue_types(request.match_info["project"], start, size)

    def _get(self, request: web.Request, body: Any) -> tuple[int, Any]:
        wanted = _field_list(request.query.getall("fields")) if "fields" in request.query else None
        return 200, self._operations.get(request.match_info["issue"], wanted)

    def _comments(self, request: web.Request, body: Any) -> tuple[int, Any]:
        start, size = _number(request.query.get("startAt"), 0), _number(request.query.get("maxResults"), 5000)
        return 200, self._operations.comments(request.match_info["issue"], start, size)

    def _transitions(self, request: web.Request, body: Any) -> tuple[int, Any]:
        return 200, self._operations.transitions(
            request.match_info["issue"], request.query.get("transitionId")
        )

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
        params["size"] = min(asked if asked >= 0 else 50, self.page_limit)
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
        issues = [self._tracker.json.issue_json(i, params["fields"]) for i in matched[start : start + size]]
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
        issues = [self._tracker.json.issue_json(i, fields) if fields else {"id": i.id} for i in page]
        answer: dict[str, Any] = {"issues": issues, "isLast": start + len(page) >= len(params["matched"])}
        if not answer["isLast"]:
            answer["nextPageToken"] = token = secrets.token_urlsafe(24)
            self._page_tokens[token] = start + len(page)
        return 200, answer
