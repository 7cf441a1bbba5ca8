"""Ledger routes: checkpoints, public key, proofs, entries, export and live verification."""

from __future__ import annotations

import base64
import json
import os
import stat

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from api.auth import Role
from api.db import commit
from procurement.ledger import merkle, service
from procurement.ledger.checkpoint import parse_note, parse_verifier_key
from procurement.ledger.verify import verify_export
from tests.conftest import MakeKey
from tests.factories_ledger import FAKE_OCIDS, append_steps


def _b(value: str) -> bytes:
    return base64.b64decode(value)


def _key(client: TestClient) -> str:
    return str(client.get("/v1/ledger/public-key").json()["verifier_key"])


def test_key_file_is_created_private(settings: object, client: TestClient) -> None:
    path = service._current().key_path
    assert path.exists()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    body = client.get("/v1/ledger/public-key").json()
    assert body["algorithm"] == "Ed25519"
    assert parse_verifier_key(body["verifier_key"]).name == body["name"]


def test_every_append_makes_one_checkpoint_that_agrees_with_the_tree(
    session: Session, client: TestClient
) -> None:
    entries = append_steps(session, FAKE_OCIDS, 3)
    size = service.tree_size(session)
    assert size >= len(entries)
    response = client.get("/v1/ledger/checkpoint")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    checkpoint = parse_note(response.text, parse_verifier_key(_key(client)))
    assert checkpoint.size == size
    assert checkpoint.root == service.root_at(session, size)
    rows = session.execute(text("SELECT tree_size, root_hash FROM ledger_checkpoints")).all()
    sizes = [r[0] for r in rows]
    assert len(sizes) == len(set(sizes))
    for tree_size, root in rows:
        assert bytes(root) == service.root_at(session, tree_size)


def test_inclusion_proofs_verify_for_every_leaf(session: Session, client: TestClient) -> None:
    append_steps(session, FAKE_OCIDS, 4)
    size = service.tree_size(session)
    for tree_size in (1, size // 2 or 1, size):
        for index in range(tree_size):
            body = client.get(
                "/v1/ledger/proofs/inclusion",
                params={"leaf_index": index, "tree_size": tree_size},
            ).json()
            merkle.verify_inclusion(
                _b(body["leaf_hash"]),
                index,
                tree_size,
                [_b(p) for p in body["proof"]],
                _b(body["root_hash"]),
            )
            assert body["checkpoint"] is not None


def test_consistency_proofs_verify(session: Session, client: TestClient) -> None:
    append_steps(session, FAKE_OCIDS, 4)
    size = service.tree_size(session)
    for first in range(1, size + 1):
        body = client.get(
            "/v1/ledger/proofs/consistency", params={"first": first, "second": size}
        ).json()
        merkle.verify_consistency(
            first,
            size,
            _b(body["first_root"]),
            _b(body["second_root"]),
            [_b(p) for p in body["proof"]],
        )


def test_impossible_sizes_and_indexes_are_4xx_problems(
    session: Session, client: TestClient
) -> None:
    append_steps(session, FAKE_OCIDS, 1)
    size = service.tree_size(session)
    cases = [
        ("/v1/ledger/proofs/inclusion", {"leaf_index": size, "tree_size": size}),
        ("/v1/ledger/proofs/inclusion", {"leaf_index": 0, "tree_size": size + 1}),
        ("/v1/ledger/proofs/inclusion", {"leaf_index": -1, "tree_size": size}),
        ("/v1/ledger/proofs/inclusion", {"leaf_index": 0, "tree_size": 0}),
        ("/v1/ledger/proofs/consistency", {"first": 0, "second": size}),
        ("/v1/ledger/proofs/consistency", {"first": size, "second": size + 1}),
        ("/v1/ledger/proofs/consistency", {"first": 2, "second": 1}),
        ("/v1/ledger/entries", {"start": size + 1}),
        ("/v1/ledger/entries", {"limit": 0}),
    ]
    for path, params in cases:
        response = client.get(path, params=params)
        assert response.status_code == 422, (path, params)
        assert response.headers["content-type"] == "application/problem+json"


def test_entries_return_the_exact_bytes_and_hashes(session: Session, client: TestClient) -> None:
    written = append_steps(session, FAKE_OCIDS, 2)
    size = service.tree_size(session)
    start = size - len(written)
    body = client.get("/v1/ledger/entries", params={"start": start, "limit": 4}).json()
    assert [i["leaf_index"] for i in body["items"]] == list(range(start, start + 4))
    assert body["next_start"] == start + 4
    for item, entry in zip(body["items"], written, strict=False):
        assert _b(item["entry_bytes"]) == entry
        assert item["leaf_hash"] == merkle.leaf_hash(entry).hex()
        assert item["entry"]["leaf_index"] == item["leaf_index"]


def test_export_verifies_offline_and_live(
    session: Session, client: TestClient, make_key: MakeKey
) -> None:
    append_steps(session, FAKE_OCIDS, 3)
    response = client.get("/v1/exports/ledger", params={"format": "jsonl"})
    assert response.status_code == 200
    lines = response.content.splitlines(keepends=True)
    report = verify_export(lines, public_key=_key(client))
    assert report.entries == service.tree_size(session)
    assert json.loads(lines[-1])["end"] is True
    auditor = make_key(Role.auditor)
    live = client.get("/v1/ledger/verify", headers=auditor).json()
    assert live["ok"] is True
    assert live["entries"] == report.entries
    assert live["root"] == report.root.hex()


def test_verify_needs_an_auditor_or_admin(client: TestClient, make_key: MakeKey) -> None:
    assert client.get("/v1/ledger/verify").status_code == 401
    officer = make_key(Role.officer, municipality_code="500011")
    assert client.get("/v1/ledger/verify", headers=officer).status_code == 403


def test_append_with_a_stale_index_is_refused(session: Session) -> None:
    import pytest

    from procurement.ledger.exceptions import LeafIndexMismatch

    index = service.next_leaf_index(session)
    with pytest.raises(LeafIndexMismatch):
        service.append_entry(session, index + 1, b"{}")


def test_a_rolled_back_savepoint_does_not_leave_a_gap(session: Session) -> None:
    from tests.factories_ledger import entry_document

    append_steps(session, FAKE_OCIDS, 1)
    size = service.tree_size(session)
    savepoint = session.begin_nested()
    index = service.next_leaf_index(session)
    service.append_entry(session, index, entry_document("ocds-x-1", 1, index, None))
    savepoint.rollback()
    again = service.next_leaf_index(session)
    assert again == size
    service.append_entry(session, again, entry_document("ocds-x-1", 1, again, None))
    commit(session)
    assert service.tree_size(session) == size + 1
    assert service.root_at(session, size + 1) == merkle.root_of(
        [
            bytes(h)
            for (h,) in session.execute(
                text("SELECT leaf_hash FROM ledger_entries ORDER BY leaf_index")
            )
        ]
    )
