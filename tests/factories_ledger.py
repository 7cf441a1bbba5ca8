"""Synthetic ledger entries that follow the entry contract exactly (procurement/ledger)."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785
from sqlmodel import Session

from api.db import commit
from procurement.ledger import service


def entry_document(ocid: str, seq: int, index: int, prev: str | None, **data: Any) -> bytes:
    return bytes(
        rfc8785.dumps(
            {
                "v": 1,
                "ocid": ocid,
                "seq": seq,
                "leaf_index": index,
                "prev_hash": prev,
                "type": "clarification_published",
                "occurred_at": "2026-11-20T10:00:00Z",
                "recorded_at": "2026-11-20T10:00:01Z",
                "actor": None,
                "data": {"summary": data.get("summary", f"step {seq} of {ocid}")},
                "documents": [],
                "findings": [],
            }
        )
    )


def append_steps(session: Session, ocids: list[str], rounds: int) -> list[bytes]:
    """Append ``rounds`` steps to each fake procurement, interleaved, with correct chains."""
    heads: dict[str, tuple[int, str | None]] = {}
    written: list[bytes] = []
    for _ in range(rounds):
        for ocid in ocids:
            seq, prev = heads.get(ocid, (0, None))
            index = service.next_leaf_index(session)
            entry = entry_document(ocid, seq + 1, index, prev)
            service.append_entry(session, index, entry)
            commit(session)  # one append per commit (and its checkpoint), as a lone HTTP append
            heads[ocid] = (seq + 1, hashlib.sha256(entry).hexdigest())
            written.append(entry)
    return written


FAKE_OCIDS = ["ocds-smstps-000001-2026-1", "ocds-smstps-000002-2026-1", "ocds-smstps-000003-2026-7"]
