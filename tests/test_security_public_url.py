"""Absolute links (Link headers, OCDS URIs) come from SMARTSTEPS_PUBLIC_URL only: a request's
Host and X-Forwarded-* headers never appear in an answer."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session

from api.app import create_app
from api.auth import Role
from api.settings import Settings, bound_url
from tests import factories_catalogue as cf
from tests import factories_procurement as pf
from tests.conftest import MakeKey, TestDatabase

PUBLIC = "https://zakazky.example.cz/smartsteps"
HOSTILE = {
    "Host": "evil.example",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Proto": "gopher",
    "Forwarded": "host=evil.example;proto=https",
}


def _answers(client: TestClient, admin: dict[str, str], ocid: str) -> list[tuple[str, str]]:
    """(path, everything the answer says: status line headers and body)."""
    paths = [
        "/v1/procurements?limit=1",
        f"/v1/procurements/{ocid}/steps?limit=1",
        f"/v1/procurements/{ocid}/ocds/releases",
        f"/v1/procurements/{ocid}/ocds/record",
        "/v1/exports/procurements?format=ocds",
        "/v1/exports/steps?format=ocds",
        "/v1/red-flags?limit=1",
        "/v1/keys?limit=1",
        "/v1/vendors?limit=1",
        "/v1/municipalities?limit=1",
        "/v1/pilots?limit=1",
        "/v1/solutions?limit=1",
        "/v1/pilots/",  # a trailing slash used to redirect to the Host it was sent to
        "/v1/no-such-list",
        "/docs",
        "/openapi.json",
    ]
    said = []
    for path in paths:
        response = client.get(path, headers={**HOSTILE, **admin})
        assert response.status_code < 500, path
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        said.append((path, headers + "\n" + response.text))
    return said


def test_the_host_header_is_never_reflected(
    settings: Settings, database: TestDatabase, make_key: MakeKey, session: Session
) -> None:
    app = create_app(settings.model_copy(update={"public_url": PUBLIC}), database=database)
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    admin = make_key(Role.admin)
    make_key(Role.auditor)
    ocid = pf.create_procurement(client, admin)
    pf.create_procurement(client, admin)
    pf.post_step(client, admin, ocid, pf.approved(pf.at("2026-01-05")))
    pf.post_step(client, admin, ocid, pf.notice(pf.at("2026-01-12"), pf.at("2026-02-06")))
    vendor = cf.make_vendor(session)
    cf.make_vendor(session, ico=cf.VALID_ICOS[1])
    cf.make_solution(session, vendor)
    cf.make_solution(session, vendor, name="Another")
    cf.make_pilot(session)
    cf.make_pilot(session, title="Another pilot")
    session.commit()

    answers = _answers(client, admin, ocid)
    assert [path for path, text in answers if "evil.example" in text] == []
    linked = [path for path, text in answers if f"\nlink: <{PUBLIC}/v1/" in f"\n{text}".lower()]
    assert linked == [path for path, _ in answers if "limit=1" in path]

    record = client.get(f"/v1/procurements/{ocid}/ocds/record", headers=HOSTILE).json()
    assert record["uri"] == f"{PUBLIC}/v1/procurements/{ocid}/ocds/record"
    releases = client.get(f"/v1/procurements/{ocid}/ocds/releases", headers=HOSTILE).json()
    assert releases["uri"] == f"{PUBLIC}/v1/procurements/{ocid}/ocds/releases"


def test_a_next_link_keeps_the_query_under_the_public_url(
    settings: Settings, database: TestDatabase, make_key: MakeKey
) -> None:
    app = create_app(settings.model_copy(update={"public_url": PUBLIC + "/"}), database=database)
    client = TestClient(app, raise_server_exceptions=False)
    admin = make_key(Role.admin)
    for _ in range(2):
        pf.create_procurement(client, admin)
    response = client.get(
        "/v1/procurements", params={"limit": 1, "buyer_code": pf.BUYER}, headers=HOSTILE
    )
    cursor = response.json()["next_cursor"]
    assert response.headers["link"] == (
        f'<{PUBLIC}/v1/procurements?limit=1&buyer_code={pf.BUYER}&cursor={cursor}>; rel="next"'
    )


def test_the_public_url_defaults_to_the_local_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMARTSTEPS_PUBLIC_URL", raising=False)
    assert Settings().public_url == "http://127.0.0.1:8000"
    assert bound_url("0.0.0.0", 8080) == "http://0.0.0.0:8080"
    assert bound_url("::1", 8000) == "http://[::1]:8000"


@pytest.mark.parametrize(
    "value",
    ["ftp://example.cz", "example.cz", "https://", "https://example.cz/?a=1", "https://u@x.cz"],
)
def test_a_public_url_that_is_no_http_base_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        Settings(public_url=value)
