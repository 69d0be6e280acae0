"""How fast a burst of tickets drains into one channel when Slack enforces its rate limits.

Run from the project root:  .venv/bin/python bench/burst.py [--tickets 60] [--timeout SECONDS]

`chatops serve` runs as a subprocess on a fresh SQLite file with tests/desk.yaml. This process sends N signed
`/ticket` commands at once, all routed to one team's channel, and waits until every ticket's card is stored
there. The Slack stand-in, with rate limits on, serves from a thread of this process: the generator is busy
only for the first fraction of a second, while the drain lasts the tens of seconds that one post a second
per channel imposes, so sharing a process does not distort the figures.

The floor is the least time the channel's limit allows for N posts: (N - burst) / rate. Figures are printed,
never asserted. Exit status 0 unless the run broke: the server did not start, a command was not acked with
a ticket, or a card was still missing at the timeout.

The last --urgent commands of the burst open urgent tickets that nobody takes, whose first answer is due
after BREACH seconds (the rules are tests/desk.yaml with that target, and a sweep every second): the team's
lead is told of each breach directly, while the channel still drains. "lead DMs" is how long after the
breach the lead heard of it, and how many cards were still to post in the channel when the first came. Their
call-outs and notes go to the channel too, two posts each beside the card: --urgent 0 drains cards alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import aiohttp

# The sibling benchmark starts the server the same way; run as a script, this folder is on sys.path.
from ack_latency import ACKED_TICKET, CONFIG, SECRET, start_server, stop_servers

from adapters.slack.devkit.rate_limits import POST_MESSAGE_LIMIT
from adapters.slack.devkit.requests import SignedRequest, SlackRequests
from adapters.slack.devkit.standin import RATE_LIMITED, Call, SlackStandIn

CHANNEL = "C0SUPPORT"  # the support team's channel in tests/desk.yaml; "crashes" routes there
LEAD = "U0LEAD"  # the support team's lead in tests/desk.yaml
BREACH = 20  # seconds: the urgent tickets' first-response target here
CARD_KEY = re.compile(r"ticket-(\d+)-card")
REQUEST_TIMEOUT = 10.0
POLL = 0.25


class Ack(NamedTuple):
    """One slash command's answer: HTTP status (or the error's name), the ticket it names, seconds taken."""

    outcome: str
    ticket: int | None
    seconds: float


async def post(session: aiohttp.ClientSession, url: str, request: SignedRequest) -> Ack:
    """POST one signed command and read the ticket number from the answer."""
    sent = time.monotonic()
    try:
        async with session.post(url, data=request.body, headers=request.headers) as response:
            body = (await response.read()).decode("utf-8", errors="replace")
        outcome = "ok" if response.status == 200 else f"HTTP {response.status}"
    except Exception as error:  # noqa: BLE001 - every failure is a counted outcome, not a crash
        return Ack(type(error).__name__, None, time.monotonic() - sent)
    acked = ACKED_TICKET.search(body)
    return Ack(outcome, int(acked.group(1)) if acked else None, time.monotonic() - sent)


async def send_all(url: str, requests: list[SignedRequest]) -> list[Ack]:
    """Send every request at once and wait for all the answers."""
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as session:
        return await asyncio.gather(*(post(session, url, r) for r in requests))


def stored_cards(standin: SlackStandIn) -> dict[int, list[float]]:
    """Ticket number -> the Slack timestamps of its cards stored in the channel (more than one is a dup)."""
    cards: dict[int, list[float]] = {}
    for message in standin.messages(CHANNEL):
        key = ((message.get("metadata") or {}).get("event_payload") or {}).get("key", "")
        # A card under which notes were written is a thread parent: its thread_ts is its own ts.
        if message.get("thread_ts", message["ts"]) == message["ts"] and (
            match := CARD_KEY.fullmatch(str(key))
        ):
            cards.setdefault(int(match.group(1)), []).append(float(message["ts"]))
    return cards


def bench_rules(workdir: Path) -> Path:
    """tests/desk.yaml with urgent tickets answered within BREACH seconds and a sweep every second."""
    rules = CONFIG.read_text()
    urgent = rules.replace("first_response: 15m", f"first_response: {BREACH}s")
    assert urgent != rules, "tests/desk.yaml no longer gives urgent tickets a 15m first response"
    path = workdir / "desk.yaml"
    path.write_text(urgent + "sla: {sweep_seconds: 1}\n")
    return path


def lead_dms(standin: SlackStandIn) -> list[float]:
    """The Slack timestamps of the lead's direct messages."""
    return [float(message["ts"]) for message in standin.messages(LEAD)]


def pending_outbox(db: Path) -> int | None:
    """Outbox rows not done yet, or None if the database cannot tell (WAL lets us read beside the server)."""
    try:
        with contextlib.closing(sqlite3.connect(db, timeout=10)) as connection:
            return connection.execute("SELECT count(*) FROM outbox WHERE done_at IS NULL").fetchone()[0]
    except sqlite3.Error:
        return None


def by_method(counts: Counter[str]) -> str:
    """'N  (method n, ...)', most frequent first."""
    listed = ", ".join(f"{method} {n}" for method, n in counts.most_common())
    return f"{sum(counts.values())}" + (f"  ({listed})" if listed else "")


@dataclass
class Burst:
    """What one burst measured."""

    tickets: int
    urgent: int
    timeout: float
    started: float
    acks: list[Ack]
    cards: dict[int, list[float]]
    leads: list[float]
    calls: list[Call]
    pending: int | None
    stderr: list[str] = field(default_factory=list)

    @property
    def acked(self) -> set[int]:
        """Tickets whose command was answered 200 with the ticket's number."""
        return {a.ticket for a in self.acks if a.outcome == "ok" and a.ticket is not None}

    @property
    def not_acked(self) -> Counter[str]:
        """How the other commands ended, by outcome."""
        # chatops answers a failure with a 200 too (an apology instead of a ticket): that is not an ack.
        return Counter(
            "200 without a ticket" if a.outcome == "ok" else a.outcome
            for a in self.acks
            if a.outcome != "ok" or a.ticket is None
        )

    @property
    def missing(self) -> list[int]:
        """Acked tickets without a card in the channel."""
        return sorted(self.acked - self.cards.keys())


def run(tickets: int, urgent: int, timeout: float) -> Burst:
    """Start a fresh server, send one burst and wait (bounded) for its cards, breaches and outbox."""
    signer = SlackRequests(SECRET)
    # Built and signed up front so that the burst is only sending.
    requests = [
        signer.slash_command(
            f"The export crashes, case {i + 1}" + (", urgent" if i >= tickets - urgent else ""),
            user_id=f"U0USER{i % 50:02d}",
        )
        for i in range(tickets)
    ]
    with SlackStandIn(rate_limits=True) as standin, tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp:
        workdir, db = Path(tmp), Path(tmp) / "chatops.db"
        rules = {"CHATOPS_CONFIG": str(bench_rules(workdir))}
        processes, url = start_server("chatops", workdir, standin.base_url, rules)
        try:
            # One command that posts nothing, so the burst does not pay for the server's first request.
            asyncio.run(send_all(url, [signer.slash_command("help", user_id="U0USER00")]))
            standin.clear()
            # Wall clock, because the cards' Slack timestamps are wall-clock times.
            started = time.time()
            acks = asyncio.run(send_all(url, requests))
            acked = {a.ticket for a in acks if a.outcome == "ok" and a.ticket is not None}
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and not (
                acked <= stored_cards(standin).keys() and len(lead_dms(standin)) >= urgent
            ):
                time.sleep(POLL)
            # The call counts are final only once nothing is left to send.
            while pending_outbox(db) and time.monotonic() < deadline:
                time.sleep(POLL)
            burst = Burst(
                tickets,
                urgent,
                timeout,
                started,
                acks,
                stored_cards(standin),
                lead_dms(standin),
                standin.calls(),
                pending_outbox(db),
            )
        finally:
            stop_servers(processes)
        burst.stderr = (workdir / "chatops.err").read_text(errors="replace").strip().splitlines()
    return burst


def print_report(burst: Burst) -> None:
    """The figures, one per line."""
    firsts = [min(burst.cards[n]) for n in burst.acked if n in burst.cards]
    drain = max(firsts) - burst.started if firsts else float("nan")
    rate, capacity = POST_MESSAGE_LIMIT.per_second, POST_MESSAGE_LIMIT.burst
    floor = max(0, burst.tickets - capacity) / rate
    duplicates = {n: len(ts) for n, ts in sorted(burst.cards.items()) if len(ts) > 1}
    slowest = max(a.seconds for a in burst.acks) * 1000
    acked = f"{len(burst.acked)} acked (slowest ack {slowest:.0f} ms)"
    print(f"tickets           {burst.tickets} sent at once, {acked}")
    if burst.not_acked:
        print(f"                  not acked with a ticket: {dict(burst.not_acked)}")
    if burst.missing:
        print(f"drain             unfinished: {len(firsts)} cards stored, the last {drain:.1f} s in")
    else:
        print(f"drain             {drain:.1f} s  (first command sent -> last card stored in {CHANNEL})")
    if firsts:
        print(f"first card        {min(firsts) - burst.started:.2f} s after the first command")
    print(f"floor             {floor:.1f} s  (({burst.tickets} - burst {capacity}) / {rate:g} a second)")
    if burst.missing or not floor:
        print(f"drain / floor     - ({'unfinished' if burst.missing else 'all within the burst'})")
    else:
        print(f"drain / floor     {drain / floor:.2f}")
    print(f"429s from Slack   {by_method(Counter(c.method for c in burst.calls if c.fault == RATE_LIMITED))}")
    print(f"Web API calls     {by_method(Counter(c.method for c in burst.calls))}")
    stored = len(burst.acked) - len(burst.missing)
    extra = sum(duplicates.values()) - len(duplicates)
    print(
        f"cards             {stored} of {len(burst.acked)} stored; "
        + (f"{extra} duplicate(s), copies per ticket: {duplicates}" if duplicates else "each exactly once")
    )
    if burst.missing:
        print(f"                  MISSING after {burst.timeout:.0f} s: tickets {burst.missing}")
    print_leads(burst, firsts)
    print(
        f"outbox            {'unknown' if burst.pending is None else burst.pending} rows not done at the end"
    )
    if burst.not_acked or burst.missing:
        for line in burst.stderr[-15:]:
            print(f"  server stderr: {line}")


def print_leads(burst: Burst, firsts: list[float]) -> None:
    """How soon the lead heard of the urgent tickets' breaches, with the channel still busy."""
    if not burst.urgent:
        return
    # The tickets were opened as the burst was sent: their first answers were due BREACH seconds later.
    delays = sorted(ts - burst.started - BREACH for ts in burst.leads)
    told = f"{len(delays)} of {burst.urgent}"
    if not delays:
        print(f"lead DMs          {told}: the lead heard of no breach")
        return
    behind = sum(1 for first in firsts if first > delays[0] + burst.started + BREACH)
    print(
        f"lead DMs          {told}, {statistics.median(delays):.1f} s (median) / {delays[-1]:.1f} s (max) "
        f"after the breach; {behind} cards still to post in {CHANNEL} at the first"
    )


def main() -> int:
    """Parse options, run one burst, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=60, help="slash commands sent at once")
    parser.add_argument(
        "--urgent", type=int, default=5, help=f"of them, urgent tickets due in {BREACH} s (0: none)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds to wait for the cards (default: tickets x 3 + 60)",
    )
    args = parser.parse_args()
    if args.tickets < 1:
        parser.error("--tickets must be at least 1")
    if not 0 <= args.urgent <= args.tickets:
        parser.error("--urgent must be between 0 and --tickets")
    timeout = args.timeout if args.timeout is not None else args.tickets * 3 + 60
    burst = run(args.tickets, args.urgent, timeout)
    print_report(burst)
    return 1 if burst.not_acked or burst.missing else 0


if __name__ == "__main__":
    sys.exit(main())
