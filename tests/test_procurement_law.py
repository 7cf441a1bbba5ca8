"""The law as dated data, through the API: each dated value on the day before and the day of
its change (GET /v1/law, the regime of a procurement, the findings of a historical trail),
and the shape of GET /v1/law and /v1/procedures?on=."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.auth import Role
from procurement import law
from tests.conftest import MakeKey
from tests.factories_procurement import (
    approved,
    at,
    bids,
    contract,
    create_procurement,
    invitation,
    post_step,
    procurement_body,
    published,
    selection,
)


def _law(client: TestClient, on: date) -> dict[str, Any]:
    response = client.get("/v1/law", params={"on": on.isoformat()})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["on"] == on.isoformat()
    return body


def _threshold(body: dict[str, Any], kind: str, subject: str, buyer_kind: str) -> dict[str, Any]:
    (row,) = [
        t
        for t in body["thresholds"]
        if t["kind"] == kind and t["subject"] == subject and t["buyer_kind"] == buyer_kind
    ]
    return row


def _deadline(body: dict[str, Any], rule_id: str) -> dict[str, Any] | None:
    rows = [d for d in body["deadlines"] if d["rule_id"] == rule_id]
    assert len(rows) <= 1
    return rows[0] if rows else None


# (what, day of the change, value the day before, value that day) from the amending acts.
THRESHOLD_CHANGES = [
    # § 27 ZZVZ, zákon č. 69/2025 Sb.
    (("small_scale", "supplies", "all"), date(2025, 4, 3), "2000000.00", "3000000.00"),
    (("small_scale", "services", "all"), date(2025, 4, 3), "2000000.00", "3000000.00"),
    (("small_scale", "works", "all"), date(2025, 4, 3), "6000000.00", "9000000.00"),
    # nařízení vlády č. 172/2016 Sb. as amended (sub-central supplies and services; works)
    (("eu", "supplies", "sub_central"), date(2018, 1, 1), "5706000.00", "5944000.00"),
    (("eu", "services", "sub_central"), date(2020, 1, 1), "5944000.00", "5494000.00"),
    (("eu", "supplies", "sub_central"), date(2022, 1, 1), "5494000.00", "5610000.00"),
    (("eu", "supplies", "sub_central"), date(2024, 1, 1), "5610000.00", "5401000.00"),
    (("eu", "works", "sub_central"), date(2024, 1, 1), "140448000.00", "135348000.00"),
    (("eu", "supplies", "central"), date(2024, 1, 1), "3653000.00", "3494000.00"),
    (("eu", "supplies", "sectoral"), date(2024, 1, 1), "11247000.00", "10826000.00"),
]


@pytest.mark.parametrize(("what", "day", "before", "after"), THRESHOLD_CHANGES)
def test_threshold_changes_on_its_day(
    client: TestClient, what: tuple[str, str, str], day: date, before: str, after: str
) -> None:
    assert _threshold(_law(client, day - timedelta(days=1)), *what)["amount_czk"] == before
    row = _threshold(_law(client, day), *what)
    assert row["amount_czk"] == after
    assert row["effective_from"] == day.isoformat()
    assert row["legal_reference"]


# EU thresholds 2026-2027 in EUR (Delegated Regulations (EU) 2025/2150-2152).
EUR_2026 = [
    ("central", "supplies", "143000.00", "140000.00"),
    ("sub_central", "services", "221000.00", "216000.00"),
    ("sectoral", "supplies", "443000.00", "432000.00"),
    ("sub_central", "works", "5538000.00", "5404000.00"),
]


@pytest.mark.parametrize(("buyer_kind", "subject", "before", "after"), EUR_2026)
def test_eu_thresholds_2026_in_eur_with_an_unconfirmed_czk_value(
    client: TestClient, buyer_kind: str, subject: str, before: str, after: str
) -> None:
    old = _threshold(_law(client, date(2025, 12, 31)), "eu", subject, buyer_kind)
    new = _threshold(_law(client, date(2026, 1, 1)), "eu", subject, buyer_kind)
    assert (old["amount_eur"], new["amount_eur"]) == (before, after)
    assert old["confidence"] == "confirmed"
    # No source gives the CZK value for 2026-2027: the row says so, it is not carried over
    # silently.
    assert new["confidence"] == "unconfirmed"
    assert "NO CZK VALUE FOR 2026–2027 WAS FOUND" in new["note"]


# (rule, day of the change, (days, value limit) the day before, and that day); None: the
# rule did not apply yet.
DEADLINE_CHANGES = [
    # § 219 odst. 1 ZZVZ: 15 -> 30 days (zákon č. 166/2023 Sb.); 500,000 -> 1,000,000 CZK
    # (zákon č. 69/2025 Sb.)
    ("contract_on_buyer_profile", date(2023, 7, 16), (15, "500000.00"), (30, "500000.00")),
    ("contract_on_buyer_profile", date(2025, 4, 3), (30, "500000.00"), (30, "1000000.00")),
    ("price_paid_on_buyer_profile", date(2025, 4, 3), (3, "500000.00"), (3, "1000000.00")),
    # § 7 odst. 1 zákona č. 340/2015 Sb. applies from 1 July 2017
    ("contract_register_void_after_3_months", date(2017, 7, 1), None, (3, "50000.00")),
]


@pytest.mark.parametrize(("rule_id", "day", "before", "after"), DEADLINE_CHANGES)
def test_deadline_changes_on_its_day(
    client: TestClient,
    rule_id: str,
    day: date,
    before: tuple[int, str] | None,
    after: tuple[int, str],
) -> None:
    old = _deadline(_law(client, day - timedelta(days=1)), rule_id)
    new = _deadline(_law(client, day), rule_id)
    assert (None if old is None else (old["days"], old["value_above"])) == before
    assert new is not None
    assert (new["days"], new["value_above"]) == after
    assert new["effective_from"] == day.isoformat()
    assert new["procedures"]


def _versions() -> list[tuple[str, date]]:
    changes = [(v.rule_id, v.effective_from) for v in law.DEADLINES]
    return [(rule_id, day) for rule_id, day in changes if day > law.ZZVZ_FROM]


@pytest.mark.parametrize(("rule_id", "day"), _versions())
def test_every_dated_deadline_switches_exactly_on_its_day(
    client: TestClient, rule_id: str, day: date
) -> None:
    """Each version of a period is served from its first day, and the day before serves
    the version it replaces (or none)."""
    new = _deadline(_law(client, day), rule_id)
    old = _deadline(_law(client, day - timedelta(days=1)), rule_id)
    assert new is not None
    assert new["effective_from"] == day.isoformat()
    if old is not None:
        assert old["effective_to"] == (day - timedelta(days=1)).isoformat()


def test_law_table_rows_never_overlap() -> None:
    """A change is a new row that closes the previous one: versions of one value are
    contiguous and never overlap."""
    keyed: dict[Any, list[tuple[date, date | None]]] = {}
    for t in law.THRESHOLDS:
        keyed.setdefault((t.kind, t.subject, t.buyer_kind), []).append(
            (t.effective_from, t.effective_to)
        )
    for d in law.DEADLINES:
        keyed.setdefault(d.rule_id, []).append((d.effective_from, d.effective_to))
    for key, spans in keyed.items():
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert end is not None, key
            assert end + timedelta(days=1) == start, key
        assert spans[-1][1] is None or key[0] == "eu", key


def test_law_history_lists_every_version(client: TestClient) -> None:
    body = client.get("/v1/law", params={"history": "true"}).json()
    assert body["on"] is None
    assert len(body["deadlines"]) == len(law.DEADLINES)
    assert len(body["thresholds"]) == len(law.THRESHOLDS)
    versions = [d for d in body["deadlines"] if d["rule_id"] == "contract_on_buyer_profile"]
    assert [(v["days"], v["effective_to"]) for v in versions] == [
        (15, "2023-07-15"),
        (30, "2025-04-02"),
        (30, None),
    ]
    assert "§ 605" in body["period_counting"]
    assert "§ 40" not in body["period_counting"]


def test_law_defaults_to_today_and_refuses_days_outside_the_table(client: TestClient) -> None:
    today = client.get("/v1/law").json()
    assert today["on"] is not None
    small = [t for t in today["thresholds"] if t["kind"] == "small_scale"]
    assert {t["amount_czk"] for t in small} == {"3000000.00", "9000000.00"}
    for params in ({"on": "2016-09-30"}, {"on": "2025-02-30"}, {"on": "2025-04-03", "history": 1}):
        response = client.get("/v1/law", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"


def test_procedures_show_the_deadlines_of_the_day(client: TestClient) -> None:
    def profile_days(on: str) -> set[int]:
        body = client.get("/v1/procedures", params={"on": on}).json()
        assert body["on"] == on
        return {
            d["days"]
            for p in body["procedures"]
            for s in p["steps"]
            for d in s["deadlines"]
            if d["rule_id"] == "contract_on_buyer_profile"
        }

    assert profile_days("2023-07-15") == {15}
    assert profile_days("2023-07-16") == {30}


# --- the regime of a procurement is derived with the law of its started_on ---------------

REGIME_CASES = [
    # A 2,500,000 CZK services purchase as a small-scale contract: refused before the 2025
    # amendment, lawful from 3 April 2025.
    ("services", "2500000.00", "small_scale", "2025-04-02", None),
    ("services", "2500000.00", "small_scale", "2025-04-03", "small_scale"),
    # The works contract of 6,072,914 CZK awarded directly by a real town in 2026.
    ("works", "6072914.00", "small_scale", "2025-04-02", None),
    ("works", "6072914.00", "small_scale", "2025-04-03", "small_scale"),
    # 5,500,000 CZK of supplies: under the EU threshold of 2022-2023 (5,610,000), over
    # that of 2024-2025 (5,401,000).
    ("supplies", "5500000.00", "open", "2023-12-31", "below_threshold"),
    ("supplies", "5500000.00", "open", "2024-01-01", "above_threshold"),
]


@pytest.mark.parametrize(("subject", "value", "procedure", "started_on", "regime"), REGIME_CASES)
def test_regime_is_that_of_the_day_the_procedure_started(
    client: TestClient,
    make_key: MakeKey,
    subject: str,
    value: str,
    procedure: str,
    started_on: str,
    regime: str | None,
) -> None:
    body = procurement_body(
        subject=subject,
        estimated_value_excl_vat=value,
        procedure=procedure,
        started_on=started_on,
    )
    response = client.post("/v1/procurements", json=body, headers=make_key(Role.admin))
    if regime is None:
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["pointer"] == "/procedure"
        assert started_on in response.json()["detail"]
        return
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["regime"], created["started_on"]) == (regime, started_on)
    ocid = created["ocid"]
    assert client.get(f"/v1/procurements/{ocid}/timeline").json()["started_on"] == started_on


def test_started_on_defaults_to_today_and_is_checked(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    created = client.post("/v1/procurements", json=procurement_body(), headers=admin).json()
    today = client.get("/v1/law").json()["on"]
    assert created["started_on"] == today
    for started_on in ("2016-09-30", "2099-01-01"):
        response = client.post(
            "/v1/procurements", json=procurement_body(started_on=started_on), headers=admin
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["pointer"] == "/started_on"


# --- findings of historical trails use the law of the day their period started -------------


def _historical_contract(
    client: TestClient, headers: dict[str, str], *, started: str, signed: str, value: str
) -> str:
    """A small-scale purchase started on ``started`` whose contract was signed on
    ``signed`` (trails recorded after the fact)."""
    ocid = create_procurement(
        client,
        headers,
        procedure="small_scale",
        estimated_value_excl_vat=value,
        started_on=started,
    )
    day = date.fromisoformat(started)
    for body in (
        approved(at(str(day))),
        invitation(at(str(day + timedelta(days=1))), at(str(day + timedelta(days=8)))),
        bids(at(str(day + timedelta(days=8)))),
        selection(at(str(day + timedelta(days=9))), price=value),
        contract(at(signed), signed, value=value),
    ):
        post_step(client, headers, ocid, body)
    return ocid


PROFILE_CASES = [
    # 15 days until 15 July 2023: signed on Saturday 15 July, day 15 is Sunday 30 July, so
    # the period ends on Monday 31 July; published on 1 August is late.
    ("2023-07-01", "2023-07-15", "800000.00", "2023-08-01", ["contract_on_buyer_profile"]),
    # 30 days for a contract signed from 16 July 2023.
    ("2023-07-01", "2023-07-16", "800000.00", "2023-08-01", []),
    # 500,000 CZK until 2 April 2025: an 800,000 CZK contract must be on the profile ...
    ("2025-03-03", "2025-04-02", "800000.00", "2025-05-15", ["contract_on_buyer_profile"]),
    # ... and from 3 April 2025 only above 1,000,000 CZK.
    ("2025-03-03", "2025-04-03", "800000.00", "2025-05-15", []),
]


@pytest.mark.parametrize(("started", "signed", "value", "published_on", "expected"), PROFILE_CASES)
def test_profile_publication_follows_the_law_of_the_signature_day(
    client: TestClient,
    make_key: MakeKey,
    started: str,
    signed: str,
    value: str,
    published_on: str,
    expected: list[str],
) -> None:
    admin = make_key(Role.admin)
    ocid = _historical_contract(client, admin, started=started, signed=signed, value=value)
    recorded = post_step(client, admin, ocid, published(at(published_on), "profile"))
    assert [f["rule_id"] for f in recorded["findings"]] == expected
    timeline = client.get(f"/v1/procurements/{ocid}/timeline").json()
    assert [
        f["rule_id"] for f in timeline["findings"] if f["rule_id"] == "contract_on_buyer_profile"
    ] == expected


@pytest.mark.parametrize(
    ("signed", "void_rule"),
    [("2017-06-30", False), ("2017-07-03", True)],
)
def test_register_voidness_applies_to_contracts_from_july_2017(
    client: TestClient, make_key: MakeKey, signed: str, void_rule: bool
) -> None:
    admin = make_key(Role.admin)
    ocid = _historical_contract(client, admin, started="2017-06-01", signed=signed, value="90000")
    missed = {
        f["rule_id"]
        for f in client.get(f"/v1/procurements/{ocid}/timeline").json()["findings"]
        if f["seq"] is None
    }
    assert "contract_register_30_days" in missed
    assert ("contract_register_void_after_3_months" in missed) is void_rule


def test_findings_carry_the_reference_and_confidence_of_their_version(
    client: TestClient, make_key: MakeKey
) -> None:
    admin = make_key(Role.admin)
    ocid = _historical_contract(
        client, admin, started="2023-07-01", signed="2023-07-15", value="800000.00"
    )
    (finding,) = post_step(client, admin, ocid, published(at("2023-08-01"), "profile"))["findings"]
    assert finding["legal_reference"] == "§ 219 odst. 1 zákon č. 134/2016 Sb."
    assert finding["confidence"] == "confirmed"
    assert "15 days" in finding["description"]
    assert "500,000" in finding["description"]
    assert finding["due_date"] == "2023-07-31"
