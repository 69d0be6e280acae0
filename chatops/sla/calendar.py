"""Working-time arithmetic: when a target counted in business hours falls due, and how much of it is used."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_tables

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# A calendar whose open days are all holidays or closed dates for this long is treated as broken rather
# than searched until the end of time; no real calendar closes for a whole year.
_LONGEST_CLOSURE = timedelta(days=400)


class Clockwork(Protocol):
    """How SLA clocks count time: around the clock, or only in a team's working hours."""

    def add_working(self, start: datetime, amount: timedelta) -> datetime:
        """The UTC instant at which `amount` of counted time has elapsed since `start`."""
        ...

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        """The counted time between two instants (zero if `end` is not after `start`)."""
        ...


def _utc(moment: datetime, name: str) -> datetime:
    # A naive datetime could be local or UTC; guessing would shift every due time by the offset.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} {moment!r} is naive; pass a timezone-aware UTC datetime")
    return moment.astimezone(UTC)


class TwentyFourSeven:
    """The clock of a team without a calendar: every second counts."""

    def add_working(self, start: datetime, amount: timedelta) -> datetime:
        """`start` plus `amount`, in UTC."""
        if amount < timedelta(0):
            raise ValueError(f"amount {amount!r} is negative")
        return _utc(start, "start") + amount

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        """The plain time between two instants, never negative."""
        return max(_utc(end, "end") - _utc(start, "start"), timedelta(0))

    def __repr__(self) -> str:
        return "ALWAYS"


ALWAYS: Clockwork = TwentyFourSeven()


def _split_holiday_code(code: str) -> tuple[str, str | None]:
    # Only the first hyphen separates: the country is always a two- or three-letter ISO code.
    country, _, subdivision = code.partition("-")
    return country, subdivision or None


def _check_holiday_code(code: str) -> None:
    country, subdivision = _split_holiday_code(code)
    try:
        holiday_tables.country_holidays(country, subdiv=subdivision)
    except NotImplementedError:
        known = holiday_tables.list_supported_countries()
        if country not in known:
            raise ValueError(
                f"unknown holiday country {country!r} in {code!r}; use an ISO code such as DE or US"
            ) from None
        choices = ", ".join(known[country]) or "none"
        raise ValueError(
            f"unknown holiday subdivision {subdivision!r} in {code!r}; {country} has: {choices}"
        ) from None


@functools.lru_cache(maxsize=256)
def _holidays_in(code: str, year: int) -> frozenset[date]:
    # Keyed by code and year so that the frozen calendar stays hashable and every calendar sharing a code
    # shares one table; observed days (a Friday for a Saturday holiday) count, as offices close on them.
    country, subdivision = _split_holiday_code(code)
    return frozenset(holiday_tables.country_holidays(country, subdiv=subdivision, years=year))


@dataclass(frozen=True)
class WorkCalendar:
    """A team's working hours: open days, daily opening and closing in a time zone, holidays, closed dates.

    `start` and `end` are local wall-clock times on the same day; a shift past midnight is not supported.
    On a daylight-saving change a wall-clock time that does not exist (spring forward) is read with the
    offset in force before the change, and one that occurs twice (fall back) as its first occurrence, so
    the day is simply an hour shorter or longer when the change falls inside the hours.
    """

    timezone: str
    days: frozenset[int]
    start: time
    end: time
    holidays: str | None = None
    closed: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {self.timezone!r}; use an IANA name such as Europe/Berlin"
            ) from None
        if not self.days:
            raise ValueError("a calendar needs at least one working day")
        for day in self.days:
            if day not in range(7):
                raise ValueError(f"working day {day!r} is not 0 (Monday) to 6 (Sunday)")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("opening and closing are local wall-clock times; give them without an offset")
        if self.start >= self.end:
            raise ValueError(
                f"opening {self.start:%H:%M} must be before closing {self.end:%H:%M} "
                "(shifts past midnight are not supported)"
            )
        if self.holidays is not None:
            _check_holiday_code(self.holidays)

    @classmethod
    def from_config(
        cls,
        *,
        timezone: str,
        days: Iterable[str],
        start: str | time,
        end: str | time,
        holidays: str | None = None,
        closed: Iterable[str | date] = (),
    ) -> WorkCalendar:
        """A calendar from the configuration's plain values: day names mon..sun, "HH:MM" times, ISO dates."""
        return cls(
            timezone=timezone,
            days=frozenset(_day_number(name) for name in days),
            start=_wall_clock(start, "opening"),
            end=_wall_clock(end, "closing"),
            holidays=holidays or None,
            closed=frozenset(_closed_date(value) for value in closed),
        )

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return ZoneInfo(self.timezone)

    def is_open_on(self, day: date) -> bool:
        """Whether the local date is a working day: an open weekday, no holiday, not closed."""
        if day.weekday() not in self.days or day in self.closed:
            return False
        return self.holidays is None or day not in _holidays_in(self.holidays, day.year)

    def hours_on(self, day: date) -> tuple[datetime, datetime] | None:
        """The UTC opening and closing instants of a local date, or None if the team does not work then."""
        if not self.is_open_on(day):
            return None
        zone = self.zone
        opening = datetime.combine(day, self.start, tzinfo=zone).astimezone(UTC)
        closing = datetime.combine(day, self.end, tzinfo=zone).astimezone(UTC)
        # Hours opening inside a skipped wall-clock hour and closing just after it (02:30-03:10 on a
        # spring-forward day) come out reversed: on that day they do not exist.
        return (opening, closing) if opening < closing else None

    def _open_hours_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        # Each local day's hours close before the next day's open, so walking local dates from the one
        # `moment` falls on yields every window that can still matter, in order.
        day = moment.astimezone(self.zone).date()
        last_open = day
        while True:
            hours = self.hours_on(day)
            if hours is not None:
                last_open = day
                yield hours
            elif day - last_open > _LONGEST_CLOSURE:
                raise ValueError(f"calendar {self!r} has no working hours for over a year after {moment}")
            day += timedelta(days=1)

    def add_working(self, start: datetime, amount: timedelta) -> datetime:
        """The earliest UTC instant by which `amount` of working time has elapsed since `start`.

        Time outside the hours does not count, so a start outside them counts from the next opening, and
        an amount that runs out exactly at closing is due at that closing, not at the next opening.
        """
        cursor = _utc(start, "start")
        if amount < timedelta(0):
            raise ValueError(f"amount {amount!r} is negative")
        if amount == timedelta(0):
            return cursor
        remaining = amount
        for opening, closing in self._open_hours_from(cursor):
            begin = max(opening, cursor)
            if begin >= closing:
                continue
            available = closing - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise AssertionError("the walk over open hours is endless")  # pragma: no cover

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        """The working time between two instants, zero if `end` is not after `start`."""
        begin, finish = _utc(start, "start"), _utc(end, "end")
        total = timedelta(0)
        if finish <= begin:
            return total
        last_day = finish.astimezone(self.zone).date()
        day = begin.astimezone(self.zone).date()
        while day <= last_day:
            hours = self.hours_on(day)
            if hours is not None:
                overlap = min(hours[1], finish) - max(hours[0], begin)
                total += max(overlap, timedelta(0))
            day += timedelta(days=1)
        return total


def _day_number(name: str) -> int:
    try:
        return DAY_NAMES.index(str(name).strip().lower())
    except ValueError:
        raise ValueError(f"unknown day {name!r}; use {', '.join(DAY_NAMES)}") from None


def _wall_clock(value: str | time, what: str) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{what} time {value!r} is not a time such as 09:00") from None


def _closed_date(value: str | date) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"closed date {value!r} has a time; give the date only, such as 2026-12-24")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"closed date {value!r} is not a date such as 2026-12-24") from None
