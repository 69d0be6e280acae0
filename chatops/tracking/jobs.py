"""Carrying out the tracker's outbox rows: create an issue (never twice), fetch one a ticket was linked
to, comment, and look for what changed. The tracker's port decides how; these decide what."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from chatops.conversation import repository as conversation
from chatops.desk import Desk
from chatops.messaging.dispatcher import Handler, Run
from chatops.messaging.notices import TellPrivately, tell_privately
from chatops.messaging.outbox_store import Job, Outcome
from chatops.messaging.ports import (
    DeliveryError,
    MessageRef,
    Pace,
    PermanentFailure,
    Place,
    TransientFailure,
)
from chatops.people.identity import system
from chatops.rich import Rich
from chatops.tickets import repository as tickets
from chatops.tickets.model import Ticket
from chatops.tickets.outbound import tell_person
from chatops.tickets.repository import CARD, ORIGIN
from chatops.tracking import outbound, repository
from chatops.tracking.ports import Comment, IssueDraft, IssueMissing, IssueState, TicketFacts, Tracker
from chatops.tracking.syncing import follow
from chatops.tracking.views import IssueLink, issue_text
from chatops.work import Work

# How many tries of a create in doubt only look for the issue (by its label) before one may make it.
LOOKS = 2


@dataclass(frozen=True)
class Refused:
    """The tracker refused to create the issue, for a reason a retry will not change."""

    reason: str


@dataclass(frozen=True)
class _Pending:
    """A ticket waiting for its issue: what the issue will say, and where its card is."""

    facts: TicketFacts
    title: str
    cards: dict[str, MessageRef]
    origin_url: str | None
    platform: str
    pending: bool


class TrackerJobs:
    """The outbox handlers of the tracker's rows, with the desk's rules and the tracker to call."""

    def __init__(self, desk: Desk, tracker: Tracker, pace: Pace) -> None:
        self.desk = desk
        self.tracker = tracker
        self.pace = pace

    def handlers(self) -> dict[tuple[str, str], Handler]:
        """Each kind of tracker row and its handler."""
        name = self.tracker.system
        return {
            (name, outbound.CREATE): self.create,
            (name, outbound.FETCH): self.fetch,
            (name, outbound.COMMENT): self.comment,
            (name, outbound.RECONCILE): self.reconcile,
        }

    async def create(self, jobs: list[Job], run: Run) -> list[Outcome]:
        """Create each ticket's issue; a try that may have created it already looks for it first."""
        return [await self._create(job, run) for job in jobs]

    async def _create(self, job: Job, run: Run) -> Outcome:
        assert job.ticket_id is not None
        ticket_id = job.ticket_id
        found = await run.read(lambda session: self._pending(session, ticket_id))
        if found is None or not found.pending:
            # Unlinked, or created already by an earlier try that was recorded: nothing to do.
            return Outcome([job.id])
        link, label = found.origin_url, "Original message"
        if link is None:
            # The row waited for the card (see pushing.push); a card on the requester's platform first.
            platform = found.platform if found.platform in found.cards else next(iter(found.cards), None)
            if platform is not None:
                link, label = await _card_link(run, platform, found.cards[platform]), "Ticket card"
        facts = replace(found.facts, link=link, link_label=label)
        draft = IssueDraft(
            project=job.payload["project"],
            issue_type=job.payload["issue_type"],
            summary=found.title,
            facts=facts,
            labels=(*job.payload.get("labels", ()), repository.FOLLOWED, repository.ticket_label(ticket_id)),
        )

        async def call() -> IssueState | Refused:
            if job.in_doubt:
                earlier = await self.tracker.find(repository.ticket_label(ticket_id))
                if earlier is not None:
                    return earlier
                if job.attempt <= LOOKS:
                    # A search may not see an issue made a moment ago: look again before making one.
                    raise TransientFailure("no issue found yet; looking once more", in_doubt=True)
            try:
                return await self.tracker.create(draft)
            except PermanentFailure as refusal:
                return Refused(str(refusal))

        def then(made: IssueState | Refused) -> Callable[[Work], None]:
            if isinstance(made, Refused):
                return lambda work: self._refused(work, ticket_id, made.reason)
            return lambda work: self._created(work, ticket_id, made, bool(job.payload.get("product")))

        return await run.attempt([job], self.pace, call, then=then)

    def _pending(self, session: Session, ticket_id: int) -> _Pending | None:
        ticket = tickets.get(session, ticket_id)
        link = repository.link_of(session, ticket_id, self.tracker.system)
        if ticket is None or link is None:
            return None
        links = tickets.links_of(session, [ticket_id])
        cards = {k.system: MessageRef(k.address, k.ref) for k in links if k.kind == CARD and k.ref}
        origin = next((k.url for k in links if k.kind == ORIGIN and k.system == ticket.platform), None)
        facts = TicketFacts(
            id=ticket.id,
            description=ticket.description,
            requester=self.desk.directory.name(ticket.requester),
            vip=self.desk.roles.is_vip(ticket.requester),
            category=ticket.category,
            priority=ticket.priority,
            tier=ticket.tier,
            team=self.desk.config.team(ticket.team).name,
            link=None,
            link_label="",
            notes=tuple(
                (self.desk.directory.name(m.author), m.text)
                for m in conversation.messages_of(session, ticket_id)
                if m.kind == conversation.INTERNAL
            ),
        )
        return _Pending(facts, ticket.title, cards, origin, ticket.platform, link.ref is None)

    def _refused(self, work: Work, ticket_id: int, reason: str) -> None:
        """The tracker will not take the issue as configured: the ticket is free to be sent again."""
        ticket = Ticket.load(work, self.desk, ticket_id)
        repository.drop_link(work.session, ticket_id, self.tracker.system)
        if ticket is None:
            return
        name = self.tracker.system
        said = f"{name.capitalize()} refused the issue ({reason}); nothing was created"
        ticket.changed(system(name), (said,))

    def _created(self, work: Work, ticket_id: int, state: IssueState, product: bool) -> None:
        name = self.tracker.system
        ticket = Ticket.load(work, self.desk, ticket_id)
        if ticket is None or not repository.set_link(work.session, ticket_id, name, state.key, state.url):
            # Unlinked or merged elsewhere while it was being made: it stays in the tracker, followed.
            outbound.remember(work, self.desk, state)
            return
        outbound.remember(work, self.desk, state)
        ticket.audit(system(name), "issue_created", None, state.key, {"issue": state.key})
        shown = issue_text(IssueLink(repository.project_of(state.key), state.key, state.url, state.status))
        ticket.changed(system(name), (f"{name.capitalize()} issue created: ", *shown))
        if product:
            outbound.show_product(work, self.desk, state.key)

    async def fetch(self, jobs: list[Job], run: Run) -> list[Outcome]:
        """Ask the tracker for an issue a ticket was linked to, and mark it as followed; one that does not
        exist is unlinked again, and whoever linked it is told."""
        outcomes = []
        for job in jobs:
            key = job.payload["key"]

            async def call(key: str = key) -> IssueState | None:
                try:
                    state = await self.tracker.get(key)
                except IssueMissing:
                    return None
                await self.tracker.mark(key, repository.FOLLOWED)
                return state

            def then(state: IssueState | None, job: Job = job) -> Callable[[Work], None]:
                return lambda work: self._fetched(work, job, state)

            outcomes.append(await run.attempt([job], self.pace, call, then=then))
        return outcomes

    def _fetched(self, work: Work, job: Job, state: IssueState | None) -> None:
        tracker, key = self.tracker.system, job.payload["key"]
        # The issue's row first: a ticket being linked to it meanwhile waits, and is then seen here.
        repository.tracked(work.session, tracker, key, lock=True)
        linked = repository.tickets_on(work.session, tracker, key)
        actor = system(tracker)
        if state is not None:
            outbound.remember(work, self.desk, state)
            for row in linked:
                Ticket(row, work, self.desk).changed(actor, None)
            outbound.redraw_product(work, self.desk, key)
            return
        name = tracker.capitalize()
        for row in linked:
            repository.drop_link(work.session, row.id, tracker)
            said = f"{name} has no issue {key} (or the desk may not see it), so the ticket was unlinked"
            Ticket(row, work, self.desk).changed(actor, (said,))
        repository.forget(work.session, tracker, key)
        text: Rich = (
            f"{name} has no issue {key}, or the desk may not see it, "
            f"so ticket #{job.ticket_id} was not linked.",
        )
        place, actor = job.payload.get("place"), job.payload["actor"]
        if place is not None:
            tell_privately(work, TellPrivately(Place(place["platform"], place["address"]), actor, text))
        else:
            ticket = tickets.get(work.session, job.ticket_id) if job.ticket_id is not None else None
            prefer = ticket.platform if ticket is not None else self.desk.config.platforms()[0]
            tell_person(work, self.desk, actor, text, prefer=prefer, ticket_id=job.ticket_id)

    async def comment(self, jobs: list[Job], run: Run) -> list[Outcome]:
        """Add each comment to its issue; a try that may have added it already looks for it first."""
        outcomes = []
        for job in jobs:
            key, body = job.payload["key"], job.payload["body"]

            async def call(key: str = key, body: str = body, doubt: bool = job.in_doubt) -> Comment:
                return await self.tracker.comment(key, body, look_first=doubt)

            def then(made: Comment) -> Callable[[Work], None]:
                def written(work: Work) -> None:
                    # Its webhook will bring it back: received now, it is known as the desk's own.
                    repository.receive(work.session, self.tracker.system, f"comment:{made.id}", work.now)

                return written

            outcomes.append(await run.attempt([job], self.pace, call, then=then))
        return outcomes

    async def reconcile(self, jobs: list[Job], run: Run) -> list[Outcome]:
        """Ask for the followed issues that changed in the round's window, and apply what is new."""
        minutes = max(int(job.payload["minutes"]) for job in jobs)

        def then(states: list[IssueState]) -> Callable[[Work], None]:
            def apply(work: Work) -> None:
                for state in states:
                    follow(work, self.desk, state)

            return apply

        call = lambda: self.tracker.changed_since(repository.FOLLOWED, minutes)  # noqa: E731
        return [await run.attempt(jobs, self.pace, call, then=then)]


async def _card_link(run: Run, platform: str, card: MessageRef) -> str | None:
    """A link to the ticket's card, if its platform gives one now (the issue goes without it otherwise)."""
    try:
        return await run.gateway(platform).link(card)
    except DeliveryError:
        return None
