"""Procurements and steps over HTTP: creation, scope, regime, ocids, order rules, reads."""

from __future__ import annotations

import hashlib
import json

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from api.auth import Role
from tests.conftest import MakeKey
from tests.factories_procurement import (
    BUYER,
    OTHER_BUYER,
    approved,
    at,
    bids,
    create_procurement,
    invitation,
    post_step,
    procurement_body,
    selection,
    step,
)


def test_officer_creates_procurement_for_own_municipality(
    client: TestClient, make_key: MakeKey
) -> None:
    officer = make_key(Role.officer, municipality_code=BUYER)
    response = client.post("/v1/procurements", json=procurement_body(), headers=officer)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["ocid"].startswith(f"ocds-smstps-{BUYER}-")
    assert body["regime"] == "below_threshold"
    assert body["status"] == "planned"
    assert body["estimated_value_excl_vat"] == "3500000.00"
    assert body["cpv"] == ["34993000-4"]
    assert response.headers["location"] == f"/v1/procurements/{body['ocid']}"
    read = client.get(f"/v1/procurements/{body['ocid']}")
    assert read.status_code == 200
    assert read.json() == body


def test_officer_of_another_municipality_gets_403(client: TestClient, make_key: MakeKey) -> None:
    officer = make_key(Role.officer, municipality_code=OTHER_BUYER)
    response = client.post("/v1/procurements", json=procurement_body(), headers=officer)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_auditor_may_not_create(client: TestClient, make_key: MakeKey) -> None:
    auditor = make_key(Role.auditor)
    assert (
        client.post("/v1/procurements", json=procurement_body(), headers=auditor).status_code == 403
    )


def test_ocid_numbers_count_per_buyer(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    first = create_procurement(client, admin)
    second = create_procurement(client, admin)
    other = create_procurement(client, admin, buyer_code=OTHER_BUYER)
    n1, n2 = int(first.rsplit("-", 1)[1]), int(second.rsplit("-", 1)[1])
    assert n2 == n1 + 1
    assert other.endswith("-1") or other.split("-")[3] == OTHER_BUYER


def test_regime_from_value_and_subject(client: TestClient, make_key: MakeKey) -> None:
    """Today's law (since 3 April 2025: 3,000,000 / 9,000,000 CZK, § 27 as amended by zákon
    č. 69/2025 Sb.; EU threshold for municipalities 5,401,000 CZK)."""
    admin = make_key(Role.admin)
    cases = [
        ("supplies", "3000000.00", "small_scale"),
        ("supplies", "3000000.01", "below_threshold"),
        ("works", "9000000.00", "small_scale"),
        ("works", "9000000.01", "below_threshold"),
        ("services", "5400999.99", "below_threshold"),
        ("services", "5401000.00", "above_threshold"),
    ]
    for subject, value, regime in cases:
        response = client.post(
            "/v1/procurements",
            json=procurement_body(
                subject=subject, estimated_value_excl_vat=value, procedure="open"
            ),
            headers=admin,
        )
        assert response.status_code == 201, response.text
        assert response.json()["regime"] == regime, (subject, value)


def test_small_scale_procedure_above_the_limit_is_422(
    client: TestClient, make_key: MakeKey
) -> None:
    admin = make_key(Role.admin)
    response = client.post(
        "/v1/procurements",
        json=procurement_body(procedure="small_scale", estimated_value_excl_vat="3500000"),
        headers=admin,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/procedure"
    assert "3000000 CZK" in response.json()["detail"]


def test_bad_values_are_422_with_pointers(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    cases = {
        "/cpv/0": {"cpv": ["3499300-4"]},
        "/buyer_code": {"buyer_code": "55497"},
        "/estimated_value_excl_vat": {"estimated_value_excl_vat": "-1"},
        "/external_ids/buyer_profile": {"external_ids": {"buyer_profile": "ftp://x.cz/a"}},
    }
    for pointer, override in cases.items():
        response = client.post("/v1/procurements", json=procurement_body(**override), headers=admin)
        assert response.status_code == 422, pointer
        pointers = [e["pointer"] for e in response.json()["errors"]]
        assert any(p.startswith(pointer) for p in pointers), (pointer, pointers)


def test_step_is_recorded_with_chain_fields(
    client: TestClient, make_key: MakeKey, session: Session
) -> None:
    officer = make_key(Role.officer, municipality_code=BUYER)
    ocid = create_procurement(client, officer)
    first = post_step(client, officer, ocid, approved(at("2026-03-02")))
    assert first["seq"] == 1
    assert first["prev_hash"] is None
    assert set(first) >= {"seq", "entry_hash", "prev_hash", "leaf_index", "recorded_at", "findings"}
    second = post_step(client, officer, ocid, invitation(at("2026-03-03"), at("2026-03-20")))
    assert second["seq"] == 2
    assert second["prev_hash"] == first["entry_hash"]
    assert second["leaf_index"] == first["leaf_index"] + 1

    entry_bytes = session.execute(
        text("SELECT entry_bytes FROM ledger_entries WHERE leaf_index = :i"),
        {"i": second["leaf_index"]},
    ).scalar_one()
    assert hashlib.sha256(bytes(entry_bytes)).hexdigest() == second["entry_hash"]
    document = json.loads(entry_bytes)
    assert set(document) == {
        "v", "ocid", "seq", "leaf_index", "prev_hash", "type", "occurred_at",
        "recorded_at", "actor", "data", "documents", "findings",
    }  # fmt: skip
    assert document["seq"] == 2
    assert document["prev_hash"] == first["entry_hash"]
    assert document["occurred_at"] == "2026-03-03T10:00:00Z"
    assert document["data"]["bid_deadline"] == "2026-03-20T10:00:00Z"

    listed = client.get(f"/v1/procurements/{ocid}/steps").json()["items"]
    assert [s["seq"] for s in listed] == [1, 2]
    assert listed[1]["leaf_index"] == second["leaf_index"]
    assert listed[1]["data"]["suppliers"][0]["ico"] == "44992785"
    one = client.get(f"/v1/procurements/{ocid}/steps/2").json()
    assert one == listed[1]
    assert client.get(f"/v1/procurements/{ocid}").json()["status"] == "tendering"


def test_money_in_the_entry_is_a_two_place_string(
    client: TestClient, make_key: MakeKey, session: Session
) -> None:
    admin = make_key(Role.admin)
    ocid = create_procurement(client, admin)
    post_step(client, admin, ocid, approved(at("2026-03-02")))
    post_step(client, admin, ocid, invitation(at("2026-03-03"), at("2026-03-20")))
    body = bids(at("2026-03-21"))
    body["data"]["bids"][0]["price_excl_vat"] = 3100000
    recorded = post_step(client, admin, ocid, body)
    entry_bytes = session.execute(
        text("SELECT entry_bytes FROM ledger_entries WHERE leaf_index = :i"),
        {"i": recorded["leaf_index"]},
    ).scalar_one()
    assert b'"price_excl_vat":"3100000.00"' in bytes(entry_bytes)


def test_step_out_of_order_is_409_naming_the_missing_step(
    client: TestClient, make_key: MakeKey
) -> None:
    admin = make_key(Role.admin)
    ocid = create_procurement(client, admin)
    post_step(client, admin, ocid, approved(at("2026-03-02")))
    response = client.post(
        f"/v1/procurements/{ocid}/steps", json=selection(at("2026-03-04")), headers=admin
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["missing"] == ["bids_opened"]
    assert client.get(f"/v1/procurements/{ocid}").json()["step_count"] == 1


def test_non_repeatable_step_twice_is_409(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    ocid = create_procurement(client, admin)
    post_step(client, admin, ocid, approved(at("2026-03-02")))
    response = client.post(
        f"/v1/procurements/{ocid}/steps", json=approved(at("2026-03-03")), headers=admin
    )
    assert response.status_code == 409


def test_after_cancellation_only_what_the_law_allows(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    ocid = create_procurement(client, admin)
    post_step(client, admin, ocid, approved(at("2026-03-02")))
    post_step(
        client,
        admin,
        ocid,
        step("cancelled", at("2026-03-05"), reason="no bids", legal_basis="§ 127 odst. 1"),
    )
    refused = client.post(
        f"/v1/procurements/{ocid}/steps",
        json=invitation(at("2026-03-06"), at("2026-03-30")),
        headers=admin,
    )
    assert refused.status_code == 409
    assert refused.json()["terminal"] == "cancelled"
    report = step("report_published", at("2026-03-06"), url="https://profil.example.cz/z")
    assert post_step(client, admin, ocid, report)["seq"] == 3
    assert client.get(f"/v1/procurements/{ocid}").json()["status"] == "cancelled"


def test_step_type_of_another_procedure_is_422(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    ocid = create_procurement(
        client, admin, procedure="small_scale", estimated_value_excl_vat="400000"
    )
    body = step("objection_filed", at("2026-03-02"), objector_ico="44992785", summary="x")
    response = client.post(f"/v1/procurements/{ocid}/steps", json=body, headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/type"


def test_occurred_at_in_the_future_or_before_1990_is_422(
    client: TestClient, make_key: MakeKey
) -> None:
    admin = make_key(Role.admin)
    ocid = create_procurement(client, admin)
    for moment in ("2999-01-01T00:00:00Z", "1989-12-31T23:00:00Z", "2026-03-02T10:00:00"):
        response = client.post(
            f"/v1/procurements/{ocid}/steps", json=approved(moment), headers=admin
        )
        assert response.status_code == 422, moment
        assert response.json()["errors"][0]["pointer"] == "/occurred_at"


def test_invalid_ico_and_sha256_are_422(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    ocid = create_procurement(client, admin)
    post_step(client, admin, ocid, approved(at("2026-03-02")))
    body = invitation(at("2026-03-03"), at("2026-03-20"))
    body["data"]["suppliers"][0]["ico"] = "44992786"
    response = client.post(f"/v1/procurements/{ocid}/steps", json=body, headers=admin)
    assert response.status_code == 422
    body = invitation(at("2026-03-03"), at("2026-03-20"))
    body["documents"] = [
        {"title": "Výzva", "url": "https://x.cz/v.pdf", "sha256": "ab", "size": 1,
         "media_type": "application/pdf"}
    ]  # fmt: skip
    response = client.post(f"/v1/procurements/{ocid}/steps", json=body, headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/invitation_sent/documents/0/sha256" or (
        "sha256" in response.json()["errors"][0]["pointer"]
    )


def test_officer_of_another_municipality_may_not_record_steps(
    client: TestClient, make_key: MakeKey
) -> None:
    admin = make_key(Role.admin)
    ocid = create_procurement(client, admin)
    stranger = make_key(Role.officer, municipality_code=OTHER_BUYER)
    response = client.post(
        f"/v1/procurements/{ocid}/steps", json=approved(at("2026-03-02")), headers=stranger
    )
    assert response.status_code == 403


def test_unknown_procurement_is_404(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    assert client.get("/v1/procurements/ocds-smstps-554979-2026-999").status_code == 404
    response = client.post(
        "/v1/procurements/ocds-smstps-554979-2026-999/steps",
        json=approved(at("2026-03-02")),
        headers=admin,
    )
    assert response.status_code == 404
    assert client.get("/v1/procurements/nope/timeline").status_code == 404


def test_correction_points_at_an_existing_step(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    ocid = create_procurement(client, admin)
    post_step(client, admin, ocid, approved(at("2026-03-02")))
    bad = step(
        "correction", at("2026-03-03"), corrects_seq=5, reason="typo", corrected={"body": "board"}
    )
    response = client.post(f"/v1/procurements/{ocid}/steps", json=bad, headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/data/corrects_seq"
    wrong = step(
        "correction", at("2026-03-03"), corrects_seq=1, reason="typo", corrected={"body": "king"}
    )
    response = client.post(f"/v1/procurements/{ocid}/steps", json=wrong, headers=admin)
    assert response.status_code == 422
    good = step(
        "correction", at("2026-03-03"), corrects_seq=1, reason="typo", corrected={"body": "board"}
    )
    recorded = post_step(client, admin, ocid, good)
    assert recorded["seq"] == 2
    assert client.get(f"/v1/procurements/{ocid}/steps/1").json()["data"]["body"] == "council"


def test_list_procurements_filters_and_pages(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    ocids = [create_procurement(client, admin, buyer_code="531057") for _ in range(3)]
    page = client.get("/v1/procurements", params={"buyer_code": "531057", "limit": 2})
    assert page.status_code == 200
    assert [p["ocid"] for p in page.json()["items"]] == ocids[:2]
    rest = client.get(
        "/v1/procurements",
        params={"buyer_code": "531057", "limit": 2, "cursor": page.json()["next_cursor"]},
    )
    assert [p["ocid"] for p in rest.json()["items"]] == ocids[2:]
    assert rest.json()["next_cursor"] is None


def test_procedures_are_served_with_legal_references(client: TestClient) -> None:
    response = client.get("/v1/procedures")
    assert response.status_code == 200
    procedures = {p["id"]: p for p in response.json()["procedures"]}
    assert set(procedures) == {
        "open", "restricted", "negotiated_with_publication", "negotiated_without_publication",
        "competitive_dialogue", "innovation_partnership", "simplified_below_threshold",
        "concession", "design_contest", "small_scale",
    }  # fmt: skip
    small = {s["type"]: s for s in procedures["small_scale"]["steps"]}
    assert small["bids_opened"]["requires_one_of"] == ["notice_published", "invitation_sent"]
    assert small["completed"]["terminal"] is True
    deadlines = [d for s in procedures["open"]["steps"] for d in s["deadlines"]]
    assert all(d["legal_reference"] and d["effective_from"] for d in deadlines)
    assert {d["day_kind"] for d in deadlines} <= {"calendar", "working", "months"}


def test_bid_deadline_before_the_invitation_is_422(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    ocid = create_procurement(client, admin)
    post_step(client, admin, ocid, approved(at("2026-03-02")))
    response = client.post(
        f"/v1/procurements/{ocid}/steps",
        json=invitation(at("2026-03-10"), at("2026-03-09")),
        headers=admin,
    )
    assert response.status_code == 422
    assert "bid_deadline" in response.json()["errors"][0]["detail"]
