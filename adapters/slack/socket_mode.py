"""Socket Mode: the same Bolt app, taking Slack's requests over a websocket instead of HTTP."""

from __future__ import annotations

import structlog
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from adapters.slack.http import malformed_answer, request_kind
from adapters.slack.inbound import shape_problem
from chatops import deadline

log = structlog.get_logger("chatops.slack")


class CheckedSocketModeHandler(AsyncSocketModeHandler):
    """Checks each envelope's payload as the HTTP endpoint checks a body, and gives it the same deadline."""

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        """Answer a malformed envelope at once; hand the rest to Bolt."""
        deadline.start()
        payload = req.payload
        problem = shape_problem(payload) if isinstance(payload, dict) else "the payload is not an object"
        if problem is None:
            await super().handle(client, req)
            return
        kind = request_kind(payload) if isinstance(payload, dict) else "unknown"
        log.warning("slack_request_malformed", kind=kind, problem=problem, transport="socket_mode")
        answer = malformed_answer(payload) if isinstance(payload, dict) else None
        await client.send_socket_mode_response(
            SocketModeResponse(envelope_id=req.envelope_id, payload=answer)
        )


async def connect_socket_mode(bolt: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    """Open the websocket (its URL comes from apps.connections.open on the configured API base URL)."""
    handler = CheckedSocketModeHandler(bolt, app_token)
    await handler.connect_async()
    return handler
