"""A seeded catalogue and procurement trail for the page tests: the demo catalogue
(``smartsteps seed demo``) and procurements with steps recorded through the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from catalogue.demo import seed_demo
from tests.factories_audit import OTHER, START, WINNER, happy_path, z
from tests.factories_procurement import ago

KNEZICE = "537292"  # Kněžice: a demo pilot (public lighting) is there
HOSTETIN = "550736"


def seed_catalogue(session: Session) -> None:
    seed_demo(session)
    session.commit()


def _post(client: TestClient, headers: dict[str, str], path: str, body: Any) -> dict[str, Any]:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def seed_procurements(client: TestClient, headers: dict[str, str]) -> dict[str, str]:
    """Three procurements: a full open procedure in Kněžice (with a correction, documents,
    an amendment and payments), a single-bid one with a late contract publication there,
    and a recent small-scale one in Hostětín whose contract must still be published."""
    ocids: dict[str, str] = {}
    found = client.get("/v1/solutions", params={"q": "Chytré veřejné osvětlení"}).json()["items"]
    lighting = next(s["id"] for s in found if s["name"] == "Chytré veřejné osvětlení")
    full = _post(
        client,
        headers,
        "/v1/procurements",
        {
            "buyer_code": KNEZICE,
            "title": "Obnova veřejného osvětlení",
            "description": "Výměna 120 svítidel za LED s regulací podle provozu.",
            "subject": "supplies",
            "procedure": "open",
            "estimated_value_excl_vat": "4500000.00",
            "cpv": ["34993000-4"],
            "solution_ids": [lighting],
            "external_ids": {"buyer_profile": "https://profil.example.cz/knezice"},
        },
    )
    ocids["full"] = full["ocid"]
    for entry in happy_path("open", full["ocid"]):
        body = {k: entry[k] for k in ("type", "occurred_at", "data", "documents")}
        _post(client, headers, f"/v1/procurements/{full['ocid']}/steps", body)

    single = _post(
        client,
        headers,
        "/v1/procurements",
        {
            "buyer_code": KNEZICE,
            "title": "Chytré měřiče vody",
            "subject": "supplies",
            "procedure": "simplified_below_threshold",
            "estimated_value_excl_vat": "2800000.00",
            "cpv": ["38421100-3"],
        },
    )
    ocids["single"] = single["ocid"]
    day = START
    steps = [
        ("procurement_approved", day, {"body": "board", "resolution_id": "RO/7/2026"}),
        (
            "notice_published",
            day + timedelta(days=1),
            {
                "channel": "profile",
                "notice_id": "P-7",
                "url": "https://profil.example.cz/vz/7",
                "bid_deadline": z(day + timedelta(days=30)),
            },
        ),
        (
            "bids_opened",
            day + timedelta(days=30, hours=1),
            {"bids": [{**WINNER, "price_excl_vat": "2750000.00"}]},
        ),
        (
            "selection_decided",
            day + timedelta(days=33),
            {
                "winner_ico": WINNER["ico"],
                "winner_name": WINNER["name"],
                "price_excl_vat": "2750000.00",
            },
        ),
        (
            "contract_signed",
            day + timedelta(days=50),
            {
                "supplier_ico": WINNER["ico"],
                "supplier_name": WINNER["name"],
                "value_excl_vat": "2750000.00",
                "signed_on": (day + timedelta(days=50)).date().isoformat(),
            },
        ),
        (
            "contract_published",
            day + timedelta(days=120),
            {"register": "contract_register", "id": "77", "url": "https://smlouvy.example.cz/77"},
        ),
    ]
    for step_type, moment, data in steps:
        body = {"type": step_type, "occurred_at": z(moment), "data": data}
        _post(client, headers, f"/v1/procurements/{single['ocid']}/steps", body)

    fresh = _post(
        client,
        headers,
        "/v1/procurements",
        {
            "buyer_code": HOSTETIN,
            "title": "Senzory kvality ovzduší u školy",
            "subject": "supplies",
            "procedure": "small_scale",
            "estimated_value_excl_vat": "180000.00",
        },
    )
    ocids["fresh"] = fresh["ocid"]
    recent = [
        ("procurement_approved", 20, {"body": "mayor", "resolution_id": "S/3/2026"}),
        (
            "invitation_sent",
            19,
            {
                "suppliers": [WINNER, OTHER],
                "bid_deadline": ago(10),
            },
        ),
        (
            "bids_opened",
            9,
            {
                "bids": [
                    {**WINNER, "price_excl_vat": "175000.00"},
                    {**OTHER, "price_excl_vat": "179000.00"},
                ]
            },
        ),
        (
            "selection_decided",
            8,
            {
                "winner_ico": WINNER["ico"],
                "winner_name": WINNER["name"],
                "price_excl_vat": "175000.00",
            },
        ),
        (
            "contract_signed",
            3,
            {
                "supplier_ico": WINNER["ico"],
                "supplier_name": WINNER["name"],
                "value_excl_vat": "175000.00",
                "signed_on": ago(3)[:10],
            },
        ),
    ]
    for step_type, days, data in recent:
        body = {"type": step_type, "occurred_at": ago(days), "data": data}
        _post(client, headers, f"/v1/procurements/{fresh['ocid']}/steps", body)
    return ocids
