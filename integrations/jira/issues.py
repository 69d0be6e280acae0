"""An issue as Jira describes it (in a REST answer or a webhook alike), as the desk's IssueState."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chatops.tracking.ports import IssueState


def issue_state(issue: dict[str, Any], base: str) -> IssueState:
    """The state of an issue from its JSON; `base` is where people open issues (JIRA_URL)."""
    fields = issue["fields"]
    status = fields["status"]
    resolution = fields.get("resolution") or {}
    return IssueState(
        key=str(issue["key"]),
        url=f"{base}/browse/{issue['key']}",
        summary=str(fields.get("summary") or ""),
        status=str(status["name"]),
        done=(status.get("statusCategory") or {}).get("key") == "done",
        resolution=resolution.get("name"),
        changed_at=jira_time(fields.get("updated")),
    )


def jira_time(value: Any) -> datetime | None:
    """A moment as Jira writes it (2026-11-28T06:49:19.000+0000); None if absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return None
