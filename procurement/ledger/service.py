"""Appending to the log. Services flush; the request's session commits."""

from __future__ import annotations

import hashlib

from sqlmodel import Session, select

from procurement.ledger.exceptions import LeafIndexMismatch
from procurement.ledger.models import LedgerEntry, LedgerHead


def leaf_hash(entry_bytes: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry_bytes).digest()


def entry_hash(entry_bytes: bytes) -> str:
    return hashlib.sha256(entry_bytes).hexdigest()


def _locked_head(session: Session) -> LedgerHead:
    head = session.exec(select(LedgerHead).where(LedgerHead.id == 1).with_for_update()).first()
    if head is None:
        head = LedgerHead(id=1, size=0)
        session.add(head)
        session.flush()
    return head


def next_leaf_index(session: Session) -> int:
    """Take the log-head lock (FOR UPDATE; SQLite's write requests run BEGIN IMMEDIATE)."""
    return _locked_head(session).size


def append_entry(session: Session, leaf_index: int, entry_bytes: bytes) -> LedgerEntry:
    """Store the entry as leaf ``leaf_index`` and advance the head, in the caller's txn."""
    head = _locked_head(session)
    if leaf_index != head.size:
        raise LeafIndexMismatch(f"leaf index {leaf_index} given, the log has {head.size} leaves")
    entry = LedgerEntry(
        leaf_index=leaf_index, entry_bytes=entry_bytes, leaf_hash=leaf_hash(entry_bytes)
    )
    session.add(entry)
    head.size += 1
    session.add(head)
    session.flush()
    return entry
