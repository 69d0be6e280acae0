"""Who filed a ticket for its requester, the ticket a processed event opened, and the running replicas.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from chatops.store.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as tickets:
        tickets.add_column(sa.Column("filed_by", sa.String(64), nullable=True))
    with op.batch_alter_table("processed_events") as processed:
        processed.add_column(sa.Column("ticket_id", sa.Integer(), nullable=True))
        processed.create_foreign_key(
            "fk_processed_events_ticket_id_tickets", "tickets", ["ticket_id"], ["id"]
        )
    op.create_table(
        "replicas",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("replicas")
    with op.batch_alter_table("processed_events") as processed:
        processed.drop_constraint("fk_processed_events_ticket_id_tickets", type_="foreignkey")
        processed.drop_column("ticket_id")
    with op.batch_alter_table("tickets") as tickets:
        tickets.drop_column("filed_by")
