"""Appending to the log, proofs and checkpoints. Services flush; the request's session commits.

An append costs a constant number of statements: the head row (locked, read once per
transaction), one INSERT of the entry (with the interior nodes it completes, on average
one) and one UPDATE of the head. A checkpoint, when one is due, is signed at the end of the
transaction, for the tree it leaves (``seal``): one signature and one INSERT per commit,
however many appends the commit holds (the write queue commits several at once).

``seal`` is called by ``api.db.commit``, through which every transaction of the service
commits (the write queue's batch, the request's session, ``session_scope``): an append
that finds a checkpoint due registers it there (``api.db.before_commit``), so the
checkpoint is written in the same transaction, under the head lock, before the commit
that acknowledges the append.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session, col
from sqlmodel import select as model_select

from api.db import before_commit
from procurement.ledger import merkle
from procurement.ledger.checkpoint import Signer, make_signer
from procurement.ledger.exceptions import LeafIndexMismatch
from procurement.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerHead

_HEAD = LedgerHead.__table__  # type: ignore[attr-defined]
_ENTRIES = LedgerEntry.__table__  # type: ignore[attr-defined]
_CHECKPOINTS = LedgerCheckpoint.__table__  # type: ignore[attr-defined]
_INFO_KEY = "smartsteps.ledger_head"
_SEAL_KEY = "smartsteps.ledger_seal"  # (transaction, tree size an append found a checkpoint due at)

# Built once: executing a prepared construct skips statement building and cache-key work,
# which otherwise costs more than the database round trips of an append.
_SELECT_HEAD = (
    select(_HEAD.c.size, _HEAD.c.frontier, _HEAD.c.checkpoint_at)
    .where(_HEAD.c.id == 1)
    .with_for_update()
)
_INSERT_ENTRY = insert(_ENTRIES)
_INSERT_CHECKPOINT = insert(_CHECKPOINTS)
_UPDATE_HEAD = update(_HEAD).where(_HEAD.c.id == 1)


def _pg_entry_and_head() -> tuple[Any, Any]:
    entry = insert(_ENTRIES).values(
        {c: bindparam(f"e_{c}") for c in ("leaf_index", "entry_bytes", "leaf_hash", "nodes")}
    )
    head = (
        update(_HEAD)
        .where(_HEAD.c.id == 1)
        .values({c: bindparam(f"h_{c}") for c in ("size", "frontier", "checkpoint_at")})
    )
    return entry, head


def _pg_append() -> Any:
    """PostgreSQL: the entry's INSERT and the head's UPDATE in one statement (a
    data-modifying CTE): one round trip while the head lock is held."""
    entry, head = _pg_entry_and_head()
    return head.add_cte(entry.cte("new_entry"))


_PG_APPEND = _pg_append()


def pg_with_append(statement: Any) -> Any:
    """PostgreSQL: ``statement`` (a caller's own INSERT or UPDATE) carrying the entry's INSERT
    and the head's UPDATE as CTEs, so the caller's writes and the append are one round
    trip; run it through ``append_entry(..., pg_together_with=(statement, params))``."""
    entry, head = _pg_entry_and_head()
    return statement.add_cte(entry.cte("ledger_entry")).add_cte(head.cte("ledger_head"))


def leaf_hash(entry_bytes: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry_bytes).digest()


def entry_hash(entry_bytes: bytes) -> str:
    return hashlib.sha256(entry_bytes).hexdigest()


# --- configuration: the signing key, the origin and the checkpoint cadence ----------------


@dataclass
class _Config:
    origin: str
    key_path: Path
    interval_seconds: float
    signer: Signer | None = None

    def get_signer(self) -> Signer:
        if self.signer is None:
            self.signer = make_signer(self.origin, self.key_path)
        return self.signer


_config: _Config | None = None


def configure(origin: str, key_path: Path, interval_seconds: float) -> Signer:
    """Set the origin, key and cadence; create the key file now if it does not exist yet."""
    global _config
    _config = _Config(origin, key_path, interval_seconds)
    return _config.get_signer()


def configure_from(settings: Any) -> Signer:
    """``configure`` from the service settings."""
    return configure(
        settings.ledger_origin,
        settings.effective_ledger_key_path,
        settings.checkpoint_interval_seconds,
    )


def _current() -> _Config:
    if _config is None:
        from api.settings import get_settings

        configure_from(get_settings())
    assert _config is not None
    return _config


def checkpoint_interval() -> float:
    return _current().interval_seconds


def signer() -> Signer:
    return _current().get_signer()


# --- the head, locked once per transaction -------------------------------------------------


@dataclass
class _Head:
    transaction: Any
    size: int
    frontier: merkle.Frontier
    checkpoint_at: float | None


def _locked_head(session: Session) -> _Head:
    """The head row under the log lock (PostgreSQL FOR UPDATE; SQLite's write requests hold
    the database lock since BEGIN IMMEDIATE), read once per transaction."""
    connection = session.connection()  # begins the transaction, so it can be the key
    # Keyed on the innermost transaction: a rolled-back savepoint must not leave a stale head.
    transaction = session.get_nested_transaction() or session.get_transaction()
    cached: _Head | None = session.info.get(_INFO_KEY)
    if cached is not None and transaction is not None and cached.transaction is transaction:
        return cached
    row = connection.execute(_SELECT_HEAD).first()
    if row is None:
        connection.execute(insert(_HEAD).values(id=1, size=0))
        size, frontier_bytes, checkpoint_at = 0, None, None
    else:
        size, frontier_bytes, checkpoint_at = row
    head = _Head(
        transaction,
        size,
        merkle.Frontier.unpack(size, frontier_bytes),
        checkpoint_at,
    )
    session.info[_INFO_KEY] = head
    return head


def next_leaf_index(session: Session) -> int:
    """Take the log-head lock (FOR UPDATE; SQLite's write requests run BEGIN IMMEDIATE)."""
    return _locked_head(session).size


def append_entry(
    session: Session,
    leaf_index: int,
    entry_bytes: bytes,
    *,
    pg_together_with: tuple[Any, dict[str, Any]] | None = None,
) -> bytes:
    """Store the entry as leaf ``leaf_index`` and advance the head, in the caller's txn;
    return its leaf hash. On PostgreSQL, ``pg_together_with`` is a statement made by
    ``pg_with_append`` and its own parameters, executed as the append's one statement."""
    head = _locked_head(session)
    if leaf_index != head.size:
        raise LeafIndexMismatch(f"leaf index {leaf_index} given, the log has {head.size} leaves")
    leaf = leaf_hash(entry_bytes)
    frontier = merkle.Frontier(head.size, head.frontier.hashes)
    completed = frontier.append(leaf)
    connection = session.connection()
    entry = {
        "leaf_index": leaf_index,
        "entry_bytes": entry_bytes,
        "leaf_hash": leaf,
        "nodes": b"".join(h for _, _, h in completed) or None,
    }
    config = _current()
    now = time.time()
    checkpoint_at = head.checkpoint_at
    due = (
        config.interval_seconds <= 0
        or checkpoint_at is None
        or now - checkpoint_at >= config.interval_seconds
    )
    if due:
        checkpoint_at = now
        session.info[_SEAL_KEY] = (session.get_transaction(), frontier.size)
        before_commit(session, "ledger.seal", seal)
    head_values = {
        "size": frontier.size,
        "frontier": frontier.pack(),
        "checkpoint_at": checkpoint_at,
    }
    if connection.dialect.name == "postgresql":
        params = {f"e_{k}": v for k, v in entry.items()}
        params.update((f"h_{k}", v) for k, v in head_values.items())
        if pg_together_with is None:
            connection.execute(_PG_APPEND, params)
        else:
            statement, own = pg_together_with
            connection.execute(statement, {**own, **params})
    else:
        assert pg_together_with is None, "a PostgreSQL statement given on another database"
        connection.execute(_INSERT_ENTRY, entry)
        connection.execute(_UPDATE_HEAD, head_values)
    head.size, head.frontier, head.checkpoint_at = frontier.size, frontier, checkpoint_at
    return leaf


def _insert_checkpoint(
    session: Session, signer: Signer, size: int, root: bytes, now: float
) -> None:
    session.connection().execute(
        _INSERT_CHECKPOINT,
        {
            "tree_size": size,
            "root_hash": root,
            "note": signer.sign(size, root),
            "created_at": datetime.fromtimestamp(now, UTC),
        },
    )


def seal(session: Session) -> None:
    """Sign the tree this transaction leaves when one of its appends found a checkpoint due
    (a no-op otherwise); run at the end of the transaction, just before its commit.

    At most one checkpoint per tree size: the head lock is held, and the size an append
    flagged is larger than any size signed before. Only when a savepoint that flagged was
    rolled back can the size left already have a checkpoint, so only then is that looked up.
    """
    owed: tuple[Any, int] | None = session.info.pop(_SEAL_KEY, None)
    if owed is None or owed[0] is not session.get_transaction():
        return  # nothing flagged, or flagged by a transaction that was rolled back
    flagged = owed[1]
    head = _locked_head(session)
    if head.size == 0:
        return
    if head.size < flagged and session.get(LedgerCheckpoint, head.size) is not None:
        return
    now = time.time()
    _insert_checkpoint(session, _current().get_signer(), head.size, head.frontier.root(), now)


def checkpoint_now(session: Session) -> LedgerCheckpoint | None:
    """Sign the current tree if its size has no checkpoint yet (the head lock is taken)."""
    head = _locked_head(session)
    if head.size == 0:
        return None
    existing = session.get(LedgerCheckpoint, head.size)
    if existing is None:
        now = time.time()
        _insert_checkpoint(session, signer(), head.size, head.frontier.root(), now)
        session.execute(update(_HEAD).where(_HEAD.c.id == 1).values(checkpoint_at=now))
        head.checkpoint_at = now
        session.info.pop(_SEAL_KEY, None)  # this size is signed; the seal need not
        existing = session.get(LedgerCheckpoint, head.size)
    return existing


# --- reads -------------------------------------------------------------------------------


def tree_size(session: Session) -> int:
    size = session.execute(select(_HEAD.c.size).where(_HEAD.c.id == 1)).scalar()
    return int(size or 0)


def latest_checkpoint(session: Session) -> LedgerCheckpoint | None:
    return session.exec(
        model_select(LedgerCheckpoint).order_by(col(LedgerCheckpoint.tree_size).desc()).limit(1)
    ).first()


def fetch_nodes(session: Session, keys: set[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    """The stored hashes of these perfect subtrees, in one primary-key lookup of the leaves
    that completed them (node (l, j) lives with leaf (j + 1) * 2**l - 1)."""
    if not keys:
        return {}
    rows = sorted({((index + 1) << level) - 1 for level, index in keys})
    stored = {
        int(i): (bytes(h), bytes(n or b""))
        for i, h, n in session.execute(
            select(_ENTRIES.c.leaf_index, _ENTRIES.c.leaf_hash, _ENTRIES.c.nodes).where(
                _ENTRIES.c.leaf_index.in_(rows)
            )
        )
    }
    found: dict[merkle.NodeKey, bytes] = {}
    for level, index in keys:
        row = stored.get(((index + 1) << level) - 1)
        if row is None:
            continue
        if level == 0:
            found[(level, index)] = row[0]
        else:
            digest = row[1][(level - 1) * 32 : level * 32]
            if len(digest) == 32:
                found[(level, index)] = digest
    return found


def _with_nodes(session: Session, compute: Any) -> Any:
    wanted = merkle.nodes_needed(compute)
    return compute(merkle.getter(fetch_nodes(session, wanted)))


def inclusion_bundle(session: Session, index: int, size: int) -> tuple[bytes, bytes, list[bytes]]:
    """(leaf hash, root, proof) for leaf ``index`` in the tree of ``size``: one read of every
    node needed (the leaf, the proof's and the root's perfect subtrees) in two queries."""
    merkle.check_inclusion_args(index, size)

    def compute(get: merkle.NodeGetter) -> tuple[bytes, bytes, list[bytes]]:
        return get(0, index), merkle.tree_root(size, get), merkle.inclusion_proof(index, size, get)

    leaf, root, proof = _with_nodes(session, compute)
    return bytes(leaf), bytes(root), list(proof)


def consistency_bundle(
    session: Session, first: int, second: int
) -> tuple[bytes, bytes, list[bytes]]:
    """(first root, second root, proof), every node read at once."""
    merkle.check_consistency_args(first, second)

    def compute(get: merkle.NodeGetter) -> tuple[bytes, bytes, list[bytes]]:
        return (
            merkle.tree_root(first, get),
            merkle.tree_root(second, get),
            merkle.consistency_proof(first, second, get),
        )

    r1, r2, proof = _with_nodes(session, compute)
    return bytes(r1), bytes(r2), list(proof)


def inclusion_proof(session: Session, index: int, size: int) -> list[bytes]:
    merkle.check_inclusion_args(index, size)
    return list(_with_nodes(session, lambda get: merkle.inclusion_proof(index, size, get)))


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    merkle.check_consistency_args(first, second)
    return list(_with_nodes(session, lambda get: merkle.consistency_proof(first, second, get)))


def root_at(session: Session, size: int) -> bytes:
    return bytes(_with_nodes(session, lambda get: merkle.tree_root(size, get)))


def leaf_hash_at(session: Session, index: int) -> bytes | None:
    return session.execute(
        select(_ENTRIES.c.leaf_hash).where(_ENTRIES.c.leaf_index == index)
    ).scalar()


def entries(session: Session, start: int, limit: int) -> list[LedgerEntry]:
    return list(
        session.exec(
            model_select(LedgerEntry)
            .where(LedgerEntry.leaf_index >= start)
            .order_by(col(LedgerEntry.leaf_index))
            .limit(limit)
        )
    )


def _entry_rows(session: Session, *columns: Any, batch: int = 2000) -> Iterator[Any]:
    """Rows of (leaf index, *columns) of every entry in leaf order, in keyset batches."""
    after = -1
    while True:
        rows = session.execute(
            select(_ENTRIES.c.leaf_index, *columns)
            .where(_ENTRIES.c.leaf_index > after)
            .order_by(_ENTRIES.c.leaf_index)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1][0]


def stream_entries(session: Session, batch: int = 2000) -> Iterator[tuple[int, bytes, bytes]]:
    """(leaf index, entry bytes, stored leaf hash) in leaf order, in keyset batches."""
    for index, entry_bytes, stored in _entry_rows(
        session, _ENTRIES.c.entry_bytes, _ENTRIES.c.leaf_hash, batch=batch
    ):
        yield index, bytes(entry_bytes), bytes(stored)


def stored_tree_mismatch(session: Session) -> tuple[int | None, str] | None:
    """Where the stored interior nodes, or the head's frontier, differ from the tree the
    stored leaf hashes make (leaf index or None for the head, and why); None when they agree.

    Proofs are built from the stored nodes, so a changed node would give wrong proofs
    while every entry still verifies. Run after the entries themselves are verified.
    """
    frontier = merkle.Frontier()
    rows = _entry_rows(session, _ENTRIES.c.leaf_hash, _ENTRIES.c.nodes, batch=5000)
    for index, leaf, nodes in rows:
        completed = b"".join(h for _, _, h in frontier.append(bytes(leaf)))
        if completed != (bytes(nodes) if nodes is not None else b""):
            return index, (
                "the stored interior nodes of this entry do not match the tree "
                "recomputed from the entries (inclusion proofs would be wrong)"
            )
    head = session.execute(select(_HEAD.c.size, _HEAD.c.frontier).where(_HEAD.c.id == 1)).first()
    size, packed = head if head is not None else (0, None)
    if size != frontier.size or bytes(packed or b"") != frontier.pack():
        return None, (
            f"the log head (size {size}) does not match the {frontier.size} stored entries "
            "(the next append would build on a wrong tree)"
        )
    return None


def stream_checkpoints(session: Session, batch: int = 2000) -> Iterator[tuple[int, str]]:
    """(tree size, signed note) in size order."""
    after = -1
    while True:
        rows = session.execute(
            select(_CHECKPOINTS.c.tree_size, _CHECKPOINTS.c.note)
            .where(_CHECKPOINTS.c.tree_size > after)
            .order_by(_CHECKPOINTS.c.tree_size)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from ((int(size), str(note)) for size, note in rows)
        after = rows[-1][0]
