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
from adapters.slack.gateway import POSTS_PER_SECOND, SlackGateway, make_client
from adapters.slack.http import slack_endpoint
from adapters.slack.identity import BotIdentity, SlackUnreachable
from adapters.slack.text import SlackNames
from chatops.bus import MessageBus, Reactions
from chatops.clock import Clock, SystemClock
from chatops.composition import cards
from chatops.config.rules import DeskConfig
from chatops.config.settings import Settings, require_jira_credentials
from chatops.desk import Desk
from chatops.errors import ConfigError
from chatops.messaging.cards import Card
from chatops.messaging.chat_jobs import chat_handlers
from chatops.messaging.dispatcher import Dispatcher
from chatops.messaging.ports import ChatGateway, DeliveryError, Pace, PermanentFailure
from chatops.people.directory import Directory, Person
from chatops.people.roles import Roles
from chatops.scheduling import Timers
from chatops.store import migrate
from chatops.store.db import Database
from chatops.store.health import Health
from chatops.tickets.card import TicketCard
from chatops.tickets.delivery import CardDelivery
from chatops.tracking.jobs import TrackerJobs
from chatops.tracking.ports import Tracker
from chatops.tracking.product import ProductCards
from commands.routes import pipeline_of

if TYPE_CHECKING:
    # Teams' side is imported only for a desk that has Teams: its SDK alone holds some 30 MB.
    from adapters.teams.wiring import TeamsSide
    from integrations.jira.client import JiraTracker

log = structlog.get_logger("chatops.bootstrap")

BATCH_SIZE = 100
CONCURRENCY = 16
# A worker hears of no commit: it looks for new rows this often instead.
WORKER_POLL = 0.2
# Renewed while the replica lives (every third of it): a replica that dies frees its rows within one lease.
LEASE = timedelta(seconds=15)
# Jira Cloud limits by cost rather than count; a few calls a second stays well within it.
TRACKER_PACE = Pace("jira", per_second=5.0, burst=5)
TRACKER_CALLS = 4


@dataclass
class TrackerSide:
    """The desk's issue tracker: the client, the dispatcher that calls it, and where its webhook proves
    itself."""

    client: JiraTracker
    dispatcher: Dispatcher
    webhook_secret: str
    url: str


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
    tracker: TrackerSide | None = None

    def dispatchers(self) -> list[Dispatcher]:
        """Every dispatcher of the desk: the chat platforms', and the tracker's beside it."""
        return [self.dispatcher] + ([self.tracker.dispatcher] if self.tracker is not None else [])


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


def desk_of(config: DeskConfig, tracker: str | None = None) -> Desk:
    """The desk's rules, with its people and their roles, and the tracker it is connected to."""
    directory = Directory(Person(p.id, p.name, p.slack, p.teams, p.email) for p in config.people)
    return Desk(config, directory, Roles(config.teams, config.vip_users, directory), tracker=tracker)


def card_of(desk: Desk, clock: Clock) -> Callable[[TicketCard], Card]:
    """How the desk draws a ticket's card, as of the moment it is drawn."""
    return lambda ticket: cards.draw(ticket, desk, clock.now())


def dispatcher_for(
    db: Database, desk: Desk, clock: Clock, gateways: dict[str, ChatGateway], **options: object
) -> Dispatcher:
    """The outbox dispatcher of the chat platforms, with every handler the desk has for the platforms it
    has gateways to; the tracker's rows are left to the tracker's own dispatcher."""
    delivery = CardDelivery(
        desk, lambda session, views: cards.load(session, views, desk), card_of(desk, clock)
    )
    handlers = {**chat_handlers(gateways), **delivery.handlers(gateways)}
    if desk.tracker is not None:
        handlers.update(ProductCards(desk, desk.tracker).handlers(list(gateways)))
    excluding = (desk.tracker,) if desk.tracker is not None else ()
    return Dispatcher(
        db,
        clock,
        handlers=handlers,
        gateways=gateways,
        prepare=delivery.prepare,
        excluding=excluding,
        react=Reactions(desk),
        **options,  # type: ignore[arg-type]
    )


def tracker_dispatcher(
    db: Database,
    desk: Desk,
    clock: Clock,
    tracker: Tracker,
    gateways: dict[str, ChatGateway],
    **options: object,
) -> Dispatcher:
    """The dispatcher that carries out the tracker's rows alone: a slow tracker holds back no card."""
    jobs = TrackerJobs(desk, tracker, TRACKER_PACE)
    return Dispatcher(
        db,
        clock,
        handlers=jobs.handlers(),
        gateways=gateways,
        targets=(tracker.system,),
        react=Reactions(desk),
        concurrency=TRACKER_CALLS,
        # A batch is recorded once all its calls are done: small batches let each issue show up soon.
        batch_size=TRACKER_CALLS * 2,
        **options,  # type: ignore[arg-type]
    )


def build_desk(
    settings: Settings,
    config: DeskConfig,
    *,
    clock: Clock | None = None,
    poll_interval: float = 1.0,
    slack_posts_per_second: float = POSTS_PER_SECOND,
) -> Desktop:
    """Wire the desk to the database, Slack and the outbox dispatcher (on the running event loop);
    `slack_posts_per_second` is Slack's pace of posts in a channel, scaled up only against a stand-in."""
    clock = clock or SystemClock()
    _only_connected_platforms(config, {"slack", "teams"} if settings.teams_enabled else {"slack"})
    require_jira_credentials(settings, rules=config.jira is not None)
    db = Database(settings.database_url)
    try:
        prepare_database(db)
    except Exception:
        db.close()
        raise
    tracker = _tracker(settings) if settings.jira_enabled else None
    desk = desk_of(config, tracker.system if tracker is not None else None)
    client = make_client(settings.slack_bot_token, settings.slack_api_url, settings.slack_timeout)
    gateway = SlackGateway(client, desk.directory, posts_per_second=slack_posts_per_second)
    gateways: dict[str, ChatGateway] = {"slack": gateway}
    teams_link = None
    if settings.teams_enabled:
        from adapters.teams.gateway import TeamsGateway
        from adapters.teams.wiring import teams_link as link_teams

        teams_link = link_teams(settings, db, clock)
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
    tracking = (
        TrackerSide(
            tracker,
            tracker_dispatcher(db, desk, clock, tracker, gateways, lease=LEASE, poll_interval=poll_interval),
            settings.jira_webhook_secret,
            settings.jira_url,
        )
        if tracker is not None
        else None
    )
    on_commit = dispatcher.wake if tracking is None else _both(dispatcher, tracking.dispatcher)
    bus = MessageBus(db, desk, clock, on_commit=on_commit)
    pipeline = pipeline_of(bus)
    identity = BotIdentity()
    bolt = build_bolt_app(
        client=client, config=config, pipeline=pipeline, identity=identity, names=SlackNames(client)
    )
    teams = None
    if teams_link is not None:
        from adapters.teams.wiring import teams_side

        teams = teams_side(settings, config, pipeline, *teams_link)
    return Desktop(
        db,
        bolt,
        dispatcher,
        bus,
        gateway,
        identity,
        settings.slack_signing_secret,
        Health(db, clock),
        Timers(bus),
        teams,
        tracking,
    )


def _both(one: Dispatcher, other: Dispatcher) -> Callable[[], None]:
    def wake() -> None:
        one.wake()
        other.wake()

    return wake


def _tracker(settings: Settings) -> JiraTracker:
    from integrations.jira.client import JiraTracker

    return JiraTracker(
        settings.jira_url,
        user=settings.jira_user,
        api_token=settings.jira_api_token,
        token=settings.jira_token,
        timeout=settings.jira_timeout,
    )


async def check_tracker(desktop: Desktop) -> str | None:
    """Check the configured projects and issue types with Jira: None if they hold, else why Jira was
    silent (ConfigError: a project or issue type is missing, or Jira refused the credentials)."""
    if desktop.tracker is None:
        return None
    rules = desktop.bus.desk.config.jira
    kinds = {
        f"jira.categories.{category}": (kind.project, kind.issue_type)
        for category, kind in (rules.categories.items() if rules is not None else ())
    }
    try:
        await desktop.tracker.client.check(kinds)
    except PermanentFailure as refused:
        raise ConfigError(f"JIRA_URL: Jira refused the desk ({refused})") from None
    except DeliveryError as silent:
        return str(silent)
    return None


def _only_connected_platforms(config: DeskConfig, connected: set[str]) -> None:
    """Refuse a place on a platform this desk cannot reach: its cards would never be posted."""
    for key, place in config.all_places():
        if place.platform not in connected:
            raise ConfigError(f"{key}: this desk has no {place.platform} connection; remove the setting")


async def check_teams(desktop: Desktop) -> str | None:
    """Get the bot's first token for Teams: None if it came, else why the authority was silent
    (ConfigError: it refused the app's credentials)."""
    return await desktop.teams.connection.check_credentials() if desktop.teams is not None else None


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
        waiting = await desktop.teams.waiting() if desktop.teams is not None else []
        if waiting:
            # The desk works; these places' cards wait until someone uses the bot there (or installs it).
            return web.json_response({"ok": True, "teams_waiting_for": waiting})
        return web.json_response({"ok": True})

    async def dispatcher_running(_app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(run_dispatchers(desktop), name="outbox-dispatcher") if dispatch else None
        desktop.timers.start()
        yield
        desktop.timers.stop()
        for dispatcher in desktop.dispatchers():
            dispatcher.stop()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=30)
        await close_outside(desktop)
        await asyncio.get_running_loop().run_in_executor(None, desktop.db.close)

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/slack/events", slack_endpoint(desktop.bolt, desktop.signing_secret))
    if desktop.teams is not None:
        from adapters.teams.http import messages_endpoint

        teams = desktop.teams
        app.router.add_post("/api/messages", messages_endpoint(teams.adapter, teams.agent, teams.tokens))
    if desktop.tracker is not None:
        from integrations.jira.webhook import PATH, webhook_endpoint

        tracker = desktop.tracker
        app.router.add_post(PATH, webhook_endpoint(desktop.bus, tracker.webhook_secret, tracker.url))
    app.router.add_get("/healthz", healthz)
    app.cleanup_ctx.append(dispatcher_running)
    return app


async def run_dispatchers(desktop: Desktop) -> None:
    """Run every dispatcher of the desk until each is stopped."""
    await asyncio.gather(*(dispatcher.run() for dispatcher in desktop.dispatchers()))


async def close_outside(desktop: Desktop) -> None:
    """Release the connections to the chat platforms and the tracker."""
    for gateway in desktop.dispatcher.gateways.values():
        await gateway.close()
    if desktop.tracker is not None:
        await desktop.tracker.client.close()
