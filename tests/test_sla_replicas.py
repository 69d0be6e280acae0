"""The SLA engine on several replicas: 1,000 tickets come due together, two `chatops serve` processes sweep
the same database, and each owed warning reaches its person exactly once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select

from adapters.slack.devkit.standin import SlackStandIn
from chatops.config.settings import Settings
from chatops.store.db import normalize_url
from chatops.store.tables import SlaPing, Ticket
from harness import ServerProcess, wait_until

TICKETS = 1000


def test_two_replicas_send_each_owed_warning_once(
    settings: Settings, standin: SlackStandIn, tmp_path: Path
) -> None:
    sweep_fast = tmp_path / "desk.yaml"
    sweep_fast.write_text(Path(settings.chatops_config).read_text() + "sla: {sweep_seconds: 0.2}\n")
    settings = settings.model_copy(update={"chatops_config": str(sweep_fast)})
    first = ServerProcess(settings, tmp_path / "first.log").start()
    second = ServerProcess(settings, tmp_path / "second.log").start()
    engine = create_engine(normalize_url(settings.database_url))
    try:
        # Assigned 55 hours ago to a person each: the first response was made, and the resolution clock
        # (3d, warned at 75%: 54h) owes each of them its warning, now, on both replicas at once.
        now = datetime.now(UTC)
        opened = now - timedelta(hours=55)
        rows = [
            {
                "title": f"Export crashes, case {n}",
                "description": "Export crashes",
                "requester": "slack:U0CUSTOMER",
                "platform": "slack",
                "via": "command",
                "priority": "normal",
                "team": "support",
                "tier": 1,
                "status": "assigned",
                "assignee": f"slack:U0P{n:04d}",
                "reasons": [],
                "version": 2,
                "created_at": opened,
                "updated_at": opened,
                "first_responded_at": opened,
                "first_response_due": opened + timedelta(hours=4),
                "resolution_due": opened + timedelta(days=3),
                "sla_anchor_at": opened,
                "first_response_used": 0.0,
                "resolution_used": 0.0,
                "next_check_at": opened + timedelta(hours=54),
            }
            for n in range(TICKETS)
        ]
        with engine.begin() as connection:
            connection.execute(insert(Ticket.__table__), rows)

        def pinged() -> int:
            with engine.connect() as connection:
                return int(connection.scalar(select(func.count()).select_from(SlaPing)) or 0)

        wait_until(pinged, lambda n: n == TICKETS, f"{TICKETS} warnings recorded", 60)

        def warnings() -> Counter[str]:
            return Counter(
                f"U0P{n:04d}"
                for n in range(TICKETS)
                for m in standin.messages(f"DU0P{n:04d}")
                if "the resolution is due in" in m["text"]
            )

        delivered = wait_until(warnings, lambda c: len(c) == TICKETS, "a warning to each assignee", 120)
        assert set(delivered.values()) == {1}
    finally:
        first.terminate()
        second.terminate()
        engine.dispose()
    # Both replicas swept; neither sent what the other had.
    assert "Traceback" not in (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text()
