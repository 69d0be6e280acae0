"""`chatops demo` tells the whole story a newcomer runs first."""

from __future__ import annotations

import re
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
    assert "@alex escalated the ticket from T1 to T2: “The export needs the database team”" in out
    assert "has been passed to our Tier 2 team." in out
    assert "Only agents of Customer Support can do that." in out
    assert "has been resolved by @alex." in out
    assert "Ticket #1 was resolved: did this solve it?" in out
    assert "confirmed it is solved, so the ticket is closed" in out
    assert "How did we do on ticket #1? Rate it from 1 to 5." in out
    assert "│ Satisfaction: ★★★★★ 5 of 5" in out
    assert "· closed · T2 · @alex" in out

    # The second chapter: one desk in Slack and Teams, one ticket opened in Teams and worked from both.
    slack, chapter, rest = out.partition("Chapter 2: one desk in Slack and Teams")
    assert chapter, out
    teams, chapter, jira = rest.partition("══ Chapter 3: Jira and the product team ══")
    assert chapter, out
    assert "Teams" not in slack
    assert "writes to the bot in their Teams personal chat: “The export to PDF fails with error 500”" in teams
    assert "Teams #support gets the triage card" in teams
    assert "Slack #support gets the same ticket's card" in teams
    # The Adaptive Card drawn as text: facts, its inputs, and its buttons.
    assert "│ Status: Triaged" in teams
    assert "│ [Assign to ▾] [Priority: Normal ▾] [Category: Bug ▾] [Move to team ▾]" in teams
    assert "│ [Assign to me] [Escalate to T2…] [Resolve] [Reply to customer…]" in teams
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
    buttons = "[Assign to me] [Start] [Escalate to T3…] [Waiting on customer] [Resolve] [Reply to customer…]"
    assert f"│ {buttons}" in teams
    # A stranger is refused privately; Tom resolves, and the customer reads it in their chat.
    assert (
        "Lee Ross is told, and no one else sees it:\n    │ Only agents of Customer Support can do that."
        in teams
    )
    assert "│ @Tom Ito resolved the ticket" in teams
    assert "│ Status: Resolved" in teams
    assert "has been resolved by @Tom Ito." in teams
    assert teams.rstrip().endswith("worked from Teams and Slack, both cards current.")

    # The third chapter: a bug becomes a Jira issue, two requests join the product team's, and it ships.
    assert "Jira" not in teams
    assert "dana (customer) types `/ticket The PDF export crashes with error 500` in #general" in jira
    assert re.search(r"│ Jira: SUP-1 \(http://[^ ]+/browse/SUP-1\) · To Do", jira), jira
    assert "│ Jira issue created: SUP-1 (" in jira
    assert "│ 【 SUP-1 The PDF export crashes with error 500 】" in jira
    assert "│ Bug · To Do · labels: chatops, chatops-ticket-1, from-support" in jira
    assert "│ Requester: dana · customer" in jira
    # dana's request is linked by command, vic's merged from the card's menu: one issue, two comments.
    assert "│ Ticket #2 is linked to PROD-1; its card shows the link." in jira
    assert "│ A requester: dana (a customer) asked for this in support ticket #2" in jira
    assert "#product gets the product team's card" in jira
    assert "alex (support agent) picks “PROD-1 Export reports to PDF” in the Merge onto… menu" in jira
    assert "│ Another requester: vic (a VIP customer) asked for this in support ticket #3" in jira
    assert "│ @alex merged the ticket onto PROD-1, which 2 requesters are now on" in jira
    assert "│ Requesters: 2\n    │ Asked by: dana, vic (VIP)" in jira
    assert "Jira has PROD-2" not in jira
    # Done in Jira comes back by signed webhook: both tickets resolved, each customer told once.
    assert "│ jira:issue_updated for PROD-1: status To Do → Done" in jira
    assert "│ the desk checks the signature and answers HTTP 200" in jira
    assert jira.count("│ Status: Resolved") == 2
    assert jira.count("· Done · shipped, requesters told") == 2
    assert "│ Status: Done · shipped, every requester told" in jira
    for customer, ticket in (("dana (customer)", 2), ("vic (VIP customer)", 3)):
        told = f"{customer} gets a DM from the bot:\n    │ Good news: "
        assert jira.count(told) == 1, jira
        assert f"which you asked for in ticket #{ticket}, has shipped: PROD-1 (" in jira
    assert jira.count("has shipped") == 2
    assert jira.rstrip().endswith("and each customer told once when it shipped.")
