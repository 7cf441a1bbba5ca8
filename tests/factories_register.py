"""Contract-register dumps for the tests: the fixture files, and small dumps written on the
spot (one ``zaznam`` per record, in the 2026 shape)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import sqlalchemy as sa
from sqlmodel import Session

from catalogue.models import Municipality
from procurement.register.service import ImportReport, import_dump

DATA = Path(__file__).resolve().parent / "data" / "contract-register"
SAMPLE_2016 = DATA / "registr-smluv-2016-07-cut.xml"
JANUARY = DATA / "dump-2026-01.xml"
JANUARY_PARTIAL = DATA / "dump-2026-01-partial.xml"
FEBRUARY = DATA / "dump-2026-02.xml"

TOWN_ICO = "02209225"  # the town of the hand-made dumps
SUPPLIER_ICO = "44992785"  # the supplier of tests.factories_procurement.contract
OTHER_ICO = "39923835"
NS = "http://portal.gov.cz/rejstriky/ISRS/1.2/"


@dataclass
class Rec:
    """One record of a dump written by ``write_dump``."""

    contract_id: int
    version_id: int
    signed_on: str
    excl: str | None = None
    incl: str | None = None
    parties: list[tuple[str | None, str]] = field(
        default_factory=lambda: [(TOWN_ICO, "Obec"), (SUPPLIER_ICO, "Svítidla s.r.o.")]
    )
    published_at: str | None = None  # default: the signature day, noon
    valid: bool = True
    subject: str = "Dodávka"
    foreign: tuple[str, str] | None = None

    def xml(self) -> str:
        (publisher_ico, publisher), *others = self.parties
        counterparties = "".join(
            f"<smluvniStrana><nazev>{escape(name)}</nazev>"
            + (f"<ico>{ico}</ico>" if ico else "")
            + "<identifikace>PO</identifikace></smluvniStrana>"
            for ico, name in others
        )
        values = "".join(
            [
                f"<hodnotaBezDph>{self.excl}</hodnotaBezDph>" if self.excl else "",
                f"<hodnotaVcetneDph>{self.incl}</hodnotaVcetneDph>" if self.incl else "",
                (
                    f"<ciziMena><hodnota>{self.foreign[0]}</hodnota>"
                    f"<mena>{self.foreign[1]}</mena></ciziMena>"
                    if self.foreign
                    else ""
                ),
            ]
        )
        published = self.published_at or f"{self.signed_on}T12:00:00+01:00"
        return (
            f"<zaznam><identifikator><idSmlouvy>{self.contract_id}</idSmlouvy>"
            f"<idVerze>{self.version_id}</idVerze></identifikator>"
            f"<odkaz>https://smlouvy.gov.cz/smlouva/{self.version_id}</odkaz>"
            f"<casZverejneni>{published}</casZverejneni><smlouva>"
            f"<subjekt><nazev>{escape(publisher)}</nazev>"
            + (f"<ico>{publisher_ico}</ico>" if publisher_ico else "")
            + f"</subjekt>{counterparties}<predmet>{escape(self.subject)}</predmet>"
            f"<datumUzavreni>{self.signed_on}</datumUzavreni>{values}</smlouva>"
            f"<prilohy><priloha><nazevSouboru>s.pdf</nazevSouboru></priloha></prilohy>"
            f"<platnyZaznam>{int(self.valid)}</platnyZaznam>"
            f"<navazanyZaznam>https://smlouvy.gov.cz/smlouva/{self.version_id}</navazanyZaznam>"
            "</zaznam>"
        )


def write_dump(
    path: Path,
    records: list[Rec],
    *,
    year: int = 2026,
    month: int = 1,
    generated_at: str | None = None,
    complete: bool = True,
) -> Path:
    generated = generated_at or f"{year + (month == 12)}-{month % 12 + 1:02d}-01T03:00:00+01:00"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<dump xmlns="{NS}"><mesic>{month:02d}</mesic><rok>{year}</rok>'
        f"<casGenerovani>{generated}</casGenerovani>"
        f"<dokoncenyMesic>{int(complete)}</dokoncenyMesic>"
        + "".join(r.xml() for r in records)
        + "</dump>\n",
        encoding="utf-8",
    )
    return path


def load(session: Session, path: Path) -> ImportReport:
    """Import a dump as the CLI does (the test's transaction keeps it until the test ends)."""
    report = import_dump(session, path)
    session.commit()
    return report


def set_town_ico(session: Session, code: str, ico: str | None) -> None:
    session.execute(sa.update(Municipality).where(Municipality.code == code).values(ico=ico))  # type: ignore[arg-type]
    session.commit()
