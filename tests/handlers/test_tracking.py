"""Tickets and the tracker at the handler tier: what is queued for Jira, linking and merging, and how the
tracker's news moves tickets and reaches requesters, once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from jira_fixtures import RULES
from sqlalchemy import select
from sqlalchemy.orm import Session
from world import AGENT, CUSTOMER, World, rules

from chatops.closing.commands import Close, SweepQuiet
from chatops.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from chatops.rich import plain
from chatops.store.tables import OutboxMessage, TrackedIssue
from chatops.tickets.commands import ChangeCategory, Claim, Resolve
from chatops.tracking.commands import (
    FollowIssue,
    LinkIssue,
    MergeOnto,
    Reconcile,
    SendToTracker,
    TakeComment,
    UnlinkIssue,
)
from chatops.tracking.ports import Comment, IssueState
from chatops.tracking.product import Asker, IssueView, issue_card
from chatops.tracking.repository import receive, set_link

# The Jira tests' rules, with the product team in Slack.
JIRA = RULES
OTHER = "slack:U0OTHER"


@pytest.fixture
def desk(world_with: Callable[..., World]) -> World:
    return world_with(rules(jira=JIRA, product={"slack_channel": "C0PRODUCT"}), "jira")


def state(key: str, status: str, *, done: bool = False, resolution: str | None = None) -> IssueState:
    return IssueState(key, f"https://jira.example/browse/{key}", "Export to PDF", status, done, resolution)


def rows(desk: World, kind: str, after: int = 0) -> list[Any]:
    return [row for row in desk.outbox(after=after) if row.kind == kind]


def issue_link(desk: World, number: int) -> Any:
    return next((link for link in desk.links(number) if link.kind == "issue"), None)


def tracked(desk: World, key: str) -> TrackedIssue:
    with Session(desk.db.engine) as session:
        found = session.scalar(select(TrackedIssue).where(TrackedIssue.key == key))
        assert found is not None
        return found


def told(desk: World, person: str, after: int = 0) -> list[str]:
    return [
        plain(row.text()) for row in rows(desk, "message", after) if row.payload["to"]["person"] == person
    ]


def test_a_bug_at_intake_is_queued_for_jira_with_its_configured_project_type_and_labels(desk: World) -> None:
    number = desk.open_one("The export crashes with an error")
    billing = desk.open_one("Please refund my last invoice")

    [create] = rows(desk, "create_issue")
    assert (create.target, create.ticket_id) == ("jira", number)
    assert create.payload == {
        "project": "SUP",
        "issue_type": "Bug",
        "labels": ["from-support"],
        "product": False,
    }
    link = issue_link(desk, number)
    assert (link.address, link.ref) == ("SUP", None)
    assert issue_link(desk, billing) is None


def test_without_a_tracker_nothing_is_queued_and_linking_says_jira_is_not_set_up(
    world_with: Callable[..., World],
) -> None:
    desk = world_with(rules(jira=JIRA))
    number = desk.open_one("The export crashes with an error")
    assert rows(desk, "create_issue") == []

    answer = desk.do(LinkIssue(number, None, AGENT, key="SUP-1"))
    assert answer.refused(NotFound)


def test_an_agent_choosing_the_bug_category_sends_the_ticket_once(desk: World) -> None:
    number = desk.open_one("Something odd on the dashboard")
    assert rows(desk, "create_issue") == []

    assert desk.click(ChangeCategory, number, category="bug").done
    assert desk.click(ChangeCategory, number, category="access").done
    assert desk.click(ChangeCategory, number, category="bug").done

    assert len(rows(desk, "create_issue")) == 1
    assert [e.action for e in desk.events(number)][-3:] == ["category", "category", "category"]


def test_send_to_jira_takes_a_configured_type_only_and_only_once(desk: World) -> None:
    number = desk.open_one("Something odd on the dashboard")

    refused = desk.click(SendToTracker, number, choice="NOPE · Epic")
    assert refused.refused(InvalidInput)
    assert desk.click(SendToTracker, number, choice="PROD · Story").done
    again = desk.click(SendToTracker, number, choice="SUP · Bug")

    assert again.refused(IllegalTransition)
    [create] = rows(desk, "create_issue")
    assert create.payload["project"] == "PROD"


def test_merging_a_second_request_comments_on_the_issue_and_counts_on_the_product_card(desk: World) -> None:
    first = desk.open_one("Feature request: export to PDF")
    second = desk.open_one("Feedback: would be nice to export to PDF", requester=OTHER)
    assert len(rows(desk, "create_issue")) == 2
    desk.do(UnlinkIssue(first, None, AGENT))
    desk.do(UnlinkIssue(second, None, AGENT))
    before = desk.last_outbox_id()

    assert desk.do(LinkIssue(first, None, AGENT, key="prod-12")).done
    assert desk.click(MergeOnto, second, key="PROD-12").done

    assert [row.payload["key"] for row in rows(desk, "fetch_issue", before)] == ["PROD-12"]
    comments = [row.payload["body"] for row in rows(desk, "comment_issue", before)]
    assert comments[0].startswith("A requester: ") and f"ticket #{first}" in comments[0]
    assert comments[1].startswith("Another requester: ") and f"ticket #{second}" in comments[1]
    product = [(row.kind, row.target) for row in desk.outbox(after=before) if "issue_card" in row.kind]
    assert product == [("post_issue_card", "slack"), ("update_issue_card", "slack")]
    assert "2 requesters" in desk.thread_notes(second)[-1]


def test_a_link_needs_a_real_key_and_a_ticket_takes_one_issue(desk: World) -> None:
    number = desk.open_one("Something odd on the dashboard")

    bad = desk.do(LinkIssue(number, None, AGENT, key="not a key"))
    assert bad.refused(InvalidInput)
    assert desk.do(LinkIssue(number, None, AGENT, key="SUP-3")).done
    twice = desk.do(LinkIssue(number, None, AGENT, key="SUP-4"))
    assert twice.refused(IllegalTransition)
    stranger = desk.do(LinkIssue(number, None, CUSTOMER, key="SUP-4"))
    assert stranger.refused(Forbidden)

    assert desk.do(UnlinkIssue(number, None, AGENT)).done
    assert issue_link(desk, number) is None
    assert desk.do(UnlinkIssue(number, None, AGENT)).refused(IllegalTransition)


def test_done_in_jira_resolves_every_ticket_and_tells_each_requester_once(desk: World) -> None:
    first = desk.open_one("Something odd on the dashboard")
    second = desk.open_one("Dashboard is odd for me too", requester=OTHER)
    third = desk.open_one("And the dashboard again", requester=OTHER)
    for number in (first, second, third):
        assert desk.do(LinkIssue(number, None, AGENT, key="SUP-9")).done
    # What the lookup of the linked issue finds first moves nothing.
    assert desk.do(FollowIssue(state("SUP-9", "Done", done=True), delivery="d-0")).value == 0
    desk.do(FollowIssue(state("SUP-9", "To Do"), delivery="d-00"))
    before = desk.last_outbox_id()

    assert desk.do(FollowIssue(state("SUP-9", "Done", done=True), delivery="d-1")).value == 3
    assert desk.do(FollowIssue(state("SUP-9", "Done", done=True), delivery="d-1")).value == 0
    assert desk.do(FollowIssue(state("SUP-9", "Done", done=True), delivery="d-2")).value == 0

    assert {desk.ticket(n).status for n in (first, second, third)} == {"resolved"}
    shipped = [
        text for person in (CUSTOMER, OTHER) for text in told(desk, person, before) if "has shipped" in text
    ]
    assert len(shipped) == 2
    assert tracked(desk, "SUP-9").shipped_at is not None
    assert desk.events(first)[-1].actor == "system:jira"


def test_in_progress_and_wont_do_move_the_tickets_as_the_status_map_says(desk: World) -> None:
    number = desk.open_one("Something odd on the dashboard")
    desk.click(Claim, number)
    desk.do(LinkIssue(number, None, AGENT, key="SUP-5"))
    desk.do(FollowIssue(state("SUP-5", "To Do")))

    desk.do(FollowIssue(state("SUP-5", "In Progress")))
    assert desk.ticket(number).status == "in_progress"
    before = desk.last_outbox_id()
    desk.do(FollowIssue(state("SUP-5", "Won't Do", done=True, resolution="Won't Do")))

    assert desk.ticket(number).status == "closed"
    assert any("was closed: Won't Do" in text for text in told(desk, CUSTOMER, before))
    assert not any("shipped" in text or "solve" in text for text in told(desk, CUSTOMER, before))
    assert desk.ticket(number).survey == "off"
    assert desk.do(FollowIssue(state("SUP-404", "Done", done=True))).value == 0


def test_a_move_the_workflow_does_not_allow_is_refused_with_a_line_in_the_thread(desk: World) -> None:
    number = desk.open_one("Something odd on the dashboard")
    desk.do(LinkIssue(number, None, AGENT, key="SUP-5"))
    desk.do(FollowIssue(state("SUP-5", "To Do")))

    assert desk.do(FollowIssue(state("SUP-5", "In Progress"))).value == 0

    assert desk.ticket(number).status == "triaged"
    assert desk.thread_notes(number)[-1].startswith(
        "Jira issue SUP-5 (https://jira.example/browse/SUP-5) moved to In Progress; "
        "the ticket stays triaged, since it cannot become in progress from there"
    )


@pytest.mark.parametrize("done", ["resolved", "closed"])
def test_a_done_ticket_whose_issue_moves_on_is_reopened_and_its_requester_told(
    desk: World, done: str
) -> None:
    number = desk.open_one("Something odd on the dashboard")
    desk.click(Claim, number)
    desk.do(LinkIssue(number, None, AGENT, key="SUP-5"))
    desk.do(FollowIssue(state("SUP-5", "To Do")))
    desk.click(Resolve, number)
    if done == "closed":
        desk.click(Close, number)
        assert desk.ticket(number).survey == "asked"
    before = desk.last_outbox_id()

    assert desk.do(FollowIssue(state("SUP-5", "In Progress"))).value == 0

    ticket = desk.ticket(number)
    assert (ticket.status, ticket.nudge_at, ticket.survey) == ("triaged", None, None)
    assert told(desk, CUSTOMER, before) == [
        "Your ticket #1 “Something odd on the dashboard” is open again: its issue SUP-5 moved to In Progress."
    ]
    assert desk.thread_notes(number)[-1].startswith(
        "Jira issue SUP-5 (https://jira.example/browse/SUP-5) moved to In Progress; the ticket is now triaged"
    )
    assert [(e.action, e.from_value, e.to_value) for e in desk.events(number)][-2:] == [
        ("reopen", done, "triaged"),
        ("followed", done, "triaged"),
    ]


def test_done_in_jira_asks_whether_it_solved_it_in_the_message_that_says_it_shipped(desk: World) -> None:
    number = desk.open_one("Something odd on the dashboard")
    desk.do(LinkIssue(number, None, AGENT, key="SUP-8"))
    desk.do(FollowIssue(state("SUP-8", "To Do")))
    before = desk.last_outbox_id()

    desk.do(FollowIssue(state("SUP-8", "Done", done=True)))

    [question] = told(desk, CUSTOMER, before)
    assert "has shipped: SUP-8 (https://jira.example/browse/SUP-8)." in question
    assert "Did this solve it?" in question
    desk.clock.advance(days=3, minutes=1)
    assert desk.do(SweepQuiet()).value == 1
    assert desk.ticket(number).status == "closed"
    assert desk.ticket(number).survey == "asked"


def test_a_comment_marked_for_the_customer_reaches_the_thread_and_the_requester_once(desk: World) -> None:
    number = desk.open_one("Something odd on the dashboard")
    desk.do(LinkIssue(number, None, AGENT, key="SUP-6"))
    before = desk.last_outbox_id()

    public = Comment("100", "Pat Product", "[customer] Fixed in 4.2, out on Monday <!channel>")
    assert desk.do(TakeComment("SUP-6", public, delivery="c-1")).value == 1
    assert desk.do(TakeComment("SUP-6", public, delivery="c-2")).value == 0
    internal = Comment("101", "Pat Product", "Root cause is the cache")
    assert desk.do(TakeComment("SUP-6", internal, delivery="c-3")).value == 0

    notes = [plain(row.text()) for row in rows(desk, "thread_note", before)]
    assert notes == ["From Jira (SUP-6), Pat Product: Fixed in 4.2, out on Monday <!channel>"]
    assert any("Fixed in 4.2, out on Monday <!channel>" in text for text in told(desk, CUSTOMER, before))


def test_the_desks_own_comment_coming_back_by_webhook_changes_nothing(desk: World) -> None:
    number = desk.open_one("Something odd on the dashboard")
    desk.do(LinkIssue(number, None, AGENT, key="SUP-8"))
    with Session(desk.db.engine) as session, session.begin():
        receive(session, "jira", "comment:200", desk.clock.now())
    before = desk.last_outbox_id()

    echo = Comment("200", "Support Desk", "[customer] A requester asked for this")
    assert desk.do(TakeComment("SUP-8", echo, delivery="c-9")).value == 0
    assert desk.outbox(after=before) == []


def test_one_replica_takes_each_reconcile_round(desk: World) -> None:
    assert desk.do(Reconcile()).value is True
    assert desk.do(Reconcile()).value is False
    desk.clock.advance(minutes=10)
    assert desk.do(Reconcile()).value is True

    assert [row.payload["minutes"] for row in rows(desk, "reconcile")] == [15, 15]


def test_a_held_feedback_ticket_merged_before_its_issue_is_made_never_gets_one(
    world_with: Callable[..., World],
) -> None:
    held = {**JIRA["categories"], "feedback": {**JIRA["categories"]["feedback"], "hold": "10m"}}
    desk = world_with(rules(jira={**JIRA, "categories": held}), "jira")
    number = desk.open_one("Feature request: export to PDF")
    assert len(rows(desk, "create_issue")) == 1

    assert desk.do(LinkIssue(number, None, AGENT, key="PROD-4")).done

    with Session(desk.db.engine) as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "create_issue"))
        assert row is not None and row.done_at is not None and row.available_at > desk.clock.now()
    assert issue_link(desk, number).ref == "PROD-4"
    assert [row.payload["key"] for row in rows(desk, "fetch_issue")] == ["PROD-4"]


def test_what_the_requester_typed_goes_to_the_tracker_as_they_typed_it(desk: World) -> None:
    number = desk.open_one("See [this page|http://evil.example] *now* {color:red}")

    desk.do(LinkIssue(number, None, AGENT, key="SUP-2"))

    # Plain words: the tracker's own client writes them in its markup (integrations/jira/markup.py).
    [comment] = [row.payload["body"] for row in rows(desk, "comment_issue")]
    assert comment.endswith("“See [this page|http://evil.example] *now* {color:red}”")


def test_a_late_delivery_of_older_news_moves_nothing(desk: World) -> None:
    number = desk.open_one("Something odd on the dashboard")
    desk.do(LinkIssue(number, None, AGENT, key="SUP-7"))
    at = desk.clock.now()
    desk.do(FollowIssue(replace(state("SUP-7", "To Do"), changed_at=at)))

    desk.do(FollowIssue(replace(state("SUP-7", "Done", done=True), changed_at=at + timedelta(minutes=2))))
    late = desk.do(FollowIssue(replace(state("SUP-7", "In Progress"), changed_at=at + timedelta(minutes=1))))

    assert late.value == 0
    assert desk.ticket(number).status == "resolved"
    assert tracked(desk, "SUP-7").status == "Done"


def test_an_issue_made_for_a_ticket_already_merged_elsewhere_does_not_take_its_link(
    world_with: Callable[..., World],
) -> None:
    held = {**JIRA["categories"], "feedback": {**JIRA["categories"]["feedback"], "hold": "10m"}}
    desk = world_with(rules(jira={**JIRA, "categories": held}), "jira")
    number = desk.open_one("Feature request: export to PDF")
    assert desk.do(LinkIssue(number, None, AGENT, key="PROD-4")).done

    # The create was already on its way when the merge came: its answer finds the ticket taken.
    landed = desk.db.run_sync(lambda session: set_link(session, number, "jira", "PROD-9", None))

    assert landed is False
    assert issue_link(desk, number).ref == "PROD-4"


def test_the_product_card_counts_people_not_tickets() -> None:
    askers = (
        Asker("dana", "Dana", False, 1, "Export to PDF"),
        Asker("dana", "Dana", False, 4, "PDF export, again"),
        Asker("vic", "Vic", True, 7, "Would be nice to export to PDF"),
    )
    card = issue_card(IssueView(1, "PROD-1", None, "Export to PDF", "To Do", False, askers, {}), "jira")

    fields = {field.label: plain(field.value) for field in card.fields}
    assert fields["Requesters"] == "2" and fields["Asked by"] == "Dana, Vic (VIP)"
    assert card.summary.endswith(": 2 requesters")
