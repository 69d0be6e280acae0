"""Secrets and endpoints, read from the environment."""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chatops.errors import ConfigError

# The Bot Framework's public OpenID metadata: the issuer and the keys of every token Teams sends the bot.
BOT_FRAMEWORK_METADATA = "https://login.botframework.com/v1/.well-known/openidconfiguration"


class Settings(BaseSettings):
    """Secrets and endpoints, read from the environment (each field from its name in capitals)."""

    model_config = SettingsConfigDict(extra="ignore")

    slack_bot_token: str = Field(default="", description="the bot token (xoxb-...)")
    slack_signing_secret: str = Field(
        default="", description="verifies every request from Slack; serve refuses to start without it"
    )
    slack_app_token: str = Field(default="", description="app-level token (xapp-...), for --socket-mode only")
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        description="base URL of the Slack Web API; every Slack call uses it",
    )
    slack_timeout: float = Field(default=10.0, description="seconds to wait for one Slack call")
    database_url: str = Field(
        default="sqlite:///chatops.db",
        description="sqlite:///path.db (WAL mode) or postgresql://user@host:5432/db",
    )
    chatops_config: str = Field(default="chatops.yaml", description="path of the desk's YAML rules")
    microsoft_app_id: str = Field(
        default="",
        description="the Azure Bot's app id; without it Teams is off and /api/messages is not served",
    )
    microsoft_app_password: str = Field(default="", description="the client secret of the Azure Bot's app")
    microsoft_app_tenant_id: str = Field(default="", description="the Entra tenant the Azure Bot's app is in")
    teams_openid_metadata_url: str = Field(
        default=BOT_FRAMEWORK_METADATA,
        description="where the keys that sign Teams' requests are published",
    )
    teams_token_authority: str = Field(
        default="",
        description="where the bot gets its tokens for Teams (default: Microsoft's login for the tenant)",
    )
    teams_timeout: float = Field(default=10.0, description="seconds to wait for one call to Teams")
    chatops_teams_insecure: bool = Field(
        default=False,
        description="1: take Teams requests without checking who sent them (a local emulator; loopback only)",
    )

    jira_url: str = Field(
        default="", description="Jira's base URL (https://your-site.atlassian.net); without it Jira is off"
    )
    jira_user: str = Field(default="", description="the Jira Cloud account the desk acts as (an email)")
    jira_api_token: str = Field(default="", description="that account's API token (Jira Cloud)")
    jira_token: str = Field(default="", description="a personal access token (Jira Data Center), instead")
    jira_webhook_secret: str = Field(
        default="", description="the secret Jira's webhook signs with (or passes as ?secret= on Data Center)"
    )
    jira_timeout: float = Field(default=10.0, description="seconds to wait for one call to Jira")

    @field_validator("slack_timeout", "teams_timeout", "jira_timeout", mode="before")
    @classmethod
    def _positive_seconds(cls, value: Any) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = math.nan
        if not (math.isfinite(seconds) and seconds > 0):
            raise ValueError(f"{value!r} is not a positive number of seconds; set it to one such as 10")
        return seconds

    @property
    def teams_enabled(self) -> bool:
        """Whether the desk takes Teams' requests at all."""
        return bool(self.microsoft_app_id) or self.chatops_teams_insecure

    @property
    def jira_enabled(self) -> bool:
        """Whether the desk is connected to Jira."""
        return bool(self.jira_url)

    @property
    def token_authority(self) -> str:
        """Where the bot's tokens for Teams come from."""
        return (
            self.teams_token_authority or f"https://login.microsoftonline.com/{self.microsoft_app_tenant_id}"
        )

    @field_validator("teams_openid_metadata_url", "teams_token_authority")
    @classmethod
    def _https(cls, value: str) -> str:
        if value and not value.startswith("https://"):
            raise ValueError(f"{value!r} is not an https URL; Microsoft's own are https")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _web_api_base(cls, value: str) -> str:
        if not re.match(r"https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL; Slack's own is https://slack.com/api/")
        # Method names are joined onto the base as relative links: without the final slash,
        # .../api + auth.test would become .../auth.test.
        return value if value.endswith("/") else value + "/"


def load_settings() -> Settings:
    """Read the settings from the environment; a ConfigError names each variable that cannot be used."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError("; ".join(_describe_variable(e) for e in exc.errors())) from None


def _describe_variable(error: Any) -> str:
    name = str(error["loc"][0]).upper() if error["loc"] else "environment"
    if error["type"] == "value_error":
        return f"{name}: " + str(error["msg"]).removeprefix("Value error, ")
    return f"{name}: {error['msg']}, not {error['input']!r}"


def require_signing_secret(settings: Settings) -> None:
    """Refuse to serve without a signing secret: unsigned requests would be accepted otherwise."""
    if not settings.slack_signing_secret:
        raise ConfigError(
            "SLACK_SIGNING_SECRET: not set; the bot refuses unsigned requests, so set it to the app's "
            "Signing Secret (api.slack.com/apps -> your app -> Basic Information)"
        )


def require_bot_token(settings: Settings) -> None:
    """Refuse to serve without a bot token: no card, note or answer could ever reach Slack."""
    if not settings.slack_bot_token:
        raise ConfigError(
            "SLACK_BOT_TOKEN: not set; copy the app's Bot User OAuth Token (xoxb-…) "
            "(api.slack.com/apps -> your app -> OAuth & Permissions)"
        )


def require_teams_credentials(settings: Settings) -> None:
    """Refuse a half-configured Teams: the bot could take requests but never answer them."""
    if not settings.microsoft_app_id:
        return
    for name, value, where in (
        (
            "MICROSOFT_APP_PASSWORD",
            settings.microsoft_app_password,
            "Certificates & secrets -> New client secret",
        ),
        ("MICROSOFT_APP_TENANT_ID", settings.microsoft_app_tenant_id, "Overview -> Directory (tenant) ID"),
    ):
        if not value:
            raise ConfigError(
                f"{name}: not set while MICROSOFT_APP_ID is; copy it from the Azure Bot's app registration "
                f"(portal.azure.com -> App registrations -> your bot -> {where})"
            )


def require_jira_credentials(settings: Settings, *, rules: bool) -> None:
    """Refuse a half-configured Jira; `rules`: the desk's config has a `jira` section, which needs Jira."""
    if not settings.jira_url:
        if rules:
            raise ConfigError(
                "JIRA_URL: not set, but the desk's config has a jira section; set it, or remove the section"
            )
        return
    if not settings.jira_url.startswith(("https://", "http://")):
        raise ConfigError(
            f"JIRA_URL: {settings.jira_url!r} is not a URL such as https://your-site.atlassian.net"
        )
    if not settings.jira_token and not (settings.jira_user and settings.jira_api_token):
        missing = "JIRA_API_TOKEN" if settings.jira_user else "JIRA_USER"
        raise ConfigError(
            f"{missing}: not set while JIRA_URL is; Jira Cloud needs JIRA_USER and JIRA_API_TOKEN "
            "(id.atlassian.com -> Security -> API tokens), Data Center a personal access token in JIRA_TOKEN"
        )
    if not settings.jira_webhook_secret:
        raise ConfigError(
            "JIRA_WEBHOOK_SECRET: not set while JIRA_URL is; choose a long random secret and give Jira's "
            "webhook the same one (Jira settings -> System -> WebHooks)"
        )
