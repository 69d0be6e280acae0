"""What starting `serve` and `worker` share: telling the operator of a platform or tracker that is silent at
start-up (the desk carries on), settling the heap before the work begins, and closing what the desk
opened."""

from __future__ import annotations

import asyncio
import gc
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatops.bootstrap import Desktop


def say_teams_silent(silent: str | None) -> None:
    """The token authority did not answer: what the bot says in Teams waits in the outbox until it does."""
    if silent is not None:
        print(
            f"chatops: TEAMS_TOKEN_AUTHORITY: no token for Teams yet ({silent}); carrying on, and asking "
            "again with each message",
            file=sys.stderr,
        )


def say_jira_silent(silent: str | None) -> None:
    """Jira did not answer: issues wait in the outbox until it does."""
    if silent is not None:
        # Issues wait in the outbox until Jira answers; nothing is lost meanwhile.
        print(
            f"chatops: JIRA_URL: Jira does not answer ({silent}); serving, and pushing once it does",
            file=sys.stderr,
        )


def settle_heap() -> None:
    """Set what start-up made (modules, rules, the libraries' tables) apart from what the work makes.

    It lives as long as the process, yet every full collection walked all of it: some 50-100 ms of a
    stalled event loop and writer now and then on a busy desk, which its slowest answers showed.
    """
    gc.collect()
    gc.freeze()


async def close(desktop: Desktop) -> None:
    """Release the desk's connections to the platforms and the tracker, then its database."""
    from chatops.bootstrap import close_outside

    await close_outside(desktop)
    await asyncio.get_running_loop().run_in_executor(None, desktop.db.close)
