"""The desk's rules for its issue tracker (Jira) and for the product team's places."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from chatops.config.durations import duration_or_zero

# What a ticket may be moved to when its issue changes status: any status but "new".
FOLLOWABLE = ("triaged", "assigned", "in_progress", "waiting_on_customer", "resolved", "closed")
_PROJECT = re.compile(r"[A-Z][A-Z0-9_]{1,9}")


def _project_key(value: str) -> str:
    if not _PROJECT.fullmatch(value):
        raise ValueError(f"{value!r} is not a Jira project key (capital letters and digits, such as SUP)")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IssueKind(_Strict):
    """Where a category's tickets go in the tracker: the project, the issue type and the labels."""

    project: Annotated[str, AfterValidator(_project_key)]
    issue_type: str = Field(min_length=1)
    labels: tuple[str, ...] = ()
    # Whether its issues are also shown to the product team; by default only the category `feedback`'s.
    product: bool | None = None
    # How long a ticket waits before its issue is made, so that an agent can merge it onto one first.
    hold: Annotated[timedelta, BeforeValidator(duration_or_zero)] = timedelta(0)

    @field_validator("labels")
    @classmethod
    def _no_spaces(cls, labels: tuple[str, ...]) -> tuple[str, ...]:
        for label in labels:
            if not label or any(c.isspace() for c in label):
                raise ValueError(f"{label!r} is not a Jira label (a label has no spaces)")
        return labels

    @property
    def choice(self) -> str:
        """How the pair is offered and chosen on a card: project and issue type."""
        return f"{self.project} · {self.issue_type}"


class TrackerSection(_Strict):
    """Which categories become issues, how an issue's status moves its tickets, and what reaches them."""

    # Category id -> where its tickets go.
    categories: dict[str, IssueKind] = Field(default_factory=dict)
    # Tracker status name (as the tracker spells it) -> the status its tickets take.
    status_map: dict[str, str] = Field(default_factory=dict)
    # A tracker comment starting with this is for the requesters; others stay in the tracker.
    public_comment_prefix: str = Field(default="[customer]", min_length=1)
    # How often the desk asks the tracker for changes its webhooks may have missed.
    reconcile_minutes: float = Field(default=10.0, gt=0)

    @field_validator("status_map")
    @classmethod
    def _known_statuses(cls, mapping: dict[str, str]) -> dict[str, str]:
        for name, status in mapping.items():
            if status not in FOLLOWABLE:
                raise ValueError(f"{name!r}: {status!r} is not one of {', '.join(FOLLOWABLE)}")
        return mapping

    def kinds(self) -> list[IssueKind]:
        """Each (project, issue type) a ticket can be sent as, once, in the order configured."""
        return list({kind.choice: kind for kind in self.categories.values()}.values())

    def kind(self, choice: str) -> IssueKind | None:
        """The configured (project, issue type) a card's choice names."""
        return next((kind for kind in self.kinds() if kind.choice == choice), None)

    def status_for(self, tracker_status: str) -> str | None:
        """The ticket status a tracker status maps to (names compared without regard to case)."""
        wanted = tracker_status.casefold()
        return next((s for name, s in self.status_map.items() if name.casefold() == wanted), None)

    def shows_product_kind(self, kind: IssueKind) -> bool:
        """Whether issues of a (project, issue type) get a card in the product places: those of a category
        that does."""
        return any(self.shows_product(c) for c, k in self.categories.items() if k.choice == kind.choice)

    def shows_product(self, category: str | None) -> bool:
        """Whether a category's issues get a card in the product places."""
        kind = self.categories.get(category) if category else None
        if kind is None:
            return False
        return kind.product if kind.product is not None else category == "feedback"
