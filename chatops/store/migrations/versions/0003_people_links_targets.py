"""People by person id, one table of ticket links, outbox rows with a target, structured audit values.

Existing Slack ids become people with that Slack identity (`slack:U…`); the cards and origin messages
move into ticket_links; queued outbox rows name Slack as their target and people by person id.

Revision ID: 0003
Revises: 0002
"""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from chatops.store.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_PERSON = sa.String(160)


def upgrade() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC)
    people = op.create_table(
        "people",
        sa.Column("id", _PERSON, primary_key=True),
        sa.Column("slack", sa.String(64), nullable=True),
        sa.Column("teams", sa.String(64), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    links = op.create_table(
        "ticket_links",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("system", sa.String(16), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("ref", sa.String(200), nullable=True),
        sa.Column("url", sa.String(500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("ticket_id", "kind", "system", name="uq_ticket_links_kind"),
    )
    tickets = sa.table(
        "tickets",
        sa.column("id", sa.Integer),
        sa.column("platform", sa.String),
        sa.column("requester", sa.String),
        sa.column("assignee", sa.String),
        sa.column("filed_by", sa.String),
        sa.column("origin_place", sa.String),
        sa.column("origin_ref", sa.String),
        sa.column("origin_permalink", sa.String),
        sa.column("created_at", UTCDateTime()),
    )
    cards = sa.table(
        "platform_messages",
        sa.column("ticket_id", sa.Integer),
        sa.column("platform", sa.String),
        sa.column("place", sa.String),
        sa.column("ref", sa.String),
        sa.column("created_at", UTCDateTime()),
    )
    events = sa.table("ticket_events", sa.column("id", sa.Integer), sa.column("actor", sa.String))

    rows = [
        {
            "ticket_id": r.ticket_id,
            "kind": "card",
            "system": r.platform,
            "address": r.place,
            "ref": r.ref,
            "url": None,
            "created_at": r.created_at,
        }
        for r in bind.execute(sa.select(cards))
    ]
    rows += [
        {
            "ticket_id": r.id,
            "kind": "origin",
            "system": r.platform,
            "address": r.origin_place,
            "ref": r.origin_ref,
            "url": r.origin_permalink,
            "created_at": r.created_at,
        }
        for r in bind.execute(sa.select(tickets).where(tickets.c.origin_place.is_not(None)))
    ]
    if rows:
        bind.execute(links.insert(), rows)

    slack_ids: set[str] = set()
    for r in bind.execute(sa.select(tickets.c.requester, tickets.c.assignee, tickets.c.filed_by)):
        slack_ids.update(value for value in r if value)
    if slack_ids:
        bind.execute(
            people.insert(), [{"id": f"slack:{u}", "slack": u, "created_at": now} for u in sorted(slack_ids)]
        )

    with op.batch_alter_table("tickets") as batch:
        for column in ("requester", "assignee", "filed_by"):
            batch.alter_column(column, type_=_PERSON, existing_type=sa.String(64))
        batch.drop_column("origin_place")
        batch.drop_column("origin_ref")
        batch.drop_column("origin_permalink")
    with op.batch_alter_table("ticket_events") as batch:
        batch.alter_column("actor", type_=_PERSON, existing_type=sa.String(64))
        batch.add_column(sa.Column("detail", sa.JSON(), nullable=True))
    for column in ("requester", "assignee", "filed_by"):
        field = tickets.c[column]
        bind.execute(tickets.update().where(field.is_not(None)).values({column: "slack:" + field}))
    bind.execute(events.update().where(events.c.actor == "triage").values(actor="system:triage"))
    bind.execute(
        events.update().where(events.c.actor != "system:triage").values(actor="slack:" + events.c.actor)
    )
    op.drop_table("platform_messages")

    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("target", sa.String(16), nullable=False, server_default="slack"))
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("target", server_default=None, existing_type=sa.String(16))
    _restate_queued_rows(bind)


def _restate_queued_rows(bind: sa.Connection) -> None:
    """Queued rows in the new kinds' words, naming people by person id."""
    outbox = sa.table(
        "outbox",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("done_at", UTCDateTime()),
    )
    renamed = {"whisper": "tell_privately", "permalink": "link_origin"}
    for row in bind.execute(sa.select(outbox).where(outbox.c.done_at.is_(None))).all():
        payload = dict(row.payload or {})
        if row.kind == "whisper":
            payload["person"] = "slack:" + payload.pop("user")
        if row.kind == "message":
            to = dict(payload["to"])
            user = to.pop("user", None)
            to["person"] = f"slack:{user}" if user else None
            payload["to"] = to
        if "text" in payload:
            payload["text"] = [_person_id(part) for part in payload["text"]]
        bind.execute(
            outbox.update()
            .where(outbox.c.id == row.id)
            .values(kind=renamed.get(row.kind, row.kind), payload=payload)
        )


def _person_id(part: Any) -> Any:
    if isinstance(part, dict) and "person" in part:
        return {"person": "slack:" + part["person"]}
    return part


def downgrade() -> None:
    raise NotImplementedError("0003 restates people and links; restore a backup taken before upgrading")
