"""Small helpers for procurement tests: bodies and HTTP calls, no magic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

BUYER = "554979"  # a 6-digit kód obce
OTHER_BUYER = "500011"
# Valid IČOs (mod-11): Praha, Brno, Ostrava, a firm.
ICO_A = "00064581"
ICO_B = "44992785"
ICO_C = "00845451"
ICO_D = "25596641"


def procurement_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "buyer_code": BUYER,
        "title": "Chytré veřejné osvětlení",
        "description": "LED lamps with remote dimming",
        "subject": "supplies",
        "procedure": "simplified_below_threshold",
        "estimated_value_excl_vat": "3500000.00",
        "cpv": ["34993000-4"],
        "external_ids": {"buyer_profile": "https://profil.example.cz/obec"},
    }
    body.update(overrides)
    return body


def make_procurement(session: Session, **overrides: Any) -> str:
    """A procurement opened through the service (no HTTP); its ocid."""
    from api.auth import Caller, Role
    from procurement import service
    from procurement.schemas import ProcurementCreate

    body = ProcurementCreate.model_validate(procurement_body(**overrides))
    admin = Caller(key_id="test-admin", role=Role.admin)
    return service.create_procurement(session, body, admin, ocid_prefix="test").ocid


def create_procurement(client: TestClient, headers: dict[str, str], **overrides: Any) -> str:
    response = client.post("/v1/procurements", json=procurement_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["ocid"])


def at(day: str, hour: int = 10) -> str:
    """An RFC 3339 UTC moment on ``day`` (YYYY-MM-DD) at ``hour``."""
    return f"{day}T{hour:02d}:00:00Z"


def ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def step(step_type: str, occurred_at: str, **data: Any) -> dict[str, Any]:
    return {"type": step_type, "occurred_at": occurred_at, "data": data}


def post_step(
    client: TestClient, headers: dict[str, str], ocid: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = client.post(f"/v1/procurements/{ocid}/steps", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def approved(occurred_at: str) -> dict[str, Any]:
    return step("procurement_approved", occurred_at, body="council", resolution_id="ZO/1/2026")


def notice(occurred_at: str, bid_deadline: str, channel: str = "profile") -> dict[str, Any]:
    return step(
        "notice_published",
        occurred_at,
        channel=channel,
        notice_id="N-1",
        url="https://profil.example.cz/vz/1",
        bid_deadline=bid_deadline,
    )


def invitation(occurred_at: str, bid_deadline: str) -> dict[str, Any]:
    return step(
        "invitation_sent",
        occurred_at,
        suppliers=[
            {"ico": ICO_B, "name": "Svítidla s.r.o."},
            {"ico": ICO_C, "name": "Lampy a.s."},
            {"ico": ICO_D, "name": "Světlo v.o.s."},
        ],
        bid_deadline=bid_deadline,
    )


def bids(occurred_at: str) -> dict[str, Any]:
    return step(
        "bids_opened",
        occurred_at,
        bids=[
            {"ico": ICO_B, "name": "Svítidla s.r.o.", "price_excl_vat": "3100000.00"},
            {"ico": ICO_C, "name": "Lampy a.s.", "price_excl_vat": "3300000.00"},
        ],
    )


def evaluation(occurred_at: str) -> dict[str, Any]:
    return step("evaluation_completed", occurred_at, excluded=[])


def selection(occurred_at: str, price: str = "3100000.00") -> dict[str, Any]:
    return step(
        "selection_decided",
        occurred_at,
        winner_ico=ICO_B,
        winner_name="Svítidla s.r.o.",
        price_excl_vat=price,
    )


def contract(occurred_at: str, signed_on: str, value: str = "3100000.00") -> dict[str, Any]:
    return step(
        "contract_signed",
        occurred_at,
        supplier_ico=ICO_B,
        supplier_name="Svítidla s.r.o.",
        value_excl_vat=value,
        signed_on=signed_on,
    )


def published(occurred_at: str, register: str = "contract_register") -> dict[str, Any]:
    return step(
        "contract_published",
        occurred_at,
        register=register,
        id="RS-123",
        url="https://smlouvy.example.cz/123",
    )


def payment(occurred_at: str, paid_on: str, amount: str = "3100000.00") -> dict[str, Any]:
    return step("payment_made", occurred_at, amount_excl_vat=amount, paid_on=paid_on)
