"""The payloads Slack sends the app (slash commands, interactivity, Events API), as Slack builds them: shared
by the signed HTTP requests and Socket Mode envelopes."""

import copy
import itertools
import time
import uuid
from typing import Any

# The legacy verification token Slack still puts in every payload; Bolt ignores it in favour of signatures.
VERIFICATION_TOKEN = "standin-verification-token"
_SELECTIONS = {
    "users_select": "selected_user",
    "static_select": "selected_option",
    "external_select": "selected_option",
}
# Select menus echo back their choice, not the list they offered.
_NOT_ECHOED = ("options", "option_groups")


def as_slack_sends(typed: str) -> str:
    """Text as Slack delivers what a person typed: `&`, `<` and `>` escaped (mentions and links are not typed
    but inserted, so a test that wants one writes it in Slack's markup and passes `encoded=True`)."""
    return typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def find_action(blocks: list[dict], action_id: str) -> dict:
    """The element with `action_id` in `blocks`, block_id filled in; KeyError lists the ones present."""
    present = []
    for block in blocks:
        elements = [*block.get("elements", []), block.get("accessory"), block.get("element")]
        for element in elements:
            if not isinstance(element, dict) or "action_id" not in element:
                continue
            if element["action_id"] == action_id:
                return {**copy.deepcopy(element), "block_id": element.get("block_id", block.get("block_id"))}
            present.append(element["action_id"])
    raise KeyError(f"no element with action_id {action_id!r}; action_ids present: {present}")


class SlackPayloads:
    """Builds the payloads of one workspace's requests."""

    def __init__(
        self,
        *,
        team_id: str = "T0TEST",
        team_domain: str = "standin",
        api_app_id: str = "A0CHATOPS",
        bot_user_id: str = "U0BOT",
        response_url_base: str = "https://hooks.slack.test/",
    ) -> None:
        self.team_id, self.team_domain, self.api_app_id = team_id, team_domain, api_app_id
        self.bot_user_id = bot_user_id
        self.response_url_base = response_url_base
        self._serial = itertools.count(1)

    def slash_command_payload(
        self,
        text: str,
        *,
        user_id: str,
        channel_id: str = "C0GENERAL",
        command: str = "/ticket",
        trigger_id: str | None = None,
        encoded: bool = False,
    ) -> dict[str, str]:
        """The fields of a slash command invocation (all strings, as Slack form-encodes them).

        `text` is what the person typed, escaped here as Slack does; `encoded=True` sends it as given.
        """
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": _channel_name(channel_id),
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text if encoded else as_slack_sends(text),
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": self._response_url("commands"),
            "trigger_id": trigger_id or self._trigger_id(),
        }

    def block_action_payload(
        self,
        action: dict,
        *,
        user_id: str,
        channel_id: str,
        message: dict,
        selected_user: str | None = None,
        selected_option: dict | None = None,
    ) -> dict[str, Any]:
        """A block_actions payload for clicking/choosing `action` in a posted `message`."""
        acted = {k: v for k, v in copy.deepcopy(action).items() if k not in _NOT_ECHOED}
        if not acted.get("block_id"):
            acted["block_id"] = find_action(message.get("blocks") or [], action["action_id"])["block_id"]
        choice = {"selected_user": selected_user, "selected_option": copy.deepcopy(selected_option)}
        selection_key = _SELECTIONS.get(acted.get("type", ""))
        if selection_key is not None:
            if choice[selection_key] is None:
                raise ValueError(f"a {acted['type']} action needs {selection_key}")
            acted[selection_key] = choice[selection_key]
        acted["action_ts"] = _now_ts()
        container = {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        if message.get("thread_ts"):
            container["thread_ts"] = message["thread_ts"]
        return {
            **self._interaction("block_actions", user_id),
            "container": container,
            "channel": {"id": channel_id, "name": _channel_name(channel_id)},
            "message": {"type": "message", **copy.deepcopy(message)},
            "state": {"values": {}},
            "response_url": self._response_url("actions"),
            "actions": [acted],
        }

    def block_suggestion_payload(
        self, action: dict, *, user_id: str, channel_id: str, message: dict, value: str = ""
    ) -> dict[str, Any]:
        """A block_suggestion payload: `value` typed into the external select `action` of a posted message,
        whose options Slack asks the app for."""
        if action.get("type") != "external_select":
            raise ValueError(
                f"Slack asks for options of external selects only, not of a {action.get('type')}"
            )
        block_id = (
            action.get("block_id")
            or find_action(message.get("blocks") or [], action["action_id"])["block_id"]
        )
        interaction = {
            k: v for k, v in self._interaction("block_suggestion", user_id).items() if k != "trigger_id"
        }
        return {
            **interaction,
            "container": {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": channel_id,
                "is_ephemeral": False,
            },
            "channel": {"id": channel_id, "name": _channel_name(channel_id)},
            "block_id": block_id,
            "action_id": action["action_id"],
            "value": value,
        }

    def message_shortcut_payload(
        self, *, callback_id: str, user_id: str, channel_id: str, message: dict
    ) -> dict[str, Any]:
        """A message_action payload: a message shortcut chosen from a message's menu."""
        return {
            **self._interaction("message_action", user_id),
            "callback_id": callback_id,
            "action_ts": _now_ts(),
            "channel": {"id": channel_id, "name": _channel_name(channel_id)},
            "message_ts": message["ts"],
            "message": {"type": "message", **copy.deepcopy(message)},
            "response_url": self._response_url("app"),
        }

    def view_submission_payload(
        self, view: dict, *, user_id: str, values: dict[str, dict[str, dict]]
    ) -> dict[str, Any]:
        """A view_submission payload for `view` with state `values` (block_id -> action_id -> value)."""
        block_ids = [b.get("block_id") for b in view.get("blocks", [])]
        unknown = sorted(set(values) - set(block_ids))
        if unknown:
            raise ValueError(f"values for block_ids {unknown} not in the view; its block_ids: {block_ids}")
        view_id = view.get("id") or f"V{next(self._serial):08d}"
        submitted = {
            "team_id": self.team_id,
            "type": "modal",
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "hash": f"{int(time.time())}.{view_id}",
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.api_app_id,
            "app_installed_team_id": self.team_id,
            "clear_on_close": False,
            "notify_on_close": False,
            **copy.deepcopy(view),
            "id": view_id,
            "state": {"values": copy.deepcopy(values)},
        }
        return {**self._interaction("view_submission", user_id), "view": submitted, "response_urls": []}

    def event_payload(self, event: dict, *, event_id: str | None = None) -> dict[str, Any]:
        """An Events API event_callback envelope around `event`, authorized for the bot user."""
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
            "api_app_id": self.api_app_id,
            # Slack stamps every event; message events reuse their ts.
            "event": {"event_ts": event.get("ts") or _now_ts(), **copy.deepcopy(event)},
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }

    def direct_message_event(
        self,
        text: str,
        *,
        user_id: str,
        channel_id: str | None = None,
        ts: str | None = None,
        encoded: bool = False,
    ) -> dict[str, Any]:
        """A `message` event a user sends the bot in their DM (channel_type "im"); `text` as for commands."""
        stamp = ts or _now_ts()
        return {
            "type": "message",
            "user": user_id,
            "text": text if encoded else as_slack_sends(text),
            "blocks": [
                {
                    "type": "rich_text",
                    "block_id": uuid.uuid4().hex[:5],
                    "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
                }
            ],
            "client_msg_id": str(uuid.uuid4()),
            "team": self.team_id,
            "channel": channel_id or "D" + user_id,
            "channel_type": "im",
            "ts": stamp,
            "event_ts": stamp,
        }

    def _interaction(self, kind: str, user_id: str) -> dict[str, Any]:
        return {
            "type": kind,
            "token": VERIFICATION_TOKEN,
            "team": {"id": self.team_id, "domain": self.team_domain},
            "user": {
                "id": user_id,
                "username": user_id.lower(),
                "name": user_id.lower(),
                "team_id": self.team_id,
            },
            "api_app_id": self.api_app_id,
            "trigger_id": self._trigger_id(),
            "is_enterprise_install": False,
            "enterprise": None,
        }

    def _response_url(self, kind: str) -> str:
        return f"{self.response_url_base}{kind}/{self.team_id}/{next(self._serial)}/{uuid.uuid4().hex[:24]}"

    def _trigger_id(self) -> str:
        return f"{next(self._serial)}.{time.time_ns() // 1_000_000}.{uuid.uuid4().hex}"


def _channel_name(channel_id: str) -> str:
    # Slack names every DM "directmessage" in payloads.
    return "directmessage" if channel_id.startswith("D") else channel_id.lower()


def _now_ts() -> str:
    return f"{time.time():.6f}"
