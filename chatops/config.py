"""Configuration: secrets and endpoints from the environment, the desk's rules from a YAML file."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chatops.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: Any) -> timedelta:
    """Read '15m', '4h', '3d' (or a number of seconds) as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration such as 15m, 4h or 3d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlackSection(_Strict):
    """Slack-specific settings of the desk."""

    command: str = Field(default="/ticket", pattern=r"^/[a-z0-9_-]{1,31}$")


class Team(_Strict):
    """A team that owns tickets: its channel, its agents and its leads."""

    id: str
    name: str
    slack_channel: str
    agents: list[str] = Field(default_factory=list)
    leads: list[str] = Field(default_factory=list)

    def may_act(self, user_id: str) -> bool:
        """Whether this person works tickets of this team."""
        return user_id in self.agents or user_id in self.leads


class Category(_Strict):
    """A ticket category, recognised by keywords, optionally owned by a team."""

    id: str
    keywords: list[str] = Field(default_factory=list)
    team: str | None = None


class Priority(_Strict):
    """A priority level with its SLA targets; the list order is most to least urgent."""

    id: str
    keywords: list[str] = Field(default_factory=list)
    first_response: Duration
    resolution: Duration


class DeskConfig(_Strict):
    """The desk's rules: teams, categories, priorities and VIPs."""

    slack: SlackSection = Field(default_factory=SlackSection)
    teams: list[Team] = Field(min_length=1)
    default_team: str
    categories: list[Category] = Field(default_factory=list)
    priorities: list[Priority] = Field(min_length=1)
    default_priority: str
    vip_users: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references_resolve(self) -> DeskConfig:
        team_ids = _unique("teams", [t.id for t in self.teams])
        _unique("categories", [c.id for c in self.categories])
        priority_ids = _unique("priorities", [p.id for p in self.priorities])
        if self.default_team not in team_ids:
            raise ValueError(
                f"default_team: {self.default_team!r} is not one of the teams {sorted(team_ids)}"
            )
        for index, category in enumerate(self.categories):
            if category.team is not None and category.team not in team_ids:
                raise ValueError(f"categories[{index}].team: {category.team!r} is not one of the teams")
        if self.default_priority not in priority_ids:
            raise ValueError(
                f"default_priority: {self.default_priority!r} is not one of the priorities "
                f"{sorted(priority_ids)}"
            )
        return self

    def team(self, team_id: str) -> Team:
        """The team with this id (ids are validated at load time)."""
        return next(t for t in self.teams if t.id == team_id)

    def priority(self, priority_id: str) -> Priority:
        """The priority with this id."""
        return next(p for p in self.priorities if p.id == priority_id)

    def category(self, category_id: str) -> Category | None:
        """The category with this id, if any."""
        return next((c for c in self.categories if c.id == category_id), None)

    def teams_of(self, user_id: str) -> list[Team]:
        """The teams this person works in as agent or lead."""
        return [t for t in self.teams if t.may_act(user_id)]


def _unique(key: str, ids: list[str]) -> set[str]:
    seen: set[str] = set()
    for index, item in enumerate(ids):
        if item in seen:
            raise ValueError(f"{key}[{index}].id: {item!r} is used twice")
        seen.add(item)
    return seen


class Settings(BaseSettings):
    """Secrets and endpoints, read from the environment."""

    model_config = SettingsConfigDict(extra="ignore")

    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = "https://slack.com/api/"
    slack_timeout: float = 10.0
    database_url: str = "sqlite:///chatops.db"
    chatops_config: str = "chatops.yaml"


def load_desk_config(path: str | Path) -> DeskConfig:
    """Load and validate the YAML rules; a ConfigError names the file and the offending key."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: the config file does not exist (set CHATOPS_CONFIG)") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys (teams, categories, ...)")
    try:
        return DeskConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: " + "; ".join(_describe(e) for e in exc.errors())) from None


def _describe(error: Any) -> str:
    location = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(
        "."
    )
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{location}: {message}" if location else message


def require_signing_secret(settings: Settings) -> None:
    """Refuse to serve without a signing secret: unsigned requests would be accepted otherwise."""
    if not settings.slack_signing_secret:
        raise ConfigError("environment: SLACK_SIGNING_SECRET is not set; the bot refuses unsigned requests")
