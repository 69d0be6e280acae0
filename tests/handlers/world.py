"""A desk without HTTP: the real bus, handlers and database (SQLite file or PostgreSQL), a clock we move."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatops.bootstrap import desk_of
from chatops.bus import Answer, MessageBus
from chatops.composition import cards
from chatops.composition.cards import DrawCard
from chatops.config.rules import DeskConfig
from chatops.messaging.cards import Card
from chatops.messaging.ports import Place
from chatops.rich import plain, rich_from_json
from chatops.store.db import Database
from chatops.store.tables import Base, OutboxMessage, Ticket, TicketEvent, TicketLink
from chatops.tickets.commands import OpenTicket, TicketCommand
from chatops.tickets.views import TicketView

CONFIG = Path(__file__).resolve().parents[1] / "desk.yaml"
# The test desk's people and support channel, as the handlers see them.
AGENT = "slack:U0AGENT1"
CUSTOMER = "slack:U0CUSTOMER"
CHANNEL = Place("slack", "C0SUPPORT")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def rules(**changes: Any) -> DeskConfig:
    """The test desk's rules (tests/desk.yaml), with top-level keys replaced."""
    raw = yaml.safe_load(CONFIG.read_text())
    raw.update(changes)
    return DeskConfig.model_validate(raw)


@dataclass
class ManualClock:
    """A clock that stands still until the test moves it."""

    at: datetime = START

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@dataclass
class Row:
    """An outbox row as a test reads it."""

    target: str
    kind: str
    ticket_id: int | None
    payload: dict[str, Any] = field(default_factory=dict)

    def text(self) -> Any:
        """What the row's reader reads: its text, or its card's header and body."""
        if "card" in self.payload:
            card = self.payload["card"]
            return (card["header"], "\n", *rich_from_json(card["body"]))
        return rich_from_json(self.payload["text"])


class World:
    """The bus over a real database, and ways to look at what it wrote."""

    def __init__(self, url: str, config: DeskConfig | None = None, tracker: str | None = None) -> None:
        self.db = Database(url)
        self.clock = ManualClock()
        self.desk = desk_of(config or rules(), tracker)
        self.commits = 0
        self.bus = MessageBus(self.db, self.desk, self.clock, on_commit=self._committed)

    def _committed(self) -> None:
        self.commits += 1

    def do(self, command: Any) -> Answer:
        """Hand a command to the bus, as an adapter would."""
        return asyncio.run(self.bus.handle(command))

    def open_one(
        self, text: str = "Export crashes every time", *, requester: str = CUSTOMER, via: str = "command"
    ) -> int:
        """Open a ticket from Slack; its number."""
        return self.do(OpenTicket(text=text, requester=requester, via=via, platform="slack")).value.ticket.id

    def click(
        self,
        kind: type[TicketCommand],
        number: int,
        actor: str = AGENT,
        place: Place = CHANNEL,
        **fields: Any,
    ) -> Answer:
        """Press a control of the ticket's card as it stands now."""
        return self.do(kind(number, self.ticket(number).version, actor, place, **fields))

    def ask(self, query: Any) -> Answer:
        """Hand a query to the bus."""
        return asyncio.run(self.bus.ask(query))

    def card(self, number: int) -> Card:
        """The ticket's card as it would be drawn now."""
        answer = self.ask(DrawCard(number, self.clock.now()))
        assert answer.done, answer.refusal
        return answer.value

    def loaded(self, number: int, part: str) -> Any:
        """What a part of the ticket's card loads for it."""

        def load(session: Session) -> Any:
            view = TicketView.of(session.get(Ticket, number))
            return cards.load(session, [view], self.desk)[number].of(part)

        return self.db.run_sync(load)

    def ticket(self, number: int) -> Ticket:
        with Session(self.db.engine) as session:
            ticket = session.get(Ticket, number)
            assert ticket is not None
            return ticket

    def outbox(self, *, after: int = 0) -> list[Row]:
        with Session(self.db.engine) as session:
            rows = session.scalars(
                select(OutboxMessage).where(OutboxMessage.id > after).order_by(OutboxMessage.id)
            )
            return [Row(r.target, r.kind, r.ticket_id, r.payload) for r in rows]

    def last_outbox_id(self) -> int:
        with Session(self.db.engine) as session:
            return max([0, *session.scalars(select(OutboxMessage.id))])

    def thread_notes(self, number: int) -> list[str]:
        """The lines queued for the ticket's card threads, in order."""
        return [
            plain(row.text())
            for row in self.outbox()
            if row.kind == "thread_note" and row.ticket_id == number
        ]

    def events(self, number: int) -> list[TicketEvent]:
        with Session(self.db.engine) as session:
            query = select(TicketEvent).where(TicketEvent.ticket_id == number).order_by(TicketEvent.id)
            return list(session.scalars(query))

    def links(self, number: int) -> list[TicketLink]:
        with Session(self.db.engine) as session:
            return list(session.scalars(select(TicketLink).where(TicketLink.ticket_id == number)))

    def close(self) -> None:
        self.db.close()


def empty_schema(url: str, template: Path | None) -> None:
    """Give a new database the desk's tables: a copy of a template file for SQLite, else create them."""
    if url.startswith("sqlite") and template is not None:
        target = Path(url.removeprefix("sqlite:///"))
        if not template.exists():
            db = Database(f"sqlite:///{template}")
            Base.metadata.create_all(db.engine)
            db.close()
        shutil.copyfile(template, target)
        return
    db = Database(url)
    Base.metadata.create_all(db.engine)
    db.close()
