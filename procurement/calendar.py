"""The one calendar of the trail: Prague dates, working days, and the end of a period.

ZZVZ has no rule of its own for counting periods, so the Civil Code applies (zákon
č. 89/2012 Sb., občanský zákoník, §§ 605-607): a period in days starts on the day after the
event (§ 605 odst. 1), a period in months ends on the day with the same number (§ 605 odst.
2), and a period whose last day falls on a Saturday, Sunday or public holiday ends on the
next working day (§ 607). Findings, the timeline and red flags all count with this module.
Working days skip weekends and the Czech public holidays of the ``holidays`` package
(státní svátky and ostatní svátky under zákon č. 245/2000 Sb., which include 24-26
December, Good Friday and Easter Monday).
"""

from __future__ import annotations

import calendar as _calendar
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

import holidays

DayKind = Literal["calendar", "working", "months"]
PRAGUE = ZoneInfo("Europe/Prague")


@lru_cache(maxsize=64)
def _holidays_of(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("CZ", years=year).keys())


def is_holiday(day: date) -> bool:
    return day in _holidays_of(day.year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not is_holiday(day)


def next_working_day(day: date) -> date:
    """``day`` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (day one is the first working day after)."""
    day = start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def add_months(start: date, months: int) -> date:
    """Same day number ``months`` later; the last day of the month when it has no such day."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    last = _calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last))


def period_end(start: date, days: int, day_kind: DayKind) -> date:
    """The last day of a period of ``days`` units that starts with the event on ``start``.

    A period ending on a weekend or a holiday moves to the next working day (for working
    days it already ends on one).
    """
    if day_kind == "working":
        return add_working_days(start, days)
    if day_kind == "months":
        return next_working_day(add_months(start, days))
    return next_working_day(start + timedelta(days=days))


def working_days_between(first: date, last: date) -> int:
    """Working days after ``first`` up to and including ``last`` (0 when last <= first)."""
    count = 0
    day = first
    while day < last:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def local_date(moment: datetime) -> date:
    """The date in Prague of an aware moment (the law counts Czech calendar days)."""
    return moment.astimezone(PRAGUE).date()


def as_local_date(value: Any) -> date:
    """A recorded date or moment as the Prague date the law counts: a date ("YYYY-MM-DD"
    or a ``date``) as it is, a moment (RFC 3339 text or an aware ``datetime``) as its date
    in Prague."""
    if isinstance(value, datetime):
        return local_date(value)
    if isinstance(value, date):
        return value
    text = str(value)
    if len(text) == 10:
        return date.fromisoformat(text)
    return local_date(datetime.fromisoformat(text.replace("Z", "+00:00")))
