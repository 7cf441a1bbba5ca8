"""End to end over HTTP, one per procedure type: a full happy path without findings, and a
breach path whose findings are exactly the expected statutory rules."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.auth import Role
from tests.conftest import MakeKey
from tests.factories_procurement import (
    BUYER,
    approved,
    at,
    bids,
    contract,
    create_procurement,
    evaluation,
    invitation,
    notice,
    payment,
    post_step,
    published,
    selection,
    step,
)

# The periods a two-stage procedure above the threshold breaks with a short call: the 30
# days for requests to participate, and the 25 days for bids where the law sets them
# (§ 59 odst. 2, § 62 odst. 2; none for competitive dialogue and innovation partnership).
TWO_STAGE = {
    "restricted": [
        "participation_period_restricted_above_threshold",
        "bid_period_restricted_above_threshold",
    ],
    "negotiated_with_publication": [
        "participation_period_negotiated_with_publication_above_threshold",
        "bid_period_negotiated_with_publication_above_threshold",
    ],
    "competitive_dialogue": ["participation_period_competitive_dialogue_above_threshold"],
    "innovation_partnership": ["participation_period_innovation_partnership_above_threshold"],
}
ZZVZ_PROCEDURES = (
    "open",
    *TWO_STAGE,
    "negotiated_without_publication",
    "simplified_below_threshold",
    "concession",
    "design_contest",
)
VALUE = {"simplified_below_threshold": "3500000.00", "small_scale": "400000.00"}


def _opening(procedure: str, *, short_bid_period: bool) -> list[dict[str, Any]]:
    """From the approval to the opened bids (bids opened on 18 March 2026)."""
    steps = [approved(at("2026-01-02"))]
    if procedure in TWO_STAGE:
        # Requests to participate: 30 days from 5 January end on Wednesday 4 February;
        # bids: 25 days from 16 February end on Friday 13 March.
        steps += [
            notice(at("2026-01-05"), at("2026-01-20" if short_bid_period else "2026-02-04"), "vvz"),
            invitation(at("2026-02-16"), at("2026-03-05" if short_bid_period else "2026-03-18")),
        ]
    elif procedure in ("negotiated_without_publication", "small_scale"):
        steps.append(invitation(at("2026-02-03"), at("2026-03-18")))
    elif procedure == "simplified_below_threshold":
        # 11 working days from 3 February end on 18 February
        deadline = "2026-02-10" if short_bid_period else "2026-02-18"
        steps.append(notice(at("2026-02-03"), at(deadline), channel="profile"))
    else:
        # open above threshold: 30 days from 3 February end on 5 March
        deadline = "2026-02-20" if short_bid_period else "2026-03-18"
        steps.append(notice(at("2026-02-03"), at(deadline), channel="vvz"))
    steps.append(
        step("tender_documents_published", at("2026-02-03", 11), url="https://profil.example.cz/zd")
    )
    steps.append(bids(at("2026-03-18")))
    return steps


def _tail(procedure: str, value: str, *, early_contract: bool) -> list[dict[str, Any]]:
    """From the evaluation to the end. The selection on Friday 20 March 2026: the 15-day
    objection period ends on Saturday 4 April, moved past Easter to Tuesday 7 April."""
    small = procedure == "small_scale"
    signed = "2026-03-30" if early_contract else "2026-04-09"
    if small:
        signed = "2026-03-23"
    published_on = "2026-04-10" if early_contract else "2026-04-15"
    steps = [
        evaluation(at("2026-03-19")),
        selection(at("2026-03-20"), price=value),
        contract(at(signed), signed, value=value),
        published(at(published_on if not small else "2026-03-30"), "contract_register"),
    ]
    if not small:
        steps.append(published(at(published_on, 11), "profile"))
    if procedure not in ("small_scale", "simplified_below_threshold"):
        steps.append(
            step(
                "result_notice_published",
                at("2026-04-20"),
                channel="vvz",
                notice_id="F29-1",
                url="https://vvz.example.cz/F29-1",
            )
        )
    if not small:
        steps.append(step("report_published", at("2026-04-20", 11), url="https://p.example.cz/r"))
    steps += [
        payment(at("2026-05-04"), "2026-05-04", amount=value),
        step("completed", at("2026-05-05")),
        step(
            "price_paid_published",
            at("2026-05-20"),
            url="https://profil.example.cz/cena",
            amount_excl_vat=value,
        ),
    ]
    return steps


def _run(client: TestClient, procedure: str, steps: list[dict[str, Any]]) -> tuple[str, list[str]]:
    officer = client.headers  # set by the caller
    value = VALUE.get(procedure, "6000000.00")
    ocid = create_procurement(
        client, dict(officer), procedure=procedure, estimated_value_excl_vat=value
    )
    rule_ids: list[str] = []
    for number, body in enumerate(steps, start=1):
        recorded = post_step(client, dict(officer), ocid, body)
        assert recorded["seq"] == number
        rule_ids += [f["rule_id"] for f in recorded["findings"]]
    return ocid, rule_ids


@pytest.mark.parametrize("procedure", [*ZZVZ_PROCEDURES, "small_scale"])
def test_happy_path_has_no_findings(client: TestClient, make_key: MakeKey, procedure: str) -> None:
    client.headers.update(make_key(Role.officer, municipality_code=BUYER))
    value = VALUE.get(procedure, "6000000.00")
    steps = _opening(procedure, short_bid_period=False) + _tail(
        procedure, value, early_contract=False
    )
    ocid, rule_ids = _run(client, procedure, steps)
    assert rule_ids == []
    timeline = client.get(f"/v1/procurements/{ocid}/timeline").json()
    assert timeline["status"] == "completed"
    assert timeline["findings"] == []
    assert [s["seq"] for s in timeline["steps"]] == list(range(1, len(steps) + 1))
    hashes = [(s["prev_hash"], s["entry_hash"]) for s in timeline["steps"]]
    assert hashes[0][0] is None
    assert all(hashes[i][0] == hashes[i - 1][1] for i in range(1, len(hashes)))


EXPECTED_BREACHES = {
    "open": ["bid_period_open_above_threshold", "contract_after_objection_period"],
    **{p: [*rules, "contract_after_objection_period"] for p, rules in TWO_STAGE.items()},
    "negotiated_without_publication": ["contract_after_objection_period"],
    "simplified_below_threshold": [
        "bid_period_simplified_below_threshold_notice_published",
        "contract_after_objection_period",
    ],
    "concession": ["contract_after_objection_period"],
    "design_contest": ["contract_after_objection_period"],
}


@pytest.mark.parametrize("procedure", ZZVZ_PROCEDURES)
def test_breach_path_yields_exactly_the_expected_findings(
    client: TestClient, make_key: MakeKey, procedure: str
) -> None:
    client.headers.update(make_key(Role.officer, municipality_code=BUYER))
    value = VALUE.get(procedure, "6000000.00")
    steps = _opening(procedure, short_bid_period=True) + _tail(
        procedure, value, early_contract=True
    )
    ocid, rule_ids = _run(client, procedure, steps)
    assert rule_ids == EXPECTED_BREACHES[procedure]
    timeline = client.get(f"/v1/procurements/{ocid}/timeline").json()
    assert [f["rule_id"] for f in timeline["findings"]] == EXPECTED_BREACHES[procedure]
    early = next(f for f in timeline["findings"] if f["rule_id"].startswith("contract_after"))
    assert early["due_date"] == "2026-04-07"
    assert early["actual_date"] == "2026-03-30"
    assert early["legal_reference"].startswith("§ 242")


def test_small_scale_village_purchase_breach_is_late_register_publication(
    client: TestClient, make_key: MakeKey
) -> None:
    """A village buys a municipal mobile app: price inquiry to three suppliers, offers,
    council resolution, order, publication in the contract register (late), payment."""
    client.headers.update(make_key(Role.officer, municipality_code=BUYER))
    steps = _opening("small_scale", short_bid_period=False)
    steps += [
        selection(at("2026-03-20"), price="390000.00"),
        contract(at("2026-03-23"), "2026-03-23", value="390000.00"),
        # 30 days from 23 March end on Wednesday 22 April
        published(at("2026-04-23"), "contract_register"),
        payment(at("2026-05-04"), "2026-05-04", amount="390000.00"),
        step("completed", at("2026-05-05")),
    ]
    steps[-4]["data"]["form"] = "order"
    ocid, rule_ids = _run(client, "small_scale", steps)
    assert rule_ids == ["contract_register_30_days"]
    finding = client.get(f"/v1/procurements/{ocid}/timeline").json()["findings"][0]
    assert finding["due_date"] == "2026-04-22"
    assert finding["actual_date"] == "2026-04-23"
    assert finding["legal_reference"] == "§ 5 odst. 2 zákon č. 340/2015 Sb."
    assert finding["severity"] == "medium"
