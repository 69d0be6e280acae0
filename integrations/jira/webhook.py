"""Jira's webhook: `POST /jira/webhook` checks who sent it, reads the event, and hands the desk what it
means. A sender that cannot prove the secret gets 401; anything else from Jira gets 200 once handled or
ignored, so that Jira retries only what the desk could not take in (503)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web

from chatops.bus import MessageBus
from chatops.tracking.commands import FollowIssue, TakeComment
from chatops.tracking.ports import Comment
from integrations.jira.issues import issue_state

log = structlog.get_logger("chatops.jira")

PATH = "/jira/webhook"


def webhook_endpoint(
    bus: MessageBus, secret: str, base_url: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The route's handler; `base_url` is where people open issues (JIRA_URL), not what a body claims."""
    key = secret.encode()
    base = base_url.rstrip("/")

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        if not _proven(request, body, key):
            log.warning("jira_webhook_refused", remote=request.remote)
            return web.json_response({"ok": False, "error": "not signed with the webhook secret"}, status=401)
        delivery = request.headers.get("X-Atlassian-Webhook-Identifier")
        try:
            event = json.loads(body)
            command = read_event(event, delivery, base) if isinstance(event, dict) else None
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("jira_webhook_unreadable", delivery=delivery, size=len(body))
            return web.json_response({"ok": True, "ignored": "unreadable"})
        if command is None:
            return web.json_response({"ok": True, "ignored": str(event.get("webhookEvent", "unknown"))})
        answer = await bus.handle(command)
        if not answer.done:
            # Nothing was recorded: Jira's retry brings it again.
            return web.json_response({"ok": False}, status=503)
        return web.json_response({"ok": True})

    return handle


def _proven(request: web.Request, body: bytes, key: bytes) -> bool:
    """Signed with the secret (Jira Cloud), or carrying it in the URL (Data Center cannot sign)."""
    signature = request.headers.get("X-Hub-Signature", "")
    if signature:
        expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(signature.encode(), expected.encode())
    given = request.query.get("secret", "")
    return bool(given) and hmac.compare_digest(given.encode(), key)


def read_event(event: dict[str, Any], delivery: str | None, base: str) -> FollowIssue | TakeComment | None:
    """The desk's command for a Jira event (None: an event the desk does not use)."""
    kind = event.get("webhookEvent")
    issue = event["issue"] if kind in ("jira:issue_updated", "comment_created") else None
    if issue is None:
        return None
    key = str(issue["key"])
    if kind == "comment_created":
        comment = event["comment"]
        author = (comment.get("author") or {}).get("displayName") or "someone"
        return TakeComment(
            key, Comment(str(comment["id"]), str(author), str(comment.get("body") or "")), delivery
        )
    return FollowIssue(issue_state(issue, base), delivery)
