"""Ack latency, throughput, server CPU and peak RSS of `chatops serve` beside two anchors, open loop.

Run from the project root:  .venv/bin/python bench/ack_latency.py [--quick] [--stages 200x10,1000x10]
    [--channels 50] [--systems bare,durable,chatops,split]
Add --teams for the Teams leg (personal-chat messages to /api/messages, bench/teams_ack.py), or --teams-only.

Two anchors run in the same run, on the same stages. The bare Bolt app (bench/bare_app.py) only acks: it
commits nothing. The minimal durable desk (bench/durable_app.py) is the fairer floor for an ack that must be
durable: a Bolt app served the same way that commits one row to SQLite with the desk's settings (WAL,
synchronous=FULL, BEGIN IMMEDIATE, one writer thread, group commit) before it acks, then posts one card per
ticket at Slack's per-channel pace from memory. chatops is held to at most 2x the durable desk in server CPU
per ticket (cards included) and in p99 at the first stage (200/s); the bare-app comparison stays beside it.

The stage's tickets spread over --channels Slack channels (default 50), so that Slack's pace in one channel
does not hide what cards cost: for chatops, rules written from tests/desk.yaml's shape with a team per
channel and a category keyword per team (`zone007`), the stage's texts naming the keywords in turn; the
durable anchor routes the same keywords to the same channels. --channels 1 keeps the test desk's rules as
they are (every stage card in C0SUPPORT).

Three processes, so that nothing shares a GIL with the server under test: the Slack stand-in (a spawned
child that enforces Slack's rate limits), the server (a subprocess) and the load generator (this process).

Every stage runs on a server of its own: a fresh `chatops serve` on a fresh SQLite file, and fresh anchors
likewise, stopped once the stage's cards are posted (or not waited for, below). One stage's backlog, memory
and caches therefore never weigh on the next, and each stage's peak RSS is its own. Each server is warmed up
first with commands that leave no card in the stage's channels: a few tickets, no more than a channel's
burst, in a channel the stage does not post to, and read-only commands for the rest.

Acked means durable, and that is what is checked, not that cards went out. The outbox posts cards at
Slack's pace, chat.postMessage about one a second per channel, so a stage leaves cards queued; bench/burst.py
measures a long drain. Once the server has stopped, every acked ticket must be in the database with its
card either posted or queued in the outbox (its `post_card` row not done yet), which a restarted server
would carry out. The durable anchor's acked tickets must be in its database; its queued cards are in memory.

Server CPU per ticket is the server process's own CPU time (user + system, every thread, read from
/proc/PID/stat) over the tickets acked in the stage (for the bare app, the requests acked), in two windows:
- to the last ack: from just before the stage's first request to its last answer. For chatops that is
  everything its one process did meanwhile: the intake, the database writer thread's commits, and the
  outbox dispatcher, claiming and putting off rows and posting the cards Slack's pace let out during the
  stage; for the durable anchor, its commits and the cards it posted meanwhile. Both post at the same pace
  in the same channels, so about the same cards fall in the window (the report gives each one's count);
  the cards still queued at the end are not in it.
- to the stage's last card (chosen as the fair full cost): from the same start until the stand-in has
  accepted the card of every ticket acked in the stage, so that every card's posting (and, for chatops,
  every claim, put-off and record the wait took) is counted for both. With 50 channels at 200/s x 10 s
  that is 40 cards a channel, ~37 s from the start at one a second; a stage whose busiest channel would
  need longer than --drain seconds past its end (one channel, or the faster stages) is not waited for and
  shows only the first window.

To see where the time goes, profile the server during a stage with py-spy (`py-spy record --idle --threads
--pid PID`).

Figures are printed, never asserted: the machine is shared and noisy. Exit status 0 unless the run broke.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
import yaml

from adapters.slack.devkit.rate_limits import POST_MESSAGE_LIMIT
from adapters.slack.devkit.requests import SignedRequest, SlackRequests
from adapters.slack.devkit.standin import RATE_LIMITED, SlackStandIn
from chatops.tickets.outbound import POST_CARD

CONFIG = Path(__file__).resolve().parents[1] / "tests" / "desk.yaml"
SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
CARD_KEY = re.compile(r"ticket-(\d+)-card")
ACKED_TICKET = re.compile(r"Ticket #(\d+) opened")
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")
REQUEST_TIMEOUT = 10.0
START_TIMEOUT = 30.0
WARMUP_RATE = 200
# Stage tickets ("crashes") belong to the support team; warm-up tickets ("invoice") to billing, whose
# channel the stage never posts to, so they use none of the stage channel's burst.
STAGE_TEXT = "Export crashes, case {}"
WARMUP_TEXT = "Refund for invoice, warm-up {}"
# Spread over N channels, each stage ticket names one zone in turn: a category of its own whose team posts
# in a channel of its own. No other category's keyword is in the text, so the zone decides alone.
SPREAD_TEXT = "Export stalls in zone{zone:03d}, case {i}"
SUPPORT_CHANNEL, WARMUP_CHANNEL = "C0SUPPORT", "C0BILLING"
WARMUP_READ = "list"
WARMUP_SETTLE = 15.0
# Enough sockets for seconds of backlog at 1,500/s; past that, requests queue in the client, which still
# counts against the server because latency runs from the scheduled send time.
CONNECTIONS = 2000

BARE_APP = Path(__file__).with_name("bare_app.py")
DURABLE_APP = Path(__file__).with_name("durable_app.py")
ANCHORS = ("bare", "durable")
# How often the stand-in is asked whether the stage's cards are all posted.
DRAIN_POLL = 0.25


@dataclass(frozen=True)
class Stage:
    """One open-loop load step: a fixed rate for a fixed time."""

    rate: int
    seconds: float

    @property
    def count(self) -> int:
        """Requests scheduled in this stage."""
        return max(1, round(self.rate * self.seconds))


@dataclass(frozen=True)
class Layout:
    """Where the stage's cards go: the desk's rules, the stage's channels, and the anchor's routes."""

    config: Path
    channels: tuple[str, ...]
    # keyword -> channel: how the durable anchor routes a request, as the rules route it for chatops.
    routes: dict[str, str]

    def stage_texts(self, count: int) -> list[str]:
        """The stage's requests, naming each channel's keyword in turn so that tickets spread evenly."""
        if len(self.channels) == 1:
            return [STAGE_TEXT.format(i) for i in range(count)]
        return [SPREAD_TEXT.format(zone=i % len(self.channels), i=i) for i in range(count)]

    def env(self, system: str) -> dict[str, str]:
        """What a server of this system is told of the layout."""
        if system == "durable":
            routes = ",".join(f"{keyword}={channel}" for keyword, channel in self.routes.items())
            return {"BENCH_ROUTES": routes, "BENCH_DEFAULT_CHANNEL": self.channels[0]}
        return {"CHATOPS_CONFIG": str(self.config)}

    def drain_estimate(self, count: int) -> float:
        """Seconds from the stage's start until Slack's pace lets its busiest channel's last card out."""
        busiest = -(-count // len(self.channels))
        return max(0, busiest - POST_MESSAGE_LIMIT.burst) / POST_MESSAGE_LIMIT.per_second


def layout(channels: int, folder: Path) -> Layout:
    """One channel: the test desk's rules as they are. More: a team, channel and category per zone (rules
    written to `folder`), with billing kept for the warm-up, which posts in a channel of its own."""
    if channels == 1:
        routes = {"crashes": SUPPORT_CHANNEL, "invoice": WARMUP_CHANNEL}
        return Layout(CONFIG, (SUPPORT_CHANNEL,), routes)
    rules = yaml.safe_load(CONFIG.read_text())
    model = next(team for team in rules["teams"] if team["id"] == "support")
    billing = next(team for team in rules["teams"] if team["id"] == "billing")
    zones = [f"zone{k:03d}" for k in range(channels)]
    places = tuple(f"C0BENCH{k:03d}" for k in range(channels))
    rules["teams"] = [
        {**model, "id": zone, "name": f"Zone {k}", "slack_channel": place}
        for k, (zone, place) in enumerate(zip(zones, places, strict=True))
    ] + [billing]
    rules["default_team"] = zones[0]
    zoned = [{"id": zone, "keywords": [zone], "team": zone} for zone in zones]
    rules["categories"] = zoned + rules["categories"]
    config = folder / f"desk-{channels}-channels.yaml"
    config.write_text(yaml.safe_dump(rules, sort_keys=False))
    return Layout(config, places, {**dict(zip(zones, places, strict=True)), "invoice": WARMUP_CHANNEL})


class Sample(NamedTuple):
    """One request: latency from its scheduled time, how late it left, outcome, acked ticket, answer time."""

    latency: float
    lag: float
    outcome: str
    ticket: int | None
    done: float


class Ledger(NamedTuple):
    """What the database holds of a stage once its server has stopped."""

    teams: dict[int, str]  # the stage's tickets (acked or not), each with its owning team
    cards: dict[int, str]  # ticket -> its post_card row: "queued", "done" or "failed"
    pending_rows: int  # outbox rows of any kind not done


@dataclass
class StageResult:
    """What one stage measured, on a server of its own."""

    stage: Stage
    latencies: list[float]
    lags: list[float]
    outcomes: Counter[str]
    tickets: set[int]
    ack_span: float
    peak_rss_mb: float = 0.0
    # Server CPU seconds (user + system) over the stage: all threads, and the main (event loop) thread.
    cpu_seconds: float = float("nan")
    cpu_main_seconds: float = float("nan")
    # Server CPU seconds from the same start until the stage's last card was posted, and when that was
    # (seconds after the first scheduled send); NaN when the cards were not waited for, or not all posted.
    drained_cpu_seconds: float = float("nan")
    drained_after: float = float("nan")
    stopped_cleanly: bool = True
    warmup_left: int = 0
    stderr_tail: list[str] = field(default_factory=list)
    # chatops only, from the database and the stand-in once the server has stopped.
    ledger: Ledger | None = None
    posted_in_stage: int = 0
    posted_by_stop: int = 0
    lost: list[int] = field(default_factory=list)
    duplicates: int = 0
    rate_limited: int = 0
    # Acked, but no ticket in the database names the request (the Teams leg, whose acks carry no number).
    unrecorded: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def tickets_per_second(self) -> float:
        """Acked tickets over the stage's span."""
        return len(self.tickets) / self.ack_span

    @property
    def cpu_ms_per_ticket(self) -> float:
        """Server CPU over the stage per ticket acked (per request acked, for the bare app)."""
        acked = len(self.tickets) if self.ledger is not None else self.outcomes["ok"]
        return self.cpu_seconds * 1000 / acked if acked else float("nan")

    @property
    def cpu_ms_per_ticket_drained(self) -> float:
        """Server CPU until the stage's last card was posted, per ticket acked."""
        return self.drained_cpu_seconds * 1000 / len(self.tickets) if self.tickets else float("nan")

    @property
    def complete(self) -> bool:
        """Every request acked with a ticket, and every acked ticket durable: only then does a stage count."""
        return not self.lost and not self.unrecorded and self.outcomes["ok"] == self.stage.count

    @property
    def backlog(self) -> Counter[str]:
        """The stage's cards still queued in the outbox at the stop, by owning team (one channel each)."""
        if self.ledger is None:
            return Counter()
        return Counter(
            team for ticket, team in self.ledger.teams.items() if self.ledger.cards.get(ticket) == "queued"
        )


@dataclass
class RunResult:
    """One system's stages."""

    system: str
    stages: list[StageResult] = field(default_factory=list)

    @property
    def peak_rss_mb(self) -> float:
        """The highest peak RSS of any stage's server."""
        return max((r.peak_rss_mb for r in self.stages), default=float("nan"))


def standin_main(conn: Connection) -> None:
    """Serve the Slack stand-in in this child process and answer card queries over the pipe."""
    with SlackStandIn(rate_limits=True) as standin:
        conn.send(standin.base_url)
        while (request := conn.recv()) != "stop":
            if request == "clear":
                standin.clear()
                conn.send(None)
            elif isinstance(request, tuple) and request[0] == "posted":
                conn.send(card_posts(standin, request[1]))
            else:
                conn.send(card_report(standin))


def card_calls(standin: SlackStandIn) -> list[tuple[int, str, float]]:
    """Accepted ticket card posts, in any channel, as (ticket, channel, time)."""
    posts = []
    for call in standin.calls():
        if call.method != "chat.postMessage" or call.fault is not None:
            continue
        key = ((call.params.get("metadata") or {}).get("event_payload") or {}).get("key", "")
        if match := CARD_KEY.fullmatch(str(key)):
            # CLOCK_MONOTONIC is system-wide on Linux: comparable with the generator's times.
            posts.append((int(match.group(1)), str(call.params.get("channel")), call.at))
    return posts


def card_posts(standin: SlackStandIn, after: int) -> dict[int, float]:
    """When each ticket numbered above `after` first had its card accepted."""
    first: dict[int, float] = {}
    for ticket, _, at in card_calls(standin):
        if ticket > after and ticket not in first:
            first[ticket] = at
    return first


def card_report(standin: SlackStandIn) -> dict[str, Any]:
    """Accepted card posts as (ticket, time), cards stored per ticket, and how many calls got a 429."""
    calls = card_calls(standin)
    posts = [(ticket, at) for ticket, _, at in calls]
    rate_limited = sum(1 for call in standin.calls() if call.fault == RATE_LIMITED)
    stored: Counter[int] = Counter()
    for channel in sorted({channel for _, channel, _ in calls}):
        for message in standin.messages(channel):
            key = ((message.get("metadata") or {}).get("event_payload") or {}).get("key", "")
            if "thread_ts" not in message and (match := CARD_KEY.fullmatch(str(key))):
                stored[int(match.group(1))] += 1
    return {"posts": posts, "stored": stored, "rate_limited": rate_limited}


class StandIn:
    """A stand-in child process, seen from the benchmark: its first word on starting, then requests."""

    def __init__(
        self, target: Callable[[Connection], None] = standin_main, name: str = "slack-standin"
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self.name = name
        self.conn, child = context.Pipe()
        self.process = context.Process(target=target, args=(child,), daemon=True, name=name)
        self.process.start()
        if not self.conn.poll(START_TIMEOUT):
            raise RuntimeError(f"the {name} child did not start")
        self.hello: Any = self.conn.recv()

    @property
    def base_url(self) -> str:
        """Where the Slack stand-in serves (its first word on starting)."""
        return self.hello

    def ask(self, request: Any) -> Any:
        """Send one request to the child and wait (bounded) for its answer."""
        self.conn.send(request)
        if not self.conn.poll(60):
            raise RuntimeError(f"the {self.name} child did not answer {str(request)[:80]!r}")
        return self.conn.recv()

    def close(self) -> None:
        """Stop the child, killing it if it does not leave."""
        if self.process.is_alive():
            with contextlib.suppress(OSError):
                self.conn.send("stop")
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


def start_server(
    system: str, workdir: Path, slack_url: str, extra_env: dict[str, str] | None = None
) -> tuple[list[subprocess.Popen[bytes]], str]:
    """Start chatops (or the bare app) on 127.0.0.1:0; return its processes and events URL once it listens.

    `split` is `chatops serve --no-dispatch` taking requests and a `chatops worker` posting the cards;
    `teams` is `chatops serve` with the Teams settings in `extra_env` as well; `durable` is the durable
    anchor (bench/durable_app.py) on `durable.db`, routing as `extra_env` says.
    """
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack_url,
        "SLACK_TIMEOUT": "5",
        "DATABASE_URL": f"sqlite:///{workdir / 'chatops.db'}",
        "CHATOPS_CONFIG": str(CONFIG),
        **(extra_env or {}),
    }
    serve = [sys.executable, *"-m chatops serve --host 127.0.0.1 --port 0 --log-level WARNING".split()]
    if system in ("chatops", "teams"):
        command = serve
    elif system == "split":
        command = [*serve, "--no-dispatch"]
    else:
        env["BENCH_BOT_TOKEN"] = env.pop("SLACK_BOT_TOKEN")
        env["BENCH_DB"] = str(workdir / "durable.db")
        command = [sys.executable, str(DURABLE_APP if system == "durable" else BARE_APP)]
    out, err = workdir / f"{system}.out", workdir / f"{system}.err"
    # Files, not pipes: nobody reads them while the load runs, and a full pipe would stall the server.
    with out.open("wb") as stdout, err.open("wb") as stderr:
        processes = [subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env, cwd=workdir)]
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and processes[0].poll() is None:
        if match := LISTENING.search(out.read_text(errors="replace")):
            if system == "split":
                # Started once serve has created the schema, so that the two do not both try.
                worker = [sys.executable, *"-m chatops worker --log-level WARNING".split()]
                with (workdir / "worker.err").open("wb") as stderr:
                    processes.append(
                        subprocess.Popen(
                            worker, stdout=subprocess.DEVNULL, stderr=stderr, env=env, cwd=workdir
                        )
                    )
            return processes, f"http://127.0.0.1:{match.group(1)}/slack/events"
        time.sleep(0.05)
    stop_servers(processes)
    raise RuntimeError(
        f"{system} did not start listening; stderr:\n{err.read_text(errors='replace')[-2000:]}"
    )


def stop_servers(processes: list[subprocess.Popen[bytes]]) -> bool:
    """Stop every process of a system; False if one had to be killed."""
    return all([stop_server(process) for process in processes])


def stop_server(process: subprocess.Popen[bytes]) -> bool:
    """SIGTERM (chatops drains its dispatcher on it), then SIGKILL if it lingers; False if it was killed."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
            return False
    return True


def cpu_seconds(pid: int) -> tuple[float, float]:
    """The process's CPU time so far (user + system, all threads), and its main thread's, in seconds."""

    def ticks(stat: Path) -> int:
        # Fields after the command name, which is in parentheses and may hold spaces: utime, stime are
        # fields 14 and 15 of proc(5).
        fields = stat.read_text().rpartition(")")[2].split()
        return int(fields[11]) + int(fields[12])

    per_second = os.sysconf("SC_CLK_TCK")
    proc = Path(f"/proc/{pid}")
    return ticks(proc / "stat") / per_second, ticks(proc / "task" / str(pid) / "stat") / per_second


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def send(
    session: aiohttp.ClientSession, url: str, request: SignedRequest, due: float, accepted: int = 200
) -> Sample:
    """POST one request; an `accepted` status is "ok", with the ticket number if the answer names one."""
    lag = time.monotonic() - due
    ticket = None
    try:
        async with session.post(url, data=request.body, headers=request.headers) as response:
            body = await response.read()
        outcome = "ok" if response.status == accepted else f"HTTP {response.status}"
        if acked := ACKED_TICKET.search(body.decode("utf-8", errors="replace")):
            ticket = int(acked.group(1))
    except Exception as error:  # noqa: BLE001 - every failure is a counted outcome, not a crash
        outcome = type(error).__name__
    done = time.monotonic()
    return Sample(done - due, lag, outcome, ticket, done)


async def drive(
    url: str, requests: list[SignedRequest], rate: float, accepted: int = 200
) -> tuple[list[Sample], float]:
    """Send request i at t0 + i/rate whatever became of earlier ones; returns samples in order, and t0."""
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        t0 = time.monotonic() + 0.05
        tasks = []
        for i, request in enumerate(requests):
            due = t0 + i / rate
            if (delay := due - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(session, url, request, due, accepted)))
        done, pending = await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT + 5)
        for task in pending:
            task.cancel()
    now = time.monotonic()
    unfinished = Sample(now - t0, 0.0, "unfinished", None, now)
    return [task.result() if task in done else unfinished for task in tasks], t0


def outbox_state(path: Path) -> tuple[int, int]:
    """The highest ticket id, and outbox rows not done (WAL lets us read beside the running server)."""
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as db:
        last = db.execute("SELECT coalesce(max(id), 0) FROM tickets").fetchone()[0]
        return last, db.execute("SELECT count(*) FROM outbox WHERE done_at IS NULL").fetchone()[0]


def read_ledger(path: Path, after: int) -> Ledger:
    """The tickets numbered above `after`, the state of their card rows, and the outbox rows not done."""
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as db:
        teams = dict(db.execute("SELECT id, team FROM tickets WHERE id > ?", (after,)).fetchall())
        cards: dict[int, str] = {}
        rows = db.execute(
            "SELECT ticket_id, done_at IS NULL, failed FROM outbox WHERE kind = ? AND ticket_id > ?",
            (POST_CARD, after),
        )
        for ticket, queued, failed in rows:
            state = "queued" if queued else "failed" if failed else "done"
            # A second card row for one ticket would be a bug; the one still queued is what a restart sends.
            if cards.get(ticket) != "queued":
                cards[ticket] = state
        pending = db.execute("SELECT count(*) FROM outbox WHERE done_at IS NULL").fetchone()[0]
    return Ledger(teams, cards, pending)


def signed(texts: list[str]) -> list[SignedRequest]:
    """Slash commands from fifty users, signed up front so that signing costs the generator nothing."""
    signer = SlackRequests(SECRET)
    return [signer.slash_command(text, user_id=f"U0USER{i % 50:02d}") for i, text in enumerate(texts)]


def warm_up(url: str, count: int, db: Path | None) -> int:
    """Send `count` warm-up commands; for chatops, wait (bounded) until the outbox is empty again.

    Returns the outbox rows the warm-up still left behind, which the report shows.
    """
    if count <= 0:
        return 0
    tickets = min(count, POST_MESSAGE_LIMIT.burst)
    texts = [WARMUP_TEXT.format(i) for i in range(tickets)] + [WARMUP_READ] * (count - tickets)
    asyncio.run(drive(url, signed(texts), WARMUP_RATE))
    if db is None:
        return 0
    deadline = time.monotonic() + WARMUP_SETTLE
    while (left := outbox_state(db)[1]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def measured(
    stage: Stage,
    samples: list[Sample],
    t0: float,
    rss: float,
    cpu: tuple[list[tuple[float, float]], list[tuple[float, float]]],
    clean: bool,
    warmup_left: int,
    stderr_tail: list[str],
) -> StageResult:
    """A stage's figures from its samples and the server's CPU readings before and after it."""
    cpu_before, cpu_after = cpu
    ok = [s for s in samples if s.outcome == "ok"]
    last_ack = max((s.done for s in ok), default=t0)
    return StageResult(
        stage,
        sorted(s.latency for s in samples),
        sorted(s.lag for s in samples),
        Counter(s.outcome for s in samples),
        {s.ticket for s in ok if s.ticket is not None},
        ack_span=max(stage.count / stage.rate, last_ack - t0),
        peak_rss_mb=rss,
        cpu_seconds=sum(after[0] - before[0] for before, after in zip(cpu_before, cpu_after, strict=True)),
        cpu_main_seconds=cpu_after[0][1] - cpu_before[0][1],
        stopped_cleanly=clean,
        warmup_left=warmup_left,
        stderr_tail=stderr_tail,
    )


def run_stage(
    system: str, standin: StandIn, stage: Stage, warmup: int, spread: Layout, drain_limit: float
) -> StageResult:
    """A fresh server, warmed up, runs one stage, then (bounded) posts the stage's cards, and stops; for
    chatops and the durable anchor, check what the acks promised."""
    requests = signed(spread.stage_texts(stage.count))
    with tempfile.TemporaryDirectory(prefix=f"bench-{system}-") as tmp:
        workdir = Path(tmp)
        processes, url = start_server(system, workdir, standin.base_url, spread.env(system))
        db = workdir / "chatops.db" if system not in ANCHORS else None
        anchor_db = workdir / "durable.db" if system == "durable" else None
        drained: tuple[list[tuple[float, float]], float] | str | None = None
        try:
            warmup_left = warm_up(url, warmup, db)
            if anchor_db is not None:
                before = last_ticket(anchor_db)
                # The anchor's warm-up cards go out at once (the channel's burst), but out of the stage's CPU.
                await_cards(standin, set(range(1, before + 1)), 0, time.monotonic() + WARMUP_SETTLE)
            else:
                before = outbox_state(db)[0] if db is not None else 0
            standin.ask("clear")
            cpu_before = [cpu_seconds(p.pid) for p in processes]
            samples, t0 = asyncio.run(drive(url, requests, stage.rate))
            cpu_after = [cpu_seconds(p.pid) for p in processes]
            if system != "bare":
                drained = drain(standin, spread, stage, samples, before, processes, drain_limit)
            rss = max(peak_rss_mb(p.pid) for p in processes)
        finally:
            clean = stop_servers(processes)
        stderr_tail = (workdir / f"{system}.err").read_text(errors="replace").strip().splitlines()[-15:]
        # Read once the server is gone: nothing moves any more, and only what was committed counts.
        ledger = read_ledger(db, before) if db is not None else None
        if anchor_db is not None:
            ledger = anchor_ledger(anchor_db, before, standin)
    if db is not None:
        samples = tickets_only(samples)
    result = measured(stage, samples, t0, rss, (cpu_before, cpu_after), clean, warmup_left, stderr_tail)
    if isinstance(drained, str):
        result.notes.append(drained)
    elif drained is not None:
        cpu_drained, last_card = drained
        result.drained_cpu_seconds = sum(
            after[0] - before[0] for before, after in zip(cpu_before, cpu_drained, strict=True)
        )
        result.drained_after = last_card - t0
    if ledger is not None:
        check_cards(result, ledger, standin, t0)
    standin.ask("clear")
    return result


def drain(
    standin: StandIn,
    spread: Layout,
    stage: Stage,
    samples: list[Sample],
    after: int,
    processes: list[subprocess.Popen[bytes]],
    limit: float,
) -> tuple[list[tuple[float, float]], float] | str:
    """Wait (at most `limit` s) until every acked ticket of the stage has its card posted; then the servers'
    CPU readings and when the last card went out, or why the cards were not waited for.

    Not waited for at all when Slack's pace alone would need longer than `limit` past the stage's end.
    """
    acked = {s.ticket for s in samples if s.outcome == "ok" and s.ticket is not None}
    needed = spread.drain_estimate(stage.count) - stage.seconds
    if needed > limit:
        return (
            f"its cards were not waited for: Slack's pace needs ~{drain_time(needed)} past the stage "
            f"in the busiest of {len(spread.channels)} channel(s), beyond --drain {limit:g} s"
        )
    last = await_cards(standin, acked, after, time.monotonic() + limit)
    if isinstance(last, int):
        return f"{last} of its {len(acked)} cards still not posted {limit:g} s after the stage"
    return [cpu_seconds(p.pid) for p in processes], last


def await_cards(standin: StandIn, tickets: set[int], after: int, deadline: float) -> float | int:
    """Wait until each ticket's card is posted: when the last went out, or how many are missing at the
    deadline."""
    while True:
        posted: dict[int, float] = standin.ask(("posted", after))
        missing = tickets - posted.keys()
        if not missing:
            return max((posted[t] for t in tickets), default=time.monotonic())
        if time.monotonic() >= deadline:
            return len(missing)
        time.sleep(DRAIN_POLL)


def last_ticket(path: Path) -> int:
    """The durable anchor's highest ticket number so far."""
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as db:
        return db.execute("SELECT coalesce(max(id), 0) FROM tickets").fetchone()[0]


def anchor_ledger(path: Path, after: int, standin: StandIn) -> Ledger:
    """The durable anchor's tickets above `after` by channel; a card is done once the stand-in holds it,
    else it was queued in the anchor's memory (and went with it at the stop)."""
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as db:
        channels = dict(db.execute("SELECT id, channel FROM tickets WHERE id > ?", (after,)).fetchall())
    stored: Counter[int] = standin.ask("report")["stored"]
    return Ledger(channels, {t: "done" if t in stored else "queued" for t in channels}, 0)


def tickets_only(samples: list[Sample]) -> list[Sample]:
    """chatops acks a failure with a 200 too (an apology instead of a ticket): that is not an ack."""
    return [
        s._replace(outcome="200 without a ticket") if s.ticket is None and s.outcome == "ok" else s
        for s in samples
    ]


def check_cards(result: StageResult, ledger: Ledger, standin: StandIn, t0: float) -> None:
    """Fill in where the stage's cards stood, and which acked tickets are neither posted nor queued."""
    report = standin.ask("report")
    stored: Counter[int] = report["stored"]
    stage_end = t0 + result.ack_span
    result.ledger = ledger
    in_stage = {t for t, at in report["posts"] if t in ledger.teams and at <= stage_end}
    result.posted_in_stage = len(in_stage)
    result.posted_by_stop = sum(1 for t in ledger.teams if t in stored)
    result.lost = sorted(
        t
        for t in result.tickets
        if t not in ledger.teams or not (t in stored or ledger.cards.get(t) == "queued")
    )
    result.duplicates = sum(n - 1 for t, n in stored.items() if t in ledger.teams and n > 1)
    result.rate_limited = report["rate_limited"]


def ms(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of sorted seconds, in ms."""
    return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")


def drain_time(seconds: float) -> str:
    """A drain estimate in the unit a reader takes in at a glance."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def print_table(runs: list[RunResult]) -> None:
    """One row per system and stage, then each stage's cards, errors and server stderr."""
    header = (
        "system   rate/s   sent     ok   err   p50 ms   p99 ms   max ms  lag99ms  acks/s tickets/s  "
        f"{'durable':<16} posted backlog CPU ms/t RSS MB"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for run in runs:
        for r in run.stages:
            ok = r.outcomes["ok"]
            tickets, durable, posted, backlog = "-", "-", "-", "-"
            if r.ledger is not None:
                tickets = f"{r.tickets_per_second:.0f}"
                acked, lost = len(r.tickets) + r.unrecorded, len(r.lost) + r.unrecorded
                durable = f"LOST {lost} of {acked}" if lost else f"all {acked}"
                posted, backlog = str(r.posted_in_stage), str(r.backlog.total())
            print(
                f"{run.system:8} {r.stage.rate:6} {r.stage.count:6} {ok:6} {r.stage.count - ok:5} "
                f"{ms(r.latencies, 0.5):8.2f} {ms(r.latencies, 0.99):8.2f} {ms(r.latencies, 1):8.1f} "
                f"{ms(r.lags, 0.99):8.2f} {ok / r.ack_span:7.0f} {tickets:>9}  {durable:<16} {posted:>6} "
                f"{backlog:>7} {r.cpu_ms_per_ticket:8.3f} {r.peak_rss_mb:6.0f}"
            )
    print()
    for run in runs:
        for r in run.stages:
            where = f"  {run.system} at {r.stage.rate}/s:"
            if bad := {k: v for k, v in r.outcomes.items() if k != "ok"}:
                print(f"{where} not ok: {bad}")
            print(
                f"{where} server CPU {r.cpu_seconds:.2f} s over the stage (main thread "
                f"{r.cpu_main_seconds:.2f} s, other threads {r.cpu_seconds - r.cpu_main_seconds:.2f} s)"
            )
            if r.ledger is not None:
                print_cards(where, r, r.ledger, anchor=run.system == "durable")
            if r.drained_cpu_seconds == r.drained_cpu_seconds:
                print(
                    f"{where} the stage's last card went out {r.drained_after:.1f} s after its first "
                    f"request; server CPU until then {r.drained_cpu_seconds:.2f} s"
                )
            if r.unrecorded:
                print(f"{where} LOST: {r.unrecorded} acked request(s) with no ticket in the database")
            for note in r.notes:
                print(f"{where} {note}")
            if r.warmup_left:
                print(f"{where} the warm-up left {r.warmup_left} outbox rows behind")
            if not r.stopped_cleanly:
                print(f"{where} the server did not stop on SIGTERM within 15 s and was killed")
            for line in r.stderr_tail:
                print(f"{where} stderr: {line}")
    per_second, burst = POST_MESSAGE_LIMIT.per_second, POST_MESSAGE_LIMIT.burst
    print(
        "\nlatency runs from each request's scheduled send time (open loop); lag99 = p99 of how late the "
        "generator sent;\nacks/s, tickets/s = acked / max(stage length, first scheduled -> last ack); "
        "each stage on a fresh server (chatops on a fresh SQLite file);\ndurable = every acked ticket in "
        "the database with its card posted or queued in the outbox, read once the server had stopped;\n"
        "posted = cards posted from the first scheduled send to the last ack; backlog = the stage's cards "
        "still queued at the stop.\nCards drain at Slack's pace, chat.postMessage about "
        f"{per_second:g} a second per channel (burst {burst}), so a stage leaves nearly all its cards "
        "queued;\nbench/burst.py measures the drain.\n"
        "CPU ms/t = the server process's CPU time (user + system, all threads, /proc/PID/stat) from just "
        "before the first request to the last answer,\nover the tickets acked (bare: requests acked). For "
        "chatops it includes all the process did meanwhile: intake, the writer thread's commits,\nand the "
        "outbox dispatcher in the same process (its claims, put-offs and records, and the cards posted "
        "during the stage);\nthe posting of the cards still queued at the end comes later and is not "
        "included.\n"
        "durable = the minimal durable desk (bench/durable_app.py): for it, durable = every acked "
        "ticket's row in its database; its cards wait\nin memory (queued = still there at the stop, and "
        "lost with it). "
        "Both it and chatops spread the stage's tickets over the same channels.\n"
        "teams rows: personal-chat messages to /api/messages, each with a channel token of its own; "
        "ok = 202; their tickets are found\nby activity id in the database; their cards go to the desk's "
        "Slack channels like the others (see bench/teams_ack.py)."
    )


def print_cards(where: str, r: StageResult, ledger: Ledger, *, anchor: bool = False) -> None:
    """Where the stage's tickets and cards stood when its server stopped (`anchor`: the durable anchor's
    cards wait in its memory, not in an outbox)."""
    unacked = len(ledger.teams) - len(r.tickets & ledger.teams.keys())
    print(
        f"{where} {len(ledger.teams)} tickets in the database, {len(r.tickets)} acked"
        + (f" ({unacked} committed but not acked in time)" if unacked else "")
    )
    failed = sum(1 for t in ledger.teams if ledger.cards.get(t) == "failed")
    copies = f"{r.duplicates} duplicate card(s)" if r.duplicates else "each card posted once"
    queued = "held in memory, lost at the stop" if anchor else "queued"
    pending = "" if anchor else f"; outbox rows not done: {ledger.pending_rows}"
    print(
        f"{where} cards posted {r.posted_in_stage} during the stage, {r.posted_by_stop} by the stop; "
        f"{r.backlog.total()} {queued}; {copies}"
        + (f"; {failed} failed for good" if failed else "")
        + f"; 429s from Slack: {r.rate_limited}{pending}"
    )
    if r.backlog:
        # Each team has a channel of its own, and each channel drains at its own pace.
        busiest = max(r.backlog.values()) / POST_MESSAGE_LIMIT.per_second
        teams = ", ".join(f"{team} {n}" for team, n in r.backlog.most_common())
        print(f"{where} the backlog ({teams}) would take ~{drain_time(busiest)} to drain at Slack's pace")
    if r.lost:
        print(f"{where} LOST: acked, but neither posted nor queued: tickets {r.lost[:20]}")


def print_targets(runs: list[RunResult]) -> None:
    """Each stage beside the anchors, then for each chatops layout run its ratios and targets."""
    bare = next((run for run in runs if run.system == "bare"), None)
    durable = next((run for run in runs if run.system == "durable"), None)
    print_beside_anchors(runs)
    for run in runs:
        if run.system not in (*ANCHORS, "teams") and run.stages:
            print_system_targets(run, bare, durable)


def versus(value: float, anchor: StageResult | None, figure: Callable[[StageResult], float]) -> str:
    """`value` as a multiple of the anchor stage's figure, for a table cell ("" without an anchor)."""
    if anchor is None:
        return ""
    base = figure(anchor)
    return f"x{value / base:.2f}" if base and value == value and base == base else "-"


def print_beside_anchors(runs: list[RunResult]) -> None:
    """Every system's p99 and CPU per ticket, stage by stage, as multiples of the two anchors'."""
    anchors = {run.system: run for run in runs if run.system in ANCHORS}
    systems = [run for run in runs if run.system != "teams" and run.stages]
    if not anchors or len(systems) < 2:
        return
    header = (
        "rate/s system   p99 ms  x bare  x durable | cards  CPU ms/t  x bare  x durable | "
        "last card  CPU ms/t  x durable"
    )
    print("\nbeside the anchors, stage by stage (x = system / anchor):\n" + header + "\n" + "-" * len(header))
    for index in range(max(len(run.stages) for run in systems)):
        for run in systems:
            if index >= len(run.stages):
                continue
            r = run.stages[index]
            same = {name: a.stages[index] for name, a in anchors.items() if index < len(a.stages)}
            if run.system in ANCHORS:
                same = {}
            bare, durable = same.get("bare"), same.get("durable")
            p99, cpu, drained = ms(r.latencies, 0.99), r.cpu_ms_per_ticket, r.cpu_ms_per_ticket_drained
            cards = str(r.posted_in_stage) if r.ledger is not None else "-"
            last, to_last = (
                (f"{r.drained_after:.1f} s", f"{drained:.3f}") if drained == drained else ("-", "-")
            )
            anchor_drained = versus(drained, durable, lambda a: a.cpu_ms_per_ticket_drained)
            print(
                f"{r.stage.rate:6} {run.system:8} {p99:7.2f} "
                f"{versus(p99, bare, lambda a: ms(a.latencies, 0.99)):>7} "
                f"{versus(p99, durable, lambda a: ms(a.latencies, 0.99)):>9} | "
                f"{cards:>5} {cpu:9.3f} {versus(cpu, bare, lambda a: a.cpu_ms_per_ticket):>7} "
                f"{versus(cpu, durable, lambda a: a.cpu_ms_per_ticket):>9} | "
                f"{last:>9} {to_last:>9} {anchor_drained:>10}"
            )
    print(
        "cards = the stage's cards posted from its first scheduled send to its last ack, whose posting is in "
        "CPU ms/t beside it;\nlast card = when the stage's last card was posted, after its first scheduled "
        "send; CPU ms/t beside it = server CPU until then\n(every card of the stage included), per ticket "
        "acked; - where the cards were not waited for (see --drain) or not all posted."
    )


def print_system_targets(chatops: RunResult, bare: RunResult | None, durable: RunResult | None) -> None:
    """One chatops layout's ratios to the anchors, and each target with PASS or MISS."""
    first = chatops.stages[0]
    p99 = ms(first.latencies, 0.99)
    targets = [(f"p99 under 10 ms at {first.stage.rate}/s", p99 < 10, f"{p99:.2f} ms")]
    if durable and durable.stages:
        anchor_p99 = ms(durable.stages[0].latencies, 0.99)
        targets.append(
            (
                f"p99 at {first.stage.rate}/s at most 2x the durable desk's",
                p99 <= 2 * anchor_p99,
                f"{p99:.2f} vs 2 x {anchor_p99:.2f} ms",
            )
        )
        for r, a in zip(chatops.stages, durable.stages, strict=False):
            windows = (
                ("to the last ack", r.cpu_ms_per_ticket, a.cpu_ms_per_ticket),
                ("to the stage's last card", r.cpu_ms_per_ticket_drained, a.cpu_ms_per_ticket_drained),
            )
            for window, cpu, anchor_cpu in windows:
                if cpu == cpu and anchor_cpu == anchor_cpu:
                    targets.append(
                        (
                            f"CPU per ticket at {r.stage.rate}/s, cards included, {window}: "
                            "at most 2x the durable desk's",
                            cpu <= 2 * anchor_cpu,
                            f"{cpu:.3f} vs 2 x {anchor_cpu:.3f} ms, x{cpu / anchor_cpu:.2f}",
                        )
                    )
    if bare and bare.stages:
        p50_ratio = ms(first.latencies, 0.5) / ms(bare.stages[0].latencies, 0.5)
        bare_p99 = ms(bare.stages[0].latencies, 0.99)
        cpu, bare_cpu = first.cpu_ms_per_ticket, bare.stages[0].cpu_ms_per_ticket
        print(
            f"\n{chatops.system} / bare at {first.stage.rate}/s:  p50 x{p50_ratio:.2f}   "
            f"p99 x{p99 / bare_p99:.2f}   CPU per ticket x{cpu / bare_cpu:.2f}"
        )
        targets.append(
            ("p99 at most 3x the bare app", p99 <= 3 * bare_p99, f"{p99:.2f} vs 3 x {bare_p99:.2f} ms")
        )
        targets.append(
            (
                "server CPU per ticket at most 3x the bare app (cards posted in the stage included)",
                cpu <= 3 * bare_cpu,
                f"{cpu:.3f} vs 3 x {bare_cpu:.3f} ms",
            )
        )
    best = max((r.tickets_per_second for r in chatops.stages if r.complete), default=0.0)
    throughput = f"best such stage {best:.0f}/s"
    highest = max(chatops.stages, key=lambda r: r.tickets_per_second)
    if not highest.complete:
        # A stage that shed requests still shows how much the server could take.
        throughput += (
            f"; {highest.tickets_per_second:.0f}/s acked at {highest.stage.rate}/s, not every request acked"
        )
    targets.append(
        (
            "at least 1,000 tickets/s, every acked ticket durable (card posted or queued)",
            best >= 1000,
            throughput,
        )
    )
    rss = chatops.peak_rss_mb
    targets.append(("peak RSS under 150 MB (highest of the stages)", rss < 150, f"{rss:.1f} MB"))
    width = max(len(name) for name, _, _ in targets)
    print(f"\ntargets ({chatops.system}):")
    for name, met, figure in targets:
        print(f"  {'PASS' if met else 'MISS'}  {name:{width}}  ({figure})")


def parse_stages(text: str) -> list[Stage]:
    """'200x10,1000x10' -> stages of RATE requests per second for SECONDS."""
    return [
        Stage(int(rate), float(seconds))
        for rate, _, seconds in (part.strip().partition("x") for part in text.split(","))
    ]


def main() -> int:
    """Parse options, run the anchors and chatops in turn, a fresh server per stage, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", default="200x10,1000x10,1500x10", help="RATExSECONDS,...; first: latency")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: stages cut to 3 s, cards waited for 15 s at most"
    )
    parser.add_argument(
        "--warmup", type=int, default=200, help="unmeasured requests before each stage, on its server"
    )
    parser.add_argument(
        "--systems",
        default="bare,durable,chatops,split",
        help="which systems to run, in order: bare, durable (the minimal durable desk), chatops (one "
        "process), split (serve + worker)",
    )
    parser.add_argument(
        "--channels",
        type=int,
        default=50,
        help="Slack channels the stage's tickets spread over, round robin (1: the test desk's rules as is)",
    )
    parser.add_argument(
        "--drain",
        type=float,
        default=60.0,
        help="seconds past a stage to wait for its cards, for CPU to the last card (skipped when Slack's "
        "pace needs longer)",
    )
    parser.add_argument("--teams", action="store_true", help="add the Teams leg (bench/teams_ack.py)")
    parser.add_argument("--teams-only", action="store_true", help="run the Teams leg and no Slack system")
    parser.add_argument("--teams-stages", default="50x10,200x10", help="RATExSECONDS,... of the Teams leg")
    args = parser.parse_args()
    stages, teams_stages = parse_stages(args.stages), parse_stages(args.teams_stages)
    if args.quick:
        stages = [Stage(s.rate, min(s.seconds, 3.0)) for s in stages]
        teams_stages = [Stage(s.rate, min(s.seconds, 3.0)) for s in teams_stages]
        args.drain = min(args.drain, 15.0)
    if args.channels < 1:
        parser.error("--channels: at least 1")
    systems = [] if args.teams_only else args.systems.split(",")
    with_teams = args.teams or args.teams_only
    plan = ", ".join(f"{s.rate}/s x {s.seconds:g}s" for s in stages)
    teams_plan = ", ".join(f"{s.rate}/s x {s.seconds:g}s" for s in teams_stages)
    print(
        f"{os.cpu_count()} CPUs; "
        + (f"stages {plan} over {args.channels} channel(s); " if systems else "")
        + (f"Teams stages {teams_plan}; " if with_teams else "")
        + f"each on a fresh server; warm-up {args.warmup} requests at {WARMUP_RATE}/s before each"
    )
    standin = StandIn()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-rules-") as rules:
            spread = layout(args.channels, Path(rules))
            runs = [
                RunResult(
                    system,
                    [run_stage(system, standin, stage, args.warmup, spread, args.drain) for stage in stages],
                )
                for system in systems
            ]
        if with_teams:
            # Imported here: the Teams leg builds on this module, which runs as __main__.
            import teams_ack

            runs.append(teams_ack.run_teams(teams_stages, args.warmup, standin))
    finally:
        standin.close()
    print_table(runs)
    print_targets(runs)
    if with_teams:
        teams_ack.print_beside_slack(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
