"""Import of the municipalities register (CSV): validate every row, then one bulk upsert."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session
from stdnum.cz import dic

from api.db import dialect_name
from catalogue.models import Municipality, columns
from catalogue.service import reindex_towns
from catalogue.text import normalized_name

COLUMNS = (
    "code",
    "name",
    "district",
    "district_lau1",
    "region",
    "region_nuts3",
    "postcode",
    "lat",
    "lon",
    "population",
)
# Optional columns: ico (the municipality's IČO, 8 digits with the mod-11 check digit).
OPTIONAL_COLUMNS = ("ico",)
# The Czech Republic's extreme points, with a small margin (WGS84).
LAT_RANGE = (48.5, 51.1)
LON_RANGE = (12.0, 18.9)
MAX_ERRORS = 20
BATCH = 2000
# The register the project ships (package data; provenance and licence in its README.md).
BUILTIN_REGISTER = Path(__file__).resolve().parent / "data" / "cz-municipalities.csv"


@dataclass
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class RegisterError(Exception):
    """The file has bad rows; nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def _row(record: dict[str, str | None]) -> dict[str, Any]:
    def text(name: str, pattern: str | None = None, max_length: int = 100) -> str:
        value = (record.get(name) or "").strip()
        if not value:
            raise ValueError(f"{name} is empty")
        if len(value) > max_length:
            raise ValueError(f"{name} is longer than {max_length} characters")
        if pattern and not re.fullmatch(pattern, value):
            raise ValueError(f"{name} {value!r} is not in the expected format")
        return value

    def number(name: str) -> float:
        raw = text(name)
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{name} {raw!r} is not a number") from None

    code = text("code", r"[0-9]{6}")
    lat, lon = number("lat"), number("lon")
    if not (LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]):
        raise ValueError(f"coordinates {lat}, {lon} lie outside the Czech Republic")
    population_raw = text("population")
    if not re.fullmatch(r"-?[0-9]+", population_raw):
        raise ValueError(f"population {population_raw!r} is not a whole number")
    population = int(population_raw)
    if population < 0:
        raise ValueError("population is negative")
    name = text("name")
    ico = (record.get("ico") or "").strip() or None
    if ico is not None and not (re.fullmatch(r"[0-9]{8}", ico, re.ASCII) and dic.is_valid(ico)):
        raise ValueError(f"ico {ico!r} is not an IČO (8 digits with the mod-11 check digit)")
    row: dict[str, Any] = {
        "code": code,
        "name": name,
        "name_search": normalized_name(name),
        "district": text("district"),
        "district_lau1": text("district_lau1", r"CZ[0-9]{3}[0-9A-Z]"),
        "region": text("region"),
        "region_nuts3": text("region_nuts3", r"CZ[0-9]{2}[0-9A-Z]"),
        "postcode": text("postcode", r"[0-9]{5}"),
        "lat": lat,
        "lon": lon,
        "population": population,
    }
    if "ico" in record:
        row["ico"] = ico
    return row


def parse_register(data: str) -> list[dict[str, Any]]:
    """Every row of the CSV as a dict, or RegisterError naming the bad lines."""
    reader = csv.DictReader(io.StringIO(data))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise RegisterError([RowError(1, f"missing columns: {', '.join(missing)}")])
    rows: list[dict[str, Any]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        try:
            row = _row(record)
        except ValueError as exc:
            errors.append(RowError(line, str(exc)))
        else:
            if row["code"] in seen:
                errors.append(
                    RowError(line, f"code {row['code']} repeats line {seen[row['code']]}")
                )
            else:
                seen[row["code"]] = line
                rows.append(row)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise RegisterError(errors)
    if not rows:
        raise RegisterError([RowError(1, "the file has no rows")])
    return rows


def upsert_municipalities(session: Session, rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT (code) DO UPDATE, in batches (executemany). The pilots of a
    town whose region changed are re-indexed: their index entry carries the region."""
    towns = columns(Municipality)
    before: dict[str, str] = dict(session.execute(select(towns.code, towns.region_nuts3)).all())
    moved = [
        row["code"]
        for row in rows
        if row["code"] in before and before[row["code"]] != row["region_nuts3"]
    ]
    insert = pg_insert if dialect_name(session) == "postgresql" else sqlite_insert
    statement = insert(Municipality)
    # A file without the optional columns leaves what the database has for them.
    updated = COLUMNS + ("name_search",) + tuple(c for c in OPTIONAL_COLUMNS if c in rows[0])
    statement = statement.on_conflict_do_update(
        index_elements=["code"],
        set_={c: getattr(statement.excluded, c) for c in updated if c != "code"},
    )
    for start in range(0, len(rows), BATCH):
        session.execute(statement, rows[start : start + BATCH])
    session.flush()
    if moved:
        session.expire_all()  # the upsert bypassed the identity map
        reindex_towns(session, moved)


def import_register(session: Session, path: Path) -> int:
    """Validate the whole file, then upsert it; returns the number of rows."""
    try:
        data = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegisterError([RowError(1, f"the file is not UTF-8 ({exc.reason})")]) from None
    rows = parse_register(data)
    upsert_municipalities(session, rows)
    return len(rows)


def municipality_count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Municipality)).scalar_one())
