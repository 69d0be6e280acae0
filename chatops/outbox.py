"""The durable outbox: side effects written with the change that caused them, carried out afterwards."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from chatops.cards import Rich, rich_to_json
from chatops.ports import Destination, MessageRef
from chatops.store.models import OutboxMessage

_INSERT = insert(OutboxMessage.__table__)


class Kind(StrEnum):
    """The side effects the outbox knows how to carry out."""

    POST_CARD = "post_card"
    UPDATE_CARD = "update_card"
    THREAD_NOTE = "thread_note"
    MESSAGE = "message"
    WHISPER = "whisper"
    PERMALINK = "permalink"


def enqueue(
    session: Session,
    kind: Kind,
    *,
    now: datetime,
    ticket_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Add a side effect to the current transaction."""
    session.connection().execute(
        _INSERT,
        {
            "kind": kind.value,
            "ticket_id": ticket_id,
            "payload": payload or {},
            "created_at": now,
            "available_at": now,
            "attempts": 0,
            "in_doubt": False,
            "failed": False,
        },
    )


def enqueue_message(
    session: Session, to: Destination, text: Rich, *, now: datetime, ticket_id: int | None
) -> None:
    """Queue a text for a place or a person's direct messages."""
    target: dict[str, Any] = {"place": to.place, "user": to.user}
    if to.thread is not None:
        target["thread"] = {"place": to.thread.place, "id": to.thread.id}
    enqueue(
        session,
        Kind.MESSAGE,
        now=now,
        ticket_id=ticket_id,
        payload={"to": target, "text": rich_to_json(text)},
    )


def enqueue_whisper(session: Session, place: str, user: str, text: Rich, *, now: datetime) -> None:
    """Queue a text shown to one person in a place."""
    enqueue(
        session, Kind.WHISPER, now=now, payload={"place": place, "user": user, "text": rich_to_json(text)}
    )


def destination_from(payload: dict[str, Any]) -> Destination:
    """The destination stored by enqueue_message."""
    thread = payload.get("thread")
    return Destination(
        place=payload.get("place"),
        user=payload.get("user"),
        thread=MessageRef(thread["place"], thread["id"]) if thread else None,
    )
