"""Slack's HTTP endpoint: a request is verified, read and checked before Bolt sees any of it."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from adapters.slack.inbound import JSON, read_body, shape_problem, signature_problem
from chatops import deadline
from chatops.request_body import Unreadable

log = structlog.get_logger("chatops.slack")

UNREADABLE_COMMAND = (
    "Slack sent this command in a form the desk could not read, so nothing was recorded. Please try again."
)
# Headers Bolt should not see from the original request: the body it gets is re-encoded as JSON.
_BODY_HEADERS = frozenset({"content-type", "content-length", "transfer-encoding"})


def malformed_answer(body: dict[str, Any]) -> dict[str, Any] | None:
    """What the sender of a malformed request is told: a slash command has someone waiting to read it."""
    if "command" in body:
        return {"response_type": "ephemeral", "text": UNREADABLE_COMMAND}
    return None


def request_kind(body: dict[str, Any]) -> str:
    """A short name for a request, for log lines."""
    if "command" in body:
        return "slash_command"
    kind = body.get("type")
    return kind if isinstance(kind, str) else "unknown"


def slack_endpoint(bolt: AsyncApp, signing_secret: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The handler of POST /slack/events."""

    async def endpoint(request: web.Request) -> web.Response:
        deadline.start()
        raw = await request.read()
        refused = signature_problem(raw, request.headers, signing_secret, now=time.time())
        if refused is not None:
            # Never the body: an unsigned request may still carry someone's words.
            log.warning("slack_request_refused", reason=refused, bytes=len(raw))
            return web.json_response({"ok": False, "error": "invalid signature"}, status=401)
        body = read_body(raw, request.headers.get("Content-Type", ""))
        if isinstance(body, Unreadable):
            log.warning("slack_request_unreadable", problem=body.problem, bytes=len(raw))
            return web.json_response({"ok": False, "error": body.problem}, status=400)
        problem = shape_problem(body)
        if problem is not None:
            log.warning("slack_request_malformed", kind=request_kind(body), problem=problem)
            answer = malformed_answer(body)
            return web.json_response(answer) if answer else web.Response(status=200)
        # Bolt gets the fields we read, as JSON: its own form parsing takes any body that mentions
        # "payload" anywhere (a command about a payload, say) for an interactive payload and loses it.
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _BODY_HEADERS}
        bolt_request = AsyncBoltRequest(
            body=json.dumps(body), query=request.query_string, headers={**headers, "Content-Type": JSON}
        )
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    return endpoint
