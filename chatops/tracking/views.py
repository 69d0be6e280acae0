"""Issues as people see them: a ticket's issue on its card and in its thread."""

from __future__ import annotations

from dataclasses import dataclass

from chatops.rich import Link, Rich


@dataclass(frozen=True)
class IssueLink:
    """An issue in the tracker, as a card shows it: its key (None while being created), link and status."""

    project: str
    key: str | None
    url: str | None = None
    status: str | None = None
    summary: str | None = None
    shipped: bool = False


def issue_text(issue: IssueLink) -> Rich:
    """A ticket's issue as its card and thread show it: the key as a link, where it stands."""
    if issue.key is None:
        return (f"on its way to {issue.project}…",)
    shown: Rich = (Link(issue.url, issue.key),) if issue.url else (issue.key,)
    if issue.status:
        shown += (f" · {issue.status}",)
    if issue.shipped:
        shown += (" · shipped, requesters told",)
    return shown
