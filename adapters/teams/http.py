"""Teams' HTTP endpoint, `/api/messages`: the channel's token is checked before the SDK's adapter sees
anything, and the adapter hands each activity to the agent."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import structlog
from aiohttp import web
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import ClaimsIdentity
from pydantic import ValidationError

from adapters.teams.auth import ChannelTokens, KeysUnavailable, Refused
from adapters.teams.inbound import Redeliver, TeamsAgent
from chatops import deadline

log = structlog.get_logger("chatops.teams")

# The SDK's adapter reads the caller's identity from the request under this plain string key; aiohttp
# would rather have a typed key, and says so on every request.
CLAIMS_KEY = "claims_identity"
warnings.filterwarnings("ignore", category=web.NotAppKeyWarning, module=r"adapters\.teams\.http")

# Teams waits about 15 s for an activity's answer, and less for a card's; well inside both.
REPLY_BUDGET = 4.5


def messages_endpoint(
    adapter: CloudAdapter, agent: TeamsAgent, tokens: ChannelTokens | None
) -> Callable[[web.Request], Any]:
    """The `/api/messages` route: the channel's token first (None only in the local emulator mode), then
    the SDK's adapter, which runs the agent's turn and answers an invoke with what the agent gave it."""

    async def endpoint(request: web.Request) -> web.StreamResponse:
        deadline.start(REPLY_BUDGET)
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "the body is not JSON"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "the body is not an activity"}, status=400)
        service_url = body.get("serviceUrl")
        if tokens is None:
            identity = ClaimsIdentity({}, authentication_type=None)
        else:
            try:
                identity = await tokens.check(
                    request.headers.get("Authorization"),
                    service_url if isinstance(service_url, str) else None,
                )
            except KeysUnavailable as trouble:
                log.error("teams_keys_unavailable", problem=str(trouble))
                return web.json_response({"error": "cannot check tokens now"}, status=503)
            except Refused as refused:
                log.warning("teams_request_refused", reason=str(refused)[:200])
                return web.json_response({"error": "unauthorized"}, status=401)
        try:
            Activity.model_validate(body)
        except ValidationError as error:
            log.warning("teams_activity_malformed", problems=error.error_count())
            return web.json_response({"error": "the body is not an activity"}, status=400)
        request[CLAIMS_KEY] = identity
        try:
            response = await adapter.process(request, agent)
        except Redeliver:
            return web.json_response(
                {"error": "busy; send it again"}, status=503, headers={"Retry-After": "1"}
            )
        return response if response is not None else web.Response(status=202)

    return endpoint
