"""The issues and comments the Jira stand-in keeps, and the names of its bot and of the person tests play."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Who the bot account is, and who acts in Jira when a test plays a person.
BOT_NAME = "Desk Bot"
PERSON = "Pat Product"


@dataclass
class Comment:
    """A comment on an issue."""

    id: str
    body: str
    # None: the bot account.
    author: str | None
    visibility: dict[str, Any] | None
    created: float


@dataclass
class Issue:
    """An issue with its comments, times as seconds since the epoch."""

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
    comments: list[Comment] = field(default_factory=list)

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
