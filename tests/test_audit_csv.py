"""CSV for spreadsheets: BOM, semicolons, the formula guard, Content-Disposition."""

from __future__ import annotations

import csv
import io

import pytest

from api.csvexport import content_disposition, guard, stream_csv


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+420 123", "'+420 123"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Obec Lhota", "Obec Lhota"),
        ("1250000.00", "1250000.00"),
        (None, ""),
        (True, "true"),
    ],
)
def test_formula_guard(cell: object, shown: str) -> None:
    assert guard(cell) == shown


def test_bom_and_semicolon_round_trip() -> None:
    text = "".join(
        stream_csv(
            ["ocid", "title"],
            [["a-1", "Veřejné; osvětlení"], ["a-2", "=1+1"]],
            delimiter=";",
            bom=True,
            batch=1,
        )
    )
    assert text.startswith("\ufeffocid;title\r\n")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert rows == [["ocid", "title"], ["a-1", "Veřejné; osvětlení"], ["a-2", "'=1+1"]]


def test_without_options_plain_rfc4180() -> None:
    text = "".join(stream_csv(["a", "b"], [["1", 'x"y']]))
    assert text == 'a,b\r\n1,"x""y"\r\n'


def test_content_disposition_has_ascii_and_utf8_names() -> None:
    value = content_disposition("zakázky-2026.csv")
    assert value.startswith('attachment; filename="zak_zky-2026.csv"')
    assert "filename*=UTF-8''zak%C3%A1zky-2026.csv" in value
