"""The trail against the contract register, through the API: the two red flags
(contract_missing_from_register, register_value_differs) and the auditors' list of the
town's register contracts without a trail, each matching rule both ways."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.auth import Role
from procurement import law
from tests.conftest import MakeKey
from tests.factories_procurement import (
    BUYER,
    ICO_B,
    ICO_C,
    approved,
    at,
    bids,
    contract,
    create_procurement,
    invitation,
    post_step,
    selection,
    step,
)
from tests.factories_register import TOWN_ICO, Rec, load, set_town_ico, write_dump

MISSING = "contract_missing_from_register"
DIFFERS = "register_value_differs"
SIGNED = "2026-01-05"


@pytest.fixture
def officer(make_key: MakeKey) -> dict[str, str]:
    return make_key(Role.officer, municipality_code=BUYER)


@pytest.fixture
def town(session: Session) -> str:
    set_town_ico(session, BUYER, TOWN_ICO)
    return TOWN_ICO


def trail(
    client: TestClient,
    headers: dict[str, str],
    *,
    value: str = "380000.00",
    signed_on: str = SIGNED,
    external_ids: dict[str, str] | None = None,
    published_id: str | None = None,
) -> str:
    """A small-scale purchase up to its contract with ICO_B (and its publication)."""
    ocid = create_procurement(
        client,
        headers,
        procedure="small_scale",
        estimated_value_excl_vat="400000.00",
        started_on="2025-12-01",
        external_ids=external_ids or {},
    )
    for body in (
        approved(at("2025-12-01")),
        invitation(at("2025-12-02"), at("2025-12-15")),
        bids(at("2025-12-15", 11)),
        selection(at("2025-12-18")),
        contract(at(signed_on), signed_on, value),
    ):
        post_step(client, headers, ocid, body)
    if published_id is not None:
        body = step(
            "contract_published",
            at("2026-01-08"),
            register="contract_register",
            id=published_id,
            url=f"https://smlouvy.gov.cz/smlouva/{published_id}",
        )
        post_step(client, headers, ocid, body)
    return ocid


def covered(session: Session, tmp_path: Path, *records: Rec) -> None:
    """January 2026 with these records, and an (empty) complete February: every
    publication from 1 January to 28 February is in the mirror."""
    load(session, write_dump(tmp_path / "jan.xml", list(records), month=1))
    load(session, write_dump(tmp_path / "feb.xml", [], month=2))


def flags(client: TestClient, rule: str) -> list[dict[str, Any]]:
    response = client.get("/v1/red-flags", params={"rule": rule, "buyer": BUYER})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def flagged(client: TestClient, rule: str) -> list[str]:
    return [flag["ocid"] for flag in flags(client, rule)]


def the_record(**overrides: Any) -> Rec:
    values: dict[str, Any] = {
        "contract_id": 9100001,
        "version_id": 9200001,
        "signed_on": SIGNED,
        "excl": "380000",
        "incl": "459800",
        "parties": [(TOWN_ICO, "Obec"), (ICO_B, "Svítidla s.r.o.")],
    }
    values.update(overrides)
    return Rec(**values)


# -- contract_missing_from_register -----------------------------------------------------------


def test_a_contract_the_register_lacks_is_flagged(
    session: Session, client: TestClient, officer: dict[str, str], town: str, tmp_path: Path
) -> None:
    ocid = trail(client, officer)
    covered(session, tmp_path, the_record(parties=[(TOWN_ICO, "Obec"), (ICO_C, "Jiný")]))
    (flag,) = flags(client, MISSING)
    assert flag["ocid"] == ocid
    version = law.deadline_version("contract_register_30_days", date(2026, 1, 5))
    assert version is not None
    assert flag["legal_reference"] == version.legal_reference
    assert flag["legal_reference"].startswith("§ 5 odst. 2")
    assert [e["type"] for e in flag["evidence"]] == ["contract_signed"]
    assert flag["details"]["buyer_ico"] == TOWN_ICO
    assert flag["details"]["supplier_ico"] == ICO_B
    assert flag["details"]["covered_until"] == "2026-02-04"


def test_a_contract_the_register_holds_is_not_flagged(
    session: Session, client: TestClient, officer: dict[str, str], town: str, tmp_path: Path
) -> None:
    trail(client, officer)
    covered(session, tmp_path, the_record())
    assert flagged(client, MISSING) == []


def test_no_flag_until_the_dumps_cover_the_period(
    session: Session, client: TestClient, officer: dict[str, str], town: str, tmp_path: Path
) -> None:
    ocid = trail(client, officer)
    load(session, write_dump(tmp_path / "jan.xml", [], month=1))
    assert flagged(client, MISSING) == []  # published by 4 February: February is missing
    load(
        session,
        write_dump(
            tmp_path / "feb-early.xml",
            [],
            month=2,
            generated_at="2026-02-04T03:00:00+01:00",
            complete=False,
        ),
    )
    assert flagged(client, MISSING) == []  # an incomplete February: up to 3 February only
    load(
        session,
        write_dump(
            tmp_path / "feb-later.xml",
            [],
            month=2,
            generated_at="2026-02-05T03:00:00+01:00",
            complete=False,
        ),
    )
    assert flagged(client, MISSING) == [ocid]


def test_no_flag_before_any_dump(client: TestClient, officer: dict[str, str], town: str) -> None:
    trail(client, officer)
    assert flagged(client, MISSING) == []


@pytest.mark.parametrize(("value", "expected"), [("50000.00", False), ("50000.01", True)])
def test_only_contracts_above_the_register_limit(
    session: Session,
    client: TestClient,
    officer: dict[str, str],
    town: str,
    tmp_path: Path,
    value: str,
    expected: bool,
) -> None:
    ocid = trail(client, officer, value=value)
    covered(session, tmp_path)
    assert flagged(client, MISSING) == ([ocid] if expected else [])


def test_without_the_towns_ico_nothing_is_matched_nor_flagged(
    session: Session, client: TestClient, officer: dict[str, str], tmp_path: Path
) -> None:
    set_town_ico(session, BUYER, None)
    trail(client, officer)
    covered(session, tmp_path)
    assert flagged(client, MISSING) == []


@pytest.mark.parametrize(
    ("register_day", "matched"),
    [
        ("2026-01-05", True),
        ("2025-12-29", True),  # 7 days before
        ("2026-01-12", True),  # 7 days after
        ("2025-12-28", False),
        ("2026-01-13", False),
    ],
)
def test_the_signature_day_may_differ_by_seven_days(
    session: Session,
    client: TestClient,
    officer: dict[str, str],
    town: str,
    tmp_path: Path,
    register_day: str,
    matched: bool,
) -> None:
    ocid = trail(client, officer)
    covered(session, tmp_path, the_record(signed_on=register_day))
    assert flagged(client, MISSING) == ([] if matched else [ocid])


@pytest.mark.parametrize(
    ("parties", "matched"),
    [
        ([(TOWN_ICO, "Obec"), (ICO_B, "Svítidla")], True),
        ([(ICO_B, "Svítidla"), (TOWN_ICO, "Obec")], True),  # the supplier published it
        ([(TOWN_ICO, "Obec"), (ICO_C, "Lampy")], False),  # another supplier
        ([("70891508", "Kraj"), (ICO_B, "Svítidla")], False),  # another buyer
        ([(TOWN_ICO, "Obec"), (None, "Svítidla")], False),  # no IČO stated
    ],
)
def test_both_icos_must_be_parties(
    session: Session,
    client: TestClient,
    officer: dict[str, str],
    town: str,
    tmp_path: Path,
    parties: list[tuple[str | None, str]],
    matched: bool,
) -> None:
    ocid = trail(client, officer)
    covered(session, tmp_path, the_record(parties=parties))
    assert flagged(client, MISSING) == ([] if matched else [ocid])


def test_an_explicit_link_matches_whatever_the_parties(
    session: Session, client: TestClient, officer: dict[str, str], tmp_path: Path
) -> None:
    set_town_ico(session, BUYER, None)  # the town's IČO unknown: only the link can match
    linked = trail(client, officer, external_ids={"contract_register": "9100001"})
    published = trail(client, officer, published_id="9100002")
    other = trail(client, officer, external_ids={"contract_register": "9100003"})
    covered(
        session,
        tmp_path,
        the_record(parties=[("70891508", "Kraj"), (ICO_C, "Lampy")], signed_on="2026-03-01"),
        the_record(contract_id=9100002, version_id=9200002, excl="1000"),
    )
    assert flagged(client, MISSING) == [other]
    assert flagged(client, DIFFERS) == [published]  # linked, and its value is 1,000
    assert linked not in flagged(client, DIFFERS)


def test_a_withdrawn_record_matches_nothing(
    session: Session, client: TestClient, officer: dict[str, str], town: str, tmp_path: Path
) -> None:
    ocid = trail(client, officer)
    covered(session, tmp_path, the_record(valid=False))
    assert flagged(client, MISSING) == [ocid]


def test_a_correction_of_the_contract_counts(
    session: Session, client: TestClient, officer: dict[str, str], town: str, tmp_path: Path
) -> None:
    ocid = trail(client, officer, signed_on="2026-01-20")  # 15 days off the register
    covered(session, tmp_path, the_record())
    assert flagged(client, MISSING) == [ocid]
    post_step(
        client,
        officer,
        ocid,
        step(
            "correction",
            at("2026-02-10"),
            corrects_seq=5,
            reason="signature day mistyped",
            corrected={"signed_on": SIGNED},
        ),
    )
    assert flagged(client, MISSING) == []


# -- register_value_differs -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("excl", "incl", "differs"),
    [
        ("380000", "459800", False),
        ("380000.01", "459800", True),
        ("379999.99", None, True),
        (None, "459800", False),  # 21 %
        (None, "425600", False),  # 12 %
        (None, "380000", False),  # no VAT payer
        (None, "459800.01", True),  # more than 21 %
        (None, "379999.99", True),  # less than the value excl. VAT
        (None, None, False),  # nothing to compare
    ],
)
def test_the_registers_value_against_the_trails(
    session: Session,
    client: TestClient,
    officer: dict[str, str],
    town: str,
    tmp_path: Path,
    excl: str | None,
    incl: str | None,
    differs: bool,
) -> None:
    ocid = trail(client, officer)
    covered(session, tmp_path, the_record(excl=excl, incl=incl))
    found = flags(client, DIFFERS)
    assert [f["ocid"] for f in found] == ([ocid] if differs else [])
    assert flagged(client, MISSING) == []
    for flag in found:
        assert flag["details"]["register_id"] == 9100001
        assert flag["details"]["register_url"] == "https://smlouvy.gov.cz/smlouva/9200001"
        assert flag["details"]["value_excl_vat"] == "380000.00"


def test_a_foreign_currency_is_not_compared(
    session: Session, client: TestClient, officer: dict[str, str], town: str, tmp_path: Path
) -> None:
    trail(client, officer)
    covered(session, tmp_path, the_record(excl=None, incl=None, foreign=("15000", "EUR")))
    assert flagged(client, DIFFERS) == []
    assert flagged(client, MISSING) == []


def test_the_record_whose_value_agrees_is_preferred(
    session: Session, client: TestClient, officer: dict[str, str], town: str, tmp_path: Path
) -> None:
    trail(client, officer)
    covered(
        session,
        tmp_path,
        the_record(contract_id=9100001, version_id=9200001, excl="120000", incl=None),
        the_record(contract_id=9100002, version_id=9200002, signed_on="2026-01-06"),
    )
    assert flagged(client, DIFFERS) == []


def test_every_flag_comes_with_the_others(
    session: Session, client: TestClient, officer: dict[str, str], town: str, tmp_path: Path
) -> None:
    ocid = trail(client, officer)
    covered(session, tmp_path)
    response = client.get("/v1/red-flags", params={"buyer": BUYER})
    assert MISSING in {f["rule"] for f in response.json()["items"] if f["ocid"] == ocid}


# -- the auditors' list --------------------------------------------------------------------


def unmatched(client: TestClient, **params: Any) -> list[int]:
    response = client.get("/v1/contract-register/unmatched", params={"buyer": BUYER, **params})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_the_towns_register_contracts_without_a_trail(
    session: Session, client: TestClient, officer: dict[str, str], town: str, tmp_path: Path
) -> None:
    trail(client, officer)
    trail(client, officer, published_id="9100004", signed_on="2026-02-20")
    covered(
        session,
        tmp_path,
        the_record(),  # the first trail's contract
        the_record(
            contract_id=9100002, version_id=9200002, parties=[(TOWN_ICO, "O"), (ICO_C, "L")]
        ),
        the_record(contract_id=9100003, version_id=9200003, signed_on="2026-01-20"),
        the_record(
            contract_id=9100004, version_id=9200004, parties=[(TOWN_ICO, "O"), (ICO_C, "L")]
        ),
        the_record(
            contract_id=9100005, version_id=9200005, parties=[("70891508", "K"), (ICO_B, "S")]
        ),
    )
    # 9100001 matches the first trail by parties and date, 9100004 the second by its link
    # alone; 9100002 has another supplier, 9100003 lies 15 days off the first trail and 31
    # off the second; 9100005 is not the town's.
    assert unmatched(client) == [9100002, 9100003]
    assert unmatched(client, **{"from": "2026-01-10"}) == [9100003]
    page = client.get("/v1/contract-register/unmatched", params={"buyer": BUYER, "limit": 1}).json()
    assert [i["id"] for i in page["items"]] == [9100002]
    rest = client.get(
        "/v1/contract-register/unmatched",
        params={"buyer": BUYER, "limit": 1, "cursor": page["next_cursor"]},
    ).json()
    assert [i["id"] for i in rest["items"]] == [9100003]
    assert rest["next_cursor"] is None


def test_the_list_needs_a_known_town_with_an_ico(session: Session, client: TestClient) -> None:
    unknown = client.get("/v1/contract-register/unmatched", params={"buyer": "999999"})
    assert unknown.status_code == 404
    set_town_ico(session, BUYER, None)
    no_ico = client.get("/v1/contract-register/unmatched", params={"buyer": BUYER})
    assert no_ico.status_code == 422
    assert no_ico.json()["errors"][0]["pointer"] == "/buyer"
    assert client.get("/v1/contract-register/unmatched").status_code == 422
    bad = client.get("/v1/contract-register/unmatched", params={"buyer": "55497"})
    assert bad.status_code == 422
