"""CPV 2008 codes: the format is checked always; the code itself only against the official
list an operator imported (``smartsteps import cpv FILE``).

The published CPV check digits do not follow their documented algorithm (the EU Publications
Office has confirmed it), so a check digit is never computed, only looked up.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from procurement.models import CpvCode

CPV_FORMAT = re.compile(r"^[0-9]{8}-[0-9]$")


def vocabulary_loaded(session: Session) -> bool:
    return session.exec(select(CpvCode.code).limit(1)).first() is not None


def unknown_codes(session: Session, codes: Iterable[str]) -> list[str]:
    """The codes not in the imported list; none when no list has been imported."""
    wanted = sorted(set(codes))
    if not wanted or not vocabulary_loaded(session):
        return []
    known = set(session.exec(select(CpvCode.code).where(CpvCode.code.in_(wanted))))  # type: ignore[attr-defined]
    return [c for c in wanted if c not in known]


def parse_cpv_file(text: str) -> Iterator[tuple[str, str]]:
    """(code, label) rows from a CSV (comma, semicolon or tab) whose first column is the
    code; a header row and rows without a code are skipped."""
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    for row in csv.reader(io.StringIO(text), dialect):
        if not row:
            continue
        code = row[0].strip().lstrip("\ufeff")
        if not CPV_FORMAT.match(code):
            continue
        label = row[1].strip() if len(row) > 1 else ""
        yield code, label[:500]


def import_cpv(session: Session, path: Path) -> int:
    """Replace the CPV list with the codes in ``path``; returns how many were stored."""
    rows = dict(parse_cpv_file(path.read_text(encoding="utf-8-sig")))
    if not rows:
        raise ValueError(f"{path}: no CPV codes (NNNNNNNN-N in the first column) found")
    session.execute(CpvCode.__table__.delete())  # type: ignore[attr-defined]
    session.add_all(CpvCode(code=code, label=label) for code, label in rows.items())
    session.flush()
    return int(session.exec(select(func.count()).select_from(CpvCode)).one())
