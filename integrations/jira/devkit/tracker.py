"""The Jira stand-in's projects and issues: found by key, id or JQL, and changed with an event per change."""

import itertools
import time
from collections.abc import Callable, Iterable
from typing import Any

from integrations.jira.devkit.fields import EDITABLE, changelog_item
from integrations.jira.devkit.issues import Comment, Issue
from integrations.jira.devkit.jira_json import JiraJson
from integrations.jira.devkit.jql import JqlError, parse
from integrations.jira.devkit.refusal import Refusal
from integrations.jira.devkit.workflow import STATUSES

MISSING = "Issue does not exist or you do not have permission to see it."

# Takes an event's name, its issue's key and its body.
Emit = Callable[[str, str, dict[str, Any]], None]


class Tracker:
    """The projects and issues of one Jira site; not thread-safe (the stand-in holds its lock around it)."""

    def __init__(
        self,
        projects: dict[str, list[str]],
        *,
        cloud: bool,
        user: str,
        base_url: Callable[[], str],
        emit: Emit,
    ) -> None:
        """`user` is the bot account's login; `emit` gets every event as it happens."""
        self.projects = {key.upper(): list(types) for key, types in projects.items()}
        self.project_ids = {key: str(10000 + n) for n, key in enumerate(self.projects)}
        # Issue types are global in Jira: one id per name, whichever projects use it.
        names = dict.fromkeys(t for types in self.projects.values() for t in types)
        self.type_ids = {name: str(10001 + n) for n, name in enumerate(names)}
        self.json = JiraJson(
            self.projects, self.project_ids, self.type_ids, cloud=cloud, user=user, base_url=base_url
        )
        self._emit_to = emit
        self.issues: dict[str, Issue] = {}
        self._keys_by_id: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._issue_ids = itertools.count(10001)
        self._comment_ids = itertools.count(10100)
        self._changelog_ids = itertools.count(10200)

    # -- finding ----------------------------------------------------------------------------------------

    def find(self, ref: str) -> Issue | None:
        """An issue by key or id."""
        return self.issues.get(ref.upper()) or self.issues.get(self._keys_by_id.get(ref, ""))

    def stored(self, ref: str) -> Issue:
        """An issue by key or id; KeyError if there is none."""
        issue = self.find(ref)
        if issue is None:
            raise KeyError(f"no issue {ref!r}")
        return issue

    def existing(self, ref: str) -> Issue:
        """An issue by key or id; refused as Jira refuses a missing one if there is none."""
        issue = self.find(ref)
        if issue is None:
            raise Refusal(404, [MISSING])
        return issue

    def project_key(self, ref: Any) -> str | None:
        """A project's key from its key or id."""
        ref = str(ref).upper()
        return (
            ref if ref in self.projects else next((k for k, i in self.project_ids.items() if i == ref), None)
        )

    def known_project(self, ref: str) -> str:
        """A project's key from its key or id; refused as Jira refuses a missing one if there is none."""
        key = self.project_key(ref)
        if key is None:
            raise Refusal(404, [f"No project could be found with key '{ref}'."])
        return key

    def search(self, jql: str, *, validate: bool) -> list[Issue]:
        """The issues a query matches, in its order; JQL errors are refused as Jira refuses them."""
        try:
            query = parse(jql)
        except JqlError as exc:
            raise Refusal(400, [str(exc)]) from None
        # Jira refuses a query naming an issue it does not have, unless told only to warn.
        missing = sorted(k for k in query.keys() if self.find(k) is None) if validate else []
        if missing:
            raise Refusal(400, [f"An issue with key '{k}' does not exist for field 'key'." for k in missing])
        return [self.issues[f["key"]] for f in query.run([i.facts() for i in self.issues.values()])]

    # -- changing (each change bumps `updated` and emits its events) -------------------------------------

    def new_issue(
        self,
        project: str,
        issue_type: str,
        summary: str,
        *,
        description: str | None = None,
        labels: Iterable[str] = (),
        status: str = "To Do",
        by: str | None = None,
    ) -> Issue:
        """Store a new issue, numbered on from the project's last."""
        self._counts[project] = number = self._counts.get(project, 0) + 1
        now = time.time()
        issue = Issue(
            str(next(self._issue_ids)),
            f"{project}-{number}",
            project,
            issue_type,
            summary,
            description,
            sorted(set(labels)),
            status,
            STATUSES[status][2],
            by,
            now,
            now,
        )
        self.issues[issue.key] = issue
        self._keys_by_id[issue.id] = issue.key
        self._emit("jira:issue_created", "issue_created", issue, by)
        return issue

    def edit(self, issue: Issue, values: dict[str, Any], by: str | None) -> None:
        """Give an issue's editable fields these checked values; one update event lists what changed."""
        values = {**values, "labels": sorted(set(values["labels"]))}
        items = []
        for name in EDITABLE:
            before = getattr(issue, name)
            if values[name] != before:
                shown = (" ".join(v) if isinstance(v, list) else v for v in (before, values[name]))
                items.append(changelog_item(name, *shown))
                setattr(issue, name, values[name])
        if items:
            issue.updated = time.time()
            self._emit("jira:issue_updated", "issue_updated", issue, by, changelog=items)

    def move(self, issue: Issue, status: str, resolution: str | None, by: str | None) -> None:
        """Put an issue in a status; a finished one takes a resolution, an open one loses it."""
        before = (issue.status, issue.resolution)
        done = STATUSES[status][1] == "done"
        after = (status, (resolution or STATUSES[status][2] or "Done") if done else None)
        if after == before:
            return
        issue.status, issue.resolution = after
        items = [changelog_item("status", before[0], status, STATUSES[before[0]][0], STATUSES[status][0])]
        if issue.resolution != before[1]:
            items.append(changelog_item("resolution", before[1], issue.resolution))
        issue.updated = time.time()
        self._emit("jira:issue_updated", "issue_generic", issue, by, changelog=items)

    def add_comment(
        self, issue: Issue, body: str, visibility: dict[str, Any] | None, by: str | None
    ) -> Comment:
        """Comment on an issue."""
        comment = Comment(str(next(self._comment_ids)), body, by, visibility, time.time())
        issue.comments.append(comment)
        issue.updated = comment.created
        # Jira reports a comment twice: as a comment event and as an update of its issue.
        self._emit("comment_created", "", issue, by, comment=comment)
        self._emit("jira:issue_updated", "issue_commented", issue, by, comment=comment)
        return comment

    def _emit(
        self,
        event: str,
        type_name: str,
        issue: Issue,
        by: str | None,
        *,
        changelog: list[dict[str, Any]] | None = None,
        comment: Comment | None = None,
    ) -> None:
        payload: dict[str, Any] = {"timestamp": int(time.time() * 1000), "webhookEvent": event}
        if event != "comment_created":
            # Jira's comment_created carries neither: its comment names the author.
            payload.update(issue_event_type_name=type_name, user=self.json.person(by))
        payload["issue"] = self.json.issue_json(issue, ["*navigable"])
        if changelog:
            payload["changelog"] = {"id": str(next(self._changelog_ids)), "items": changelog}
        if comment is not None:
            payload["comment"] = self.json.comment_json(issue, comment)
        self._emit_to(event, issue.key, payload)
