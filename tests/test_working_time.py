"""Due times counted in a team's hours, across weekends, holidays and clock changes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chatops.config.durations import parse_duration
from chatops.sla.calendar import ALWAYS, Clockwork, WorkCalendar

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
EVERY_DAY = [*WEEKDAYS, "sat", "sun"]


def berlin(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Berlin wall-clock time as the UTC instant the desk stores."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def office(**overrides: Any) -> WorkCalendar:
    """The Berlin team of the configuration example: Mon-Fri 09:00-17:00, Berlin holidays, two closed days."""
    values: dict[str, Any] = {
        "timezone": "Europe/Berlin",
        "days": WEEKDAYS,
        "start": "09:00",
        "end": "17:00",
        "holidays": "DE-BE",
        "closed": ["2026-12-24", "2026-12-31"],
    }
    values.update(overrides)
    return WorkCalendar.from_config(**values)


def assert_utc(actual: datetime, expected: datetime) -> None:
    """The due time is the expected instant, and is handed back in UTC."""
    assert actual == expected
    assert actual.utcoffset() == timedelta(0)


def test_the_config_example_reads_into_a_calendar() -> None:
    calendar = office()
    assert calendar.days == frozenset({0, 1, 2, 3, 4})
    assert (calendar.start, calendar.end) == (time(9), time(17))
    assert calendar.closed == frozenset({date(2026, 12, 24), date(2026, 12, 31)})
    assert hash(calendar) == hash(office())


@pytest.mark.parametrize(
    ("raised", "due"),
    [
        # Summer time: Berlin is UTC+2, so Monday 12:00 local is 10:00 UTC.
        (berlin(2026, 6, 12, 16), utc(2026, 6, 15, 10)),
        # Winter time: UTC+1, so the same local due time is 11:00 UTC.
        (berlin(2026, 1, 16, 16), utc(2026, 1, 19, 11)),
    ],
)
def test_a_4h_target_raised_friday_at_16_is_due_monday_at_noon(raised: datetime, due: datetime) -> None:
    # One hour on Friday before closing, the weekend skipped, three more on Monday from 09:00.
    assert_utc(office().add_working(raised, timedelta(hours=4)), due)


@pytest.mark.parametrize(
    ("raised", "due"),
    [
        pytest.param(berlin(2026, 6, 16, 7, 30), berlin(2026, 6, 16, 10), id="before-opening"),
        pytest.param(berlin(2026, 6, 16, 18), berlin(2026, 6, 17, 10), id="after-closing"),
        pytest.param(berlin(2026, 6, 16, 17), berlin(2026, 6, 17, 10), id="at-closing"),
        pytest.param(berlin(2026, 6, 13, 11), berlin(2026, 6, 15, 10), id="on-a-saturday"),
        pytest.param(berlin(2026, 6, 14, 23, 59), berlin(2026, 6, 15, 10), id="late-sunday"),
    ],
)
def test_raised_outside_hours_counts_from_the_next_opening(raised: datetime, due: datetime) -> None:
    assert_utc(office().add_working(raised, timedelta(hours=1)), due)


def test_a_target_running_out_at_closing_is_due_at_closing_not_the_next_opening() -> None:
    assert_utc(office().add_working(berlin(2026, 6, 16, 9), timedelta(hours=8)), berlin(2026, 6, 16, 17))


def test_a_zero_target_is_due_when_raised_even_outside_hours() -> None:
    saturday = berlin(2026, 6, 13, 11)
    assert_utc(office().add_working(saturday, timedelta(0)), saturday)


def test_a_public_holiday_is_skipped() -> None:
    # 2026-05-01 (Labour Day) is a Friday: Thursday's last hour, then Monday.
    assert_utc(office().add_working(berlin(2026, 4, 30, 16), timedelta(hours=4)), utc(2026, 5, 4, 10))


def test_a_regional_holiday_counts_only_where_it_is_kept() -> None:
    # International Women's Day is a holiday in Berlin alone; on Monday 2027-03-08 Bavaria works.
    raised, four_hours = berlin(2027, 3, 5, 16), timedelta(hours=4)
    assert_utc(office().add_working(raised, four_hours), utc(2027, 3, 9, 11))
    assert_utc(office(holidays="DE-BY").add_working(raised, four_hours), utc(2027, 3, 8, 11))
    assert_utc(office(holidays=None).add_working(raised, four_hours), utc(2027, 3, 8, 11))


def test_closed_dates_and_holidays_skip_christmas_and_the_new_year() -> None:
    calendar = office()
    # 24 December closed, 25 December a holiday, then the weekend.
    assert_utc(calendar.add_working(berlin(2026, 12, 23, 16), timedelta(hours=4)), utc(2026, 12, 28, 11))
    # 31 December closed, 1 January a holiday of the next year's table, then the weekend.
    assert_utc(calendar.add_working(berlin(2026, 12, 30, 16), timedelta(hours=4)), utc(2027, 1, 4, 11))
    assert calendar.working_between(berlin(2026, 12, 23, 17), berlin(2027, 1, 4, 9)) == timedelta(hours=24)


def test_a_3d_target_counts_72_working_hours_that_is_nine_8h_days() -> None:
    # A target counts working time, not working days: "3d" is 72 hours of the team's hours.
    three_days = parse_duration("3d")
    assert three_days == timedelta(hours=72)
    calendar = office()
    # Monday 09:00 to the close of the ninth working day, Thursday of the following week.
    assert_utc(calendar.add_working(berlin(2026, 6, 8, 9), three_days), berlin(2026, 6, 18, 17))
    # From Wednesday 13:00: 4h that day, eight full days over two weekends, 4h on the Tuesday after.
    assert_utc(calendar.add_working(berlin(2026, 6, 10, 13), three_days), berlin(2026, 6, 23, 13))


def test_working_between_counts_only_open_hours() -> None:
    calendar = office()
    assert calendar.working_between(berlin(2026, 6, 12, 16), berlin(2026, 6, 15, 10)) == timedelta(hours=2)
    assert calendar.working_between(berlin(2026, 6, 13, 8), berlin(2026, 6, 14, 20)) == timedelta(0)
    assert calendar.working_between(berlin(2026, 6, 15, 10), berlin(2026, 6, 12, 16)) == timedelta(0)
    assert calendar.working_between(berlin(2026, 6, 8, 0), berlin(2026, 6, 15, 0)) == timedelta(hours=40)


def test_a_target_across_the_spring_clock_change_lands_on_the_right_instant() -> None:
    calendar = office(days=EVERY_DAY, holidays=None)
    # Saturday 2026-03-28 is on UTC+1, Sunday 29 on UTC+2: Sunday opens at 07:00 UTC, not 08:00.
    assert_utc(calendar.add_working(berlin(2026, 3, 28, 16), timedelta(hours=2)), utc(2026, 3, 29, 8))
    assert_utc(calendar.add_working(utc(2026, 3, 27, 8), timedelta(hours=24)), utc(2026, 3, 29, 15))


def test_a_target_across_the_autumn_clock_change_lands_on_the_right_instant() -> None:
    calendar = office(days=EVERY_DAY, holidays=None)
    # Saturday 2026-10-24 is on UTC+2, Sunday 25 on UTC+1: Sunday opens at 08:00 UTC.
    assert_utc(calendar.add_working(berlin(2026, 10, 24, 16), timedelta(hours=2)), utc(2026, 10, 25, 9))
    assert_utc(calendar.add_working(utc(2026, 10, 23, 7), timedelta(hours=24)), utc(2026, 10, 25, 16))


def test_hours_spanning_the_clock_change_are_an_hour_shorter_or_longer() -> None:
    # Open 00:00-06:00 local: the change at 02:00/03:00 falls inside the hours.
    night = office(days=EVERY_DAY, holidays=None, start="00:00", end="06:00")
    assert night.working_between(utc(2026, 3, 28, 12), utc(2026, 3, 29, 12)) == timedelta(hours=5)
    assert night.working_between(utc(2026, 10, 24, 12), utc(2026, 10, 25, 12)) == timedelta(hours=7)
    assert_utc(night.add_working(utc(2026, 3, 28, 12), timedelta(hours=5)), utc(2026, 3, 29, 4))
    assert_utc(night.add_working(utc(2026, 10, 24, 12), timedelta(hours=7)), utc(2026, 10, 25, 5))


STARTS = [utc(2026, 3, 20, 5) + index * timedelta(hours=37, minutes=17) for index in range(30)] + [
    berlin(2026, 4, 30, 16),
    berlin(2026, 10, 24, 23, 30),
    berlin(2026, 12, 23, 12, 45),
    berlin(2026, 12, 31, 9),
]
AMOUNTS = [
    timedelta(0),
    timedelta(minutes=1),
    timedelta(minutes=59),
    timedelta(hours=4),
    timedelta(hours=8),
    timedelta(hours=9, minutes=30),
    timedelta(days=3),
    timedelta(days=5, seconds=1),
]


@pytest.mark.parametrize(
    "calendar",
    [office(), office(days=EVERY_DAY, holidays="DE", start="07:15", end="19:45"), ALWAYS],
    ids=["berlin-office", "every-day", "24x7"],
)
def test_working_between_round_trips_with_add_working(calendar: Clockwork) -> None:
    for start in STARTS:
        for amount in AMOUNTS:
            due = calendar.add_working(start, amount)
            assert due >= start
            assert calendar.working_between(start, due) == amount, (start, amount)
            # Counting in two legs ends where counting in one does: a paused clock resumes seamlessly.
            halfway = calendar.add_working(start, amount / 2)
            assert calendar.add_working(halfway, amount - amount / 2) == due, (start, amount)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"timezone": "Europe/Berln"}, "Europe/Berln"),
        ({"timezone": ""}, "''"),
        ({"holidays": "XX"}, "XX"),
        ({"holidays": "DE-ZZ"}, "ZZ"),
        ({"holidays": "de-be"}, "de"),
        ({"start": "17:00", "end": "09:00"}, "17:00"),
        ({"start": "09:00", "end": "09:00"}, "09:00"),
        ({"start": "9am"}, "9am"),
        ({"end": "25:00"}, "25:00"),
        ({"days": ["mon", "funday"]}, "funday"),
        ({"days": []}, "at least one working day"),
        ({"closed": ["2026-13-01"]}, "2026-13-01"),
    ],
)
def test_a_bad_config_value_is_refused_by_name(overrides: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=re.escape(named)):
        office(**overrides)


def test_a_calendar_built_directly_is_checked_too() -> None:
    with pytest.raises(ValueError, match="7"):
        WorkCalendar("Europe/Berlin", frozenset({7}), time(9), time(17))
    with pytest.raises(ValueError, match="before closing"):
        WorkCalendar("Europe/Berlin", frozenset({0}), time(17), time(9))


def test_a_calendar_closed_on_every_working_day_for_years_fails_instead_of_searching_forever() -> None:
    mondays = [date(2027, 1, 4) + timedelta(weeks=week) for week in range(120)]
    calendar = office(days=["mon"], closed=mondays)
    with pytest.raises(ValueError, match="no working hours"):
        calendar.add_working(utc(2027, 1, 1, 12), timedelta(hours=1))


def test_naive_instants_and_negative_amounts_are_refused() -> None:
    for calendar in (office(), ALWAYS):
        with pytest.raises(ValueError, match="naive"):
            calendar.add_working(datetime(2026, 6, 12, 16), timedelta(hours=1))
        with pytest.raises(ValueError, match="naive"):
            calendar.working_between(utc(2026, 6, 12, 16), datetime(2026, 6, 13, 16))
        with pytest.raises(ValueError, match="negative"):
            calendar.add_working(utc(2026, 6, 12, 16), timedelta(hours=-1))


def test_around_the_clock_is_plain_arithmetic_in_utc() -> None:
    raised = datetime(2026, 6, 12, 18, tzinfo=BERLIN)
    due = ALWAYS.add_working(raised, timedelta(hours=4))
    assert_utc(due, utc(2026, 6, 12, 20))
    assert ALWAYS.working_between(raised, due) == timedelta(hours=4)
    assert ALWAYS.working_between(due, raised) == timedelta(0)
    # Weekends and clock changes count like any other time.
    assert ALWAYS.working_between(utc(2026, 3, 28, 12), utc(2026, 3, 29, 12)) == timedelta(hours=24)
