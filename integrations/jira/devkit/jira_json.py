"""The Jira stand-in's people, issue types, projects, statuses, comments and issues in Jira's JSON."""

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from integrations.jira.devkit.issues import BOT_NAME, Comment, Issue
from integrations.jira.devkit.workflow import CATEGORIES, STATUSES


def jira_time(at: float) -> str:
    """A moment as Jira writes it: 2026-11-28T06:49:19.000+0000."""
    moment = datetime.fromtimestamp(at, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


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


class JiraJson:
    """Writes what the tracker holds as Jira Cloud or Data Center writes it."""

    def __init__(
        self,
        projects: Mapping[str, list[str]],
        project_ids: Mapping[str, str],
        type_ids: Mapping[str, str],
        *,
        cloud: bool,
        user: str,
        base_url: Callable[[], str],
    ) -> None:
        """`projects` maps each project's key to its issue types; `user` is the bot account's login."""
        self._projects, self._project_ids, self._type_ids = projects, project_ids, type_ids
        self._cloud, self._user, self._base_url = cloud, user, base_url

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
            "issueTypes": [self.type_json(t) for t in self._projects[key]],
        }

    def status_json(self, status: str) -> dict[str, Any]:
        """A status with its category (new, indeterminate or done)."""
        status_id, category, _ = STATUSES[status]
        category_id, category_name = CATEGORIES[category]
        return {
            "self": f"{self._base_url()}/rest/api/2/status/{status_id}",
            "id": status_id,
            "name": status,
            "statusCategory": {"id": category_id, "key": category, "name": category_name},
        }

    def comment_json(self, issue: Issue, comment: Comment) -> dict[str, Any]:
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

    def issue_json(self, issue: Issue, wanted: list[str] | None = None) -> dict[str, Any]:
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
