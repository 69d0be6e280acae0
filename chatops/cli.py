"""The `chatops` command: serve the desk, upgrade its database, or run the demo."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from chatops.config import ConfigError, Settings, load_desk_config, require_signing_secret
from chatops.logs import configure


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `chatops` command."""
    parser = argparse.ArgumentParser(prog="chatops", description="A support desk that lives in Slack.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve Slack's requests over HTTP (or Socket Mode)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--socket-mode", action="store_true", help="take Slack's requests over Socket Mode")
    serve.add_argument("--log-level", default="INFO")
    db = commands.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    commands.add_parser("demo", help="run a whole ticket story against a local stand-in for Slack")
    args = parser.parse_args(argv)

    try:
        if args.command == "serve":
            configure(args.log_level)
            return asyncio.run(_serve(args.host, args.port, socket_mode=args.socket_mode))
        if args.command == "db":
            return _upgrade()
        configure("WARNING")
        from adapters.slack.demo import run_demo

        return run_demo()
    except ConfigError as error:
        print(f"chatops: {error}", file=sys.stderr)
        return 2


def _upgrade() -> int:
    from chatops.store import migrate
    from chatops.store.db import Database

    db = Database(Settings().database_url)
    try:
        migrate.upgrade(db.engine)
    finally:
        db.close()
    print(f"chatops: database at revision {migrate.head()}")
    return 0


async def _serve(host: str, port: int, *, socket_mode: bool) -> int:
    from chatops.app import build_desk, build_web_app
    from chatops.serving import start_site

    settings = Settings()
    config = load_desk_config(settings.chatops_config)
    if socket_mode:
        if not settings.slack_app_token:
            raise ConfigError("environment: SLACK_APP_TOKEN is not set; Socket Mode needs an app-level token")
    else:
        require_signing_secret(settings)
    desktop = build_desk(settings, config)
    runner, url = await start_site(build_web_app(desktop), host, port)
    print(f"chatops: listening on {url}", flush=True)

    socket_handler = None
    if socket_mode:
        from adapters.slack.socket_mode import connect_socket_mode

        socket_handler = await connect_socket_mode(desktop.bolt, settings.slack_app_token)
        print("chatops: connected over Socket Mode", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    if socket_handler is not None:
        await socket_handler.close_async()
    await runner.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
