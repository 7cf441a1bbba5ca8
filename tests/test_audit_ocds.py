"""OCDS 1.1 mapping: every procedure's full trail validates against the official 1.1.5
schema with zero errors, uses codelist values, and merges like the reference merger."""

from __future__ import annotations

import csv
import json
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
        ocds.record_package(releases, uri=URI.replace("releases", "record"), releases_uri=URI),
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
        codes("tenderStatus")
        | codes("awardStatus")
        | codes("contractStatus")
        | {"valid", "disqualified"}
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
    assert tender["procurementMethodDetails"] == "otevřené řízení"
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
