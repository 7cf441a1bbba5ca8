"""Reading a buyer profile export (profil zadavatele, "XML data VZ") into plain records.

Two structures share the namespace ``urn:cz:isvz:mmr:schemas:vz-z-profilu-zadavatele:v100``:
the 2016 one of vyhláška č. 168/2016 Sb. (``zakazka > VZ(kod_vz_na_profilu, ...),
ucastnik*, dodavatel*``) and the current one of vyhláška č. 345/2023 Sb. (``zakazka >
id_objektu, ..., casti_vz/cast_zakazky* > zadavaci_postup_casti > ...``). Each ``zakazka``
is read by the structure its element names show (never by the namespace, which both
keep), and element names are matched without regard to case (``smluvni_cena_bez_DPH``
beside ``smluvni_cena_bez_dph``). Unknown elements are ignored.

Every value keeps the path of its element (``/profil/zakazka[3]/casti_vz/cast_zakazky[2]/
...``), so the import can say where each fact of the trail comes from. Nothing here
interprets values: that is ``mapping``.

Hostile input is refused: no DTD (so no entity expansion and no external entities), no
network, and libxml2's limits on amplification and depth stay on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

from procurement.imports.exceptions import NotBuyerProfile, NotXml

Structure = Literal["2016", "current"]
# Elements that repeat: their paths always carry their position ([1], [2], ...).
_REPEATING = frozenset(
    {
        "zakazka",
        "cast_zakazky",
        "zadavaci_postup_casti",
        "zadavaci_postup",
        "dokument",
        "ucastnik",
        "dodavatel",
        "vybrany_dodavatel",
        "plneni",
        "rozpad",
        "lhuta",
        "smluvni_strana",
        "migrace",
    }
)


@dataclass(frozen=True)
class Fact:
    """A value as the export states it, and the path of its element."""

    value: str
    path: str


@dataclass(frozen=True)
class Subject:
    """A firm or person: participant, supplier or contract party."""

    path: str
    ico: Fact | None
    name: Fact | None


@dataclass(frozen=True)
class Participant:
    """ucastnik: a supplier that bid, with its price."""

    path: str
    subject: Subject
    price_excl_vat: Fact | None
    price_incl_vat: Fact | None
    excluded: Fact | None
    exclusion_reason: Fact | None
    withdrew: Fact | None


@dataclass(frozen=True)
class YearlyPayment:
    """plneni (rozpad in 2016): the price actually paid in one year of the contract."""

    path: str
    year: Fact | None
    amount_excl_vat: Fact | None
    amount_incl_vat: Fact | None


@dataclass(frozen=True)
class Supplier:
    """vybrany_dodavatel (dodavatel in 2016): the selected supplier and its contract."""

    subject: Subject
    contract_value_excl_vat: Fact | None
    contract_value_incl_vat: Fact | None
    contract_concluded: Fact | None
    payments: tuple[YearlyPayment, ...]


@dataclass(frozen=True)
class ContractMetadata:
    """metadata_smlouvy_nebo_rd of a contract document."""

    path: str
    parties: tuple[Subject, ...]
    subject: Fact | None
    value_excl_vat: Fact | None
    value_incl_vat: Fact | None
    signed_on: Fact | None


@dataclass(frozen=True)
class Document:
    path: str
    url: Fact | None
    type: Fact | None
    name: Fact | None
    inserted_at: Fact | None
    version: Fact | None
    contract: ContractMetadata | None


@dataclass(frozen=True)
class PeriodEnd:
    """lhuta: a period of the procedure and the moment it ends."""

    path: str
    kind: Fact | None
    ends_at: Fact | None


@dataclass(frozen=True)
class Part:
    """One part of a zakazka (or the whole zakazka when it is not divided): one
    procurement of the trail."""

    path: str
    structure: Structure
    procurement_id: Fact
    part_id: Fact | None
    title: Fact | None
    part_title: Fact | None
    divided: Fact | None
    subject_kind: Fact | None
    description: Fact | None
    cpv: Fact | None
    vvz_id: Fact | None
    procedure_kind: Fact | None
    state: Fact | None
    published_at: Fact | None
    contract_signed_on: Fact | None
    cancelled_on: Fact | None
    periods: tuple[PeriodEnd, ...] = ()
    documents: tuple[Document, ...] = ()
    participants: tuple[Participant, ...] = ()
    suppliers: tuple[Supplier, ...] = ()
    # Facts of the zakazka the part cannot be given (reported by the import).
    unattributed: tuple[tuple[str, str], ...] = ()
    # Further procedures of the same part (zadavaci_postup_casti[2], ...), not imported.
    further_procedures: tuple[str, ...] = ()


@dataclass(frozen=True)
class BuyerProfile:
    sha256: str
    profile_code: Fact | None
    buyer_name: Fact | None
    buyer_ico: Fact | None
    parts: tuple[Part, ...]
    structures: tuple[Structure, ...] = field(default=())
    # zakazka elements that could not be read as either structure: (path, why)
    unreadable: tuple[tuple[str, str], ...] = ()


# --- the element tree ------------------------------------------------------------------------


class _Node:
    """An element with its path; children looked up by lower-case local name (indexed on
    the first lookup)."""

    __slots__ = ("_children", "element", "path")

    def __init__(self, element: etree._Element, path: str) -> None:
        self.element = element
        self.path = path
        self._children: dict[str, list[tuple[str, etree._Element]]] | None = None

    def _index(self) -> dict[str, list[tuple[str, etree._Element]]]:
        if self._children is None:
            index: dict[str, list[tuple[str, etree._Element]]] = {}
            for child in self.element:
                tag = child.tag
                if not isinstance(tag, str):
                    continue
                local = tag.rsplit("}", 1)[-1]  # "{namespace}name" or "name"
                index.setdefault(local.lower(), []).append((local, child))
            self._children = index
        return self._children

    def all(self, name: str) -> Iterator[_Node]:
        for position, (local, child) in enumerate(self._index().get(name, ()), start=1):
            step = f"{local}[{position}]" if name in _REPEATING else local
            yield _Node(child, f"{self.path}/{step}")

    def one(self, name: str) -> _Node | None:
        return next(self.all(name), None)

    def text(self, name: str) -> Fact | None:
        node = self.one(name)
        if node is None:
            return None
        value = (node.element.text or "").strip()
        return Fact(value, node.path) if value else None

    def under(self, *names: str) -> Iterator[_Node]:
        """The elements at the end of a chain of names (each may repeat)."""
        nodes: list[_Node] = [self]
        for name in names:
            nodes = [child for node in nodes for child in node.all(name)]
        return iter(nodes)


def parse_buyer_profile(data: bytes) -> BuyerProfile:
    """Read an export; ``NotXml`` when it is no well-formed XML (or brings a DTD),
    ``NotBuyerProfile`` when its root is not ``profil``."""
    if not data.strip():
        raise NotXml("The file is empty.")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise NotXml(f"The file is not well-formed XML: {error}.") from None
    if root.getroottree().docinfo.doctype:
        raise NotXml(
            "The file declares a DOCTYPE; a buyer profile export has none, and DTDs (entity "
            "definitions, external entities) are refused."
        )
    local = etree.QName(root).localname
    if local.lower() != "profil":
        raise NotBuyerProfile(
            f"The root element is <{local}>, not <profil>: this is not a buyer profile export "
            "(vyhláška č. 168/2016 Sb. or č. 345/2023 Sb.)."
        )
    profile = _Node(root, f"/{local}")
    buyer = profile.one("zadavatel")
    parts: list[Part] = []
    structures: list[Structure] = []
    unreadable: list[tuple[str, str]] = []
    for contract in profile.all("zakazka"):
        if contract.one("vz") is not None:
            structure: Structure = "2016"
            found = _parts_2016(contract)
        elif contract.one("id_objektu") is not None or contract.one("casti_vz") is not None:
            structure = "current"
            found = _parts_current(contract)
        else:
            unreadable.append(
                (contract.path, "neither a VZ element (2016) nor id_objektu (current structure)")
            )
            continue
        if structure not in structures:
            structures.append(structure)
        if not found:
            has_id = contract.text("id_objektu") or (contract.one("vz") or contract).text(
                "kod_vz_na_profilu"
            )
            why = "no part (casti_vz/cast_zakazky)" if has_id else "no id on the profile"
            unreadable.append((contract.path, why))
        parts.extend(found)
    if not parts and not unreadable and buyer is None and profile.one("profil_kod") is None:
        raise NotBuyerProfile(
            "The <profil> element has no profil_kod, zadavatel or zakazka: this is not a "
            "buyer profile export."
        )
    buyer_ico = None
    if buyer is not None:
        buyer_ico = buyer.text("ico_zadavatele") or buyer.text("ico_vlastni")
    return BuyerProfile(
        sha256=hashlib.sha256(data).hexdigest(),
        profile_code=profile.text("profil_kod"),
        buyer_name=buyer.text("nazev_zadavatele") if buyer is not None else None,
        buyer_ico=buyer_ico,
        parts=tuple(parts),
        structures=tuple(structures),
        unreadable=tuple(unreadable),
    )


# --- shared pieces ---------------------------------------------------------------------------


def _subject(node: _Node, name_element: str) -> Subject:
    return Subject(node.path, node.text("ico"), node.text(name_element))


def _documents(container: _Node) -> tuple[Document, ...]:
    found = []
    for document in container.all("dokument"):
        metadata = document.one("metadata_smlouvy_nebo_rd")
        contract = None
        if metadata is not None:
            parties = tuple(
                _subject(subject, "nazev_subjektu")
                for party in metadata.under("smluvni_strany", "smluvni_strana")
                for subject in [party.one("subjekt") or party]
            )
            contract = ContractMetadata(
                path=metadata.path,
                parties=parties,
                subject=metadata.text("predmet_smlouvy"),
                value_excl_vat=metadata.text("smluvni_cena_bez_dph"),
                value_incl_vat=metadata.text("smluvni_cena_s_dph"),
                signed_on=metadata.text("datum_uzavreni_smlouvy"),
            )
        found.append(
            Document(
                path=document.path,
                url=document.text("url"),
                type=document.text("typ_dokumentu"),
                name=document.text("jiny_dokument_nazev"),
                inserted_at=document.text("cas_vlozeni_na_profil"),
                version=document.text("cislo_verze"),
                contract=contract,
            )
        )
    return tuple(found)


# --- the 2016 structure (vyhláška č. 168/2016 Sb.) ---------------------------------------------


def _participants_2016(container: _Node) -> tuple[Participant, ...]:
    return tuple(
        Participant(
            path=node.path,
            subject=_subject(node, "nazev_ucastnika"),
            price_excl_vat=node.text("cena_bez_dph"),
            price_incl_vat=node.text("cena_s_dph"),
            excluded=node.text("vyrazen_mim_cena"),
            exclusion_reason=node.text("vyrazen_mim_cena_zduvodneni"),
            withdrew=node.text("odstoupil"),
        )
        for node in container.all("ucastnik")
    )


def _suppliers_2016(container: _Node) -> tuple[Supplier, ...]:
    return tuple(
        Supplier(
            subject=_subject(node, "nazev_dodavatele"),
            contract_value_excl_vat=node.text("cena_celkem_dle_smlouvy_bez_dph"),
            contract_value_incl_vat=node.text("cena_celkem_dle_smlouvy_dph"),
            contract_concluded=None,
            payments=tuple(
                YearlyPayment(
                    path=row.path,
                    year=row.text("rok_smlouvy"),
                    amount_excl_vat=row.text("cena_za_rok_bez_dph"),
                    amount_incl_vat=row.text("cena_za_rok_s_dph"),
                )
                for row in node.all("rozpad")
            ),
        )
        for node in container.all("dodavatel")
    )


def _parts_2016(contract: _Node) -> list[Part]:
    vz = contract.one("vz")
    assert vz is not None
    code = vz.text("kod_vz_na_profilu")
    if code is None:
        return []
    common = {
        "structure": "2016",
        "procurement_id": code,
        "title": vz.text("nazev_vz"),
        "divided": vz.text("delena_na_casti"),
        "subject_kind": None,
        "description": None,
        "cpv": None,
        "vvz_id": vz.text("kod_vz_na_vvz"),
        "procedure_kind": vz.text("druh_zadavaciho_rizeni"),
        "published_at": vz.text("datum_cas_zverejneni"),
    }
    documents = _documents(vz)
    lots = list(vz.all("cast_zakazky"))
    if not lots:
        return [
            Part(
                path=contract.path,
                part_id=None,
                part_title=None,
                state=vz.text("stav_vz"),
                contract_signed_on=vz.text("datum_uzavreni_smlouvy"),
                cancelled_on=vz.text("datum_zruseni"),
                documents=documents,
                participants=_participants_2016(contract),
                suppliers=_suppliers_2016(contract),
                **common,  # type: ignore[arg-type]
            )
        ]
    # A divided zakazka: documents of the whole VZ that belong to the tender (its
    # documentation, calls, clarifications, the written report) go with every part; bidders
    # and suppliers listed for the whole zakazka cannot be given to one part.
    unattributed = [
        (node.path, "ucastnik of a divided zakazka") for node in contract.all("ucastnik")
    ]
    unattributed += [
        (node.path, "dodavatel of a divided zakazka") for node in contract.all("dodavatel")
    ]
    parts = []
    for lot in lots:
        parts.append(
            Part(
                path=lot.path,
                part_id=lot.text("cislo_casti"),
                part_title=lot.text("nazev_casti_vz"),
                state=lot.text("stav"),
                contract_signed_on=lot.text("datum_uzavreni_smlouvy"),
                cancelled_on=lot.text("datum_zruseni"),
                documents=documents,
                participants=_participants_2016(lot),
                suppliers=_suppliers_2016(lot),
                unattributed=tuple(unattributed),
                **common,  # type: ignore[arg-type]
            )
        )
    return parts


# --- the current structure (vyhláška č. 345/2023 Sb.) -----------------------------------------


def _participants_current(procedure: _Node) -> tuple[Participant, ...]:
    found = []
    for node in procedure.under("ucastnici", "ucastnik"):
        subject = node.one("subjekt")
        found.append(
            Participant(
                path=node.path,
                subject=_subject(subject or node, "nazev_subjektu"),
                price_excl_vat=node.text("nabidkova_cena_bez_dph"),
                price_incl_vat=node.text("nabidkova_cena_s_dph"),
                excluded=node.text("ucastnik_vyloucen"),
                exclusion_reason=None,
                withdrew=node.text("ucastnik_odstoupil"),
            )
        )
    return tuple(found)


def _suppliers_current(procedure: _Node) -> tuple[Supplier, ...]:
    found = []
    for node in procedure.under("vybrani_dodavatele", "vybrany_dodavatel"):
        subject = node.one("subjekt")
        found.append(
            Supplier(
                subject=_subject(subject or node, "nazev_subjektu"),
                contract_value_excl_vat=node.text("smluvni_cena_bez_dph"),
                contract_value_incl_vat=node.text("smluvni_cena_s_dph"),
                contract_concluded=node.text("uzavrena_smlouva_nebo_rd"),
                payments=tuple(
                    YearlyPayment(
                        path=row.path,
                        year=row.text("rok_smlouvy"),
                        amount_excl_vat=row.text("cena_za_rok_bez_dph"),
                        amount_incl_vat=row.text("cena_za_rok_s_dph"),
                    )
                    for row in node.under("plneni_dodavateli", "plneni")
                ),
            )
        )
    return tuple(found)


def _parts_current(contract: _Node) -> list[Part]:
    code = contract.text("id_objektu")
    if code is None:
        return []
    parts = []
    for lot in contract.under("casti_vz", "cast_zakazky"):
        procedures = list(lot.all("zadavaci_postup_casti"))
        procedure = procedures[0] if procedures else None
        empty = _Node(etree.Element("none"), lot.path)

        def text(name: str, node: _Node | None = procedure) -> Fact | None:
            return node.text(name) if node is not None else None

        parts.append(
            Part(
                path=lot.path,
                structure="current",
                procurement_id=code,
                part_id=lot.text("id_objektu"),
                title=contract.text("nazev_vz"),
                part_title=lot.text("nazev_casti_vz"),
                divided=contract.text("delena_na_casti"),
                subject_kind=lot.text("druh_casti_vz") or contract.text("druh_vz"),
                description=contract.text("predmet_vz"),
                cpv=lot.text("hlavni_cpv_casti_vz") or contract.text("hlavni_cpv"),
                vvz_id=None,
                procedure_kind=text("druh_zadavaciho_postupu"),
                state=text("stav_zadavaciho_postupu"),
                published_at=text("datum_uverejneni"),
                contract_signed_on=text("datum_uzavreni_smlouvy"),
                cancelled_on=text("datum_zruseni_rizeni"),
                periods=tuple(
                    PeriodEnd(node.path, node.text("druh_lhuty"), node.text("datum_konce_lhuty"))
                    for node in (procedure or empty).under("lhuty_zadavaciho_postupu", "lhuta")
                ),
                documents=_documents((procedure or empty).one("dokumenty") or empty),
                participants=_participants_current(procedure or empty),
                suppliers=_suppliers_current(procedure or empty),
                further_procedures=tuple(p.path for p in procedures[1:]),
            )
        )
    return parts
