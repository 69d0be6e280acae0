"""Health means the database keeps what it is told: /healthz writes, and nobody is told of a lost ticket."""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.slack.devkit.requests import SlackRequests
from adapters.slack.devkit.standin import SlackStandIn
from chatops.entrypoints.serving import BackgroundServer
from chatops.store import migrate
from chatops.store.db import Database
from chatops.store.tables import Replica
from harness import PG_ENV, SIGNING_SECRET, Probe, Slack, refusing_writes, served_desk, settings_for

SQLITE_ONLY = pytest.mark.skipif(bool(os.environ.get(PG_ENV)), reason="a database file is SQLite's alone")


def health(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def test_healthz_proves_a_write_and_names_the_replica(probe: Probe, served: BackgroundServer) -> None:
    assert health(served.url) == (200, {"ok": True})

    with Session(probe.engine) as session:
        replicas = list(session.scalars(select(Replica)))
    assert len(replicas) == 1 and replicas[0].seen_at >= replicas[0].started_at


@SQLITE_ONLY
def test_a_database_file_removed_under_the_server_is_unhealthy_and_loses_no_promise(
    tmp_path: Path, standin: SlackStandIn
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    settings = settings_for(f"sqlite:///{folder / 'chatops.db'}", standin.base_url)
    server = served_desk(settings).start()
    try:
        slack = Slack(standin, SlackRequests(SIGNING_SECRET), lambda: server.url)
        assert slack.open_ticket("The export crashes") == 1
        shutil.rmtree(folder)

        status, body = health(server.url)
        reply = slack.reply_text(slack.command("The import crashes too"))

        assert status == 503
        assert body == {
            "ok": False,
            "database": f"the database file {folder.resolve() / 'chatops.db'} is gone "
            "(removed or moved while the server runs)",
        }
        assert reply.startswith("The desk cannot save anything at the moment, so this was not recorded.")
        assert "Ticket #2" not in reply
    finally:
        server.stop()


def test_a_database_that_refuses_writes_is_unhealthy_and_every_request_is_told(
    database_url: str, standin: SlackStandIn
) -> None:
    db = Database(database_url)
    migrate.upgrade(db.engine)
    db.close()
    with refusing_writes(database_url):
        server = served_desk(settings_for(database_url, standin.base_url)).start()
        try:
            slack = Slack(standin, SlackRequests(SIGNING_SECRET), lambda: server.url)
            status, body = health(server.url)
            reply = slack.reply_text(slack.command("The export crashes"))
        finally:
            server.stop()

    assert status == 503
    assert body["ok"] is False and body["database"].startswith("writes fail: ")
    assert "read-only" in body["database"] or "readonly" in body["database"]
    assert reply.startswith("Something went wrong on our side and your request was not recorded.")
