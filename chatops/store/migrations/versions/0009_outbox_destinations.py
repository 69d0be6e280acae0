"""Outbox rows name the place or person their words go to, so that a ticket's rows keep their order per
destination: a message to a person no longer waits behind the ticket's messages to a busy channel.

Queued rows of words (messages, relayed words, private words) are given theirs from their payload; a
ticket's card rows have none (they go to the team's place on their platform).

Revision ID: 0009
Revises: 0008
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

from chatops.store.tables import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The kinds of row that carry words, as of this revision.
_WORDS = ("message", "relay", "tell_privately")


def upgrade() -> None:
    with op.batch_alter_table("outbox") as outbox:
        outbox.add_column(sa.Column("destination", sa.String(300), nullable=True))
    _name_destinations(op.get_bind())


def _name_destinations(bind: sa.Connection) -> None:
    """Queued rows of words name their destination, as new rows do."""
    outbox = sa.table(
        "outbox",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("done_at", UTCDateTime()),
        sa.column("destination", sa.String),
    )
    queued = sa.select(outbox.c.id, outbox.c.payload).where(
        outbox.c.done_at.is_(None), outbox.c.kind.in_(_WORDS)
    )
    named = [{"row": row.id, "to": _destination(row.payload or {})} for row in bind.execute(queued)]
    if named:
        bind.execute(
            outbox.update().where(outbox.c.id == sa.bindparam("row")).values(destination=sa.bindparam("to")),
            named,
        )


def _destination(payload: dict[str, Any]) -> str | None:
    # Written out here rather than imported: a migration keeps the meaning the rows had at its revision.
    to = payload.get("to", payload)
    if to.get("person"):
        return f"person:{to['person']}"
    return f"place:{to['place']}" if to.get("place") else None


def downgrade() -> None:
    with op.batch_alter_table("outbox") as outbox:
        outbox.drop_column("destination")
