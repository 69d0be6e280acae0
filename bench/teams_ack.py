"""The Teams leg of bench/ack_latency.py: personal-chat messages POSTed to `/api/messages`, open loop.

Run from the project root:  .venv/bin/python bench/ack_latency.py --teams [--teams-stages 50x10,200x10]
(beside the Slack rows), or --teams-only.

A second stand-in child serves the Teams side: a test CA, the Bot Framework's identity provider (the
OpenID metadata and keys the server checks channel tokens against, and the token endpoint that gives the
server tokens of its own) and a Bot Connector (the serviceUrl through which the server answers people).
The server is `chatops serve` as in the Slack rows, on a fresh SQLite file per stage, with the Teams
settings pointing at those stand-ins and trust in the CA. Every message carries a channel token of its own,
as Teams sends it, minted in the child before the stage so that minting costs the generator nothing.

An ack is the 202 the server answers once the message's ticket is committed. Durable means every acked
message has its ticket in the database (platform `teams`, found by the activity id its intake key ends
with) and that ticket's card posted or queued; the desk's cards go to its Slack channels, so the card
check is the Slack rows' own.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import tempfile
import time
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

# The sibling benchmark's machinery; run as a script, this folder is on sys.path.
from ack_latency import (
    STAGE_TEXT,
    WARMUP_RATE,
    WARMUP_SETTLE,
    WARMUP_TEXT,
    RunResult,
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
    start_server,
    stop_servers,
)

from adapters.slack.devkit.rate_limits import POST_MESSAGE_LIMIT
from adapters.slack.devkit.requests import SignedRequest
from adapters.teams.devkit.activities import TeamsActivities, TeamsUser, signed, teams_user
from adapters.teams.devkit.authority import APP_ID, APP_SECRET, TENANT_ID, IdentityProvider
from adapters.teams.devkit.connector import BotConnector
from adapters.teams.devkit.tls import LocalCA

# What the Bot Framework answers a message it has taken: accepted, with nothing to say yet.
ACCEPTED = 202
USERS: tuple[TeamsUser, ...] = tuple(teams_user(f"Bench person {i:02d}") for i in range(50))
# Teams activity ids are millisecond timestamps; an intake key naming the activity ends with one.
ACTIVITY_ID = re.compile(r"(\d{10,})$")
SIGN_CHUNK = 250


def teams_standin_main(conn: Connection) -> None:
    """Serve the Teams stand-ins in this child process; sign activities and report connector calls."""
    with LocalCA() as ca, IdentityProvider(ca) as identity, BotConnector(ca, identity) as connector:
        env = {
            "MICROSOFT_APP_ID": APP_ID,
            "MICROSOFT_APP_PASSWORD": APP_SECRET,
            "MICROSOFT_APP_TENANT_ID": TENANT_ID,
            "TEAMS_OPENID_METADATA_URL": identity.metadata_url,
            "TEAMS_TOKEN_AUTHORITY": identity.oidc_authority,
            **ca.environment,
        }
        conn.send({"service_url": connector.service_url, "env": env})
        while (request := conn.recv()) != "stop":
            kind, payload = request
            if kind == "sign":
                conn.send([signed(activity, identity) for activity in payload])
            elif kind == "forge":
                conn.send([signed(activity, identity, signer="foreign") for activity in payload])
            elif kind == "clear":
                # The identity provider keeps its issued tokens: the server's cached one must stay good.
                connector.clear()
                conn.send(None)
            else:
                conn.send(Counter(f"{call.operation} {call.status}" for call in connector.calls()))


def sign(teams: StandIn, activities: list[dict[str, Any]], *, forged: bool = False) -> list[SignedRequest]:
    """Each activity as the channel posts it, with a token minted for it (in the child, ahead of time);
    `forged`: signed with a key the channel never published."""
    signed_requests = []
    # A devkit token takes tens of ms to mint, so ask in chunks that are answered well within the wait.
    for start in range(0, len(activities), SIGN_CHUNK):
        chunk = teams.ask(("forge" if forged else "sign", activities[start : start + SIGN_CHUNK]))
        signed_requests += [SignedRequest(body, headers) for headers, body in chunk]
    return signed_requests


def personal_messages(builder: TeamsActivities, texts: list[str]) -> list[dict[str, Any]]:
    """One personal-chat message per text, from fifty people in turn."""
    return [builder.personal_message(USERS[i % len(USERS)], text) for i, text in enumerate(texts)]


def warm_up(
    url: str, builder: TeamsActivities, teams: StandIn, count: int, db: Path
) -> tuple[int, Counter[str]]:
    """Open a few billing tickets, then send them again (a redelivery opens nothing); wait for the outbox.

    Resends keep the warm-up from queueing cards beyond the channel's burst while still taking the whole
    path: token check, parsing, and the lookup of the ticket the message opened. Returns the outbox rows
    left and the warm-up's answers that were not acks.
    """
    if count <= 0:
        return 0, Counter()
    opened = personal_messages(builder, [WARMUP_TEXT.format(i) for i in range(POST_MESSAGE_LIMIT.burst)])
    activities = [opened[i % len(opened)] for i in range(count)]
    samples, _ = asyncio.run(drive(url, sign(teams, activities), WARMUP_RATE, accepted=ACCEPTED))
    refused = Counter(s.outcome for s in samples if s.outcome != "ok")
    # A server that took a forged token would be measured without its token check.
    forged = personal_messages(builder, [WARMUP_TEXT.format("forged")])
    [answer], _ = asyncio.run(drive(url, sign(teams, forged, forged=True), WARMUP_RATE, accepted=401))
    if answer.outcome != "ok":
        refused[f"forged token answered {answer.outcome}, not HTTP 401"] += 1
    else:
        refused["forged token refused with 401, as it should be (the server logs it)"] += 1
    deadline = time.monotonic() + WARMUP_SETTLE
    while (left := outbox_state(db)[1]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left, refused


def teams_tickets(path: Path, after: int) -> dict[str, int]:
    """The Teams tickets numbered above `after`, by the activity id their intake key ends with."""
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as db:
        rows = db.execute(
            "SELECT id, intake_key FROM tickets WHERE id > ? AND platform = 'teams'", (after,)
        ).fetchall()
    found = {}
    for ticket, key in rows:
        if match := ACTIVITY_ID.search(key or ""):
            found[match.group(1)] = ticket
    return found


def run_teams_stage(slack: StandIn, teams: StandIn, stage: Stage, warmup: int) -> StageResult:
    """A fresh server, warmed up, takes one stage of personal-chat messages and stops; then the checks."""
    builder = TeamsActivities(teams.hello["service_url"])
    activities = personal_messages(builder, [STAGE_TEXT.format(i) for i in range(stage.count)])
    requests = sign(teams, activities)
    with tempfile.TemporaryDirectory(prefix="bench-teams-") as tmp:
        workdir = Path(tmp)
        processes, events_url = start_server("teams", workdir, slack.base_url, teams.hello["env"])
        url = events_url.replace("/slack/events", "/api/messages")
        db = workdir / "chatops.db"
        try:
            warmup_left, warmup_refused = warm_up(url, builder, teams, warmup, db)
            before = outbox_state(db)[0]
            slack.ask("clear")
            teams.ask(("clear", None))
            cpu_before = [cpu_seconds(p.pid) for p in processes]
            samples, t0 = asyncio.run(drive(url, requests, stage.rate, accepted=ACCEPTED))
            cpu_after = [cpu_seconds(p.pid) for p in processes]
            rss = max(peak_rss_mb(p.pid) for p in processes)
            connector_calls = teams.ask(("report", None))
        finally:
            clean = stop_servers(processes)
        stderr_tail = (workdir / "teams.err").read_text(errors="replace").strip().splitlines()[-15:]
        # Read once the server is gone: only what was committed counts.
        ledger = read_ledger(db, before)
        by_activity = teams_tickets(db, before)
    samples = [s._replace(ticket=by_activity.get(a["id"])) for s, a in zip(samples, activities, strict=True)]
    result = measured(stage, samples, t0, rss, (cpu_before, cpu_after), clean, warmup_left, stderr_tail)
    check_cards(result, ledger, slack, t0)
    # An ack promises a ticket; one whose activity no Teams ticket names is lost like a missing card.
    result.unrecorded = sum(1 for s in samples if s.outcome == "ok" and s.ticket is None)
    if warmup_refused:
        result.notes.append(f"warm-up answers other than acks: {dict(warmup_refused)}")
    calls = ", ".join(f"{name} x{n}" for name, n in sorted(connector_calls.items())) or "none"
    result.notes.append(f"Bot Connector calls during the stage: {calls}")
    if result.unrecorded and not by_activity:
        result.notes.append("no Teams ticket's intake key ends with an activity id: acks matched by none")
    slack.ask("clear")
    return result


def run_teams(stages: list[Stage], warmup: int, slack: StandIn) -> RunResult:
    """The Teams leg: every stage on a server of its own, with one Teams stand-in child for them all."""
    teams = StandIn(teams_standin_main, "teams-standin")
    try:
        return RunResult("teams", [run_teams_stage(slack, teams, stage, warmup) for stage in stages])
    finally:
        teams.close()


def print_beside_slack(runs: list[RunResult]) -> None:
    """The Teams leg's first stage beside chatops' first Slack stage."""
    teams = next((run for run in runs if run.system == "teams" and run.stages), None)
    slack = next((run for run in runs if run.system == "chatops" and run.stages), None)
    if teams is None:
        return
    print("\nTeams personal-chat messages beside Slack slash commands (first stage of each):")
    for name, run in (("teams", teams), ("slack", slack)):
        if run is not None:
            r = run.stages[0]
            print(
                f"  {name:5} at {r.stage.rate:5}/s: {r.outcomes['ok'] / r.ack_span:6.0f} acks/s   "
                f"p50 {ms(r.latencies, 0.5):7.2f} ms   p99 {ms(r.latencies, 0.99):7.2f} ms   "
                f"CPU {r.cpu_ms_per_ticket:.3f} ms/ticket   peak RSS {r.peak_rss_mb:.0f} MB"
            )
