"""The product team's card of an issue: who asked (and their tier), what for, how many, and the link; it
is posted once in each product place and redrawn as requesters join and the issue moves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from chatops.desk import Desk
from chatops.messaging.cards import Card, Field
from chatops.messaging.chat_jobs import look_since
from chatops.messaging.dispatcher import Handler, Run
from chatops.messaging.outbox_store import Job, Outcome
from chatops.messaging.ports import Destination, MessageRef
from chatops.rich import Link, Rich
from chatops.text import clip
from chatops.tracking import repository
from chatops.tracking.outbound import POST_ISSUE_CARD, UPDATE_ISSUE_CARD
from chatops.work import Work

# How many requesters a card names; the count says how many there are in all.
NAMED = 10


@dataclass(frozen=True)
class Asker:
    """Someone who asked for an issue, as the product team sees them."""

    person: str
    name: str
    vip: bool
    ticket_id: int
    title: str


@dataclass(frozen=True)
class IssueView:
    """An issue with its requesters, as its product card shows it."""

    id: int
    key: str
    url: str | None
    summary: str | None
    status: str | None
    shipped: bool
    askers: tuple[Asker, ...]
    cards: dict[str, MessageRef]


def issue_card(view: IssueView, tracker: str) -> Card:
    """The product card of an issue."""
    what = view.summary or (view.askers[0].title if view.askers else view.key)
    header = clip(f"{view.key} {what}", 150)
    # One person with several tickets on the issue is one requester.
    distinct = list({a.person: a for a in view.askers}.values())
    people = len(distinct)
    named = ", ".join(f"{a.name} (VIP)" if a.vip else a.name for a in distinct[:NAMED])
    if people > NAMED:
        named += f" and {people - NAMED} more"
    status = view.status or "unknown"
    if view.shipped:
        status += " · shipped, every requester told"
    link: Rich = (Link(view.url, f"Open {view.key} in {tracker.capitalize()}"),) if view.url else (view.key,)
    asked: Rich = tuple(
        part for a in view.askers[:3] for part in (f"“{clip(a.title, 120)}” (ticket #{a.ticket_id})\n",)
    )
    return Card(
        header=header,
        summary=f"{header}: {people} requester{'s' if people != 1 else ''}",
        fields=(
            Field("Requesters", (str(people),)),
            Field("Asked by", (named or "nobody any more",)),
            Field("Status", (status,)),
        ),
        body=asked,
        context=("Customer feedback from support · ", *link),
    )


class ProductCards:
    """The outbox handlers of issues' product cards, on each chat platform."""

    def __init__(self, desk: Desk, tracker: str) -> None:
        self.desk = desk
        self.tracker = tracker

    def handlers(self, platforms: list[str]) -> dict[tuple[str, str], Handler]:
        """Post and redraw, on each platform the desk has."""
        return {
            (platform, kind): handler
            for platform in platforms
            for kind, handler in ((POST_ISSUE_CARD, self.post), (UPDATE_ISSUE_CARD, self.update))
        }

    def _load(self, session: Session, key: str) -> IssueView | None:
        issue = repository.tracked(session, self.tracker, key)
        if issue is None:
            return None
        askers = tuple(
            Asker(
                self.desk.directory.canonical(r.requester),
                self.desk.directory.name(r.requester),
                self.desk.roles.is_vip(r.requester),
                r.id,
                r.title,
            )
            for r in repository.requesters_on(session, self.tracker, key)
        )
        cards = {
            c.platform: MessageRef(c.address, c.ref) for c in repository.cards_of(session, issue.id).values()
        }
        return IssueView(
            issue.id, key, issue.url, issue.summary, issue.status, issue.shipped_at is not None, askers, cards
        )

    def _place(self, platform: str) -> str | None:
        return next((p.address for p in self.desk.config.product.places() if p.platform == platform), None)

    async def post(self, jobs: list[Job], run: Run) -> list[Outcome]:
        """Post each issue's card in the product place on the job's platform, once."""
        outcomes = []
        for job in jobs:
            key, platform = job.payload["issue"], job.target
            view = await run.read(lambda session, key=key: self._load(session, key))
            address = self._place(platform)
            if view is None or address is None or platform in view.cards:
                outcomes.append(Outcome([job.id]))
                continue
            gateway, card = run.gateway(platform), issue_card(view, self.tracker)

            async def post(gateway=gateway, card=card, address=address, job=job, key=key) -> MessageRef:
                return await gateway.post(
                    Destination(place=address), card, key=f"issue-{key}-card", look_since=look_since(job)
                )

            def remember(
                ref: MessageRef, issue_id: int = view.id, platform: str = platform
            ) -> Callable[[Work], None]:
                return lambda work: repository.add_card(work.session, issue_id, platform, ref.place, ref.id)

            outcomes.append(await run.attempt([job], gateway.pace("post", address), post, then=remember))
        return outcomes

    async def update(self, jobs: list[Job], run: Run) -> list[Outcome]:
        """Redraw an issue's card as it stands: one call for however many redraws are queued."""
        outcomes = []
        by_issue: dict[str, list[Job]] = {}
        for job in jobs:
            by_issue.setdefault(job.payload["issue"], []).append(job)
        for key, same in by_issue.items():
            platform = same[0].target
            view = await run.read(lambda session, key=key: self._load(session, key))
            if view is None:
                outcomes.append(Outcome([j.id for j in same]))
                continue
            ref = view.cards.get(platform)
            if ref is None:
                outcomes.append(run.later(same, "waiting for the card"))
                continue
            gateway, card = run.gateway(platform), issue_card(view, self.tracker)
            outcomes.append(
                await run.attempt(
                    same,
                    gateway.pace("update", ref.place),
                    lambda gateway=gateway, ref=ref, card=card: gateway.update(ref, card),
                )
            )
        return outcomes
