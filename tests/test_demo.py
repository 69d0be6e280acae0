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
