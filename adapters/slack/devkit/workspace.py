"""A Slack stand-in's workspace: the app's ids, its people, messages and views, and the Web API methods."""

import copy
from collections.abc import Callable, Mapping
from typing import Any

from adapters.slack.devkit.messages import Messages
from adapters.slack.devkit.refusal import Refusal
from adapters.slack.devkit.views import Views


class Workspace:
    """The app's ids, users, messages and views, and the Web API methods by name; callers hold the lock."""

    def __init__(
        self,
        team_id: str,
        bot_user_id: str,
        bot_id: str,
        app_id: str,
        users: dict[str, dict],
        channels: Mapping[str, str],
    ) -> None:
        """`channels`: the names of the channels Slack knows, for their ids."""
        self.team_id, self.bot_user_id, self.bot_id, self.app_id = team_id, bot_user_id, bot_id, app_id
        self.users = users
        self.messages = Messages(
            team_id=team_id, bot_user_id=bot_user_id, bot_id=bot_id, app_id=app_id, channels=channels
        )
        self.views = Views(team_id=team_id, bot_id=bot_id, app_id=app_id)
        messages = self.messages
        self.methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self.auth_test,
            "chat.postMessage": messages.post_message,
            "chat.update": messages.update,
            "chat.postEphemeral": messages.post_ephemeral,
            "chat.getPermalink": messages.get_permalink,
            "conversations.history": messages.history,
            "conversations.replies": messages.replies,
            "conversations.open": self.open_conversation,
            "views.open": lambda p: self.views.store(p, needs_trigger=True),
            "views.push": lambda p: self.views.store(p, needs_trigger=True),
            "views.update": lambda p: self.views.store(p, needs_trigger=False),
            "users.info": self.user_info,
        }

    def clear(self) -> None:
        """Forget messages, ephemerals and views (ts values keep increasing)."""
        self.messages.clear()
        self.views.clear()

    def auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        """auth.test for the bot token."""
        return {
            "url": "https://standin.slack.test/",
            "team": "Stand-in Workspace",
            "user": "chatops",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def open_conversation(self, params: dict[str, Any]) -> dict[str, Any]:
        """conversations.open: the DM (or group DM) with the given users."""
        if params.get("channel"):
            return {"channel": {"id": params["channel"]}}
        ids = params.get("users")
        if not isinstance(ids, list):
            ids = [u.strip() for u in str(ids or "").split(",") if u.strip()]
        if not ids:
            raise Refusal("users_list_not_supplied")
        channel = "D" + ids[0] if len(ids) == 1 else "G" + "".join(sorted(u[1:] for u in ids))
        return {"channel": {"id": channel}}

    def user_info(self, params: dict[str, Any]) -> dict[str, Any]:
        """users.info from the configured users, else a plausible generated user."""
        user_id = params.get("user")
        if not user_id:
            raise Refusal("user_not_found")
        name = str(user_id).lower()
        generated = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": f"User {user_id}",
            "deleted": False,
            "is_bot": False,
            "tz": "UTC",
            "profile": {
                "display_name": name,
                "real_name": f"User {user_id}",
                "email": f"{name}@standin.test",
            },
        }
        return {"user": {**generated, **copy.deepcopy(self.users.get(user_id, {}))}}
