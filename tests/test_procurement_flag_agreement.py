"""A red flag and a finding about the same period always agree: over generated trails
(procedures, regimes, dates across the 2023 and 2025 amendments, weekends and holidays,
corrections), the periods GET /v1/red-flags reports for a procurement are exactly the
breached periods its timeline reports."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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

# Values around the limits that decide the periods: the register's 50,000 CZK, the
# profile's 500,000 (until 2 April 2025) and 1,000,000 CZK (since 3 April 2025).
VALUES = ("40000.00", "60000.00", "500000.00", "800000.00", "1000000.00", "1200000.00")
# The periods the red flags cover (DESIGN: bid period shorter than the legal minimum,
# contract before the objection period ended, contract not published, price paid not
# published), as finding rule ids.
FLAGGED_PERIODS = (
    "bid_period_",
    "participation_period_",
    "contract_after_objection_period",
    "contract_on_buyer_profile",
    "contract_register_",
    "price_paid_on_buyer_profile",
)
ESTIMATES = {
    "open": ("4000000.00", "6000000.00"),
    "simplified_below_threshold": ("4000000.00",),
    "small_scale": ("1500000.00",),
}


@st.composite
def trails(draw: st.DrawFn) -> dict[str, Any]:
    procedure = draw(st.sampled_from(sorted(ESTIMATES)))
    # Started between 2023-06-01 and 2025-11-18: across both amendments; every step lies
    # in the past (at most about 310 days after the start).
    start = date(2023, 6, 1) + timedelta(days=draw(st.integers(0, 900)))
    return {
        "procedure": procedure,
        "estimate": draw(st.sampled_from(ESTIMATES[procedure])),
        "start": start,
        "bid_days": draw(st.integers(1, 45)),
        "extension_days": draw(st.one_of(st.none(), st.integers(1, 20))),
        "contract_days": draw(st.integers(0, 30)),
        "value": draw(st.sampled_from(VALUES)),
        "publication": draw(st.sampled_from(["none", "profile", "contract_register"])),
        "publication_days": draw(st.integers(0, 50)),
        "signature_fix_days": draw(st.one_of(st.none(), st.integers(-10, 10))),
        "completed_days": draw(st.one_of(st.none(), st.integers(1, 40))),
        "price_paid_days": draw(st.one_of(st.none(), st.integers(30, 120))),
    }


def _record(client: TestClient, headers: dict[str, str], trail: dict[str, Any]) -> str:
    procedure, start = trail["procedure"], trail["start"]
    ocid = create_procurement(
        client,
        headers,
        procedure=procedure,
        estimated_value_excl_vat=trail["estimate"],
        started_on=str(start),
    )

    def day(offset: int) -> str:
        return str(start + timedelta(days=offset))

    deadline = trail["bid_days"] + 1
    call = (
        invitation(at(day(1)), at(day(deadline)))
        if procedure == "small_scale"
        else notice(at(day(1)), at(day(deadline)), "vvz")
    )
    bodies = [approved(at(day(0))), call]
    if trail["extension_days"] is not None:
        deadline += trail["extension_days"]
        bodies.append(
            step(
                "bid_deadline_extended",
                at(day(2)),
                new_bid_deadline=at(day(deadline)),
                reason="dotazy",
            )
        )
    signed = deadline + 2 + trail["contract_days"]
    bodies += [
        bids(at(day(deadline), 12)),
        selection(at(day(deadline + 2)), price=trail["value"]),
        contract(at(day(signed)), day(signed), value=trail["value"]),
    ]
    seq_of_contract = len(bodies)
    if trail["signature_fix_days"] is not None:
        fixed = signed + trail["signature_fix_days"]
        bodies.append(
            step(
                "correction",
                at(day(signed + 1)),
                corrects_seq=seq_of_contract,
                reason="datum podpisu",
                corrected={"signed_on": day(fixed)},
            )
        )
    last = signed + 1
    if trail["publication"] != "none":
        last = signed + 1 + trail["publication_days"]
        bodies.append(published(at(day(last)), trail["publication"]))
    if trail["completed_days"] is not None:
        done = last + trail["completed_days"]
        bodies += [
            payment(at(day(done)), day(done), amount=trail["value"]),
            step("completed", at(day(done), 11)),
        ]
        if trail["price_paid_days"] is not None:
            bodies.append(
                step(
                    "price_paid_published",
                    at(day(done + trail["price_paid_days"])),
                    url="https://profil.example.cz/cena",
                    amount_excl_vat=trail["value"],
                )
            )
    for body in bodies:
        post_step(client, headers, ocid, body)
    return ocid


def _flags_of(client: TestClient, ocid: str) -> set[tuple[str, str, str | None]]:
    found = set()
    params: dict[str, str] = {"limit": "200"}
    while True:
        page = client.get("/v1/red-flags", params=params)
        assert page.status_code == 200, page.text
        for flag in page.json()["items"]:
            if flag["ocid"] == ocid and "finding_rule_id" in flag["details"]:
                details = flag["details"]
                found.add((details["finding_rule_id"], details["due"], details["actual"]))
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return found
        params["cursor"] = cursor


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(trail=trails())
def test_red_flags_and_findings_about_a_period_agree(
    client: TestClient, make_key: MakeKey, trail: dict[str, Any]
) -> None:
    headers = make_key(Role.admin)
    ocid = _record(client, headers, trail)
    timeline = client.get(f"/v1/procurements/{ocid}/timeline").json()
    findings = {
        (f["rule_id"], f["due_date"], f["actual_date"])
        for f in timeline["findings"]
        if f["rule_id"].startswith(FLAGGED_PERIODS)
    }
    assert _flags_of(client, ocid) == findings
