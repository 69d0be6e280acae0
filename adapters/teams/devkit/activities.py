"""Inbound Bot Framework activities shaped exactly as Microsoft Teams posts them to a bot, and signed."""

import base64
import datetime
import hashlib
import itertools
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from adapters.teams.devkit.authority import APP_ID, TENANT_ID, IdentityProvider
from adapters.teams.devkit.connector import personal_chat_id

# Fixed, so that the same name always gives the same person across runs and processes.
_USER_NAMESPACE = uuid.UUID("6f1d1c3e-5b8a-4c1e-9a57-7e2a0c0ffee1")


@dataclass(frozen=True)
class TeamsUser:
    """A person as Teams names them to a bot: Entra object id, display name and Teams user id ("29:…")."""

    aad_object_id: str
    name: str
    user_id: str


def teams_user(name: str) -> TeamsUser:
    """A person whose GUID and 29-id are derived from `name`, the same every time."""
    digest = hashlib.sha256(name.encode()).digest()
    # Real ids are "29:1" followed by a long base64url string the bot cannot decode.
    user_id = "29:1" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return TeamsUser(str(uuid.uuid5(_USER_NAMESPACE, name)), name, user_id)


def signed(
    activity: dict[str, Any], identity: IdentityProvider, **mint_overrides: Any
) -> tuple[dict[str, str], bytes]:
    """The headers and body of the POST the channel makes with `activity`, bearing a freshly minted token."""
    token = identity.mint(activity["serviceUrl"], **mint_overrides)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return headers, json.dumps(activity).encode()


def _stamps() -> dict[str, str]:
    now = datetime.datetime.now(datetime.UTC)
    utc = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    return {"timestamp": utc, "localTimestamp": utc[:-1] + "+00:00"}


class TeamsActivities:
    """Builds the activities one Teams tenant's channel sends to one bot, as plain dicts."""

    def __init__(
        self,
        connector_service_url: str,
        *,
        app_id: str = APP_ID,
        tenant_id: str = TENANT_ID,
        bot_name: str = "chatops",
    ) -> None:
        """Activities arrive from `connector_service_url`, for bot `app_id` in `tenant_id`."""
        self.service_url = connector_service_url
        self.app_id, self.tenant_id, self.bot_name = app_id, tenant_id, bot_name
        # Teams message ids are millisecond timestamps; counting up keeps them unique and ordered.
        self._ids = itertools.count(int(time.time() * 1000))

    @property
    def bot_id(self) -> str:
        """The bot's id in Teams: "28:" then its app id."""
        return f"28:{self.app_id}"

    def personal_message(self, user: TeamsUser, text: str, *, id: str | None = None) -> dict[str, Any]:
        """A message `user` types in their one-to-one chat with the bot."""
        conversation = {"conversationType": "personal", "tenantId": self.tenant_id}
        conversation["id"] = personal_chat_id(user.user_id)
        return self._message(user, conversation, text, {}, mention=False, id=id)

    def channel_message(
        self,
        user: TeamsUser,
        channel_id: str,
        text: str,
        *,
        team_id: str | None = None,
        mention_bot: bool = True,
    ) -> dict[str, Any]:
        """A new top-level channel post; `team_id` defaults to the channel's, as a General channel's is."""
        message_id = self._next_id()
        team = team_id or channel_id
        conversation = {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": self.tenant_id,
            "id": f"{channel_id};messageid={message_id}",
        }
        extra = {
            "teamsChannelId": channel_id,
            "teamsTeamId": team,
            "channel": {"id": channel_id},
            "team": {"id": team},
        }
        return self._message(user, conversation, text, extra, mention=mention_bot, id=message_id)

    def group_message(
        self, user: TeamsUser, chat_id: str, text: str, mention_bot: bool = True
    ) -> dict[str, Any]:
        """A message in a group chat the bot is a member of."""
        conversation = {"isGroup": True, "conversationType": "groupChat", "tenantId": self.tenant_id}
        conversation["id"] = chat_id
        return self._message(user, conversation, text, {}, mention=mention_bot, id=None)

    def card_action(
        self,
        user: TeamsUser,
        conversation_id: str,
        reply_to_id: str,
        value_data: dict[str, Any],
        verb: str,
        *,
        conversation_type: str = "channel",
        channel_id: str | None = None,
    ) -> dict[str, Any]:
        """The invoke Teams sends when `user` presses an Action.Execute button on the bot's card."""
        conversation: dict[str, Any] = {"conversationType": conversation_type, "tenantId": self.tenant_id}
        if conversation_type != "personal":
            conversation["isGroup"] = True
        conversation["id"] = conversation_id
        channel_data: dict[str, Any] = {"source": {"name": "message"}, "legacy": {"replyToId": reply_to_id}}
        if conversation_type == "channel":
            channel = channel_id or conversation_id.split(";")[0]
            channel_data |= {"teamsChannelId": channel, "channel": {"id": channel}}
        activity = self._base("invoke", user, conversation, channel_data, id=f"f:{uuid.uuid4().int % 10**19}")
        activity |= {
            "name": "adaptiveCard/action",
            "replyToId": reply_to_id,
            "value": {
                "action": {"type": "Action.Execute", "verb": verb, "data": value_data},
                "trigger": "manual",
            },
        }
        return activity

    def installed_personal(self, user: TeamsUser) -> dict[str, Any]:
        """The installationUpdate Teams sends when `user` adds the app for themselves."""
        conversation = {"conversationType": "personal", "tenantId": self.tenant_id}
        conversation["id"] = personal_chat_id(user.user_id)
        activity = self._base("installationUpdate", user, conversation, {"source": {"name": "message"}})
        return activity | {"action": "add"}

    def bot_added_to_team(self, user: TeamsUser, team_id: str, channel_id: str) -> dict[str, Any]:
        """The conversationUpdate Teams sends when `user` adds the bot to a team."""
        conversation = {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": self.tenant_id,
            "id": channel_id,
        }
        channel_data = {
            "team": {"id": team_id},
            "eventType": "teamMemberAdded",
            "teamsChannelId": channel_id,
            "teamsTeamId": team_id,
        }
        activity = self._base("conversationUpdate", user, conversation, channel_data)
        return activity | {"membersAdded": [{"id": self.bot_id}]}

    def thread_reply(
        self, user: TeamsUser, channel_id: str, root_id: str, text: str, *, mention_bot: bool = True
    ) -> dict[str, Any]:
        """A reply `user` writes in the thread under the channel message `root_id`."""
        activity = self.channel_message(user, channel_id, text, mention_bot=mention_bot)
        activity["conversation"]["id"] = f"{channel_id};messageid={root_id}"
        return activity

    def _message(
        self,
        user: TeamsUser,
        conversation: dict[str, Any],
        text: str,
        channel_data: dict[str, Any],
        *,
        mention: bool,
        id: str | None,
    ) -> dict[str, Any]:
        activity = self._base("message", user, conversation, channel_data, id=id)
        if mention:
            # Teams writes the mention into the text itself, ahead of what the person typed.
            tag = f"<at>{self.bot_name}</at>"
            text = f"{tag} {text}"
            mentioned = {"id": self.bot_id, "name": self.bot_name}
            activity["entities"].insert(0, {"type": "mention", "mentioned": mentioned, "text": tag})
        return activity | {"textFormat": "plain", "text": text, "attachments": []}

    def _base(
        self,
        kind: str,
        user: TeamsUser,
        conversation: dict[str, Any],
        channel_data: dict[str, Any],
        *,
        id: str | None = None,
    ) -> dict[str, Any]:
        return {
            "type": kind,
            "id": id or self._next_id(),
            **_stamps(),
            "serviceUrl": self.service_url,
            "channelId": "msteams",
            "from": {"id": user.user_id, "name": user.name, "aadObjectId": user.aad_object_id},
            "conversation": conversation,
            "recipient": {"id": self.bot_id, "name": self.bot_name},
            "entities": [{"type": "clientInfo", "locale": "en-US", "country": "US", "platform": "Web"}],
            "channelData": {**channel_data, "tenant": {"id": self.tenant_id}},
            "locale": "en-US",
        }

    def _next_id(self) -> str:
        return str(next(self._ids))
