"""Outbox rows no longer carry a flag to wait for their ticket's card: what waits for a card (an issue to
be made in the tracker, linking to it) is released by the desk's reaction to the card being posted.

A row that waited with the flag keeps its time: it goes out once that comes, as it would have if the
card had been slow.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as outbox:
        outbox.drop_column("after_card")


def downgrade() -> None:
    with op.batch_alter_table("outbox") as outbox:
        outbox.add_column(sa.Column("after_card", sa.Boolean(), nullable=False, server_default=sa.false()))
