"""The tables: people, tickets, their audit log and links, the outbox, and the running replicas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC and read back aware, the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""

    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Ticket(Base):
    """A support request and where it stands."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    # People are recorded by person id (see chatops/people/identity.py).
    requester: Mapped[str] = mapped_column(String(160), index=True)
    # Who opened the ticket on the requester's behalf (from their message), when that was someone else.
    filed_by: Mapped[str | None] = mapped_column(String(160))
    # The platform's id of the request that opened it: a redelivery or a replay finds it and opens nothing.
    intake_key: Mapped[str | None] = mapped_column(String(160))
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str | None] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(64))
    team: Mapped[str] = mapped_column(String(64))
    tier: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(32))
    assignee: Mapped[str | None] = mapped_column(String(160))
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    first_response_due: Mapped[datetime]
    resolution_due: Mapped[datetime]
    first_responded_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    # The SLA clocks count working time from the anchor; what each used before it is kept in seconds.
    sla_anchor_at: Mapped[datetime]
    first_response_used: Mapped[float] = mapped_column(Float, default=0.0)
    resolution_used: Mapped[float] = mapped_column(Float, default=0.0)
    # The SLA engine's sweep reads only tickets whose next check has come; see the index below.
    next_check_at: Mapped[datetime | None]
    # How many questions the requester was asked (did this solve it, how did we do): the buttons of each
    # carry its number, so that only the latest is answered.
    asks: Mapped[int] = mapped_column(Integer, default=0)
    # When the conversation's next timed step is due (a follow-up, resolving or closing itself, the
    # survey), and how many follow-ups went out while it waited on the customer.
    nudge_at: Mapped[datetime | None]
    nudges: Mapped[int] = mapped_column(Integer, default=0)
    # The satisfaction survey: due, asked, rated, expired or off; and the answer.
    survey: Mapped[str | None] = mapped_column(String(16))
    csat_score: Mapped[int | None] = mapped_column(Integer)
    csat_comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_tickets_team_status", "team", "status"),
        Index("ix_tickets_next_check_at", "next_check_at"),
        Index("ix_tickets_nudge_at", "nudge_at"),
        Index("uq_tickets_intake_key", "intake_key", unique=True),
    )


class TicketEvent(Base):
    """One line of a ticket's append-only history: who did what, from what, to what, when."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(160))
    action: Mapped[str] = mapped_column(String(32))
    from_value: Mapped[str | None] = mapped_column(String(200))
    to_value: Mapped[str | None] = mapped_column(String(200))
    # The values themselves (team, category, priority, tier, assignee), for reports to query.
    detail: Mapped[dict[str, Any] | None] = mapped_column(default=None)


class TicketLink(Base):
    """Something outside the desk that belongs to a ticket: its card on a platform, the message it was made
    from, later an issue in a tracker. `system` is a chat platform or another system (`jira`)."""

    __tablename__ = "ticket_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(16))
    system: Mapped[str] = mapped_column(String(16))
    # Where it is (a channel, a conversation, a project), and which one there (a message id, an issue key).
    address: Mapped[str] = mapped_column(String(200))
    ref: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("ticket_id", "kind", "system", name="uq_ticket_links_kind"),
        # From a message to its ticket: a reply under a card, a follow-up in the DM a ticket came from.
        Index("ix_ticket_links_place", "system", "address", "ref"),
    )


class Person(Base):
    """Someone the desk has met, by person id, with the identities they were met by."""

    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    # What their platform calls them, for someone the config does not name.
    name: Mapped[str | None] = mapped_column(String(200))
    slack: Mapped[str | None] = mapped_column(String(64))
    teams: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime]


class SlaPing(Base):
    """A warning or breach notice the SLA engine sent: one per ticket, clock, kind and due time, so that
    however many sweeps run, on however many replicas, a notice owed goes out once."""

    __tablename__ = "sla_pings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    clock: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    sent_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("ticket_id", "clock", "kind", "due_at", name="uq_sla_pings_due"),)


class TicketMessage(Base):
    """Something said about a ticket: by its requester, or by an agent to them or among themselves; where
    it was said (by the platform's own ids), so that a redelivery is taken in once."""

    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime]
    author: Mapped[str] = mapped_column(String(160))
    # customer: the requester wrote it; public: an agent wrote it to the requester; internal: among agents.
    kind: Mapped[str] = mapped_column(String(16))
    platform: Mapped[str] = mapped_column(String(16))
    place: Mapped[str] = mapped_column(String(200))
    ref: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("platform", "place", "ref", name="uq_ticket_messages_ref"),)


class MessageCopy(Base):
    """Where a ticket's message was relayed to (the card's thread on a platform, the requester's chat or
    the request's thread), by the platform's own ids, once posted."""

    __tablename__ = "message_copies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("ticket_messages.id"))
    platform: Mapped[str] = mapped_column(String(16))
    place: Mapped[str] = mapped_column(String(200))
    ref: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("message_id", "platform", "place", name="uq_message_copies_where"),)


class HeldMessage(Base):
    """A requester's message held while they choose which of their open tickets it is about."""

    __tablename__ = "held_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    requester: Mapped[str] = mapped_column(String(160))
    platform: Mapped[str] = mapped_column(String(16))
    place: Mapped[str] = mapped_column(String(200))
    ref: Mapped[str] = mapped_column(String(200))
    # The platform's id of the delivery, and the command the requester asks with, for the ticket it joins.
    request_id: Mapped[str | None] = mapped_column(String(160))
    command: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("platform", "place", "ref", name="uq_held_messages_ref"),)


class SavedReply(Base):
    """A canned reply saved by an agent from chat, beside those of the rules."""

    __tablename__ = "saved_replies"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(160))
    added_at: Mapped[datetime]


class RequestChannel(Base):
    """A channel declared a request channel from chat (by a lead, in it): each new message there is a
    request for `team`."""

    __tablename__ = "request_channels"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    place: Mapped[str] = mapped_column(String(200), primary_key=True)
    team: Mapped[str] = mapped_column(String(64))
    added_by: Mapped[str] = mapped_column(String(160))
    added_at: Mapped[datetime]


class TrackedIssue(Base):
    """An issue in an outside tracker (Jira) that tickets are linked to, as the desk last saw it, and what
    the desk did about it: its card for the product team, and telling its requesters it shipped."""

    __tablename__ = "tracked_issues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    system: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    project: Mapped[str] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(500))
    summary: Mapped[str | None] = mapped_column(String(300))
    # The tracker's own status name, as last seen: a change is applied to the tickets once.
    status: Mapped[str | None] = mapped_column(String(64))
    done: Mapped[bool] = mapped_column(default=False)
    # Shown to the product team in their places.
    product: Mapped[bool] = mapped_column(default=False)
    # When its requesters were told it shipped: they are told once, however often it is done again.
    shipped_at: Mapped[datetime | None]
    # When the tracker last changed it, as the newest news the desk applied says: older news is stale.
    changed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("system", "key", name="uq_tracked_issues_key"),)


class IssueCard(Base):
    """A tracked issue's card in a product place, one per platform."""

    __tablename__ = "issue_cards"

    issue_id: Mapped[int] = mapped_column(ForeignKey("tracked_issues.id"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    address: Mapped[str] = mapped_column(String(200))
    ref: Mapped[str] = mapped_column(String(200))


class TrackerReceipt(Base):
    """Something from a tracker already taken in: a webhook delivery, or a comment the desk wrote itself
    and will see again by webhook. Each is acted on once."""

    __tablename__ = "tracker_receipts"

    system: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)


class TrackerSync(Base):
    """When the desk last asked a tracker for what changed: one replica asks per round."""

    __tablename__ = "tracker_syncs"

    system: Mapped[str] = mapped_column(String(16), primary_key=True)
    reconciled_at: Mapped[datetime]


class ChatAddress(Base):
    """How to reach a conversation or a person on a chat platform, as that platform describes it (a Teams
    conversation reference, say): kept so that messages can start from our side, after a restart too."""

    __tablename__ = "chat_addresses"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    # What it reaches: `place:<conversation id>`, `chat:<person id>` (their one-to-one chat with the bot).
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    document: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class OutboxMessage(Base):
    """A side effect to carry out after the transaction that caused it has committed."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # A chat platform by name, or another system; the dispatcher's handler is found by (target, kind).
    target: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Where words go (`person:<id>`, `place:<address>`); none for a ticket's card rows (its team's place).
    # A ticket's rows keep their order per target and destination.
    destination: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    available_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Set when a call went out and its outcome was never recorded: the next try must look before it posts.
    in_doubt: Mapped[bool] = mapped_column(default=False)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    failed: Mapped[bool] = mapped_column(default=False)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_outbox_pending", "done_at", "available_at"),
        Index("ix_outbox_ticket_id", "ticket_id", "id"),
    )


class Replica(Base):
    """A running server process: when it last proved that the database takes its writes."""

    __tablename__ = "replicas"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime]
