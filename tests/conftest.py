"""Fixtures: a fresh database, the Slack stand-in, and the desk served over HTTP between them; the Teams
stand-ins come from teams_fixtures, Jira's from jira_fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from adapters.slack.devkit.requests import SlackRequests
from adapters.slack.devkit.standin import SlackStandIn
from chatops.config.settings import Settings
from chatops.entrypoints.serving import BackgroundServer
from harness import SIGNING_SECRET, Probe, Slack, fresh_database, served_desk, settings_for

# The Teams and Jira stand-ins, as fixtures for their tests.
pytest_plugins = ["teams_fixtures", "jira_fixtures"]
# The test workspace's channels by name: a #name typed in a message is linked by Slack if it is one of them.
CHANNELS = {"general": "C0GENERAL", "support": "C0SUPPORT", "billing": "C0BILLING", "help": "C0HELP"}

# Tracebacks plain, as the desk logs them: the console's default draws each with its variables' values,
# seconds of the in-process desk's event loop on a busy machine (and the words people wrote, besides).
structlog.configure(
    processors=[
        *structlog.get_config()["processors"][:-1],
        structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback),
    ]
)


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn(channels=CHANNELS) as running:
        yield running


@pytest.fixture
def settings(database_url: str, standin: SlackStandIn) -> Settings:
    return settings_for(database_url, standin.base_url)


@pytest.fixture
def served(settings: Settings) -> Iterator[BackgroundServer]:
    desk = served_desk(settings).start()
    yield desk
    desk.stop()


@pytest.fixture
def slack(standin: SlackStandIn, served: BackgroundServer) -> Slack:
    return Slack(standin, SlackRequests(SIGNING_SECRET), lambda: served.url)


@pytest.fixture
def probe(database_url: str) -> Iterator[Probe]:
    reader = Probe(database_url)
    yield reader
    reader.close()
