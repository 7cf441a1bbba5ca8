"""The queries of imports: procurements imported before, and their imported steps."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from procurement.ledger.models import LedgerEntry
from procurement.models import Procurement, ProcurementStep
from procurement.trail import effective_steps

_P = Procurement.__table__  # type: ignore[attr-defined]
_S = ProcurementStep.__table__  # type: ignore[attr-defined]
_E = LedgerEntry.__table__  # type: ignore[attr-defined]

PartKey = tuple[str, str, str]


@dataclass(frozen=True)
class ImportedProcurement:
    id: int
    ocid: str
    title: str
    subject: str
    procedure: str
    estimated_value_excl_vat: Decimal
    step_types: frozenset[str]


@dataclass(frozen=True)
class ImportedStepFacts:
    """A step imported before: its seq and type, and what it states now (its effective
    data, corrections applied)."""

    seq: int
    type: str
    facts: dict[str, Any]


def part_key(external_ids: dict[str, Any]) -> PartKey | None:
    """The identity of a part on a buyer profile (profile, zakazka, part), or None."""
    procurement_id = external_ids.get("buyer_profile_procurement_id")
    if not procurement_id:
        return None
    return (
        str(external_ids.get("buyer_profile_code") or ""),
        str(procurement_id),
        str(external_ids.get("buyer_profile_part_id") or ""),
    )


def imported_procurements(session: Session, buyer_code: str) -> dict[PartKey, ImportedProcurement]:
    """The buyer's procurements that carry buyer profile ids, by part."""
    rows = session.execute(
        select(
            _P.c.id,
            _P.c.ocid,
            _P.c.title,
            _P.c.subject,
            _P.c.procedure,
            _P.c.estimated_value_excl_vat,
            _P.c.step_types,
            _P.c.external_ids,
        ).where(_P.c.buyer_code == buyer_code)
    )
    found: dict[PartKey, ImportedProcurement] = {}
    for row in rows:
        external = row.external_ids if isinstance(row.external_ids, dict) else {}
        key = part_key(external)
        if key is None:
            continue
        found[key] = ImportedProcurement(
            id=row.id,
            ocid=row.ocid,
            title=row.title,
            subject=row.subject,
            procedure=row.procedure,
            estimated_value_excl_vat=Decimal(row.estimated_value_excl_vat),
            step_types=frozenset(row.step_types.split(",")) - {""},
        )
    return found


def imported_steps(session: Session, procurement_id: int) -> dict[str, ImportedStepFacts]:
    """The procurement's imported steps by their key (``imported_from.key``)."""
    rows = session.execute(
        select(_E.c.entry_bytes)
        .join(_S, _S.c.leaf_index == _E.c.leaf_index)
        .where(_S.c.procurement_id == procurement_id)
        .order_by(_S.c.seq)
    )
    entries = [json.loads(bytes(raw)) for (raw,) in rows]
    found: dict[str, ImportedStepFacts] = {}
    for step in effective_steps(entries):
        origin = step.entry.get("imported_from")
        if not isinstance(origin, dict) or "key" not in origin:
            continue
        found[str(origin["key"])] = ImportedStepFacts(
            seq=step.seq,
            type=step.type,
            facts={
                "occurred_at": step.entry["occurred_at"],
                "data": step.data,
                "documents": list(step.entry.get("documents") or []),
            },
        )
    return found
