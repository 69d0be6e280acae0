"""Who filed a ticket, the request that opened it (replacing processed_events), and the running replicas.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from chatops.store.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as tickets:
        tickets.add_column(sa.Column("filed_by", sa.String(64), nullable=True))
        tickets.add_column(sa.Column("intake_key", sa.String(160), nullable=True))
        tickets.create_index("uq_tickets_intake_key", ["intake_key"], unique=True)
    # Redeliveries are now told apart by the ticket they opened; the ids alone tell nothing more.
    op.drop_table("processed_events")
    op.create_table(
        "replicas",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("replicas")
    op.create_table(
        "processed_events",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    with op.batch_alter_table("tickets") as tickets:
        tickets.drop_index("uq_tickets_intake_key")
        tickets.drop_column("intake_key")
        tickets.drop_column("filed_by")
