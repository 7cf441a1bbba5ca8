"""OCDS over HTTP: what the packages say about the buyer, the procedure's legal ground and
their own publication, and that the bulk steps package compiles to complete records."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from ocdsmerge import Merger
from pydantic import ValidationError
from sqlmodel import Session
from typer.testing import CliRunner

from api.app import create_app
from api.auth import Role
from api.cli import app as cli
from api.settings import Settings
from tests.conftest import MakeKey, TestDatabase
from tests.factories_procurement import (
    BUYER,
    approved,
    at,
    bids,
    contract,
    create_procurement,
    evaluation,
    notice,
    payment,
    procurement_body,
    selection,
)
from tests.factories_procurement import post_step as post
from tests.test_audit_cli import database_url  # noqa: F401 - the committed-database fixture
from tests.test_audit_ocds import SCHEMA_DIR, errors_of, references

LEGAL_GROUND = "§ 63 odst. 3 písm. b) ZZVZ"
CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"


@pytest.fixture
def officer(make_key: MakeKey) -> dict[str, str]:
    return make_key(Role.officer, municipality_code=BUYER)


def trail(client: TestClient, headers: dict[str, str], **overrides: Any) -> str:
    """Approval (January) to a payment (May)."""
    ocid = create_procurement(client, headers, **overrides)
    for body in (
        approved(at("2026-01-05")),
        notice(at("2026-01-12"), at("2026-02-06")),
        bids(at("2026-02-06", 11)),
        evaluation(at("2026-02-10")),
        selection(at("2026-02-11")),
        contract(at("2026-03-02"), "2026-03-02"),
        payment(at("2026-05-04"), "2026-05-04"),
    ):
        post(client, headers, ocid, body)
    return ocid


def compile_package(package: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Compiled release per ocid, as the reference merger (ocdskit compile) makes them."""
    merger = Merger(str(SCHEMA_DIR / "release-schema.json"))
    by_ocid: dict[str, list[dict[str, Any]]] = {}
    for release in package["releases"]:
        by_ocid.setdefault(release["ocid"], []).append(release)
    return {ocid: merger.create_compiled_release(rs) for ocid, rs in by_ocid.items()}


def steps_package(client: TestClient, **params: str) -> dict[str, Any]:
    response = client.get("/v1/exports/steps", params={"format": "ocds", **params})
    assert response.status_code == 200, response.text
    package: dict[str, Any] = response.json()
    assert errors_of("release-package-schema", package) == []
    return package


def test_the_steps_package_compiles_to_records_with_their_buyer(
    client: TestClient, officer: dict[str, str]
) -> None:
    ocid = trail(client, officer)
    package = steps_package(client)
    assert package["releases"][0]["id"] == f"{ocid}-0"
    compiled = compile_package(package)[ocid]
    parties = {p["id"]: p for p in compiled["parties"]}
    assert parties["CZ-KOD-OBCE-554979"]["name"] == "Abertamy"
    assert parties["CZ-KOD-OBCE-554979"]["roles"] == ["buyer", "procuringEntity", "payer"]
    assert references(compiled) <= set(parties)


def test_a_dated_steps_package_compiles_with_its_buyer(
    client: TestClient, officer: dict[str, str]
) -> None:
    ocid = trail(client, officer)
    # February: the bids, the evaluation and the selection
    package = steps_package(client, **{"from": "2026-02-06", "to": "2026-02-28"})
    assert [r["id"] for r in package["releases"]] == [f"{ocid}-{n}" for n in (0, 3, 4, 5)]
    compiled = compile_package(package)[ocid]
    parties = {p["id"]: p for p in compiled["parties"]}
    assert "buyer" in parties["CZ-KOD-OBCE-554979"]["roles"]
    assert references(compiled) <= set(parties)


def test_the_buyer_is_identified_by_the_ico_the_register_gives(
    client: TestClient, officer: dict[str, str], session: Session
) -> None:
    ocid = trail(client, officer)
    before = client.get(f"/v1/procurements/{ocid}/ocds/record").json()
    assert before["records"][0]["compiledRelease"]["buyer"]["id"] == "CZ-KOD-OBCE-554979"
    session.execute(
        sa.text("UPDATE municipalities SET ico = '00254657' WHERE code = :code"),
        {"code": BUYER},
    )
    session.commit()
    for package in (
        client.get(f"/v1/procurements/{ocid}/ocds/record").json(),
        client.get("/v1/exports/procurements", params={"format": "ocds"}).json(),
    ):
        compiled = package["records"][0]["compiledRelease"]
        assert compiled["buyer"] == {"id": "CZ-ICO-00254657", "name": "Abertamy"}
        buyer = next(p for p in compiled["parties"] if p["id"] == "CZ-ICO-00254657")
        assert buyer["additionalIdentifiers"] == [{"scheme": "CZ-KOD-OBCE", "id": BUYER}]
    compiled = compile_package(steps_package(client))[ocid]
    assert {p["id"] for p in compiled["parties"] if "buyer" in p["roles"]} == {"CZ-ICO-00254657"}


def test_the_legal_ground_is_kept_shown_and_published(
    client: TestClient, officer: dict[str, str]
) -> None:
    ocid = create_procurement(
        client,
        officer,
        procedure="negotiated_without_publication",
        legal_ground=f"  {LEGAL_GROUND} ",
    )
    shown = client.get(f"/v1/procurements/{ocid}").json()
    assert shown["legal_ground"] == LEGAL_GROUND
    record = client.get(f"/v1/procurements/{ocid}/ocds/record").json()
    tender = record["records"][0]["compiledRelease"]["tender"]
    assert tender["procurementMethodRationale"] == LEGAL_GROUND
    exported = client.get("/v1/exports/procurements", params={"format": "jsonl"})
    assert json.loads(exported.text.splitlines()[0])["legal_ground"] == LEGAL_GROUND
    as_csv = client.get("/v1/exports/procurements", params={"format": "csv"})
    (row,) = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert row["legal_ground"] == LEGAL_GROUND
    # none given: null, and no rationale
    other = create_procurement(client, officer)
    assert client.get(f"/v1/procurements/{other}").json()["legal_ground"] is None
    record = client.get(f"/v1/procurements/{other}/ocds/record").json()
    assert "procurementMethodRationale" not in record["records"][0]["compiledRelease"]["tender"]


def test_a_legal_ground_that_is_not_a_short_text_is_a_422_and_writes_nothing(
    client: TestClient, officer: dict[str, str]
) -> None:
    for bad in ("", "   ", "x" * 301, 63, ["§ 63"]):
        body = procurement_body(legal_ground=bad)
        response = client.post("/v1/procurements", json=body, headers=officer)
        assert response.status_code == 422, bad
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["pointer"] for e in response.json()["errors"]] == ["/legal_ground"]
    assert client.get("/v1/procurements").json()["items"] == []


def test_a_formula_in_the_legal_ground_is_defused_in_csv(
    client: TestClient, officer: dict[str, str]
) -> None:
    create_procurement(client, officer, legal_ground="=HYPERLINK(1)")
    as_csv = client.get("/v1/exports/procurements", params={"format": "csv"})
    (row,) = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert row["legal_ground"] == "'=HYPERLINK(1)"


def _packages(client: TestClient, ocid: str) -> Iterator[dict[str, Any]]:
    for path, params in (
        (f"/v1/procurements/{ocid}/ocds/releases", {}),
        (f"/v1/procurements/{ocid}/ocds/record", {}),
        ("/v1/exports/procurements", {"format": "ocds"}),
        ("/v1/exports/steps", {"format": "ocds"}),
    ):
        response = client.get(path, params=params)
        assert response.status_code == 200, response.text
        yield response.json()


def test_packages_carry_the_default_licence_and_publication_policy(
    client: TestClient, officer: dict[str, str], settings: Settings
) -> None:
    ocid = trail(client, officer)
    base = str(settings.public_url).rstrip("/")
    for package in _packages(client, ocid):
        assert package["license"] == CC0
        assert package["publicationPolicy"] == f"{base}/v1/ocds/publication-policy"
        assert package["publisher"] == {"name": "smartsteps"}
    policy = client.get("/v1/ocds/publication-policy")
    assert policy.status_code == 200
    assert policy.headers["content-type"] == "text/markdown; charset=utf-8"
    assert "excluding VAT" in policy.text
    assert CC0 in policy.text
    assert f"{base}/v1/exports/steps?format=ocds" in policy.text


def test_packages_carry_the_licence_and_policy_the_operator_sets(
    settings: Settings, database: TestDatabase, make_key: MakeKey
) -> None:
    configured = settings.model_copy(
        update={
            "ocds_publisher_name": "Obec Abertamy",
            "ocds_license": "https://creativecommons.org/licenses/by/4.0/",
            "ocds_publication_policy": "https://abertamy.example.cz/otevrena-data/ocds",
        }
    )
    officer = make_key(Role.officer, municipality_code=BUYER)
    with TestClient(create_app(configured, database=database)) as client:
        ocid = trail(client, officer)
        for package in _packages(client, ocid):
            assert package["license"] == "https://creativecommons.org/licenses/by/4.0/"
            assert package["publicationPolicy"] == "https://abertamy.example.cz/otevrena-data/ocds"
            assert package["publisher"] == {"name": "Obec Abertamy"}


@pytest.mark.parametrize("name", ["ocds_license", "ocds_publication_policy"])
def test_the_licence_and_policy_settings_must_be_urls(name: str) -> None:
    with pytest.raises(ValidationError):
        Settings(**{name: "CC0"})


def test_the_record_has_the_versioned_release_only_when_asked(
    client: TestClient, officer: dict[str, str]
) -> None:
    ocid = trail(client, officer)
    plain = client.get(f"/v1/procurements/{ocid}/ocds/record").json()
    assert "versionedRelease" not in plain["records"][0]
    versioned = client.get(f"/v1/procurements/{ocid}/ocds/record", params={"versioned": "true"})
    package = versioned.json()
    assert errors_of("record-package-schema", package) == []
    assert package["uri"].endswith("/ocds/record?versioned=true")
    assert "versionedRelease" in package["records"][0]


@pytest.mark.usefixtures("database_url")
def test_the_command_line_packages_carry_the_licence_and_policy(tmp_path: Path) -> None:
    target = tmp_path / "records.json"
    result = CliRunner().invoke(
        cli, ["export", "ocds", "--base-url", "https://obec.example.cz", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    package = json.loads(target.read_text())
    assert package["license"] == CC0
    assert package["publicationPolicy"] == "https://obec.example.cz/v1/ocds/publication-policy"
