"""Secrets and endpoints, read from the environment."""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chatops.errors import ConfigError


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

    @field_validator("slack_timeout", mode="before")
    @classmethod
    def _positive_seconds(cls, value: Any) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = math.nan
        if not (math.isfinite(seconds) and seconds > 0):
            raise ValueError(f"{value!r} is not a positive number of seconds; set it to one such as 10")
        return seconds

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
