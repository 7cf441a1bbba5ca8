"""Corrections, defined once (procurement/trail.py) and read alike by GET /steps/{seq}, the
timeline, findings, red flags and OCDS; what a correction stores always reads back."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.auth import Role
from tests.conftest import MakeKey
from tests.factories_procurement import (
    BUYER,
    ago,
    approved,
    bids,
    contract,
    create_procurement,
    invitation,
    payment,
    post_step,
    selection,
    step,
)


def _days_ago(days: int) -> str:
    return ago(days)[:10]


def _until_contract(client: TestClient, headers: dict[str, str], value: str) -> str:
    ocid = create_procurement(
        client, headers, procedure="small_scale", estimated_value_excl_vat="2000000"
    )
    for body in (
        approved(ago(30)),
        invitation(ago(29), ago(20)),
        bids(ago(20)),
        selection(ago(15), price=value),
        contract(ago(14), _days_ago(14), value=value),
    ):
        post_step(client, headers, ocid, body)
    return ocid


def _correction(corrects: int, **corrected: Any) -> dict[str, Any]:
    return step("correction", ago(0), corrects_seq=corrects, reason="oprava", corrected=corrected)


def test_a_correction_with_a_timestamp_is_stored_as_a_date_and_reads_back(
    client: TestClient, make_key: MakeKey
) -> None:
    """Regression: {"signed_on": 1742860800} passed lenient validation and the raw number
    was stored, after which GET /v1/red-flags answered 500 for everyone."""
    admin = make_key(Role.admin)
    ocid = _until_contract(client, admin, "400000.00")
    recorded = post_step(client, admin, ocid, _correction(5, signed_on=1742860800))
    stored = client.get(f"/v1/procurements/{ocid}/steps/{recorded['seq']}").json()
    assert stored["data"]["corrected"] == {"signed_on": "2025-03-25"}
    contract_step = client.get(f"/v1/procurements/{ocid}/steps/5").json()
    assert contract_step["effective_data"]["signed_on"] == "2025-03-25"
    assert contract_step["corrected_by"] == [recorded["seq"]]
    for path in (
        "/v1/red-flags",
        f"/v1/red-flags?buyer={BUYER}",
        f"/v1/procurements/{ocid}/timeline",
        f"/v1/procurements/{ocid}/ocds/releases",
        f"/v1/procurements/{ocid}/ocds/record",
        "/v1/exports/steps?format=csv",
        "/v1/exports/steps?format=ocds",
    ):
        assert client.get(path).status_code == 200, path


def test_corrected_values_are_stored_as_the_step_model_dumps_them(
    client: TestClient, make_key: MakeKey
) -> None:
    admin = make_key(Role.admin)
    ocid = _until_contract(client, admin, "400000.00")
    seq = post_step(client, admin, ocid, _correction(5, value_excl_vat=450000))["seq"]
    data = client.get(f"/v1/procurements/{ocid}/steps/{seq}").json()["data"]
    assert data["corrected"] == {"value_excl_vat": "450000.00"}


def test_a_correction_that_does_not_fit_the_step_is_422_and_writes_nothing(
    client: TestClient, make_key: MakeKey
) -> None:
    admin = make_key(Role.admin)
    ocid = _until_contract(client, admin, "400000.00")
    for corrected, pointer in (
        ({"signed_on": "not a date"}, "/data/corrected/signed_on"),
        ({"colour": "red"}, "/data/corrected/colour"),
        ({}, "/data/corrected"),
    ):
        response = client.post(
            f"/v1/procurements/{ocid}/steps", json=_correction(5, **corrected), headers=admin
        )
        assert response.status_code == 422, (corrected, response.text)
        assert response.json()["errors"][0]["pointer"] == pointer
    assert client.get(f"/v1/procurements/{ocid}").json()["step_count"] == 5


def test_a_correction_of_a_correction_is_read_alike_everywhere(
    client: TestClient, make_key: MakeKey
) -> None:
    """Step 5 (the contract, 1,200,000) is corrected to 1,500,000 (step 6), and that
    correction is itself corrected to say 1,300,000 (step 7): every reader sees 1,300,000."""
    admin = make_key(Role.admin)
    ocid = _until_contract(client, admin, "1200000.00")
    post_step(client, admin, ocid, _correction(5, value_excl_vat="1500000.00"))
    post_step(client, admin, ocid, _correction(6, corrected={"value_excl_vat": "1300000.00"}))
    # Paid 1,400,000: above the effective contract value (1,300,000), below 1,500,000.
    post_step(client, admin, ocid, payment(ago(1), _days_ago(1), amount="1400000.00"))

    contract_step = client.get(f"/v1/procurements/{ocid}/steps/5").json()
    assert contract_step["data"]["value_excl_vat"] == "1200000.00"
    assert contract_step["effective_data"]["value_excl_vat"] == "1300000.00"
    assert contract_step["corrected_by"] == [6]
    first = client.get(f"/v1/procurements/{ocid}/steps/6").json()
    assert first["corrected_by"] == [7]
    assert first["effective_data"]["corrected"] == {"value_excl_vat": "1300000.00"}

    timeline = client.get(f"/v1/procurements/{ocid}/timeline").json()
    assert timeline["steps"][4]["effective_data"]["value_excl_vat"] == "1300000.00"

    params = {"buyer": BUYER, "rule": "paid_above_contract_value"}
    flags = client.get("/v1/red-flags", params=params)
    ours = [f for f in flags.json()["items"] if f["ocid"] == ocid]
    assert [f["details"]["contract_value_excl_vat"] for f in ours] == ["1300000.00"]

    record = client.get(f"/v1/procurements/{ocid}/ocds/record").json()["records"][0]
    contracts = record["compiledRelease"]["contracts"]
    assert [c["value"]["amount"] for c in contracts] == [1300000]


def test_what_a_correction_corrects_cannot_change(client: TestClient, make_key: MakeKey) -> None:
    admin = make_key(Role.admin)
    ocid = _until_contract(client, admin, "400000.00")
    post_step(client, admin, ocid, _correction(5, value_excl_vat="450000.00"))
    for corrected, pointer in (
        ({"corrects_seq": 4}, "/data/corrected/corrects_seq"),
        (
            {"corrected": {"value_excl_vat": "minus one"}},
            "/data/corrected/corrected/value_excl_vat",
        ),
    ):
        response = client.post(
            f"/v1/procurements/{ocid}/steps", json=_correction(6, **corrected), headers=admin
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["pointer"] == pointer
