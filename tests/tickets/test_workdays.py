"""Due dates in working days: Norwegian and Brandenburg holidays, cut-off, weekends, receipt day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tickets.workdays import (
    WorkCalendar,
    due_at,
    is_working_day,
    last_working_day,
    parse_deadline,
    receipt_day,
    time_left,
)

OSLO = ZoneInfo("Europe/Oslo")
BERLIN = ZoneInfo("Europe/Berlin")
NO = WorkCalendar(country="NO")
NO_TRUE = WorkCalendar(country="NO", count_day_of_receipt=True)
BB = WorkCalendar(country="DE", subdivision="BB", timezone="Europe/Berlin")


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0, zone: ZoneInfo = OSLO) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=zone)


def end_of(y: int, m: int, d: int, zone: ZoneInfo = OSLO) -> datetime:
    """Local midnight ending that day, in UTC."""
    return (datetime(y, m, d, tzinfo=zone) + timedelta(days=1)).astimezone(UTC)


def wd(n: int) -> object:
    return parse_deadline(f"{n} working days")


def test_contract_example_monday_five_working_days() -> None:
    # "5 working days from Monday 10:00 is the end of the next Monday (false) or of Friday (true)"
    monday = at(2026, 11, 23)
    assert due_at(monday, wd(5), NO) == end_of(2026, 11, 30)
    assert due_at(monday, wd(5), NO_TRUE) == end_of(2026, 11, 27)


def test_contract_example_before_maundy_thursday() -> None:
    # "from Wednesday 24 March 2027 at 16:00, the day before Maundy Thursday (NO, false),
    #  it is the end of Tuesday 6 April"
    assert due_at(at(2027, 3, 24, 16), wd(5), NO) == end_of(2027, 4, 6)


@pytest.mark.parametrize("received,n,due", [
    # Norwegian Easter 2026: Maundy Thursday 2 Apr to Easter Monday 6 Apr.
    (at(2026, 4, 1), 1, (2026, 4, 7)),
    (at(2026, 3, 31), 2, (2026, 4, 7)),
    (at(2026, 4, 2), 1, (2026, 4, 8)),  # received on Maundy Thursday: counts from Tue 7
    (at(2026, 4, 6, 9), 1, (2026, 4, 8)),  # received on Easter Monday
    # Ascension Thursday 14 May 2026.
    (at(2026, 5, 13), 1, (2026, 5, 15)),
    # 17 May 2027 is a Monday and also Whit Monday; 17 May 2028 a Wednesday.
    (at(2027, 5, 14), 1, (2027, 5, 18)),
    (at(2028, 5, 16), 1, (2028, 5, 18)),
    # Whit Monday 25 May 2026.
    (at(2026, 5, 22), 1, (2026, 5, 26)),
    # Christmas and New Year: 25, 26 Dec (Sat), 1 Jan 2027 (Fri).
    (at(2026, 12, 23), 2, (2026, 12, 28)),  # Thu 24 (no public holiday), Mon 28
    (at(2026, 12, 31), 1, (2027, 1, 4)),
    (at(2026, 12, 30), 2, (2027, 1, 4)),  # Thu 31, (Fri 1 Jan), Mon 4
    (at(2027, 12, 23), 3, (2027, 12, 28)),  # Fri 24, (25-26 weekend), Mon 27, Tue 28
    (at(2027, 12, 31, 16), 1, (2028, 1, 4)),  # after the cut-off on New Year's Eve
])
def test_norwegian_holidays(received: datetime, n: int, due: tuple[int, int, int]) -> None:
    assert due_at(received, wd(n), NO) == end_of(*due)


def test_closed_days_of_the_organisation_count_as_holidays() -> None:
    cal = WorkCalendar(country="NO", closed_days=frozenset({date(2026, 12, 24),
                                                            date(2026, 12, 31)}))
    assert not is_working_day(date(2026, 12, 24), cal) and is_working_day(date(2026, 12, 24), NO)
    # Wed 23 Dec: Thu 24 closed, Fri 25 and Sat 26 holidays, weekend, Mon 28.
    assert due_at(at(2026, 12, 23), wd(1), cal) == end_of(2026, 12, 28)


@pytest.mark.parametrize("received,n,due", [
    # Reformation Day, Saturday 31 Oct 2026, Tuesday 31 Oct 2028.
    (at(2028, 10, 30, zone=BERLIN), 1, (2028, 11, 1)),
    (at(2028, 10, 27, zone=BERLIN), 2, (2028, 11, 1)),
    # German Unity Day, Tuesday 3 Oct 2028.
    (at(2028, 10, 2, zone=BERLIN), 1, (2028, 10, 4)),
    # Easter 2026 in Brandenburg: Good Friday 3 Apr and Easter Monday 6 Apr, no Maundy Thursday.
    (at(2026, 4, 1, zone=BERLIN), 1, (2026, 4, 2)),
    (at(2026, 4, 2, zone=BERLIN), 1, (2026, 4, 7)),
    # Labour Day, Friday 1 May 2026; Ascension 14 May; Whit Monday 25 May.
    (at(2026, 4, 30, zone=BERLIN), 1, (2026, 5, 4)),
    (at(2026, 5, 13, zone=BERLIN), 1, (2026, 5, 15)),
    (at(2026, 5, 22, zone=BERLIN), 1, (2026, 5, 26)),
    # Christmas: 25 and 26 Dec 2025 (Thu, Fri); 1 Jan 2026.
    (at(2025, 12, 24, zone=BERLIN), 1, (2025, 12, 29)),
    (at(2025, 12, 31, zone=BERLIN), 1, (2026, 1, 2)),
])
def test_brandenburg_holidays(received: datetime, n: int, due: tuple[int, int, int]) -> None:
    assert due_at(received, wd(n), BB) == end_of(*due, zone=BERLIN)


def test_reformation_day_is_a_holiday_in_brandenburg_only() -> None:
    berlin = WorkCalendar(country="DE", subdivision="BE", timezone="Europe/Berlin")
    assert not is_working_day(date(2028, 10, 31), BB)
    assert is_working_day(date(2028, 10, 31), berlin)
    assert is_working_day(date(2028, 10, 31), NO)


@pytest.mark.parametrize("received,expected", [
    (at(2026, 11, 28, 11), date(2026, 11, 30)),  # Saturday: Monday
    (at(2026, 11, 29, 23, 59), date(2026, 11, 30)),  # Sunday night
    (at(2026, 11, 27, 14, 59), date(2026, 11, 27)),  # Friday before the cut-off
    (at(2026, 11, 27, 15, 0), date(2026, 11, 30)),  # Friday at the cut-off: Monday
    (at(2026, 11, 25, 16, 0), date(2026, 11, 26)),  # after the cut-off: the next day
    (at(2026, 5, 17, 9), date(2026, 5, 18)),  # 17 May 2026 is a Sunday
    (at(2027, 5, 17, 9), date(2027, 5, 18)),  # 17 May 2027 a Monday (and Whit Monday)
])
def test_receipt_day(received: datetime, expected: date) -> None:
    assert receipt_day(received, NO) == expected


def test_weekend_and_cutoff_with_both_count_settings() -> None:
    saturday = at(2026, 11, 28)
    assert due_at(saturday, wd(1), NO) == end_of(2026, 12, 1)  # received Mon, day 1 Tue
    assert due_at(saturday, wd(1), NO_TRUE) == end_of(2026, 11, 30)  # Monday is day 1
    after = at(2026, 11, 25, 15, 30)
    assert due_at(after, wd(2), NO) == end_of(2026, 11, 30)  # received Thu: Fri, Mon
    assert due_at(after, wd(2), NO_TRUE) == end_of(2026, 11, 27)  # Thu, Fri
    holiday = at(2026, 12, 25, 9)
    assert due_at(holiday, wd(1), NO_TRUE) == end_of(2026, 12, 28)
    assert due_at(holiday, wd(1), NO) == end_of(2026, 12, 29)


def test_a_different_cutoff() -> None:
    cal = WorkCalendar(country="NO", cutoff=time(12, 0))
    assert receipt_day(at(2026, 11, 25, 12, 0), cal) == date(2026, 11, 26)
    assert receipt_day(at(2026, 11, 25, 11, 59), cal) == date(2026, 11, 25)


def test_hours_are_clock_hours_even_over_weekends_and_dst() -> None:
    friday = at(2026, 11, 27, 14)
    assert due_at(friday, parse_deadline("24 hours"), NO) == friday + timedelta(hours=24)
    # Night of 28-29 March 2027 the clocks go forward: still exactly 24 real hours.
    sat = at(2027, 3, 27, 12)
    due = due_at(sat, parse_deadline("24 hours"), NO)
    assert due == datetime(2027, 3, 28, 11, 0, tzinfo=UTC)
    assert due.astimezone(OSLO).hour == 13  # 24 real hours: 13:00 on the summer-time clock


def test_midnight_across_daylight_saving_change() -> None:
    # Summer time ended on Sunday 25 Oct 2026: the midnight ending Fri 30 Oct is 23:00 UTC,
    # the one ending Thu 22 Oct (still summer time) 22:00 UTC.
    due = due_at(at(2026, 10, 29), wd(1), NO)
    assert due == datetime(2026, 10, 30, 23, 0, tzinfo=UTC)
    due_summer = due_at(at(2026, 10, 21), wd(1), NO)
    assert due_summer == datetime(2026, 10, 22, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["5 days", "five working days", "0 hours", "3 weeks", ""])
def test_bad_deadlines_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="deadline"):
        parse_deadline(text)


def test_deadline_forms() -> None:
    assert str(parse_deadline("1 working day")) == "1 working day"
    assert str(parse_deadline("24 Hours")) == "24 hours"


def test_time_left_amber_in_the_last_working_day_and_red_when_overdue() -> None:
    due = due_at(at(2026, 11, 23), wd(5), NO)  # end of Monday 30 Nov
    assert time_left(at(2026, 11, 27, 9), due, NO).urgency == "ok"
    weekend = time_left(at(2026, 11, 29, 20), due, NO)
    assert weekend.urgency == "ok" and weekend.working_days == 1
    monday = time_left(at(2026, 11, 30, 0, 1), due, NO)
    assert monday.urgency == "amber" and monday.label == "23 t igjen"
    late = time_left(at(2026, 12, 1, 2), due, NO)
    assert late.urgency == "red" and late.label == "2 t over fristen"
    day_before = time_left(at(2026, 11, 29, 9), due, NO)  # Sunday: 39 hours to go
    assert (day_before.urgency, day_before.label) == ("ok", "39 t igjen")
    early = time_left(at(2026, 11, 24, 9), due, NO)
    assert (early.urgency, early.working_days, early.label) == (
        "ok", 5, "5 arbeidsdager igjen")


# Properties: any receipt time between 2024 and 2030, any N, both count modes, both countries.
moments = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31),
                       timezones=st.just(UTC))
calendars = st.sampled_from([NO, NO_TRUE, BB])


@settings(max_examples=150, deadline=None)
@given(received=moments, n=st.integers(1, 15), cal=calendars)
def test_due_is_the_midnight_ending_a_working_day(received: datetime, n: int,
                                                  cal: WorkCalendar) -> None:
    due = due_at(received, wd(n), cal)
    local = due.astimezone(cal.zone)
    assert local.time() == time(0) and due > received
    assert is_working_day(local.date() - timedelta(days=1), cal)
    assert last_working_day(received, n, cal) == local.date() - timedelta(days=1)


@settings(max_examples=150, deadline=None)
@given(a=moments, b=moments, n=st.integers(1, 15), cal=calendars)
def test_due_is_monotone_in_receipt_time(a: datetime, b: datetime, n: int,
                                         cal: WorkCalendar) -> None:
    first, second = sorted([a, b])
    assert due_at(first, wd(n), cal) <= due_at(second, wd(n), cal)


@settings(max_examples=150, deadline=None)
@given(received=moments, n=st.integers(1, 14), cal=calendars)
def test_one_more_day_is_exactly_one_more_working_day(received: datetime, n: int,
                                                      cal: WorkCalendar) -> None:
    one = last_working_day(received, n, cal)
    two = last_working_day(received, n + 1, cal)
    between = [one + timedelta(days=k) for k in range(1, (two - one).days + 1)]
    assert [d for d in between if is_working_day(d, cal)] == [two]


@settings(max_examples=100, deadline=None)
@given(received=moments, n=st.integers(1, 15))
def test_counting_the_receipt_day_is_one_day_sooner(received: datetime, n: int) -> None:
    if n > 1:
        assert due_at(received, wd(n), NO_TRUE) == due_at(received, wd(n - 1), NO)
    assert due_at(received, wd(n), NO_TRUE) < due_at(received, wd(n), NO)
