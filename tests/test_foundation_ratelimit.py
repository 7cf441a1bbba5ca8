"""Rate limits: per key, per client address for anonymous requests; 429 with Retry-After."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import Role
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
