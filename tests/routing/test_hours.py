"""Opening hours: weekdays, boundaries, DST days, Norwegian holidays, closed and special days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.hours import OpeningHours, parse_range
from switchboard.orgapply import org_config
from switchboard.orgfile import load_org_file

OSLO = ZoneInfo("Europe/Oslo")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "org.yaml"
WEEKDAYS = {d: "08:00-15:30" for d in ("mon", "tue", "wed", "thu", "fri")}
UNION = {
    "opening_hours": WEEKDAYS,
    "holidays": "NO",
    "closed_days": ["2026-12-24", "2026-12-31", "2027-12-24", "2027-12-31"],
    "special_hours": {"2026-12-23": "08:00-12:00"},
}


def oslo(y: int, mo: int, d: int, h: int = 12, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=OSLO)


@pytest.fixture(scope="module")
def union() -> OpeningHours:
    return OpeningHours.from_config(UNION, "Europe/Oslo")


@pytest.mark.parametrize(("hh", "mm", "ss", "open_"), [
    (7, 59, 59, False), (8, 0, 0, True), (12, 0, 0, True),
    (15, 29, 59, True), (15, 30, 0, False), (23, 0, 0, False), (0, 0, 0, False),
])
def test_weekday_boundaries(union: OpeningHours, hh: int, mm: int, ss: int, open_: bool) -> None:
    at = oslo(2026, 11, 25, hh, mm, ss)  # a Wednesday
    assert union.is_open(at) is open_
    assert union.closed_reason(at) == (None if open_ else "outside_hours")


def test_saturday_and_sunday_closed(union: OpeningHours) -> None:
    assert union.closed_reason(oslo(2026, 11, 28, 10)) == "outside_hours"  # Saturday
    assert union.closed_reason(oslo(2026, 11, 29, 10)) == "outside_hours"  # Sunday
    assert union.is_open(oslo(2026, 11, 30, 10))  # Monday


def test_instant_in_another_zone_is_compared_in_local_time(union: OpeningHours) -> None:
    # 07:30 UTC is 08:30 in Oslo in winter: open; 14:30 UTC is 15:30 Oslo: closed.
    assert union.is_open(datetime(2026, 11, 25, 7, 30, tzinfo=UTC))
    assert not union.is_open(datetime(2026, 11, 25, 14, 30, tzinfo=UTC))
    # Summer (CEST, UTC+2): 06:00 UTC is 08:00 local: open; 05:59 UTC closed.
    assert union.is_open(datetime(2026, 6, 10, 6, 0, tzinfo=UTC))
    assert not union.is_open(datetime(2026, 6, 10, 5, 59, tzinfo=UTC))
    new_york = ZoneInfo("America/New_York")
    assert union.is_open(datetime(2026, 11, 25, 3, 0, tzinfo=new_york))  # 09:00 Oslo


def test_naive_datetime_refused(union: OpeningHours) -> None:
    with pytest.raises(ValueError):
        union.is_open(datetime(2026, 11, 25, 10, 0))


NORWEGIAN_HOLIDAYS_ON_WEEKDAYS = [
    "2026-01-01", "2026-04-02", "2026-04-03", "2026-04-06", "2026-05-01", "2026-05-14",
    "2026-05-25", "2026-12-25",
    "2027-01-01", "2027-03-25", "2027-03-26", "2027-03-29", "2027-05-06", "2027-05-17",
]


@pytest.mark.parametrize("day", NORWEGIAN_HOLIDAYS_ON_WEEKDAYS)
def test_norwegian_public_holidays_close_an_open_weekday(union: OpeningHours, day: str) -> None:
    d = date.fromisoformat(day)
    assert d.weekday() < 5, "the test wants a day that would otherwise be open"
    assert union.closed_reason(oslo(d.year, d.month, d.day, 10)) == "holiday"
    # The same weekday a week or two later (no holiday) is open: it was the holiday that closed.
    later = d + timedelta(days=7)
    if later.isoformat() in NORWEGIAN_HOLIDAYS_ON_WEEKDAYS:
        later += timedelta(days=7)
    assert union.is_open(oslo(later.year, later.month, later.day, 10))


def test_holidays_on_saturday_close_an_org_open_on_saturdays() -> None:
    # 17 May 2026 is a Sunday and 26 Dec 2026 a Saturday: an org open all week shows them.
    every_day = {d: "08:00-15:30" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    hours = OpeningHours.from_config({"opening_hours": every_day, "holidays": "NO"}, "Europe/Oslo")
    assert hours.closed_reason(oslo(2026, 5, 17, 10)) == "holiday"
    assert hours.closed_reason(oslo(2026, 12, 26, 10)) == "holiday"
    assert hours.is_open(oslo(2026, 12, 27, 10))


def test_no_holidays_country_means_holidays_are_working_days() -> None:
    hours = OpeningHours.from_config({"opening_hours": WEEKDAYS}, "Europe/Oslo")
    assert hours.is_open(oslo(2026, 5, 1, 10))


def test_closed_days(union: OpeningHours) -> None:
    assert union.closed_reason(oslo(2026, 12, 24, 10)) == "closed_day"  # a Thursday
    assert union.closed_reason(oslo(2026, 12, 31, 10)) == "closed_day"
    assert union.closed_reason(oslo(2027, 12, 31, 10)) == "closed_day"
    assert union.is_open(oslo(2026, 12, 22, 10))


def test_special_hours_win(union: OpeningHours) -> None:
    assert union.is_open(oslo(2026, 12, 23, 8, 0))
    assert union.is_open(oslo(2026, 12, 23, 11, 59, 59))
    assert union.closed_reason(oslo(2026, 12, 23, 12, 0)) == "outside_hours"
    assert not union.is_open(oslo(2026, 12, 23, 7, 59))


def test_special_hours_open_a_holiday_or_close_a_working_day() -> None:
    config = dict(UNION, special_hours={"2026-05-01": "10:00-12:00", "2026-11-26": "closed"})
    hours = OpeningHours.from_config(config, "Europe/Oslo")
    assert hours.is_open(oslo(2026, 5, 1, 11))  # Labour Day, opened specially
    assert hours.closed_reason(oslo(2026, 5, 1, 13)) == "outside_hours"
    assert hours.closed_reason(oslo(2026, 11, 26, 10)) == "closed_day"


def test_no_opening_hours_is_always_open_except_holidays_and_closed_days() -> None:
    hours = OpeningHours.from_config(
        {"opening_hours": None, "holidays": "NO", "closed_days": ["2026-11-26"]}, "Europe/Oslo"
    )
    assert hours.is_open(oslo(2026, 11, 28, 3))  # Saturday night
    assert hours.closed_reason(oslo(2026, 12, 25, 10)) == "holiday"
    assert hours.closed_reason(oslo(2026, 11, 26, 10)) == "closed_day"


# --- daylight saving time: both 2026 change days in Oslo are Sundays -----------------------

def sunday_org(hours: str) -> OpeningHours:
    return OpeningHours.from_config({"opening_hours": {"sun": hours}}, "Europe/Oslo")


def test_spring_forward_2026_03_29() -> None:
    # 02:00 CET jumps to 03:00 CEST at 01:00 UTC; local 02:xx never happens that night.
    early = sunday_org("00:00-02:30")
    assert early.is_open(datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC))  # 01:59:59 CET
    assert not early.is_open(datetime(2026, 3, 29, 1, 0, tzinfo=UTC))  # 03:00 CEST
    late = sunday_org("03:00-04:00")
    assert not late.is_open(datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC))
    assert late.is_open(datetime(2026, 3, 29, 1, 0, tzinfo=UTC))
    assert late.is_open(datetime(2026, 3, 29, 1, 59, tzinfo=UTC))  # 03:59 CEST
    assert not late.is_open(datetime(2026, 3, 29, 2, 0, tzinfo=UTC))  # 04:00 CEST


def test_fall_back_2026_10_25() -> None:
    # 03:00 CEST falls back to 02:00 CET at 01:00 UTC; local 02:xx happens twice.
    twice = sunday_org("02:00-02:30")
    assert not twice.is_open(datetime(2026, 10, 24, 23, 59, tzinfo=UTC))  # 01:59 CEST
    assert twice.is_open(datetime(2026, 10, 25, 0, 15, tzinfo=UTC))  # 02:15 CEST
    assert not twice.is_open(datetime(2026, 10, 25, 0, 45, tzinfo=UTC))  # 02:45 CEST
    assert twice.is_open(datetime(2026, 10, 25, 1, 15, tzinfo=UTC))  # 02:15 CET
    assert not twice.is_open(datetime(2026, 10, 25, 1, 30, tzinfo=UTC))  # 02:30 CET
    until_three = sunday_org("00:00-03:00")
    assert until_three.is_open(datetime(2026, 10, 25, 1, 59, 59, tzinfo=UTC))  # 02:59:59 CET
    assert not until_three.is_open(datetime(2026, 10, 25, 2, 0, tzinfo=UTC))  # 03:00 CET
    # After the change the day runs on CET (UTC+1): 08:00 local is 07:00 UTC.
    day = sunday_org("08:00-15:30")
    assert not day.is_open(datetime(2026, 10, 25, 6, 59, tzinfo=UTC))  # 07:59 CET
    assert day.is_open(datetime(2026, 10, 25, 7, 0, tzinfo=UTC))  # 08:00 CET


def test_dst_week_keeps_wall_clock_hours(union: OpeningHours) -> None:
    # The Friday before spring forward opens at 07:00 UTC; the Monday after, at 06:00 UTC.
    assert union.is_open(datetime(2026, 3, 27, 7, 0, tzinfo=UTC))
    assert not union.is_open(datetime(2026, 3, 27, 6, 59, tzinfo=UTC))
    assert union.is_open(datetime(2026, 3, 30, 6, 0, tzinfo=UTC))
    assert not union.is_open(datetime(2026, 3, 30, 5, 59, tzinfo=UTC))


def test_ranges() -> None:
    assert parse_range("08:00-15:30") == (480, 930)
    assert parse_range("00:00-24:00") == (0, 1440)
    for bad in ("8-15", "15:30-08:00", "08:00-08:00", "25:00-26:00", "08:60-09:00", "24:30-"):
        with pytest.raises(ValueError):
            parse_range(bad)


def test_example_file_config_drives_the_hours() -> None:
    org = load_org_file(EXAMPLE, default_timezone="Europe/Oslo")
    hours = OpeningHours.from_config(org_config(org), org.organisation.timezone)
    assert hours.is_open(oslo(2026, 11, 25, 8))
    assert hours.closed_reason(oslo(2026, 12, 24, 9)) == "closed_day"
    assert hours.closed_reason(oslo(2026, 4, 2, 9)) == "holiday"
    assert hours.closed_reason(oslo(2026, 12, 23, 12)) == "outside_hours"


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(at=instants)
def test_is_open_agrees_with_closed_reason(union: OpeningHours, at: datetime) -> None:
    reason = union.closed_reason(at)
    assert union.is_open(at) is (reason is None)
    local = at.astimezone(OSLO)
    if union.is_open(at):
        # Open only on a listed weekday, or the special date, inside its range.
        assert local.weekday() < 5 or local.date() == date(2026, 12, 23)
        assert 8 * 60 <= local.hour * 60 + local.minute < 15 * 60 + 30
    elif local.weekday() >= 5:
        assert reason in ("outside_hours", "holiday")
