"""The SLA engine: clocks that count working time from an anchor, and the notices it sent.

Existing tickets keep their due times: their clocks are anchored at their creation with nothing used,
which is what their due times were computed from.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from chatops.store.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as tickets:
        tickets.add_column(sa.Column("sla_anchor_at", UTCDateTime(), nullable=True))
        tickets.add_column(sa.Column("first_response_used", sa.Float(), nullable=False, server_default="0"))
        tickets.add_column(sa.Column("resolution_used", sa.Float(), nullable=False, server_default="0"))
    op.execute("UPDATE tickets SET sla_anchor_at = created_at")
    with op.batch_alter_table("tickets") as tickets:
        tickets.alter_column("sla_anchor_at", existing_type=UTCDateTime(), nullable=False)
    op.create_table(
        "sla_pings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("clock", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("ticket_id", "clock", "kind", "due_at", name="uq_sla_pings_due"),
    )


def downgrade() -> None:
    op.drop_table("sla_pings")
    with op.batch_alter_table("tickets") as tickets:
        tickets.drop_column("resolution_used")
        tickets.drop_column("first_response_used")
        tickets.drop_column("sla_anchor_at")
