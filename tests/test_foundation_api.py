"""API conventions: problem+json errors, body limit, pagination, keys, idempotency."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, text
from sqlmodel import Session, select

from api.app import create_app
from api.auth import ApiKey, Caller, Role, VerifiedKeys, utcnow
from api.idempotency import IdempotencyRecord
from api.settings import Settings
from tests.conftest import MakeKey, TestDatabase

PROBLEM = "application/problem+json"


def test_unknown_route_is_problem_404(client: TestClient) -> None:
    response = client.get("/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 404


def test_wrong_method_is_405_with_every_allowed_method(client: TestClient) -> None:
    response = client.put("/v1/keys")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert "PUT" not in allowed


def test_body_over_limit_is_413(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    big = b'{"role":"admin","label":"' + b"x" * (1024 * 1024) + b'"}'
    response = client.post(
        "/v1/keys", content=big, headers={**admin, "content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


def test_chunked_body_over_limit_is_413(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)

    def chunks():  # a generator body is sent without Content-Length
        yield b'{"role":"admin","label":"'
        for _ in range(1100):
            yield b"x" * 1024
        yield b'"}'

    response = client.post(
        "/v1/keys", content=chunks(), headers={**admin, "content-type": "application/json"}
    )
    assert response.status_code == 413


def test_validation_error_lists_pointers_without_echoing_input(
    client: TestClient, make_key: MakeKey
) -> None:
    admin = make_key(Role.admin)
    secret_value = "<script>alert('x')</script>"
    response = client.post(
        "/v1/keys",
        json={"role": secret_value, "label": "ok", "colour": secret_value},
        headers=admin,
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    pointers = {(e["in"], e["pointer"]) for e in body["errors"]}
    assert ("body", "/role") in pointers
    assert ("body", "/colour") in pointers
    assert secret_value not in response.text


def test_invalid_json_is_400(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    response = client.post(
        "/v1/keys", content=b"{not json", headers={**admin, "content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


def test_unexpected_error_is_500_without_internals(client: TestClient) -> None:
    def boom() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    client.app.add_api_route("/boom", boom)  # type: ignore[attr-defined]
    response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert "secret internal detail" not in response.text
    assert "incident" in response.json()


def test_health(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_ready_reports_database_at_head(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_me_without_key_is_401_problem(client: TestClient) -> None:
    response = client.get("/v1/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == "Bearer"


def test_me_names_the_key(client: TestClient, make_key: MakeKey) -> None:
    officer = make_key(Role.officer, municipality_code="554979")
    body = client.get("/v1/me", headers=officer).json()
    assert body["role"] == "officer"
    assert body["municipality_code"] == "554979"


def test_garbage_key_is_401(client: TestClient) -> None:
    response = client.get("/v1/me", headers={"Authorization": "Bearer ssk_000000000000_nope"})
    assert response.status_code == 401


def test_expired_key_is_401(client: TestClient, make_key: MakeKey) -> None:
    expired = make_key(Role.admin, expires_at=utcnow() - timedelta(seconds=1))
    response = client.get("/v1/me", headers=expired)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_created_key_works_once_shown_and_is_stored_hashed(
    client: TestClient, make_key: MakeKey, session: Session
) -> None:
    admin = make_key(Role.admin)
    response = client.post("/v1/keys", json={"role": "auditor", "label": "NGO"}, headers=admin)
    assert response.status_code == 201
    secret = response.json()["key"]
    key_id = response.json()["id"]
    stored = session.get(ApiKey, key_id)
    assert stored is not None
    assert secret not in stored.secret_hash
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json()["role"] == "auditor"
    listed = client.get("/v1/keys", headers=admin).json()["items"]
    assert all("key" not in item for item in listed)


def test_revoked_key_is_401(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    created = client.post("/v1/keys", json={"role": "auditor", "label": "x"}, headers=admin).json()
    auditor = {"Authorization": f"Bearer {created['key']}"}
    assert client.get("/v1/me", headers=auditor).status_code == 200
    assert client.delete(f"/v1/keys/{created['id']}", headers=admin).status_code == 204
    response = client.get("/v1/me", headers=auditor)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_key_records_who_created_it(
    client: TestClient, make_key: MakeKey, session: Session
) -> None:
    admin = make_key(Role.admin)
    admin_id = client.get("/v1/me", headers=admin).json()["key_id"]
    created = client.post("/v1/keys", json={"role": "auditor", "label": "x"}, headers=admin).json()
    stored = session.get(ApiKey, created["id"])
    assert stored is not None
    assert stored.created_by_key_id == admin_id


def test_officer_key_needs_municipality(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    response = client.post("/v1/keys", json={"role": "officer", "label": "x"}, headers=admin)
    assert response.status_code == 422
    assert "municipality" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"role": "officer"}, "/municipality_code"),
        ({"role": "vendor"}, "/vendor_id"),
        ({"role": "auditor", "municipality_code": "554979"}, "/municipality_code"),
        ({"role": "admin", "vendor_id": 1}, "/vendor_id"),
    ],
)
def test_key_scope_that_does_not_fit_the_role_points_at_the_field(
    client: TestClient, make_key: MakeKey, body: dict[str, object], pointer: str
) -> None:
    admin = make_key(Role.admin)
    response = client.post("/v1/keys", json={**body, "label": "x"}, headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    (error,) = response.json()["errors"]
    assert error["pointer"] == pointer
    assert error["in"] == "body"
    assert error["detail"]


def test_pagination_walks_all_items_with_link_header(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    for _ in range(5):
        make_key(Role.auditor)
    seen: list[str] = []
    response = client.get("/v1/keys", params={"limit": 2}, headers=admin)
    pages = 0
    while True:
        pages += 1
        body = response.json()
        seen += [item["id"] for item in body["items"]]
        if body["next_cursor"] is None:
            assert "link" not in response.headers
            break
        assert 'rel="next"' in response.headers["link"]
        response = client.get(
            "/v1/keys", params={"limit": 2, "cursor": body["next_cursor"]}, headers=admin
        )
    assert len(seen) == len(set(seen)) == 6
    assert pages == 3


def test_tampered_cursor_is_400(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    make_key(Role.auditor)
    cursor = client.get("/v1/keys", params={"limit": 1}, headers=admin).json()["next_cursor"]
    tampered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    response = client.get("/v1/keys", params={"cursor": tampered}, headers=admin)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


def _count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_idempotent_retry_returns_stored_response_and_writes_once(
    client: TestClient, make_key: MakeKey, session: Session
) -> None:
    admin = make_key(Role.admin)
    before = _count(session, ApiKey)
    headers = {**admin, "Idempotency-Key": "create-ngo-key-1"}
    first = client.post("/v1/keys", json={"role": "auditor", "label": "NGO"}, headers=headers)
    second = client.post("/v1/keys", json={"role": "auditor", "label": "NGO"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert _count(session, ApiKey) == before + 1


def test_idempotency_key_with_other_body_is_422(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    headers = {**admin, "Idempotency-Key": "k-2"}
    assert (
        client.post("/v1/keys", json={"role": "auditor", "label": "a"}, headers=headers).status_code
        == 201
    )
    other = client.post("/v1/keys", json={"role": "auditor", "label": "b"}, headers=headers)
    assert other.status_code == 422


def test_idempotency_key_in_flight_is_409(
    client: TestClient, make_key: MakeKey, session: Session
) -> None:
    admin = make_key(Role.admin)
    admin_id = client.get("/v1/me", headers=admin).json()["key_id"]
    body = b'{"role":"auditor","label":"a"}'
    # Another request with this key was claimed a moment ago and has not answered yet.
    import hashlib

    digest = hashlib.sha256(b"POST /v1/keys\n" + body).hexdigest()
    session.add(
        IdempotencyRecord(
            caller_key_id=admin_id,
            idempotency_key="k-3",
            request_hash=digest,
            lease_until=utcnow() + timedelta(minutes=1),
        )
    )
    session.commit()
    response = client.post(
        "/v1/keys",
        content=body,
        headers={**admin, "Idempotency-Key": "k-3", "content-type": "application/json"},
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM


def test_failed_request_frees_its_idempotency_key(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    headers = {**admin, "Idempotency-Key": "k-4"}
    past = (utcnow() - timedelta(days=1)).isoformat()
    body = {"role": "auditor", "label": "a", "expires_at": past}
    assert client.post("/v1/keys", json=body, headers=headers).status_code == 422
    # The same request again is evaluated again, not answered 409 "in flight".
    assert client.post("/v1/keys", json=body, headers=headers).status_code == 422


def _revoke_behind_the_app(session: Session, headers: dict[str, str]) -> None:
    """Revoke a key with SQL, as another server process would: this app is not told."""
    key_id = headers["Authorization"].removeprefix("Bearer ").split("_")[1]
    session.execute(
        text("UPDATE api_keys SET revoked_at = :now WHERE id = :id"),
        {"now": utcnow(), "id": key_id},
    )
    session.commit()


def test_a_checked_key_is_trusted_for_the_cache_time(
    client: TestClient, make_key: MakeKey, session: Session
) -> None:
    auditor = make_key(Role.auditor)
    assert client.get("/v1/me", headers=auditor).status_code == 200
    _revoke_behind_the_app(session, auditor)
    # Within auth_cache_seconds (2 s by default) the key checked a moment ago still passes.
    assert client.get("/v1/me", headers=auditor).status_code == 200


def test_without_the_cache_a_revocation_elsewhere_counts_at_once(
    settings: Settings, database: TestDatabase, make_key: MakeKey, session: Session
) -> None:
    uncached = create_app(settings.model_copy(update={"auth_cache_seconds": 0}), database)
    with TestClient(uncached, raise_server_exceptions=False) as client:
        auditor = make_key(Role.auditor)
        assert client.get("/v1/me", headers=auditor).status_code == 200
        _revoke_behind_the_app(session, auditor)
        response = client.get("/v1/me", headers=auditor)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_a_cached_key_never_outlives_its_expiry() -> None:
    keys = VerifiedKeys()
    caller = Caller(key_id="k1", role=Role.admin)
    keys.put("gone", caller, ttl=60, expires_at=utcnow() - timedelta(seconds=1))
    keys.put("live", caller, ttl=60, expires_at=utcnow() + timedelta(hours=1))
    assert keys.get("gone") is None
    assert keys.get("live") == caller
    keys.forget_all()
    assert keys.get("live") is None
