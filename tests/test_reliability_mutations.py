"""Every write route, given a body that is valid but for one thing: a 4xx problem+json, and
nothing written. The valid body itself is accepted (so the mutations are not vacuous).

Each write route needs an entry in ``VALID_REQUESTS``; a route added without one fails
``test_every_write_route_has_a_valid_example``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from api.auth import Role
from api.metadata import metadata
from api.routes import api_routes
from tests import factories_catalogue as cf
from tests import factories_procurement as pf
from tests.conftest import MakeKey
from tests.factories_catalogue import VALID_ICOS

WRITE_METHODS = {"POST", "PUT", "PATCH"}


@dataclass
class Example:
    """A valid request to one write route, prepared in the test's database."""

    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    ok: int = 201
    # A route that takes a file (not JSON): its bytes and media type, mutated file-wise.
    content: bytes | None = None
    content_type: str = "application/json"


@dataclass
class Context:
    client: TestClient
    make_key: MakeKey
    session: Session


def _key_example(ctx: Context) -> Example:
    return Example(
        "POST",
        "/v1/keys",
        {
            "role": "officer",
            "label": "Obec Lhota",
            "municipality_code": "500011",
            "expires_at": _moment(days=90),
        },
        ctx.make_key(Role.admin),
    )


def _moment(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _etag(ctx: Context, path: str) -> dict[str, str]:
    response = ctx.client.get(path)
    assert response.status_code == 200, response.text
    return {"If-Match": response.headers["ETag"]}


def _vendor_example(ctx: Context) -> Example:
    body = {"ico": VALID_ICOS[1], "name": "Chytrá obec s.r.o.", "website": "https://example.cz"}
    return Example("POST", "/v1/vendors", body, ctx.make_key(Role.admin))


def _vendor_patch_example(ctx: Context) -> Example:
    vendor = cf.make_vendor(ctx.session)
    ctx.session.commit()
    path = f"/v1/vendors/{vendor.id}"
    headers = {**ctx.make_key(Role.admin), **_etag(ctx, path)}
    body = {"name": "Nový název s.r.o.", "website": "https://example.cz/novy"}
    return Example("PATCH", path, body, headers, ok=200)


def _solution_body(vendor_id: int) -> dict[str, Any]:
    return {
        "vendor_id": vendor_id,
        "name": "Chytré osvětlení",
        "summary": "Dálkově řízené LED lampy",
        "areas": ["energy_environment"],
        "standards": ["lorawan", "mqtt"],
        "trl": 8,
        "open_source": True,
        "licence": "EUPL-1.2",
    }


def _solution_example(ctx: Context) -> Example:
    vendor = cf.make_vendor(ctx.session)
    ctx.session.commit()
    return Example("POST", "/v1/solutions", _solution_body(vendor.id), ctx.make_key(Role.admin))


def _solution_patch_example(ctx: Context) -> Example:
    solution = cf.make_solution(ctx.session)
    ctx.session.commit()
    path = f"/v1/solutions/{solution.id}"
    headers = {**ctx.make_key(Role.admin), **_etag(ctx, path)}
    body = {"summary": "Nový popis", "trl": 9, "standards": ["mqtt"], "exit_clause": True}
    return Example("PATCH", path, body, headers, ok=200)


def _compatibility_example(ctx: Context) -> Example:
    body = {"standards": ["lorawan", "mqtt"], "areas": ["energy_environment"], "limit": 5}
    return Example("POST", "/v1/compatibility", body, ok=200)


def _pilot_body() -> dict[str, Any]:
    return {
        "municipality_code": cf.KNEZICE,
        "title": "Chytré veřejné osvětlení",
        "summary": "LED lampy s řízením",
        "areas": ["energy_environment"],
        "status": "implemented",
        "started_on": "2024-03-01",
        "ended_on": "2025-02-28",
        "budget_czk": "250000.00",
        "lessons_learned": "Domluvit se se sousedy.",
        "open_data_url": "https://data.example.cz/osvetleni",
    }


def _pilot_example(ctx: Context) -> Example:
    return Example("POST", "/v1/pilots", _pilot_body(), ctx.make_key(Role.admin))


def _pilot_patch_example(ctx: Context) -> Example:
    pilot = cf.make_pilot(ctx.session)
    ctx.session.commit()
    path = f"/v1/pilots/{pilot.id}"
    headers = {**ctx.make_key(Role.admin), **_etag(ctx, path)}
    body = {"summary": "Nový popis", "budget_czk": "99000.00", "ended_on": "2025-06-30"}
    return Example("PATCH", path, body, headers, ok=200)


def _procurement_example(ctx: Context) -> Example:
    return Example("POST", "/v1/procurements", pf.procurement_body(), ctx.make_key(Role.admin))


def _step_example(ctx: Context) -> Example:
    admin = ctx.make_key(Role.admin)
    ocid = pf.create_procurement(
        ctx.client, admin, procedure="small_scale", estimated_value_excl_vat="300000.00"
    )
    pf.post_step(ctx.client, admin, ocid, pf.approved(pf.ago(30)))
    body = pf.invitation(pf.ago(29), pf.ago(20))
    body["documents"] = [
        {
            "title": "Výzva k podání nabídek",
            "url": "https://profil.example.cz/vz/1/vyzva.pdf",
            "sha256": "a" * 64,
            "size": 12345,
            "media_type": "application/pdf",
        }
    ]
    return Example("POST", f"/v1/procurements/{ocid}/steps", body, admin)


def _buyer_profile_example(ctx: Context) -> Example:
    from tests.factories_imports import current_export

    return Example(
        "POST",
        f"/v1/imports/buyer-profile?buyer={pf.BUYER}",
        {},
        ctx.make_key(Role.officer, municipality_code=pf.BUYER),
        ok=200,
        content=current_export(),
        content_type="application/xml",
    )


def _file_mutations(content: bytes, content_type: str) -> Iterator[tuple[str, bytes, str]]:
    """Copies of a file with exactly one thing wrong: (what, bytes, media type)."""
    yield "cut short", content[: len(content) // 2], content_type
    yield "not the declared media type", content, "application/json"
    yield "empty", b"", content_type
    yield (
        "another root",
        content.replace(b"<profil ", b"<dump ").replace(b"</profil>", b"</dump>"),
        content_type,
    )
    declaration = b'<!DOCTYPE profil [<!ENTITY x SYSTEM "file:///etc/hostname">]>\n'
    yield "a DOCTYPE", content.replace(b"<profil ", declaration + b"<profil ", 1), content_type
    yield "not UTF-8", content.replace("Město".encode(), "Město".encode("cp1250")), content_type


VALID_REQUESTS: dict[tuple[str, str], Callable[[Context], Example]] = {
    ("POST", "/v1/keys"): _key_example,
    ("POST", "/v1/vendors"): _vendor_example,
    ("PATCH", "/v1/vendors/{vendor_id}"): _vendor_patch_example,
    ("POST", "/v1/solutions"): _solution_example,
    ("PATCH", "/v1/solutions/{solution_id}"): _solution_patch_example,
    ("POST", "/v1/compatibility"): _compatibility_example,
    ("POST", "/v1/pilots"): _pilot_example,
    ("PATCH", "/v1/pilots/{pilot_id}"): _pilot_patch_example,
    ("POST", "/v1/procurements"): _procurement_example,
    ("POST", "/v1/procurements/{ocid}/steps"): _step_example,
    ("POST", "/v1/imports/buyer-profile"): _buyer_profile_example,
}


def test_every_write_route_has_a_valid_example(app: FastAPI) -> None:
    routes = {
        (method, route.path)
        for route in api_routes(app)
        for method in set(route.methods) & WRITE_METHODS
    }
    missing = sorted(routes - set(VALID_REQUESTS))
    assert not missing, f"write routes without an example in VALID_REQUESTS: {missing}"


def _date_like(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}(T.*)?", value) is not None


DECIMAL = re.compile(r"^-?\d+\.\d{2}$")


def _mutations(body: dict[str, Any], at: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Copies of ``body`` with exactly one thing wrong (nested objects included)."""
    if not at:
        yield "unknown field", {**body, "zz_not_a_field": 1}
    for name, value in body.items():
        where = f"{at}/{name}"
        if isinstance(value, bool):
            yield f"{where}: not a boolean", {**body, name: "perhaps"}
        elif isinstance(value, (int, float)):
            yield f"{where}: not a number", {**body, name: "twelve"}
            yield f"{where}: huge number", {**body, name: 10**400}
            yield f"{where}: negative", {**body, name: -1}
        elif _date_like(value):
            assert isinstance(value, str)
            suffix = value[10:]
            yield f"{where}: far future", {**body, name: "2999-01-01" + suffix}
            yield f"{where}: before 1990", {**body, name: "1989-12-31" + suffix}
            yield f"{where}: not a date", {**body, name: "yesterday"}
        elif isinstance(value, str) and DECIMAL.match(value):
            yield f"{where}: negative amount", {**body, name: "-1.00"}
            yield f"{where}: huge amount", {**body, name: "1" + "0" * 40 + ".00"}
            yield f"{where}: not an amount", {**body, name: "lots"}
        elif isinstance(value, str):
            yield f"{where}: wrong type", {**body, name: {"a": 1}}
            yield f"{where}: 1 MB string", {**body, name: "x" * 1_000_000}
            yield f"{where}: NUL byte", {**body, name: value[:1] + "\u0000" + value[1:]}
        elif isinstance(value, list):
            yield f"{where}: not a list", {**body, name: "x"}
            yield f"{where}: 100,000 items", {**body, name: [value[0] if value else 1] * 100_000}
        elif isinstance(value, dict):
            yield f"{where}: not an object", {**body, name: 7}
            yield f"{where}: unknown field", {**body, name: {**value, "zz_not_a_field": 1}}
            for what, inner in _mutations(value, where):
                yield what, {**body, name: inner}


@pytest.fixture
def row_counts(session: Session) -> Callable[[], dict[str, int]]:
    def counts() -> dict[str, int]:
        return {
            name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in metadata.tables.items()
        }

    return counts


@pytest.mark.parametrize("route", sorted(VALID_REQUESTS), ids=lambda r: f"{r[0]} {r[1]}")
def test_one_thing_wrong_is_4xx_and_writes_nothing(
    route: tuple[str, str],
    client: TestClient,
    make_key: MakeKey,
    session: Session,
    row_counts: Callable[[], dict[str, int]],
) -> None:
    example = VALID_REQUESTS[route](Context(client, make_key, session))
    before = row_counts()
    if example.content is not None:
        for what, content, media_type in _file_mutations(example.content, example.content_type):
            headers = {**example.headers, "Content-Type": media_type}
            response = client.request(
                example.method, example.path, content=content, headers=headers
            )
            assert 400 <= response.status_code < 500, f"{what}: {response.status_code}"
            assert response.headers["content-type"] == "application/problem+json", what
            assert row_counts() == before, f"{what}: rows written"
        headers = {**example.headers, "Content-Type": example.content_type}
        accepted = client.request(
            example.method, example.path, content=example.content, headers=headers
        )
        assert accepted.status_code == example.ok, accepted.text
        return
    for what, body in _mutations(example.body):
        response = client.request(example.method, example.path, json=body, headers=example.headers)
        assert 400 <= response.status_code < 500, f"{what}: {response.status_code}"
        assert response.headers["content-type"] == "application/problem+json", what
        assert row_counts() == before, f"{what}: rows written"
    accepted = client.request(
        example.method, example.path, json=example.body, headers=example.headers
    )
    assert accepted.status_code == example.ok, accepted.text
