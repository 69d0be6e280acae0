"""Ack latency and throughput of `chatops serve` beside a bare Bolt app, under open-loop slash commands.

Run from the project root:  .venv/bin/python bench/ack_latency.py [--quick] [--stages 200x10,1000x10]

Three processes, so that nothing shares a GIL with the server under test: the Slack stand-in (a spawned
child), the server (a subprocess; chatops on a fresh SQLite file) and the load generator (this process).
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
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp

from adapters.slack.devkit.requests import SignedRequest, SlackRequests
from adapters.slack.devkit.standin import SlackStandIn

CONFIG = Path(__file__).resolve().parents[1] / "tests" / "desk.yaml"
SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
CARD_CHANNELS = ("C0SUPPORT", "C0BILLING")
CARD_KEY = re.compile(r"ticket-(\d+)-card")
ACKED_TICKET = re.compile(r"Ticket #(\d+) opened")
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")
REQUEST_TIMEOUT = 10.0
START_TIMEOUT = 30.0
WARMUP_RATE = 200
# Enough sockets for seconds of backlog at 1,500/s; past that, requests queue in the client, which still
# counts against the server because latency runs from the scheduled send time.
CONNECTIONS = 2000

BARE_APP = Path(__file__).with_name("bare_app.py")


@dataclass(frozen=True)
class Stage:
    """One open-loop load step: a fixed rate for a fixed time."""

    rate: int
    seconds: float

    @property
    def count(self) -> int:
        """Requests scheduled in this stage."""
        return max(1, round(self.rate * self.seconds))


class Sample(NamedTuple):
    """One request: latency from its scheduled time, how late it left, outcome, acked ticket, answer time."""

    latency: float
    lag: float
    outcome: str
    ticket: int | None
    done: float


@dataclass
class StageResult:
    """What one stage measured."""

    stage: Stage
    latencies: list[float]
    lags: list[float]
    outcomes: Counter[str]
    tickets: set[int]
    ack_span: float
    cards: int = 0
    card_span: float = 0.0
    missing_cards: int = 0
    duplicate_posts: int = 0


@dataclass
class RunResult:
    """One system's stages plus what is only known at the end of its run."""

    system: str
    stages: list[StageResult] = field(default_factory=list)
    peak_rss_mb: float = 0.0
    acked_tickets: int = 0
    db_tickets: int | None = None
    db_pending_outbox: int | None = None
    stderr_tail: list[str] = field(default_factory=list)


def standin_main(conn: Connection) -> None:
    """Serve the Slack stand-in in this child process and answer card queries over the pipe."""
    with SlackStandIn() as standin:
        conn.send(standin.base_url)
        while (request := conn.recv()) != "stop":
            if request == "clear":
                standin.clear()
                conn.send(None)
            else:
                conn.send(card_report(standin, stored=request == "final"))


def card_report(standin: SlackStandIn, *, stored: bool) -> dict[str, Any]:
    """Ticket ids of card posts and the time of the last one; with `stored`, the ids of stored cards too."""
    ids, last = [], None
    for call in standin.calls("chat.postMessage"):
        key = ((call.params.get("metadata") or {}).get("event_payload") or {}).get("key", "")
        if (match := CARD_KEY.fullmatch(str(key))) and call.params.get("channel") in CARD_CHANNELS:
            ids.append(int(match.group(1)))
            last = call.at  # CLOCK_MONOTONIC is system-wide on Linux: comparable with the generator's times
    report: dict[str, Any] = {"ids": ids, "last_at": last}
    if stored:
        # messages() deep-copies whole channels, so it is read once per stage, not on every poll; it also
        # leaves out posts the stand-in refused, which the call log still shows.
        keys = [
            (m.get("metadata") or {}).get("event_payload", {}).get("key", "")
            for channel in CARD_CHANNELS
            for m in standin.messages(channel)
        ]
        report["stored"] = {int(m.group(1)) for k in keys if (m := CARD_KEY.fullmatch(str(k)))}
    return report


class StandIn:
    """The stand-in child process, seen from the benchmark."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=standin_main, args=(child,), daemon=True, name="slack-standin")
        self.process.start()
        if not self.conn.poll(START_TIMEOUT):
            raise RuntimeError("the Slack stand-in did not start")
        self.base_url: str = self.conn.recv()

    def ask(self, request: str) -> Any:
        """Send one request to the child and wait (bounded) for its answer."""
        self.conn.send(request)
        if not self.conn.poll(60):
            raise RuntimeError(f"the Slack stand-in did not answer {request!r}")
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


def start_server(system: str, workdir: Path, slack_url: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start chatops (or the bare app) on 127.0.0.1:0; return it and its events URL once it listens."""
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack_url,
        "SLACK_TIMEOUT": "5",
        "DATABASE_URL": f"sqlite:///{workdir / 'chatops.db'}",
        "CHATOPS_CONFIG": str(CONFIG),
    }
    if system == "chatops":
        command = [sys.executable, *"-m chatops serve --host 127.0.0.1 --port 0 --log-level WARNING".split()]
    else:
        env["BENCH_BOT_TOKEN"] = env.pop("SLACK_BOT_TOKEN")
        command = [sys.executable, str(BARE_APP)]
    out, err = workdir / f"{system}.out", workdir / f"{system}.err"
    # Files, not pipes: nobody reads them while the load runs, and a full pipe would stall the server.
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env, cwd=workdir)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        if match := LISTENING.search(out.read_text(errors="replace")):
            return process, f"http://127.0.0.1:{match.group(1)}/slack/events"
        time.sleep(0.05)
    stop_server(process)
    raise RuntimeError(
        f"{system} did not start listening; stderr:\n{err.read_text(errors='replace')[-2000:]}"
    )


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (chatops drains its dispatcher on it), then SIGKILL if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def send(session: aiohttp.ClientSession, url: str, request: SignedRequest, due: float) -> Sample:
    """POST one request; a 200 is "ok", with the ticket number if the answer names one."""
    lag = time.monotonic() - due
    ticket = None
    try:
        async with session.post(url, data=request.body, headers=request.headers) as response:
            body = await response.read()
        outcome = "ok" if response.status == 200 else f"HTTP {response.status}"
        if acked := ACKED_TICKET.search(body.decode("utf-8", errors="replace")):
            ticket = int(acked.group(1))
    except Exception as error:  # noqa: BLE001 - every failure is a counted outcome, not a crash
        outcome = type(error).__name__
    done = time.monotonic()
    return Sample(done - due, lag, outcome, ticket, done)


async def drive(url: str, requests: list[SignedRequest], rate: float) -> tuple[list[Sample], float]:
    """Send request i at t0 + i/rate whatever became of earlier ones; returns the samples and t0."""
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        t0 = time.monotonic() + 0.05
        tasks = []
        for i, request in enumerate(requests):
            due = t0 + i / rate
            if (delay := due - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(session, url, request, due)))
        done, pending = await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT + 5)
        for task in pending:
            task.cancel()
    now = time.monotonic()
    samples = [task.result() for task in done]
    return samples + [Sample(now - t0, 0.0, "unfinished", None, now) for _ in pending], t0


def db_counts(path: Path) -> tuple[int, int]:
    """Rows in tickets, and outbox rows not done yet (WAL lets us read beside the running server)."""
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as db:
        tickets = db.execute("SELECT count(*) FROM tickets").fetchone()[0]
        return tickets, db.execute("SELECT count(*) FROM outbox WHERE done_at IS NULL").fetchone()[0]


def run_stage(
    standin: StandIn, url: str, stage: Stage, serial: int, db: Path | None, wait: float
) -> StageResult:
    """Drive one stage; for chatops (`db` given) wait for its cards and outbox too. Clears the stand-in."""
    signer = SlackRequests(SECRET)
    # Built and signed up front so that signing costs the generator nothing during the stage.
    texts = [f"Export crashes, case {serial + i}" for i in range(stage.count)]
    requests = [signer.slash_command(text, user_id=f"U0USER{i % 50:02d}") for i, text in enumerate(texts)]
    samples, t0 = asyncio.run(drive(url, requests, stage.rate))
    if db is not None:
        # chatops acks a failure with a 200 too (an apology instead of a ticket): that is not an ack.
        samples = [
            s._replace(outcome="200 without a ticket") if s.ticket is None and s.outcome == "ok" else s
            for s in samples
        ]
    ok = [s for s in samples if s.outcome == "ok"]
    last_ack = max((s.done for s in ok), default=t0)
    result = StageResult(
        stage,
        sorted(s.latency for s in samples),
        sorted(s.lag for s in samples),
        Counter(s.outcome for s in samples),
        {s.ticket for s in ok if s.ticket is not None},
        ack_span=max(stage.count / stage.rate, last_ack - t0),
    )
    if db is not None:
        # Also wait for the outbox to empty: tickets committed but never acked (client timeouts) still get
        # cards, and that work must not spill into the next stage.
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and (
            not result.tickets <= set(standin.ask("cards")["ids"]) or db_counts(db)[1]
        ):
            time.sleep(0.25)
        final = standin.ask("final")
        result.cards = len(final["stored"])  # every committed ticket's card, acked or not
        result.missing_cards = len(result.tickets - final["stored"])
        result.duplicate_posts = len(final["ids"]) - len(set(final["ids"]))
        result.card_span = final["last_at"] - t0 if final["last_at"] else 0.0
    standin.ask("clear")
    return result


def run_system(
    system: str, standin: StandIn, stages: list[Stage], warmup: int, card_timeout: float
) -> RunResult:
    """Start one system, warm it up, run every stage, then read its peak RSS and database."""
    run = RunResult(system)
    with tempfile.TemporaryDirectory(prefix=f"bench-{system}-") as tmp:
        workdir = Path(tmp)
        process, url = start_server(system, workdir, standin.base_url)
        db = workdir / "chatops.db" if system == "chatops" else None
        try:
            serial = 0
            warm = [Stage(WARMUP_RATE, warmup / WARMUP_RATE)] if warmup else []
            for index, stage in enumerate(warm + stages):
                result = run_stage(standin, url, stage, serial, db, card_timeout)
                if index >= len(warm):
                    run.stages.append(result)
                run.acked_tickets += len(result.tickets)
                serial += stage.count
            run.peak_rss_mb = peak_rss_mb(process.pid)
        finally:
            stop_server(process)
        if db is not None:
            run.db_tickets, run.db_pending_outbox = db_counts(db)
        run.stderr_tail = (workdir / f"{system}.err").read_text(errors="replace").strip().splitlines()[-15:]
    return run


def ms(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of sorted seconds, in ms."""
    return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")


def print_table(runs: list[RunResult]) -> None:
    """One row per system and stage, then errors, server stderr and the database cross-check."""
    header = (
        "system   rate/s   sent     ok   err   p50 ms   p99 ms   max ms  lag99ms  acks/s tickets/s cards/s  "
        f"{'cards':<24} RSS MB"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for run in runs:
        for r in run.stages:
            ok = r.outcomes["ok"]
            tickets, cards_rate, cards = "-", "-", "-"
            if run.system == "chatops":
                tickets = f"{len(r.tickets) / r.ack_span:.0f}"
                cards_rate = f"{r.cards / r.card_span:.0f}" if r.card_span else "0"
                cards = f"all {r.cards} in {r.card_span:.1f}s"
                if r.missing_cards:
                    cards = f"MISSING {r.missing_cards} of {len(r.tickets)}"
                cards += f" +{r.duplicate_posts} dup" if r.duplicate_posts else ""
            print(
                f"{run.system:8} {r.stage.rate:6} {r.stage.count:6} {ok:6} {r.stage.count - ok:5} "
                f"{ms(r.latencies, 0.5):8.2f} {ms(r.latencies, 0.99):8.2f} {ms(r.latencies, 1):8.1f} "
                f"{ms(r.lags, 0.99):8.2f} {ok / r.ack_span:7.0f} {tickets:>9} {cards_rate:>7}  {cards:<24} "
                f"{run.peak_rss_mb:6.0f}"
            )
    for run in runs:
        for r in run.stages:
            if bad := {k: v for k, v in r.outcomes.items() if k != "ok"}:
                print(f"  {run.system} at {r.stage.rate}/s, not ok: {bad}")
        for line in run.stderr_tail:
            print(f"  {run.system} stderr: {line}")
        if run.db_tickets is not None:
            print(
                f"  {run.system}: {run.db_tickets} rows in tickets, {run.acked_tickets} acked (warm-up "
                f"included); outbox rows not done at exit: {run.db_pending_outbox}"
            )
    print(
        "\nlatency runs from each request's scheduled send time (open loop); lag99 = p99 of how late the "
        "generator sent;\nacks/s, tickets/s = acked / max(stage length, first scheduled -> last ack); "
        "cards/s = cards / (first scheduled -> last card)"
    )


def print_targets(runs: list[RunResult]) -> None:
    """The chatops/bare ratios at the latency stage, and each target of the issue with PASS or MISS."""
    by_name = {run.system: run for run in runs}
    chatops, bare = by_name.get("chatops"), by_name.get("bare")
    if not chatops or not chatops.stages:
        return
    first = chatops.stages[0]
    p99 = ms(first.latencies, 0.99)
    targets = [(f"p99 under 10 ms at {first.stage.rate}/s", p99 < 10, f"{p99:.2f} ms")]
    if bare and bare.stages:
        p50_ratio = ms(first.latencies, 0.5) / ms(bare.stages[0].latencies, 0.5)
        bare_p99 = ms(bare.stages[0].latencies, 0.99)
        print(f"\nchatops / bare at {first.stage.rate}/s:  p50 x{p50_ratio:.2f}   p99 x{p99 / bare_p99:.2f}")
        targets.append(
            ("p99 at most 3x the bare app", p99 <= 3 * bare_p99, f"{p99:.2f} vs 3 x {bare_p99:.2f} ms")
        )
    # A stage counts only if every request was acked with a ticket and every ticket's card was posted.
    complete = [r for r in chatops.stages if not r.missing_cards and r.outcomes["ok"] == r.stage.count]
    best = max((len(r.tickets) / r.ack_span for r in complete), default=0.0)
    targets.append(("at least 1,000 tickets/s, every card posted", best >= 1000, f"best stage {best:.0f}/s"))
    targets.append(("peak RSS under 150 MB", chatops.peak_rss_mb < 150, f"{chatops.peak_rss_mb:.1f} MB"))
    print("\ntargets (chatops):")
    for name, met, figure in targets:
        print(f"  {'PASS' if met else 'MISS'}  {name:48} ({figure})")


def parse_stages(text: str) -> list[Stage]:
    """'200x10,1000x10' -> stages of RATE requests per second for SECONDS."""
    return [
        Stage(int(rate), float(seconds))
        for rate, _, seconds in (part.strip().partition("x") for part in text.split(","))
    ]


def main() -> int:
    """Parse options, run the bare app and chatops in turn, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", default="200x10,1000x10,1500x10", help="RATExSECONDS,...; first: latency")
    parser.add_argument("--quick", action="store_true", help="smoke run: stages cut to 3 s")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests before the stages")
    parser.add_argument(
        "--card-timeout", type=float, default=60.0, help="seconds to wait for a stage's cards"
    )
    parser.add_argument("--systems", default="bare,chatops", help="which systems to run, in order")
    args = parser.parse_args()
    stages = parse_stages(args.stages)
    if args.quick:
        stages = [Stage(s.rate, min(s.seconds, 3.0)) for s in stages]
    plan = ", ".join(f"{s.rate}/s x {s.seconds:g}s" for s in stages)
    print(f"{os.cpu_count()} CPUs; stages {plan}; warm-up {args.warmup} requests at {WARMUP_RATE}/s")
    standin = StandIn()
    try:
        runs = [
            run_system(system, standin, stages, args.warmup, args.card_timeout)
            for system in args.systems.split(",")
        ]
    finally:
        standin.close()
    print_table(runs)
    print_targets(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
