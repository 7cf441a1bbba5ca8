"""The write queue (group commit) and the checkpoint it leaves per commit."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future

import pytest
from sqlalchemy import text
from sqlmodel import Session

from api.db import commit
from api.settings import Settings
from api.writer import WriteQueue
from procurement.ledger import merkle, service
from procurement.ledger.exceptions import LedgerError
from procurement.ledger.export import sign_tail
from tests.conftest import TestDatabase
from tests.factories_ledger import append_steps, entry_document

OCID = "ocds-smstps-000009-2026-1"


class _Counting:
    """The test database, counting the sessions (one per transaction) the writer opens."""

    def __init__(
        self, database: TestDatabase, fail_commit: bool = False, unreachable: int = 0
    ) -> None:
        self.database = database
        self.engine = database.engine
        self.sessions = 0
        self.fail_commit = fail_commit
        self.unreachable = unreachable  # this many sessions cannot be opened

    def session(self, *, write: bool) -> Session:
        self.sessions += 1
        if self.sessions <= self.unreachable:
            raise ConnectionError("the database is not reachable")
        session = self.database.session(write=write)
        if self.fail_commit:

            def refuse() -> None:
                raise RuntimeError("the disk is full")

            session.commit = refuse  # type: ignore[method-assign]
        return session


def _append(summary: str) -> Callable[[Session], int]:
    def work(session: Session) -> int:
        index = service.next_leaf_index(session)
        service.append_entry(
            session, index, entry_document(OCID, index + 1, index, None, summary=summary)
        )
        return index

    return work


def _failing_after_a_write(session: Session) -> int:
    _append("the failed one")(session)
    raise LedgerError("refused after writing")


def _hold_the_writer(
    queue: WriteQueue, then: Callable[[], list[Future[int]]]
) -> tuple[Future[int], list[Future[int]]]:
    """Keep the writer busy with a first append while ``then`` queues more jobs."""
    started, release = threading.Event(), threading.Event()
    first_append = _append("first")

    def first(session: Session) -> int:
        started.set()
        assert release.wait(timeout=30)
        return first_append(session)

    head = queue.submit(first)
    assert started.wait(timeout=30)
    rest = then()
    release.set()
    return head, rest


def _entries(session: Session) -> list[tuple[int, bytes]]:
    rows = session.execute(text("SELECT leaf_index, entry_bytes FROM ledger_entries ORDER BY 1"))
    return [(int(i), bytes(b)) for i, b in rows]


def _checkpoint_sizes(session: Session) -> list[int]:
    return [int(s) for (s,) in session.execute(text("SELECT tree_size FROM ledger_checkpoints"))]


def test_jobs_waiting_while_the_writer_works_share_one_commit(
    database: TestDatabase, session: Session
) -> None:
    counting = _Counting(database)
    queue = WriteQueue(counting)
    first, rest = _hold_the_writer(
        queue, lambda: [queue.submit(_append(f"job {i}")) for i in range(5)]
    )
    indexes = [first.result(timeout=30)] + [f.result(timeout=30) for f in rest]
    queue.stop()
    assert indexes == list(range(6))
    assert counting.sessions == 2  # the first job alone, then the five that waited
    # One checkpoint per commit, each for the tree that commit left.
    assert sorted(_checkpoint_sizes(session)) == [1, 6]
    leaves = [service.leaf_hash(b) for _, b in _entries(session)]
    assert service.root_at(session, 6) == merkle.root_of(leaves)


def test_a_failed_job_leaves_nothing_and_the_others_are_committed(
    database: TestDatabase, session: Session
) -> None:
    queue = WriteQueue(_Counting(database))
    jobs: list[Callable[[Session], int]] = [_append("a"), _failing_after_a_write, _append("b")]
    _, rest = _hold_the_writer(queue, lambda: [queue.submit(job) for job in jobs])
    assert rest[0].result(timeout=30) == 1
    with pytest.raises(LedgerError, match="refused after writing"):
        rest[1].result(timeout=30)
    assert rest[2].result(timeout=30) == 2
    queue.stop()
    stored = _entries(session)
    assert [i for i, _ in stored] == [0, 1, 2]
    assert not any(b"the failed one" in entry for _, entry in stored)
    assert service.tree_size(session) == 3


def test_a_failed_commit_answers_every_job_with_its_error(
    database: TestDatabase, session: Session
) -> None:
    queue = WriteQueue(_Counting(database, fail_commit=True))
    futures = [queue.submit(_append(f"job {i}")) for i in range(3)]
    for future in futures:
        with pytest.raises(RuntimeError, match="the disk is full"):
            future.result(timeout=30)
    queue.stop()
    assert _entries(session) == []
    assert service.tree_size(session) == 0


def test_appends_in_one_transaction_get_one_checkpoint(session: Session) -> None:
    append_steps(session, [OCID], 1)  # one append, one commit: one checkpoint
    for _ in range(3):
        _append("more")(session)
    commit(session)
    assert sorted(_checkpoint_sizes(session)) == [1, 4]


def test_a_rolled_back_savepoint_that_appended_leaves_no_second_checkpoint(
    session: Session,
) -> None:
    append_steps(session, [OCID], 1)
    savepoint = session.begin_nested()
    _append("undone")(session)
    savepoint.rollback()
    commit(session)  # the tree is back at size 1, which is signed already
    assert _checkpoint_sizes(session) == [1]


def test_the_writer_outlives_a_batch_that_could_not_start(
    database: TestDatabase, session: Session
) -> None:
    queue = WriteQueue(_Counting(database, unreachable=1))
    with pytest.raises(ConnectionError, match="not reachable"):
        queue.submit(_append("lost")).result(timeout=30)
    assert queue.submit(_append("kept")).result(timeout=30) == 0
    queue.stop()
    assert [i for i, _ in _entries(session)] == [0]


def test_the_idle_work_runs_once_the_queue_is_quiet_after_a_commit(
    database: TestDatabase,
) -> None:
    quiet = threading.Event()
    queue = WriteQueue(_Counting(database), idle_seconds=0.01, on_idle=lambda _session: quiet.set())
    assert not quiet.is_set()  # nothing was committed yet: nothing owed
    assert queue.submit(_append("one")).result(timeout=30) == 0
    assert quiet.wait(timeout=30)
    queue.stop()


@pytest.fixture
def every_hour(settings: Settings) -> Iterator[None]:
    """The "at most every N seconds" cadence (N = 3600) for one test."""
    service.configure(settings.ledger_origin, settings.effective_ledger_key_path, 3600)
    yield
    service.configure_from(settings)


@pytest.mark.usefixtures("every_hour")
def test_with_a_cadence_only_the_first_append_is_signed_and_the_tail_later(
    session: Session,
) -> None:
    append_steps(session, [OCID], 3)  # three commits within the hour
    assert _checkpoint_sizes(session) == [1]
    assert sign_tail(session) is True
    session.commit()
    assert sorted(_checkpoint_sizes(session)) == [1, 3]
    assert sign_tail(session) is False  # the tail is signed already


@pytest.mark.usefixtures("every_hour")
def test_the_writer_signs_a_quiet_tail(database: TestDatabase, session: Session) -> None:
    signed = threading.Event()

    def sign(idle_session: Session) -> None:
        # The queue may also go quiet between the appends; wait for the last one's turn.
        if sign_tail(idle_session) and service.tree_size(idle_session) == 3:
            signed.set()

    queue = WriteQueue(_Counting(database), idle_seconds=0.01, on_idle=sign)
    for summary in ("a", "b", "c"):
        queue.submit(_append(summary)).result(timeout=30)
    assert signed.wait(timeout=30)
    queue.stop()
    assert sorted(_checkpoint_sizes(session))[-1] == 3
