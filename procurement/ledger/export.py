"""The ledger export (JSON Lines): header, entries with checkpoints after their last entry,
end line. Exactly what ``smartsteps verify`` reads (see ``verify.py`` for the format)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlmodel import Session

from procurement.ledger import service
from procurement.ledger.models import LedgerCheckpoint
from procurement.ledger.verify import FORMAT, entry_line


def _json_line(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def needs_tail_checkpoint(session: Session) -> bool:
    """True when the cadence is "every N seconds" and the newest entries have no checkpoint.

    With a checkpoint per append an uncovered tail is evidence (rows written around the
    service), so it is never signed after the fact.
    """
    if service.checkpoint_interval() <= 0:
        return False
    size = service.tree_size(session)
    if size == 0:
        return False
    covered = session.execute(select(func.max(LedgerCheckpoint.tree_size))).scalar()
    return covered != size


def sign_tail(session: Session) -> bool:
    """Sign the newest entries when the cadence has left them without a checkpoint (in
    the caller's write transaction); True when a checkpoint was made."""
    if not needs_tail_checkpoint(session):
        return False
    service.checkpoint_now(session)
    return True


def export_lines(session: Session) -> Iterator[bytes]:
    """Stream the whole log as of its current head, in constant memory."""
    signer = service.signer()
    # The largest checkpoint is read before the head: an honest log never has a checkpoint
    # beyond its head, so one found here is evidence, never a race with a concurrent append.
    last_checkpoint = session.execute(select(func.max(LedgerCheckpoint.tree_size))).scalar()
    size = service.tree_size(session)
    yield _json_line(
        {
            "format": FORMAT,
            "version": 1,
            "origin": signer.origin,
            "public_key": signer.verifier.text(),
            "tree_size": size,
            "exported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )
    limit = max(size, last_checkpoint or 0)
    checkpoints = (
        (cp_size, note) for cp_size, note in service.stream_checkpoints(session) if cp_size <= limit
    )
    pending = next(checkpoints, None)
    count_entries = 0
    count_checkpoints = 0
    for index, entry_bytes, stored_leaf in service.stream_entries(session):
        if index >= size:
            break
        while pending is not None and pending[0] <= index:
            yield _json_line({"checkpoint": pending[1], "tree_size": pending[0]})
            count_checkpoints += 1
            pending = next(checkpoints, None)
        yield entry_line(index, stored_leaf, entry_bytes)
        count_entries += 1
    while pending is not None:
        yield _json_line({"checkpoint": pending[1], "tree_size": pending[0]})
        count_checkpoints += 1
        pending = next(checkpoints, None)
    yield _json_line({"end": True, "entries": count_entries, "checkpoints": count_checkpoints})
