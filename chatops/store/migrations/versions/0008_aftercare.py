"""The conversation's later steps: questions put to a requester (did this solve it, how did we do) and
the timer of each ticket's next step (a follow-up, resolving itself, closing itself, the survey); replies
saved by agents; channels declared request channels from chat; a requester's message held while they
choose which of their open tickets it is about; and where each message of a ticket was relayed to.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from chatops.store.tables import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as tickets:
        tickets.add_column(sa.Column("asks", sa.Integer(), nullable=False, server_default="0"))
        tickets.add_column(sa.Column("nudge_at", UTCDateTime(), nullable=True))
        tickets.add_column(sa.Column("nudges", sa.Integer(), nullable=False, server_default="0"))
        tickets.add_column(sa.Column("survey", sa.String(16), nullable=True))
        tickets.add_column(sa.Column("csat_score", sa.Integer(), nullable=True))
        tickets.add_column(sa.Column("csat_comment", sa.Text(), nullable=True))
        tickets.create_index("ix_tickets_nudge_at", ["nudge_at"])
    op.create_table(
        "held_messages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("requester", sa.String(160), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("request_id", sa.String(160), nullable=True),
        sa.Column("command", sa.String(40), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("platform", "place", "ref", name="uq_held_messages_ref"),
    )
    op.create_table(
        "message_copies",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("ticket_messages.id"), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.UniqueConstraint("message_id", "platform", "place", name="uq_message_copies_where"),
    )
    op.create_table(
        "saved_replies",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(160), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "request_channels",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("place", sa.String(200), primary_key=True),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("added_by", sa.String(160), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("request_channels")
    op.drop_table("saved_replies")
    op.drop_table("message_copies")
    op.drop_table("held_messages")
    with op.batch_alter_table("tickets") as tickets:
        tickets.drop_index("ix_tickets_nudge_at")
        for column in ("csat_comment", "csat_score", "survey", "nudges", "nudge_at", "asks"):
            tickets.drop_column(column)
