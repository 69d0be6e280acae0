"""Socket Mode: the same Bolt app, taking Slack's requests over a websocket instead of HTTP."""

from __future__ import annotations

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp


async def connect_socket_mode(bolt: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    """Open the websocket (its URL comes from apps.connections.open on the configured API base URL)."""
    handler = AsyncSocketModeHandler(bolt, app_token)
    await handler.connect_async()
    return handler
