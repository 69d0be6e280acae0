"""Who the bot is in its workspace: auth.test at start-up, and again until Slack answers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
import structlog
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from chatops.errors import ConfigError

log = structlog.get_logger("chatops.slack")

# What Slack answers for a token that will never work again; anything else may pass.
_REFUSALS = {
    "not_authed": "no token reached Slack",
    "invalid_auth": "Slack does not know this token",
    "token_revoked": "the token was revoked",
    "token_expired": "the token expired",
    "account_inactive": "the app was uninstalled or its user deactivated",
    "not_allowed_token_type": "this is not a bot token (it should start with xoxb-)",
}


class SlackUnreachable(Exception):
    """Slack's Web API did not answer; the token may well be good."""


@dataclass
class BotIdentity:
    """The bot's own ids in the workspace, known once auth.test has answered."""

    user_id: str | None = None
    bot_id: str | None = None
    team_id: str | None = None

    async def check(self, client: AsyncWebClient) -> None:
        """Ask Slack whose token this is: ConfigError if refused, SlackUnreachable if Slack is silent."""
        try:
            answer = await client.auth_test()
        except SlackApiError as error:
            code = str(error.response.get("error") or error.response.status_code)
            if code in _REFUSALS:
                raise ConfigError(
                    f"SLACK_BOT_TOKEN: Slack refused it ({code}: {_REFUSALS[code]}); reinstall the app and "
                    "copy its Bot User OAuth Token again"
                ) from None
            raise SlackUnreachable(f"Slack answered auth.test with {code}") from None
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise SlackUnreachable(f"no answer from {client.base_url} ({type(error).__name__})") from None
        self.user_id, self.bot_id, self.team_id = (
            answer.get("user_id"),
            answer.get("bot_id"),
            answer.get("team_id"),
        )
        log.info("slack_token_checked", team=self.team_id, bot_user=self.user_id)

    async def keep_checking(
        self, client: AsyncWebClient, *, first_wait: float = 2.0, most: float = 60.0
    ) -> None:
        """Ask again, waiting longer each time, until Slack answers (ConfigError if it refuses the token)."""
        wait = first_wait
        while True:
            await asyncio.sleep(wait)
            try:
                await self.check(client)
                log.info("slack_reachable", url=client.base_url)
                return
            except SlackUnreachable as error:
                log.warning("slack_unreachable", error=str(error), next_try_in=min(wait * 2, most))
            wait = min(wait * 2, most)

    def authorize(self, token: str) -> AuthorizeResult:
        """The authorization of every request: the configured token, with the ids known so far.

        Bolt would otherwise call auth.test on the first request and answer it with an error page when Slack
        is not reachable at that moment; nothing the desk does on a request needs more than the token.
        """
        return AuthorizeResult(
            enterprise_id=None,
            team_id=self.team_id,
            bot_token=token,
            bot_user_id=self.user_id,
            bot_id=self.bot_id,
        )
