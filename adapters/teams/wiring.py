"""The desk's Teams side, built from the settings: the connection that calls the Bot Connector, the SDK's
adapter with our agent for what Teams sends, the token checks, and the conversations the desk keeps."""

from __future__ import annotations

from dataclasses import dataclass

from microsoft_agents.hosting.aiohttp import CloudAdapter

from adapters.teams.auth import ChannelTokens
from adapters.teams.connection import TeamsConnection
from adapters.teams.inbound import TeamsAgent
from chatops.clock import Clock
from chatops.config.rules import DeskConfig
from chatops.config.settings import Settings
from chatops.messaging.addresses import AddressBook, place_key
from chatops.store.db import Database
from commands.pipeline import Pipeline

PLATFORM = "teams"


@dataclass
class TeamsSide:
    """The desk's Teams connection: the SDK's adapter and our agent for requests, and the addresses kept."""

    connection: TeamsConnection
    adapter: CloudAdapter
    agent: TeamsAgent
    # None only in the local emulator mode, where nothing is checked.
    tokens: ChannelTokens | None
    addresses: AddressBook
    # The Teams channels the desk's teams post their cards in.
    places: tuple[str, ...]

    async def waiting(self) -> list[str]:
        """The Teams channels cards are due in that Teams has not yet shown the bot."""
        missing = await self.addresses.missing(place_key(place) for place in self.places)
        return [key.removeprefix("place:") for key in missing]


def teams_link(settings: Settings, db: Database, clock: Clock) -> tuple[TeamsConnection, AddressBook]:
    """How the desk calls Teams: the connection, and the conversations it keeps to write to first."""
    connection = TeamsConnection(
        app_id=settings.microsoft_app_id,
        password=settings.microsoft_app_password,
        tenant_id=settings.microsoft_app_tenant_id,
        authority=settings.token_authority,
        timeout=settings.teams_timeout,
        insecure=settings.chatops_teams_insecure,
    )
    return connection, AddressBook(db, PLATFORM, clock)


def teams_side(
    settings: Settings,
    config: DeskConfig,
    pipeline: Pipeline,
    connection: TeamsConnection,
    addresses: AddressBook,
) -> TeamsSide:
    """How the desk takes what Teams sends: the SDK's adapter running our agent, behind the token checks."""
    adapter = CloudAdapter(
        connection_manager=connection.connections, channel_service_client_factory=connection.client_factory()
    )
    # The SDK's default tells the person the exception's text; our agent answers people itself, and what
    # reaches the adapter is only the wish to have an activity sent again.
    adapter.on_turn_error = None
    tokens = (
        None
        if settings.chatops_teams_insecure
        else ChannelTokens(
            settings.microsoft_app_id, settings.teams_openid_metadata_url, ssl_context=connection.tls
        )
    )
    places = tuple(p.address for team in config.teams for p in team.places() if p.platform == PLATFORM)
    return TeamsSide(connection, adapter, TeamsAgent(pipeline, addresses), tokens, addresses, places)
