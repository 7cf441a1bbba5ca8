"""Reading buyer profile exports and mapping their parts to procurements and steps: pure
functions over the hand-made exports (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from procurement.imports.exceptions import NotBuyerProfile, NotXml
from procurement.imports.mapping import PartPlan, plan_part, read_ico, read_moment, read_money
from procurement.imports.parser import BuyerProfile, parse_buyer_profile
from tests.factories_imports import DATA, changed, current_export, export_2016

TODAY = date(2026, 12, 6)
XS = "{http://www.w3.org/2001/XMLSchema}"


def plans(data: bytes, today: date = TODAY, subject: str | None = None) -> dict[str, PartPlan]:
    """Plans by part: the part's id (current structure; the zakazka's when undivided) or
    zakazka/part number (2016 structure)."""
    profile = parse_buyer_profile(data)
    found = {}
    for part in profile.parts:
        if part.structure == "current" and part.part_id is not None:
            key = part.part_id.value
        elif part.part_id is not None:
            key = f"{part.procurement_id.value}/{part.part_id.value}"
        else:
            key = part.procurement_id.value
        found[key] = plan_part(
            profile, part, buyer_code="554979", today=today, subject_when_unstated=subject
        )
    return found


def step_types(plan: PartPlan) -> list[str]:
    return [s.type for s in plan.steps]


# --- the two structures ----------------------------------------------------------------------


def test_the_current_structure_is_read_part_by_part() -> None:
    profile = parse_buyer_profile(current_export())
    assert profile.structures == ("current",)
    assert profile.profile_code is not None
    assert profile.profile_code.value == "60054321"
    assert profile.buyer_ico is not None
    assert profile.buyer_ico.value == "00254428"
    first, second = profile.parts[:2]
    assert (first.procurement_id.value, first.part_id and first.part_id.value) == (
        "P24V00000001",
        "P24V00000001-1",
    )
    assert first.path == "/profil/zakazka[1]/casti_vz/cast_zakazky[1]"
    assert second.path == "/profil/zakazka[1]/casti_vz/cast_zakazky[2]"
    assert len(profile.parts) == 18
    assert len(first.documents) == 8
    assert first.documents[6].contract is not None


def test_the_2016_structure_gives_each_part_of_a_divided_zakazka_its_own_procurement() -> None:
    profile = parse_buyer_profile(export_2016())
    assert profile.structures == ("2016",)
    assert [
        (p.procurement_id.value, p.part_id.value if p.part_id else None) for p in profile.parts
    ] == [
        ("P17V00000003", None),
        ("P18V00000010", "1"),
        ("P18V00000010", "2"),
        ("P19V00000005", None),
        ("P16V00000001", None),
        ("P20V00000002", None),
    ]
    whole = profile.parts[0]
    assert whole.vvz_id is not None
    assert whole.vvz_id.value == "Z2017-012345"
    assert [p.subject.ico.value for p in whole.participants if p.subject.ico] == [
        "45670005",
        "60890002",
    ]
    assert [r.year.value for r in whole.suppliers[0].payments if r.year] == ["2017", "2018"]


def test_the_structure_is_told_by_element_names_not_by_the_namespace() -> None:
    namespace = 'xmlns="urn:cz:isvz:mmr:schemas:vz-z-profilu-zadavatele:v100"'
    current = parse_buyer_profile(changed(current_export(), namespace, ""))
    old = parse_buyer_profile(changed(export_2016(), namespace, 'xmlns="urn:example:other"'))
    assert current.structures == ("current",)
    assert len(current.parts) == 18
    assert old.structures == ("2016",)
    assert len(old.parts) == 6


def test_the_2016_fixture_uses_only_what_the_2016_schema_declares_in_its_order() -> None:
    schema = etree.parse(str(DATA / "profil-zadavatele-168-2016.xsd")).getroot()
    types: dict[str, list[tuple[str, str | None]]] = {}
    for complex_type in schema.iter(f"{XS}complexType"):
        children = []
        for particle in complex_type.iter(f"{XS}element"):
            children.append((particle.get("name"), particle.get("type")))
        types[complex_type.get("name") or ""] = children

    def check(element: etree._Element, type_name: str) -> None:
        declared = types[type_name]
        names = [name for name, _ in declared]
        positions = []
        for child in element:
            if not isinstance(child.tag, str):
                continue
            local = etree.QName(child).localname
            assert local in names, f"<{local}> is not declared in {type_name}"
            position = names.index(local)
            positions.append(position)
            child_type = dict(declared)[local]
            if child_type in types and types[child_type]:
                check(child, child_type)
        assert positions == sorted(positions), f"children of {type_name} out of order"

    root = etree.parse(str(DATA / "profile-2016.xml")).getroot()
    check(root, "ProfilStructure")


# --- what each part becomes ------------------------------------------------------------------

EXPECTED_PROCEDURES = {
    "P24V00000001-1": "open",
    "P24V00000001-2": "open",
    "P25V00000007": "small_scale",  # přímé zadání
    "P23V00000004": "simplified_below_threshold",
    "P24V00000011": "restricted",
    "P24V00000012": "negotiated_with_publication",
    "P24V00000013": "negotiated_without_publication",
    "P24V00000014": "competitive_dialogue",
    "P24V00000015": "innovation_partnership",
    "P24V00000016": "concession",
    "P24V00000017": "design_contest",
    "P24V00000018": "small_scale",  # zakázka malého rozsahu
    "P24V00000019": "small_scale",  # VZMR - výzva více dodavatelům
}


@pytest.mark.parametrize(("procurement_id", "expected"), EXPECTED_PROCEDURES.items())
def test_each_procedure_kind_maps_to_its_procedure(procurement_id: str, expected: str) -> None:
    plan = plans(current_export())[procurement_id]
    assert plan.create is not None, plan.skipped
    assert plan.create.procedure == expected


def test_the_2016_kinds_map_too() -> None:
    found = plans(export_2016(), subject="services")
    assert found["P17V00000003"].create is not None
    assert found["P17V00000003"].create.procedure == "open"
    assert found["P19V00000005"].create is not None
    assert found["P19V00000005"].create.procedure == "small_scale"
    exemption = found["P20V00000002"]
    assert exemption.create is None
    assert [u.value for u in exemption.unknown] == ["zakázka zadaná na základě výjimky"]


def test_an_unknown_kind_or_state_is_reported_never_guessed() -> None:
    found = plans(current_export())
    auction = found["P25V00000022"]
    assert auction.create is None
    assert auction.skipped == "procedure kind 'elektronická licitace' is unknown"
    paused = found["P25V00000020"]
    assert paused.create is not None
    assert [(u.element, u.value, u.effect) for u in paused.unknown] == [
        ("stav_zadavaciho_postupu", "pozastaven", "imported without its state")
    ]


def test_vat_element_names_are_matched_whatever_their_case() -> None:
    upper = plans(current_export())["P25V00000007"]  # smluvni_cena_bez_DPH
    lower = plans(
        changed(
            current_export(),
            "<smluvni_cena_bez_DPH>180000.00</smluvni_cena_bez_DPH>",
            "<SMLUVNI_CENA_BEZ_dph>180000.00</SMLUVNI_CENA_BEZ_dph>",
        )
    )["P25V00000007"]
    for plan in (upper, lower):
        assert plan.create is not None
        assert plan.create.estimated_value_excl_vat == Decimal("180000.00")
    # The contract document's metadata uses lower case (smluvni_cena_bez_dph): its value is
    # read when the selected supplier states none.
    from_metadata = plans(
        changed(current_export(), "<smluvni_cena_bez_DPH>1200000.00</smluvni_cena_bez_DPH>", "")
    )["P24V00000001-1"]
    contract = next(s for s in from_metadata.steps if s.type == "contract_signed")
    assert contract.facts()["data"]["value_excl_vat"] == "1200000.00"


def test_documents_go_with_the_steps_they_belong_to() -> None:
    plan = plans(current_export())["P24V00000001-1"]
    by_type: dict[str, list[dict[str, object]]] = {}
    for s in plan.steps:
        by_type.setdefault(s.type, []).extend(s.documents)
    assert [d["title"] for d in by_type["notice_published"]] == [
        "Oznámení o zahájení zadávacího řízení"
    ]
    assert [d["title"] for d in by_type["tender_documents_published"]] == ["Zadávací dokumentace"]
    assert [d["title"] for d in by_type["clarification_published"]] == [
        "Vysvětlení č. 1",
        "Vysvětlení č. 2",
    ]
    assert [d["title"] for d in by_type["evaluation_completed"]] == ["Zpráva o hodnocení nabídek"]
    assert [d["title"] for d in by_type["selection_decided"]] == ["Oznámení o výběru dodavatele"]
    assert by_type["contract_signed"] == []  # its document is the contract_published step's
    assert [d["document_type"] for d in by_type["report_published"]] == [
        "Písemná zpráva zadavatele"
    ]


def test_what_the_export_states_without_a_moment_is_not_recorded() -> None:
    found = plans(export_2016(), subject="services")
    whole = found["P17V00000003"]
    assert step_types(whole) == [
        "tender_documents_published",
        "contract_signed",
        "contract_published",
        "report_published",
        "payment_made",
        "payment_made",
    ]
    reasons = {n.fact: n.reason for n in whole.not_recorded}
    assert reasons["the bids of 2 participants"] == (
        "the export states no bid deadline, the moment the bids were opened"
    )
    assert reasons["the selection of the supplier"].startswith("no decision on the selection")
    # The 2016 exclusion carries its reason, but no document dates the evaluation.
    assert reasons["the exclusion of 1 participants"].startswith("no evaluation document")
    part = found["P18V00000010/1"]
    assert step_types(part) == ["tender_documents_published", "contract_signed"]
    whole_zakazka = (
        "it is listed for the whole divided zakazka; the part it belongs to is not stated"
    )
    assert ("a document (contract)", whole_zakazka) in {
        (n.fact, n.reason) for n in part.not_recorded
    }
    cancelled = found["P18V00000010/2"]
    assert step_types(cancelled) == ["tender_documents_published", "cancelled"]
    assert cancelled.create is not None
    assert cancelled.create.estimated_value_excl_vat == Decimal("300000.00")


def test_a_year_not_over_is_not_paid_yet() -> None:
    plan = plans(current_export(), today=date(2025, 6, 1))["P24V00000001-1"]
    paid = [s.facts()["data"]["paid_on"] for s in plan.steps if s.type == "payment_made"]
    assert paid == ["2024-12-31"]
    assert ("a yearly payment", "the year 2025 is not over") in {
        (n.fact, n.reason) for n in plan.not_recorded
    }


def test_a_procurement_begun_before_the_act_is_skipped() -> None:
    plan = plans(current_export())["P16V00000002"]
    assert plan.create is None
    assert plan.skipped is not None
    assert "2016-05-02, before 1 October 2016" in plan.skipped


def test_the_2016_structure_needs_the_subject_named() -> None:
    plan = plans(export_2016())["P17V00000003"]
    assert plan.create is None
    assert plan.skipped is not None
    assert "states no subject" in plan.skipped
    named = plans(export_2016(), subject="works")["P17V00000003"]
    assert named.create is not None
    assert named.create.subject == "works"


def test_an_unknown_document_type_is_reported() -> None:
    plan = plans(
        changed(
            current_export(),
            "<typ_dokumentu>Písemná zpráva zadavatele</typ_dokumentu>",
            "<typ_dokumentu>Fotografie</typ_dokumentu>",
        )
    )["P24V00000001-1"]
    assert "report_published" not in step_types(plan)
    assert [(u.value, u.effect) for u in plan.unknown] == [
        ("Fotografie", "document not recorded (unknown type)")
    ]


def test_values_the_step_models_refuse_are_not_recorded_with_the_reason() -> None:
    # A bid deadline before the publication: the notice cannot be recorded as stated.
    plan = plans(
        changed(
            current_export(),
            "<datum_uverejneni>2023-05-02T08:00:00+02:00</datum_uverejneni>",
            "<datum_uverejneni>2023-05-23T08:00:00+02:00</datum_uverejneni>",
        )
    )["P23V00000004"]
    assert "notice_published" not in step_types(plan)
    assert any(
        n.fact == "notice_published" and "bid_deadline must lie after occurred_at" in n.reason
        for n in plan.not_recorded
    )


# --- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2024-06-03", datetime(2024, 6, 2, 22, tzinfo=UTC)),  # midnight in Prague (CEST)
        ("2024-01-15", datetime(2024, 1, 14, 23, tzinfo=UTC)),  # (CET)
        ("2024-06-03+02:00", datetime(2024, 6, 2, 22, tzinfo=UTC)),
        ("2024-03-11T09:00:00", datetime(2024, 3, 11, 8, tzinfo=UTC)),  # Prague time
        ("2024-03-11T09:00:00Z", datetime(2024, 3, 11, 9, tzinfo=UTC)),
        ("2023-05-22T10:00:00+02:00", datetime(2023, 5, 22, 8, tzinfo=UTC)),
        ("3. 6. 2024", datetime(2024, 6, 2, 22, tzinfo=UTC)),
        ("03.06.2024 14:30", datetime(2024, 6, 3, 12, 30, tzinfo=UTC)),
        ("June 2024", None),
        ("2024-13-01", None),
        ("31.02.2024", None),
    ],
)
def test_moments_are_read_in_prague_time(text: str, moment: datetime | None) -> None:
    assert read_moment(text) == moment


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1200000.00", Decimal("1200000.00")),
        ("4 500 000,00", Decimal("4500000.00")),
        ("4\u00a0500\u00a0000", Decimal("4500000.00")),
        ("99.5", Decimal("99.50")),
        ("-5.00", None),
        ("1.234,56", None),
        ("12.345", None),
        ("", None),
    ],
)
def test_amounts_are_read_or_reported(text: str, amount: Decimal | None) -> None:
    assert read_money(text) == amount


def test_an_ico_gets_back_the_leading_zeros_an_export_dropped() -> None:
    assert read_ico("64581") == "00064581"
    assert read_ico("00064581") == "00064581"
    assert read_ico("00064582") is None  # check digit
    assert read_ico("CZ00064581") is None


# --- hostile and broken files ------------------------------------------------------------------


def test_entity_expansion_is_refused() -> None:
    laughs = b"""<?xml version="1.0"?><!DOCTYPE profil [
      <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
      <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
      <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
      <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
      <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
    ]><profil><profil_kod>&e;</profil_kod></profil>"""
    with pytest.raises(NotXml):
        parse_buyer_profile(laughs)


def test_an_external_entity_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the secret")
    hostile = (
        f'<?xml version="1.0"?><!DOCTYPE profil [<!ENTITY s SYSTEM "{secret.as_uri()}">]>'
        "<profil><profil_kod>&s;</profil_kod></profil>"
    ).encode()
    with pytest.raises(NotXml) as refused:
        parse_buyer_profile(hostile)
    assert "the secret" not in refused.value.detail


def test_a_file_of_another_kind_is_not_a_buyer_profile() -> None:
    with pytest.raises(NotBuyerProfile):
        parse_buyer_profile(b"<dump><zaznam/></dump>")


def test_a_zakazka_of_neither_structure_is_listed_unreadable() -> None:
    profile: BuyerProfile = parse_buyer_profile(
        b"<profil><profil_kod>1</profil_kod><zakazka><nazev>x</nazev></zakazka></profil>"
    )
    assert profile.parts == ()
    assert profile.unreadable == (
        (
            "/profil/zakazka[1]",
            "neither a VZ element (2016) nor id_objektu (current structure)",
        ),
    )


def test_a_document_whose_url_is_not_http_is_reported_not_recorded() -> None:
    plan = plans(
        changed(
            current_export(),
            "<url>https://profil.abertamy.example/vz/P24V00000001/zprava.pdf</url>",
            "<url>javascript:alert(1)</url>",
        )
    )["P24V00000001-1"]
    assert "report_published" not in step_types(plan)
    assert [(u.element, u.value) for u in plan.unknown] == [("url", "javascript:alert(1)")]
    assert all("javascript" not in str(s.facts()) for s in plan.steps)


def test_names_and_titles_are_read_as_one_line_of_text() -> None:
    plan = plans(
        changed(
            current_export(),
            "<nazev_subjektu>Lampy a.s.</nazev_subjektu>",
            "<nazev_subjektu>Lampy\n   a.s.\u202e</nazev_subjektu>",
        )
    )["P24V00000001-1"]
    bids = next(s for s in plan.steps if s.type == "bids_opened").facts()["data"]["bids"]
    assert bids[1]["name"] == "Lampy a.s."
