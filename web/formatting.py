"""Czech formats for numbers, money, dates and times (the Jinja filters of the pages).

Czech writes ``1 250 000,50 Kč``: a (non-breaking) space between thousands and a decimal
comma; dates as ``5. 12. 2026``; times in Prague local time.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

PRAGUE = ZoneInfo("Europe/Prague")
NBSP = "\u00a0"


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def number(value: object, places: int = 0) -> str:
    """``1234567.891`` -> ``1 234 567,89`` (places=2); a value that is not a number as is."""
    amount = _decimal(value)
    if amount is None:
        return "" if value is None else str(value)
    text = f"{amount:,.{places}f}"
    return text.replace(",", NBSP).replace(".", ",")


def czk(value: object) -> str:
    """Money: whole crowns without decimals, otherwise two places, then ``Kč``."""
    amount = _decimal(value)
    if amount is None:
        return "" if value is None else str(value)
    places = 0 if amount == amount.to_integral_value() else 2
    return f"{number(amount, places)}{NBSP}Kč"


def signed_czk(value: object) -> str:
    """A change of value, with its sign: ``+ 50 000 Kč``, ``− 12 000 Kč``."""
    amount = _decimal(value)
    if amount is None:
        return czk(value)
    sign = "+" if amount > 0 else "\u2212" if amount < 0 else ""
    return f"{sign}{NBSP if sign else ''}{czk(abs(amount))}"


def percent(value: object, places: int = 1) -> str:
    """A share 0-1 as a percentage: ``0.1234`` -> ``12,3 %``."""
    amount = _decimal(value)
    if amount is None:
        return ""
    return f"{number(amount * 100, places)}{NBSP}%"


def _parse_moment(value: object) -> datetime | date | None:
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, str) and value:
        try:
            if "T" in value:
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def date_cs(value: object) -> str:
    """``2026-12-05`` -> ``5. 12. 2026`` (a moment counts by its Prague date)."""
    moment = _parse_moment(value)
    if moment is None:
        return "" if value is None else str(value)
    if isinstance(moment, datetime):
        moment = moment.astimezone(PRAGUE).date() if moment.tzinfo else moment.date()
    return f"{moment.day}.{NBSP}{moment.month}.{NBSP}{moment.year}"


def datetime_cs(value: object) -> str:
    """An aware moment in Prague time: ``5. 12. 2026 14:05``."""
    moment = _parse_moment(value)
    if not isinstance(moment, datetime):
        return date_cs(value)
    local = moment.astimezone(PRAGUE) if moment.tzinfo else moment
    return f"{date_cs(local.date())} {local:%H:%M}"


def iso_date(value: object) -> str:
    """The machine-readable date for ``<time datetime>``."""
    moment = _parse_moment(value)
    if isinstance(moment, datetime):
        return moment.isoformat()
    if isinstance(moment, date):
        return moment.isoformat()
    return ""


def plural(count: int, one: str, few: str, many: str) -> str:
    """Czech plural forms: 1 projekt, 2–4 projekty, 5+ projektů (and 0 projektů)."""
    if count == 1:
        return one
    if 2 <= count <= 4:
        return few
    return many


def filesize(value: object) -> str:
    amount = _decimal(value)
    if amount is None:
        return ""
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if amount >= size:
            return f"{number(amount / size, 1)}{NBSP}{unit}"
    return f"{number(amount)}{NBSP}B"


FILTERS = {
    "number": number,
    "czk": czk,
    "signed_czk": signed_czk,
    "percent": percent,
    "date_cs": date_cs,
    "datetime_cs": datetime_cs,
    "iso_date": iso_date,
    "filesize": filesize,
}
