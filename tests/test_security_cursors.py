"""A cursor belongs to the list that issued it: used on another list it is a 400 problem
(it used to be a 500, or a silently wrong page)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.auth import Role
from tests import factories_catalogue as cf
from tests import factories_procurement as pf
from tests.conftest import MakeKey

PROBLEM = "application/problem+json"


@pytest.fixture
def lists(client: TestClient, make_key: MakeKey, session: Session) -> dict[str, tuple[str, str]]:
    """Each list's path and the name of its cursor parameter; every list has a second page."""
    admin = make_key(Role.admin)
    make_key(Role.auditor)
    client.headers.update(admin)
    first = pf.create_procurement(client, admin)
    pf.create_procurement(client, admin)
    pf.post_step(client, admin, first, pf.approved(pf.at("2026-01-05")))
    pf.post_step(client, admin, first, pf.notice(pf.at("2026-01-12"), pf.at("2026-02-06")))
    vendor = cf.make_vendor(session)
    cf.make_vendor(session, ico=cf.VALID_ICOS[1])
    cf.make_solution(session, vendor)
    cf.make_solution(session, vendor, name="Another")
    cf.make_pilot(session)
    cf.make_pilot(session, title="Another pilot")
    session.commit()
    return {
        "keys": ("/v1/keys", "cursor"),
        "procurements": ("/v1/procurements", "cursor"),
        "steps": (f"/v1/procurements/{first}/steps", "cursor"),
        "vendors": ("/v1/vendors", "cursor"),
        "municipalities": ("/v1/municipalities", "cursor"),
        "solutions": ("/v1/solutions", "cursor"),
        "pilots": ("/v1/pilots", "cursor"),
        "red-flags": ("/v1/red-flags", "cursor"),
        "feed": ("/v1/feed", "since"),
    }


def _cursor(client: TestClient, path: str, parameter: str) -> str:
    response = client.get(path, params={"limit": 1})
    assert response.status_code == 200, response.text
    cursor = response.json()["next_cursor"]
    assert cursor, path
    # The cursor works on its own list.
    assert client.get(path, params={"limit": 1, parameter: cursor}).status_code == 200
    return str(cursor)


def test_a_cursor_from_another_list_is_400(
    client: TestClient, lists: dict[str, tuple[str, str]]
) -> None:
    cursors = {name: _cursor(client, path, parameter) for name, (path, parameter) in lists.items()}
    refused = []
    for issued_by, cursor in cursors.items():
        for name, (path, parameter) in lists.items():
            if name == issued_by:
                continue
            response = client.get(path, params={"limit": 1, parameter: cursor})
            assert response.status_code == 400, (issued_by, name, response.status_code)
            assert response.headers["content-type"] == PROBLEM
            assert "another list" in response.json()["detail"]
            refused.append((issued_by, name))
    assert len(refused) == len(lists) * (len(lists) - 1)


def test_a_steps_cursor_belongs_to_its_procurement(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    ocids = [pf.create_procurement(client, admin) for _ in range(2)]
    for ocid in ocids:
        pf.post_step(client, admin, ocid, pf.approved(pf.at("2026-01-05")))
        pf.post_step(client, admin, ocid, pf.notice(pf.at("2026-01-12"), pf.at("2026-02-06")))
    cursor = _cursor(client, f"/v1/procurements/{ocids[0]}/steps", "cursor")
    response = client.get(f"/v1/procurements/{ocids[1]}/steps", params={"cursor": cursor})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


def test_a_pilot_cursor_belongs_to_its_sort_order(client: TestClient, session: Session) -> None:
    for title in ("First", "Second", "Third"):
        cf.make_pilot(session, title=title, budget_czk="1000.00")
    session.commit()
    newest = client.get("/v1/pilots", params={"limit": 1, "sort": "newest"}).json()
    cursor = newest["next_cursor"]
    assert cursor
    response = client.get(
        "/v1/pilots", params={"limit": 1, "sort": "cost_per_inhabitant", "cursor": cursor}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
