"""Procurements name their buyer by its code in the catalogue's municipalities register."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.auth import Role
from tests import factories_procurement as f
from tests.conftest import MakeKey


def test_buyer_outside_the_register_is_422(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    response = client.post(
        "/v1/procurements", json=f.procurement_body(buyer_code="999999"), headers=admin
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["pointer"] == "/buyer_code"
    assert client.get("/v1/procurements").json()["items"] == []


def test_buyer_in_the_register_is_accepted(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    response = client.post(
        "/v1/procurements", json=f.procurement_body(buyer_code="500011"), headers=admin
    )
    assert response.status_code == 201, response.text
    assert response.json()["buyer_code"] == "500011"
