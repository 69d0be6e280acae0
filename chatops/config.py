"""Configuration: secrets and endpoints from the environment, the desk's rules from a YAML file."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from chatops.errors import ConfigError

# The sign is accepted so that '-5m' is refused as not positive rather than as not a duration.
_DURATION = re.compile(r"^\s*(-?\d+)\s*([smhdw])\s*$")
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


def _positive_duration(value: Any) -> timedelta:
    duration = parse_duration(value)
    if duration <= timedelta(0):
        raise ValueError(f"{value!r} must be positive, such as 15m, 4h or 3d")
    return duration


SlaTarget = Annotated[timedelta, BeforeValidator(_positive_duration)]


# Slack ids are uppercase letters and digits after a one-letter kind: C (public channel) or G (private
# channel) for the channel a team works in; U or W (Enterprise Grid) for a person.
def _slack_id(kinds: str, what: str, where: str) -> AfterValidator:
    pattern = re.compile(f"[{kinds}][A-Z0-9]{{2,}}")
    examples = " or ".join(f"{kind}0123ABCD" for kind in kinds)

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not a {what} id; ids look like {examples} (in Slack: {where})")
        return value

    return AfterValidator(check)


ChannelId = Annotated[
    str, _slack_id("CG", "channel", "channel name -> View channel details -> the id at the bottom")
]
UserId = Annotated[str, _slack_id("UW", "user", "the person's profile -> ⋮ -> Copy member ID")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlackSection(_Strict):
    """Slack-specific settings of the desk."""

    command: str = Field(default="/ticket", pattern=r"^/[a-z0-9_-]{1,31}$")


class Team(_Strict):
    """A team that owns tickets: its channel, its agents and its leads."""

    id: str
    name: str
    slack_channel: ChannelId
    agents: list[UserId] = Field(default_factory=list)
    leads: list[UserId] = Field(default_factory=list)

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
    first_response: SlaTarget
    resolution: SlaTarget


class DeskConfig(_Strict):
    """The desk's rules: teams, categories, priorities and VIPs."""

    slack: SlackSection = Field(default_factory=SlackSection)
    teams: list[Team] = Field(min_length=1)
    default_team: str
    categories: list[Category] = Field(default_factory=list)
    priorities: list[Priority] = Field(min_length=1)
    default_priority: str
    vip_users: list[UserId] = Field(default_factory=list)

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


def load_desk_config(path: str | Path) -> DeskConfig:
    """Load and validate the YAML rules; a ConfigError names the file and the offending key."""
    path = Path(path)
    text = _read_rules(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {_describe_yaml_error(exc, text)}") from None
    if raw is None:
        raise ConfigError(
            f"{path}: the file is empty; it must hold the desk's rules (teams, priorities, ...)"
        )
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys (teams, categories, ...)")
    try:
        return DeskConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: " + "; ".join(_describe(e) for e in exc.errors())) from None


def _read_rules(path: Path) -> str:
    # The file is named by CHATOPS_CONFIG, so a file that cannot be read is that setting's mistake.
    where = f"CHATOPS_CONFIG: {str(path)!r}"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{where} does not exist; write the desk's rules there or set CHATOPS_CONFIG to their file"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{where} is a directory; set CHATOPS_CONFIG to the YAML file in it") from None
    except PermissionError:
        raise ConfigError(
            f"{where} cannot be read (permission denied); let the user running chatops read it"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{where} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{where} cannot be read: {exc.strerror or exc}") from None


def _describe_yaml_error(error: yaml.YAMLError, text: str) -> str:
    # PyYAML's own message names the parsed text "<unicode string>" and spans several lines; the
    # operator needs the line and column in their file, on one line.
    if isinstance(error, yaml.reader.ReaderError):
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        code = error.character if isinstance(error.character, int) else ord(error.character)
        return f"line {line}, column {column}: not valid YAML: the character U+{code:04X} is not allowed"
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        message = f"{_at(error.problem_mark)}: not valid YAML: {error.problem}"
        if error.context:
            message += f" ({error.context}"
            message += f" at {_at(error.context_mark)})" if error.context_mark is not None else ")"
        return message
    return f"not valid YAML: {' '.join(str(error).split())}"


def _at(mark: yaml.Mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _describe(error: Any) -> str:
    location = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(
        "."
    )
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{location}: {message}" if location else message


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
