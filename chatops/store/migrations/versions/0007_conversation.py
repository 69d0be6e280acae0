"""The conversation: what requesters and agents said about each ticket, where, and once; and the index
that finds a ticket from a message (a reply under its card, a follow-up where it came from).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from chatops.store.tables import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_messages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("author", sa.String(160), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.UniqueConstraint("platform", "place", "ref", name="uq_ticket_messages_ref"),
    )
    op.create_index("ix_ticket_messages_ticket_id", "ticket_messages", ["ticket_id"])
    op.create_index("ix_ticket_links_place", "ticket_links", ["system", "address", "ref"])


def downgrade() -> None:
    op.drop_index("ix_ticket_links_place", "ticket_links")
    op.drop_index("ix_ticket_messages_ticket_id", "ticket_messages")
    op.drop_table("ticket_messages")
