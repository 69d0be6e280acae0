"""The desk as adapters call it: each call one committed unit of work, then a nudge to the dispatcher."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from chatops.cards import ActionRef
from chatops.deadline import answer_by
from chatops.desk import Desk, Intake
from chatops.errors import DeskError, Overloaded, StaleCard
from chatops.store.db import Database
from chatops.tickets import TicketView

log = structlog.get_logger("chatops.desk")


class DeskService:
    """Async entry points of the desk for adapters and command handlers."""

    def __init__(self, db: Database, desk: Desk, on_commit: Callable[[], None]) -> None:
        self.db = db
        self.desk = desk
        self._on_commit = on_commit

    async def open(self, intake: Intake) -> TicketView:
        """Open a ticket; a request delivered again gets the ticket its first delivery opened."""
        opened = await self.db.run(lambda session: self.desk.open(session, intake), deadline=answer_by())
        view = opened.ticket
        if not opened.new:
            log.info("intake_repeated", platform=intake.platform, delivery=intake.event_id, ticket=view.id)
            return view
        self._on_commit()
        log.info(
            "ticket_opened",
            ticket=view.id,
            via=intake.via,
            platform=intake.platform,
            requester=intake.requester,
            team=view.team,
            category=view.category,
            priority=view.priority,
        )
        return view

    async def act(self, ref: ActionRef, actor: str, argument: str | None, *, place: str) -> TicketView | None:
        """Apply a click; a refusal is told to the clicker privately and None is returned."""
        try:
            view = await self.db.run(
                lambda session: self.desk.act(session, ref, actor, argument), deadline=answer_by()
            )
        except Overloaded:
            raise
        except DeskError as refusal:
            log.info(
                "ticket_action_refused",
                ticket=ref.ticket_id,
                verb=ref.verb,
                actor=actor,
                reason=type(refusal).__name__,
            )
            refresh = ref.ticket_id if isinstance(refusal, StaleCard) else None
            await self.tell(place, actor, refusal.message, refresh=refresh)
            return None
        self._on_commit()
        log.info(
            "ticket_changed",
            ticket=view.id,
            verb=ref.verb,
            actor=actor,
            status=view.status.value,
            version=view.version,
        )
        return view

    async def tell(self, place: str, user: str, message: str, *, refresh: int | None = None) -> None:
        """Show one person a message in a place, privately (and redraw a ticket's card if asked)."""
        await self.db.run(lambda session: self.desk.refuse(session, place, user, message, refresh=refresh))
        self._on_commit()

    async def show(self, number: int, viewer: str) -> TicketView:
        """A ticket the viewer may see."""
        return await self.db.read(lambda session: self.desk.show(session, number, viewer))

    async def mine(self, viewer: str) -> list[TicketView]:
        """The viewer's own tickets."""
        return await self.db.read(lambda session: self.desk.mine(session, viewer))

    async def queue(self, viewer: str) -> list[TicketView]:
        """The open queue of the viewer's teams."""
        return await self.db.read(lambda session: self.desk.queue(session, viewer))
