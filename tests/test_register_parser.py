"""The contract-register dump reader: lenient on what real dumps hold, closed to what a
dump never holds (a DTD, entities, another root)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from procurement.register.exceptions import DumpRefused
from procurement.register.parser import (
    DumpReader,
    Entry,
    Skipped,
    normal_amount,
    normal_date,
    normal_ico,
    normal_moment,
)
from tests.factories_register import JANUARY, SAMPLE_2016


def read(path: Path) -> tuple[DumpReader, list[Entry | Skipped]]:
    with path.open("rb") as stream:
        reader = DumpReader(stream)
        return reader, list(reader)


def entries_by_version(items: list[Entry | Skipped]) -> dict[int, Entry]:
    return {e.version_id: e for e in items if isinstance(e, Entry)}


def test_the_2016_dump_is_read_with_its_header_and_versions() -> None:
    reader, items = read(SAMPLE_2016)
    assert reader.header.year == 2016
    assert reader.header.month == 7
    assert reader.header.complete is False
    assert reader.header.generated_at == datetime(2016, 7, 16, 22, 6, 2, tzinfo=UTC)
    entries = entries_by_version(items)
    assert len(entries) == 15
    assert len(items) == 15
    first = entries[9]
    assert first.contract_id == 9
    assert first.url == "https://smlouvy.gov.cz/smlouva/9"
    assert first.published_at == datetime(2016, 6, 30, 23, 17, 36, tzinfo=UTC)
    assert first.signed_on == date(2016, 6, 30)
    assert first.value_excl_vat == Decimal("80000.00")
    assert first.value_incl_vat is None
    assert [(p.role, p.ico, p.name) for p in first.parties] == [
        ("publisher", "70891508", "Liberecký kraj"),
        ("counterparty", "47903783", "GORDIC spol. s r.o."),
    ]
    # contract 13: version 13 superseded (platnyZaznam 0), version 205 the valid one
    assert (entries[13].contract_id, entries[13].valid) == (13, False)
    assert (entries[205].contract_id, entries[205].valid) == (13, True)


def test_the_2026_shape_is_read_leniently() -> None:
    reader, items = read(JANUARY)
    assert (reader.header.year, reader.header.month, reader.header.complete) == (2026, 1, True)
    entries = entries_by_version(items)
    assert sorted(entries) == [9200001, 9200002, 9200003, 9200004, 9200005, 9200006]
    # cenaNeuvedena, identifikace and the navazanyZaznam URL (none in the 1.2.1 schema)
    tax = entries[9200006]
    assert tax.price_not_stated == "obchodní tajemství"
    assert tax.value_excl_vat is None
    assert tax.value_incl_vat is None
    assert tax.linked_record_url == "https://smlouvy.gov.cz/smlouva/9200006"
    # unknown elements are ignored, a nested IČO of an unknown element too; &amp; read
    assert [(p.ico, p.name, p.kind) for p in tax.parties] == [
        ("02209225", "Obec Zkušební", None),
        ("62068172", "Energie & teplo s.r.o.", "PO"),
    ]
    # a counterparty without IČO; an IČO without its leading zero; only incl. VAT
    person = entries[9200002]
    assert [(p.ico, p.ico_raw, p.name, p.kind) for p in person.parties] == [
        ("02209225", "2209225", "Obec Zkušební", None),
        (None, None, "Jan Novák", "FO"),
    ]
    assert person.value_excl_vat is None
    assert person.value_incl_vat == Decimal("121000.00")
    # raw text kept beside the normalised value
    works = entries[9200003]
    assert works.value_excl_vat_raw == " 1 250 000,50 "
    assert works.value_excl_vat == Decimal("1250000.50")
    assert works.value_incl_vat is None
    assert works.subject_raw == "  Rekonstrukce   chodníku  "
    assert works.subject == "Rekonstrukce chodníku"
    assert (works.parties[1].ico_raw, works.parties[1].ico) == (" 39923835 ", "39923835")
    assert works.parties[1].name == "Stavby Vltava a.s."
    assert works.linked_record == "9100001"
    # a foreign currency only, and a foreign company number that is no IČO
    licence = entries[9200004]
    assert (licence.foreign_value, licence.foreign_currency) == (Decimal("10000.00"), "EUR")
    assert licence.foreign_currency_raw == "eur"
    assert (licence.parties[1].ico_raw, licence.parties[1].ico) == ("HRB 12345", None)
    # two versions of one contract
    assert (entries[9200001].valid, entries[9200005].valid) == (False, True)
    assert entries[9200001].contract_id == entries[9200005].contract_id == 9100001


def test_a_record_without_its_identifiers_is_skipped_with_its_line() -> None:
    _reader, items = read(JANUARY)
    (skipped,) = [item for item in items if isinstance(item, Skipped)]
    text = JANUARY.read_text(encoding="utf-8").splitlines()
    assert "<zaznam>" in text[skipped.line - 1]
    assert "idVerze" in skipped.reason
    assert "9100005" in text[skipped.line]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("80000", Decimal("80000.00")),
        ("39798699.6", Decimal("39798699.60")),
        (" 1 250 000,50 ", Decimal("1250000.50")),
        ("12.345", Decimal("12.35")),
        ("", None),
        ("neuvedeno", None),
        ("NaN", None),
        ("1e30", None),
        (None, None),
    ],
)
def test_amounts(raw: str | None, expected: Decimal | None) -> None:
    assert normal_amount(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("00064581", "00064581"),
        ("64581", "00064581"),
        (" 44992785 ", "44992785"),
        ("CZ44992785", "44992785"),
        ("449 92 785", "44992785"),
        ("HRB 12345", None),
        ("123456789", None),
        ("٤٤٩٩٢٧٨٥", None),  # digits, but not ASCII ones
        ("", None),
        (None, None),
    ],
)
def test_icos(raw: str | None, expected: str | None) -> None:
    assert normal_ico(raw) == expected


def test_dates_and_moments() -> None:
    assert normal_date("2016-06-30") == date(2016, 6, 30)
    assert normal_date("2016-06-30+02:00") == date(2016, 6, 30)
    assert normal_date("30.6.2016") is None
    assert normal_date("2016-02-30") is None
    assert normal_moment("2016-07-01T01:17:36+02:00") == datetime(
        2016, 6, 30, 23, 17, 36, tzinfo=UTC
    )
    # no offset: Prague time (summer: UTC+2)
    assert normal_moment("2016-07-01T01:17:36") == datetime(2016, 6, 30, 23, 17, 36, tzinfo=UTC)
    assert normal_moment("včera") is None


def refused(document: bytes) -> str:
    with pytest.raises(DumpRefused) as caught:
        list(DumpReader(io.BytesIO(document)))
    return caught.value.detail


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE dump [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<dump xmlns="http://portal.gov.cz/rejstriky/ISRS/1.2/"><mesic>01</mesic><zaznam>
<identifikator><idSmlouvy>1</idSmlouvy><idVerze>1</idVerze></identifikator>
<smlouva><predmet>&lol9;</predmet></smlouva></zaznam></dump>"""


def test_billion_laughs_is_refused() -> None:
    # libxml2 stops the amplification itself while reading the DTD; were it not to, the
    # reader refuses any DTD before a record is read.
    detail = refused(BILLION_LAUGHS)
    assert "DTD" in detail or "amplification" in detail
    assert "lollol" not in detail


def test_external_entities_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read me")
    document = (
        f'<?xml version="1.0"?>\n<!DOCTYPE dump [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        '<dump xmlns="http://portal.gov.cz/rejstriky/ISRS/1.2/"><zaznam><identifikator>'
        "<idSmlouvy>1</idSmlouvy><idVerze>1</idVerze></identifikator><smlouva>"
        "<predmet>&x;</predmet></smlouva></zaznam></dump>"
    ).encode()
    detail = refused(document)
    assert "DTD" in detail
    assert "do not read me" not in detail
    external_dtd = b'<?xml version="1.0"?><!DOCTYPE dump SYSTEM "http://127.0.0.1:9/x.dtd"><dump/>'
    assert "DTD" in refused(external_dtd)


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b"", "not XML"),
        (b"%PDF-1.7 binary", "not XML"),
        (b'{"dump": []}', "not XML"),
        (b"<dump><zaznam>", "not well-formed XML"),
        (b'<?xml version="1.0"?><profil><zakazka/></profil>', "not a contract-register dump"),
    ],
)
def test_what_is_no_dump_is_refused(document: bytes, reason: str) -> None:
    assert reason in refused(document)


def test_a_dump_broken_after_its_first_records_is_refused() -> None:
    whole = JANUARY.read_bytes()
    cut = whole[: whole.index(b"</zaznam>", len(whole) // 2) + 200]
    reader = DumpReader(io.BytesIO(cut))
    with pytest.raises(DumpRefused) as caught:
        list(reader)
    assert "not well-formed" in caught.value.detail
