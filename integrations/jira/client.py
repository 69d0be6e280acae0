"""The desk's tracker port, carried out by the `jira` library: off the event loop, with the library's own
retries off (the outbox retries, and a retried create could make a second issue), and every failure told
as the outbox understands it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import requests
import structlog
from jira import JIRA, JIRAError

from chatops.errors import ConfigError
from chatops.messaging.ports import PermanentFailure, RateLimited, TransientFailure
from chatops.tracking.ports import Comment, IssueDraft, IssueMissing, IssueState
from integrations.jira.issues import issue_state
from integrations.jira.markup import describe, escaped

log = structlog.get_logger("chatops.jira")

T = TypeVar("T")
SYSTEM = "jira"
_FIELDS = "summary,status,resolution,updated"
# Jira asks for a wait in seconds; when it does not say, this long.
_DEFAULT_WAIT = 10.0
# Calls in flight at once: Jira is one service, and the desk's outbox has little to say to it.
WORKERS = 4


class CredentialsRefused(TransientFailure):
    """Jira refused the desk's credentials: work waits until an operator mends them."""


class JiraTracker:
    """Jira Cloud or Data Center behind the tracker port."""

    system = SYSTEM

    def __init__(
        self,
        url: str,
        *,
        user: str = "",
        api_token: str = "",
        token: str = "",
        timeout: float = 10.0,
        workers: int = WORKERS,
    ) -> None:
        """Cloud signs in with `user` and `api_token`; Data Center with a personal access `token`."""
        self.url = url.rstrip("/")
        self._auth: dict[str, Any] = {"token_auth": token} if token else {"basic_auth": (user, api_token)}
        self._timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="jira")
        # The library's session is not made for sharing between threads: each worker has its own client.
        self._local = threading.local()

    def _client(self) -> JIRA:
        client = getattr(self._local, "client", None)
        if client is None:
            client = JIRA(
                server=self.url,
                max_retries=0,
                timeout=self._timeout,
                options={"check_update": False},
                **self._auth,
            )
            self._local.client = client
        return client

    async def _call(self, what: str, call: Callable[[JIRA], T], *, writes: bool = False) -> T:
        """Run a call in a worker thread; `writes`: a failure after it went out leaves it in doubt."""

        def run() -> T:
            try:
                return call(self._client())
            except JIRAError as error:
                raise _failure(what, error, writes=writes) from None
            except requests.exceptions.ConnectTimeout as error:
                raise TransientFailure(f"jira {what}: cannot connect ({error})", in_doubt=False) from None
            except requests.exceptions.RequestException as error:
                raise TransientFailure(f"jira {what}: {type(error).__name__}", in_doubt=writes) from None

        return await asyncio.get_running_loop().run_in_executor(self._executor, run)

    async def create(self, draft: IssueDraft) -> IssueState:
        """Create the issue, then read it back (a failure reading it leaves the create in doubt)."""
        fields = {
            "project": {"key": draft.project},
            "issuetype": {"name": draft.issue_type},
            "summary": draft.summary,
            "description": describe(draft.facts),
            "labels": list(draft.labels),
        }
        made = await self._call(
            "create", lambda jira: jira.create_issue(fields=fields, prefetch=False), writes=True
        )
        log.info("jira_issue_created", issue=made.key, project=draft.project)
        try:
            return await self.get(made.key)
        except (RateLimited, TransientFailure) as failure:
            # It exists: the next try finds it by its label rather than making another.
            raise TransientFailure(
                f"jira created {made.key} but did not show it: {failure}", in_doubt=True
            ) from None

    async def find(self, label: str) -> IssueState | None:
        """The oldest issue with the label."""
        jql = f'labels = "{label}" ORDER BY created ASC'
        found = await self._call(
            "search", lambda jira: list(jira.search_issues(jql, maxResults=1, fields=_FIELDS))
        )
        return self._state(found[0]) if found else None

    async def get(self, key: str) -> IssueState:
        """The issue as it stands."""
        return self._state(await self._call("get", lambda jira: jira.issue(key, fields=_FIELDS)))

    async def mark(self, key: str, label: str) -> None:
        """Add a label (a field update: Jira's webhook for it changes nothing here)."""
        await self._call(
            "label",
            lambda jira: jira.issue(key, fields="labels").update(update={"labels": [{"add": label}]}),
            writes=True,
        )

    async def comment(self, key: str, body: str, *, look_first: bool) -> Comment:
        """Add a comment, unless (looking first) the issue has one with the same words already."""

        shown = escaped(body)

        def add(jira: JIRA) -> Any:
            if look_first:
                same = next((c for c in jira.comments(key) if c.body == shown), None)
                if same is not None:
                    return same
            return jira.add_comment(key, shown)

        made = await self._call("comment", add, writes=True)
        return Comment(str(made.id), _author(made), made.body)

    async def changed_since(self, label: str, minutes: int) -> list[IssueState]:
        """Every issue with the label changed in the last `minutes` (a relative time: no time zones)."""
        jql = f'labels = "{label}" AND updated >= "-{int(minutes)}m" ORDER BY updated ASC'
        found = await self._call(
            "search", lambda jira: list(jira.search_issues(jql, maxResults=False, fields=_FIELDS))
        )
        return [self._state(issue) for issue in found]

    async def check(self, kinds: dict[str, tuple[str, str]]) -> None:
        """Check the credentials, and that each configured (project, issue type) exists, keyed by the
        setting that names it; ConfigError names the first mistake."""
        try:
            await self._call("server info", lambda jira: jira.server_info())
        except CredentialsRefused as refused:
            setting = "JIRA_TOKEN" if "token_auth" in self._auth else "JIRA_API_TOKEN (with JIRA_USER)"
            raise ConfigError(f"{setting}: Jira refused the credentials ({refused})") from None
        for setting, (project, issue_type) in kinds.items():
            try:
                # The project's own description lists its issue types, on Cloud and Data Center alike.
                types = await self._call("project", lambda jira, p=project: jira.project(p).issueTypes)
            except IssueMissing:
                raise ConfigError(f"{setting}: Jira has no project {project}") from None
            names = [t.name for t in types]
            if issue_type not in names:
                raise ConfigError(
                    f"{setting}: project {project} has no issue type {issue_type!r} "
                    f"(it has {', '.join(names)})"
                )

    def _state(self, issue: Any) -> IssueState:
        return issue_state(issue.raw, self.url)

    async def close(self) -> None:
        """Let calls in flight finish, then stop the worker threads."""
        await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown)


def _author(comment: Any) -> str:
    author = getattr(comment, "author", None)
    return getattr(author, "displayName", None) or "someone"


def _failure(what: str, error: JIRAError, *, writes: bool) -> Exception:
    """What a refusal from Jira means for the outbox."""
    status = error.status_code or 0
    headers = getattr(error.response, "headers", None) or {}
    text = (error.text or "").strip()[:300]
    if status == 429:
        try:
            wait = float(headers.get("Retry-After", _DEFAULT_WAIT))
        except ValueError:
            wait = _DEFAULT_WAIT
        return RateLimited(max(wait, 1.0))
    if status >= 500 or status == 0:
        return TransientFailure(f"jira {what}: {status} {text}", in_doubt=writes)
    if status in (401, 403):
        # Credentials an operator can mend: the work waits for them rather than being given up.
        log.error("jira_refused_credentials", call=what, status=status)
        return CredentialsRefused(f"jira {what}: {status}", in_doubt=False)
    if status == 404:
        return IssueMissing(f"jira {what}: not found")
    return PermanentFailure(f"jira {what}: {status} {text}")
