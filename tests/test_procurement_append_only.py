"""Steps are append-only: raw UPDATE and DELETE are refused by database triggers; there are
no update or delete routes; a retried POST with the same Idempotency-Key makes one step."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from api.auth import Role
from api.routes import api_routes
from tests.conftest import MakeKey
from tests.factories_procurement import approved, at, create_procurement, post_step


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE procurement_steps SET type = 'completed' WHERE leaf_index = :leaf",
        "UPDATE procurement_steps SET findings = '[]' WHERE leaf_index = :leaf",
        "DELETE FROM procurement_steps WHERE leaf_index = :leaf",
    ],
)
def test_raw_update_and_delete_of_a_step_are_refused(
    client: TestClient, make_key: MakeKey, session: Session, statement: str
) -> None:
    admin = make_key(Role.admin)
    ocid = create_procurement(client, admin)
    recorded = post_step(client, admin, ocid, approved(at("2026-03-02")))
    savepoint = session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement), {"leaf": recorded["leaf_index"]})
    savepoint.rollback()
    stored = session.execute(
        text("SELECT type FROM procurement_steps WHERE leaf_index = :leaf"),
        {"leaf": recorded["leaf_index"]},
    ).scalar_one()
    assert stored == "procurement_approved"


def test_no_route_updates_or_deletes_steps(app: FastAPI) -> None:
    for route in api_routes(app):
        if "/steps" in route.path:
            assert set(route.methods) <= {"GET", "POST", "HEAD"}, route.path


def test_idempotent_retry_makes_one_step(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    ocid = create_procurement(client, admin)
    headers = {**admin, "Idempotency-Key": "step-1-of-" + ocid}
    first = client.post(
        f"/v1/procurements/{ocid}/steps", json=approved(at("2026-03-02")), headers=headers
    )
    again = client.post(
        f"/v1/procurements/{ocid}/steps", json=approved(at("2026-03-02")), headers=headers
    )
    assert first.status_code == again.status_code == 201
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    assert client.get(f"/v1/procurements/{ocid}").json()["step_count"] == 1
    other = client.post(
        f"/v1/procurements/{ocid}/steps", json=approved(at("2026-03-03")), headers=headers
    )
    assert other.status_code == 422


def test_idempotent_retry_makes_one_procurement(client: TestClient, make_key: MakeKey) -> None:
    from tests.factories_procurement import procurement_body

    admin = make_key(Role.admin)
    headers = {**admin, "Idempotency-Key": "proc-create-1"}
    first = client.post("/v1/procurements", json=procurement_body(), headers=headers)
    again = client.post("/v1/procurements", json=procurement_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["ocid"] == again.json()["ocid"]
