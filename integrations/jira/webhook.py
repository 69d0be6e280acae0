"""Jira's webhook: `POST /jira/webhook` checks who sent it, reads the event, and hands the desk what it
means. A sender that cannot prove the secret gets 401, a body that is not one JSON object 400; any event
gets 200 once handled or ignored, so that Jira retries only what the desk could not take in (503)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web

from chatops.bus import MessageBus
from chatops.request_body import Unreadable, read_object
from chatops.tracking.commands import FollowIssue, TakeComment
from chatops.tracking.ports import Comment
from integrations.jira.issues import issue_state

log = structlog.get_logger("chatops.jira")

PATH = "/jira/webhook"
# Jira's ids as the desk keeps them: a delivery's (a number or a UUID) and a comment's in a receipt, an
# issue's key (PROJ-123) and status name (60 characters at most in Jira) with the issue. Longer is no Jira's.
_DELIVERY = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_COMMENT = re.compile(r"[0-9]{1,18}")
_KEY = re.compile(r"[A-Z][A-Z0-9_]{0,44}-[0-9]{1,18}")
_STATUS = re.compile(r".{1,64}", re.DOTALL)


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
        event = read_object(body, request.headers.get("Content-Type"))
        if isinstance(event, Unreadable):
            return _unreadable(event.problem, body)
        delivery = request.headers.get("X-Atlassian-Webhook-Identifier")
        if delivery is not None and not _DELIVERY.fullmatch(delivery):
            return _unreadable("X-Atlassian-Webhook-Identifier is not an id", body)
        try:
            command = read_event(event, delivery, base)
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("jira_webhook_ignored", reason="an event of an unknown shape", delivery=delivery)
            return web.json_response({"ok": True, "ignored": "unreadable"})
        if command is None:
            return web.json_response({"ok": True, "ignored": str(event.get("webhookEvent", "unknown"))})
        answer = await bus.handle(command)
        if not answer.done:
            # Nothing was recorded: Jira's retry brings it again.
            return web.json_response({"ok": False}, status=503)
        return web.json_response({"ok": True})

    return handle


def _unreadable(problem: str, body: bytes) -> web.Response:
    """The answer to a signed request the desk cannot read: a 400, as sending it again would not help."""
    log.warning("jira_webhook_unreadable", problem=problem, size=len(body))
    return web.json_response({"ok": False, "error": problem}, status=400)


def _proven(request: web.Request, body: bytes, key: bytes) -> bool:
    """Signed with the secret (Jira Cloud), or carrying it in the URL (Data Center cannot sign)."""
    signature = request.headers.get("X-Hub-Signature", "")
    if signature:
        expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        # A header may carry any byte; a signature is ASCII or no signature at all.
        return signature.isascii() and hmac.compare_digest(signature, expected)
    given = request.query.get("secret", "")
    return bool(given) and hmac.compare_digest(given.encode(), key)


def read_event(event: dict[str, Any], delivery: str | None, base: str) -> FollowIssue | TakeComment | None:
    """The desk's command for a Jira event (None: an event the desk does not use)."""
    kind = event.get("webhookEvent")
    issue = event["issue"] if kind in ("jira:issue_updated", "comment_created") else None
    if issue is None:
        return None
    key = _checked(_KEY, str(issue["key"]), "an issue key")
    if kind == "comment_created":
        comment = event["comment"]
        author = (comment.get("author") or {}).get("displayName") or "someone"
        number = _checked(_COMMENT, str(comment["id"]), "a comment id")
        return TakeComment(key, Comment(number, str(author), str(comment.get("body") or "")), delivery)
    state = issue_state(issue, base)
    _checked(_STATUS, state.status, "a status name")
    return FollowIssue(state, delivery)


def _checked(grammar: re.Pattern[str], value: str, what: str) -> str:
    if not grammar.fullmatch(value):
        raise ValueError(f"not {what}")
    return value
