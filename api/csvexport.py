"""CSV for spreadsheets: RFC 4180 UTF-8, optional BOM and semicolon (Czech Excel), and a
guard against formula injection (a cell that starts with = + - @ TAB or CR is prefixed
with an apostrophe, as OWASP recommends, so Excel shows it as text)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import quote

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DELIMITERS = {"comma": ",", "semicolon": ";"}


def guard(value: Any) -> str:
    """The cell text, with a leading apostrophe when a spreadsheet would run it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class CsvWriter:
    """Turns rows into CSV text chunks, one line per call (for streaming responses)."""

    def __init__(self, header: Sequence[str], *, delimiter: str = ",", bom: bool = False) -> None:
        self.header = list(header)
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, delimiter=delimiter, lineterminator="\r\n")
        self._bom = bom

    def _take(self) -> str:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text

    def head(self) -> str:
        self._writer.writerow(self.header)
        return (BOM if self._bom else "") + self._take()

    def row(self, values: Iterable[Any]) -> str:
        self._writer.writerow([guard(value) for value in values])
        return self._take()

    def rows(
        self, rows: Iterable[Sequence[Any]], text_columns: frozenset[int] | None = None
    ) -> str:
        """Rows as CSV; only ``text_columns`` (all when None) go through the guard, the
        others are values the service made (numbers, ids, times, JSON) and go as they are."""
        if text_columns is None:
            self._writer.writerows([guard(value) for value in row] for row in rows)
        elif text_columns:
            self._writer.writerows(
                [guard(v) if i in text_columns else v for i, v in enumerate(row)] for row in rows
            )
        else:
            self._writer.writerows(rows)
        return self._take()


def stream_csv(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    delimiter: str = ",",
    bom: bool = False,
    batch: int = 500,
    text_columns: frozenset[int] | None = None,
) -> Iterator[str]:
    """Header line, then the rows in chunks of ``batch`` lines."""
    writer = CsvWriter(header, delimiter=delimiter, bom=bom)
    yield writer.head()
    pending: list[Sequence[Any]] = []
    for row in rows:
        pending.append(row)
        if len(pending) >= batch:
            yield writer.rows(pending, text_columns)
            pending = []
    if pending:
        yield writer.rows(pending, text_columns)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the RFC 6266 / 5987 UTF-8 name."""
    ascii_name = _UNSAFE.sub("_", filename).strip("_") or "export"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
