"""The issue tracker: issues tickets are linked to, their product cards, what came from the tracker
already, and when the desk last asked it for changes; outbox rows that wait for their ticket's card.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from chatops.store.tables import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as outbox:
        outbox.add_column(sa.Column("after_card", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "tracked_issues",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("system", sa.String(16), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("url", sa.String(500), nullable=True),
        sa.Column("summary", sa.String(300), nullable=True),
        sa.Column("status", sa.String(64), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("product", sa.Boolean(), nullable=False),
        sa.Column("shipped_at", UTCDateTime(), nullable=True),
        sa.Column("changed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("system", "key", name="uq_tracked_issues_key"),
    )
    op.create_table(
        "issue_cards",
        sa.Column("issue_id", sa.Integer(), sa.ForeignKey("tracked_issues.id"), primary_key=True),
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("ref", sa.String(200), nullable=False),
    )
    op.create_table(
        "tracker_receipts",
        sa.Column("system", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_tracker_receipts_at", "tracker_receipts", ["at"])
    op.create_table(
        "tracker_syncs",
        sa.Column("system", sa.String(16), primary_key=True),
        sa.Column("reconciled_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tracker_syncs")
    op.drop_index("ix_tracker_receipts_at", "tracker_receipts")
    op.drop_table("tracker_receipts")
    op.drop_table("issue_cards")
    op.drop_table("tracked_issues")
    with op.batch_alter_table("outbox") as outbox:
        outbox.drop_column("after_card")
