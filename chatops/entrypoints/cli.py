"""The `chatops` command: serve the desk, run its outbox worker, upgrade its database, or run the demo."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Coroutine
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from chatops.config.settings import (
    Settings,
    load_settings,
)
from chatops.errors import ConfigError
from chatops.logs import configure

if TYPE_CHECKING:
    pass

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
            from chatops.entrypoints.serve import serve

            return _run(
                serve(args.host, args.port, socket_mode=args.socket_mode, dispatch=not args.no_dispatch)
            )
        if args.command == "worker":
            configure(args.log_level)
            from chatops.entrypoints.worker import work

            return _run(work())
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


if __name__ == "__main__":
    sys.exit(main())
