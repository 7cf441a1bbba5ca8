"""Every write route is guarded: this walks all routes the app registers, so a route added
without a role guard fails here."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.auth import Role, utcnow
from api.routes import api_routes, is_guarded
from tests.conftest import MakeKey
from tests.factories_catalogue import make_vendor

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# POSTs that only compute an answer from the body and write nothing; public like reads.
READ_ONLY_POSTS = {"/v1/compatibility"}


def _write_routes(app: FastAPI) -> list[tuple[str, str, frozenset[Role]]]:
    found = []
    for route in api_routes(app):
        for method in sorted(set(route.methods) & WRITE_METHODS):
            if method == "POST" and route.path in READ_ONLY_POSTS:
                continue
            found.append((method, route.path, _required_roles(route)))
    return found


def _required_roles(route: object) -> frozenset[Role]:
    stack = [route.dependant]  # type: ignore[attr-defined]
    roles: frozenset[Role] = frozenset()
    while stack:
        dependant = stack.pop()
        roles = roles | getattr(dependant.call, "required_roles", frozenset())
        stack.extend(dependant.dependencies)
    return roles


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_write_route_has_a_role_guard(app: FastAPI) -> None:
    unguarded = [
        f"{method} {path}"
        for route in api_routes(app)
        for method in set(route.methods) & WRITE_METHODS
        if (path := route.path) not in READ_ONLY_POSTS and not is_guarded(route)
    ]
    assert unguarded == []


def test_no_write_route_is_open_to_every_role(app: FastAPI) -> None:
    open_to_all = [f"{m} {p}" for m, p, roles in _write_routes(app) if roles >= set(Role)]
    assert open_to_all == []


def test_write_without_key_is_401(app: FastAPI, client: TestClient) -> None:
    routes = _write_routes(app)
    assert routes, "the app registers write routes"
    for method, path, _ in routes:
        response = client.request(method, _concrete(path), json={})
        assert response.status_code == 401, f"{method} {path}"
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_write_with_dead_key_is_401(
    app: FastAPI, client: TestClient, make_key: MakeKey, state: str
) -> None:
    admin = make_key(Role.admin)
    if state == "expired":
        dead = make_key(Role.admin, expires_at=utcnow() - timedelta(minutes=1))
    else:
        created = client.post("/v1/keys", json={"role": "admin", "label": "x"}, headers=admin)
        client.delete(f"/v1/keys/{created.json()['id']}", headers=admin)
        dead = {"Authorization": f"Bearer {created.json()['key']}"}
    for method, path, _ in _write_routes(app):
        response = client.request(method, _concrete(path), json={}, headers=dead)
        assert response.status_code == 401, f"{method} {path}"


def _key_outside(roles: frozenset[Role], make_key: MakeKey, session: Session) -> dict[str, str]:
    wrong = sorted(set(Role) - roles)[0]
    if wrong is Role.officer:
        return make_key(wrong, municipality_code="554979")
    if wrong is Role.vendor:
        return make_key(wrong, vendor_id=make_vendor(session).id)
    return make_key(wrong)


def test_write_with_wrong_role_is_403(
    app: FastAPI, client: TestClient, make_key: MakeKey, session: Session
) -> None:
    for method, path, roles in _write_routes(app):
        key = _key_outside(roles, make_key, session)
        response = client.request(method, _concrete(path), json={}, headers=key)
        assert response.status_code == 403, f"{method} {path} ({sorted(roles)})"
