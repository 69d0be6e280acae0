"""The composition root: the one place that knows every concrete part, and builds the desk from them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog
from aiohttp import web
from slack_bolt.async_app import AsyncApp

from adapters.slack.app import build_bolt_app
from adapters.slack.gateway import SlackGateway, make_client
from adapters.slack.http import slack_endpoint
from adapters.slack.identity import BotIdentity, SlackUnreachable
from adapters.slack.text import SlackNames
from chatops.bus import MessageBus
from chatops.clock import Clock, SystemClock
from chatops.config.rules import DeskConfig
from chatops.config.settings import Settings
from chatops.desk import Desk
from chatops.entrypoints.scheduling import Timers
from chatops.errors import ConfigError
from chatops.messaging.addresses import AddressBook, place_key
from chatops.messaging.cards import Card
from chatops.messaging.chat_jobs import chat_handlers
from chatops.messaging.dispatcher import Dispatcher
from chatops.messaging.ports import ChatGateway
from chatops.people.directory import Directory, Person
from chatops.people.roles import Roles
from chatops.store import migrate
from chatops.store.db import Database
from chatops.store.health import Health
from chatops.tickets.card import ticket_card
from chatops.tickets.delivery import CardDelivery
from chatops.tickets.model import TicketView

if TYPE_CHECKING:
    # Teams' side is imported only for a desk that has Teams: its SDK alone holds some 30 MB.
    from microsoft_agents.hosting.aiohttp import CloudAdapter

    from adapters.teams.auth import ChannelTokens
    from adapters.teams.connection import TeamsConnection
    from adapters.teams.inbound import TeamsAgent

log = structlog.get_logger("chatops.bootstrap")

BATCH_SIZE = 100
CONCURRENCY = 16
# A worker hears of no commit: it looks for new rows this often instead.
WORKER_POLL = 0.2
# Renewed while the replica lives (every third of it): a replica that dies frees its rows within one lease.
LEASE = timedelta(seconds=15)


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


@dataclass
class Desktop:
    """Every long-lived part of a running desk, built once."""

    db: Database
    bolt: AsyncApp
    dispatcher: Dispatcher
    bus: MessageBus
    gateway: SlackGateway
    identity: BotIdentity
    signing_secret: str
    health: Health
    timers: Timers
    teams: TeamsSide | None = None


def prepare_database(db: Database) -> None:
    """Create the schema on an empty database; refuse one that is behind or not ours."""
    state = migrate.state(db.engine)
    if state is migrate.SchemaState.EMPTY:
        migrate.upgrade(db.engine)
        log.info("database_created", revision=migrate.head())
    elif state is migrate.SchemaState.BEHIND:
        raise ConfigError("database: the schema is behind this version; run `chatops db upgrade` first")
    elif state is migrate.SchemaState.UNKNOWN:
        raise ConfigError("DATABASE_URL: the database holds tables that are not chatops's; use an empty one")


def desk_of(config: DeskConfig) -> Desk:
    """The desk's rules, with its people and their roles."""
    directory = Directory(Person(p.id, p.name, p.slack, p.teams, p.email) for p in config.people)
    return Desk(config, directory, Roles(config, directory))


def card_of(desk: Desk, clock: Clock) -> Callable[[TicketView], Card]:
    """How the desk draws a ticket's card, as of the moment it is drawn."""
    return lambda view: ticket_card(view, desk.config, desk.roles.staff(view.team), clock.now())


def dispatcher_for(
    db: Database, desk: Desk, clock: Clock, gateways: dict[str, ChatGateway], **options: object
) -> Dispatcher:
    """The outbox dispatcher with every handler the desk has, for the platforms it has gateways to."""
    delivery = CardDelivery(desk, card_of(desk, clock))
    handlers = {**chat_handlers(gateways), **delivery.handlers(gateways)}
    return Dispatcher(db, clock, handlers=handlers, gateways=gateways, prepare=delivery.prepare, **options)  # type: ignore[arg-type]


def build_desk(
    settings: Settings, config: DeskConfig, *, clock: Clock | None = None, poll_interval: float = 1.0
) -> Desktop:
    """Wire the desk to the database, Slack and the outbox dispatcher (on the running event loop)."""
    clock = clock or SystemClock()
    _only_connected_platforms(config, {"slack", "teams"} if settings.teams_enabled else {"slack"})
    db = Database(settings.database_url)
    try:
        prepare_database(db)
    except Exception:
        db.close()
        raise
    desk = desk_of(config)
    client = make_client(settings.slack_bot_token, settings.slack_api_url, settings.slack_timeout)
    gateway = SlackGateway(client, desk.directory)
    gateways: dict[str, ChatGateway] = {"slack": gateway}
    teams_link = _teams_link(settings, db, clock) if settings.teams_enabled else None
    if teams_link is not None:
        from adapters.teams.gateway import TeamsGateway

        gateways["teams"] = TeamsGateway(*teams_link, desk.directory)
    dispatcher = dispatcher_for(
        db,
        desk,
        clock,
        gateways,
        lease=LEASE,
        batch_size=BATCH_SIZE,
        concurrency=CONCURRENCY,
        poll_interval=poll_interval,
    )
    bus = MessageBus(db, desk, clock, on_commit=dispatcher.wake)
    identity = BotIdentity()
    bolt = build_bolt_app(client=client, config=config, bus=bus, identity=identity, names=SlackNames(client))
    teams = _teams_side(settings, config, desk, bus, *teams_link) if teams_link is not None else None
    return Desktop(
        db,
        bolt,
        dispatcher,
        bus,
        gateway,
        identity,
        settings.slack_signing_secret,
        Health(db, clock),
        Timers(bus, clock),
        teams,
    )


def _teams_link(settings: Settings, db: Database, clock: Clock) -> tuple[TeamsConnection, AddressBook]:
    from adapters.teams.connection import TeamsConnection

    connection = TeamsConnection(
        app_id=settings.microsoft_app_id,
        password=settings.microsoft_app_password,
        tenant_id=settings.microsoft_app_tenant_id,
        authority=settings.token_authority,
        timeout=settings.teams_timeout,
        insecure=settings.chatops_teams_insecure,
    )
    return connection, AddressBook(db, "teams", clock)


def _teams_side(
    settings: Settings,
    config: DeskConfig,
    desk: Desk,
    bus: MessageBus,
    connection: TeamsConnection,
    addresses: AddressBook,
) -> TeamsSide:
    from microsoft_agents.hosting.aiohttp import CloudAdapter

    from adapters.teams.auth import ChannelTokens
    from adapters.teams.inbound import TeamsAgent

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
    places = tuple(p.address for team in config.teams for p in team.places() if p.platform == "teams")
    agent = TeamsAgent(bus, addresses, desk.directory, card_of(desk, bus.clock))
    return TeamsSide(connection, adapter, agent, tokens, addresses, places)


def _only_connected_platforms(config: DeskConfig, connected: set[str]) -> None:
    """Refuse a team place on a platform this desk cannot reach: its cards would never be posted."""
    for index, team in enumerate(config.teams):
        for place in team.places():
            if place.platform not in connected:
                raise ConfigError(
                    f"teams[{index}].{place.platform}_channel: this desk has no {place.platform} connection; "
                    "remove the setting"
                )


async def check_teams(desktop: Desktop) -> str | None:
    """Get the bot's first token for Teams: None if it came, else why the authority was silent
    (ConfigError: it refused the app's credentials)."""
    return await desktop.teams.connection.check_credentials() if desktop.teams is not None else None


async def teams_waiting(desktop: Desktop) -> list[str]:
    """The Teams channels cards are due in that Teams has not yet shown the bot."""
    if desktop.teams is None:
        return []
    missing = await desktop.teams.addresses.missing(place_key(place) for place in desktop.teams.places)
    return [key.removeprefix("place:") for key in missing]


async def check_platform(desktop: Desktop) -> str | None:
    """Check the bot token with Slack: None if it holds, else why Slack was silent (ConfigError: refused)."""
    try:
        await desktop.identity.check(desktop.gateway.client)
    except SlackUnreachable as unreachable:
        return str(unreachable)
    return None


async def wait_for_platform(desktop: Desktop) -> None:
    """Ask Slack again until it answers; ConfigError if it then refuses the token."""
    await desktop.identity.keep_checking(desktop.gateway.client)


def build_web_app(desktop: Desktop, *, dispatch: bool = True) -> web.Application:
    """The HTTP face of the desk: Slack's endpoint and a health check; runs the dispatcher alongside
    unless `dispatch` is off (a worker process carries out the outbox instead)."""

    async def healthz(_request: web.Request) -> web.Response:
        problem = await desktop.health.problem()
        if problem is not None:
            return web.json_response({"ok": False, "database": problem}, status=503)
        waiting = await teams_waiting(desktop)
        if waiting:
            # The desk works; these places' cards wait until someone uses the bot there (or installs it).
            return web.json_response({"ok": True, "teams_waiting_for": waiting})
        return web.json_response({"ok": True})

    async def dispatcher_running(_app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(desktop.dispatcher.run(), name="outbox-dispatcher") if dispatch else None
        desktop.timers.start()
        yield
        desktop.timers.stop()
        desktop.dispatcher.stop()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=30)
        for gateway in desktop.dispatcher.gateways.values():
            await gateway.close()
        await asyncio.get_running_loop().run_in_executor(None, desktop.db.close)

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/slack/events", slack_endpoint(desktop.bolt, desktop.signing_secret))
    if desktop.teams is not None:
        from adapters.teams.inbound import messages_endpoint

        teams = desktop.teams
        app.router.add_post("/api/messages", messages_endpoint(teams.adapter, teams.agent, teams.tokens))
    app.router.add_get("/healthz", healthz)
    app.cleanup_ctx.append(dispatcher_running)
    return app
