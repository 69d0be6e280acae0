"""Triage rules: a ticket's category, priority and team, from keywords and the requester."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from chatops.config.rules import DeskConfig


@dataclass(frozen=True)
class Classification:
    """The outcome of triage, with the reasons a person can check."""

    category: str | None
    priority: str
    team: str
    reasons: tuple[str, ...]


@lru_cache(maxsize=1024)
def _pattern(keyword: str) -> re.Pattern[str]:
    # Whole words only, so that "down" does not match "download".
    return re.compile(r"(?<!\w)" + re.escape(keyword.lower()) + r"(?!\w)")


def matching(text: str, keywords: list[str]) -> list[str]:
    """The keywords found in `text`, in the order the config lists them."""
    lowered = text.lower()
    # Most keywords are not in a request at all: a plain substring test rules them out far faster than
    # the whole-word pattern, which only decides between the ones that are.
    return [k for k in keywords if k.lower() in lowered and _pattern(k).search(lowered)]


def classify(
    config: DeskConfig,
    text: str,
    *,
    vip: bool,
    category: str | None = None,
    priority: str | None = None,
    team: str | None = None,
) -> Classification:
    """Categorise, prioritise and route a request; an explicit category or priority wins over keywords,
    and an explicit team over the category's.

    The most urgent priority whose keywords appear wins; a VIP requester lifts it one step.
    """
    reasons: list[str] = []

    if category is not None:
        reasons.append(f"category {category}: chosen by the requester")
    else:
        # The category with the most keywords found wins; on a tie, the one listed first.
        best: tuple[int, str, list[str]] | None = None
        for candidate in config.categories:
            found = matching(text, candidate.keywords)
            if found and (best is None or len(found) > best[0]):
                best = (len(found), candidate.id, found)
        if best is not None:
            category = best[1]
            reasons.append(f"category {category}: matched " + ", ".join(f'"{k}"' for k in best[2]))

    ranks = [p.id for p in config.priorities]
    if priority is not None:
        reasons.append(f"priority {priority}: chosen by the requester")
    else:
        for candidate in config.priorities:
            found = matching(text, candidate.keywords)
            if found:
                priority = candidate.id
                reasons.append(f"priority {candidate.id}: matched " + ", ".join(f'"{k}"' for k in found))
                break
        else:
            priority = config.default_priority
        if vip:
            raised = ranks[max(ranks.index(priority) - 1, 0)]
            if raised != priority:
                reasons.append(f"priority raised from {priority} to {raised}: VIP requester")
                priority = raised

    owner = config.category(category).team if category else None
    if team is not None:
        reasons.append(f"team {team}: chosen for where the request was made")
        owner = team
    return Classification(category, priority, owner or config.default_team, tuple(reasons))
