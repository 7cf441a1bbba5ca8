"""Statutory periods on the Czech calendar: day one is the day after the event, a period
ending on a weekend or public holiday moves to the next working day."""

from __future__ import annotations

from datetime import date

import pytest

from procurement.calendar import (
    add_months,
    add_working_days,
    is_working_day,
    period_end,
    working_days_between,
)

D = date


@pytest.mark.parametrize(
    ("start", "days", "kind", "end"),
    [
        # day one is the day after the event
        (D(2026, 3, 2), 1, "calendar", D(2026, 3, 3)),
        (D(2026, 3, 2), 1, "working", D(2026, 3, 3)),
        # Easter 2026: Good Friday 3 April, Easter Monday 6 April
        (D(2026, 4, 1), 2, "calendar", D(2026, 4, 7)),
        (D(2026, 4, 1), 1, "working", D(2026, 4, 2)),
        (D(2026, 4, 1), 2, "working", D(2026, 4, 7)),
        (D(2026, 3, 20), 15, "calendar", D(2026, 4, 7)),
        # Easter 2025: Good Friday 18 April, Easter Monday 21 April
        (D(2025, 4, 16), 2, "working", D(2025, 4, 22)),
        # Christmas 2026: 24-26 December (Thursday to Saturday)
        (D(2026, 12, 23), 1, "working", D(2026, 12, 28)),
        (D(2026, 12, 22), 2, "calendar", D(2026, 12, 28)),
        (D(2026, 12, 9), 15, "calendar", D(2026, 12, 28)),
        # 28 October 2026 is a Wednesday holiday
        (D(2026, 10, 13), 15, "calendar", D(2026, 10, 29)),
        (D(2026, 10, 27), 1, "working", D(2026, 10, 29)),
        (D(2026, 10, 26), 3, "working", D(2026, 10, 30)),
        # a period ending on a Sunday moves to Monday
        (D(2026, 3, 1), 14, "calendar", D(2026, 3, 16)),
        # 11 working days across no holiday
        (D(2026, 3, 3), 11, "working", D(2026, 3, 18)),
        # 30 days across New Year (1 January holiday)
        (D(2026, 12, 2), 30, "calendar", D(2027, 1, 4)),
        # months: the same day number; a missing day is the month's last day
        (D(2026, 1, 31), 1, "months", D(2026, 3, 2)),
        (D(2026, 3, 13), 3, "months", D(2026, 6, 15)),
        (D(2026, 5, 5), 3, "months", D(2026, 8, 5)),
    ],
)
def test_period_end(start: date, days: int, kind: str, end: date) -> None:
    assert period_end(start, days, kind) == end  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 4, 3), False),  # Good Friday
        (D(2026, 4, 6), False),  # Easter Monday
        (D(2026, 4, 7), True),
        (D(2026, 10, 28), False),
        (D(2026, 11, 17), False),
        (D(2026, 12, 24), False),
        (D(2026, 12, 31), True),
        (D(2026, 3, 7), False),  # Saturday
        (D(2026, 5, 8), False),
        (D(2026, 7, 6), False),
    ],
)
def test_working_days(day: date, working: bool) -> None:
    assert is_working_day(day) is working


def test_working_days_between_and_add_agree() -> None:
    start = D(2026, 12, 20)
    for n in range(1, 20):
        assert working_days_between(start, add_working_days(start, n)) == n


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)
    assert add_months(D(2026, 11, 30), 3) == D(2027, 2, 28)
