"""The desk's rules, as read from its YAML file: people, teams and their places, categories, priorities."""

from __future__ import annotations

import functools
import re
import string
from datetime import date, time, timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from chatops.config.conversation import CsatSection, IntakeLimit, NoiseRules, Quiet, RequestChannels
from chatops.config.durations import positive_duration
from chatops.config.tracking import TrackerSection
from chatops.messaging.ports import Place
from chatops.people.identity import DECLARED_ID, EMAIL_ADDRESS, TEAMS_USER, platform_of
from chatops.sla.calendar import ALWAYS, Clockwork, WorkCalendar

SlaTarget = Annotated[timedelta, BeforeValidator(positive_duration)]
# Tickets start at tier 1 and go up to this one.
MAX_TIER = 3


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


def _pattern(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


ChannelId = Annotated[
    str, _slack_id("CG", "channel", "channel name -> View channel details -> the id at the bottom")
]
UserId = Annotated[str, _slack_id("UW", "user", "the person's profile -> ⋮ -> Copy member ID")]
TeamsUserId = Annotated[str, _pattern(TEAMS_USER, "a Teams user id (the person's Entra object id, a GUID)")]
Email = Annotated[str, _pattern(EMAIL_ADDRESS, "an email address")]
# A Teams channel's conversation id, as Teams gives it: 19:...@thread.tacv2 (or @thread.skype).
TeamsChannelId = Annotated[
    str, _pattern(re.compile(r"19:[^\s]+@thread\.[a-z0-9]+"), "a Teams channel id (19:...@thread.tacv2)")
]
PersonId = Annotated[
    str,
    _pattern(DECLARED_ID, "a person id: lowercase letters, digits, '.', '_' or '-', starting with a letter"),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlackSection(_Strict):
    """Slack-specific settings of the desk."""

    command: str = Field(default="/ticket", pattern=r"^/[a-z0-9_-]{1,31}$")


class PersonEntry(_Strict):
    """Someone the desk knows by name, with their identity on each platform they use."""

    id: PersonId
    name: str | None = None
    slack: UserId | None = None
    teams: TeamsUserId | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _reachable(self) -> PersonEntry:
        if not (self.slack or self.teams or self.email):
            raise ValueError(f"person {self.id!r} needs at least one of slack, teams or email")
        return self


class Team(_Strict):
    """A team that owns tickets: where its cards go, its agents and its leads, and its working hours."""

    id: str
    name: str
    slack_channel: ChannelId | None = None
    teams_channel: TeamsChannelId | None = None
    # Each a person id from `people`, or a raw platform id: U…/W… (Slack), a GUID (Teams), an email.
    agents: list[str] = Field(default_factory=list)
    leads: list[str] = Field(default_factory=list)
    # A calendar of `calendars`; without one, the team's SLA clocks run around the clock.
    calendar: str | None = None
    # At a breach, move the ticket up one tier, as if a lead had pressed Escalate.
    escalate_on_breach: bool = False
    # Whether the team's requesters get the satisfaction survey (when the desk sends one at all).
    csat: bool = True
    # Who hears of a ticket escalated to tier 2 or 3 (as agents are named); without a list, the leads.
    tiers: dict[int, list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _placed(self) -> Team:
        if not (self.slack_channel or self.teams_channel):
            raise ValueError(f"team {self.id!r} needs a slack_channel, a teams_channel or both")
        return self

    def places(self) -> list[Place]:
        """Where the team's cards go, one place per platform."""
        found = [Place("slack", self.slack_channel), Place("teams", self.teams_channel)]
        return [place for place in found if place.address]


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


class SlaSection(_Strict):
    """How the SLA engine watches the clocks."""

    # The fraction of a target at which the assignee is warned.
    warn_at: float = Field(default=0.75, gt=0, lt=1)
    # How often due clocks are looked at.
    sweep_seconds: float = Field(default=30.0, gt=0)
    # How long done outbox rows are kept before housekeeping deletes them.
    retention_days: float = Field(default=14.0, gt=0)


class CalendarEntry(_Strict):
    """Working hours: a time zone, working days, opening and closing, holidays and extra closed days."""

    timezone: str
    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    start: str | time = "09:00"
    end: str | time = "17:00"
    holidays: str | None = None
    closed: tuple[str | date, ...] = ()

    def calendar(self) -> WorkCalendar:
        """The working-time calendar these settings describe (ValueError names a bad value)."""
        return WorkCalendar.from_config(
            timezone=self.timezone,
            days=self.days,
            start=self.start,
            end=self.end,
            holidays=self.holidays,
            closed=self.closed,
        )


# What a canned reply may fill in; anything else in braces is refused when the rules are read.
CANNED_FIELDS = ("requester", "ticket", "title", "agent")


class CannedReply(_Strict):
    """A saved reply agents send from the card, with {requester}, {ticket}, {title} and {agent} filled in."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    text: str = Field(min_length=1, max_length=3000)

    @model_validator(mode="after")
    def _known_fields(self) -> CannedReply:
        try:
            fields = [field for _, field, _, _ in string.Formatter().parse(self.text) if field is not None]
        except ValueError as error:
            raise ValueError(f"canned reply {self.name!r}: {error}; write a brace as {{{{ or }}}}") from None
        for field in fields:
            if field not in CANNED_FIELDS:
                known = ", ".join(f"{{{name}}}" for name in CANNED_FIELDS)
                raise ValueError(f"canned reply {self.name!r}: {{{field}}} is not one of {known}")
        return self


class ProductSection(_Strict):
    """Where the product team reads the feedback that reaches it: a Slack channel, a Teams channel or both."""

    slack_channel: ChannelId | None = None
    teams_channel: TeamsChannelId | None = None

    def places(self) -> list[Place]:
        """The product team's places, one per platform."""
        found = [Place("slack", self.slack_channel), Place("teams", self.teams_channel)]
        return [place for place in found if place.address]


class DeskConfig(_Strict):
    """The desk's rules: people, teams, categories, priorities, VIPs, SLA, working hours, the tracker."""

    slack: SlackSection = Field(default_factory=SlackSection)
    sla: SlaSection = Field(default_factory=SlaSection)
    calendars: dict[str, CalendarEntry] = Field(default_factory=dict)
    people: list[PersonEntry] = Field(default_factory=list)
    teams: list[Team] = Field(min_length=1)
    default_team: str
    categories: list[Category] = Field(default_factory=list)
    priorities: list[Priority] = Field(min_length=1)
    default_priority: str
    vip_users: list[str] = Field(default_factory=list)
    # The issue tracker's rules (Jira), used once the desk is connected to one.
    jira: TrackerSection | None = None
    product: ProductSection = Field(default_factory=ProductSection)
    # In a card's thread, talk is internal; a message starting with this goes to the requester.
    reply_prefix: str = Field(default="reply:", min_length=1, max_length=40)
    # Slack: reacting with this emoji (its name, without colons) to a message opens a ticket from it.
    intake_emoji: str = Field(default="ticket", pattern=r"^[a-z0-9_+'-]{1,100}$")
    canned_replies: list[CannedReply] = Field(default_factory=list)
    # Channels whose every new message is a request; what there is not one, and is skipped.
    request_channels: RequestChannels = Field(default_factory=list)
    noise: NoiseRules = Field(default_factory=NoiseRules)
    # A ticket waiting on its customer: one follow-up after this long without an answer, and after the
    # second period it resolves itself (null: never).
    follow_up_after: Quiet | None = timedelta(days=2)
    auto_resolve_after: Quiet | None = timedelta(days=5)
    # A resolved ticket whose requester answers neither Yes nor No closes itself after this long.
    confirm_close_after: Quiet = timedelta(days=3)
    csat: CsatSection = Field(default_factory=CsatSection)
    # The most new tickets one person may open in a while (null: no limit).
    intake_limit: IntakeLimit | None = Field(default_factory=IntakeLimit)

    @model_validator(mode="after")
    def _references_resolve(self) -> DeskConfig:
        person_ids = _unique("people", [p.id for p in self.people])
        for platform in ("slack", "teams", "email"):
            _unique_identities(platform, [getattr(p, platform) for p in self.people])
        team_ids = _unique("teams", [t.id for t in self.teams])
        _unique("categories", [c.id for c in self.categories])
        _unique_names("canned_replies", [c.name for c in self.canned_replies])
        priority_ids = _unique("priorities", [p.id for p in self.priorities])
        for name, entry in self.calendars.items():
            try:
                entry.calendar()
            except ValueError as error:
                raise ValueError(f"calendars.{name}: {error}") from None
        for index, team in enumerate(self.teams):
            if team.calendar is not None and team.calendar not in self.calendars:
                raise ValueError(
                    f"teams[{index}].calendar: {team.calendar!r} is not one of the calendars "
                    f"{sorted(self.calendars)}"
                )
            for role in ("agents", "leads"):
                for position, entry in enumerate(getattr(team, role)):
                    _check_member(f"teams[{index}].{role}[{position}]", entry, person_ids)
            for tier, entries in team.tiers.items():
                if not 2 <= tier <= MAX_TIER:
                    raise ValueError(
                        f"teams[{index}].tiers.{tier}: tickets are escalated to tiers 2 to {MAX_TIER} only"
                    )
                for position, entry in enumerate(entries):
                    _check_member(f"teams[{index}].tiers.{tier}[{position}]", entry, person_ids)
        for position, entry in enumerate(self.vip_users):
            _check_member(f"vip_users[{position}]", entry, person_ids)
        if self.default_team not in team_ids:
            raise ValueError(
                f"default_team: {self.default_team!r} is not one of the teams {sorted(team_ids)}"
            )
        posted = {place.address: key for key, place in self.all_places()}
        for index, entry in enumerate(self.request_channels):
            if entry.channel in posted:
                raise ValueError(
                    f"request_channels[{index}].channel: {entry.channel!r} is where {posted[entry.channel]} "
                    "posts its cards; a request channel must be another channel"
                )
            if entry.team is not None and entry.team not in team_ids:
                raise ValueError(
                    f"request_channels[{index}].team: {entry.team!r} is not one of the teams "
                    f"{sorted(team_ids)}"
                )
        for index, category in enumerate(self.categories):
            if category.team is not None and category.team not in team_ids:
                raise ValueError(f"categories[{index}].team: {category.team!r} is not one of the teams")
        if self.jira is not None:
            for category in self.jira.categories:
                if self.category(category) is None:
                    raise ValueError(f"jira.categories.{category}: there is no such category in `categories`")
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

    def clockwork(self, team_id: str) -> Clockwork:
        """How a team's SLA clocks count time: its calendar's working hours, or around the clock."""
        name = self.team(team_id).calendar
        return _calendar(self.calendars[name]) if name is not None else ALWAYS

    def canned(self, name: str) -> CannedReply | None:
        """The canned reply with this name, if any."""
        return next((c for c in self.canned_replies if c.name == name), None)

    def request_team(self, channel: str) -> str | None:
        """The team a request channel of the rules files its requests for; None if it is not one."""
        entry = next((e for e in self.request_channels if e.channel == channel), None)
        return None if entry is None else (entry.team or self.default_team)

    def surveys(self, team_id: str) -> bool:
        """Whether the requesters of this team get the satisfaction survey."""
        return self.csat.enabled and self.team(team_id).csat

    def platforms(self) -> list[str]:
        """The chat platforms some team has a place on."""
        return list(dict.fromkeys(place.platform for team in self.teams for place in team.places()))

    def all_places(self) -> list[tuple[str, Place]]:
        """Every place the desk posts in, each with the key that configures it."""
        found = [
            (f"teams[{index}].{place.platform}_channel", place)
            for index, team in enumerate(self.teams)
            for place in team.places()
        ]
        return found + [(f"product.{place.platform}_channel", place) for place in self.product.places()]


@functools.lru_cache(maxsize=64)
def _calendar(entry: CalendarEntry) -> WorkCalendar:
    # Entries are frozen, so the calendar each describes is built once per process.
    return entry.calendar()


def _check_member(key: str, entry: str, person_ids: set[str]) -> None:
    if entry in person_ids or platform_of(entry) is not None:
        return
    raise ValueError(
        f"{key}: {entry!r} is not a user id; name a person of `people`, or give a Slack id such as U0123ABCD "
        "or W0123ABCD (in Slack: the person's profile -> ⋮ -> Copy member ID), a Teams user id (a GUID) "
        "or an email address"
    )


def _unique_identities(platform: str, values: list[str | None]) -> None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value is None:
            continue
        if value.lower() in seen:
            raise ValueError(f"people[{index}].{platform}: {value!r} belongs to two people")
        seen.add(value.lower())


def _unique_names(key: str, names: list[str]) -> None:
    for index, name in enumerate(names):
        if name in names[:index]:
            raise ValueError(f"{key}[{index}].name: {name!r} is used twice")


def _unique(key: str, ids: list[str]) -> set[str]:
    seen: set[str] = set()
    for index, item in enumerate(ids):
        if item in seen:
            raise ValueError(f"{key}[{index}].id: {item!r} is used twice")
        seen.add(item)
    return seen
