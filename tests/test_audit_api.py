"""Auditor exports over HTTP: OCDS packages, bulk exports, the feed and red flags."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import rfc8785
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import Role
from api.settings import Settings
from tests.conftest import MakeKey, TestDatabase
from tests.factories_procurement import (
    BUYER,
    ICO_B,
    OTHER_BUYER,
    approved,
    at,
    bids,
    contract,
    create_procurement,
    evaluation,
    notice,
    payment,
    post_step,
    published,
    selection,
    step,
)
from tests.test_audit_ocds import errors_of


def trail(client: TestClient, headers: dict[str, str], **overrides: Any) -> str:
    """A simplified below-threshold procurement from approval to a payment."""
    ocid = create_procurement(client, headers, **overrides)
    for body in (
        approved(at("2026-01-05")),
        notice(at("2026-01-12"), at("2026-02-06")),
        bids(at("2026-02-06", 11)),
        evaluation(at("2026-02-10")),
        selection(at("2026-02-11")),
        contract(at("2026-03-02"), "2026-03-02"),
        published(at("2026-03-10")),
        payment(at("2026-05-04"), "2026-05-04"),
    ):
        post_step(client, headers, ocid, body)
    return ocid


@pytest.fixture
def officer(make_key: MakeKey) -> dict[str, str]:
    return make_key(Role.officer, municipality_code=BUYER)


def lines(response: Any) -> list[bytes]:
    return [line for line in response.content.split(b"\n") if line]


def test_release_and_record_packages_validate(client: TestClient, officer: dict[str, str]) -> None:
    ocid = trail(client, officer)
    releases = client.get(f"/v1/procurements/{ocid}/ocds/releases")
    assert releases.status_code == 200
    package = releases.json()
    assert errors_of("release-package-schema", package) == []
    assert [r["id"] for r in package["releases"]] == [f"{ocid}-{n}" for n in range(9)]
    assert package["uri"].endswith(f"/v1/procurements/{ocid}/ocds/releases")
    record = client.get(f"/v1/procurements/{ocid}/ocds/record").json()
    assert errors_of("record-package-schema", record) == []
    compiled = record["records"][0]["compiledRelease"]
    assert compiled["tender"]["procurementMethodDetails"] == (
        "zjednodušené podlimitní řízení (podlimitní veřejná zakázka)"
    )
    # The buyer is named as the municipalities register names it (554979 is Abertamy).
    assert compiled["buyer"]["name"] == "Abertamy"
    assert compiled["contracts"][0]["implementation"]["transactions"][0]["value"] == {
        "amount": 3100000,
        "currency": "CZK",
    }
    assert "versionedRelease" not in record["records"][0]
    versioned = client.get(f"/v1/procurements/{ocid}/ocds/record?versioned=true").json()
    assert errors_of("record-package-schema", versioned) == []
    assert "versionedRelease" in versioned["records"][0]


def test_a_procurement_without_steps_has_a_valid_release_package(
    client: TestClient, officer: dict[str, str]
) -> None:
    ocid = create_procurement(client, officer)
    package = client.get(f"/v1/procurements/{ocid}/ocds/releases").json()
    assert errors_of("release-package-schema", package) == []
    assert len(package["releases"]) == 1


def test_unknown_ocid_is_404(client: TestClient) -> None:
    response = client.get("/v1/procurements/ocds-smstps-000000-2026-9/ocds/record")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_steps_jsonl_lines_are_the_canonical_entries(
    client: TestClient, officer: dict[str, str]
) -> None:
    ocid = trail(client, officer)
    response = client.get("/v1/exports/steps", params={"format": "jsonl", "buyer": BUYER})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert "attachment" in response.headers["content-disposition"]
    rows = lines(response)
    assert len(rows) == 8
    for seq, raw in enumerate(rows, start=1):
        stored = client.get(f"/v1/procurements/{ocid}/steps/{seq}").json()
        assert hashlib.sha256(raw).hexdigest() == stored["entry_hash"]
        assert json.loads(raw)["seq"] == seq
    leafs = [json.loads(raw)["leaf_index"] for raw in rows]
    assert leafs == sorted(leafs)


def test_steps_filters(client: TestClient, officer: dict[str, str], make_key: MakeKey) -> None:
    trail(client, officer)
    other = make_key(Role.officer, municipality_code=OTHER_BUYER)
    trail(client, other, buyer_code=OTHER_BUYER, procedure="open")

    def count(**params: Any) -> int:
        response = client.get("/v1/exports/steps", params=params)
        assert response.status_code == 200, response.text
        return len(lines(response))

    assert count() == 16
    assert count(buyer=OTHER_BUYER) == 8
    assert count(procedure="open") == 8
    assert count(status="contracted") == 16
    assert count(status="cancelled") == 0
    # occurred between 1 February and 10 February: bids, evaluation
    assert count(buyer=BUYER, **{"from": "2026-02-01", "to": "2026-02-10"}) == 2


def test_steps_csv_for_czech_excel(client: TestClient, officer: dict[str, str]) -> None:
    trail(client, officer)
    response = client.get(
        "/v1/exports/steps", params={"format": "csv", "delimiter": "semicolon", "bom": "true"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="steps-')
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffocid;buyer_code;procedure;seq;")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert len(rows) == 8
    contract_row = next(r for r in rows if r["type"] == "contract_signed")
    assert json.loads(contract_row["data"])["supplier_ico"] == ICO_B
    assert contract_row["occurred_at"] == "2026-03-02T10:00:00Z"
    assert json.loads(contract_row["findings"]) == [] or isinstance(
        json.loads(contract_row["findings"]), list
    )


def test_procurements_exports(client: TestClient, officer: dict[str, str]) -> None:
    ocid = trail(client, officer, title='=HYPERLINK("http://evil")')
    jsonl = client.get("/v1/exports/procurements", params={"format": "jsonl"})
    (row,) = [json.loads(line) for line in lines(jsonl)]
    assert row["ocid"] == ocid
    assert row["estimated_value_excl_vat"] == "3500000.00"
    assert row["steps"] == 8
    assert row["created_at"].endswith("Z")
    as_csv = client.get("/v1/exports/procurements", params={"format": "csv"})
    (csv_row,) = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert csv_row["title"] == '\'=HYPERLINK("http://evil")'
    assert csv_row["cpv_codes"] == "34993000-4"


def test_ocds_bulk_exports_validate(client: TestClient, officer: dict[str, str]) -> None:
    trail(client, officer)
    create_procurement(client, officer)
    records = client.get("/v1/exports/procurements", params={"format": "ocds"})
    assert records.headers["content-type"] == "application/json"
    package = records.json()
    assert errors_of("record-package-schema", package) == []
    assert len(package["records"]) == 2
    assert {r["compiledRelease"]["buyer"]["name"] for r in package["records"]} == {"Abertamy"}
    releases = client.get("/v1/exports/steps", params={"format": "ocds"}).json()
    assert errors_of("release-package-schema", releases) == []
    # release 0 of the procurement with steps, then its 8 steps
    assert len(releases["releases"]) == 9


@pytest.mark.parametrize("kind", ["procurements", "steps"])
def test_ocds_export_of_nothing_is_404_not_an_invalid_package(
    client: TestClient, officer: dict[str, str], kind: str
) -> None:
    trail(client, officer)
    params = {"format": "ocds", "buyer": OTHER_BUYER}
    response = client.get(f"/v1/exports/{kind}", params=params)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "at least one" in response.json()["detail"]
    # The other formats may be empty.
    assert client.get(f"/v1/exports/{kind}", params={**params, "format": "jsonl"}).content == b""


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-02-10", "to": "2026-02-01"},
        {"from": "1989-12-31"},
        {"to": "2999-01-01"},
        {"format": "xml"},
        {"buyer": "12"},
        {"delimiter": "tab"},
    ],
)
def test_bad_export_parameters_are_422(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/v1/exports/steps", params=params)
    assert response.status_code == 422
    assert response.json()["errors"]


def test_feed_pages_in_leaf_order_until_caught_up(
    client: TestClient, officer: dict[str, str]
) -> None:
    trail(client, officer)
    seen: list[int] = []
    since = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 3}
        if since:
            params["since"] = since
        page = client.get("/v1/feed", params=params).json()
        since = page["next_cursor"]
        if not page["items"]:
            break
        for item in page["items"]:
            canonical = rfc8785.dumps(item["entry"])
            assert hashlib.sha256(canonical).hexdigest() == item["entry_hash"]
        seen += [item["leaf_index"] for item in page["items"]]
    assert len(seen) == 8
    assert seen == sorted(seen)
    # a new step shows up after the cursor the caught-up page gave
    post_step(client, officer, create_procurement(client, officer), approved(at("2026-06-01")))
    page = client.get("/v1/feed", params={"since": since}).json()
    assert [item["type"] for item in page["items"]] == ["procurement_approved"]


def test_feed_refuses_a_forged_cursor(client: TestClient) -> None:
    assert client.get("/v1/feed", params={"since": "bm90LW91cnM"}).status_code == 400


def test_red_flags(client: TestClient, officer: dict[str, str]) -> None:
    clean = trail(client, officer)
    lonely = create_procurement(client, officer)
    for body in (
        approved(at("2026-01-05")),
        notice(at("2026-01-12"), at("2026-02-06")),
        step(
            "bids_opened",
            at("2026-02-06", 11),
            bids=[{"ico": ICO_B, "name": "Svítidla s.r.o.", "price_excl_vat": "3100000.00"}],
        ),
    ):
        post_step(client, officer, lonely, body)
    response = client.get("/v1/red-flags", params={"rule": "single_bid"})
    assert response.status_code == 200
    flags = response.json()["items"]
    assert [f["ocid"] for f in flags] == [lonely]
    (flag,) = flags
    assert flag["rule"] == "single_bid"
    assert flag["evidence"] == [
        {
            "ocid": lonely,
            "seq": 3,
            "leaf_index": flag["evidence"][0]["leaf_index"],
            "type": "bids_opened",
        }
    ]
    everything = client.get("/v1/red-flags").json()["items"]
    assert clean not in {f["ocid"] for f in everything if f["rule"] == "single_bid"}
    assert client.get("/v1/red-flags", params={"buyer": OTHER_BUYER}).json()["items"] == []


def test_red_flags_for_a_period_of_opened_procurements(
    client: TestClient, officer: dict[str, str]
) -> None:
    lonely = create_procurement(client, officer)
    post_step(client, officer, lonely, approved(at("2026-01-05")))
    post_step(client, officer, lonely, notice(at("2026-01-12"), at("2026-02-06")))
    post_step(
        client,
        officer,
        lonely,
        step(
            "bids_opened",
            at("2026-02-06", 11),
            bids=[{"ico": ICO_B, "name": "Svítidla s.r.o.", "price_excl_vat": "3100000.00"}],
        ),
    )
    today = datetime.now(UTC).date()

    def ocids(**params: str) -> list[str]:
        response = client.get("/v1/red-flags", params={"rule": "single_bid", **params})
        assert response.status_code == 200, response.text
        return [flag["ocid"] for flag in response.json()["items"]]

    assert ocids(**{"from": str(today), "to": str(today)}) == [lonely]
    assert ocids(to=str(today - timedelta(days=1))) == []
    assert ocids(**{"from": str(today + timedelta(days=1))}) == []
    backwards = client.get("/v1/red-flags", params={"from": str(today), "to": "2020-01-01"})
    assert backwards.status_code == 422


def test_red_flags_page_by_procurement(client: TestClient, officer: dict[str, str]) -> None:
    ocids = []
    for _ in range(3):
        ocid = create_procurement(client, officer)
        post_step(client, officer, ocid, approved(at("2026-01-05")))
        post_step(client, officer, ocid, notice(at("2026-01-12"), at("2026-02-06")))
        post_step(
            client,
            officer,
            ocid,
            step(
                "bids_opened",
                at("2026-02-06", 11),
                bids=[{"ico": ICO_B, "name": "S", "price_excl_vat": "1.00"}],
            ),
        )
        ocids.append(ocid)
    seen = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"rule": "single_bid", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/red-flags", params=params).json()
        seen += [f["ocid"] for f in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ocids


def test_red_flag_rule_must_be_known(client: TestClient) -> None:
    assert client.get("/v1/red-flags", params={"rule": "nope"}).status_code == 422


def test_exports_and_feed_have_the_stricter_budget(
    settings: Settings, database: TestDatabase
) -> None:
    limited = settings.model_copy(update={"rate_limit_exports": "2/minute"})
    with TestClient(create_app(limited, database=database)) as client:
        feed = [client.get("/v1/feed").status_code for _ in range(3)]
        exports = [client.get("/v1/exports/steps").status_code for _ in range(3)]
        assert feed == [200, 200, 429]
        assert exports == [429, 429, 429]  # one budget for exports and the feed together
        assert client.get("/v1/red-flags").status_code == 200
