"""OCDS 1.1 mapping: every procedure's full trail validates against the official 1.1.5
schema with zero errors, uses codelist values, and merges like the reference merger."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from procurement.audit import ocds
from tests.conftest import TEST_DATA
from tests.factories_audit import PROCEDURES, START, Trail, happy_path, header
from tests.ocds_tools import BID_STATUS

SCHEMA_DIR = TEST_DATA / "ocds-1.1.5"
URI = "https://smartsteps.example/v1/procurements/ocds-smstps-554782-2026-1/ocds/releases"
STEP_TYPES = (
    "procurement_approved notice_published invitation_sent tender_documents_published "
    "clarification_published bid_deadline_extended bids_opened evaluation_completed "
    "selection_decided objection_filed objection_decided contract_signed contract_published "
    "result_notice_published contract_amended payment_made price_paid_published "
    "report_published completed cancelled"
).split()


@cache
def _schemas() -> dict[str, dict[str, Any]]:
    names = (
        "release-schema",
        "release-package-schema",
        "record-package-schema",
        "versioned-release-validation-schema",
    )
    return {name: json.loads((SCHEMA_DIR / f"{name}.json").read_text()) for name in names}


@cache
def _validator(name: str) -> Draft4Validator:
    docs = _schemas()
    registry: Registry[Any] = Registry().with_resources(
        [(d["id"], Resource.from_contents(d, default_specification=DRAFT4)) for d in docs.values()]
    )
    return Draft4Validator(docs[name], registry=registry, format_checker=FormatChecker())


def errors_of(name: str, instance: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _validator(name).iter_errors(instance)
    ]


def codes(codelist: str) -> set[str]:
    with (SCHEMA_DIR / "codelists" / f"{codelist}.csv").open() as f:
        return {row["Code"] for row in csv.DictReader(f)}


def packages(procedure: str) -> tuple[dict[str, Any], dict[str, Any]]:
    releases = ocds.build_releases(header(procedure=procedure), happy_path(procedure))
    return (
        ocds.release_package(releases, uri=URI),
        ocds.record_package(
            releases, uri=URI.replace("releases", "record"), releases_uri=URI, versioned=True
        ),
    )


def walk(value: Any, key: str) -> list[Any]:
    found: list[Any] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key:
                found.append(v)
            found += walk(v, key)
    elif isinstance(value, list):
        for item in value:
            found += walk(item, key)
    return found


@pytest.mark.parametrize("procedure", PROCEDURES)
def test_every_procedure_happy_path_validates_with_zero_errors(procedure: str) -> None:
    release_pkg, record_pkg = packages(procedure)
    assert errors_of("release-package-schema", release_pkg) == []
    assert errors_of("record-package-schema", record_pkg) == []
    versioned = record_pkg["records"][0]["versionedRelease"]
    assert errors_of("versioned-release-validation-schema", versioned) == []
    # One release for the opening plus one per step.
    assert len(release_pkg["releases"]) == len(happy_path(procedure)) + 1


@pytest.mark.parametrize("procedure", PROCEDURES)
def test_codelist_values_are_from_the_codelists(procedure: str) -> None:
    release_pkg, record_pkg = packages(procedure)
    releases = release_pkg["releases"]
    tags = {tag for release in releases for tag in release["tag"]}
    assert tags <= codes("releaseTag")
    compiled = record_pkg["records"][0]["compiledRelease"]
    assert compiled["tag"] == ["compiled"]
    assert compiled["tender"]["procurementMethod"] in codes("method")
    assert compiled["tender"]["mainProcurementCategory"] in codes("procurementCategory")
    assert set(walk(releases, "documentType")) <= codes("documentType")
    roles = {role for party in compiled["parties"] for role in party["roles"]}
    assert roles <= codes("partyRole")
    assert {s for s in walk(releases, "status") if isinstance(s, str)} <= (
        codes("tenderStatus") | codes("awardStatus") | codes("contractStatus") | BID_STATUS
    )


def test_the_tag_mapping_covers_every_step_type_with_codelist_tags() -> None:
    assert set(ocds.STEP_TAGS) == set(STEP_TYPES)
    assert set(ocds.STEP_TAGS.values()) <= codes("releaseTag")
    assert set(ocds.CORRECTION_TAGS.values()) <= codes("releaseTag")
    assert set(ocds.DOCUMENT_TYPES.values()) <= codes("documentType")
    assert {method for method, _ in ocds.PROCEDURES.values()} <= codes("method")
    assert set(ocds.PROCEDURES) == set(PROCEDURES)


def test_merge_rules_match_the_official_schema() -> None:
    from ocdsmerge.rules import get_merge_rules

    assert get_merge_rules(str(SCHEMA_DIR / "release-schema.json")) == ocds.MERGE_RULES


def test_compiled_release_says_what_happened() -> None:
    _, record_pkg = packages("open")
    compiled = record_pkg["records"][0]["compiledRelease"]
    tender = compiled["tender"]
    assert tender["procurementMethod"] == "open"
    assert tender["procurementMethodDetails"] == "otevřené řízení (podlimitní veřejná zakázka)"
    assert tender["mainProcurementCategory"] == "goods"
    assert tender["value"] == {"amount": 4500000, "currency": "CZK"}
    # the extension moved the deadline: 35 + 7 days after the notice
    assert tender["tenderPeriod"] == {
        "startDate": "2026-02-03T09:00:00Z",
        "endDate": "2026-03-17T09:00:00Z",
    }
    assert tender["numberOfTenderers"] == 3
    assert tender["items"][0]["classification"] == {"scheme": "CPV", "id": "34993000"}
    assert compiled["buyer"]["id"] == "CZ-KOD-OBCE-554782"
    parties = {p["id"]: p for p in compiled["parties"]}
    winner = parties["CZ-ICO-25596641"]
    assert winner["identifier"] == {
        "scheme": "CZ-ICO",
        "id": "25596641",
        "legalName": "Chytrá města s.r.o.",
    }
    assert winner["roles"] == ["tenderer", "supplier", "payee"]
    assert parties["CZ-KOD-OBCE-554782"]["roles"] == ["buyer", "procuringEntity", "payer"]
    (award,) = compiled["awards"]
    assert award["status"] == "active"
    assert award["value"]["amount"] == 3900000
    (contract,) = compiled["contracts"]
    assert contract["awardID"] == award["id"]
    assert contract["status"] == "terminated"
    assert contract["dateSigned"] == "2026-04-10T00:00:00Z"
    assert contract["value"]["amount"] == 4050000  # amended by +150,000
    assert [a["rationale"] for a in contract["amendments"]] == ["víceprace"]
    transactions = contract["implementation"]["transactions"]
    assert [t["value"]["amount"] for t in transactions] == [2000000, 2050000]
    assert transactions[0]["payee"]["id"] == "CZ-ICO-25596641"
    bids = {b["id"]: b["status"] for b in compiled["bids"]["details"]}
    assert bids == {
        "bid-25596641": "valid",
        "bid-27082440": "valid",
        "bid-45274649": "disqualified",
    }
    # the correction step re-states the notice with the corrected id
    notice_docs = [d for d in tender["documents"] if d["id"] == "2.0"]
    assert notice_docs[0]["title"] == "Notice Z2026-000124"


def test_compiled_and_versioned_release_equal_the_reference_merger() -> None:
    from ocdsmerge import Merger

    merger = Merger(str(SCHEMA_DIR / "release-schema.json"))
    releases = ocds.build_releases(header(), happy_path("open"))
    record = ocds.compile_record(releases, releases_uri=URI)
    assert record["compiledRelease"] == merger.create_compiled_release(releases)
    assert record["versionedRelease"] == merger.create_versioned_release(releases)


def test_procurement_with_zero_steps_has_valid_packages() -> None:
    releases = ocds.build_releases(header(), [])
    release_pkg = ocds.release_package(releases, uri=URI)
    record_pkg = ocds.record_package(releases, uri=URI, releases_uri=URI)
    assert errors_of("release-package-schema", release_pkg) == []
    assert errors_of("record-package-schema", record_pkg) == []
    assert [r["tag"] for r in release_pkg["releases"]] == [["planning"]]
    assert record_pkg["records"][0]["compiledRelease"]["tender"]["status"] == "planning"


def test_small_scale_is_limited_until_a_public_call_makes_it_open() -> None:
    invited = ocds.build_releases(header(procedure="small_scale"), happy_path("small_scale"))
    assert {r["tender"]["procurementMethod"] for r in invited} == {"limited"}
    t = Trail()
    t.add(
        "notice_published",
        START,
        channel="profile",
        notice_id="P1",
        url="https://profil.example.cz/vyzva",
        bid_deadline="2026-03-01T10:00:00Z",
    )
    called = ocds.build_releases(header(procedure="small_scale"), t.entries)
    assert [r["tender"]["procurementMethod"] for r in called] == ["limited", "open"]


def test_a_cancelled_procurement_ends_in_tender_cancellation() -> None:
    entries = happy_path("open")[:8]
    t = Trail()
    t.entries = entries
    t.leaf = len(entries)
    t.add(
        "cancelled",
        START.replace(month=5),
        reason="žádná vhodná nabídka",
        legal_basis="§ 127 odst. 2 písm. d) ZZVZ",
    )
    releases = ocds.build_releases(header(), t.entries)
    assert releases[-1]["tag"] == ["tenderCancellation"]
    package = ocds.release_package(releases, uri=URI)
    assert errors_of("release-package-schema", package) == []
    compiled = ocds.compile_record(releases, releases_uri=URI)["compiledRelease"]
    assert compiled["tender"]["status"] == "cancelled"


def test_a_release_does_not_change_when_later_steps_arrive() -> None:
    entries = happy_path("open")
    early = ocds.build_releases(header(), entries[:9])
    late = ocds.build_releases(header(), entries)
    assert late[: len(early)] == early


def test_package_dates_are_rfc3339_and_release_ids_unique() -> None:
    release_pkg, _ = packages("restricted")
    ids = [r["id"] for r in release_pkg["releases"]]
    assert len(ids) == len(set(ids))
    assert release_pkg["publishedDate"] == release_pkg["releases"][-1]["date"]
    assert all(r["date"].endswith("Z") for r in release_pkg["releases"])


def test_schema_dir_exists() -> None:
    assert Path(SCHEMA_DIR / "release-schema.json").exists()


# -- what real tools need (issue 15, item 5) -------------------------------------------------


def _ids(parties: list[dict[str, Any]]) -> set[str]:
    return {party["id"] for party in parties}


def references(release: dict[str, Any]) -> set[str]:
    """Every party id a release refers to (OrganizationReference members)."""
    found: set[str] = set()
    for key in ("buyer", "procuringEntity", "payer", "payee"):
        found |= {ref["id"] for ref in walk(release, key) if isinstance(ref, dict)}
    for key in ("tenderers", "suppliers"):
        found |= {ref["id"] for refs in walk(release, key) for ref in refs}
    return found


@pytest.mark.parametrize("procedure", PROCEDURES)
def test_every_release_names_every_party_it_refers_to(procedure: str) -> None:
    for release in ocds.build_releases(header(procedure=procedure), happy_path(procedure)):
        assert references(release) <= _ids(release.get("parties", [])), release["id"]


def test_any_window_of_releases_compiles_with_the_buyer() -> None:
    releases = ocds.build_releases(header(), happy_path("open"))
    # the steps of one month, without release 0 (as a dated export could hold them)
    window = releases[9:13]
    compiled = ocds.compile_record(window, releases_uri=URI)["compiledRelease"]
    parties = {p["id"]: p for p in compiled["parties"]}
    assert parties["CZ-KOD-OBCE-554782"]["roles"] == ["buyer", "procuringEntity"]
    assert references(compiled) <= set(parties)


def test_release_dates_are_compared_as_moments_and_written_alike() -> None:
    t = Trail()
    first = t.add("procurement_approved", START, body="council", resolution_id="R/1")
    second = t.add(
        "notice_published",
        START,
        channel="vvz",
        notice_id="Z1",
        url="https://vvz.example.cz/Z1",
        bid_deadline="2026-03-20T10:00:00Z",
    )
    # opened at 48.5 s; logged at 48.97 s and at 49 s of the same minute
    opened = datetime(2026, 2, 2, 9, 0, 48, 500000, tzinfo=UTC)
    first["recorded_at"] = "2026-02-02T09:00:48.97Z"
    second["recorded_at"] = "2026-02-02T09:00:49Z"
    releases = ocds.build_releases(header(created_at=opened), t.entries)
    dates = [release["date"] for release in releases]
    assert dates == [
        "2026-02-02T09:00:48.500000Z",
        "2026-02-02T09:00:48.970000Z",
        "2026-02-02T09:00:49.000000Z",
    ]
    # what ocdsmerge does (it sorts the date strings) gives the order of the moments
    assert sorted(dates) == dates


def test_a_release_never_goes_back_in_time() -> None:
    t = Trail()
    t.add("procurement_approved", START, body="council", resolution_id="R/1")
    t.entries[0]["recorded_at"] = "2026-01-01T00:00:00Z"  # before the procurement was opened
    opened = START - timedelta(days=5)
    releases = ocds.build_releases(header(created_at=opened), t.entries)
    assert releases[1]["date"] == releases[0]["date"] == ocds.release_date(opened)


def test_a_correction_of_an_amount_keeps_its_currency() -> None:
    entries = happy_path("open")[:13]  # up to the contract
    t = Trail()
    t.entries, t.leaf = entries, len(entries)
    signed = next(e for e in entries if e["type"] == "contract_signed")
    t.add(
        "correction",
        START.replace(month=6),
        corrects_seq=signed["seq"],
        reason="překlep",
        corrected={"value_excl_vat": "3950000.00"},
    )
    correction = ocds.build_releases(header(), t.entries)[-1]
    assert correction["tag"] == ["contractUpdate"]
    assert correction["contracts"][0]["value"] == {"amount": 3950000, "currency": "CZK"}
    assert all(set(value) == {"amount", "currency"} for value in walk(correction, "value"))


@pytest.mark.parametrize("procedure", PROCEDURES)
def test_no_party_has_an_empty_list_of_roles(procedure: str) -> None:
    releases = ocds.build_releases(header(procedure=procedure), happy_path(procedure))
    record = ocds.compile_record(releases, releases_uri=URI)
    for party in walk([releases, record["compiledRelease"]], "parties"):
        for item in party:
            assert item.get("roles", ["absent"]) != []


def test_invited_suppliers_are_invited_bids_and_parties_without_a_role() -> None:
    releases = ocds.build_releases(header(procedure="small_scale"), happy_path("small_scale"))
    invitation = releases[2]
    assert [(b["id"], b["status"]) for b in invitation["bids"]["details"]] == [
        ("bid-25596641", "invited"),
        ("bid-27082440", "invited"),
        ("bid-45274649", "invited"),
    ]
    invited = {p["id"]: p for p in invitation["parties"]}
    assert "roles" not in invited["CZ-ICO-25596641"]
    assert invited["CZ-ICO-25596641"]["name"] == "Chytrá města s.r.o."
    compiled = ocds.compile_record(releases, releases_uri=URI)["compiledRelease"]
    # the invitees then bid: their bids were opened (pending) and evaluated
    assert {b["id"]: b["status"] for b in compiled["bids"]["details"]} == {
        "bid-25596641": "valid",
        "bid-27082440": "valid",
        "bid-45274649": "disqualified",
    }


def test_approval_documents_are_in_planning_only() -> None:
    approval = ocds.build_releases(header(), happy_path("open"))[1]
    assert [d["title"] for d in approval["planning"]["documents"]] == ["usneseni"]
    assert "documents" not in approval["tender"]
    _, record_pkg = packages("open")
    compiled = record_pkg["records"][0]["compiledRelease"]
    planning_ids = {d["id"] for d in compiled["planning"]["documents"]}
    assert planning_ids.isdisjoint(d["id"] for d in compiled["tender"]["documents"])


def _compiled(entries: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    releases = ocds.build_releases(header(**overrides), entries)
    compiled: dict[str, Any] = ocds.compile_record(releases, releases_uri=URI)["compiledRelease"]
    return compiled


def test_a_clarification_keeps_its_url() -> None:
    t = Trail()
    t.add(
        "clarification_published",
        START,
        summary="Odpověď na dotaz",
        url="https://profil.example.cz/vysvetleni-1.pdf",
    )
    (document,) = _compiled(t.entries)["tender"]["documents"]
    assert document["url"] == "https://profil.example.cz/vysvetleni-1.pdf"
    assert document["documentType"] == "clarifications"
    assert document["description"] == "Odpověď na dotaz"


def test_exclusions_keep_their_reasons() -> None:
    compiled = _compiled(happy_path("open"))
    excluded = next(b for b in compiled["bids"]["details"] if b["status"] == "disqualified")
    assert excluded["tenderers"][0]["id"] == "CZ-ICO-45274649"
    assert [d["description"] for d in excluded["documents"]] == ["kvalifikace"]
    assert excluded["documents"][0]["documentType"] == "evaluationReports"


def test_resolution_ids_are_kept() -> None:
    entries = happy_path("open")
    selection = next(e for e in entries if e["type"] == "selection_decided")
    selection["data"]["resolution_id"] = "RM 12/2026"
    compiled = _compiled(entries)
    assert "R/12" in compiled["planning"]["rationale"]
    assert compiled["awards"][0]["description"] == "Selected by resolution RM 12/2026"
    assert compiled["awards"][0]["relatedBid"] == "bid-25596641"


@pytest.mark.parametrize(
    ("form", "description"), [("order", "Order (objednávka)"), ("contract", "Contract (smlouva)")]
)
def test_the_contract_form_is_kept(form: str, description: str) -> None:
    entries = happy_path("small_scale")
    signed = next(e for e in entries if e["type"] == "contract_signed")
    signed["data"]["form"] = form
    assert _compiled(entries, procedure="small_scale")["contracts"][0]["description"] == description


@pytest.mark.parametrize(
    ("procedure", "regime", "details"),
    [
        ("open", "above_threshold", "otevřené řízení (nadlimitní veřejná zakázka)"),
        (
            "simplified_below_threshold",
            "small_scale",
            "zjednodušené podlimitní řízení (veřejná zakázka malého rozsahu)",
        ),
        ("small_scale", "small_scale", "veřejná zakázka malého rozsahu"),
    ],
)
def test_the_regime_is_named_with_the_procedure(procedure: str, regime: str, details: str) -> None:
    compiled = _compiled([], procedure=procedure, regime=regime)
    assert compiled["tender"]["procurementMethodDetails"] == details


def test_external_ids_are_documents_of_the_opening_release() -> None:
    external = {
        "buyer_profile": "https://profil.example.cz/vz/17",
        "vvz": "Z2026-000123",
        "ted": "2026/S 012-034567",
        "nen": "N006/26/V00001234",
        "contract_register": "12345678",
    }
    releases = ocds.build_releases(header(external_ids=external), happy_path("open"))
    documents = {d["id"]: d for d in releases[0]["tender"]["documents"]}
    assert documents == {
        "external-buyer_profile": {
            "id": "external-buyer_profile",
            "documentType": "tenderNotice",
            "title": "Profil zadavatele",
            "url": "https://profil.example.cz/vz/17",
        },
        "external-vvz": {
            "id": "external-vvz",
            "documentType": "tenderNotice",
            "title": "Věstník veřejných zakázek: Z2026-000123",
        },
        "external-ted": {
            "id": "external-ted",
            "documentType": "tenderNotice",
            "title": "Tenders Electronic Daily: 2026/S 012-034567",
        },
        "external-nen": {
            "id": "external-nen",
            "documentType": "tenderNotice",
            "title": "Národní elektronický nástroj: N006/26/V00001234",
        },
        "external-contract_register": {
            "id": "external-contract_register",
            "documentType": "contractSigned",
            "title": "Registr smluv: 12345678",
        },
    }
    compiled = ocds.compile_record(releases, releases_uri=URI)["compiledRelease"]
    assert set(documents) <= {d["id"] for d in compiled["tender"]["documents"]}
    assert "relatedProcesses" not in compiled


def test_an_id_of_another_system_keeps_its_key() -> None:
    releases = ocds.build_releases(header(external_ids={"profile_part": "P17-2"}), [])
    assert releases[0]["tender"]["documents"] == [
        {"id": "external-profile_part", "title": "profile_part: P17-2"}
    ]


def test_the_legal_ground_is_the_method_rationale() -> None:
    compiled = _compiled(
        happy_path("negotiated_without_publication"),
        procedure="negotiated_without_publication",
        legal_ground="§ 63 odst. 3 písm. b) ZZVZ",
    )
    assert compiled["tender"]["procurementMethod"] == "limited"
    assert compiled["tender"]["procurementMethodRationale"] == "§ 63 odst. 3 písm. b) ZZVZ"
    assert "procurementMethodRationale" not in _compiled([])["tender"]


def test_the_buyer_is_identified_by_its_ico_when_the_register_gives_it() -> None:
    compiled = _compiled(happy_path("open"), buyer_ico="00254657")
    assert compiled["buyer"]["id"] == "CZ-ICO-00254657"
    parties = {p["id"]: p for p in compiled["parties"]}
    buyer = parties["CZ-ICO-00254657"]
    assert buyer["identifier"] == {"scheme": "CZ-ICO", "id": "00254657"}
    assert buyer["additionalIdentifiers"] == [{"scheme": "CZ-KOD-OBCE", "id": "554782"}]
    assert buyer["roles"] == ["buyer", "procuringEntity", "payer"]
    assert "CZ-KOD-OBCE-554782" not in parties
    payer = compiled["contracts"][0]["implementation"]["transactions"][0]["payer"]
    assert payer["id"] == "CZ-ICO-00254657"
    # without it, the municipality code
    assert _compiled([])["buyer"]["id"] == "CZ-KOD-OBCE-554782"


def test_packages_carry_the_publication_settings() -> None:
    releases = ocds.build_releases(header(), [])
    publication = ocds.Publication(
        publisher="Obec Příklad",
        license="https://creativecommons.org/licenses/by/4.0/",
        publication_policy="https://obec.example.cz/ocds-policy",
    )
    for package in (
        ocds.release_package(releases, uri=URI, publication=publication),
        ocds.record_package(releases, uri=URI, releases_uri=URI, publication=publication),
    ):
        assert package["publisher"] == {"name": "Obec Příklad"}
        assert package["license"] == "https://creativecommons.org/licenses/by/4.0/"
        assert package["publicationPolicy"] == "https://obec.example.cz/ocds-policy"


def test_objections_name_the_objector_and_notices_their_channel() -> None:
    entries = happy_path("open")
    evaluation = next(e for e in entries if e["type"] == "evaluation_completed")
    evaluation["data"]["summary"] = "Hodnoceno podle ceny"
    documents = {d["id"]: d for d in _compiled(entries)["tender"]["documents"]}
    objection = next(d for d in documents.values() if d.get("title") == "Objection")
    assert objection["description"] == "Alza.cz a.s. (IČO 27082440): cena"
    assert documents["2.0"]["description"] == "Published in: Věstník veřejných zakázek"
    evaluated = next(d for d in documents.values() if d.get("title") == "Evaluation")
    assert evaluated["description"] == "Hodnoceno podle ceny"
    assert evaluated["documentType"] == "evaluationReports"
