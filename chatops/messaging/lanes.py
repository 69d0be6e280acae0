"""A lane's jobs in the groups its handlers are given together: a card's rows by kind (its edits make one
redraw), words in runs of one kind, in the order written."""

from __future__ import annotations

from collections import defaultdict

from chatops.messaging.outbox_store import Job


def by_kind(jobs: list[Job]) -> list[list[Job]]:
    """Jobs by kind, each kind where its first job was."""
    kinds: dict[str, list[Job]] = defaultdict(list)
    for job in jobs:
        kinds[job.kind].append(job)
    return list(kinds.values())


def in_runs(jobs: list[Job]) -> list[list[Job]]:
    """Jobs in runs of one kind, in order."""
    runs: list[list[Job]] = []
    for job in jobs:
        if runs and runs[-1][0].kind == job.kind:
            runs[-1].append(job)
        else:
            runs.append([job])
    return runs
