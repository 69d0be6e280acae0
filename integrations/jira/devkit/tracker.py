"""Jira's data as the Jira stand-in keeps it: projects, issues, comments and a four-status workflow, checked
as Jira checks them, written out in Jira's JSON, with an event for every change."""

import hashlib
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from integrations.jira.devkit.jql import JqlError, parse

# Status name: (id, status category key, resolution set on entering it).
STATUSES = {
    "To Do": ("10000", "new", None),
    "In Progress": ("3", "indeterminate", None),
    "Done": ("10001", "done", "Done"),
    "Won't Do": ("10002", "done", "Won't Do"),
}
_CATEGORIES = {"new": (2, "To Do"), "indeterminate": (4, "In Progress"), "done": (3, "Done")}
# One transition into each status, available from every other status (Jira's simplified workflow).
TRANSITIONS = {"11": "To Do", "21": "In Progress", "31": "Done", "41": "Won't Do"}
EDITABLE = ("summary", "description", "labels")
MISSING = "Issue does not exist or you do not have permission to see it."
# Who the bot account is, and who acts in Jira when a test plays a person.
BOT_NAME = "Desk Bot"
PERSON = "Pat Product"

# Takes an event's name, its issue's key and its body.
Emit = Callable[[str, str, dict[str, Any]], None]


class Refusal(Exception):
    """Jira's answer in its error shape, instead of the one asked for."""

    def __init__(
        self, status: int, messages: Iterable[str] = (), errors: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.body = {"errorMessages": list(messages), "errors": errors or {}}
        super().__init__(f"{status}: {self.body}")


@dataclass
class _Comment:
    id: str
    body: str
    # None: the bot account.
    author: str | None
    visibility: dict[str, Any] | None
    created: float


@dataclass
class _Issue:
    id: str
    key: str
    project: str
    issue_type: str
    summary: str
    description: str | None
    labels: list[str]
    status: str
    resolution: str | None
    reporter: str | None
    created: float
    updated: float
    comments: list[_Comment] = field(default_factory=list)

    def facts(self) -> dict[str, Any]:
        """What JQL asks of an issue."""
        moments = {name: datetime.fromtimestamp(getattr(self, name), UTC) for name in ("created", "updated")}
        return {
            "key": self.key,
            "project": self.project,
            "labels": self.labels,
            "status": self.status,
            **moments,
        }

    def snapshot(self) -> dict[str, Any]:
        """A copy for a test to look at: times as aware datetimes, people by display name."""
        comments = [
            {**vars(c), "author": c.author or BOT_NAME, "created": datetime.fromtimestamp(c.created, UTC)}
            for c in self.comments
        ]
        kept = {k: v for k, v in vars(self).items() if k not in ("comments", "issue_type", "reporter")}
        return {
            **kept,
            "issuetype": self.issue_type,
            "labels": list(self.labels),
            "reporter": self.reporter or BOT_NAME,
            **self.facts(),
            "comments": comments,
        }


def jira_time(at: float) -> str:
    """A moment as Jira writes it: 2026-11-28T06:49:19.000+0000."""
    moment = datetime.fromtimestamp(at, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _field_problem(name: str, value: Any) -> str | None:
    """Why Jira would refuse `value` for a field, if it would."""
    if name not in EDITABLE:
        return f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
    if name == "summary":
        if not isinstance(value, str) or not value.strip():
            return "You must specify a summary of the issue."
        if "\n" in value or "\r" in value:
            return "The summary is invalid because it contains newline characters."
        if len(value) > 255:
            return "Summary must be less than 255 characters."
    elif name == "description" and value is not None and not isinstance(value, str):
        return "Operation value must be a string"
    elif name == "labels":
        if not isinstance(value, list) or not all(isinstance(label, str) and label for label in value):
            return "Labels must be a list of non-empty strings."
        for label in value:
            if any(c.isspace() for c in label):
                return f"The label '{label}' contains spaces which is invalid."
            if len(label) > 255:
                return "The label must not exceed 255 characters."
    return None


def _apply(name: str, operation: Any, after: dict[str, Any], comments: list[str]) -> str | None:
    """Apply one update operation ({"add": x}) to the would-be field values; why not, if it cannot be."""
    verb, value = next(iter(operation.items()))
    if name == "comment":
        text = value.get("body") if isinstance(value, dict) and verb == "add" else None
        if not isinstance(text, str) or not text.strip():
            return "Comment body can not be empty!"
        comments.append(text)
    elif verb == "set":
        after[name] = value
    elif name == "labels" and verb in ("add", "remove") and isinstance(value, str):
        after[name] = after[name] + [value] if verb == "add" else [v for v in after[name] if v != value]
    else:
        return f"Field '{name}' does not support the operation '{verb}'."
    return None


def _change(
    name: str, before: str | None, after: str | None, from_id: str | None = None, to_id: str | None = None
) -> dict[str, Any]:
    """One changelog item, as Jira writes it into an update event."""
    return {
        "field": name,
        "fieldtype": "jira",
        "fieldId": name,
        "from": from_id,
        "fromString": before,
        "to": to_id,
        "toString": after,
    }


def _pick(everything: dict[str, Any], wanted: list[str] | None) -> dict[str, Any]:
    """The fields asked for: all (None), "*all", "*navigable" (all but comments), some, minus "-name"."""
    if wanted is None:
        return everything
    chosen = set() if any(not n.startswith("-") for n in wanted) else set(everything)
    for name in wanted:
        if name in ("*all", "*navigable"):
            chosen |= set(everything) - ({"comment"} if name == "*navigable" else set())
        elif not name.startswith("-"):
            chosen.add(name)
    chosen -= {n[1:] for n in wanted if n.startswith("-")}
    return {k: v for k, v in everything.items() if k in chosen}


def _described(field_id: str, name: str, kind: str, *clauses: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "array", "items": "string"} if kind == "array" else {"type": kind}
    return {
        "id": field_id,
        "key": field_id,
        "name": name,
        "custom": False,
        "orderable": field_id in EDITABLE,
        "navigable": True,
        "searchable": True,
        # The client maps JQL names to field ids by these.
        "clauseNames": list(clauses or (field_id,)),
        "schema": {**schema, "system": field_id},
    }


# GET field: the system fields a desk meets.
FIELDS = [
    _described("issuekey", "Key", "string", "id", "issue", "issuekey", "key"),
    _described("summary", "Summary", "string"),
    _described("description", "Description", "string"),
    _described("labels", "Labels", "array"),
    _described("issuetype", "Issue Type", "issuetype", "issuetype", "type"),
    _described("project", "Project", "project"),
    _described("status", "Status", "status"),
    _described("resolution", "Resolution", "resolution"),
    _described("created", "Created", "datetime", "created", "createdDate"),
    _described("updated", "Updated", "datetime", "updated", "updatedDate"),
    _described("comment", "Comment", "comments-page"),
]


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
        self._project_ids = {key: str(10000 + n) for n, key in enumerate(self.projects)}
        # Issue types are global in Jira: one id per name, whichever projects use it.
        names = dict.fromkeys(t for types in self.projects.values() for t in types)
        self._type_ids = {name: str(10001 + n) for n, name in enumerate(names)}
        self._cloud, self._user, self._base_url, self._emit_to = cloud, user, base_url, emit
        self.issues: dict[str, _Issue] = {}
        self._keys_by_id: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._issue_ids = itertools.count(10001)
        self._comment_ids = itertools.count(10100)
        self._changelog_ids = itertools.count(10200)

    # -- finding ----------------------------------------------------------------------------------------

    def find(self, ref: str) -> _Issue | None:
        """An issue by key or id."""
        return self.issues.get(ref.upper()) or self.issues.get(self._keys_by_id.get(ref, ""))

    def stored(self, ref: str) -> _Issue:
        """An issue by key or id; KeyError if there is none."""
        issue = self.find(ref)
        if issue is None:
            raise KeyError(f"no issue {ref!r}")
        return issue

    def _existing(self, ref: str) -> _Issue:
        issue = self.find(ref)
        if issue is None:
            raise Refusal(404, [MISSING])
        return issue

    def project_key(self, ref: Any) -> str | None:
        """A project's key from its key or id."""
        ref = str(ref).upper()
        return (
            ref if ref in self.projects else next((k for k, i in self._project_ids.items() if i == ref), None)
        )

    def _project(self, ref: str) -> str:
        key = self.project_key(ref)
        if key is None:
            raise Refusal(404, [f"No project could be found with key '{ref}'."])
        return key

    def search(self, jql: str, *, validate: bool) -> list[_Issue]:
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
    ) -> _Issue:
        """Store a new issue, numbered on from the project's last."""
        self._counts[project] = number = self._counts.get(project, 0) + 1
        now = time.time()
        issue = _Issue(
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

    def move(self, issue: _Issue, status: str, resolution: str | None, by: str | None) -> None:
        """Put an issue in a status; a finished one takes a resolution, an open one loses it."""
        before = (issue.status, issue.resolution)
        done = STATUSES[status][1] == "done"
        after = (status, (resolution or STATUSES[status][2] or "Done") if done else None)
        if after == before:
            return
        issue.status, issue.resolution = after
        items = [_change("status", before[0], status, STATUSES[before[0]][0], STATUSES[status][0])]
        if issue.resolution != before[1]:
            items.append(_change("resolution", before[1], issue.resolution))
        issue.updated = time.time()
        self._emit("jira:issue_updated", "issue_generic", issue, by, changelog=items)

    def add_comment(
        self, issue: _Issue, body: str, visibility: dict[str, Any] | None, by: str | None
    ) -> _Comment:
        """Comment on an issue."""
        comment = _Comment(str(next(self._comment_ids)), body, by, visibility, time.time())
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
        issue: _Issue,
        by: str | None,
        *,
        changelog: list[dict[str, Any]] | None = None,
        comment: _Comment | None = None,
    ) -> None:
        payload: dict[str, Any] = {"timestamp": int(time.time() * 1000), "webhookEvent": event}
        if event != "comment_created":
            # Jira's comment_created carries neither: its comment names the author.
            payload.update(issue_event_type_name=type_name, user=self.person(by))
        payload["issue"] = self.issue_json(issue, ["*navigable"])
        if changelog:
            payload["changelog"] = {"id": str(next(self._changelog_ids)), "items": changelog}
        if comment is not None:
            payload["comment"] = self.comment_json(issue, comment)
        self._emit_to(event, issue.key, payload)

    # -- the REST operations: Jira's answer, or a Refusal ------------------------------------------------

    def server_info(self, deployment: str) -> dict[str, Any]:
        """GET serverInfo: the client reads the version and whether it talks to Cloud."""
        version = [1001, 0, 0] if self._cloud else [9, 12, 2]
        return {
            "baseUrl": self._base_url(),
            "version": ".".join(map(str, version)) + ("-SNAPSHOT" if self._cloud else ""),
            "versionNumbers": version,
            "deploymentType": deployment,
            "buildNumber": 100280,
            "serverTime": jira_time(time.time()),
            "serverTitle": "Jira",
        }

    def project(self, ref: str) -> dict[str, Any]:
        """GET project/{ref}."""
        return self.project_json(self._project(ref))

    def issue_types(self, ref: str, start: int, size: int) -> dict[str, Any]:
        """GET issue/createmeta/{ref}/issuetypes: a page of the project's issue types."""
        types = [self.type_json(t) for t in self.projects[self._project(ref)]]
        page = types[start : start + size]
        paging = {"startAt": start, "maxResults": size, "total": len(types)}
        # Cloud names the list for what it holds; Data Center pages it as "values".
        if self._cloud:
            return {**paging, "issueTypes": page}
        return {**paging, "isLast": start + len(page) >= len(types), "values": page}

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST issue: checked field by field, every problem reported at once, as Jira does."""
        fields = body.get("fields")
        if not isinstance(fields, dict):
            raise Refusal(400, ["Issue must contain a 'fields' object."])
        errors: dict[str, str] = {}
        project_ref, type_ref = fields.get("project"), fields.get("issuetype")
        project = None
        if isinstance(project_ref, dict):
            project = self.project_key(project_ref.get("key") or project_ref.get("id"))
        if project is None:
            errors["project"] = "Specify a valid project ID or key"
        issue_type = None
        if not (isinstance(type_ref, dict) and (type_ref.get("name") or type_ref.get("id"))):
            errors["issuetype"] = "Specify an issue type"
        elif project is not None:
            by_id = {i: n for n, i in self._type_ids.items()}
            wanted = type_ref.get("name") or by_id.get(str(type_ref["id"]))
            issue_type = wanted if wanted in self.projects[project] else None
            if issue_type is None:
                errors["issuetype"] = "Specify a valid issue type"
        for name in fields.keys() - {"project", "issuetype"}:
            if problem := _field_problem(name, fields[name]):
                errors[name] = problem
        if "summary" not in fields:
            errors["summary"] = "You must specify a summary of the issue."
        if errors or project is None or issue_type is None:
            raise Refusal(400, errors=errors)
        issue = self.new_issue(
            project,
            issue_type,
            fields["summary"],
            description=fields.get("description"),
            labels=fields.get("labels", []),
        )
        return {"id": issue.id, "key": issue.key, "self": f"{self._base_url()}/rest/api/2/issue/{issue.id}"}

    def get(self, ref: str, wanted: list[str] | None) -> dict[str, Any]:
        """GET issue/{ref}."""
        return self.issue_json(self._existing(ref), wanted)

    def update(self, ref: str, body: dict[str, Any]) -> None:
        """PUT issue/{ref}: {"fields": {...}} sets, {"update": {"labels": [{"add": x}]}} operates."""
        issue = self._existing(ref)
        fields, update = body.get("fields") or {}, body.get("update") or {}
        if not isinstance(fields, dict) or not isinstance(update, dict):
            raise Refusal(400, ["'fields' and 'update' must be JSON objects."])
        errors: dict[str, str] = {}
        after: dict[str, Any] = {name: getattr(issue, name) for name in EDITABLE}
        for name, value in fields.items():
            if problem := _field_problem(name, value):
                errors[name] = problem
            after[name] = value
        comments: list[str] = []
        for name, operations in update.items():
            if name in fields or name not in (*EDITABLE, "comment"):
                errors[name] = f"Field '{name}' cannot be set here, or is already set in 'fields'."
                continue
            if not isinstance(operations, list) or not all(
                isinstance(o, dict) and len(o) == 1 for o in operations
            ):
                # Jira cannot read a bare value where an operation ({"add": ...}) belongs.
                raise Refusal(
                    400, [f"Can not deserialize the operations of '{name}': expected [{{\"add\": ...}}]"]
                )
            for operation in operations:
                if problem := _apply(name, operation, after, comments):
                    errors[name] = problem
        for name in EDITABLE:
            if name not in errors and (problem := _field_problem(name, after[name])):
                errors[name] = problem
        if errors:
            raise Refusal(400, errors=errors)
        after["labels"] = sorted(set(after["labels"]))
        items = []
        for name in EDITABLE:
            before = getattr(issue, name)
            if after[name] != before:
                shown = (" ".join(v) if isinstance(v, list) else v for v in (before, after[name]))
                items.append(_change(name, *shown))
                setattr(issue, name, after[name])
        if items:
            issue.updated = time.time()
            self._emit("jira:issue_updated", "issue_updated", issue, None, changelog=items)
        for text in comments:
            self.add_comment(issue, text, None, None)

    def comments(self, ref: str, start: int, size: int) -> dict[str, Any]:
        """GET issue/{ref}/comment: a page of comments, oldest first."""
        issue = self._existing(ref)
        comments = [self.comment_json(issue, c) for c in issue.comments]
        return {
            "startAt": start,
            "maxResults": size,
            "total": len(comments),
            "comments": comments[start : start + size],
        }

    def comment(self, ref: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST issue/{ref}/comment as the bot."""
        issue = self._existing(ref)
        text, visibility = body.get("body"), body.get("visibility")
        if not isinstance(text, str) or not text.strip():
            raise Refusal(400, errors={"comment": "Comment body can not be empty!"})
        if visibility is not None and not (
            isinstance(visibility, dict) and visibility.get("type") in ("role", "group")
        ):
            raise Refusal(
                400, errors={"commentLevel": "The comment visibility must be of type 'role' or 'group'."}
            )
        return self.comment_json(issue, self.add_comment(issue, text, visibility, None))

    def transitions(self, ref: str, only: str | None) -> dict[str, Any]:
        """GET issue/{ref}/transitions: one into each status but the issue's own."""
        issue = self._existing(ref)
        listed = [
            {"id": tid, "name": target, "to": self.status_json(target), "hasScreen": False, "isGlobal": True}
            for tid, target in TRANSITIONS.items()
            if target != issue.status and only in (None, tid)
        ]
        return {"expand": "transitions", "transitions": listed}

    def transition(self, ref: str, body: dict[str, Any]) -> None:
        """POST issue/{ref}/transitions: {"transition": {"id"}}, a resolution field, comments in "update"."""
        issue = self._existing(ref)
        transition, fields, update = (
            body.get("transition"),
            body.get("fields") or {},
            body.get("update") or {},
        )
        tid = str(transition.get("id", "")) if isinstance(transition, dict) else ""
        if not tid:
            raise Refusal(400, ["Missing 'transition' identifier"])
        target = TRANSITIONS.get(tid)
        if target is None or target == issue.status:
            raise Refusal(400, [f"Transition id '{tid}' is not valid for this issue."])
        if not isinstance(fields, dict) or not isinstance(update, dict):
            raise Refusal(400, ["'fields' and 'update' must be JSON objects."])
        if unknown := {
            n: "This field cannot be set during the transition." for n in fields if n != "resolution"
        }:
            raise Refusal(400, errors=unknown)
        comments: list[str] = []
        for operation in update.get("comment", []):
            readable = isinstance(operation, dict) and len(operation) == 1
            if problem := _apply("comment", operation, {}, comments) if readable else 'Expected {"add": ...}':
                raise Refusal(400, errors={"comment": problem})
        resolution = fields.get("resolution")
        self.move(issue, target, resolution.get("name") if isinstance(resolution, dict) else None, None)
        for text in comments:
            self.add_comment(issue, text, None, None)

    # -- Jira's JSON ------------------------------------------------------------------------------------

    def person(self, name: str | None) -> dict[str, Any]:
        """A user (None: the bot) as Jira shows one: by account id on Cloud, by user name on Data Center."""
        display = name or BOT_NAME
        person: dict[str, Any] = {"displayName": display, "active": True, "timeZone": "Etc/UTC"}
        if self._cloud:
            account = "712020:" + hashlib.sha256((name or self._user).encode()).hexdigest()[:32]
            person.update(accountId=account, accountType="atlassian")
            person["self"] = f"{self._base_url()}/rest/api/2/user?accountId={account}"
        else:
            login = self._user if name is None else display.lower().replace(" ", ".")
            person.update(name=login, key=login, self=f"{self._base_url()}/rest/api/2/user?username={login}")
        if name is None:
            person["emailAddress"] = self._user
        return person

    def type_json(self, name: str) -> dict[str, Any]:
        """An issue type."""
        type_id = self._type_ids[name]
        url = f"{self._base_url()}/rest/api/2/issuetype/{type_id}"
        return {"self": url, "id": type_id, "name": name, "description": "", "subtask": False}

    def project_json(self, key: str) -> dict[str, Any]:
        """A project with its issue types."""
        project_id = self._project_ids[key]
        return {
            "self": f"{self._base_url()}/rest/api/2/project/{project_id}",
            "id": project_id,
            "key": key,
            "name": key,
            "projectTypeKey": "software",
            "issueTypes": [self.type_json(t) for t in self.projects[key]],
        }

    def status_json(self, status: str) -> dict[str, Any]:
        """A status with its category (new, indeterminate or done)."""
        status_id, category, _ = STATUSES[status]
        category_id, category_name = _CATEGORIES[category]
        return {
            "self": f"{self._base_url()}/rest/api/2/status/{status_id}",
            "id": status_id,
            "name": status,
            "statusCategory": {"id": category_id, "key": category, "name": category_name},
        }

    def comment_json(self, issue: _Issue, comment: _Comment) -> dict[str, Any]:
        """A comment."""
        answer = {
            "self": f"{self._base_url()}/rest/api/2/issue/{issue.id}/comment/{comment.id}",
            "id": comment.id,
            "author": self.person(comment.author),
            "updateAuthor": self.person(comment.author),
            "body": comment.body,
            "created": jira_time(comment.created),
            "updated": jira_time(comment.created),
        }
        if comment.visibility is not None:
            answer["visibility"] = comment.visibility
        return answer

    def issue_json(self, issue: _Issue, wanted: list[str] | None = None) -> dict[str, Any]:
        """An issue with the fields asked for (see _pick)."""
        comments = [self.comment_json(issue, c) for c in issue.comments]
        project = self.project_json(issue.project)
        del project["issueTypes"]
        everything = {
            "summary": issue.summary,
            "description": issue.description,
            "labels": list(issue.labels),
            "issuetype": self.type_json(issue.issue_type),
            "project": project,
            "status": self.status_json(issue.status),
            "resolution": {"name": issue.resolution} if issue.resolution else None,
            "reporter": self.person(issue.reporter),
            "assignee": None,
            "created": jira_time(issue.created),
            "updated": jira_time(issue.updated),
            "comment": {
                "comments": comments,
                "maxResults": len(comments),
                "total": len(comments),
                "startAt": 0,
            },
        }
        url = f"{self._base_url()}/rest/api/2/issue/{issue.id}"
        return {"id": issue.id, "self": url, "key": issue.key, "fields": _pick(everything, wanted)}
