"""The composition root: builds the desk, the Slack adapter and the dispatcher into one aiohttp server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import structlog
from aiohttp import web
from slack_bolt.async_app import AsyncApp

from adapters.slack.app import build_bolt_app
from adapters.slack.gateway import SlackGateway, make_client
from adapters.slack.http import slack_endpoint
from adapters.slack.identity import BotIdentity, SlackUnreachable
from adapters.slack.text import SlackNames
from chatops.config import DeskConfig, Settings
from chatops.desk import Desk
from chatops.dispatcher import Dispatcher
from chatops.errors import ConfigError
from chatops.health import Health
from chatops.ports import Clock, SystemClock
from chatops.service import DeskService
from chatops.store import migrate
from chatops.store.db import Database
from chatops.ticket_card import ticket_card

log = structlog.get_logger("chatops.app")

BATCH_SIZE = 100
CONCURRENCY = 16
# Renewed while the replica lives (every third of it): a replica that dies frees its rows within one lease.
LEASE = timedelta(seconds=15)


@dataclass
class Desktop:
    """Every long-lived part of a running desk, built once."""

    db: Database
    bolt: AsyncApp
    dispatcher: Dispatcher
    service: DeskService
    gateway: SlackGateway
    identity: BotIdentity
    signing_secret: str
    health: Health


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


def build_desk(settings: Settings, config: DeskConfig, *, clock: Clock | None = None) -> Desktop:
    """Wire the desk to the database, Slack and the outbox dispatcher (on the running event loop)."""
    clock = clock or SystemClock()
    db = Database(settings.database_url)
    try:
        prepare_database(db)
    except Exception:
        db.close()
        raise
    client = make_client(settings.slack_bot_token, settings.slack_api_url, settings.slack_timeout)
    gateway = SlackGateway(client)
    dispatcher = Dispatcher(
        db,
        gateway,
        clock,
        render=lambda view: ticket_card(view, config),
        card_place=lambda view: config.team(view.team).slack_channel,
        lease=LEASE,
        batch_size=BATCH_SIZE,
        concurrency=CONCURRENCY,
    )
    service = DeskService(db, Desk(config, clock), on_commit=dispatcher.wake)
    identity = BotIdentity()
    bolt = build_bolt_app(
        client=client, config=config, service=service, identity=identity, names=SlackNames(client)
    )
    return Desktop(
        db, bolt, dispatcher, service, gateway, identity, settings.slack_signing_secret, Health(db, clock)
    )


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


def build_web_app(desktop: Desktop) -> web.Application:
    """The HTTP face of the desk: Slack's endpoint and a health check; runs the dispatcher alongside."""

    async def healthz(_request: web.Request) -> web.Response:
        problem = await desktop.health.problem()
        if problem is not None:
            return web.json_response({"ok": False, "database": problem}, status=503)
        return web.json_response({"ok": True})

    async def dispatcher_running(_app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(desktop.dispatcher.run(), name="outbox-dispatcher")
        yield
        desktop.dispatcher.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=30)
        await desktop.gateway.close()
        await asyncio.get_running_loop().run_in_executor(None, desktop.db.close)

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/slack/events", slack_endpoint(desktop.bolt, desktop.signing_secret))
    app.router.add_get("/healthz", healthz)
    app.cleanup_ctx.append(dispatcher_running)
    return app
