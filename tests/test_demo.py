"""`chatops demo` tells the whole story a newcomer runs first."""

from __future__ import annotations

import subprocess
import sys


def test_the_demo_runs_the_story_end_to_end() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "chatops", "demo"], capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Ticket #1 opened" in out
    assert 'Why: category bug: matched "error", "crashes"; priority urgent: matched "urgent"' in out
    assert "@alex assigned the ticket to themselves" in out
    assert "@alex escalated the ticket from T1 to T2" in out
    assert "Only agents of Customer Support can do that." in out
    assert "has been resolved by @alex." in out
    assert "· resolved · T2 · @alex" in out

    # The second chapter: one desk in Slack and Teams, one ticket opened in Teams and worked from both.
    slack, chapter, teams = out.partition("Chapter 2: one desk in Slack and Teams")
    assert chapter, out
    assert "Teams" not in slack
    assert "writes to the bot in their Teams personal chat: “The export to PDF fails with error 500”" in teams
    assert "Teams #support gets the triage card" in teams
    assert "Slack #support gets the same ticket's card" in teams
    # The Adaptive Card drawn as text: facts, its inputs, and its buttons.
    assert "│ Status: Triaged" in teams
    assert "│ [Assign to ▾] [Priority: Normal ▾]" in teams
    assert "│ [Assign to me] [Escalate to T2] [Resolve]" in teams
    assert "Ticket #1 opened: “The export to PDF fails with error 500”" in teams
    # Tom, known only in Teams, assigns himself: his card at once, everyone's edited in place, both threads.
    assert "Tom Ito sees the card redrawn at once" in teams
    assert "│ Assignee: @Tom Ito" in teams
    assert "sees that same card: the message is edited in place" in teams
    assert "│ @Tom Ito assigned the ticket to themselves" in teams
    assert "│ Tom Ito assigned the ticket to themselves" in teams
    assert "│ Assignee: Tom Ito" in teams
    assert "is now handled by @Tom Ito." in teams
    # Alice escalates from Slack and the Teams card follows.
    assert "Alice Ng (support agent, in Slack and Teams) clicks Escalate to T2 on the Slack card" in teams
    assert teams.count("@Alice Ng escalated the ticket from T1 to T2") == 2
    assert "Teams #support sees the card edited in place" in teams
    assert "│ [Assign to me] [Escalate to T3] [Waiting on customer] [Resolve]" in teams
    # A stranger is refused privately; Tom resolves, and the customer reads it in their chat.
    assert (
        "Lee Ross is told, and no one else sees it:\n    │ Only agents of Customer Support can do that."
        in teams
    )
    assert "│ @Tom Ito resolved the ticket" in teams
    assert "│ Status: Resolved" in teams
    assert "has been resolved by @Tom Ito." in teams
    assert teams.rstrip().endswith("worked from Teams and from Slack, both cards current.")
