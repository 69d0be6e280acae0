"""The tracker's timers: the look at what changed that webhooks may have missed, and forgetting old
receipts; neither runs on a desk without a tracker."""

from __future__ import annotations

from chatops.clock import Timer
from chatops.desk import Desk
from chatops.tracking.commands import ForgetReceipts, Reconcile

HOUR = 3600.0


def _reconcile_every(desk: Desk) -> float | None:
    rules = desk.config.jira
    if desk.tracker is None:
        return None
    return (rules.reconcile_minutes if rules is not None else 10.0) * 60


TIMERS = (
    Timer("tracker-reconcile", lambda desk: Reconcile(), every=_reconcile_every),
    Timer(
        "tracker-receipts",
        lambda desk: ForgetReceipts(),
        every=lambda desk: HOUR if desk.tracker is not None else None,
    ),
)
