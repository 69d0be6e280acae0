"""`chatops serve --no-dispatch` only takes requests; `chatops worker` posts what they queued."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from test_cli import chatops, ready, refused

from adapters.slack.devkit.requests import SlackRequests
from adapters.slack.devkit.standin import SlackStandIn
from chatops.config.settings import Settings
from harness import SIGNING_SECRET, Probe, ServerProcess, Slack


def start_worker(settings: Settings, log: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": settings.slack_bot_token,
        "SLACK_API_URL": settings.slack_api_url,
        "DATABASE_URL": settings.database_url,
        "CHATOPS_CONFIG": settings.chatops_config,
    }
    with log.open("w") as stderr:
        worker = subprocess.Popen(
            [sys.executable, "-m", "chatops", "worker"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    assert worker.stdout is not None
    assert worker.stdout.readline().startswith("chatops: worker carrying out the outbox"), log.read_text()
    return worker


def test_cards_queued_by_serve_are_posted_by_the_worker(
    settings: Settings, standin: SlackStandIn, probe: Probe, tmp_path: Path
) -> None:
    server = ServerProcess(settings, tmp_path / "serve.log", "--no-dispatch").start()
    worker = None
    try:
        slack = Slack(standin, SlackRequests(SIGNING_SECRET), lambda: server.url)
        number = slack.open_ticket("Export crashes every time")
        time.sleep(1.5)
        assert standin.calls("chat.postMessage") == [] and probe.pending_outbox() == 1

        worker = start_worker(settings, tmp_path / "worker.log")

        slack.card(number, timeout=10)
        assert slack.click(number, "claim", user="U0AGENT1").status == 200
        assert slack.wait_thread(number, 1, timeout=10)[0].startswith("<@U0AGENT1> assigned the ticket")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
        assert probe.pending_outbox() == 0
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
        server.terminate()
    assert "Traceback" not in (tmp_path / "worker.log").read_text()


def test_the_worker_without_a_bot_token_names_it(tmp_path: Path) -> None:
    done = chatops(tmp_path, "worker", env=ready(tmp_path, SLACK_BOT_TOKEN=""))
    assert "SLACK_BOT_TOKEN: not set" in refused(done, "SLACK_BOT_TOKEN")
