"""The OCDS tools publishers' data meets (ocdskit compile, ocdsmerge, flattentool,
libcoveocds), run offline over the HTTP exports of full trails of every procedure: zero
errors and zero warnings from each.

The trails are the happy paths of ``tests/factories_audit.py`` (every step type, repeated
steps, a correction), recorded over HTTP, with what the tools must also see: where the
procurement is published elsewhere, the legal ground of a negotiated procedure without
publication, an order instead of a contract, a clarification with its URL, a resolution
id, and a buyer with an IČO beside one known only by its municipality code.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.auth import Role
from procurement.audit import ocds
from procurement.rules import procedure as procedure_rules
from tests.conftest import MakeKey
from tests.factories_audit import OTHER, PROCEDURES, THIRD, WINNER, happy_path, z
from tests.factories_procurement import BUYER, OTHER_BUYER, create_procurement, post_step
from tests.ocds_tools import (
    flattentool_report,
    flattentool_schema_warnings,
    libcoveocds_report,
    ocdskit_compile,
    ocdsmerge_report,
    patched_release_schema,
)
from tests.test_audit_ocds import SCHEMA_DIR

pytestmark = pytest.mark.slow  # ~10 s of CPU: 230 steps over HTTP, libcoveocds, ocdskit processes

VALUES = {"simplified_below_threshold": "3500000.00", "small_scale": "400000.00"}
EXTERNAL_IDS = {
    "buyer_profile": "https://profil.example.cz/vz/17",
    "vvz": "Z2026-000123",
    "ted": "2026/S 012-034567",
    "nen": "N006/26/V00001234",
    "contract_register": "12345678",
}


def step_bodies(procedure: str) -> list[dict[str, Any]]:
    """The happy path as POST bodies, fitted to the procedure's rules: a two-stage
    procedure invites the candidates before the bids, and steps the procedure does not
    have are left out."""
    rules = procedure_rules(procedure)
    bodies: list[dict[str, Any]] = []
    invited = False
    for entry in happy_path(procedure):
        step_type = entry["type"]
        if rules.step(step_type) is None:
            continue
        data = dict(entry["data"])
        if step_type == "invitation_sent":
            invited = True
        if step_type == "bids_opened" and not invited and rules.step("invitation_sent"):
            opened = datetime.fromisoformat(entry["occurred_at"].replace("Z", "+00:00"))
            bodies.append(
                {
                    "type": "invitation_sent",
                    "occurred_at": z(opened - timedelta(days=20)),
                    "data": {
                        "suppliers": [WINNER, OTHER, THIRD],
                        "bid_deadline": z(opened - timedelta(hours=1)),
                    },
                }
            )
            invited = True
        if step_type == "clarification_published" and not any(
            b["type"] == step_type for b in bodies
        ):
            data["url"] = "https://profil.example.cz/vysvetleni-1.pdf"
        if step_type == "selection_decided":
            data["resolution_id"] = "RM 12/2026"
        if step_type == "contract_signed" and procedure == "small_scale":
            data["form"] = "order"
        bodies.append(
            {
                "type": step_type,
                "occurred_at": entry["occurred_at"],
                "data": data,
                "documents": entry["documents"],
            }
        )
    return bodies


def record_trail(
    client: TestClient, headers: dict[str, str], procedure: str, buyer: str = BUYER
) -> str:
    extra = (
        {"legal_ground": "§ 63 odst. 3 písm. b) ZZVZ"}
        if procedure == "negotiated_without_publication"
        else {}
    )
    ocid = create_procurement(
        client,
        headers,
        buyer_code=buyer,
        procedure=procedure,
        estimated_value_excl_vat=VALUES.get(procedure, "6000000.00"),
        started_on="2026-01-20",
        external_ids=EXTERNAL_IDS,
        **extra,
    )
    for body in step_bodies(procedure):
        post_step(client, headers, ocid, body)
    return ocid


def get(client: TestClient, path: str, **params: str) -> dict[str, Any]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def test_real_tools_accept_the_exports_of_every_procedure_without_a_warning(
    client: TestClient, make_key: MakeKey, session: Session, tmp_path: Path
) -> None:
    session.execute(
        sa.text("UPDATE municipalities SET ico = '00254657' WHERE code = :code"), {"code": BUYER}
    )
    session.commit()
    officer = make_key(Role.officer, municipality_code=BUYER)
    ocids = {procedure: record_trail(client, officer, procedure) for procedure in PROCEDURES}
    other = make_key(Role.officer, municipality_code=OTHER_BUYER)
    ocids["open, buyer without IČO"] = record_trail(client, other, "open", OTHER_BUYER)

    schema = patched_release_schema(SCHEMA_DIR)
    schema_path = tmp_path / "release-schema-with-bids.json"
    schema_path.write_text(json.dumps(schema))
    release_packages = {
        name: get(client, f"/v1/procurements/{ocid}/ocds/releases") for name, ocid in ocids.items()
    }
    record_packages = {
        name: get(client, f"/v1/procurements/{ocid}/ocds/record") for name, ocid in ocids.items()
    }
    versioned = {
        name: get(client, f"/v1/procurements/{ocid}/ocds/record", versioned="true")
        for name, ocid in ocids.items()
    }
    bulk_steps = get(client, "/v1/exports/steps", format="ocds")
    bulk_records = get(client, "/v1/exports/procurements", format="ocds")
    ours = {
        record["ocid"]: record["compiledRelease"]
        for package in record_packages.values()
        for record in package["records"]
    }
    assert {r["ocid"]: r["compiledRelease"] for r in bulk_records["records"]} == ours
    reports: dict[str, list[str]] = {}

    # libcoveocds (the OCDS Data Review Tool): the bulk packages hold every release and
    # every record; one procurement's own packages differ from them only in metadata
    for number, (name, package) in enumerate(
        [
            ("bulk steps", bulk_steps),
            ("bulk procurements", bulk_records),
            ("releases of one procurement", release_packages["open"]),
            ("record of one procurement", record_packages["open"]),
        ]
    ):
        work = tmp_path / f"cove-{number}"
        work.mkdir()
        reports[f"libcoveocds {name}"] = libcoveocds_report(package, SCHEMA_DIR, work)

    # ocdsmerge: the reference merger builds the same compiled and versioned releases
    for name, package in release_packages.items():
        compiled, versioned_release, warned = ocdsmerge_report(package["releases"], schema)
        reports[f"ocdsmerge {name}"] = warned
        (record,) = versioned[name]["records"]
        assert compiled == record["compiledRelease"], name
        assert versioned_release == record["versionedRelease"], name

    # ocdskit compile: the releases of each procurement, and the bulk steps package alone,
    # compile to the records the API serves (the bulk package with every buyer in them)
    for name, packages in (
        ("ocdskit compile (release packages)", list(release_packages.values())),
        ("ocdskit compile (bulk steps)", [bulk_steps]),
    ):
        output, stderr, status = ocdskit_compile(packages, schema_path)
        assert status == 0, stderr
        reports[name] = stderr.splitlines()
        compiled = {r["ocid"]: r["compiledRelease"] for r in output["records"]}
        assert compiled == ours, name
        for release in compiled.values():
            buyer = release["buyer"]["id"]
            assert any(p["id"] == buyer and "buyer" in p["roles"] for p in release["parties"])

    # flattentool: the bulk steps package and the compiled releases, against the schema
    baseline = flattentool_schema_warnings(schema_path)
    compiled_package = {**bulk_steps, "releases": list(ours.values())}
    for name, package in (("bulk steps", bulk_steps), ("compiled", compiled_package)):
        work = tmp_path / f"flatten-{name.replace(' ', '-')}"
        work.mkdir()
        reports[f"flattentool {name}"] = [
            w for w in flattentool_report(package, schema_path, work) if w not in baseline
        ]

    assert {tool: found for tool, found in reports.items() if found} == {}
    assert len(reports) == 4 + len(ocids) + 2 + 2


def test_the_checks_report_what_they_look_for(tmp_path: Path) -> None:
    """The checks above can fail: each tool, given a package with faults of its kind, says so."""
    releases = ocds.build_releases(
        {
            "ocid": "ocds-smstps-554782-2026-1",
            "buyer_code": "554782",
            "title": "Osvětlení",
            "subject": "supplies",
            "procedure": "small_scale",
            "created_at": "2026-02-01T09:00:00Z",
        },
        happy_path("small_scale"),
    )
    broken = json.loads(json.dumps(ocds.release_package(releases, uri="https://x.example/r")))
    broken["releases"][1]["parties"] = [{"id": "CZ-ICO-25596641", "name": "X", "roles": []}]
    broken["releases"][1]["tender"]["documents"] = [{"id": "1", "documentType": "notACode"}]
    broken["releases"][2]["tender"]["title"] = " "
    broken["releases"][2]["tender"]["colour"] = "blue"
    broken["extensions"].append("https://extensions.example/nowhere/extension.json")
    work = tmp_path / "cove"
    work.mkdir()
    found = "\n".join(libcoveocds_report(broken, SCHEMA_DIR, work))
    assert "empty_field: releases/1/parties/0/roles" in found
    assert "notACode" in found
    assert "empty_field: releases/2/tender/title" in found
    assert "additional field: /releases/tender/colour" in found
    assert "extension: https://extensions.example/nowhere/extension.json" in found

    schema = patched_release_schema(SCHEMA_DIR)
    duplicated = json.loads(json.dumps(releases))
    duplicated[2]["bids"] = {"details": [{"id": "bid-1"}, {"id": "bid-1", "status": "valid"}]}
    _, _, warned = ocdsmerge_report(duplicated, schema)
    assert any("DuplicateIdValueWarning" in w for w in warned)

    schema_path = tmp_path / "schema.json"
    schema_path.write_text(json.dumps(schema))
    baseline = flattentool_schema_warnings(schema_path)
    work = tmp_path / "flatten"
    work.mkdir()
    odd = {**broken, "releases": [*broken["releases"], "not a release"]}
    flattened = [w for w in flattentool_report(odd, schema_path, work) if w not in baseline]
    assert any("not a JSON object" in w for w in flattened)

    _, stderr, status = ocdskit_compile([{**broken, "releases": [{"id": "x"}]}], schema_path)
    assert status != 0
    assert "ocid" in stderr
