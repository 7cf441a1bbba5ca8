"""The contract-register mirror over HTTP: what an import keeps, idempotency, supersession,
and GET /v1/contract-register with its filters and pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from procurement.register.models import RegisterDump, RegisterPartyIco, RegisterRecord
from tests.factories_register import (
    FEBRUARY,
    JANUARY,
    JANUARY_PARTIAL,
    OTHER_ICO,
    SAMPLE_2016,
    SUPPLIER_ICO,
    TOWN_ICO,
    Rec,
    load,
    write_dump,
)


def records(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/contract-register", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def versions(client: TestClient, **params: Any) -> list[int]:
    return [item["version_id"] for item in records(client, limit=200, **params)]


def mirror(session: Session, *, dumps: bool = True) -> list[tuple[Any, ...]]:
    """Every stored row of the mirror (the records, their IČOs and, unless ``dumps`` is
    false, the dumps imported), to compare before and after."""
    rows = []
    models: list[Any] = [RegisterRecord, RegisterPartyIco, *([RegisterDump] if dumps else [])]
    for model in models:
        table = sa.inspect(model).local_table
        rows += [tuple(row) for row in session.execute(sa.select(table)).all()]
    return sorted(rows, key=repr)


def test_a_record_as_the_api_lists_it(session: Session, client: TestClient) -> None:
    load(session, JANUARY)
    (item,) = records(client, ico=OTHER_ICO)
    assert item == {
        "id": 9100003,
        "version_id": 9200003,
        "published_at": "2026-01-20T09:30:00Z",
        "signed_on": "2026-01-19",
        "subject": "Rekonstrukce chodníku",
        "value_excl_vat": "1250000.50",
        "value_incl_vat": None,
        "currency": "CZK",
        "foreign_value": None,
        "price_not_stated": None,
        "parties": [
            {"role": "publisher", "ico": TOWN_ICO, "name": "Obec Zkušební"},
            {"role": "counterparty", "ico": OTHER_ICO, "name": "Stavby Vltava a.s."},
        ],
        "url": "https://smlouvy.gov.cz/smlouva/9200003",
        "valid": True,
        "current": True,
    }


def test_values_with_vat_only_foreign_or_not_stated(session: Session, client: TestClient) -> None:
    load(session, JANUARY)
    by_version = {item["version_id"]: item for item in records(client, ico=TOWN_ICO)}
    with_vat = by_version[9200002]
    assert (with_vat["value_excl_vat"], with_vat["value_incl_vat"]) == (None, "121000.00")
    assert with_vat["currency"] == "CZK"
    assert with_vat["parties"][1] == {"role": "counterparty", "ico": None, "name": "Jan Novák"}
    foreign = by_version[9200004]
    assert foreign["foreign_value"] == {"amount": "10000.00", "currency": "EUR"}
    assert (foreign["value_excl_vat"], foreign["currency"]) == (None, None)
    assert by_version[9200006]["price_not_stated"] == "obchodní tajemství"


def test_the_raw_text_is_kept_beside_the_normalised_value(session: Session) -> None:
    load(session, JANUARY)
    row = session.execute(
        sa.select(RegisterRecord).where(RegisterRecord.version_id == 9200003)  # type: ignore[arg-type]
    ).scalar_one()
    assert row.value_excl_vat_raw == " 1 250 000,50 "
    assert row.subject_raw == "  Rekonstrukce   chodníku  "
    assert row.published_at_raw == "2026-01-20T10:30:00+01:00"
    assert row.parties[1][:3] == ["counterparty", OTHER_ICO, " 39923835 "]
    assert row.linked_record == "9100001"


def test_any_party_ico_finds_a_record(session: Session, client: TestClient) -> None:
    load(session, JANUARY)
    load(session, FEBRUARY)
    assert versions(client, ico=TOWN_ICO) == [9200010, 9200002, 9200003, 9200004, 9200006]
    # the supplier is a counterparty of the town's contract and of the region's
    assert versions(client, ico=SUPPLIER_ICO) == [9200010, 9200011]
    # the publisher of a contract the town is no party to
    assert versions(client, ico="70891508") == [9200011]
    assert versions(client, ico="99999999") == []  # nested in an unknown element: no party


def test_from_and_to_filter_on_the_signature_day(session: Session, client: TestClient) -> None:
    load(session, JANUARY)
    assert versions(client, ico=TOWN_ICO, **{"from": "2026-01-19", "to": "2026-01-20"}) == [
        9200003,
        9200004,
    ]
    assert versions(client, ico=TOWN_ICO, **{"from": "2026-01-21"}) == [9200006]
    assert versions(client, ico=TOWN_ICO, to="2026-01-05") == [9200005]
    assert versions(client, **{"from": "2027-01-01"}) == []


@pytest.mark.parametrize(
    "params",
    [
        {"ico": "1234567"},
        {"ico": "123456789"},
        {"ico": "1234567x"},
        {"ico": "１２３４５６７８"},  # full-width digits
        {"from": "2026-13-01"},
        {"from": "2026-02-01", "to": "2026-01-01"},
        {"limit": "0"},
        {"limit": "201"},
    ],
)
def test_bad_parameters_are_422(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/v1/contract-register", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"]


def test_a_forged_cursor_is_400(client: TestClient) -> None:
    response = client.get("/v1/contract-register", params={"cursor": "bm90LW91cnM"})
    assert response.status_code == 400


def test_pages_follow_the_cursor_and_the_link_header(session: Session, client: TestClient) -> None:
    load(session, JANUARY)
    seen: list[int] = []
    params: dict[str, Any] = {"ico": TOWN_ICO, "limit": 2}
    for _ in range(5):
        response = client.get("/v1/contract-register", params=params)
        page = response.json()
        seen += [item["version_id"] for item in page["items"]]
        if page["next_cursor"] is None:
            assert "Link" not in response.headers
            break
        assert 'rel="next"' in response.headers["Link"]
        params["cursor"] = page["next_cursor"]
    assert seen == [9200005, 9200002, 9200003, 9200004, 9200006]


def test_superseded_versions_are_left_out_unless_asked(
    session: Session, client: TestClient
) -> None:
    load(session, SAMPLE_2016)
    # contract 13: version 13 (platnyZaznam 0) and its successor 205
    current = [(i["id"], i["version_id"]) for i in records(client, ico="00849103", limit=200)]
    assert (13, 205) in current
    assert (13, 13) not in current
    every = {
        (i["id"], i["version_id"]): i
        for i in records(client, ico="00849103", all_versions="true", limit=200)
    }
    assert every[(13, 13)]["current"] is False
    assert every[(13, 13)]["valid"] is False
    assert every[(13, 205)]["current"] is True


def test_a_newer_version_in_a_later_dump_supersedes(session: Session, client: TestClient) -> None:
    load(session, JANUARY)
    assert 9200005 in versions(client, ico=SUPPLIER_ICO)
    load(session, FEBRUARY)  # version 9200010 of the same contract
    assert versions(client, ico=SUPPLIER_ICO) == [9200010, 9200011]
    every = {i["version_id"]: i for i in records(client, ico=SUPPLIER_ICO, all_versions="true")}
    # the January dump still called 9200005 valid; the newer version supersedes it
    assert (every[9200005]["valid"], every[9200005]["current"]) == (True, False)


def test_the_same_dump_again_changes_nothing(session: Session, client: TestClient) -> None:
    first = load(session, JANUARY)
    assert (first.created, first.updated, first.skipped) == (6, 0, 1)
    before = mirror(session)
    again = load(session, JANUARY)
    assert again.already_imported
    assert again.created == again.updated == 0
    assert mirror(session) == before


def test_the_same_records_in_another_file_change_nothing(session: Session, tmp_path: Path) -> None:
    load(session, JANUARY)
    before = mirror(session, dumps=False)  # the records and their IČOs
    copy = tmp_path / "copy.xml"
    copy.write_bytes(JANUARY.read_bytes().replace(b"<!-- version 1", b"<!-- the version 1"))
    report = load(session, copy)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 6)
    assert mirror(session, dumps=False) == before


def test_a_later_generation_of_a_month_updates_validity(
    session: Session, client: TestClient
) -> None:
    early = load(session, JANUARY_PARTIAL)
    assert early.created == 1
    assert versions(client, ico=SUPPLIER_ICO) == [9200001]
    complete = load(session, JANUARY)  # 9200001 is now platnyZaznam 0, 9200005 follows it
    assert (complete.created, complete.updated) == (5, 1)
    every = {i["version_id"]: i for i in records(client, ico=SUPPLIER_ICO, all_versions="true")}
    assert every[9200001]["valid"] is False
    assert versions(client, ico=SUPPLIER_ICO) == [9200005]


def test_an_earlier_generation_imported_later_changes_nothing(
    session: Session, client: TestClient
) -> None:
    load(session, JANUARY)
    before = mirror(session, dumps=False)
    late = load(session, JANUARY_PARTIAL)
    assert (late.created, late.updated, late.stale) == (0, 0, 1)
    assert mirror(session, dumps=False) == before
    every = {i["version_id"]: i for i in records(client, ico=SUPPLIER_ICO, all_versions="true")}
    assert every[9200001]["valid"] is False


def test_a_version_restated_differently_is_replaced(
    session: Session, client: TestClient, tmp_path: Path
) -> None:
    rec = Rec(9300001, 9400001, "2026-01-05", excl="100000", subject="Původní")
    load(session, write_dump(tmp_path / "a.xml", [rec], generated_at="2026-01-20T03:00:00+01:00"))
    rec.subject, rec.parties = "Opravený", [(TOWN_ICO, "Obec"), (OTHER_ICO, "Jiný s.r.o.")]
    report = load(session, write_dump(tmp_path / "b.xml", [rec]))
    assert (report.created, report.updated) == (0, 1)
    (item,) = records(client, ico=OTHER_ICO)
    assert item["subject"] == "Opravený"
    assert versions(client, ico=SUPPLIER_ICO) == []  # the old party's IČO is gone too
