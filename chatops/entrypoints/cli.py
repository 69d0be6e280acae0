"""The `chatops` command: serve the desk, run its outbox worker, upgrade its database, or run the demo."""

from __future__ import annotations

import argparse
import asyncio
import errno
import signal
import socket
import sys
from collections.abc import Coroutine
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from chatops.config.loading import load_desk_config
from chatops.config.settings import (
    Settings,
    load_settings,
    require_bot_token,
    require_signing_secret,
    require_teams_credentials,
)
from chatops.errors import ConfigError
from chatops.logs import configure

if TYPE_CHECKING:
    from chatops.bootstrap import Desktop

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# What the bot needs to call Teams: the worker carries out Teams' outbox rows as serve does.
TEAMS_OUTBOUND = (
    "microsoft_app_id",
    "microsoft_app_password",
    "microsoft_app_tenant_id",
    "teams_token_authority",
    "teams_timeout",
)
JIRA_OUTBOUND = ("jira_url", "jira_user", "jira_api_token", "jira_token", "jira_timeout")
SERVE_ENVIRONMENT = (
    "slack_bot_token",
    "slack_signing_secret",
    "slack_app_token",
    "slack_api_url",
    "slack_timeout",
    "database_url",
    "chatops_config",
    *TEAMS_OUTBOUND,
    "teams_openid_metadata_url",
    "chatops_teams_insecure",
    *JIRA_OUTBOUND,
    "jira_webhook_secret",
)


WORKER_ENVIRONMENT = (
    "slack_bot_token",
    "slack_api_url",
    "slack_timeout",
    "database_url",
    "chatops_config",
    *TEAMS_OUTBOUND,
    *JIRA_OUTBOUND,
)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose refusals are one line naming the option, like every other start-up error."""

    def error(self, message: str) -> NoReturn:
        """Print the mistake on one line and exit with status 2."""
        self.exit(2, f"chatops: {message.removeprefix('argument ')}; see `{self.prog} --help`\n")


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Help that shows each option's default and keeps the environment table as written."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `chatops` command."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            configure(args.log_level)
            return _run(
                _serve(args.host, args.port, socket_mode=args.socket_mode, dispatch=not args.no_dispatch)
            )
        if args.command == "worker":
            configure(args.log_level)
            return _run(_work())
        if args.command == "db":
            return _upgrade()
        if args.command == "teams":
            return _package(args.app_id, args.out, version=args.version, site_url=args.site_url)
        configure("WARNING")
        from adapters.slack.demo import run_demo

        return run_demo()
    except ConfigError as error:
        # A message may quote the operator's own text; it must still arrive as one line.
        print("chatops: " + " ".join(str(error).splitlines()), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="chatops", description="A support desk that lives in Slack.")
    parser.add_argument("--version", action="version", version=f"chatops {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    serve = commands.add_parser(
        "serve",
        help="serve Slack's requests over HTTP (or Socket Mode)",
        description="Serve Slack's requests at POST /slack/events (or over Socket Mode).",
        formatter_class=_HelpFormatter,
        epilog=_environment_help(SERVE_ENVIRONMENT),
    )
    serve.add_argument("--host", default="0.0.0.0", help="the address to listen on")
    serve.add_argument("--port", type=_port, default=3000, help="the port to listen on; 0 picks a free one")
    serve.add_argument("--socket-mode", action="store_true", help="take Slack's requests over Socket Mode")
    serve.add_argument(
        "--no-dispatch",
        action="store_true",
        help="only take requests; cards and messages go out from `chatops worker` processes",
    )
    worker = commands.add_parser(
        "worker",
        help="carry out the outbox (cards, notes, messages) beside `serve --no-dispatch` processes",
        description="Post the cards, notes and messages that serve processes queued in the shared database.",
        formatter_class=_HelpFormatter,
        epilog=_environment_help(WORKER_ENVIRONMENT),
    )
    for running in (serve, worker):
        running.add_argument(
            "--log-level", type=str.upper, choices=LOG_LEVELS, default="INFO", help="any case is accepted"
        )
    db = commands.add_parser(
        "db",
        help="database maintenance",
        description="Bring the database's schema up to this version of chatops.",
        formatter_class=_HelpFormatter,
        epilog=_environment_help(("database_url",)),
    )
    db.add_argument("action", choices=["upgrade"], help="upgrade: apply the migrations the database lacks")
    teams = commands.add_parser("teams", help="Microsoft Teams: build the app package to upload")
    package = teams.add_subparsers(dest="teams_command", required=True, metavar="command").add_parser(
        "package",
        help="write the Teams app package (manifest and icons) for the bot's app id",
        description="Write the Teams app package, ready to upload: the manifest with the bot's id, icons.",
        formatter_class=_HelpFormatter,
    )
    package.add_argument("--app-id", required=True, help="the Azure Bot's Microsoft App ID (a GUID)")
    package.add_argument("--out", type=Path, default=Path("chatops-teams.zip"), help="the zip to write")
    package.add_argument(
        "--version", help="the app's version (MAJOR.MINOR.PATCH); raise it for every re-upload"
    )
    package.add_argument("--site-url", help="https address of your site, for the app's developer links")
    commands.add_parser("demo", help="run whole ticket stories against local stand-ins for Slack and Teams")
    return parser


def _package(app_id: str, out: Path, *, version: str | None, site_url: str | None) -> int:
    from adapters.teams.package import build_package

    try:
        written = build_package(app_id, out, version=version, site_url=site_url)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    except OSError as error:
        raise ConfigError(f"--out: cannot write {str(out)!r} ({error.strerror or error})") from None
    print(f"chatops: wrote {written}; upload it in Teams (Apps -> Manage your apps -> Upload an app)")
    return 0


def _version() -> str:
    try:
        return version("chatops")
    except PackageNotFoundError:
        return "(not installed)"


def _port(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number; use 0 to 65535") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{number} is out of range; use 0 to 65535 (0 picks a free port)")
    return number


def _environment_help(names: tuple[str, ...]) -> str:
    fields = Settings.model_fields
    width = max(len(name) for name in names) + 2
    lines = ["environment variables:"]
    for name in names:
        field = fields[name]
        default = f" (default: {field.default})" if field.default not in ("", None) else ""
        lines.append(f"  {name.upper():<{width}}{field.description}{default}")
    return "\n".join(lines)


def _upgrade() -> int:
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from chatops.store import migrate
    from chatops.store.checks import check_database_url, database_failure
    from chatops.store.db import Database

    settings = load_settings()
    check_database_url(settings.database_url)
    db = Database(settings.database_url)
    try:
        # Upgrading someone else's database would add our tables among theirs; serve refuses it too.
        if migrate.state(db.engine) is migrate.SchemaState.UNKNOWN:
            raise ConfigError(
                "DATABASE_URL: the database holds tables that are not chatops's; use an empty one"
            )
        migrate.upgrade(db.engine)
    except (SQLAlchemyError, CommandError) as error:
        raise database_failure(settings.database_url, error) from None
    finally:
        db.close()
    print(f"chatops: database at revision {migrate.head()}")
    return 0


def _run(main: Coroutine[Any, Any, int]) -> int:
    """Run the process's main coroutine on uvloop: the event loop's own work costs less per request."""
    import uvloop

    return uvloop.run(main)


async def _serve(host: str, port: int, *, socket_mode: bool, dispatch: bool) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from chatops.store.checks import check_database_url, database_failure

    settings = load_settings()
    require_bot_token(settings)
    if socket_mode:
        if not settings.slack_app_token:
            raise ConfigError("SLACK_APP_TOKEN: not set; Socket Mode needs an app-level token (xapp-...)")
    else:
        require_signing_secret(settings)
    require_teams_credentials(settings)
    if settings.chatops_teams_insecure:
        _insecure_teams_on_loopback_only(host)
    config = load_desk_config(settings.chatops_config)
    check_database_url(settings.database_url)
    # Imported only now: the checks above answer a mistake without loading the Slack libraries.
    from chatops.bootstrap import (
        build_desk,
        build_web_app,
        check_platform,
        check_teams,
        check_tracker,
        wait_for_platform,
    )
    from chatops.entrypoints.serving import start_site

    try:
        desktop = build_desk(settings, config)
    except SQLAlchemyError as error:
        raise database_failure(settings.database_url, error) from None
    try:
        # Nothing so far has talked to Slack: a taken port is reported before the bot token is checked.
        _check_port(host, port)
        silent = await check_platform(desktop)
        teams_silent = await check_teams(desktop)
        jira_silent = await check_tracker(desktop)
        web_app = build_web_app(desktop, dispatch=dispatch)
    except BaseException:
        await _close(desktop)
        raise
    try:
        runner, url = await start_site(web_app, host, port)
    except OSError as error:
        # The app started (its dispatcher too) before the bind failed; stop it so nothing outlives us.
        await web_app.shutdown()
        await web_app.cleanup()
        raise _listen_failure(host, port, error) from None
    print(f"chatops: listening on {url}", flush=True)
    if desktop.teams is not None:
        print(f"chatops: Teams activities at {url}/api/messages", flush=True)
    _say_teams_silent(teams_silent)
    _say_jira_silent(jira_silent)
    if desktop.tracker is not None:
        print(f"chatops: Jira webhooks at {url}/jira/webhook", flush=True)
    stop = asyncio.Event()
    waiting: asyncio.Task[None] | None = None
    if silent is not None:
        # Tickets are still taken and kept; their cards go out once Slack answers.
        print(
            f"chatops: SLACK_API_URL: Slack does not answer ({silent}); serving, and trying again",
            file=sys.stderr,
        )
        waiting = asyncio.create_task(wait_for_platform(desktop))
        waiting.add_done_callback(lambda task: stop.set() if _failure(task) else None)

    socket_handler = None
    if socket_mode:
        from adapters.slack.socket_mode import connect_socket_mode

        socket_handler = await connect_socket_mode(desktop.bolt, settings.slack_app_token)
        print("chatops: connected over Socket Mode", flush=True)

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    if waiting is not None:
        waiting.cancel()
    if socket_handler is not None:
        await socket_handler.close_async()
    await runner.cleanup()
    failure = _failure(waiting) if waiting is not None else None
    if failure is not None:
        # Slack came back and refused the token: nothing can work, so the operator hears it as at start-up.
        raise failure
    return 0


async def _work() -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from chatops.store.checks import check_database_url, database_failure

    settings = load_settings()
    require_bot_token(settings)
    require_teams_credentials(settings)
    config = load_desk_config(settings.chatops_config)
    check_database_url(settings.database_url)
    from chatops.bootstrap import (
        WORKER_POLL,
        build_desk,
        check_teams,
        check_tracker,
        run_dispatchers,
        wait_for_platform,
    )

    try:
        desktop = build_desk(settings, config, poll_interval=WORKER_POLL)
    except SQLAlchemyError as error:
        raise database_failure(settings.database_url, error) from None
    try:
        # Nothing can go out until Slack takes the token; a refusal ends the worker as at start-up.
        await wait_for_platform(desktop)
        _say_teams_silent(await check_teams(desktop))
        _say_jira_silent(await check_tracker(desktop))
    except BaseException:
        await _close(desktop)
        raise
    print("chatops: worker carrying out the outbox", flush=True)
    dispatching = asyncio.create_task(run_dispatchers(desktop), name="outbox-dispatcher")
    desktop.timers.start()
    loop = asyncio.get_running_loop()

    def stop_dispatching() -> None:
        for dispatcher in desktop.dispatchers():
            dispatcher.stop()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop_dispatching)
    await dispatching
    desktop.timers.stop()
    await _close(desktop)
    return 0


def _say_teams_silent(silent: str | None) -> None:
    """The token authority did not answer: what the bot says in Teams waits in the outbox until it does."""
    if silent is not None:
        print(
            f"chatops: TEAMS_TOKEN_AUTHORITY: no token for Teams yet ({silent}); carrying on, and asking "
            "again with each message",
            file=sys.stderr,
        )


def _say_jira_silent(silent: str | None) -> None:
    if silent is not None:
        # Issues wait in the outbox until Jira answers; nothing is lost meanwhile.
        print(
            f"chatops: JIRA_URL: Jira does not answer ({silent}); serving, and pushing once it does",
            file=sys.stderr,
        )


def _insecure_teams_on_loopback_only(host: str) -> None:
    """The emulator mode takes Teams requests from anyone: only ever on this machine's own address."""
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise ConfigError(
            f"CHATOPS_TEAMS_INSECURE: Teams requests would be taken unchecked from anyone reaching {host}; "
            "serve with --host 127.0.0.1, or unset it"
        )
    print(
        "chatops: WARNING: CHATOPS_TEAMS_INSECURE is set: /api/messages takes every request without checking "
        "who sent it. For a local emulator only; never where Teams or anyone else can reach it.",
        file=sys.stderr,
        flush=True,
    )


def _failure(task: asyncio.Task[None]) -> BaseException | None:
    return None if not task.done() or task.cancelled() else task.exception()


def _check_port(host: str, port: int) -> None:
    """Bind where the server will listen, and let go: a taken port shows before start-up goes further."""
    if port == 0:
        return
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise _listen_failure(host, port, error) from None
    for family, kind, proto, _name, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            # The same options the server's own listening sockets get, so the probe refuses no more.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as error:
                raise _listen_failure(host, port, error) from None


def _listen_failure(host: str, port: int, error: OSError) -> ConfigError:
    if isinstance(error, socket.gaierror):
        return ConfigError(f"--host: {host!r} is not an address of this machine ({error.strerror})")
    if error.errno == errno.EADDRINUSE:
        return ConfigError(
            f"--port: {port} is already in use on {host}; stop what listens there or choose another --port"
        )
    if error.errno == errno.EACCES:
        return ConfigError(f"--port: {port} needs privileges to listen on; choose a port above 1023")
    if error.errno == errno.EADDRNOTAVAIL:
        return ConfigError(f"--host: {host!r} is not an address of this machine; use 0.0.0.0 or 127.0.0.1")
    return ConfigError(f"--port: cannot listen on {host}:{port} ({error.strerror or error})")


async def _close(desktop: Desktop) -> None:
    from chatops.bootstrap import close_outside

    await close_outside(desktop)
    await asyncio.get_running_loop().run_in_executor(None, desktop.db.close)


if __name__ == "__main__":
    sys.exit(main())
