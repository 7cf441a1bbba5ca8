"""Procurements refer to the catalogue by key: buyers by their code in the municipalities
register, linked solutions by id."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from api.auth import Role
from tests import factories_catalogue as cf
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


def test_linked_solutions_must_exist_in_the_catalogue(
    client: TestClient, make_key: MakeKey, session: Session
) -> None:
    admin = make_key(Role.admin)
    solution = cf.make_solution(session)
    session.commit()
    unknown = client.post(
        "/v1/procurements",
        json=f.procurement_body(solution_ids=[solution.id, 2_000_000_000]),
        headers=admin,
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["pointer"] == "/solution_ids"
    assert "2000000000" in unknown.json()["detail"]
    linked = client.post(
        "/v1/procurements", json=f.procurement_body(solution_ids=[solution.id]), headers=admin
    )
    assert linked.status_code == 201, linked.text
    assert linked.json()["solution_ids"] == [solution.id]
