"""The Jira stand-in's REST operations: each checks its call as Jira does, then answers it or refuses it."""

import time
from collections.abc import Callable
from typing import Any

from integrations.jira.devkit.fields import EDITABLE, apply_operation, field_problem
from integrations.jira.devkit.jira_json import jira_time
from integrations.jira.devkit.refusal import Refusal
from integrations.jira.devkit.tracker import Tracker
from integrations.jira.devkit.workflow import TRANSITIONS


class Operations:
    """The calls of the `jira` library, on one tracker; the caller holds the stand-in's lock."""

    def __init__(self, tracker: Tracker, *, cloud: bool, base_url: Callable[[], str]) -> None:
        self._tracker, self._cloud, self._base_url = tracker, cloud, base_url

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
        return self._tracker.json.project_json(self._tracker.known_project(ref))

    def issue_types(self, ref: str, start: int, size: int) -> dict[str, Any]:
        """GET issue/createmeta/{ref}/issuetypes: a page of the project's issue types."""
        tracker = self._tracker
        types = [tracker.json.type_json(t) for t in tracker.projects[tracker.known_project(ref)]]
        page = types[start : start + size]
        paging = {"startAt": start, "maxResults": size, "total": len(types)}
        # Cloud names the list for what it holds; Data Center pages it as "values".
        if self._cloud:
            return {**paging, "issueTypes": page}
        return {**paging, "isLast": start + len(page) >= len(types), "values": page}

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST issue: checked field by field, every problem reported at once, as Jira does."""
        tracker = self._tracker
        fields = body.get("fields")
        if not isinstance(fields, dict):
            raise Refusal(400, ["Issue must contain a 'fields' object."])
        errors: dict[str, str] = {}
        project_ref, type_ref = fields.get("project"), fields.get("issuetype")
        project = None
        if isinstance(project_ref, dict):
            project = tracker.project_key(project_ref.get("key") or project_ref.get("id"))
        if project is None:
            errors["project"] = "Specify a valid project ID or key"
        issue_type = None
        if not (isinstance(type_ref, dict) and (type_ref.get("name") or type_ref.get("id"))):
            errors["issuetype"] = "Specify an issue type"
        elif project is not None:
            by_id = {i: n for n, i in tracker.type_ids.items()}
            wanted = type_ref.get("name") or by_id.get(str(type_ref["id"]))
            issue_type = wanted if wanted in tracker.projects[project] else None
            if issue_type is None:
                errors["issuetype"] = "Specify a valid issue type"
        for name in fields.keys() - {"project", "issuetype"}:
            if problem := field_problem(name, fields[name]):
                errors[name] = problem
        if "summary" not in fields:
            errors["summary"] = "You must specify a summary of the issue."
        if errors or project is None or issue_type is None:
            raise Refusal(400, errors=errors)
        issue = tracker.new_issue(
            project,
            issue_type,
            fields["summary"],
            description=fields.get("description"),
            labels=fields.get("labels", []),
        )
        return {"id": issue.id, "key": issue.key, "self": f"{self._base_url()}/rest/api/2/issue/{issue.id}"}

    def get(self, ref: str, wanted: list[str] | None) -> dict[str, Any]:
        """GET issue/{ref}."""
        return self._tracker.json.issue_json(self._tracker.existing(ref), wanted)

    def update(self, ref: str, body: dict[str, Any]) -> None:
        """PUT issue/{ref}: {"fields": {...}} sets, {"update": {"labels": [{"add": x}]}} operates."""
        issue = self._tracker.existing(ref)
        fields, update = body.get("fields") or {}, body.get("update") or {}
        if not isinstance(fields, dict) or not isinstance(update, dict):
            raise Refusal(400, ["'fields' and 'update' must be JSON objects."])
        errors: dict[str, str] = {}
        after: dict[str, Any] = {name: getattr(issue, name) for name in EDITABLE}
        for name, value in fields.items():
            if problem := field_problem(name, value):
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
                if problem := apply_operation(name, operation, after, comments):
                    errors[name] = problem
        for name in EDITABLE:
            if name not in errors and (problem := field_problem(name, after[name])):
                errors[name] = problem
        if errors:
            raise Refusal(400, errors=errors)
        self._tracker.edit(issue, after, None)
        for text in comments:
            self._tracker.add_comment(issue, text, None, None)

    def comments(self, ref: str, start: int, size: int) -> dict[str, Any]:
        """GET issue/{ref}/comment: a page of comments, oldest first."""
        issue = self._tracker.existing(ref)
        comments = [self._tracker.json.comment_json(issue, c) for c in issue.comments]
        return {
            "startAt": start,
            "maxResults": size,
            "total": len(comments),
            "comments": comments[start : start + size],
        }

    def comment(self, ref: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST issue/{ref}/comment as the bot."""
        issue = self._tracker.existing(ref)
        text, visibility = body.get("body"), body.get("visibility")
        if not isinstance(text, str) or not text.strip():
            raise Refusal(400, errors={"comment": "Comment body can not be empty!"})
        if visibility is not None and not (
            isinstance(visibility, dict) and visibility.get("type") in ("role", "group")
        ):
            raise Refusal(
                400, errors={"commentLevel": "The comment visibility must be of type 'role' or 'group'."}
            )
        return self._tracker.json.comment_json(
            issue, self._tracker.add_comment(issue, text, visibility, None)
        )

    def transitions(self, ref: str, only: str | None) -> dict[str, Any]:
        """GET issue/{ref}/transitions: one into each status but the issue's own."""
        issue = self._tracker.existing(ref)
        status_json = self._tracker.json.status_json
        listed = [
            {"id": tid, "name": target, "to": status_json(target), "hasScreen": False, "isGlobal": True}
            for tid, target in TRANSITIONS.items()
            if target != issue.status and only in (None, tid)
        ]
        return {"expand": "transitions", "transitions": listed}

    def transition(self, ref: str, body: dict[str, Any]) -> None:
        """POST issue/{ref}/transitions: {"transition": {"id"}}, a resolution field, comments in "update"."""
        issue = self._tracker.existing(ref)
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
            if problem := (
                apply_operation("comment", operation, {}, comments) if readable else 'Expected {"add": ...}'
            ):
                raise Refusal(400, errors={"comment": problem})
        resolution = fields.get("resolution")
        self._tracker.move(
            issue, target, resolution.get("name") if isinstance(resolution, dict) else None, None
        )
        for text in comments:
            self._tracker.add_comment(issue, text, None, None)
