"""`chatops serve` checks its bot token with Slack before it takes requests, and copes while Slack is away."""

from __future__ import annotations

import socket
from pathlib import Path

from adapters.slack.devkit.requests import SlackRequests, send
from adapters.slack.devkit.standin import SlackStandIn
from chatops.config.settings import Settings
from harness import SIGNING_SECRET, Probe, ServerProcess, serve_until_it_stops


def test_a_revoked_token_stops_serve_with_one_line(settings: Settings, standin: SlackStandIn) -> None:
    standin.inject("auth.test", "error:token_revoked")

    done = serve_until_it_stops(settings)

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "chatops: SLACK_BOT_TOKEN: Slack refused it (token_revoked: the token was revoked); "
        "reinstall the app and copy its Bot User OAuth Token again"
    )
    assert [c.method for c in standin.calls()] == ["auth.test"]


def test_a_missing_token_stops_serve_before_any_call(settings: Settings, standin: SlackStandIn) -> None:
    done = serve_until_it_stops(settings, SLACK_BOT_TOKEN="")

    assert done.returncode == 2
    assert done.stderr.strip().startswith("chatops: SLACK_BOT_TOKEN: not set;")
    assert len(done.stderr.strip().splitlines()) == 1
    assert standin.calls() == []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_while_slack_is_unreachable_serve_takes_tickets_and_tries_again(
    settings: Settings, probe: Probe, tmp_path: Path
) -> None:
    port = free_port()
    away = settings.model_copy(update={"slack_api_url": f"http://127.0.0.1:{port}/api/"})
    log = tmp_path / "serve.log"
    server = ServerProcess(away, log).start()
    try:
        reply = send(
            server.url + "/slack/events",
            SlackRequests(SIGNING_SECRET).slash_command("The export crashes", user_id="U0CUSTOMER"),
        )
        assert reply.status == 200
        assert reply.json()["text"].startswith("Ticket #1 opened")
        assert "chatops: SLACK_API_URL: Slack does not answer" in log.read_text()

        with SlackStandIn(port=port) as standin:
            standin.wait_for("auth.test", timeout=20)
            standin.wait_for(
                "chat.postMessage", where=lambda c: c.params["channel"] == "C0SUPPORT", timeout=30
            )
        assert [t.id for t in probe.tickets()] == [1]
    finally:
        server.terminate()
    assert "Traceback" not in log.read_text()
