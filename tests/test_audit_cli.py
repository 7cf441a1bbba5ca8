"""``smartsteps export``: the same exports from the command line, progress on stderr."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session
from typer.testing import CliRunner

from api.app import create_app
from api.auth import Role, issue_key
from api.cli import app as cli
from api.db import EngineDatabase, make_engine
from api.settings import Settings, get_settings
from tests.conftest import upgrade_with_register
from tests.factories_procurement import BUYER, approved, at, create_procurement, notice, post_step
from tests.test_audit_ocds import errors_of


@pytest.fixture
def database_url(
    fresh_database_url: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A committed database with two procurements (two steps each), as the CLI sees it."""
    url = fresh_database_url()
    upgrade_with_register(url)
    settings = Settings(data_dir=tmp_path, database_url=url)
    engine = make_engine(settings)
    with Session(engine) as session:
        issued = issue_key(session, role=Role.officer, label="t", municipality_code=BUYER)
        session.commit()
    headers = {"Authorization": f"Bearer {issued.secret}"}
    with TestClient(create_app(settings, EngineDatabase(engine))) as client:
        for _ in range(2):
            ocid = create_procurement(client, headers)
            post_step(client, headers, ocid, approved(at("2026-01-05")))
            post_step(client, headers, ocid, notice(at("2026-01-12"), at("2026-02-06")))
    engine.dispose()
    monkeypatch.setenv("SMARTSTEPS_DATABASE_URL", url)
    monkeypatch.setenv("SMARTSTEPS_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_export_steps_jsonl_to_a_file(database_url: str, tmp_path: Path) -> None:
    target = tmp_path / "steps.jsonl"
    result = CliRunner().invoke(cli, ["export", "steps", "--output", str(target)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert [row["type"] for row in rows] == ["procurement_approved", "notice_published"] * 2
    assert "steps: 4 exported" in result.stderr


def test_export_procurements_csv_to_stdout(database_url: str) -> None:
    result = CliRunner().invoke(
        cli, ["export", "procurements", "--format", "csv", "--delimiter", "semicolon", "--bom"]
    )
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("\ufeffocid;")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert len(rows) == 2
    assert {row["status"] for row in rows} == {"tendering"}


def test_export_ocds_record_package(database_url: str, tmp_path: Path) -> None:
    target = tmp_path / "records.json"
    result = CliRunner().invoke(cli, ["export", "ocds", "--buyer", BUYER, "-o", str(target)])
    assert result.exit_code == 0, result.output
    package = json.loads(target.read_text())
    assert errors_of("record-package-schema", package) == []
    assert len(package["records"]) == 2


def test_export_refuses_a_bad_format(database_url: str) -> None:
    result = CliRunner().invoke(cli, ["export", "steps", "--format", "xml"])
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("args", "api"),
    [
        (["export", "ocds"], "/v1/exports/procurements"),
        (["export", "procurements", "--format", "ocds"], "/v1/exports/procurements"),
        (["export", "steps", "--format", "ocds"], "/v1/exports/steps"),
    ],
)
def test_an_ocds_export_matching_nothing_fails_as_the_api_does(
    database_url: str, tmp_path: Path, client: TestClient, args: list[str], api: str
) -> None:
    target = tmp_path / "package.json"
    result = CliRunner().invoke(cli, [*args, "--buyer", "999999", "-o", str(target)])
    response = client.get(api, params={"format": "ocds", "buyer": "999999"})
    assert response.status_code == 404
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert result.output == f"error: {response.json()['detail']}\n"
    assert not target.exists()
