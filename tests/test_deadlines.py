"""A request the desk cannot get to before its sender gives up is dropped unrun, and its sender told so,
over HTTP and over Socket Mode alike."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from adapters.slack.devkit.requests import SlackRequests
from adapters.slack.devkit.standin import SlackStandIn
from adapters.slack.socket_mode import connect_socket_mode
from chatops.bootstrap import Desktop, build_desk, build_web_app
from chatops.config.loading import load_desk_config
from chatops.config.settings import Settings
from chatops.entrypoints.serving import BackgroundServer
from chatops.store.db import Database
from harness import SIGNING_SECRET, Probe, Slack

# Longer than the desk's reply budget (2.5 s): every request queued meanwhile has been given up on.
STALL = 3.5


def stall_every_writer(db: Database) -> threading.Event:
    """Keep each of the database's writers busy on a unit of its own; set the event to let them go."""
    release = threading.Event()
    for _ in range(len(db._writers)):
        started = threading.Event()

        def hold(_session: Any, started: threading.Event = started) -> None:
            started.set()
            release.wait(30)

        threading.Thread(target=db.run_sync, args=(hold,), daemon=True).start()
        assert started.wait(10), "a writer did not take its unit"
    threading.Timer(STALL, release.set).start()
    return release


@pytest.mark.parametrize("transport", ["http", "socket_mode"])
def test_a_command_queued_past_its_deadline_is_dropped_and_its_sender_told(
    settings: Settings, standin: SlackStandIn, probe: Probe, transport: str
) -> None:
    built: list[Desktop] = []

    def build() -> Any:
        built.append(build_desk(settings, load_desk_config(settings.chatops_config)))
        return build_web_app(built[0])

    server = BackgroundServer(build).start()
    socket = None
    try:
        desktop = built[0]
        requests = SlackRequests(SIGNING_SECRET)
        if transport == "socket_mode":
            socket = server.run(connect_socket_mode(desktop.bolt, "xapp-test"))
            standin.wait_socket_connected(timeout=20)
        release = stall_every_writer(desktop.db)

        if transport == "http":
            slack = Slack(standin, requests, lambda: server.url)
            reply = slack.reply_text(slack.command("Export crashes, urgent"))
        else:
            payload = requests.slash_command_payload("Export crashes, urgent", user_id="U0CUSTOMER")
            reply = standin.socket_request("slash_commands", payload, timeout=20)["payload"]["text"]

        assert release.is_set(), "the answer came before the writers were free: nothing was queued"
        assert reply.startswith(
            "The desk is very busy and could not record this in time, so nothing was saved."
        )
        assert probe.tickets() == []
    finally:
        if socket is not None:
            server.run(socket.close_async())
        server.stop()
