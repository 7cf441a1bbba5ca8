"""Tampering with raw SQL (triggers disabled first) is caught, and located, by both the
offline verifier (``smartsteps verify`` on an export) and ``GET /v1/ledger/verify``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session
from typer.testing import CliRunner

from api.auth import Role
from api.cli import app as cli
from procurement.ledger import merkle, service
from procurement.ledger.checkpoint import Signer, verifier_key
from tests.conftest import MakeKey, on_postgres
from tests.factories_ledger import FAKE_OCIDS, append_steps, entry_document

TABLES = ("ledger_entries", "ledger_checkpoints", "ledger_head")


def disable_triggers(session: Session) -> None:
    """What an attacker with database access does first (undone by the test's rollback)."""
    if on_postgres():
        for table in TABLES:
            session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        return
    names = session.execute(
        text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'ledger_%'")
    ).scalars()
    for name in list(names):
        session.execute(text(f"DROP TRIGGER {name}"))


def _rows(session: Session) -> list[tuple[int, bytes, bytes]]:
    return [
        (int(i), bytes(b), bytes(h))
        for i, b, h in session.execute(
            text("SELECT leaf_index, entry_bytes, leaf_hash FROM ledger_entries ORDER BY 1")
        )
    ]


def _set_entry(session: Session, index: int, entry: bytes, leaf: bytes | None = None) -> None:
    session.execute(
        text("UPDATE ledger_entries SET entry_bytes = :b, leaf_hash = :h WHERE leaf_index = :i"),
        {"b": entry, "h": leaf if leaf is not None else merkle.leaf_hash(entry), "i": index},
    )


def _checked(
    client: TestClient,
    auditor: dict[str, str],
    tmp_path: Path,
    saved: str | None = None,
) -> tuple[str, str]:
    """Run both verifiers; both must fail at the same place. Returns (where, reason)."""
    export = client.get("/v1/exports/ledger", params={"format": "jsonl"})
    assert export.status_code == 200
    path = tmp_path / "ledger.jsonl"
    path.write_bytes(export.content)
    key = client.get("/v1/ledger/public-key").json()["verifier_key"]
    args = ["verify", str(path), "--public-key", key]
    if saved is not None:
        (tmp_path / "saved.txt").write_text(saved)
        args += ["--checkpoint", str(tmp_path / "saved.txt")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    params = {"checkpoint": saved} if saved is not None else {}
    live = client.get("/v1/ledger/verify", headers=auditor, params=params).json()
    assert live["ok"] is False
    where, reason = live["failure"]["where"], live["failure"]["reason"]
    assert f"FAILED at {where}: " in result.output
    return where, reason


@pytest.fixture
def ledger(session: Session, client: TestClient, make_key: MakeKey) -> dict[str, str]:
    append_steps(session, FAKE_OCIDS, 3)  # 9 entries, a checkpoint after each
    auditor = make_key(Role.auditor)
    assert client.get("/v1/ledger/verify", headers=auditor).json()["ok"] is True
    disable_triggers(session)
    return auditor


def test_triggers_refuse_update_and_delete(session: Session) -> None:
    append_steps(session, FAKE_OCIDS, 1)
    for statement in [
        "UPDATE ledger_entries SET entry_bytes = entry_bytes WHERE leaf_index = 0",
        "DELETE FROM ledger_entries WHERE leaf_index = 2",
        "UPDATE ledger_checkpoints SET note = note",
        "DELETE FROM ledger_checkpoints",
        "UPDATE ledger_head SET size = size - 1",
        "DELETE FROM ledger_head",
    ]:
        savepoint = session.begin_nested()
        with pytest.raises(DBAPIError, match="ledger"):
            session.execute(text(statement))
        savepoint.rollback()


def test_one_changed_byte_is_found_at_its_entry(
    session: Session, client: TestClient, ledger: dict[str, str], tmp_path: Path
) -> None:
    index, entry, leaf = _rows(session)[4]
    changed = entry.replace(b"step ", b"stop ", 1)
    assert changed != entry
    _set_entry(session, index, changed, leaf)  # the stored leaf hash left as it was
    assert _checked(client, ledger, tmp_path)[0] == "entry 4"


def test_a_changed_entry_with_a_recomputed_leaf_hash_breaks_the_chain_and_the_root(
    session: Session, client: TestClient, ledger: dict[str, str], tmp_path: Path
) -> None:
    index, entry, _ = _rows(session)[4]
    _set_entry(session, index, entry.replace(b"step ", b"stop ", 1))
    where, reason = _checked(client, ledger, tmp_path)
    assert where == "checkpoint of size 5"
    assert "4..4" in reason


def test_a_deleted_row_is_found(
    session: Session, client: TestClient, ledger: dict[str, str], tmp_path: Path
) -> None:
    session.execute(text("DELETE FROM ledger_entries WHERE leaf_index = 4"))
    where, reason = _checked(client, ledger, tmp_path)
    # The checkpoint of size 5 follows entry 4 in the export, so it is met first.
    assert where == "checkpoint of size 5"
    assert "entries 4..4 are missing" in reason


def test_two_swapped_rows_are_found(
    session: Session, client: TestClient, ledger: dict[str, str], tmp_path: Path
) -> None:
    rows = _rows(session)
    _set_entry(session, 2, rows[5][1], rows[5][2])
    _set_entry(session, 5, rows[2][1], rows[2][2])
    where, reason = _checked(client, ledger, tmp_path)
    assert where == "entry 2"
    assert "leaf_index 5" in reason


def test_a_forged_row_is_found(
    session: Session, client: TestClient, ledger: dict[str, str], tmp_path: Path
) -> None:
    rows = _rows(session)
    size = len(rows)
    last = rows[-1][1]  # the last entry is seq 3 of the last fake ocid
    forged = entry_document(FAKE_OCIDS[-1], 4, size, hashlib.sha256(last).hexdigest())
    session.execute(
        text("INSERT INTO ledger_entries (leaf_index, entry_bytes, leaf_hash) VALUES (:i, :b, :h)"),
        {"i": size, "b": forged, "h": merkle.leaf_hash(forged)},
    )
    session.execute(text("UPDATE ledger_head SET size = size + 1"))
    where, reason = _checked(client, ledger, tmp_path)
    assert where == f"entries {size}..{size}"
    assert "not covered by any signed checkpoint" in reason


def test_a_cut_tail_is_found(
    session: Session, client: TestClient, ledger: dict[str, str], tmp_path: Path
) -> None:
    session.execute(text("DELETE FROM ledger_entries WHERE leaf_index >= 7"))
    where, reason = _checked(client, ledger, tmp_path)
    assert where == "checkpoint of size 8"
    assert "entries 7..7 are missing" in reason


def test_a_cut_tail_with_its_checkpoints_is_found_by_a_saved_checkpoint(
    session: Session, client: TestClient, ledger: dict[str, str], tmp_path: Path
) -> None:
    saved = client.get("/v1/ledger/checkpoint").text
    session.execute(text("DELETE FROM ledger_entries WHERE leaf_index >= 7"))
    session.execute(text("DELETE FROM ledger_checkpoints WHERE tree_size >= 8"))
    session.execute(text("UPDATE ledger_head SET size = 7"))
    where, reason = _checked(client, ledger, tmp_path, saved=saved)
    assert where == "entry 7"
    assert "only 7" in reason


@pytest.mark.parametrize("how", ["root changed", "signed by another key"])
def test_a_replaced_checkpoint_is_found(
    session: Session, client: TestClient, ledger: dict[str, str], tmp_path: Path, how: str
) -> None:
    real = service.signer()
    note = session.execute(text("SELECT note FROM ledger_checkpoints WHERE tree_size = 5")).scalar()
    assert isinstance(note, str)
    if how == "root changed":
        lines = note.split("\n")
        lines[2] = "A" + lines[2][1:] if lines[2][0] != "A" else "B" + lines[2][1:]
        replaced = "\n".join(lines)
    else:
        other = Ed25519PrivateKey.generate()
        forger = Signer(real.origin, other, verifier_key(real.origin, other.public_key()))
        replaced = forger.sign(5, service.root_at(session, 5))
    session.execute(
        text("UPDATE ledger_checkpoints SET note = :n WHERE tree_size = 5"), {"n": replaced}
    )
    where, reason = _checked(client, ledger, tmp_path)
    assert where.startswith("checkpoint at line")
    assert "signature" in reason


def _rewrite_everything(session: Session, sign: Signer) -> None:
    """Replace every entry and recompute every hash, node, head and checkpoint."""
    rows = _rows(session)
    session.execute(text("DELETE FROM ledger_checkpoints"))
    frontier = merkle.Frontier()
    heads: dict[str, tuple[int, str | None]] = {}
    for index, _, _ in rows:
        ocid = FAKE_OCIDS[index % len(FAKE_OCIDS)]
        seq, prev = heads.get(ocid, (0, None))
        entry = entry_document(ocid, seq + 1, index, prev, summary="rewritten history")
        heads[ocid] = (seq + 1, hashlib.sha256(entry).hexdigest())
        _set_entry(session, index, entry)
        completed = frontier.append(merkle.leaf_hash(entry))
        session.execute(
            text("UPDATE ledger_entries SET nodes = :n WHERE leaf_index = :i"),
            {"n": b"".join(h for _, _, h in completed) or None, "i": index},
        )
        session.execute(
            text(
                "INSERT INTO ledger_checkpoints (tree_size, root_hash, note, created_at) "
                "VALUES (:s, :r, :n, CURRENT_TIMESTAMP)"
            ),
            {
                "s": frontier.size,
                "r": frontier.root(),
                "n": sign.sign(frontier.size, frontier.root()),
            },
        )
    session.execute(
        text("UPDATE ledger_head SET frontier = :f WHERE id = 1"), {"f": frontier.pack()}
    )


def test_a_rewrite_without_the_key_is_caught_by_the_signature(
    session: Session, client: TestClient, ledger: dict[str, str], tmp_path: Path
) -> None:
    real = service.signer()
    other = Ed25519PrivateKey.generate()
    _rewrite_everything(
        session, Signer(real.origin, other, verifier_key(real.origin, other.public_key()))
    )
    where, reason = _checked(client, ledger, tmp_path)
    assert where == "checkpoint at line 3"
    assert "signature" in reason


def test_a_rewrite_with_the_key_is_caught_by_a_saved_checkpoint(
    session: Session, client: TestClient, ledger: dict[str, str], tmp_path: Path
) -> None:
    saved = client.get("/v1/ledger/checkpoint").text
    _rewrite_everything(session, service.signer())
    # Without the saved checkpoint the rewritten log is self-consistent...
    live = client.get("/v1/ledger/verify", headers=ledger).json()
    assert live["ok"] is True
    # ...with it, both verifiers name the rewrite.
    where, reason = _checked(client, ledger, tmp_path, saved=saved)
    assert where == "entries 0..8"
    assert "rewritten" in reason


Rewrite = Callable[[Session, Signer], None]


def test_a_changed_interior_node_is_found_by_the_live_verify(
    session: Session, client: TestClient, ledger: dict[str, str]
) -> None:
    # Entry 1 completes the node over leaves 0..1; proofs are built from stored nodes, so a
    # changed one gives wrong proofs while every entry of an export still verifies.
    session.execute(
        text("UPDATE ledger_entries SET nodes = :n WHERE leaf_index = 1"), {"n": bytes(32)}
    )
    live = client.get("/v1/ledger/verify", headers=ledger).json()
    assert live["ok"] is False
    assert live["failure"]["where"] == "entry 1"
    assert "interior nodes" in live["failure"]["reason"]


def test_a_changed_log_head_is_found_by_the_live_verify(
    session: Session, client: TestClient, ledger: dict[str, str]
) -> None:
    size = service.tree_size(session)
    wrong = bytes(32) * bin(size).count("1")  # a frontier of the right length, wrong hashes
    session.execute(text("UPDATE ledger_head SET frontier = :f"), {"f": wrong})
    live = client.get("/v1/ledger/verify", headers=ledger).json()
    assert live["ok"] is False
    assert live["failure"]["where"] == "the log head"
    assert "next append" in live["failure"]["reason"]
