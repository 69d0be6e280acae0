"""The outbox's housekeeping: rows carried out longer ago than the retention are deleted, in bounded
batches, so that it never holds the writer for long (failed rows stay, for people to look at)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chatops.clock import Timer
from chatops.messaging.outbox_store import forget_done
from chatops.work import Work

HOUR = 3600.0


@dataclass(frozen=True)
class ForgetDone:
    """Delete up to `limit` outbox rows carried out longer ago than `retention`."""

    retention: timedelta
    limit: int = 1000


def forget_done_rows(work: Work, command: ForgetDone, _desk: object = None) -> int:
    """Delete old rows carried out; how many."""
    return forget_done(work.session, work.now - command.retention, command.limit)


def _forget(desk: Any) -> ForgetDone:
    return ForgetDone(timedelta(days=desk.config.sla.retention_days))


TIMERS = (Timer("outbox-rows", _forget, every=lambda desk: HOUR),)
