"""Ack latency of a bug ticket with Jira configured and answering slowly, beside the same ticket without Jira.

Run from the project root:  .venv/bin/python bench/jira_ack.py [--quick] [--rate 20] [--seconds 10]

Three systems take the same open-loop stage of signed `/ticket` slash commands, each on a server of its
own, started fresh and warmed up as in bench/ack_latency.py, whose machinery this reuses: the bare Bolt app
(the baseline), `chatops serve` without Jira, and `chatops serve` with Jira configured, the desk's rules
pushing every bug to it. Every ticket's text names a bug ("crashes", "error"), so with Jira each ack
queues an issue's creation in the outbox; without it the same ticket is opened with no Jira work.

Jira is the devkit's stand-in, in a spawned child process like the Slack stand-in so that it shares no
GIL with the load generator, and it answers every REST call after 2 s. Its latency is set once the server
listens (the server's start-up check of the project and issue type is then quick) and before the warm-up,
so the whole stage runs against a slow Jira. The desk calls Jira from a dispatcher and worker threads of
its own, at a paced few calls at a time; the question is whether any of that reaches the acknowledgement.

Besides the latencies, the Jira row gives the issues Jira had created by the stage's last answer and after
a bounded drain (the server kept running meanwhile): with a 2 s answer and a few calls in flight they
drain slowly, and what is seen is reported, not asserted. Durable, as in bench/ack_latency.py, means every
acked ticket in the database with its card posted or queued, read once the server has stopped.

Figures are printed, never asserted: the machine is shared and noisy. Exit status 0 unless the run broke.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

# The sibling benchmark's machinery; run as a script, this folder is on sys.path.
from ack_latency import (
    CONFIG,
    Stage,
    StageResult,
    StandIn,
    check_cards,
    cpu_seconds,
    drive,
    measured,
    ms,
    outbox_state,
    peak_rss_mb,
    read_ledger,
    signed,
    start_server,
    stop_servers,
    tickets_only,
    warm_up,
)

from chatops.tracking.outbound import CREATE
from integrations.jira.devkit.standin import JiraStandIn

TEXT = "The export crashes with error 500 #{}"
JIRA_USER = "bench-bot@example.com"
JIRA_API_TOKEN = "bench-jira-api-token"
JIRA_LATENCY = 2.0
DRAIN = 30.0
WARMUP = 200
TARGET_MS = 10.0
# The stand-in's default projects include SUP with the issue type Bug.
JIRA_RULES = """
jira:
  categories:
    bug: {project: SUP, issue_type: Bug, labels: [from-support]}
"""
SYSTEMS = (("bare", "bare Bolt app"), ("plain", "chatops, no Jira"), ("jira", "chatops + Jira 2 s"))


def jira_main(conn: Connection) -> None:
    """Serve the Jira stand-in in this child process; set its latency and report what it holds."""
    with JiraStandIn(user=JIRA_USER, api_token=JIRA_API_TOKEN) as jira:
        conn.send(jira.base_url)
        while (request := conn.recv()) != "stop":
            kind, payload = request
            if kind == "latency":
                jira.set_latency(payload)
                conn.send(None)
            else:
                conn.send({"issues": len(jira.issues()), "calls": Counter(c.name for c in jira.calls())})


@dataclass
class Row:
    """One system's stage, and for the Jira row what Jira held and did."""

    system: str
    result: StageResult
    jira_at_end: dict[str, Any] | None = None
    jira_drained: dict[str, Any] | None = None
    drain_seconds: float = 0.0
    creates_queued: int = 0


def jira_env(workdir: Path, jira_url: str) -> dict[str, str]:
    """The desk's rules with a `jira` section (a copy in `workdir`), and the settings that reach Jira."""
    config = workdir / "desk.yaml"
    config.write_text(CONFIG.read_text() + JIRA_RULES)
    return {
        "CHATOPS_CONFIG": str(config),
        "JIRA_URL": jira_url,
        "JIRA_USER": JIRA_USER,
        "JIRA_API_TOKEN": JIRA_API_TOKEN,
        "JIRA_WEBHOOK_SECRET": "bench-jira-webhook-secret",
        "JIRA_TIMEOUT": "10",
    }


def creates_queued(path: Path) -> int:
    """Issue creations still queued in the outbox."""
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as db:
        query = "SELECT count(*) FROM outbox WHERE kind = ? AND done_at IS NULL"
        return db.execute(query, (CREATE,)).fetchone()[0]


def drain(jira: StandIn, db: Path, acked: int) -> tuple[dict[str, Any], float]:
    """Wait (bounded) until Jira holds an issue per acked ticket or none is left to create; the seconds."""
    start = time.monotonic()
    while True:
        report = jira.ask(("report", None))
        waited = time.monotonic() - start
        if report["issues"] >= acked or not creates_queued(db) or waited >= DRAIN:
            return report, waited
        time.sleep(0.5)


def run_system(system: str, slack: StandIn, jira: StandIn, stage: Stage) -> Row:
    """A fresh server, warmed up, takes the stage; the Jira row then drains for a while; then the checks."""
    requests = signed([TEXT.format(i) for i in range(stage.count)])
    with tempfile.TemporaryDirectory(prefix=f"bench-jira-{system}-") as tmp:
        workdir = Path(tmp)
        env = jira_env(workdir, jira.base_url) if system == "jira" else None
        server = "bare" if system == "bare" else "chatops"
        processes, url = start_server(server, workdir, slack.base_url, env)
        db = workdir / "chatops.db" if system != "bare" else None
        at_end = drained = None
        waited = 0.0
        try:
            if system == "jira":
                jira.ask(("latency", JIRA_LATENCY))
            warmup_left = warm_up(url, WARMUP, db)
            before = outbox_state(db)[0] if db is not None else 0
            slack.ask("clear")
            jira_before = jira.ask(("report", None)) if system == "jira" else None
            cpu_before = [cpu_seconds(p.pid) for p in processes]
            samples, t0 = asyncio.run(drive(url, requests, stage.rate))
            cpu_after = [cpu_seconds(p.pid) for p in processes]
            rss = max(peak_rss_mb(p.pid) for p in processes)
            if system == "jira" and db is not None and jira_before is not None:
                at_end = jira.ask(("report", None))
                acked = sum(1 for s in samples if s.ticket is not None)
                drained, waited = drain(jira, db, jira_before["issues"] + acked)
                for report in (at_end, drained):
                    report["issues"] -= jira_before["issues"]
                    report["calls"] -= jira_before["calls"]
        finally:
            clean = stop_servers(processes)
            if system == "jira":
                jira.ask(("latency", 0.0))
        stderr_tail = (workdir / f"{server}.err").read_text(errors="replace").strip().splitlines()[-15:]
        ledger = read_ledger(db, before) if db is not None else None
        queued = creates_queued(db) if db is not None else 0
    if db is not None:
        samples = tickets_only(samples)
    result = measured(stage, samples, t0, rss, (cpu_before, cpu_after), clean, warmup_left, stderr_tail)
    if ledger is not None:
        check_cards(result, ledger, slack, t0)
    slack.ask("clear")
    return Row(system, result, at_end, drained, waited, queued)


def print_report(rows: list[Row]) -> None:
    """The table, what each row left behind, and the target line."""
    names = dict(SYSTEMS)
    header = (
        f"{'system':20} rate/s   sent     ok   p50 ms   p99 ms   max ms  acks/s CPU ms/t  "
        "Jira issues (end / drained)"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for row in rows:
        r = row.result
        ok = r.outcomes["ok"]
        issues = "-"
        if row.jira_at_end is not None and row.jira_drained is not None:
            issues = (
                f"{row.jira_at_end['issues']} / {row.jira_drained['issues']} "
                f"(after {row.drain_seconds:.0f} s more)"
            )
        print(
            f"{names[row.system]:20} {r.stage.rate:6} {r.stage.count:6} {ok:6} {ms(r.latencies, 0.5):8.2f} "
            f"{ms(r.latencies, 0.99):8.2f} {ms(r.latencies, 1):8.1f} {ok / r.ack_span:7.0f} "
            f"{r.cpu_ms_per_ticket:8.3f}  {issues}"
        )
    print()
    for row in rows:
        r, where = row.result, f"  {names[row.system]}:"
        if bad := {k: v for k, v in r.outcomes.items() if k != "ok"}:
            print(f"{where} not ok: {bad}")
        if r.ledger is not None:
            lost = len(r.lost) + r.unrecorded
            acked = len(r.tickets)
            durable = f"LOST {lost} of {acked}" if lost else f"all {acked} acked tickets durable"
            print(
                f"{where} {durable}; cards posted {r.posted_in_stage} during the stage, "
                f"{r.backlog.total()} still queued at the stop; outbox rows not done {r.ledger.pending_rows}"
            )
        if row.jira_at_end is not None and row.jira_drained is not None:
            stages = (("by the stage's end", row.jira_at_end), ("after the drain", row.jira_drained))
            for when, report in stages:
                calls = ", ".join(f"{n} x{c}" for n, c in sorted(report["calls"].items())) or "none"
                print(f"{where} Jira calls {when}: {calls}")
            print(f"{where} issue creations still queued in the outbox at the stop: {row.creates_queued}")
        if r.warmup_left:
            print(f"{where} the warm-up left {r.warmup_left} outbox rows behind")
        if not r.stopped_cleanly:
            print(f"{where} the server did not stop on SIGTERM within 15 s and was killed")
        for line in r.stderr_tail:
            print(f"{where} stderr: {line}")
    print(
        "\nlatency runs from each request's scheduled send time (open loop); acks/s = acked / max(stage "
        "length, first scheduled -> last ack);\nCPU ms/t = the server's CPU time over the stage per "
        "request acked; each system on a fresh server (chatops on a fresh SQLite file);\nJira issues: "
        f"created by the stage's last answer / after waiting up to {DRAIN:.0f} s more for the rest, "
        f"Jira answering every call in {JIRA_LATENCY:g} s."
    )
    by = {row.system: row.result for row in rows}
    plain, jira = by.get("plain"), by.get("jira")
    if plain is None or jira is None:
        return
    p50 = ms(jira.latencies, 0.5) - ms(plain.latencies, 0.5)
    p99 = ms(jira.latencies, 0.99) - ms(plain.latencies, 0.99)
    met = p50 <= TARGET_MS and p99 <= TARGET_MS
    print(
        f"\n{'PASS' if met else 'MISS'}  Jira configured (answering in {JIRA_LATENCY:g} s) adds {p50:.2f} ms "
        f"at p50 and {p99:.2f} ms at p99 to the acknowledgement (target: within {TARGET_MS:g} ms)"
    )


def main() -> int:
    """Parse options, run the three systems in turn on fresh servers, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=20, help="tickets per second (default 20)")
    parser.add_argument("--seconds", type=float, default=10.0, help="stage length in seconds (default 10)")
    parser.add_argument("--quick", action="store_true", help="smoke run: the stage cut to 3 s")
    args = parser.parse_args()
    stage = Stage(args.rate, min(args.seconds, 3.0) if args.quick else args.seconds)
    print(
        f"{os.cpu_count()} CPUs; stage {stage.rate}/s x {stage.seconds:g}s of bug tickets; each system on a "
        f"fresh server; warm-up {WARMUP} requests before each; Jira answering in {JIRA_LATENCY:g} s"
    )
    slack = StandIn()
    try:
        jira = StandIn(jira_main, "jira-standin")
        try:
            rows = [run_system(system, slack, jira, stage) for system, _ in SYSTEMS]
        finally:
            jira.close()
    finally:
        slack.close()
    print_report(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
