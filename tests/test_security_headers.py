"""Headers and small things an adversarial review found: nosniff on every answer, a
Content-Security-Policy for /docs, LIKE wildcards in q taken literally, proxy headers believed
only from named proxies, private files."""

from __future__ import annotations

import base64
import hashlib
import re
import sqlite3
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session

from api.app import create_app
from api.auth import Role
from api.backup import backup
from api.pagination import load_secret
from api.settings import Settings
from tests import factories_catalogue as cf
from tests.conftest import MakeKey, TestDatabase


def test_every_answer_says_nosniff(
    settings: Settings, database: TestDatabase, make_key: MakeKey
) -> None:
    app = create_app(settings.model_copy(update={"rate_limit_anonymous": "8/minute"}), database)

    def boom() -> None:
        raise RuntimeError("unexpected")

    app.add_api_route("/boom", boom)
    client = TestClient(app, raise_server_exceptions=False)
    admin = make_key(Role.admin)
    answers = {
        "json": client.get("/v1/procedures"),
        "csv export": client.get("/v1/exports/pilots?format=csv"),
        "404": client.get("/v1/no-such-list"),
        "401": client.get("/v1/feed", headers={"Authorization": "Bearer x"}),
        "413": client.post("/v1/keys", content=b"x" * (2 * 1024 * 1024), headers=admin),
        "docs": client.get("/docs"),
        "docs script": client.get("/docs-static/swagger-ui-bundle.js"),
        "health": client.get("/health"),
        "500": client.get("/boom"),
    }
    for _ in range(8):
        client.get("/v1/standards")
    answers["429"] = client.get("/v1/standards")
    assert {name: r.status_code for name, r in answers.items()} == {
        "json": 200,
        "csv export": 200,
        "404": 404,
        "401": 401,
        "413": 413,
        "docs": 200,
        "docs script": 200,
        "health": 200,
        "500": 500,
        "429": 429,
    }
    lacking = [
        n for n, r in answers.items() if r.headers.get("x-content-type-options") != "nosniff"
    ]
    assert lacking == []


def test_the_docs_page_has_a_policy_that_allows_only_its_own_scripts(client: TestClient) -> None:
    response = client.get("/docs")
    policy = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "'unsafe-eval'" not in policy
    # Every script on the page is either loaded from this service or allowed by its hash.
    page = response.text
    sources = re.findall(r'<script src="([^"]+)"', page)
    assert sources
    assert all(source.startswith("/docs-static/") for source in sources)
    inline = re.findall(r"<script>(.*?)</script>", page, re.DOTALL)
    assert inline
    script_src = directives["script-src"].split()
    assert "'self'" in script_src
    assert "'unsafe-inline'" not in script_src
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in script_src
    for asset in [*sources, *re.findall(r'<link[^>]+href="([^"]+)"', page)]:
        assert client.get(asset).status_code == 200, asset


@pytest.mark.parametrize("q", ["%", "_", "/", "\\"])
def test_like_wildcards_in_q_are_taken_literally(
    client: TestClient, session: Session, q: str
) -> None:
    cf.make_vendor(session, name="Chytrá obec s.r.o.")
    cf.make_vendor(session, ico=cf.VALID_ICOS[1], name=f"Sto{q}procent a.s.")
    session.commit()
    found = client.get("/v1/vendors", params={"q": q}).json()["items"]
    assert [v["name"] for v in found] == [f"Sto{q}procent a.s."]
    assert client.get("/v1/vendors", params={"q": "100%"}).json()["items"] == []


def test_proxy_headers_count_only_from_a_named_proxy(
    settings: Settings, database: TestDatabase
) -> None:
    limited = settings.model_copy(update={"rate_limit_anonymous": "2/minute"})
    proxied = Settings.model_validate(
        {**limited.model_dump(), "trusted_proxies": "10.0.0.0/8, 192.0.2.7"}
    )
    clients = ("198.51.100.1", "198.51.100.2", "198.51.100.3")

    def statuses(settings: Settings, peer: str) -> list[int]:
        client = TestClient(create_app(settings, database), client=(peer, 4000))
        return [
            client.get("/v1/standards", headers={"X-Forwarded-For": address}).status_code
            for address in clients
        ]

    # Not named: every request counts against the peer's own address.
    assert statuses(limited, "10.1.2.3") == [200, 200, 429]
    assert statuses(proxied, "203.0.113.9") == [200, 200, 429]
    # A named proxy: each forwarded client has its own budget.
    assert statuses(proxied, "10.1.2.3") == [200, 200, 200]
    assert statuses(proxied, "192.0.2.7") == [200, 200, 200]


@pytest.mark.parametrize("value", ["*", "proxy.example.cz", "10.0.0.0/33"])
def test_trusted_proxies_are_addresses(value: str) -> None:
    with pytest.raises(ValidationError):
        Settings(trusted_proxies=value)


def test_backups_and_the_cursor_key_are_created_private(tmp_path: Path) -> None:
    source = tmp_path / "source.sqlite3"
    with sqlite3.connect(source) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()
    backup(f"sqlite:///{source}", tmp_path / "backup.sqlite3")
    load_secret(tmp_path / "keys" / "secret.key")
    for written in (tmp_path / "backup.sqlite3", tmp_path / "keys" / "secret.key"):
        assert stat.S_IMODE(written.stat().st_mode) == 0o600, written
