"""The baseline for bench/ack_latency.py: a bare Bolt app that only acknowledges `/ticket`.

It is served the way chatops is (aiohttp, `process_before_response=True`), so the difference in ack
latency is what chatops's own work costs.
"""

from __future__ import annotations

import asyncio
import os

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

# The token rides on the client only, under a name Bolt does not read (it warns on SLACK_BOT_TOKEN + client).
app = AsyncApp(
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    client=AsyncWebClient(token=os.environ["BENCH_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
    process_before_response=True,
)


@app.command("/ticket")
async def ticket(ack: AsyncAck) -> None:
    """Acknowledge, and nothing else."""
    await ack(text="ok", response_type="ephemeral")


async def events(request: web.Request) -> web.Response:
    """Slack's endpoint."""
    return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))


async def main() -> None:
    """Serve on a free loopback port and say which."""
    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    print(f"bare: listening on http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
