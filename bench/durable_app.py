"""The durable anchor for bench/ack_latency.py: a minimal desk that commits each `/ticket` before it acks.

A Bolt app served as bench/bare_app.py is (aiohttp, `process_before_response=True`) whose listener does
the least a durable desk must: commit one row to a SQLite file with the desk's durability settings (WAL,
synchronous=FULL, BEGIN IMMEDIATE, one writer thread committing whatever is queued in one transaction),
acknowledge with the ticket's number, then post one card (chat.postMessage with a few blocks) in the
channel the request's keyword routes it to, at Slack's pace in each channel (about one a second, burst 3)
as the desk's outbox does, over one session of kept-alive connections as the desk's gateway does. Cards
wait in memory, not in the database: a card not yet posted at a stop is lost, which is the one promise
this floor does not keep and the desk does.

Settings from the environment: SLACK_SIGNING_SECRET, BENCH_BOT_TOKEN, SLACK_API_URL, BENCH_DB (the SQLite
file), BENCH_ROUTES (`keyword=CHANNEL,...`: a request naming the keyword goes to that channel) and
BENCH_DEFAULT_CHANNEL (the channel of a request that names none).
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import re
import sqlite3
import threading
import time
from typing import Any

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

# Slack's pace of chat.postMessage in one channel, as the desk's gateway books it.
POSTS_PER_SECOND = 1.0
POST_BURST = 3
BATCH_LIMIT = 200
WORD = re.compile(r"\w+")

Pending = tuple[tuple[str, str, str, str], asyncio.Future[int]]


class Writer:
    """One thread that commits queued rows together, each caller answered once its row is durable."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=30000"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS tickets (id INTEGER PRIMARY KEY, channel TEXT NOT NULL, "
            "requester TEXT NOT NULL, text TEXT NOT NULL, created_at TEXT NOT NULL)"
        )
        self.queue: queue.SimpleQueue[Pending] = queue.SimpleQueue()
        threading.Thread(target=self._loop, name="db-writer", daemon=True).start()

    async def insert(self, channel: str, requester: str, text: str) -> int:
        """The new ticket's id, once committed."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.queue.put(((channel, requester, text, time.strftime("%Y-%m-%dT%H:%M:%S")), future))
        return await future

    def _loop(self) -> None:
        while True:
            batch = [self.queue.get()]
            while len(batch) < BATCH_LIMIT:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            answers: list[tuple[asyncio.Future[int], int | None, BaseException | None]]
            try:
                self.db.execute("BEGIN IMMEDIATE")
                ids = [
                    self.db.execute(
                        "INSERT INTO tickets (channel, requester, text, created_at) VALUES (?, ?, ?, ?)", row
                    ).lastrowid
                    for row, _ in batch
                ]
                self.db.execute("COMMIT")
                answers = [(future, ticket, None) for (_, future), ticket in zip(batch, ids, strict=True)]
            except sqlite3.Error as error:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                answers = [(future, None, error) for _, future in batch]
            loop = answers[0][0].get_loop()
            loop.call_soon_threadsafe(_settle, answers)


def _settle(answers: list[tuple[asyncio.Future[int], int | None, BaseException | None]]) -> None:
    for future, ticket, error in answers:
        if future.cancelled():
            continue
        if error is not None:
            future.set_exception(error)
        elif ticket is not None:
            future.set_result(ticket)


class Poster:
    """Each channel's cards in order, one worker per channel booking slots at Slack's pace."""

    def __init__(self) -> None:
        self.client: AsyncWebClient | None = None
        self.queues: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def post(self, channel: str, card: dict[str, Any]) -> None:
        """Queue a card for its channel."""
        if channel not in self.queues:
            self.queues[channel] = asyncio.Queue()
            task = asyncio.create_task(self._drain(channel, self.queues[channel]))
            self.tasks.add(task)
        self.queues[channel].put_nowait(card)

    async def _drain(self, channel: str, cards: asyncio.Queue[dict[str, Any]]) -> None:
        interval, free_at = 1.0 / POSTS_PER_SECOND, 0.0
        while True:
            card = await cards.get()
            while True:
                # A token bucket: up to POST_BURST back to back after a quiet spell, then one per interval.
                slot = max(time.monotonic(), free_at - (POST_BURST - 1) * interval)
                free_at = max(free_at, slot) + interval
                if (delay := slot - time.monotonic()) > 0:
                    await asyncio.sleep(delay)
                assert self.client is not None, "the client is made in main(), before serving"
                try:
                    await self.client.chat_postMessage(channel=channel, **card)
                    break
                except SlackApiError as error:
                    if error.response.status_code != 429:
                        break
                    # As the desk's pacer holds a scope: nothing until Retry-After is over, and no burst then.
                    until = time.monotonic() + float(error.response.headers.get("Retry-After", 1))
                    free_at = until + (POST_BURST - 1) * interval


def card(ticket: int, requester: str, text: str) -> dict[str, Any]:
    """A ticket card: header, the request, a few fields, buttons; keyed as the desk keys its cards."""
    return {
        "text": f"#{ticket} {text[:80]}",
        "metadata": {"event_type": "ticket_card", "event_payload": {"key": f"ticket-{ticket}-card"}},
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": f"#{ticket} {text[:140]}"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": text[:2500]}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*Requester*\n<@{requester}>"},
                    {"type": "mrkdwn", "text": "*Priority*\nnormal"},
                    {"type": "mrkdwn", "text": "*Status*\nNew"},
                    {"type": "mrkdwn", "text": "*Assignee*\nUnassigned"},
                ],
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Take it"},
                        "action_id": "take",
                        "value": str(ticket),
                    },
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Resolve"},
                        "action_id": "resolve",
                        "value": str(ticket),
                    },
                ],
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "Opened by command"}]},
        ],
    }


ROUTES = dict(entry.split("=", 1) for entry in os.environ.get("BENCH_ROUTES", "").split(",") if "=" in entry)
DEFAULT_CHANNEL = os.environ["BENCH_DEFAULT_CHANNEL"]
writer = Writer(os.environ["BENCH_DB"])
# The token rides on the client only, under a name Bolt does not read (it warns on SLACK_BOT_TOKEN + client).
app = AsyncApp(
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    client=AsyncWebClient(token=os.environ["BENCH_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
    process_before_response=True,
)
poster = Poster()


def route(text: str) -> str:
    """The channel of the first routed keyword in the request, or the default one."""
    return next((ROUTES[w] for w in WORD.findall(text.lower()) if w in ROUTES), DEFAULT_CHANNEL)


@app.command("/ticket")
async def ticket(ack: AsyncAck, command: dict[str, Any]) -> None:
    """Commit the ticket, acknowledge it, then queue its card."""
    text, requester = command.get("text", ""), command["user_id"]
    if text.strip() == "list":
        # The warm-up's read-only command: nothing to commit, no card.
        await ack(text="No open tickets", response_type="ephemeral")
        return
    channel = route(text)
    number = await writer.insert(channel, requester, text)
    await ack(text=f"Ticket #{number} opened", response_type="ephemeral")
    poster.post(channel, card(number, requester, text))


async def events(request: web.Request) -> web.Response:
    """Slack's endpoint."""
    return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))


async def main() -> None:
    """Serve on a free loopback port and say which."""
    # As the desk's gateway posts: one session of kept-alive connections (made on the running loop), no
    # client-side retries, and a client logger with a level of its own (without one slack_sdk formats every
    # request and response for a debug line nobody reads).
    client_log = logging.getLogger("durable.web_api")
    client_log.setLevel(logging.INFO)
    session = ClientSession(connector=TCPConnector(limit=32), timeout=ClientTimeout(total=5))
    poster.client = AsyncWebClient(
        token=os.environ["BENCH_BOT_TOKEN"],
        base_url=os.environ["SLACK_API_URL"],
        retry_handlers=[],
        session=session,
        logger=client_log,
    )
    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    print(f"durable: listening on http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
