"""Plain-data procurements and entry documents for the audit tests (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

PROCEDURES = (
    "open",
    "restricted",
    "negotiated_with_publication",
    "negotiated_without_publication",
    "competitive_dialogue",
    "innovation_partnership",
    "simplified_below_threshold",
    "concession",
    "design_contest",
    "small_scale",
)

WINNER = {"ico": "25596641", "name": "Chytrá města s.r.o."}
OTHER = {"ico": "27082440", "name": "Alza.cz a.s."}
THIRD = {"ico": "45274649", "name": "ČEZ, a. s."}
START = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


def z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def header(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "ocid": "ocds-smstps-554782-2026-1",
        "buyer_code": "554782",
        "title": "Chytré veřejné osvětlení",
        "description": "Výměna 400 svítidel za LED s dálkovým řízením",
        "subject": "supplies",
        "procedure": "open",
        "regime": "below_threshold",
        "estimated_value_excl_vat": "4500000.00",
        "currency": "CZK",
        "cpv_codes": ["34993000-4", "31527260-6"],
        "created_at": START - timedelta(days=5),
    }
    values.update(overrides)
    return values


class Trail:
    """Builds entry documents the way the ledger stores them (seq, leaf_index, times)."""

    def __init__(self, ocid: str = "ocds-smstps-554782-2026-1", leaf_start: int = 0) -> None:
        self.ocid = ocid
        self.entries: list[dict[str, Any]] = []
        self.leaf = leaf_start

    def add(
        self,
        step_type: str,
        at: datetime,
        documents: list[dict[str, Any]] | None = None,
        **data: Any,
    ) -> dict[str, Any]:
        entry = {
            "v": 1,
            "ocid": self.ocid,
            "seq": len(self.entries) + 1,
            "leaf_index": self.leaf,
            "prev_hash": None,
            "type": step_type,
            "occurred_at": z(at),
            "recorded_at": z(at + timedelta(minutes=5)),
            "actor": "key1",
            "data": data,
            "documents": documents or [],
            "findings": [],
        }
        self.leaf += 1
        self.entries.append(entry)
        return entry


def document(name: str) -> dict[str, Any]:
    return {
        "title": name,
        "url": f"https://profil.example.cz/{name}.pdf",
        "sha256": "ab" * 32,
        "size": 1234,
        "media_type": "application/pdf",
    }


def happy_path(procedure: str, ocid: str = "ocds-smstps-554782-2026-1") -> list[dict[str, Any]]:
    """A full trail from approval to completion, with the repeatable steps repeated."""
    t = Trail(ocid)
    day = START
    t.add("procurement_approved", day, [document("usneseni")], body="council", resolution_id="R/12")
    day += timedelta(days=1)
    deadline = day + timedelta(days=35)
    if procedure in ("negotiated_without_publication", "small_scale"):
        t.add("invitation_sent", day, suppliers=[WINNER, OTHER, THIRD], bid_deadline=z(deadline))
    else:
        t.add(
            "notice_published",
            day,
            channel="vvz",
            notice_id="Z2026-000123",
            url="https://vvz.example.cz/Z2026-000123",
            bid_deadline=z(deadline),
        )
    t.add("tender_documents_published", day, [document("zd")], url="https://profil.example.cz/zd")
    t.add("clarification_published", day + timedelta(days=5), summary="Odpověď na dotaz č. 1")
    t.add("clarification_published", day + timedelta(days=7), summary="Odpověď na dotaz č. 2")
    deadline += timedelta(days=7)
    t.add(
        "bid_deadline_extended",
        day + timedelta(days=8),
        new_bid_deadline=z(deadline),
        reason="změna zadávací dokumentace",
    )
    day = deadline + timedelta(hours=1)
    t.add(
        "bids_opened",
        day,
        bids=[
            {**WINNER, "price_excl_vat": "3900000.00"},
            {**OTHER, "price_excl_vat": "4100000.50"},
            {**THIRD, "price_excl_vat": "4700000.00"},
        ],
    )
    day += timedelta(days=3)
    t.add("evaluation_completed", day, excluded=[{"ico": THIRD["ico"], "reason": "kvalifikace"}])
    day += timedelta(days=1)
    t.add(
        "selection_decided",
        day,
        winner_ico=WINNER["ico"],
        winner_name=WINNER["name"],
        price_excl_vat="3900000.00",
    )
    t.add("objection_filed", day + timedelta(days=3), objector_ico=OTHER["ico"], summary="cena")
    t.add("objection_decided", day + timedelta(days=8), outcome="rejected", summary="nedůvodné")
    signed = (day + timedelta(days=20)).date()
    t.add(
        "contract_signed",
        day + timedelta(days=20),
        [document("smlouva")],
        supplier_ico=WINNER["ico"],
        supplier_name=WINNER["name"],
        value_excl_vat="3900000.00",
        signed_on=signed.isoformat(),
    )
    day += timedelta(days=25)
    t.add(
        "contract_published",
        day,
        register="contract_register",
        id="12345678",
        url="https://smlouvy.example.cz/smlouva/12345678",
    )
    t.add(
        "result_notice_published",
        day,
        channel="vvz",
        notice_id="Z2026-000456",
        url="https://vvz.example.cz/Z2026-000456",
    )
    t.add("report_published", day, url="https://profil.example.cz/zprava")
    day += timedelta(days=30)
    t.add("contract_amended", day, value_change_excl_vat="150000.00", reason="víceprace")
    t.add(
        "payment_made",
        day + timedelta(days=30),
        amount_excl_vat="2000000.00",
        paid_on=(day + timedelta(days=30)).date().isoformat(),
    )
    t.add(
        "payment_made",
        day + timedelta(days=60),
        amount_excl_vat="2050000.00",
        paid_on=(day + timedelta(days=60)).date().isoformat(),
    )
    t.add("completed", day + timedelta(days=61))
    t.add(
        "price_paid_published",
        day + timedelta(days=70),
        url="https://profil.example.cz/cena",
        amount_excl_vat="4050000.00",
    )
    t.add(
        "correction",
        day + timedelta(days=71),
        corrects_seq=2,
        reason="překlep v čísle oznámení",
        corrected={"notice_id": "Z2026-000124"}
        if procedure not in ("negotiated_without_publication", "small_scale")
        else {"suppliers": [WINNER, OTHER]},
    )
    return t.entries


def as_date(value: str) -> date:
    return date.fromisoformat(value)
