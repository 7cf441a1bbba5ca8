"""Streaming reader of a contract-register dump (registr smluv, ISRS 1.2 ``dump``).

A dump is ``<dump>`` with ``mesic``, ``rok``, ``casGenerovani``, ``dokoncenyMesic`` and one
``<zaznam>`` per published version of a contract. The file is read with
``lxml.etree.iterparse`` and every record is cleared once read, so memory stays flat however
large the dump is.

Lenient by design: current dumps carry elements the 1.2.1 schema lacks
(``smlouva/cenaNeuvedena``, ``smluvniStrana/identifikace``, a second ``navazanyZaznam``
under ``zaznam`` holding a URL), and the values are free text typed by thousands of
publishers. Unknown elements are ignored, nothing is validated against the schema, every
value is kept as its raw text beside its normalised form (``None`` when the text cannot be
read as one), and a record without its identifiers is reported and skipped.

Refused: a file that is not XML, whose root is not ``dump``, or that declares a DTD. A
register dump has no DTD; one could define entities that expand to gigabytes ("billion
laughs") or read local files and URLs (external entities), so none is accepted, and entities
are never resolved nor anything fetched.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import IO, NamedTuple
from zoneinfo import ZoneInfo

from lxml import etree

from procurement.register.exceptions import DumpRefused

PRAGUE = ZoneInfo("Europe/Prague")
CENT = Decimal("0.01")
# The largest amount the mirror keeps (Numeric(18, 2)); a larger text is kept raw only.
AMOUNT_LIMIT = Decimal("1e16")
HEADER_FIELDS = ("mesic", "rok", "casGenerovani", "dokoncenyMesic")
PEEK_BYTES = 1 << 16


@dataclass
class DumpHeader:
    """The dump's own data: the month it lists, when it was generated, whether complete."""

    year: int | None = None
    month: int | None = None
    generated_at: datetime | None = None
    complete: bool = False
    raw: dict[str, str] = field(default_factory=dict)


class Party(NamedTuple):
    """The publisher (``subjekt``) or a counterparty (``smluvniStrana``) of a record. A
    tuple: the mirror stores a record's parties as a JSON array of these arrays."""

    role: str  # publisher | counterparty
    ico: str | None
    ico_raw: str | None
    name: str | None
    name_raw: str | None
    data_box: str | None  # datovaSchranka
    kind: str | None  # identifikace (2026 dumps): PO, PFO, FO, OVM, ...


@dataclass(slots=True)
class Entry:
    """One ``zaznam``: one version of one contract, raw texts and normalised values."""

    line: int
    contract_id: int  # idSmlouvy
    version_id: int  # idVerze
    url: str | None  # odkaz
    published_at_raw: str | None  # casZverejneni
    published_at: datetime | None
    signed_on_raw: str | None  # datumUzavreni
    signed_on: date | None
    subject_raw: str | None  # predmet
    subject: str | None
    contract_number: str | None  # cisloSmlouvy
    value_excl_vat_raw: str | None  # hodnotaBezDph
    value_excl_vat: Decimal | None
    value_incl_vat_raw: str | None  # hodnotaVcetneDph
    value_incl_vat: Decimal | None
    foreign_value_raw: str | None  # ciziMena/hodnota
    foreign_value: Decimal | None
    foreign_currency_raw: str | None  # ciziMena/mena
    foreign_currency: str | None
    price_not_stated: str | None  # cenaNeuvedena (2026 dumps)
    linked_record: str | None  # smlouva/navazanyZaznam
    linked_record_url: str | None  # zaznam/navazanyZaznam (2026 dumps)
    valid: bool  # platnyZaznam (missing: the record is listed, so taken as valid)
    parties: list[Party]


@dataclass(frozen=True, slots=True)
class Skipped:
    """A record that cannot be kept (no identifiers), with the line it starts on."""

    line: int
    reason: str


# -- normalisation --------------------------------------------------------------------------


def clean_text(raw: str | None) -> str | None:
    """Whitespace collapsed and trimmed; None when nothing is left."""
    if raw is None:
        return None
    text = " ".join(raw.split())
    return text or None


def normal_ico(raw: str | None) -> str | None:
    """An IČO as 8 ASCII digits: spaces dropped, a ``CZ`` prefix (a DIČ) dropped, leading
    zeros restored (``261238`` -> ``00261238``); None for anything else (a foreign id)."""
    if raw is None:
        return None
    if len(raw) == 8 and raw.isdigit() and raw.isascii():  # the common case
        return raw
    text = "".join(raw.split())
    if text[:2].upper() == "CZ":
        text = text[2:]
    if not (text.isascii() and text.isdigit()) or not 1 <= len(text) <= 8:
        return None
    return text.zfill(8)


def normal_amount(raw: str | None) -> Decimal | None:
    """A decimal amount rounded to the haléř; spaces (thousands) dropped, a decimal comma
    read as a point; None when the text is no number or is out of range."""
    if raw is None:
        return None
    if raw.isdigit() and raw.isascii() and len(raw) < 17:  # the common case: "80000"
        return Decimal(raw).quantize(CENT)
    text = "".join(raw.split())
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or abs(value) >= AMOUNT_LIMIT:
        return None
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


_DATE = re.compile(r"\s*([0-9]{4})-([0-9]{2})-([0-9]{2})")


def normal_date(raw: str | None) -> date | None:
    """The day of an ``xs:date`` (a time-zone suffix is ignored: the day is what was stated)."""
    if raw is not None and len(raw) == 10:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    match = _DATE.match(raw or "")
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def normal_moment(raw: str | None) -> datetime | None:
    """An ``xs:dateTime`` in UTC; without an offset it is read as Prague time."""
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PRAGUE)
    return moment.astimezone(UTC)


def normal_flag(raw: str | None) -> bool | None:
    text = (raw or "").strip().lower()
    if text in ("1", "true"):
        return True
    if text in ("0", "false"):
        return False
    return None


_CURRENCY = re.compile(r"[A-Za-z]{3}")


def normal_currency(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = raw.strip()
    return text.upper() if _CURRENCY.fullmatch(text) else None


def _integer(raw: str | None) -> int | None:
    if raw is not None and raw.isdigit() and raw.isascii() and len(raw) <= 18:
        return int(raw)  # the common case
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)


# -- reading --------------------------------------------------------------------------------


def _local(tag: object) -> str | None:
    """The local name of an element's tag (None for comments and processing instructions)."""
    if not isinstance(tag, str):
        return None
    return tag[tag.rfind("}") + 1 :]


def check_prolog(stream: IO[bytes]) -> str:
    """Read the start of the file up to its root element: refuse what is not XML, has a
    DTD or is not a ``dump``; return the root's namespace. The stream is rewound."""
    parser = etree.XMLPullParser(
        events=("start",), resolve_entities=False, no_network=True, load_dtd=False
    )
    root = None
    try:
        while root is None:
            chunk = stream.read(PEEK_BYTES)
            if not chunk:
                parser.close()  # raises on a file that ended before its root element
                break
            parser.feed(chunk)
            for _event, element in parser.read_events():
                root = element
                break
    except etree.XMLSyntaxError as exc:
        raise DumpRefused(f"not XML: {exc}") from None
    finally:
        stream.seek(0)
    if root is None:
        raise DumpRefused("not XML: no root element")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise DumpRefused(
            "the file declares a DTD (<!DOCTYPE ...>); a register dump has none, and a DTD "
            "could expand entities or read other files: refused"
        )
    if _local(root.tag) != "dump":
        raise DumpRefused(f"not a contract-register dump: the root element is <{root.tag}>")
    tag = str(root.tag)
    return tag[1 : tag.find("}")] if tag.startswith("{") else ""


class DumpReader:
    """Iterate over a dump's records (``Entry`` or ``Skipped``) in file order; ``header``
    holds the dump's own data (complete once the iteration is over: its elements come
    first in a dump, so it is complete before the first record in practice)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.header = DumpHeader()
        self.namespace = check_prolog(stream)

    def __iter__(self) -> Iterator[Entry | Skipped]:
        tags = _Tags(self.namespace)
        header_tags = {f"{tags.ns}{name}": name for name in HEADER_FIELDS}
        record_tag = f"{tags.ns}zaznam"
        context = etree.iterparse(
            self.stream,
            events=("end",),
            tag=[record_tag, *header_tags],
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            remove_comments=True,
            remove_pis=True,
        )
        try:
            for _event, element in context:
                parent = element.getparent()
                if parent is None or parent.getparent() is not None:
                    continue  # only the dump's own children count
                if element.tag == record_tag:
                    yield read_entry(element, tags)
                else:
                    self._header(header_tags[element.tag], element.text)
                # Free what was read: the element and everything before it.
                element.clear(keep_tail=False)
                while element.getprevious() is not None:
                    del parent[0]
        except etree.XMLSyntaxError as exc:
            raise DumpRefused(f"not well-formed XML: {exc}") from None

    def _header(self, name: str, raw: str | None) -> None:
        text = (raw or "").strip()
        self.header.raw[name] = text
        if name == "mesic":
            month = _integer(text)
            self.header.month = month if month is not None and 1 <= month <= 12 else None
        elif name == "rok":
            year = _integer(text)
            self.header.year = year if year is not None and 2000 <= year <= 2999 else None
        elif name == "casGenerovani":
            self.header.generated_at = normal_moment(text)
        else:
            self.header.complete = normal_flag(text) is True


class _Tags:
    """The qualified tags of the dump's namespace, so a record is read by comparing tags
    (no local-name computation per element: a dump has ~40 elements per record)."""

    def __init__(self, namespace: str) -> None:
        ns = f"{{{namespace}}}" if namespace else ""
        self.ns = ns
        for name in (
            "identifikator idSmlouvy idVerze odkaz casZverejneni smlouva platnyZaznam "
            "navazanyZaznam subjekt smluvniStrana ciziMena predmet datumUzavreni cisloSmlouvy "
            "hodnotaBezDph hodnotaVcetneDph cenaNeuvedena hodnota mena ico nazev "
            "datovaSchranka identifikace"
        ).split():
            setattr(self, name, ns + name)

    identifikator: str
    idSmlouvy: str
    idVerze: str
    odkaz: str
    casZverejneni: str
    smlouva: str
    platnyZaznam: str
    navazanyZaznam: str
    subjekt: str
    smluvniStrana: str
    ciziMena: str
    predmet: str
    datumUzavreni: str
    cisloSmlouvy: str
    hodnotaBezDph: str
    hodnotaVcetneDph: str
    cenaNeuvedena: str
    hodnota: str
    mena: str
    ico: str
    nazev: str
    datovaSchranka: str
    identifikace: str


def _party(element: etree._Element, role: str, t: _Tags) -> Party:
    ico_raw = name_raw = data_box = kind = None
    # lxml picks the four children read (an address, a flag, ... are never touched)
    for leaf in element.iterchildren(t.ico, t.nazev, t.datovaSchranka, t.identifikace):
        tag = leaf.tag
        if tag == t.ico:
            ico_raw = leaf.text
        elif tag == t.nazev:
            name_raw = leaf.text
        elif tag == t.datovaSchranka:
            data_box = leaf.text
        elif tag == t.identifikace:
            kind = leaf.text
    return Party(
        role,
        normal_ico(ico_raw),
        ico_raw,
        clean_text(name_raw),
        name_raw,
        data_box.strip() if data_box else None,
        kind.strip() if kind else None,
    )


def read_entry(record: etree._Element, t: _Tags) -> Entry | Skipped:
    """One ``zaznam`` element as an ``Entry`` (or ``Skipped`` without its identifiers).

    The hot path of an import (a dump holds ~40 elements per record): one pass over the
    children, each tag read once."""
    contract_id = version_id = None
    url = published_raw = valid_raw = linked_url = None
    subject_raw = signed_raw = number = excl_raw = incl_raw = None
    foreign_raw = currency_raw = not_stated = linked = None
    parties: list[Party] = []
    for child in record:
        tag = child.tag
        if tag == t.smlouva:
            for part in child:
                tag = part.tag
                if tag == t.smluvniStrana:
                    parties.append(_party(part, "counterparty", t))
                elif tag == t.subjekt:
                    parties.insert(0, _party(part, "publisher", t))
                elif tag == t.predmet:
                    subject_raw = part.text
                elif tag == t.datumUzavreni:
                    signed_raw = part.text
                elif tag == t.hodnotaBezDph:
                    excl_raw = part.text
                elif tag == t.hodnotaVcetneDph:
                    incl_raw = part.text
                elif tag == t.cisloSmlouvy:
                    number = part.text
                elif tag == t.ciziMena:
                    for leaf in part:
                        if leaf.tag == t.hodnota:
                            foreign_raw = leaf.text
                        elif leaf.tag == t.mena:
                            currency_raw = leaf.text
                elif tag == t.cenaNeuvedena:
                    not_stated = part.text
                elif tag == t.navazanyZaznam:
                    linked = part.text
        elif tag == t.identifikator:
            for leaf in child:
                if leaf.tag == t.idSmlouvy:
                    contract_id = _integer(leaf.text)
                elif leaf.tag == t.idVerze:
                    version_id = _integer(leaf.text)
        elif tag == t.odkaz:
            url = child.text
        elif tag == t.casZverejneni:
            published_raw = child.text
        elif tag == t.platnyZaznam:
            valid_raw = child.text
        elif tag == t.navazanyZaznam:
            linked_url = child.text
    if contract_id is None or version_id is None:
        return Skipped(
            record.sourceline or 0, "no idSmlouvy/idVerze (integers) in its identifikator"
        )
    return Entry(
        line=record.sourceline or 0,
        contract_id=contract_id,
        version_id=version_id,
        url=url.strip() if url else None,
        published_at_raw=published_raw,
        published_at=normal_moment(published_raw),
        signed_on_raw=signed_raw,
        signed_on=normal_date(signed_raw),
        subject_raw=subject_raw,
        subject=clean_text(subject_raw),
        contract_number=clean_text(number),
        value_excl_vat_raw=excl_raw,
        value_excl_vat=normal_amount(excl_raw),
        value_incl_vat_raw=incl_raw,
        value_incl_vat=normal_amount(incl_raw),
        foreign_value_raw=foreign_raw,
        foreign_value=normal_amount(foreign_raw),
        foreign_currency_raw=currency_raw,
        foreign_currency=normal_currency(currency_raw),
        price_not_stated=clean_text(not_stated),
        linked_record=clean_text(linked),
        linked_record_url=linked_url.strip() if linked_url else None,
        valid=valid_raw is None or normal_flag(valid_raw) is not False,
        parties=parties,
    )
