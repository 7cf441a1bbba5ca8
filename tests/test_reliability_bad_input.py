"""Hostile and broken bodies on every write route: a 4xx problem+json, and nothing written."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlmodel import Session

from api.auth import Role
from api.metadata import metadata
from api.routes import api_routes
from tests.conftest import MakeKey

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
JSON = {"content-type": "application/json"}

# Bodies that no write route may accept, by what is wrong with them.
HOSTILE_BODIES: dict[str, bytes] = {
    "over the size limit": b'{"x":"' + b"a" * (1024 * 1024 + 10) + b'"}',
    "invalid JSON": b'{"title": "unterminated',
    "invalid UTF-8": b'{"title": "\xff\xfe\xfd"}',
    "nested 10,000 deep": b"[" * 10_000 + b"]" * 10_000,
    "huge integer": b'{"budget_czk": ' + b"9" * 5000 + b"}",
    "huge float": b'{"budget_czk": 1e400}',
    "1 MB string": b'{"title": "' + b"x" * 1_000_000 + b'"}',
    "NUL bytes": b'{"title": "a\\u0000b", "name": "a\\u0000b", "label": "a\\u0000b"}',
    "SQL metacharacters": b'{"title": "x\'); DROP TABLE api_keys; --", "name": "\' OR 1=1 --"}',
    "unknown fields only": b'{"definitely_not_a_field": 1}',
    "wrong top-level type": b'["a", "list", "not", "an", "object"]',
    "a bare string": b'"just a string"',
    "far-future and ancient dates": b'{"started_on": "9999-12-31", "ended_on": "1900-01-01", '
    b'"occurred_at": "2999-01-01T00:00:00Z", "expires_at": "0001-01-01T00:00:00Z"}',
}


def _write_routes(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method, re.sub(r"\{[^}]+\}", "1", route.path))
        for route in api_routes(app)
        for method in set(route.methods) & WRITE_METHODS
        if method != "DELETE"
    )


@pytest.fixture
def row_counts(session: Session) -> Callable[[], dict[str, int]]:
    def counts() -> dict[str, int]:
        return {
            name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in metadata.tables.items()
        }

    return counts


@pytest.mark.parametrize("kind", sorted(HOSTILE_BODIES))
def test_hostile_body_is_4xx_problem_and_writes_nothing(
    app: FastAPI,
    client: TestClient,
    make_key: MakeKey,
    row_counts: Callable[[], dict[str, int]],
    kind: str,
) -> None:
    admin = make_key(Role.admin)
    before = row_counts()
    routes = _write_routes(app)
    assert routes
    for method, path in routes:
        response = client.request(
            method, path, content=HOSTILE_BODIES[kind], headers={**admin, **JSON}
        )
        assert 400 <= response.status_code < 500, f"{method} {path}: {response.status_code}"
        assert response.headers["content-type"] == "application/problem+json", f"{method} {path}"
    assert row_counts() == before


def test_sql_metacharacters_are_stored_as_text(
    client: TestClient, make_key: MakeKey, session: Session
) -> None:
    admin = make_key(Role.admin)
    label = "x'); DROP TABLE api_keys; --"
    response = client.post("/v1/keys", json={"role": "auditor", "label": label}, headers=admin)
    assert response.status_code == 201
    stored = session.execute(
        text("SELECT label FROM api_keys WHERE id = :id"), {"id": response.json()["id"]}
    ).scalar_one()
    assert stored == label


def test_nul_character_in_a_valid_body_is_4xx(
    client: TestClient, make_key: MakeKey, row_counts: Callable[[], dict[str, int]]
) -> None:
    admin = make_key(Role.admin)
    before = row_counts()
    response = client.post("/v1/keys", json={"role": "auditor", "label": "a\u0000b"}, headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert row_counts() == before


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"])
def test_json_in_another_encoding_is_415_and_smuggles_no_nul(
    client: TestClient,
    make_key: MakeKey,
    row_counts: Callable[[], dict[str, int]],
    encoding: str,
) -> None:
    admin = make_key(Role.admin)
    before = row_counts()
    body = json.dumps({"role": "auditor", "label": "a\u0000b"}).encode(encoding)
    response = client.post("/v1/keys", content=body, headers={**admin, **JSON})
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert "UTF-8" in response.json()["detail"]
    assert row_counts() == before


def test_a_declared_charset_other_than_utf8_is_415(
    client: TestClient, make_key: MakeKey, row_counts: Callable[[], dict[str, int]]
) -> None:
    admin = make_key(Role.admin)
    before = row_counts()
    for charset, body in (
        ("utf-16", json.dumps({"role": "auditor", "label": "x"}).encode("utf-16")),
        ("iso-8859-2", b'{"role": "auditor", "label": "x"}'),
    ):
        response = client.post(
            "/v1/keys",
            content=body,
            headers={**admin, "content-type": f"application/json; charset={charset}"},
        )
        assert response.status_code == 415, charset
        assert response.headers["content-type"] == "application/problem+json"
    assert row_counts() == before


def test_utf8_json_is_accepted_with_or_without_a_charset(
    client: TestClient, make_key: MakeKey
) -> None:
    admin = make_key(Role.admin)
    body = json.dumps({"role": "auditor", "label": "Účetní kontrola"}, ensure_ascii=False)
    for content_type in ("application/json", "application/json; charset=UTF-8"):
        response = client.post(
            "/v1/keys",
            content=body.encode(),
            headers={**admin, "content-type": content_type},
        )
        assert response.status_code == 201, response.text
        assert response.json()["label"] == "Účetní kontrola"
