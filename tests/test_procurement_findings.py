"""Single statutory rules, each on both sides of its limit: a breach is a finding on the
step (recorded, never refused), and keeping the limit gives none."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.auth import Role
from tests.conftest import MakeKey
from tests.factories_procurement import (
    approved,
    at,
    bids,
    contract,
    create_procurement,
    invitation,
    notice,
    payment,
    post_step,
    published,
    selection,
    step,
)


def _rule_ids(recorded: dict[str, Any]) -> list[str]:
    return [f["rule_id"] for f in recorded["findings"]]


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [
        # 20 working days from Monday 2 March 2026 end on Monday 30 March
        ("2026-03-27", ["bid_period_open_below_threshold_works"]),
        ("2026-03-30", []),
    ],
)
def test_open_below_threshold_works_needs_20_working_days(
    client: TestClient, make_key: MakeKey, deadline: str, expected: list[str]
) -> None:
    admin = make_key(Role.admin)
    ocid = create_procurement(
        client, admin, subject="works", procedure="open", estimated_value_excl_vat="10000000"
    )
    post_step(client, admin, ocid, approved(at("2026-03-01")))
    recorded = post_step(client, admin, ocid, notice(at("2026-03-02"), at(deadline), "vvz"))
    assert _rule_ids(recorded) == expected


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [
        # 15 working days from Wednesday 1 April 2026, across Easter: Friday 24 April
        ("2026-04-23", ["bid_period_restricted_below_threshold"]),
        ("2026-04-24", []),
    ],
)
def test_restricted_below_threshold_invitation_needs_15_working_days(
    client: TestClient, make_key: MakeKey, deadline: str, expected: list[str]
) -> None:
    admin = make_key(Role.admin)
    ocid = create_procurement(
        client, admin, procedure="restricted", estimated_value_excl_vat="3000000"
    )
    post_step(client, admin, ocid, approved(at("2026-03-01")))
    post_step(client, admin, ocid, notice(at("2026-03-02"), at("2026-03-20"), "vvz"))
    recorded = post_step(client, admin, ocid, invitation(at("2026-04-01"), at(deadline)))
    assert _rule_ids(recorded) == expected


def _until_contract(client: TestClient, headers: dict[str, str], value: str) -> str:
    ocid = create_procurement(
        client, headers, procedure="small_scale", estimated_value_excl_vat="1900000"
    )
    for body in (
        approved(at("2026-02-02")),
        invitation(at("2026-02-03"), at("2026-02-17")),
        bids(at("2026-02-17")),
        selection(at("2026-02-20"), price=value),
        contract(at("2026-03-02"), "2026-03-02", value=value),
    ):
        post_step(client, headers, ocid, body)
    return ocid


@pytest.mark.parametrize(
    ("value", "published_on", "expected"),
    [
        # 30 days from Monday 2 March 2026 end on Wednesday 1 April
        ("1200000.00", "2026-04-01", []),
        ("1200000.00", "2026-04-02", ["contract_on_buyer_profile"]),
        # not above 1,000,000 CZK (the limit since 3 April 2025): no profile duty
        ("1000000.00", "2026-04-02", []),
    ],
)
def test_contract_on_the_buyer_profile_within_30_days_above_1m(
    client: TestClient, make_key: MakeKey, value: str, published_on: str, expected: list[str]
) -> None:
    admin = make_key(Role.admin)
    ocid = _until_contract(client, admin, value)
    recorded = post_step(client, admin, ocid, published(at(published_on), "profile"))
    assert _rule_ids(recorded) == expected
    assert client.get(f"/v1/procurements/{ocid}").json()["step_count"] == 6


@pytest.mark.parametrize(
    ("value", "published_on", "expected"),
    [
        # 3 months from Friday 1 May 2026 (a holiday): 1 August is a Saturday -> 3 August
        ("1200000.00", "2026-08-03", []),
        ("1200000.00", "2026-08-04", ["price_paid_on_buyer_profile"]),
        ("900000.00", "2026-08-04", []),
    ],
)
def test_price_paid_within_3_months_of_performance(
    client: TestClient, make_key: MakeKey, value: str, published_on: str, expected: list[str]
) -> None:
    admin = make_key(Role.admin)
    ocid = _until_contract(client, admin, value)
    post_step(client, admin, ocid, payment(at("2026-04-30"), "2026-04-30", amount=value))
    post_step(client, admin, ocid, step("completed", at("2026-05-01")))
    recorded = post_step(
        client,
        admin,
        ocid,
        step(
            "price_paid_published",
            at(published_on),
            url="https://profil.example.cz/cena",
            amount_excl_vat=value,
        ),
    )
    assert _rule_ids(recorded) == expected
    if expected:
        finding = recorded["findings"][0]
        assert finding["due_date"] == "2026-08-03"
        assert finding["legal_reference"].startswith("§ 219 odst. 3 zákon č. 134/2016 Sb.")


def test_deadlines_use_the_corrected_values(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    ocid = _until_contract(client, admin, "1200000.00")
    fix = step(
        "correction",
        at("2026-03-21"),
        corrects_seq=5,
        reason="signature date mistyped",
        corrected={"signed_on": "2026-03-20"},
    )
    post_step(client, admin, ocid, fix)
    # 30 days from the corrected 20 March end on 19 April (a Sunday) -> 20 April
    recorded = post_step(client, admin, ocid, published(at("2026-04-10"), "profile"))
    assert _rule_ids(recorded) == []
