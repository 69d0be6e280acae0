"""Carrying out a ticket's outbox rows on a chat platform: its card, edits to it, notes in its thread, the
link to the message it was made from, and the card it leaves behind when it moves to another team. The
platform's gateway decides how; these decide what."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from chatops.desk import Desk
from chatops.messaging.cards import Card
from chatops.messaging.chat_jobs import look_since, post_text
from chatops.messaging.dispatcher import Handler, Run
from chatops.messaging.outbox import RELAY, destination_from
from chatops.messaging.outbox_store import Job, Outcome
from chatops.messaging.ports import Destination, MessageRef
from chatops.people import repository as people
from chatops.rich import rich_from_json
from chatops.tickets import repository
from chatops.tickets.card import TicketCard, left_behind
from chatops.tickets.events import CardPosted, TicketChanged
from chatops.tickets.outbound import LINK_ORIGIN, POST_CARD, RETIRE_CARD, THREAD_NOTE, UPDATE_CARD
from chatops.tickets.repository import CARD, ORIGIN
from chatops.tickets.views import TicketView
from chatops.work import Work

# How a batch's tickets are read for their cards: each ticket and what every part of its card loads.
Load = Callable[[Session, Sequence[TicketView]], dict[int, TicketCard]]


@dataclass
class Batch:
    """What a claimed batch's ticket rows need: the tickets as they stand, and their links by platform."""

    tickets: dict[int, TicketCard]
    links: dict[tuple[int, str, str], Any]
    # Cards posted during this batch: their edits were drawn from the same snapshot, so they are done.
    fresh: set[tuple[int, str]] = field(default_factory=set)

    def card(self, ticket_id: int, platform: str) -> MessageRef | None:
        """The ticket's card on a platform, if it has been posted."""
        link = self.links.get((ticket_id, CARD, platform))
        return MessageRef(link.address, link.ref) if link is not None else None


class CardDelivery:
    """The outbox handlers for a ticket's rows, with how to draw its card and where its team's places are."""

    def __init__(self, desk: Desk, load: Load, render: Callable[[TicketCard], Card]) -> None:
        self.desk = desk
        self.load = load
        self.render = render

    def place(self, team: str, platform: str) -> str | None:
        """The address of a team's place on a platform (None: the team has none there)."""
        return next((p.address for p in self.desk.config.team(team).places() if p.platform == platform), None)

    def prepare(self, session: Session, jobs: list[Job]) -> Batch:
        """Load, in the claim's transaction, the tickets and links the batch's rows are about."""
        ids = sorted({j.ticket_id for j in jobs if j.ticket_id is not None})
        if not ids:
            return Batch({}, {})
        links = {(link.ticket_id, link.kind, link.system): link for link in repository.links_of(session, ids)}
        tickets = self.load(session, [TicketView.of(row) for row in repository.by_ids(session, ids)])
        # The cards name these people: whatever process draws them, it calls them what their platform does.
        people.learn_names(
            session,
            self.desk.directory,
            (p for t in tickets.values() for p in (t.view.requester, t.view.assignee, t.view.filed_by) if p),
        )
        return Batch(tickets, links)

    def handlers(self, platforms: Iterable[str]) -> dict[tuple[str, str], Handler]:
        """This delivery's handler for each kind of ticket row, on each platform."""
        kinds = {
            POST_CARD: self.post_card,
            UPDATE_CARD: self.update_card,
            THREAD_NOTE: self.thread_note,
            LINK_ORIGIN: self.link_origin,
            RELAY: self.relay,
            RETIRE_CARD: self.retire_card,
        }
        return {(platform, kind): handler for platform in platforms for kind, handler in kinds.items()}

    async def post_card(self, jobs: list[Job], run: Run) -> list[Outcome]:
        """Post the ticket's card in its team's place on the platform, once."""
        batch: Batch = run.context
        job, platform = jobs[0], jobs[0].target
        ids = [j.id for j in jobs]
        card = batch.tickets.get(job.ticket_id) if job.ticket_id is not None else None
        if card is None:
            return [Outcome(ids, failed=True, error="the ticket no longer exists")]
        view = card.view
        if batch.card(view.id, platform) is not None:
            return [Outcome(ids)]
        address = self.place(view.team, platform)
        if address is None:
            return [Outcome(ids, failed=True, error=f"team {view.team} has no place on {platform}")]
        gateway = run.gateway(platform)

        async def post() -> MessageRef:
            ref = await gateway.post(
                Destination(place=address),
                self.render(card),
                key=f"ticket-{view.id}-card",
                look_since=look_since(job),
            )
            batch.links[(view.id, CARD, platform)] = _Link(ref.place, ref.id)
            batch.fresh.add((view.id, platform))
            return ref

        def remember(ref: MessageRef) -> Callable[[Work], None]:
            def posted(work: Work) -> None:
                repository.add_link(work, view.id, CARD, platform, ref.place, ref.id)
                work.record(CardPosted(view.id, platform))

            return posted

        return [await run.attempt(jobs, gateway.pace("post", address), post, then=remember)]

    async def update_card(self, jobs: list[Job], run: Run) -> list[Outcome]:
        """Redraw the card as the ticket stands now: one call for however many edits are queued."""
        batch: Batch = run.context
        platform, ticket_id = jobs[0].target, jobs[0].ticket_id
        ids = [j.id for j in jobs]
        drawn = batch.tickets.get(ticket_id) if ticket_id is not None else None
        if drawn is None:
            return [Outcome(ids, failed=True, error="the ticket no longer exists")]
        if (drawn.view.id, platform) in batch.fresh:
            return [Outcome(ids)]
        card = batch.card(drawn.view.id, platform)
        if card is None:
            return [run.later(jobs, "waiting for the card")]
        gateway = run.gateway(platform)
        rendered = self.render(drawn)
        return [
            await run.attempt(
                jobs, gateway.pace("update", card.place), lambda: gateway.update(card, rendered)
            )
        ]

    async def thread_note(self, jobs: list[Job], run: Run) -> list[Outcome]:
        """Post each note in the thread under the card, in order."""
        batch: Batch = run.context

        async def post(job: Job) -> Outcome:
            card = batch.card(job.ticket_id, job.target) if job.ticket_id is not None else None
            if card is None:
                return run.later([job], "waiting for the card")
            to = Destination(place=card.place, thread=card)
            return await post_text(job, run, to, rich_from_json(job.payload["text"]), then=_copied(job))

        return await run.in_order(jobs, post)

    async def relay(self, jobs: list[Job], run: Run) -> list[Outcome]:
        """Post each relayed message where it goes (the requester's chat, a request's thread), in order."""

        async def post(job: Job) -> Outcome:
            to = destination_from(job.payload["to"])
            return await post_text(job, run, to, rich_from_json(job.payload["text"]), then=_copied(job))

        return await run.in_order(jobs, post)

    async def link_origin(self, jobs: list[Job], run: Run) -> list[Outcome]:
        """Ask the platform for a link to the message the ticket was made from, and show it on the cards."""
        batch: Batch = run.context
        job, platform = jobs[0], jobs[0].target
        ids = [j.id for j in jobs]
        origin = batch.links.get((job.ticket_id, ORIGIN, platform)) if job.ticket_id is not None else None
        drawn = batch.tickets.get(job.ticket_id) if job.ticket_id is not None else None
        if drawn is None or origin is None or not origin.ref:
            return [Outcome(ids, failed=True, error="the ticket has no origin message")]
        gateway = run.gateway(platform)
        message = MessageRef(origin.address, origin.ref)

        def remember(url: str) -> Callable[[Work], None]:
            def write(work: Work) -> None:
                repository.set_link_url(work.session, drawn.view.id, ORIGIN, platform, url)
                work.record(TicketChanged(drawn.view.id, drawn.view.team, "", None))

            return write

        return [
            await run.attempt(
                jobs, gateway.pace("link", origin.address), lambda: gateway.link(message), then=remember
            )
        ]

    async def retire_card(self, jobs: list[Job], run: Run) -> list[Outcome]:
        """Draw a card its ticket left behind once more: as the ticket stands, saying where it went, with
        no controls."""
        batch: Batch = run.context

        async def retire(job: Job) -> Outcome:
            drawn = batch.tickets.get(job.ticket_id) if job.ticket_id is not None else None
            if drawn is None:
                return Outcome([job.id], failed=True, error="the ticket no longer exists")
            card = MessageRef(job.payload["card"]["place"], job.payload["card"]["id"])
            rendered = left_behind(self.render(drawn), rich_from_json(job.payload["said"]))
            gateway = run.gateway(job.target)
            return await run.attempt(
                [job], gateway.pace("update", card.place), lambda: gateway.update(card, rendered)
            )

        return await run.in_order(jobs, retire)


def _copied(job: Job) -> Callable[[MessageRef], Callable[[Work], None]] | None:
    """For a relayed message, how to keep where its copy landed once posted."""
    message = job.payload.get("copy_of")
    if message is None:
        return None

    def landed(ref: MessageRef) -> Callable[[Work], None]:
        return lambda work: repository.record_copy(work.session, message, job.target, ref.place, ref.id)

    return landed


@dataclass(frozen=True)
class _Link:
    address: str
    ref: str
