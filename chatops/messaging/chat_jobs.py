"""The outbox handlers every chat platform shares: a message to a place or a person, and a private word."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from chatops.messaging.cards import Card, card_from_json
from chatops.messaging.dispatcher import Followup, Handler, Run
from chatops.messaging.outbox import MESSAGE, TELL_PRIVATELY, destination_from
from chatops.messaging.outbox_store import Job, Outcome
from chatops.messaging.ports import Destination, MessageRef, PermanentFailure
from chatops.rich import Link, Rich, rich_from_json

# A post may show up in history with a timestamp a little before the row, if clocks disagree.
CLOCK_SKEW = timedelta(minutes=2)


def look_since(job: Job) -> datetime | None:
    """When an earlier try of a post may have landed: look for it from then before posting again."""
    return job.created_at - CLOCK_SKEW if job.in_doubt else None


async def post_text(
    job: Job, run: Run, to: Destination, text: Rich | Card, *, then: Followup | None = None
) -> Outcome:
    """Post one job's text (or card) where it goes, in its slot, tagged so that a retry can find it;
    `then` turns the posted message into what to record with the outcome."""
    gateway = run.gateway(job.target)
    return await run.attempt(
        [job],
        gateway.pace("post", to.place or to.person),
        lambda: gateway.post(to, text, key=f"outbox-{job.id}", look_since=look_since(job)),
        then=then,
    )


async def send_messages(jobs: list[Job], run: Run) -> list[Outcome]:
    """Post each text or card to its place or person, in order, a text ending with its link where it asks
    for one."""

    async def send(job: Job) -> Outcome:
        to, link = destination_from(job.payload["to"]), job.payload.get("link")
        if "card" in job.payload:
            return await post_text(job, run, to, card_from_json(job.payload["card"]))
        text = rich_from_json(job.payload["text"])
        return await (
            post_text(job, run, to, text) if link is None else _post_linked(job, run, to, text, link)
        )

    return await run.in_order(jobs, send)


async def _post_linked(job: Job, run: Run, to: Destination, text: Rich, link: dict[str, str]) -> Outcome:
    """Ask the platform for the link, then post the text ending with it, as one attempt in the post's slot."""
    gateway = run.gateway(job.target)

    async def post() -> Any:
        try:
            url: str | None = await gateway.link(MessageRef(link["place"], link["id"]))
        except PermanentFailure:
            # The message linked to is gone: the words still matter more than the link.
            url = None
        linked: Rich = (*text, " ", Link(url, link["label"])) if url else text
        return await gateway.post(to, linked, key=f"outbox-{job.id}", look_since=look_since(job))

    return await run.attempt([job], gateway.pace("post", to.place or to.person), post)


async def tell_privately(jobs: list[Job], run: Run) -> list[Outcome]:
    """Show each text to its person only, as their platform can, in order."""

    async def tell(job: Job) -> Outcome:
        gateway = run.gateway(job.target)
        payload = job.payload
        text = rich_from_json(payload["text"])
        return await run.attempt(
            [job],
            gateway.pace("private", payload.get("place") or payload["person"]),
            lambda: gateway.tell_privately(payload.get("place"), payload["person"], text),
        )

    return await run.in_order(jobs, tell)


def chat_handlers(platforms: Iterable[str]) -> dict[tuple[str, str], Handler]:
    """The shared chat handlers, for each platform the desk talks to."""
    return {
        key: handler
        for platform in platforms
        for key, handler in (
            ((platform, MESSAGE), send_messages),
            ((platform, TELL_PRIVATELY), tell_privately),
        )
    }
