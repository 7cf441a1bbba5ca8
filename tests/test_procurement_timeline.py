"""The timeline: derived status, steps, findings of recorded steps and of periods already
missed, and the next statutory deadline still open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from api.auth import Role
from tests.conftest import MakeKey
from tests.factories_procurement import (
    ago,
    approved,
    bids,
    contract,
    create_procurement,
    invitation,
    post_step,
    published,
    selection,
)


def _days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).date().isoformat()


def _small_scale_until_contract(client: TestClient, headers: dict[str, str], signed: int) -> str:
    ocid = create_procurement(
        client, headers, procedure="small_scale", estimated_value_excl_vat="400000"
    )
    post_step(client, headers, ocid, approved(ago(signed + 20)))
    post_step(client, headers, ocid, invitation(ago(signed + 19), ago(signed + 10)))
    post_step(client, headers, ocid, bids(ago(signed + 10)))
    post_step(client, headers, ocid, selection(ago(signed + 5), price="390000.00"))
    post_step(client, headers, ocid, contract(ago(signed), _days_ago(signed), value="390000.00"))
    return ocid


def test_status_moves_with_the_steps(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    ocid = create_procurement(
        client, admin, procedure="small_scale", estimated_value_excl_vat="400000"
    )
    seen = [client.get(f"/v1/procurements/{ocid}/timeline").json()["status"]]
    for body in (
        approved(ago(30)),
        invitation(ago(29), ago(20)),
        bids(ago(20)),
        selection(ago(15), price="390000.00"),
        contract(ago(14), _days_ago(14), value="390000.00"),
    ):
        post_step(client, admin, ocid, body)
        seen.append(client.get(f"/v1/procurements/{ocid}/timeline").json()["status"])
    assert seen == ["planned", "planned", "tendering", "evaluating", "awarded", "contracted"]


def test_missed_publication_is_a_finding_and_the_next_deadline_is_open(
    client: TestClient, make_key: MakeKey
) -> None:
    admin = make_key(Role.admin)
    ocid = _small_scale_until_contract(client, admin, signed=40)
    timeline = client.get(f"/v1/procurements/{ocid}/timeline").json()
    assert timeline["status"] == "contracted"
    missed = [f for f in timeline["findings"] if f["seq"] is None]
    assert [f["rule_id"] for f in missed] == ["contract_register_30_days"]
    assert missed[0]["actual_date"] is None
    assert missed[0]["from_seq"] == 5
    assert timeline["next_deadline"]["rule_id"] == "contract_register_void_after_3_months"
    assert timeline["next_deadline"]["overdue"] is False


def test_fresh_contract_has_the_register_deadline_next(
    client: TestClient, make_key: MakeKey
) -> None:
    admin = make_key(Role.admin)
    ocid = _small_scale_until_contract(client, admin, signed=1)
    timeline = client.get(f"/v1/procurements/{ocid}/timeline").json()
    assert timeline["findings"] == []
    assert timeline["next_deadline"]["rule_id"] == "contract_register_30_days"
    post_step(client, admin, ocid, published(ago(0), "contract_register"))
    timeline = client.get(f"/v1/procurements/{ocid}/timeline").json()
    assert timeline["next_deadline"] is None
    assert timeline["open_deadlines"] == []


def test_corrections_show_on_the_corrected_step_and_move_open_periods(
    client: TestClient, make_key: MakeKey
) -> None:
    admin = make_key(Role.admin)
    ocid = _small_scale_until_contract(client, admin, signed=40)
    # The signature date was mistyped: it was yesterday, so the register period is open.
    correction = {
        "type": "correction",
        "occurred_at": ago(0),
        "data": {"corrects_seq": 5, "reason": "typo", "corrected": {"signed_on": _days_ago(1)}},
    }
    assert post_step(client, admin, ocid, correction)["seq"] == 6
    timeline = client.get(f"/v1/procurements/{ocid}/timeline").json()
    contract_step = timeline["steps"][4]
    assert contract_step["corrected_by"] == [6]
    assert contract_step["data"]["signed_on"] == _days_ago(40)
    assert contract_step["effective_data"]["signed_on"] == _days_ago(1)
    assert [f for f in timeline["findings"] if f["seq"] is None] == []
    assert timeline["next_deadline"]["rule_id"] == "contract_register_30_days"
