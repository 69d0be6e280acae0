"""A Bot Connector look-alike (the service behind a Teams serviceUrl) that stores what each chat shows."""

import copy
import hashlib
import itertools
import time
from typing import Any

from aiohttp import web

from adapters.teams.devkit.authority import BOT_FRAMEWORK_ISSUER, IdentityProvider
from adapters.teams.devkit.server import StandInServer, error_body
from adapters.teams.devkit.tls import LocalCA

# The Bot Connector's answer to a request without an acceptable bearer token.
DENIED = {"message": "Authorization has been denied for this request."}


def personal_chat_id(user_id: str) -> str:
    """The id of the one-to-one chat with a user: stable, as in Teams, so creating it again finds it."""
    return "a:1" + hashlib.sha256(user_id.encode()).hexdigest()[:40]


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
        port: int = 0,
    ) -> None:
        """Accept tokens `identity`'s token endpoint issued for `audience`; serve under `path_prefix`."""
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

    def clear(self) -> None:
        """Forget calls, faults and conversations (known members stay)."""
        super().clear()
        with self._lock:
            self._conversations.clear()

    def _add_routes(self, app: web.Application) -> None:
        base = self._prefix + "v3/conversations"
        one = base + "/{conversation_id}"
        activity = one + "/activities/{activity_id}"
        app.router.add_post(base, self._route("create_conversation", self._guard(self._create_conversation)))
        app.router.add_post(
            one + "/activities", self._route("send_to_conversation", self._guard(self._send_to_conversation))
        )
        app.router.add_post(activity, self._route("reply_to_activity", self._guard(self._reply_to_activity)))
        app.router.add_put(activity, self._route("update_activity", self._guard(self._update_activity)))
        app.router.add_delete(activity, self._route("delete_activity", self._guard(self._delete_activity)))
        app.router.add_get(
            one + "/members/{member_id}",
            self._route("get_conversation_member", self._guard(self._get_conversation_member)),
        )

    def _guard(self, handler: Any) -> Any:
        """Refuse a request whose bearer token the identity provider did not issue, like the real service."""

        async def guarded(request: web.Request, body: Any, token: str | None) -> web.Response:
            if not self._identity.is_issued(token, audience=self._audience):
                return web.json_response(DENIED, status=401)
            if request.method in ("POST", "PUT") and not isinstance(body, dict):
                return web.json_response(error_body("BadSyntax", "The request body is not JSON."), status=400)
            return await handler(request, body)

        return guarded

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
