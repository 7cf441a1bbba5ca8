"""An append costs a handful of indexed statements, whatever the length of the history
(an earlier design reloaded every step on each append)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from sqlalchemy import event
from sqlmodel import Session

from api.auth import Caller, Role
from procurement import service
from procurement.steptypes import StepCreate
from tests.conftest import MakeKey
from tests.factories_procurement import (
    ago,
    approved,
    contract,
    create_procurement,
    invitation,
    published,
    step,
)

STEP = TypeAdapter(StepCreate)
ADMIN = Caller(key_id="cost0test000", role=Role.admin)


def _statements(session: Session, ocid: str, body: dict[str, Any]) -> int:
    connection = session.connection()
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(connection, "before_cursor_execute", count)
    try:
        service.record_step(session, ocid, STEP.validate_python(body), ADMIN)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    return len(seen)


def test_append_statements_do_not_grow_with_history(
    client: TestClient, make_key: MakeKey, session: Session
) -> None:
    admin = make_key(Role.admin)
    ocid = create_procurement(client, admin)
    service.record_step(session, ocid, STEP.validate_python(approved(ago(30))), ADMIN)
    service.record_step(session, ocid, STEP.validate_python(invitation(ago(29), ago(10))), ADMIN)

    def clarification(n: int) -> dict[str, Any]:
        return step("clarification_published", ago(20), summary=f"q{n}")

    early = _statements(session, ocid, clarification(0))
    for n in range(1, 40):
        service.record_step(session, ocid, STEP.validate_python(clarification(n)), ADMIN)
    late = _statements(session, ocid, clarification(40))
    assert early == late
    assert late <= 10


def test_deadline_checks_read_only_the_steps_they_refer_to(
    client: TestClient, make_key: MakeKey, session: Session
) -> None:
    admin = make_key(Role.admin)
    ocid = create_procurement(
        client, admin, procedure="small_scale", estimated_value_excl_vat="400000"
    )
    for body in (
        approved(ago(30)),
        invitation(ago(29), ago(20)),
        step("bids_opened", ago(20), bids=[]),
        step(
            "selection_decided",
            ago(15),
            winner_ico="44992785",
            winner_name="X",
            price_excl_vat="1",
        ),
        contract(ago(14), ago(14)[:10], value="390000.00"),
    ):
        service.record_step(session, ocid, STEP.validate_python(body), ADMIN)
    # Each append in a transaction of its own, as over HTTP one at a time.
    session.commit()
    plain = _statements(
        session, ocid, step("payment_made", ago(1), amount_excl_vat="1", paid_on=ago(1)[:10])
    )
    session.commit()
    # Three deadline rules refer to the contract; it is read once (its row, then its bytes).
    assert _statements(session, ocid, published(ago(1))) == plain + 2


def _trail(days: int) -> list[dict[str, Any]]:
    return [
        approved(ago(days)),
        invitation(ago(days - 1), ago(days - 10)),
        step("bids_opened", ago(days - 10), bids=[]),
        step(
            "selection_decided",
            ago(days - 15),
            winner_ico="44992785",
            winner_name="X",
            price_excl_vat="1",
        ),
        contract(ago(days - 30), ago(days - 30)[:10], value="390000.00"),
    ]


def test_an_append_to_a_trail_its_transaction_wrote_reads_nothing_back(
    client: TestClient, make_key: MakeKey, session: Session
) -> None:
    """An import writes whole trails in one transaction: their head and their entries are
    known, so neither the procurement row nor the contract is read again, and the findings
    are those the reads give."""
    admin = make_key(Role.admin)
    read_back, known = (
        create_procurement(
            client, admin, procedure="small_scale", estimated_value_excl_vat="400000.00"
        )
        for _ in range(2)
    )
    for body in _trail(90):
        service.record_step(session, read_back, STEP.validate_python(body), ADMIN)
        session.commit()  # the next append reads the trail back
    for body in _trail(90):
        service.record_step(session, known, STEP.validate_python(body), ADMIN)
    plain = _statements(
        session, known, step("payment_made", ago(1), amount_excl_vat="1", paid_on=ago(1)[:10])
    )
    assert _statements(session, known, published(ago(1))) == plain
    late = service.record_step(session, read_back, STEP.validate_python(published(ago(1))), ADMIN)
    known_late = client.get(f"/v1/procurements/{known}/steps/7").json()["findings"]
    assert [f["rule_id"] for f in known_late] == [f.rule_id for f in late.findings]
    assert [f.rule_id for f in late.findings] == ["contract_register_30_days"]
