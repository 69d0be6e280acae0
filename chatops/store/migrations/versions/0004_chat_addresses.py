"""Chat addresses: how to reach a conversation or a person on a platform, kept across restarts; and the
name a platform gives someone the config does not name.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from chatops.store.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people") as people:
        people.add_column(sa.Column("name", sa.String(200), nullable=True))
    op.create_table(
        "chat_addresses",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("chat_addresses")
    with op.batch_alter_table("people") as people:
        people.drop_column("name")
