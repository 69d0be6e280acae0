"""The Teams side of the test harness: the desk's Teams settings, activities signed and sent to the served
desk, and what the Bot Connector stand-in shows in each conversation."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.teams.devkit.activities import TeamsActivities, TeamsUser, signed, teams_user
from adapters.teams.devkit.authority import APP_ID, APP_SECRET, TENANT_ID, IdentityProvider
from adapters.teams.devkit.cards import card_of, find_action, words
from adapters.teams.devkit.connector import BotConnector, personal_chat_id
from chatops.config.settings import Settings
from harness import at_least, settings_for

TEAMS_CONFIG = Path(__file__).with_name("teams_desk.yaml")
SUPPORT = "19:support@thread.tacv2"
TEAM = "19:team-general@thread.tacv2"
ALICE, TOM = teams_user("Alice Ng"), teams_user("Tom Ito")
CUSTOMER, STRANGER = teams_user("Cara Diaz"), teams_user("Lee Ross")


def teams_settings(
    database_url: str, slack_url: str, identity: IdentityProvider, **overrides: Any
) -> Settings:
    """Settings for a desk in Slack and Teams, with Teams' keys and tokens from the identity stand-in."""
    values: dict[str, Any] = {
        "chatops_config": str(TEAMS_CONFIG),
        "microsoft_app_id": APP_ID,
        "microsoft_app_password": APP_SECRET,
        "microsoft_app_tenant_id": TENANT_ID,
        "teams_openid_metadata_url": identity.metadata_url,
        "teams_token_authority": identity.oidc_authority,
        # Patient: Teams cannot be asked whether a post that went unanswered landed, so the desk posts it
        # again, and a test on a busy machine whose answers came late would see cards twice.
        "teams_timeout": 5.0,
    }
    return settings_for(database_url, slack_url, **(values | overrides))


@dataclass(frozen=True)
class Reply:
    """The desk's HTTP answer to one activity."""

    status: int
    body: Any


@dataclass
class Teams:
    """Teams as the desk sees it: a tenant's channel sending activities, and the Bot Connector."""

    identity: IdentityProvider
    connector: BotConnector
    url: Callable[[], str]

    def __post_init__(self) -> None:
        self.activities = TeamsActivities(self.connector.service_url)

    def send(self, activity: dict[str, Any], **mint_overrides: Any) -> Reply:
        """Post an activity to /api/messages with a channel token made for it."""
        headers, body = signed(activity, self.identity, **mint_overrides)
        return self.post(body, headers)

    def post(self, body: bytes, headers: dict[str, str]) -> Reply:
        """Post raw bytes to /api/messages."""
        request = urllib.request.Request(
            self.url() + "/api/messages", data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                raw = answer.read()
                return Reply(answer.status, json.loads(raw) if raw else None)
        except urllib.error.HTTPError as error:
            raw = error.read()
            return Reply(error.code, json.loads(raw) if raw else None)

    def say(self, user: TeamsUser, text: str) -> Reply:
        """`user` writes to the bot in their personal chat."""
        return self.send(self.activities.personal_message(user, text))

    def add_bot_to_team(self) -> None:
        """The team installs the app: Teams tells the bot of the team's channel with the cards."""
        activity = self.activities.bot_added_to_team(ALICE, TEAM, SUPPORT)
        activity["conversation"]["id"] = SUPPORT
        assert self.send(activity).status in (200, 202)

    def ticket_card(self, text: str = "The export fails with error 500") -> dict[str, Any]:
        """The team has the app; the customer asks in their personal chat; the card it gets in Teams."""
        self.add_bot_to_team()
        self.say(CUSTOMER, text)
        (card,) = self.cards()
        return card

    def chat(self, user: TeamsUser, count: int = 1, timeout: float = 5.0) -> list[str]:
        """What the bot wrote in its personal chat with `user` (a card's words, for a card), once there are
        `count` messages."""
        chat = personal_chat_id(user.user_id)
        return at_least(
            count,
            lambda: [
                m.get("text") or (words(card_of(m)) if m.get("attachments") else "")
                for m in self.connector.messages(chat)
            ],
            f"{count} message(s) in {user.name}'s chat",
            timeout,
        )

    def cards(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The cards in the support channel (posts with an Adaptive Card), once there are `count`."""
        return at_least(
            count,
            lambda: [m for m in self.connector.messages(SUPPORT) if m.get("attachments")],
            f"{count} card(s) in the Teams channel",
            timeout,
        )

    def thread(self, card: dict[str, Any]) -> list[str]:
        """The texts posted in the thread under a card."""
        return [m.get("text", "") for m in self.connector.messages(f"{SUPPORT};messageid={card['id']}")]

    def click(
        self, user: TeamsUser, card: dict[str, Any], title: str, choice: str | None = None, **mint: Any
    ) -> Reply:
        """`user` presses the card's action titled `title` (with `choice` in its input, if it has one)."""
        action = find_action(card_of(card), title)
        data = dict(action["data"])
        if choice is not None:
            data[data["chatops_input"]] = choice
        activity = self.activities.card_action(user, SUPPORT, card["id"], data, action["verb"])
        return self.send(activity, **mint)
