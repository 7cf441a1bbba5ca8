"""Helpers for buyer profile import tests: the hand-made exports and the HTTP call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

DATA = Path(__file__).resolve().parent / "data" / "buyer-profile"
CURRENT = DATA / "current.xml"
STRUCTURE_2016 = DATA / "profile-2016.xml"
BUYER_ICO = "00254428"  # the IČO the hand-made exports give for their buyer
XML = {"Content-Type": "application/xml"}


def current_export() -> bytes:
    return CURRENT.read_bytes()


def export_2016() -> bytes:
    return STRUCTURE_2016.read_bytes()


def changed(data: bytes, old: str, new: str, count: int = 1) -> bytes:
    """The export with ``old`` replaced by ``new`` (which must be there ``count`` times)."""
    text = data.decode()
    assert text.count(old) == count, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new).encode()


def post_import(
    client: TestClient,
    headers: dict[str, str],
    data: bytes,
    *,
    buyer: str = "554979",
    expect: int = 200,
    **params: Any,
) -> dict[str, Any]:
    response = client.post(
        "/v1/imports/buyer-profile",
        params={"buyer": buyer, **params},
        content=data,
        headers={**XML, **headers},
    )
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


def item(report: dict[str, Any], procurement_id: str, part_id: str | None = None) -> dict[str, Any]:
    """The report's item of one part."""
    found = [
        i
        for i in report["items"]
        if i["buyer_profile_procurement_id"] == procurement_id
        and (part_id is None or i["buyer_profile_part_id"] == part_id)
    ]
    assert len(found) == 1, found
    return found[0]


def steps_of(client: TestClient, ocid: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/procurements/{ocid}/steps", params={"limit": 200})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def tree_size(client: TestClient) -> int:
    response = client.get("/v1/ledger/checkpoint")
    if response.status_code == 404:
        return 0
    assert response.status_code == 200, response.text
    return int(response.text.splitlines()[1])
