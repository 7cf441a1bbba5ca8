"""References must exist: a key's municipality or vendor, a pilot's procurements (of its own
municipality); and a pilot's private contact is shown only to those who may see it."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.auth import ApiKey, Role
from tests import factories_catalogue as cf
from tests import factories_procurement as pf
from tests.conftest import MakeKey

PROBLEM = "application/problem+json"


def _errors(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    return list(response.json()["errors"])


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"role": "officer", "municipality_code": "999999"}, "/municipality_code"),
        ({"role": "vendor", "vendor_id": 2_000_000}, "/vendor_id"),
    ],
)
def test_a_key_for_something_that_does_not_exist_is_422(
    client: TestClient,
    make_key: MakeKey,
    session: Session,
    body: dict[str, Any],
    pointer: str,
) -> None:
    admin = make_key(Role.admin)
    keys_before = len(session.exec(select(ApiKey)).all())
    response = client.post("/v1/keys", json={**body, "label": "x"}, headers=admin)
    errors = _errors(response)
    assert [e["pointer"] for e in errors] == [pointer]
    assert "no " in errors[0]["detail"]
    assert len(session.exec(select(ApiKey)).all()) == keys_before


def test_keys_for_what_exists_are_created(
    client: TestClient, make_key: MakeKey, session: Session
) -> None:
    admin = make_key(Role.admin)
    vendor = cf.make_vendor(session)
    session.commit()
    for body in (
        {"role": "officer", "municipality_code": cf.KNEZICE},
        {"role": "vendor", "vendor_id": vendor.id},
    ):
        response = client.post("/v1/keys", json={**body, "label": "x"}, headers=admin)
        assert response.status_code == 201, response.text


def _pilot(code: str, ocids: list[str]) -> dict[str, Any]:
    return {
        "municipality_code": code,
        "title": "Pilot",
        "areas": ["mobility"],
        "status": "pilot",
        "procurement_ocids": ocids,
    }


def test_a_pilots_procurements_must_exist_and_be_its_municipalitys(
    client: TestClient, make_key: MakeKey
) -> None:
    admin = make_key(Role.admin)
    ocid = pf.create_procurement(client, admin)  # bought by pf.BUYER
    unknown = f"ocds-smstps-{pf.BUYER}-2026-99"
    for code, ocids, bad in (
        (pf.BUYER, [ocid, unknown], unknown),
        (cf.KNEZICE, [ocid], ocid),
    ):
        errors = _errors(client.post("/v1/pilots", json=_pilot(code, ocids), headers=admin))
        assert len(errors) == 1
        assert errors[0]["pointer"] == f"/procurement_ocids/{ocids.index(bad)}"
        assert bad in errors[0]["detail"]
    assert client.get("/v1/pilots").json()["items"] == []
    created = client.post("/v1/pilots", json=_pilot(pf.BUYER, [ocid]), headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["procurement_ocids"] == [ocid]
    # A change that would leave it pointing at another town's procurement is refused too.
    pilot = client.get(f"/v1/pilots/{created.json()['id']}")
    moved = client.patch(
        f"/v1/pilots/{pilot.json()['id']}",
        json={"municipality_code": cf.KNEZICE},
        headers={**admin, "If-Match": pilot.headers["etag"]},
    )
    assert _errors(moved)[0]["pointer"] == "/procurement_ocids/0"


# --- private contacts ---------------------------------------------------------------------

CONTACT = {"name": "Jana Nováková", "email": "starostka@knezice.cz", "phone": None, "public": False}


@pytest.fixture
def private_pilot(session: Session) -> int:
    pilot = cf.make_pilot(session, title="Osvětlení návsi", contact=CONTACT)
    session.commit()
    assert pilot.id is not None
    return pilot.id


def _contacts_seen(client: TestClient, headers: dict[str, str], pilot_id: int) -> list[Any]:
    """The contact as every read shows it: detail, list, search, JSONL and GeoJSON exports."""
    seen = [client.get(f"/v1/pilots/{pilot_id}", headers=headers).json()["contact"]]
    seen.append(client.get("/v1/pilots", headers=headers).json()["items"][0]["contact"])
    found = client.get("/v1/pilots", params={"q": "osvetleni"}, headers=headers).json()
    seen.append(found["items"][0]["contact"])
    lines = client.get("/v1/exports/pilots?format=jsonl", headers=headers).text.splitlines()
    seen.append(json.loads(lines[0])["contact"])
    geo = client.get("/v1/exports/pilots?format=geojson", headers=headers).json()
    seen.append(geo["features"][0]["properties"]["contact"])
    table = client.get("/v1/exports/pilots?format=csv", headers=headers).text
    assert len(list(csv.DictReader(io.StringIO(table)))) == 1
    assert str(CONTACT["email"]) not in table  # the CSV has no contact column for anyone
    return seen


@pytest.mark.parametrize(
    ("role", "scope", "sees"),
    [
        (None, None, False),
        (Role.admin, None, True),
        (Role.auditor, None, True),
        (Role.officer, cf.KNEZICE, True),
        (Role.officer, cf.NYMBURK, False),
        (Role.vendor, "vendor", False),
    ],
    ids=["anonymous", "admin", "auditor", "its officer", "another officer", "vendor"],
)
def test_a_private_contact_is_shown_only_to_who_may_see_it(
    client: TestClient,
    make_key: MakeKey,
    session: Session,
    private_pilot: int,
    role: Role | None,
    scope: str | None,
    sees: bool,
) -> None:
    headers: dict[str, str] = {}
    if role is Role.vendor:
        headers = make_key(role, vendor_id=cf.make_vendor(session).id)
    elif role is not None:
        headers = make_key(role, municipality_code=scope)
    seen = _contacts_seen(client, headers, private_pilot)
    assert seen == [CONTACT if sees else None] * 5


def test_a_public_contact_is_shown_to_everyone(client: TestClient, session: Session) -> None:
    public = {**CONTACT, "public": True}
    pilot = cf.make_pilot(session, title="Osvětlení návsi", contact=public)
    session.commit()
    assert pilot.id is not None
    assert _contacts_seen(client, {}, pilot.id) == [public] * 5
