"""`chatops serve`: the desk's HTTP face (and its outbox, unless `--no-dispatch`), after every check an
operator's mistake could fail, each told in one line naming the setting."""

from __future__ import annotations

import asyncio
import errno
import signal
import socket
import sys

from chatops.config.loading import load_desk_config
from chatops.config.settings import (
    load_settings,
    require_bot_token,
    require_signing_secret,
    require_teams_credentials,
)
from chatops.entrypoints.startup import close, say_jira_silent, say_teams_silent, settle_heap
from chatops.errors import ConfigError


async def serve(host: str, port: int, *, socket_mode: bool, dispatch: bool) -> int:
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
        await close(desktop)
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
    say_teams_silent(teams_silent)
    say_jira_silent(jira_silent)
    if desktop.tracker is not None:
        print(f"chatops: Jira webhooks at {url}/jira/webhook", flush=True)
    settle_heap()
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
