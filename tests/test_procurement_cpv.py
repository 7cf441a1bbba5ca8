"""CPV codes: the format always; the code itself against an imported official list."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, pool, text
from sqlmodel import Session

from api.auth import Role
from api.migrate import upgrade
from procurement.cpv import import_cpv, parse_cpv_file
from tests.conftest import MakeKey
from tests.factories_procurement import procurement_body
from tests.servers import ROOT

CSV = "\ufeffCODE;CS\n03000000-1;Zemědělské produkty\n34993000-4;Osvětlení silnic\nbad;row\n"


def test_parse_skips_header_and_bad_rows() -> None:
    assert list(parse_cpv_file(CSV)) == [
        ("03000000-1", "Zemědělské produkty"),
        ("34993000-4", "Osvětlení silnic"),
    ]


def test_check_digit_is_never_computed_before_a_list_is_imported(
    client: TestClient, make_key: MakeKey
) -> None:
    admin = make_key(Role.admin)
    # A well-formed code with any check digit passes while no list is imported.
    response = client.post(
        "/v1/procurements", json=procurement_body(cpv=["34993000-7"]), headers=admin
    )
    assert response.status_code == 201


def test_codes_are_checked_against_the_imported_list(
    client: TestClient, make_key: MakeKey, session: Session, tmp_path: Path
) -> None:
    admin = make_key(Role.admin)
    listing = tmp_path / "cpv.csv"
    listing.write_text(CSV, encoding="utf-8")
    assert import_cpv(session, listing) == 2
    session.commit()
    ok = client.post("/v1/procurements", json=procurement_body(cpv=["34993000-4"]), headers=admin)
    assert ok.status_code == 201
    wrong = client.post(
        "/v1/procurements", json=procurement_body(cpv=["34993000-7"]), headers=admin
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["pointer"] == "/cpv"
    assert "34993000-7" in wrong.json()["detail"]


def test_cli_imports_the_list(fresh_database_url: Callable[[], str], tmp_path: Path) -> None:
    url = fresh_database_url()
    upgrade(url)
    listing = tmp_path / "cpv.csv"
    listing.write_text(CSV, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", "from api.cli import app; app()", "import", "cpv", str(listing)],
        cwd=ROOT,
        env={**os.environ, "SMARTSTEPS_DATABASE_URL": url, "SMARTSTEPS_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "imported 2 CPV codes" in result.stdout
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        codes = connection.execute(text("SELECT code FROM cpv_vocabulary ORDER BY code")).all()
    engine.dispose()
    assert [c.code for c in codes] == ["03000000-1", "34993000-4"]
