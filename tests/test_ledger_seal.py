"""The ledger's checkpoint is sealed at the end of the transaction that appended, by the
commit every path of the service goes through (``api.db.commit``): the write queue's batch
(tests/test_writer.py), the request's session and ``session_scope``. No process-wide hook
signs on a bare ``Session.commit``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from api.app import create_app
from api.db import SessionDep, commit, session_scope
from api.settings import Settings
from procurement.ledger import service
from tests.conftest import TestDatabase
from tests.factories_ledger import entry_document

OCID = "ocds-smstps-000009-2026-1"


def _append(session: Session, summary: str = "step") -> int:
    index = service.next_leaf_index(session)
    service.append_entry(
        session, index, entry_document(OCID, index + 1, index, None, summary=summary)
    )
    return index


def _checkpoint_sizes(session: Session) -> list[int]:
    rows = session.execute(text("SELECT tree_size FROM ledger_checkpoints ORDER BY 1"))
    return [int(size) for (size,) in rows]


def test_an_append_in_a_session_scope_is_sealed_when_the_block_ends(
    database: TestDatabase, session: Session
) -> None:
    with session_scope(database, write=True) as scoped:
        _append(scoped)
        _append(scoped)
    assert _checkpoint_sizes(session) == [2]  # one checkpoint, for the tree the block left


def test_a_bare_commit_signs_nothing(database: TestDatabase, session: Session) -> None:
    bare = database.session(write=True)
    _append(bare)
    bare.commit()  # not through api.db.commit: no listener seals behind the caller's back
    bare.close()
    assert service.tree_size(session) == 1
    assert _checkpoint_sizes(session) == []


def test_a_block_that_raises_leaves_no_entry_and_no_checkpoint(
    database: TestDatabase, session: Session
) -> None:

    def append_then_fail() -> None:
        with session_scope(database, write=True) as scoped:
            _append(scoped, "undone")
            raise RuntimeError("the caller fails after the append")

    with pytest.raises(RuntimeError):
        append_then_fail()
    assert service.tree_size(session) == 0
    assert _checkpoint_sizes(session) == []
    with session_scope(database, write=True) as scoped:
        _append(scoped, "kept")
    assert _checkpoint_sizes(session) == [1]


@pytest.fixture
def every_hour(settings: Settings) -> Iterator[None]:
    """The "at most every N seconds" cadence (N = 3600): only a first append is due."""
    service.configure(settings.ledger_origin, settings.effective_ledger_key_path, 3600)
    yield
    service.configure_from(settings)


@pytest.mark.usefixtures("every_hour")
def test_a_seal_owed_by_a_rolled_back_transaction_is_forgotten(
    database: TestDatabase, session: Session
) -> None:
    reused = database.session(write=True)
    _append(reused, "undone")  # the log's first append: a checkpoint is due
    reused.rollback()
    with session_scope(database, write=True) as scoped:
        _append(scoped, "first")  # due again, and signed
    _append(reused, "second")  # within the hour: not due
    commit(reused)  # the seal the rolled-back transaction owed must not sign size 2
    reused.close()
    assert service.tree_size(session) == 2
    assert _checkpoint_sizes(session) == [1]


def test_the_request_session_seals_an_append_made_in_it(
    settings: Settings, database: TestDatabase, session: Session
) -> None:
    app = create_app(settings, database=database)

    @app.post("/test/append", status_code=201)
    def append_in_the_request(request_session: SessionDep) -> dict[str, int]:
        return {"leaf_index": _append(request_session)}

    with TestClient(app) as client:
        response = client.post("/test/append")
    assert response.status_code == 201, response.text
    assert _checkpoint_sizes(session) == [response.json()["leaf_index"] + 1]
