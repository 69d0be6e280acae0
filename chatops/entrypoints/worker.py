"""`chatops worker`: a process that carries out the outbox (cards, notes, messages) beside
`serve --no-dispatch` processes, and runs the timers."""

from __future__ import annotations

import asyncio
import signal

from chatops.config.loading import load_desk_config
from chatops.config.settings import load_settings, require_bot_token, require_teams_credentials
from chatops.entrypoints.startup import close, say_jira_silent, say_teams_silent, settle_heap


async def work() -> int:
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
        say_teams_silent(await check_teams(desktop))
        say_jira_silent(await check_tracker(desktop))
    except BaseException:
        await close(desktop)
        raise
    print("chatops: worker carrying out the outbox", flush=True)
    settle_heap()
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
    await close(desktop)
    return 0
