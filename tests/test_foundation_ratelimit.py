"""Rate limits: per key, per client address for anonymous requests; 429 with Retry-After."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from api.app import create_app
from api.auth import Role
from api.routes import api_routes
from api.settings import Settings
from tests.conftest import MakeKey, TestDatabase


def _client(settings: Settings, database: TestDatabase, **limits: str) -> TestClient:
    app = create_app(settings.model_copy(update=limits), database=database)
    return TestClient(app, raise_server_exceptions=False)


def test_anonymous_reads_over_budget_get_429_with_retry_after(
    settings: Settings, database: TestDatabase
) -> None:
    client = _client(settings, database, rate_limit_anonymous="3/minute")
    statuses = [client.get("/v1/no-such-list").status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    last = client.get("/v1/no-such-list")
    assert last.status_code == 429
    assert last.headers["content-type"] == "application/problem+json"
    assert 1 <= int(last.headers["retry-after"]) <= 60


def test_each_key_has_its_own_budget(
    settings: Settings, database: TestDatabase, make_key: MakeKey
) -> None:
    client = _client(settings, database, rate_limit_per_key="2/minute")
    first, second = make_key(Role.auditor), make_key(Role.auditor)
    assert [client.get("/v1/me", headers=first).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/v1/me", headers=second).status_code == 200


def test_health_is_never_limited(settings: Settings, database: TestDatabase) -> None:
    client = _client(settings, database, rate_limit_anonymous="1/minute")
    assert all(client.get("/health").status_code == 200 for _ in range(5))


# --- every request is charged to exactly one budget --------------------------------------

BOGUS = {"Authorization": "Bearer x"}


def _public_reads() -> list[str]:
    """Routes that never look at the key: a header on them used to skip every budget."""
    return [
        "/v1/feed",
        "/v1/exports/procurements?format=jsonl",
        "/v1/procurements",
        "/v1/red-flags",
        "/v1/ledger/checkpoint",
        "/v1/procedures",
        "/v1/standards",
        "/v1/pilots",
    ]


def test_a_key_that_is_not_valid_is_401_on_every_route(
    settings: Settings, database: TestDatabase
) -> None:
    client = _client(settings, database)
    checked = []
    for route in api_routes(client.app):  # type: ignore[arg-type]
        if not route.path.startswith("/v1/"):
            continue
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for method in sorted(route.methods - {"HEAD"}):
            for header in ("Bearer x", "Bearer ssk_000000000000_nope", "Basic eDp5", ""):
                response = client.request(method, path, headers={"Authorization": header}, json={})
                assert response.status_code == 401, (method, path, header, response.text)
                assert response.headers["content-type"] == "application/problem+json"
                assert response.headers["www-authenticate"] == "Bearer"
            checked.append(f"{method} {path}")
    assert "GET /v1/feed" in checked
    assert "POST /v1/compatibility" in checked


def test_a_revoked_key_is_401_on_a_public_read(
    settings: Settings, database: TestDatabase, make_key: MakeKey
) -> None:
    client = _client(settings, database)
    admin = make_key(Role.admin)
    created = client.post("/v1/keys", json={"role": "auditor", "label": "x"}, headers=admin)
    auditor = {"Authorization": f"Bearer {created.json()['key']}"}
    assert client.get("/v1/feed", headers=auditor).status_code == 200
    assert client.delete(f"/v1/keys/{created.json()['id']}", headers=admin).status_code == 204
    response = client.get("/v1/feed", headers=auditor)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_bogus_keys_are_charged_to_the_senders_address(
    settings: Settings, database: TestDatabase
) -> None:
    client = _client(settings, database, rate_limit_anonymous="3/minute")
    statuses = [client.get(path, headers=BOGUS).status_code for path in _public_reads()[:4]]
    assert statuses == [401, 401, 401, 429]
    # The address's budget is spent: an anonymous request from it waits too.
    assert client.get("/v1/standards").status_code == 429


def test_a_valid_key_is_charged_on_routes_that_never_check_it(
    settings: Settings, database: TestDatabase, make_key: MakeKey
) -> None:
    client = _client(settings, database, rate_limit_per_key="3/minute")
    auditor = make_key(Role.auditor)
    statuses = [client.get(path, headers=auditor).status_code for path in _public_reads()[:4]]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/v1/procedures", headers=auditor)
    assert response.status_code == 429
    assert "3 per 1 minute" in response.json()["detail"]  # the key's budget
    # Anonymous callers from the same address still have theirs.
    assert client.get("/v1/procedures").status_code == 200


def test_a_keyed_request_is_charged_once(
    settings: Settings, database: TestDatabase, make_key: MakeKey
) -> None:
    client = _client(settings, database, rate_limit_per_key="2/minute")
    officer = make_key(Role.officer, municipality_code="554979")
    # /v1/pilots reads the caller (for private contacts); it is still one request.
    assert [client.get("/v1/pilots", headers=officer).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]


def test_bogus_tokens_naming_a_real_key_cannot_lock_it_out(
    settings: Settings, database: TestDatabase, make_key: MakeKey
) -> None:
    client = _client(settings, database, rate_limit_per_key="3/minute")
    auditor = make_key(Role.auditor)
    key_id = client.get("/v1/me", headers=auditor).json()["key_id"]
    forged = {"Authorization": f"Bearer ssk_{key_id}_{'A' * 43}"}
    assert {client.get("/v1/me", headers=forged).status_code for _ in range(10)} == {401}
    assert client.get("/v1/me", headers=auditor).status_code == 200


def test_exports_keep_their_own_budget_for_keys_and_addresses(
    settings: Settings, database: TestDatabase, make_key: MakeKey
) -> None:
    client = _client(settings, database, rate_limit_exports="2/minute")
    auditor = make_key(Role.auditor)
    keyed = [client.get("/v1/feed", headers=auditor).status_code for _ in range(3)]
    assert keyed == [200, 200, 429]
    assert client.get("/v1/procedures", headers=auditor).status_code == 200
    anonymous = [client.get("/v1/feed").status_code for _ in range(3)]
    assert anonymous == [200, 200, 429]


class _Unreachable(TestDatabase):
    """The test database, except that reading a key finds the database unreachable."""

    __test__ = False

    def session(self, *, write: bool) -> Session:
        raise OperationalError("SELECT api_keys", {}, ConnectionError("connection refused"))


def test_a_key_check_on_an_unreachable_database_is_503(
    settings: Settings, database: TestDatabase
) -> None:
    app = create_app(settings, database=_Unreachable(database.connection))
    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/v1/feed", headers={"Authorization": "Bearer ssk_000000000000_x"})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"
