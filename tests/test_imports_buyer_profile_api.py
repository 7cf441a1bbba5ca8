"""POST /v1/imports/buyer-profile: a buyer profile export into the trail, over HTTP, on
SQLite and PostgreSQL: what is created, the source on every step, dry runs, who may import,
bad files, and that imports are idempotent and append-only."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import create_app
from api.auth import Role
from api.settings import Settings
from catalogue.models import Municipality
from procurement.ledger import verify
from tests.conftest import MakeKey, TestDatabase
from tests.factories_imports import (
    BUYER_ICO,
    XML,
    changed,
    current_export,
    export_2016,
    item,
    post_import,
    steps_of,
    tree_size,
)
from tests.factories_procurement import (
    BUYER,
    OTHER_BUYER,
    at,
    create_procurement,
    post_step,
    step,
)

IMPORTED = 14  # parts of current.xml that become procurements (4 are skipped)
STEPS = 12 + 4 + 2 + 4 + 10  # zakazka 1 (parts 1 and 2), 2, 3, then one contract each


@pytest.fixture
def officer(make_key: MakeKey) -> dict[str, str]:
    return make_key(Role.officer, municipality_code=BUYER)


def test_import_creates_a_procurement_per_part_with_the_steps_it_proves(
    client: TestClient, officer: dict[str, str]
) -> None:
    report = post_import(client, officer, current_export())
    assert (report["parts"], report["created"], report["skipped"]) == (18, IMPORTED, 4)
    assert report["structures"] == ["current"]
    assert report["steps_recorded"] == STEPS
    first = item(report, "P24V00000001", "P24V00000001-1")
    assert first["outcome"] == "created"
    procurement = client.get(f"/v1/procurements/{first['ocid']}").json()
    assert procurement["procedure"] == "open"
    assert procurement["subject"] == "services"
    assert procurement["started_on"] == "2024-03-11"
    assert procurement["estimated_value_excl_vat"] == "1200000.00"
    assert procurement["regime"] == "small_scale"  # 1.2 M CZK services in March 2024
    assert procurement["external_ids"] == {
        "buyer_profile_code": "60054321",
        "buyer_profile_procurement_id": "P24V00000001",
        "buyer_profile_part_id": "P24V00000001-1",
    }
    assert "estimated_value_excl_vat is the contract value" in procurement["description"]
    steps = steps_of(client, first["ocid"])
    assert [s["type"] for s in steps] == [
        "notice_published",
        "tender_documents_published",
        "clarification_published",
        "clarification_published",
        "bids_opened",
        "evaluation_completed",
        "selection_decided",
        "contract_signed",
        "contract_published",
        "report_published",
        "payment_made",
        "payment_made",
    ]
    by_type = {s["type"]: s for s in steps}
    assert by_type["notice_published"]["occurred_at"] == "2024-03-11T08:00:00Z"
    assert by_type["notice_published"]["data"]["bid_deadline"] == "2024-04-15T08:00:00Z"
    assert by_type["bids_opened"]["occurred_at"] == "2024-04-15T08:00:00Z"
    assert [b["price_excl_vat"] for b in by_type["bids_opened"]["data"]["bids"]] == [
        "1200000.00",
        "1350000.00",
        "600000.00",
    ]
    assert by_type["evaluation_completed"]["data"]["excluded"][0]["ico"] == "60890002"
    contract = by_type["contract_signed"]["data"]
    assert (contract["supplier_ico"], contract["value_excl_vat"], contract["signed_on"]) == (
        "27100006",
        "1200000.00",
        "2024-06-03",
    )
    payments = [s["data"] for s in steps if s["type"] == "payment_made"]
    assert payments == [
        {"amount_excl_vat": "700000.00", "paid_on": "2024-12-31"},
        {"amount_excl_vat": "500000.00", "paid_on": "2025-12-31"},
    ]
    documents = by_type["contract_published"]["documents"]
    assert documents == [
        {
            "title": "Smlouva",
            "url": "https://profil.abertamy.example/vz/P24V00000001/smlouva.pdf",
            "document_type": "Smlouva",
            "published_at": "2024-06-10T06:00:00Z",
        }
    ]
    # Nothing the export does not state: no approval, no completion without a date.
    assert "procurement_approved" not in by_type
    assert "completed" not in by_type


def test_a_cancelled_part_gets_its_cancellation_and_its_value_from_the_bid(
    client: TestClient, officer: dict[str, str]
) -> None:
    report = post_import(client, officer, current_export())
    cancelled = item(report, "P24V00000001", "P24V00000001-2")
    procurement = client.get(f"/v1/procurements/{cancelled['ocid']}").json()
    assert procurement["status"] == "cancelled"
    assert procurement["estimated_value_excl_vat"] == "900000.00"
    assert "the highest bid" in procurement["description"]
    last = steps_of(client, cancelled["ocid"])[-1]
    assert last["type"] == "cancelled"
    assert last["occurred_at"] == "2024-05-05T22:00:00Z"  # 6 May 2024 in Prague
    assert last["documents"][0]["title"] == "Oznámení o zrušení zadávacího řízení"


def test_each_step_records_where_it_comes_from_in_its_ledger_entry(
    client: TestClient, officer: dict[str, str]
) -> None:
    data = current_export()
    report = post_import(client, officer, data)
    ocid = item(report, "P24V00000001", "P24V00000001-1")["ocid"]
    contract = next(s for s in steps_of(client, ocid) if s["type"] == "contract_signed")
    one = client.get(f"/v1/procurements/{ocid}/steps/{contract['seq']}").json()
    part = "/profil/zakazka[1]/casti_vz/cast_zakazky[1]/zadavaci_postup_casti[1]"
    assert one["imported_from"] == {
        "kind": "buyer_profile",
        "file_sha256": hashlib.sha256(data).hexdigest(),
        "path": f"{part}/vybrani_dodavatele/vybrany_dodavatel[1]/subjekt",
        "dated_by": f"{part}/datum_uzavreni_smlouvy",
        "key": "contract_signed",
    }
    # The steps export gives each entry byte for byte: the source is part of what is hashed.
    lines = client.get("/v1/exports/steps", params={"format": "jsonl"}).text.splitlines()
    exported = [line for line in lines if json.loads(line)["ocid"] == ocid]
    entry = json.loads(exported[contract["seq"] - 1])
    assert entry["imported_from"] == one["imported_from"]
    assert hashlib.sha256(exported[contract["seq"] - 1].encode()).hexdigest() == one["entry_hash"]
    # The CSV export names the source too, as JSON (empty for steps posted through the API).
    table = list(csv.DictReader(io.StringIO(client.get("/v1/exports/steps?format=csv").text)))
    rows = {int(row["seq"]): row for row in table if row["ocid"] == ocid}
    assert json.loads(rows[contract["seq"]]["imported_from"]) == one["imported_from"]
    # A step posted through the API has no source: an empty cell.
    own = create_procurement(client, officer)
    post_step(
        client,
        officer,
        own,
        step("procurement_approved", at("2026-02-01"), body="council", resolution_id="R/1"),
    )
    table = list(csv.DictReader(io.StringIO(client.get("/v1/exports/steps?format=csv").text)))
    assert [row["imported_from"] for row in table if row["ocid"] == own] == [""]


def test_a_step_the_order_rules_would_refuse_carries_its_order_note(
    client: TestClient, officer: dict[str, str]
) -> None:
    report = post_import(client, officer, current_export())
    direct = item(report, "P25V00000007")
    assert direct["order_notes"] == [
        "contract_signed: 'contract_signed' needs selection_decided recorded first."
    ]
    contract = steps_of(client, direct["ocid"])[0]
    assert contract["type"] == "contract_signed"
    assert contract["imported_from"]["order_note"] == (
        "'contract_signed' needs selection_decided recorded first."
    )


def test_posting_a_step_out_of_order_is_still_409(
    client: TestClient, officer: dict[str, str]
) -> None:
    ocid = create_procurement(
        client, officer, procedure="small_scale", estimated_value_excl_vat="100000.00"
    )
    body = step(
        "contract_signed",
        at("2026-02-01"),
        supplier_ico="27100006",
        supplier_name="A",
        value_excl_vat="100000.00",
        signed_on="2026-02-01",
    )
    response = client.post(f"/v1/procurements/{ocid}/steps", json=body, headers=officer)
    assert response.status_code == 409
    assert response.json()["missing"] == ["selection_decided"]


def test_the_report_lists_unknown_values_and_skipped_parts(
    client: TestClient, officer: dict[str, str]
) -> None:
    report = post_import(client, officer, current_export())
    unknown = {(u["element"], u["value"]): u["effect"] for u in report["unknown_values"]}
    assert unknown[("stav_zadavaciho_postupu", "pozastaven")] == "imported without its state"
    assert unknown[("druh_zadavaciho_postupu", "elektronická licitace")].startswith("part skipped")
    assert unknown[("druh_zadavaciho_postupu", "zjednodušený režim")].startswith("part skipped")
    old = item(report, "P16V00000002")
    assert old["outcome"] == "skipped"
    assert "zákon č. 137/2006 Sb." in old["reason"]
    assert "no value" in item(report, "P25V00000023")["reason"]
    assert item(report, "P25V00000020")["outcome"] == "created"
    facts = {(n["fact"], n["reason"]) for n in report["not_recorded"]}
    assert (
        "completed (performance ended)",
        "the export says the contract was performed but not when",
    ) in facts


def test_a_dry_run_reports_and_writes_nothing(client: TestClient, officer: dict[str, str]) -> None:
    report = post_import(client, officer, current_export(), dry_run="true")
    assert report["dry_run"] is True
    assert (report["created"], report["steps_recorded"]) == (IMPORTED, STEPS)
    assert all(i["ocid"] is None for i in report["items"])
    assert report["checkpoint_tree_size"] is None
    listed = client.get("/v1/procurements", params={"buyer_code": BUYER}).json()
    assert listed["items"] == []
    assert tree_size(client) == 0
    # ... and the real import afterwards does what the dry run said.
    real = post_import(client, officer, current_export())
    assert (real["created"], real["steps_recorded"]) == (IMPORTED, STEPS)


def test_after_the_import_a_signed_checkpoint_covers_its_entries(
    client: TestClient, officer: dict[str, str], make_key: MakeKey
) -> None:
    report = post_import(client, officer, current_export())
    assert report["checkpoint_tree_size"] == STEPS
    assert tree_size(client) == STEPS
    verified = client.get("/v1/ledger/verify", headers=make_key(Role.auditor))
    assert verified.status_code == 200, verified.text
    assert verified.json()["ok"] is True


def test_the_same_file_again_writes_nothing(client: TestClient, officer: dict[str, str]) -> None:
    post_import(client, officer, current_export())
    before = tree_size(client)
    again = post_import(client, officer, current_export())
    assert (again["created"], again["appended"], again["unchanged"]) == (0, 0, IMPORTED)
    assert (again["steps_recorded"], again["steps_unchanged"]) == (0, STEPS)
    assert again["conflicts"] == []
    assert again["checkpoint_tree_size"] is None
    assert tree_size(client) == before
    assert (
        client.get("/v1/procurements", params={"buyer_code": BUYER, "limit": 200})
        .json()["items"]
        .__len__()
        == IMPORTED
    )


def test_a_newer_export_appends_only_what_is_new(
    client: TestClient, officer: dict[str, str]
) -> None:
    first = post_import(client, officer, current_export())
    ocid = item(first, "P24V00000001", "P24V00000001-1")["ocid"]
    clarification = """            <dokument>
              <url>https://profil.abertamy.example/vz/P24V00000001/vysvetleni-3.pdf</url>
              <typ_dokumentu>Vysvětlení zadávací dokumentace</typ_dokumentu>
              <jiny_dokument_nazev>Vysvětlení č. 3</jiny_dokument_nazev>
              <cas_vlozeni_na_profil>2024-04-02T14:00:00</cas_vlozeni_na_profil>
            </dokument>
            <dokument>
              <url>https://profil.abertamy.example/vz/P24V00000001/hodnoceni.pdf</url>"""
    newer = changed(
        current_export(),
        """            <dokument>
              <url>https://profil.abertamy.example/vz/P24V00000001/hodnoceni.pdf</url>""",
        clarification,
    )
    before = tree_size(client)
    report = post_import(client, officer, newer)
    assert (report["created"], report["appended"], report["unchanged"]) == (0, 1, IMPORTED - 1)
    assert report["steps_recorded"] == 1
    assert report["conflicts"] == []
    assert tree_size(client) == before + 1
    last = steps_of(client, ocid)[-1]
    assert last["type"] == "clarification_published"
    assert last["data"]["summary"] == "Vysvětlení č. 3"
    assert last["seq"] == 13  # appended after the trail, never inserted into it


def test_a_contradicting_export_is_a_conflict_and_rewrites_nothing(
    client: TestClient, officer: dict[str, str]
) -> None:
    first = post_import(client, officer, current_export())
    ocid = item(first, "P25V00000007")["ocid"]
    contradicting = changed(
        current_export(),
        "<smluvni_cena_bez_DPH>180000.00</smluvni_cena_bez_DPH>",
        "<smluvni_cena_bez_DPH>195000.00</smluvni_cena_bez_DPH>",
    )
    before = tree_size(client)
    steps_before = steps_of(client, ocid)
    report = post_import(client, officer, contradicting)
    contract = steps_before[0]
    assert {(c["member"], c["trail"], c["export"], c["seq"]) for c in report["conflicts"]} == {
        ("data.value_excl_vat", "180000.00", "195000.00", contract["seq"]),
        ("estimated_value_excl_vat", "180000.00", "195000.00", None),
    }
    assert all(c["ocid"] == ocid for c in report["conflicts"])
    assert item(report, "P25V00000007")["conflicts"] == 2
    assert report["steps_recorded"] == 0
    assert tree_size(client) == before
    assert steps_of(client, ocid) == steps_before
    assert client.get(f"/v1/procurements/{ocid}").json()["estimated_value_excl_vat"] == (
        "180000.00"
    )


def test_a_part_the_service_refuses_is_skipped_and_the_others_are_written(
    client: TestClient, officer: dict[str, str]
) -> None:
    # A direct award (small-scale procedure) of 2.5 M CZK supplies in February 2025 lies
    # above the small-scale limit of its day (2 M): the service refuses to open it.
    refused = changed(
        current_export(),
        "<smluvni_cena_bez_DPH>180000.00</smluvni_cena_bez_DPH>",
        "<smluvni_cena_bez_DPH>2500000.00</smluvni_cena_bez_DPH>",
    )
    report = post_import(client, officer, refused)
    direct = item(report, "P25V00000007")
    assert (direct["outcome"], direct["ocid"], direct["steps_recorded"]) == ("skipped", None, 0)
    assert "only for small_scale contracts" in direct["reason"]
    assert (report["created"], report["steps_recorded"]) == (IMPORTED - 1, STEPS - 2)
    assert tree_size(client) == STEPS - 2
    listed = client.get("/v1/procurements", params={"buyer_code": BUYER, "limit": 200}).json()
    assert len(listed["items"]) == IMPORTED - 1


def test_the_2016_structure_imports_with_the_subject_named(
    client: TestClient, officer: dict[str, str]
) -> None:
    without = post_import(client, officer, export_2016(), dry_run="true")
    assert without["structures"] == ["2016"]
    assert without["created"] == 0
    reasons = [i["reason"] for i in without["items"]]
    assert sum("states no subject" in r for r in reasons) == 5  # all but the exemption
    report = post_import(client, officer, export_2016(), subject="services")
    assert report["created"] == 4
    whole = item(report, "P17V00000003")
    procurement = client.get(f"/v1/procurements/{whole['ocid']}").json()
    assert procurement["external_ids"]["vvz"] == "Z2017-012345"
    assert procurement["subject"] == "services"
    types = [s["type"] for s in steps_of(client, whole["ocid"])]
    assert types == [
        "tender_documents_published",
        "contract_signed",
        "contract_published",
        "report_published",
        "payment_made",
        "payment_made",
    ]


def test_the_trail_of_an_import_reads_as_any_other(
    client: TestClient, officer: dict[str, str]
) -> None:
    report = post_import(client, officer, current_export())
    for entry in report["items"]:
        if entry["ocid"] is None:
            continue
        ocid = entry["ocid"]
        timeline = client.get(f"/v1/procurements/{ocid}/timeline")
        assert timeline.status_code == 200
        assert all(s["imported_from"]["kind"] == "buyer_profile" for s in timeline.json()["steps"])
        assert client.get(f"/v1/procurements/{ocid}/ocds/record").status_code == 200
    assert client.get("/v1/red-flags", params={"buyer": BUYER}).status_code == 200


def test_an_imported_entry_verifies_offline_on_the_fast_path(
    client: TestClient, officer: dict[str, str]
) -> None:
    post_import(client, officer, current_export())
    lines = client.get("/v1/exports/ledger").content.splitlines(keepends=True)
    entries = [line for line in lines if line.startswith(b'{"leaf_index":')]
    assert len(entries) == STEPS
    assert all(b'"imported_from":' in line for line in entries)
    # The canonical tail of chain members the fast reading matches is intact.
    assert all(verify._CHAIN.search(line) for line in entries)
    report = verify.verify_export(lines)
    assert report.entries == STEPS


# --- who may import, and what is refused -------------------------------------------------


def test_an_officer_of_another_town_is_403(client: TestClient, make_key: MakeKey) -> None:
    other = make_key(Role.officer, municipality_code=OTHER_BUYER)
    response = client.post(
        "/v1/imports/buyer-profile",
        params={"buyer": BUYER},
        content=current_export(),
        headers={**XML, **other},
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/procurements").json()["items"] == []


def test_an_auditor_may_not_import(client: TestClient, make_key: MakeKey) -> None:
    post_import(client, make_key(Role.auditor), current_export(), expect=403)


def test_an_admin_imports_for_any_town(client: TestClient, make_key: MakeKey) -> None:
    report = post_import(client, make_key(Role.admin), current_export())
    assert report["created"] == IMPORTED


@pytest.mark.parametrize(
    ("body", "content_type", "status", "says"),
    [
        (b"not xml at all", "application/xml", 422, "not well-formed XML"),
        (b"<profil><zakazka>", "application/xml", 422, "not well-formed XML"),
        (b"", "application/xml", 422, "empty"),
        (b"<smlouvy/>", "text/xml", 422, "not <profil>"),
        (b"<profil/>", "application/xml", 422, "not a buyer profile"),
        (b"<profil><profil_kod>1</profil_kod></profil>", "text/plain", 415, "application/xml"),
    ],
)
def test_a_file_that_is_not_a_buyer_profile_is_refused(
    client: TestClient,
    officer: dict[str, str],
    body: bytes,
    content_type: str,
    status: int,
    says: str,
) -> None:
    response = client.post(
        "/v1/imports/buyer-profile",
        params={"buyer": BUYER},
        content=body,
        headers={"Content-Type": content_type, **officer},
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert says in response.json()["detail"]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE profil [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
]>
<profil><profil_kod>&g;</profil_kod><zadavatel><nazev_zadavatele>&g;</nazev_zadavatele>
</zadavatel></profil>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE profil [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<profil><profil_kod>&secret;</profil_kod><zadavatel><nazev_zadavatele>&secret;</nazev_zadavatele>
</zadavatel></profil>"""


@pytest.mark.parametrize("hostile", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "xxe"])
def test_entities_are_refused(client: TestClient, officer: dict[str, str], hostile: bytes) -> None:
    response = client.post(
        "/v1/imports/buyer-profile",
        params={"buyer": BUYER},
        content=hostile,
        headers={**XML, **officer},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "aaaaaaaa" not in response.text
    assert client.get("/v1/procurements").json()["items"] == []


def test_another_buyers_export_is_refused_when_the_town_has_an_ico(
    client: TestClient, officer: dict[str, str], session: Session
) -> None:
    town = session.get(Municipality, BUYER)
    assert town is not None
    town.ico = "00254401"
    session.add(town)
    session.commit()
    response = client.post(
        "/v1/imports/buyer-profile",
        params={"buyer": BUYER},
        content=current_export(),
        headers={**XML, **officer},
    )
    assert response.status_code == 422, response.text
    assert f"IČO {BUYER_ICO}" in response.json()["detail"]
    assert response.json()["errors"][0]["pointer"] == "/profil/zadavatel/ico_zadavatele"
    town.ico = BUYER_ICO
    session.add(town)
    session.commit()
    assert post_import(client, officer, current_export())["created"] == IMPORTED


def test_an_unknown_buyer_is_422(client: TestClient, make_key: MakeKey) -> None:
    response = client.post(
        "/v1/imports/buyer-profile",
        params={"buyer": "999999"},
        content=current_export(),
        headers={**XML, **make_key(Role.admin)},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "in": "query",
        "pointer": "/buyer",
        "detail": "not a municipality of the register",
    }


def test_a_body_over_the_limit_is_413(
    settings: Settings, database: TestDatabase, officer: dict[str, str]
) -> None:
    small: FastAPI = create_app(settings.model_copy(update={"body_limit_bytes": 4096}), database)
    with TestClient(small) as client:
        response = client.post(
            "/v1/imports/buyer-profile",
            params={"buyer": BUYER},
            content=current_export(),
            headers={**XML, **officer},
        )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
