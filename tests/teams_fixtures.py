"""The Teams stand-ins as pytest fixtures: a test certificate authority, an identity provider, a Bot
Connector, and the desk served with Teams on, trusting the test authority as a private deployment would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from teams_harness import Teams, teams_settings

from adapters.slack.devkit.standin import SlackStandIn
from adapters.teams.devkit.authority import IdentityProvider
from adapters.teams.devkit.connector import BotConnector
from adapters.teams.devkit.tls import LocalCA
from chatops.config.settings import Settings
from chatops.entrypoints.serving import BackgroundServer
from harness import served_desk


@pytest.fixture(scope="module")
def ca() -> Iterator[LocalCA]:
    """A certificate authority made for the module's tests."""
    with LocalCA() as made:
        yield made


@pytest.fixture
def identity(ca: LocalCA) -> Iterator[IdentityProvider]:
    """The Bot Framework's and Entra's look-alike, served over https."""
    with IdentityProvider(ca) as served:
        yield served


@pytest.fixture
def connector(ca: LocalCA, identity: IdentityProvider) -> Iterator[BotConnector]:
    """The Bot Connector behind the activities' serviceUrl."""
    with BotConnector(ca, identity) as served:
        yield served


@pytest.fixture
def trusting(ca: LocalCA, monkeypatch: pytest.MonkeyPatch) -> LocalCA:
    """The test authority added to what outbound TLS trusts, through the variables an operator would set."""
    for name, value in ca.environment.items():
        monkeypatch.setenv(name, value)
    return ca


@pytest.fixture
def teams_desk_settings(
    database_url: str, standin: SlackStandIn, identity: IdentityProvider, trusting: LocalCA
) -> Settings:
    """A desk in Slack and in Teams."""
    return teams_settings(database_url, standin.base_url, identity)


@pytest.fixture
def teams_served(teams_desk_settings: Settings) -> Iterator[BackgroundServer]:
    """The desk with Teams on, served over HTTP."""
    desk = served_desk(teams_desk_settings).start()
    yield desk
    desk.stop()


@pytest.fixture
def teams(identity: IdentityProvider, connector: BotConnector, teams_served: BackgroundServer) -> Teams:
    """Teams talking to the served desk."""
    return Teams(identity, connector, lambda: teams_served.url)
