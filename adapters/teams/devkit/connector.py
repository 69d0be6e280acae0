"""A Bot Connector look-alike (the service behind a Teams serviceUrl) that stores what each chat shows."""

import copy
import hashlib
import itertools
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from adapters.teams.devkit.authority import BOT_FRAMEWORK_ISSUER, IdentityProvider
from adapters.teams.devkit.server import Call, StandInServer, error_body
from adapters.teams.devkit.tls import LocalCA

# The Bot Connector's answer to a request without an acceptable bearer token.
DENIED = {"message": "Authorization has been denied for this request."}


@dataclass(frozen=True)
class Window:
    """At most `calls` calls in any `seconds` long stretch."""

    calls: int
    seconds: float


# Teams' documented limits for a bot: messages to one conversation (a channel with its threads counts as
# one), and requests of any kind across the tenant's conversations.
CONVERSATION_LIMITS = (Window(7, 1), Window(8, 2), Window(60, 30), Window(1800, 3600))
TENANT_LIMITS = (Window(50, 1),)
THROTTLED = error_body("TooManyRequests", "Too many requests, retry later.")

# Which conversation a request writes a message to, if it writes one.
Addressee = Callable[[web.Request, Any], str | None]


def personal_chat_id(user_id: str) -> str:
    """The id of the one-to-one chat with a user: stable, as in Teams, so creating it again finds it."""
    return "a:1" + hashlib.sha256(user_id.encode()).hexdigest()[:40]


def _addressed(request: web.Request, body: Any) -> str | None:
    # A thread ("19:x@thread.tacv2;messageid=N") is part of its channel, and shares its limits.
    return request.match_info["conversation_id"].partition(";")[0]


def _created_chat(request: web.Request, body: Any) -> str | None:
    # Creating a chat writes a message only when the request carries one; a malformed request is refused
    # for what it is by the handler, and counts only in the tenant's window.
    if not isinstance(body, dict) or not isinstance(body.get("activity"), dict):
        return None
    members = body.get("members")
    if not (isinstance(members, list) and len(members) == 1 and isinstance(members[0], dict)):
        return None
    member = members[0].get("id")
    return personal_chat_id(member) if isinstance(member, str) and member else None


def _wait(times: deque[float], window: Window, now: float) -> float:
    """Seconds until `window` has room for one more call, given the times of the calls it let through."""
    recent = [t for t in times if t > now - window.seconds]
    if len(recent) < window.calls:
        return 0.0
    # The call that must leave the window for the count to drop below the limit.
    return recent[len(recent) - window.calls] + window.seconds - now


class BotConnector(StandInServer):
    """Answers the Connector API calls the SDK's ConnectorClient makes, under a Teams-like serviceUrl path."""

    name = "teams-connector"

    def __init__(
        self,
        ca: LocalCA,
        identity: IdentityProvider,
        *,
        path_prefix: str = "/amer/",
        audience: str = BOT_FRAMEWORK_ISSUER,
        enforce_limits: bool = False,
        port: int = 0,
    ) -> None:
        """Accept `identity`'s tokens for `audience` at `path_prefix`; `enforce_limits` throttles as Teams."""
        super().__init__(ca, port=port)
        if not (path_prefix.startswith("/") and path_prefix.endswith("/")):
            raise ValueError("path_prefix must start and end with '/'")
        self._identity = identity
        self._prefix = path_prefix
        self._audience = audience
        # Guarded by the base class's lock, like the recorded calls.
        self._conversations: dict[str, list[dict[str, Any]]] = {}
        self._members: dict[str, dict[str, Any]] = {}
        # Teams activity ids are millisecond timestamps; counting up from now keeps them unique and ordered.
        self._ids = itertools.count(int(time.time() * 1000))
        self._enforce_limits = enforce_limits
        # Arrival times of the calls the limits let through, guarded by the base class's lock too. The
        # stand-in serves one tenant, so every call counts in the one tenant window.
        self._tenant_calls: deque[float] = deque()
        self._conversation_calls: dict[str, deque[float]] = {}

    @property
    def service_url(self) -> str:
        """The serviceUrl to put on inbound activities (with the trailing slash Teams uses)."""
        return self.base_url + self._prefix

    def add_member(self, member: dict[str, Any]) -> None:
        """Make a person known, as Teams' member lookups return them (needs at least `id`)."""
        with self._lock:
            self._members[member["id"]] = copy.deepcopy(member)

    def activities(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every activity the bot left in a conversation and that is still there, oldest first."""
        with self._lock:
            return copy.deepcopy(self._conversations.get(conversation_id, []))

    def messages(self, conversation_id: str) -> list[dict[str, Any]]:
        """The messages a person sees in a conversation (typing indicators and the like left out)."""
        return [a for a in self.activities(conversation_id) if a.get("type") == "message"]

    def conversations(self) -> list[str]:
        """Ids of the conversations the bot has written to, or created."""
        with self._lock:
            return list(self._conversations)

    def throttled(self, name: str | None = None) -> list[Call]:
        """Calls that Teams' limits refused with a 429, of one kind or of all (injected faults aside)."""
        return [c for c in self.calls(name) if c.status == 429 and c.fault is None]

    def clear(self) -> None:
        """Forget calls, faults and conversations, and empty the limits' windows (known members stay)."""
        super().clear()
        with self._lock:
            self._conversations.clear()
            self._tenant_calls.clear()
            self._conversation_calls.clear()

    def _add_routes(self, app: web.Application) -> None:
        base = self._prefix + "v3/conversations"
        one = base + "/{conversation_id}"
        activity = one + "/activities/{activity_id}"
        app.router.add_post(
            base, self._route("create_conversation", self._guard(self._create_conversation, _created_chat))
        )
        app.router.add_post(
            one + "/activities",
            self._route("send_to_conversation", self._guard(self._send_to_conversation, _addressed)),
        )
        app.router.add_post(
            activity, self._route("reply_to_activity", self._guard(self._reply_to_activity, _addressed))
        )
        app.router.add_put(
            activity, self._route("update_activity", self._guard(self._update_activity, _addressed))
        )
        app.router.add_delete(activity, self._route("delete_activity", self._guard(self._delete_activity)))
        app.router.add_get(
            one + "/members/{member_id}",
            self._route("get_conversation_member", self._guard(self._get_conversation_member)),
        )

    def _guard(self, handler: Any, addressee: Addressee | None = None) -> Any:
        """Refuse, as the real service does, a token the identity provider never issued or a call too many."""

        async def guarded(request: web.Request, body: Any, token: str | None) -> web.Response:
            if not self._identity.is_issued(token, audience=self._audience):
                return web.json_response(DENIED, status=401)
            if request.method in ("POST", "PUT") and not isinstance(body, dict):
                return web.json_response(error_body("BadSyntax", "The request body is not JSON."), status=400)
            if self._enforce_limits:
                with self._lock:
                    wait = self._admit(addressee(request, body) if addressee else None)
                if wait is not None:
                    retry_after = str(max(1, math.ceil(wait)))
                    return web.json_response(THROTTLED, status=429, headers={"Retry-After": retry_after})
            return await handler(request, body)

        return guarded

    def _admit(self, conversation: str | None) -> float | None:
        """Count the call in its windows and return None, or the seconds until they have room (lock held)."""
        # A refused call counts in no window, so a caller who waits as told gets through.
        now = time.monotonic()
        scopes = [(self._tenant_calls, TENANT_LIMITS)]
        if conversation is not None:
            scopes.append((self._conversation_calls.setdefault(conversation, deque()), CONVERSATION_LIMITS))
        wait = 0.0
        for times, windows in scopes:
            longest = max(w.seconds for w in windows)
            while times and times[0] <= now - longest:
                times.popleft()
            wait = max([wait, *(_wait(times, w, now) for w in windows)])
        if wait > 0:
            return wait
        for times, _ in scopes:
            times.append(now)
        return None

    def _store(self, conversation_id: str, activity: dict[str, Any]) -> str:
        activity_id = str(next(self._ids))
        stored = {**copy.deepcopy(activity), "id": activity_id}
        stored.setdefault("conversation", {})["id"] = conversation_id
        self._conversations.setdefault(conversation_id, []).append(stored)
        return activity_id

    async def _send_to_conversation(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        with self._lock:
            activity_id = self._store(request.match_info["conversation_id"], body)
        return web.json_response({"id": activity_id}, status=201)

    async def _reply_to_activity(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        reply = {**body, "replyToId": request.match_info["activity_id"]}
        with self._lock:
            activity_id = self._store(request.match_info["conversation_id"], reply)
        return web.json_response({"id": activity_id}, status=201)

    async def _update_activity(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        conversation_id = request.match_info["conversation_id"]
        activity_id = request.match_info["activity_id"]
        with self._lock:
            stored = self._conversations.get(conversation_id, [])
            for index, existing in enumerate(stored):
                if existing["id"] == activity_id:
                    updated = {**copy.deepcopy(body), "id": activity_id}
                    updated.setdefault("conversation", {})["id"] = conversation_id
                    stored[index] = updated
                    return web.json_response({"id": activity_id})
        return web.json_response(error_body("NotFound", "The activity was not found."), status=404)

    async def _delete_activity(self, request: web.Request, body: Any) -> web.Response:
        conversation_id = request.match_info["conversation_id"]
        activity_id = request.match_info["activity_id"]
        with self._lock:
            stored = self._conversations.get(conversation_id, [])
            kept = [a for a in stored if a["id"] != activity_id]
            if len(kept) == len(stored):
                return web.json_response(error_body("NotFound", "The activity was not found."), status=404)
            self._conversations[conversation_id] = kept
        return web.Response(status=200)

    async def _create_conversation(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        members = body.get("members") or []
        tenant = body.get("tenantId") or (body.get("channelData") or {}).get("tenant", {}).get("id")
        if body.get("isGroup") or len(members) != 1 or not members[0].get("id"):
            return web.json_response(
                error_body("BadArgument", "A personal chat needs exactly one member and isGroup false."),
                status=400,
            )
        if not tenant:
            # Teams cannot place a chat without knowing the tenant.
            return web.json_response(error_body("BadArgument", "The tenant id is required."), status=400)
        conversation_id = personal_chat_id(members[0]["id"])
        answer: dict[str, Any] = {"id": conversation_id}
        with self._lock:
            self._conversations.setdefault(conversation_id, [])
            if isinstance(body.get("activity"), dict):
                answer["activityId"] = self._store(conversation_id, body["activity"])
        return web.json_response(answer, status=201)

    async def _get_conversation_member(self, request: web.Request, body: Any) -> web.Response:
        with self._lock:
            member = copy.deepcopy(self._members.get(request.match_info["member_id"]))
        if member is None:
            missing = error_body("MemberNotFoundInConversation", "Member not found.")
            return web.json_response(missing, status=404)
        return web.json_response(member)
