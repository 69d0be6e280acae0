"""Tying tickets to the tracker: its commands, and the handler of each."""

from __future__ import annotations

from datetime import timedelta

from chatops.desk import Desk
from chatops.tracking import linking, repository, syncing
from chatops.tracking.commands import (
    FollowIssue,
    ForgetReceipts,
    LinkIssue,
    MergeOnto,
    Reconcile,
    SendToTracker,
    TakeComment,
    UnlinkIssue,
)
from chatops.work import Work


def forget_receipts(work: Work, command: ForgetReceipts, desk: Desk) -> int:
    """Delete receipts older than the retention (a tracker redelivers within hours); how many."""
    if desk.tracker is None:
        return 0
    before = work.now - timedelta(days=desk.config.sla.retention_days)
    return repository.forget_receipts(work.session, desk.tracker, before, command.limit)


COMMAND_HANDLERS = {
    SendToTracker: linking.send_to_tracker,
    MergeOnto: linking.merge_onto,
    LinkIssue: linking.link_issue,
    UnlinkIssue: linking.unlink_issue,
    FollowIssue: syncing.follow_issue,
    TakeComment: syncing.take_comment,
    Reconcile: syncing.reconcile,
    ForgetReceipts: forget_receipts,
}
