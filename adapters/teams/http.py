"""Teams' HTTP endpoint, `/api/messages`: the body is read and checked, then the channel's token, then the
activity's shape, before the SDK's adapter sees any of it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import web
from microsoft_agents.activity import Activity, ChannelAccount
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import ClaimsIdentity, HttpResponse
from pydantic import ValidationError

from adapters.teams.auth import ChannelTokens, KeysUnavailable, Refused
from adapters.teams.inbound import Redeliver, TeamsAgent
from chatops import deadline
from chatops.request_body import Unreadable, read_object

log = structlog.get_logger("chatops.teams")

# Teams waits about 15 s for an activity's answer, and less for a card's; well inside both.
REPLY_BUDGET = 4.5
NOT_AN_ACTIVITY = "the body is not an activity"
# The SDK logs each activity it cannot validate at ERROR, with a traceback that quotes the body. The route
# validates first and refuses with a line of its own, so the SDK's record of that one validation is dropped.
_SDK_VALIDATION = logging.getLogger("microsoft_agents.activity.activity")


def messages_endpoint(
    adapter: CloudAdapter, agent: TeamsAgent, tokens: ChannelTokens | None
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The `/api/messages` route: the body, the channel's token (None only in the local emulator mode) and the
    activity's shape first, then the SDK's adapter, which runs the agent's turn and answers an invoke with
    what the agent gave it."""

    async def endpoint(request: web.Request) -> web.Response:
        deadline.start(REPLY_BUDGET)
        raw = await request.read()
        body = read_object(raw, request.headers.get("Content-Type"))
        if isinstance(body, Unreadable):
            log.warning("teams_request_unreadable", problem=body.problem, bytes=len(raw))
            return web.json_response({"error": body.problem}, status=400)
        identity = ClaimsIdentity({}, authentication_type=None)
        if tokens is not None:
            service_url = body.get("serviceUrl")
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
        problem = activity_problem(body)
        if problem is not None:
            log.warning("teams_activity_malformed", problem=problem)
            return web.json_response({"error": NOT_AN_ACTIVITY}, status=400)
        try:
            answer = await adapter.process_request(_Checked(request, body, identity), agent)
        except Redeliver:
            return web.json_response(
                {"error": "busy; send it again"}, status=503, headers={"Retry-After": "1"}
            )
        return _response(answer)

    return endpoint


def activity_problem(body: dict[str, Any]) -> str | None:
    """What keeps a body from being an activity the agent can take, by field and never by value (None when it
    is one): the SDK's own validation, then what a turn needs of it."""
    _SDK_VALIDATION.addFilter(_dropped)
    try:
        activity = Activity.model_validate(body)
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        return f"{'.'.join(str(part) for part in first['loc'])}: {first['type']}"[:200]
    except Exception as error:  # noqa: BLE001 - the SDK's validators raise bare exceptions of their own too
        return f"the SDK cannot read it ({type(error).__name__})"
    finally:
        _SDK_VALIDATION.removeFilter(_dropped)
    if not activity.type:
        return "type is empty"
    if activity.conversation is None or not activity.conversation.id:
        return "conversation.id is missing"
    # The agent answers as the recipient, and keeps it in every conversation's address.
    if activity.recipient is None or not activity.recipient.id:
        return "recipient.id is missing"
    sender = activity.from_property or ChannelAccount()
    # The ids a turn keeps, and how long each may be to fit where it is kept (a person's id is the sender's
    # with a prefix); Teams' own are far shorter.
    kept = (
        ("id", activity.id, 160),
        ("conversation.id", activity.conversation.id, 200),
        ("conversation.tenantId", activity.conversation.tenant_id, 64),
        ("from.id", sender.id, 150),
        ("from.aadObjectId", sender.aad_object_id, 150),
    )
    return next((f"{name} is too long" for name, value, width in kept if len(value or "") > width), None)


def _dropped(_record: logging.LogRecord) -> bool:
    return False


@dataclass(frozen=True)
class _Checked:
    """The request as the SDK's adapter reads it: the body already read and checked, the caller known."""

    request: web.Request
    body: dict[str, Any]
    identity: ClaimsIdentity

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def headers(self) -> Mapping[str, str]:
        return self.request.headers

    async def json(self) -> dict[str, Any]:
        return self.body

    def get_claims_identity(self) -> ClaimsIdentity:
        return self.identity

    def get_path_param(self, name: str) -> str:
        return self.request.match_info[name]


def _response(answer: HttpResponse) -> web.Response:
    """The SDK's answer, as aiohttp sends it."""
    if answer.body is not None:
        return web.json_response(answer.body, status=answer.status_code, headers=answer.headers)
    return web.Response(status=answer.status_code, headers=answer.headers, content_type=answer.content_type)
