"""Creating and updating vendors, solutions and pilots: roles and scopes, If-Match, the
lock-in profile, derived fields, and bad input that is refused with nothing written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from api.auth import Role
from catalogue.models import CatalogueTag, Pilot, Solution, Vendor
from tests.conftest import MakeKey
from tests.factories_catalogue import (
    ABERTAMY,
    KNEZICE,
    VALID_ICOS,
    make_pilot,
    make_solution,
    make_vendor,
)

pytestmark = pytest.mark.usefixtures("municipalities_register")


@pytest.fixture
def catalogue_counts(session: Session) -> Callable[[], dict[str, int]]:
    def counts() -> dict[str, int]:
        return {
            model.__name__: session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Vendor, Solution, Pilot, CatalogueTag)
        }

    return counts


def _pilot_body(**overrides: Any) -> dict[str, Any]:
    return {
        "municipality_code": KNEZICE,
        "title": "Veřejné osvětlení",
        "areas": ["energy_environment"],
        "status": "pilot",
        **overrides,
    }


# --- vendors --------------------------------------------------------------------------


def test_admin_registers_vendor_with_valid_ico(client: TestClient, make_key: MakeKey) -> None:
    response = client.post(
        "/v1/vendors", json={"ico": VALID_ICOS[1], "name": "Firma a.s."}, headers=make_key("admin")
    )
    assert response.status_code == 201, response.text
    assert response.json()["ico"] == VALID_ICOS[1]
    assert response.headers["ETag"]


@pytest.mark.parametrize("ico", ["27100015", "1234567", "abcdefgh", "271000140"])
def test_invalid_ico_is_422(client: TestClient, make_key: MakeKey, ico: str) -> None:
    response = client.post(
        "/v1/vendors", json={"ico": ico, "name": "Firma"}, headers=make_key("admin")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/ico"


def test_duplicate_ico_is_422(client: TestClient, make_key: MakeKey, session: Session) -> None:
    make_vendor(session)
    session.commit()
    response = client.post(
        "/v1/vendors", json={"ico": VALID_ICOS[0], "name": "Again"}, headers=make_key("admin")
    )
    assert response.status_code == 422


def test_vendor_edits_only_itself(client: TestClient, make_key: MakeKey, session: Session) -> None:
    mine, other = make_vendor(session), make_vendor(session, ico=VALID_ICOS[1])
    session.commit()
    key = make_key(Role.vendor, vendor_id=mine.id)
    etag = client.get(f"/v1/vendors/{mine.id}").headers["ETag"]
    ok = client.patch(
        f"/v1/vendors/{mine.id}", json={"name": "Renamed"}, headers={**key, "If-Match": etag}
    )
    assert ok.status_code == 200
    assert ok.json()["name"] == "Renamed"
    other_etag = client.get(f"/v1/vendors/{other.id}").headers["ETag"]
    denied = client.patch(
        f"/v1/vendors/{other.id}", json={"name": "X"}, headers={**key, "If-Match": other_etag}
    )
    assert denied.status_code == 403


# --- solutions ------------------------------------------------------------------------


def test_vendor_creates_solution_with_lockin_profile(
    client: TestClient, make_key: MakeKey, session: Session
) -> None:
    vendor = make_vendor(session)
    session.commit()
    body = {
        "vendor_id": vendor.id,
        "name": "Open platform",
        "areas": ["public_administration"],
        "standards": ["ngsi-ld", "dcat-ap-cz"],
        "mims": ["mim1"],
        "open_api_documented": True,
        "bulk_export": True,
        "data_owned_by_municipality": True,
        "open_source": True,
        "licence": "EUPL-1.2",
    }
    response = client.post(
        "/v1/solutions", json=body, headers=make_key(Role.vendor, vendor_id=vendor.id)
    )
    assert response.status_code == 201, response.text
    lockin = response.json()["lockin"]
    # Missing: standard data model (10), exit clause (10), proprietary hardware is absent.
    assert lockin["score"] == 20
    assert lockin["level"] == "low"
    counted = {r["factor"]: r["points"] for r in lockin["reasons"] if r["points"]}
    assert counted == {"standard_data_model": 10, "exit_clause": 10}


def test_vendor_may_not_create_for_another_vendor(
    client: TestClient, make_key: MakeKey, session: Session
) -> None:
    mine, other = make_vendor(session), make_vendor(session, ico=VALID_ICOS[1])
    session.commit()
    response = client.post(
        "/v1/solutions",
        json={"vendor_id": other.id, "name": "X", "areas": ["economy"]},
        headers=make_key(Role.vendor, vendor_id=mine.id),
    )
    assert response.status_code == 403


def test_closed_solution_scores_high_and_max_lockin_filters(
    client: TestClient, session: Session
) -> None:
    closed = make_solution(session, name="Closed box", proprietary_hardware=True)
    session.commit()
    body = client.get(f"/v1/solutions/{closed.id}").json()
    assert body["lockin"]["score"] == 100
    assert body["lockin"]["level"] == "high"
    assert client.get("/v1/solutions", params={"max_lockin": 99}).json()["items"] == []


def test_solution_update_needs_if_match_and_refreshes_pilots(
    client: TestClient, make_key: MakeKey, session: Session
) -> None:
    solution = make_solution(session)
    pilot = make_pilot(session, solution_ids=[solution.id])
    session.commit()
    admin = make_key(Role.admin)
    assert client.get(f"/v1/pilots/{pilot.id}").json()["open_source"] is False
    no_match = client.patch(
        f"/v1/solutions/{solution.id}", json={"open_source": True}, headers=admin
    )
    assert no_match.status_code == 428
    stale = client.patch(
        f"/v1/solutions/{solution.id}",
        json={"open_source": True},
        headers={**admin, "If-Match": '"stale"'},
    )
    assert stale.status_code == 412
    etag = client.get(f"/v1/solutions/{solution.id}").headers["ETag"]
    ok = client.patch(
        f"/v1/solutions/{solution.id}",
        json={"open_source": True, "licence": "MIT"},
        headers={**admin, "If-Match": etag},
    )
    assert ok.status_code == 200
    assert ok.headers["ETag"] != etag
    assert ok.json()["lockin"]["score"] == 85  # 100 - open source (10) - no hardware (5)
    pilot_now = client.get(f"/v1/pilots/{pilot.id}").json()
    assert pilot_now["open_source"] is True
    assert pilot_now["lockin_score"] == 85


# --- pilots ---------------------------------------------------------------------------


def test_officer_records_pilot_of_own_municipality(client: TestClient, make_key: MakeKey) -> None:
    officer = make_key(Role.officer, municipality_code=KNEZICE)
    response = client.post(
        "/v1/pilots",
        json=_pilot_body(budget_czk="505000", adoption={"users": 101}),
        headers=officer,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["budget_czk"] == "505000.00"
    assert body["cost_per_inhabitant"] == "1000.00"
    assert body["adoption"]["share_of_population"] == 0.2
    assert body["municipality"]["name"] == "Kněžice"


def test_officer_may_not_record_other_municipality(
    client: TestClient, make_key: MakeKey, catalogue_counts: Callable[[], dict[str, int]]
) -> None:
    before = catalogue_counts()
    officer = make_key(Role.officer, municipality_code=KNEZICE)
    response = client.post(
        "/v1/pilots", json=_pilot_body(municipality_code=ABERTAMY), headers=officer
    )
    assert response.status_code == 403
    assert catalogue_counts() == before


def test_officer_edits_only_own_pilots(
    client: TestClient, make_key: MakeKey, session: Session
) -> None:
    own, foreign = make_pilot(session), make_pilot(session, municipality_code=ABERTAMY)
    session.commit()
    officer = make_key(Role.officer, municipality_code=KNEZICE)
    for pilot, expected in ((own, 200), (foreign, 403)):
        etag = client.get(f"/v1/pilots/{pilot.id}").headers["ETag"]
        response = client.patch(
            f"/v1/pilots/{pilot.id}",
            json={"status": "implemented"},
            headers={**officer, "If-Match": etag},
        )
        assert response.status_code == expected
    moved = client.patch(
        f"/v1/pilots/{own.id}",
        json={"municipality_code": ABERTAMY},
        headers={**officer, "If-Match": client.get(f"/v1/pilots/{own.id}").headers["ETag"]},
    )
    assert moved.status_code == 403


def test_pilot_patch_reindexes_text(
    client: TestClient, make_key: MakeKey, session: Session
) -> None:
    pilot = make_pilot(session, title="Kompostárna")
    session.commit()
    etag = client.get(f"/v1/pilots/{pilot.id}").headers["ETag"]
    response = client.patch(
        f"/v1/pilots/{pilot.id}",
        json={"title": "Bioplynová stanice"},
        headers={**make_key(Role.admin), "If-Match": etag},
    )
    assert response.status_code == 200
    assert [i["id"] for i in client.get("/v1/pilots", params={"q": "bioplyn"}).json()["items"]] == [
        pilot.id
    ]
    assert client.get("/v1/pilots", params={"q": "kompostarna"}).json()["items"] == []


def test_contact_is_hidden_from_anonymous_unless_public(
    client: TestClient, make_key: MakeKey, session: Session
) -> None:
    private = make_pilot(session, contact={"name": "Jana", "email": "jana@obec.cz"})
    public = make_pilot(session, contact={"name": "Petr", "public": True})
    session.commit()
    assert client.get(f"/v1/pilots/{private.id}").json()["contact"] is None
    assert client.get(f"/v1/pilots/{public.id}").json()["contact"]["name"] == "Petr"
    seen = client.get(f"/v1/pilots/{private.id}", headers=make_key(Role.auditor))
    assert seen.json()["contact"]["email"] == "jana@obec.cz"


def test_idempotent_retry_creates_one_pilot(
    client: TestClient, make_key: MakeKey, catalogue_counts: Callable[[], dict[str, int]]
) -> None:
    admin = {**make_key(Role.admin), "Idempotency-Key": "pilot-1"}
    first = client.post("/v1/pilots", json=_pilot_body(), headers=admin)
    again = client.post("/v1/pilots", json=_pilot_body(), headers=admin)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["id"] == first.json()["id"]


# --- bad input (item 8) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "pointer"),
    [
        ("/v1/pilots", _pilot_body(municipality_code="999999"), "/municipality_code"),
        ("/v1/pilots", _pilot_body(budget_czk="-1"), "/budget_czk"),
        ("/v1/pilots", _pilot_body(started_on="2024-05-01", ended_on="2024-04-30"), ""),
        ("/v1/pilots", _pilot_body(started_on="1989-12-31"), "/started_on"),
        ("/v1/pilots", _pilot_body(solution_ids=[999999]), "/solution_ids"),
        ("/v1/pilots", _pilot_body(colour="red"), "/colour"),
        ("/v1/pilots", _pilot_body(areas=["space"]), "/areas/0"),
        ("/v1/vendors", {"ico": "12345678", "name": "X"}, "/ico"),
        ("/v1/vendors", {"ico": VALID_ICOS[2], "name": "X", "extra": 1}, "/extra"),
        (
            "/v1/solutions",
            {"vendor_id": 1, "name": "X", "areas": ["economy"], "standards": ["nope"]},
            "/standards",
        ),
        (
            "/v1/solutions",
            {"vendor_id": 1, "name": "X", "areas": ["economy"], "mims": ["mim9"]},
            "/mims",
        ),
        ("/v1/solutions", {"vendor_id": 999999, "name": "X", "areas": ["economy"]}, "/vendor_id"),
        ("/v1/compatibility", {"standards": ["nope"]}, "/standards"),
    ],
)
def test_bad_body_is_422_with_pointer_and_writes_nothing(
    client: TestClient,
    make_key: MakeKey,
    catalogue_counts: Callable[[], dict[str, int]],
    path: str,
    body: dict[str, Any],
    pointer: str,
) -> None:
    admin = make_key(Role.admin)
    before = catalogue_counts()
    response = client.post(path, json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["pointer"] == pointer
    assert catalogue_counts() == before


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 201},
        {"near": KNEZICE, "radius_km": 0},
        {"near": KNEZICE, "radius_km": 501},
        {"near": KNEZICE, "radius_km": -3},
        {"radius_km": 10},
        {"standard": "nope"},
        {"budget_min": -5},
        {"status": "finished"},
        {"population_band": "huge"},
    ],
)
def test_bad_query_is_422(client: TestClient, params: dict[str, object]) -> None:
    response = client.get("/v1/pilots", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"]
