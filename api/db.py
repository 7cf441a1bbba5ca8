"""Database engines and sessions: the request's session, and ``session_scope`` for the rest.

Three pools, so that read requests (most of them anonymous) can never take the connections
writes need:

* ``main``: write transactions (the write queue, writing requests, idempotency keys, the
  ledger's tail; ``BEGIN IMMEDIATE`` on SQLite) and the service's own short reads (API key
  lookups, the tail check);
* ``queries``: the read sessions of requests, each statement stopped after
  ``query_time_limit_seconds`` (PostgreSQL ``statement_timeout``, a SQLite progress handler),
  at most ``query_slots`` requests at once per process (``QuerySlots``);
* ``long_reads``: exports, the feed and live ledger verification, at most
  ``long_read_slots`` at once per process; one more is answered 503 with ``Retry-After``.

Every transaction of the service is committed by ``commit``, which first runs what it owes
(``before_commit``): the ledger's checkpoint for the appends it holds. The request's session
dependency, the write queue and ``session_scope`` commit through it, so no path can
acknowledge an append that no signed checkpoint covers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated, Any, Literal, Protocol

from anyio import CancelScope, CapacityLimiter, move_on_after, to_thread
from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlmodel import Session

from api.errors import ServiceUnavailable
from api.settings import Settings

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
Pool = Literal["main", "queries", "long_reads"]
LONG_READS_RETRY_AFTER_SECONDS = 5
# A SQLite query calls the progress handler every this many virtual-machine steps (some
# tens of milliseconds of work): often enough to stop on time, rarely enough to cost nothing.
SQLITE_PROGRESS_STEPS = 100_000
_DEADLINE = "smartsteps.deadline"
_BEFORE_COMMIT = "smartsteps.before_commit"


def make_engine(
    settings: Settings,
    *,
    pool_size: int | None = None,
    time_limit_seconds: float = 0,
) -> Engine:
    """An engine on the configured database; on SQLite WAL, synchronous=FULL, foreign keys
    and the busy timeout. ``time_limit_seconds`` > 0 stops each statement after that long."""
    url = settings.effective_database_url
    size = pool_size or settings.database_pool_size
    pooling: dict[str, Any] = {
        "pool_size": size,
        "max_overflow": size,
        "pool_timeout": settings.pool_timeout_seconds,
    }
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            pooling = {}  # the database lives in its connection: SQLAlchemy's default pool
        else:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **pooling)
        configure_sqlite(engine, settings.sqlite_busy_timeout_ms)
        if time_limit_seconds > 0:
            limit_sqlite_statements(engine, time_limit_seconds)
        return engine
    connect_args: dict[str, Any] = {}
    if time_limit_seconds > 0:
        # Every statement on this pool's connections (set once per connection, where a
        # SET LOCAL per transaction would cost a round trip): the server stops it itself.
        connect_args["options"] = f"-c statement_timeout={max(1, round(time_limit_seconds * 1000))}"
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **pooling)


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """Pragmas on every connection, and BEGIN emitted by us so writes can take the lock early.

    pysqlite's own transaction handling never emits ``BEGIN IMMEDIATE``; a deferred
    transaction that reads and then writes can fail with SQLITE_BUSY at once instead of
    waiting, so write requests start ``BEGIN IMMEDIATE`` (see ``EngineDatabase.session``).

    Within one process, write transactions also queue on a lock (``_WriteGate``) before
    ``BEGIN IMMEDIATE``: SQLite's busy handler polls with sleeps of up to 100 ms, so
    threads waiting there leave the database idle after each commit; a thread waiting on
    the gate starts the moment the previous writer has committed. Other processes still
    wait through ``busy_timeout``.
    """
    gate = _WriteGate(busy_timeout_ms / 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode != "IMMEDIATE":
            connection.exec_driver_sql(f"BEGIN {mode}")
            return
        dbapi_connection = connection.connection.dbapi_connection
        gate.enter(dbapi_connection)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            gate.leave(dbapi_connection)
            raise

    dialect = engine.dialect
    do_commit, do_rollback = dialect.do_commit, dialect.do_rollback

    def _commit(dbapi_connection: Any) -> None:
        try:
            do_commit(dbapi_connection)
        finally:
            gate.leave(dbapi_connection)

    def _rollback(dbapi_connection: Any) -> None:
        try:
            do_rollback(dbapi_connection)
        finally:
            gate.leave(dbapi_connection)

    # Per engine (this dialect instance): the gate opens only once COMMIT or ROLLBACK is done.
    dialect.do_commit = _commit  # type: ignore[method-assign]
    dialect.do_rollback = _rollback  # type: ignore[method-assign]


def limit_sqlite_statements(engine: Engine, seconds: float) -> None:
    """Stop any statement of this engine that runs longer than ``seconds`` (counted from
    its start, its rows' fetching included): SQLite then fails it with "interrupted"."""

    @event.listens_for(engine, "connect")
    def _install(dbapi_connection: Any, record: Any) -> None:
        info: dict[str, Any] = record.info

        def overdue() -> int:
            deadline = info.get(_DEADLINE)
            return 1 if deadline is not None and time.monotonic() > deadline else 0

        dbapi_connection.set_progress_handler(overdue, SQLITE_PROGRESS_STEPS)

    @event.listens_for(engine, "before_cursor_execute")
    def _start(connection: Connection, *_args: Any) -> None:
        connection.connection.info[_DEADLINE] = time.monotonic() + seconds

    @event.listens_for(engine, "checkin")
    def _stop(_dbapi_connection: Any, record: Any) -> None:
        record.info.pop(_DEADLINE, None)


class _WriteGate:
    """One write transaction at a time per engine and process (see ``configure_sqlite``).

    A thread that cannot enter within the busy timeout goes on without the gate and leaves
    the waiting to SQLite, so the gate never fails a request SQLite alone would not fail.
    """

    def __init__(self, timeout_seconds: float) -> None:
        self._lock = threading.Lock()
        self._timeout = timeout_seconds
        self._holder: int | None = None

    @staticmethod
    def _key(dbapi_connection: Any) -> int:
        # The pool hands the dialect its proxy; the begin event sees the raw connection.
        return id(getattr(dbapi_connection, "dbapi_connection", dbapi_connection))

    def enter(self, dbapi_connection: Any) -> None:
        if self._lock.acquire(timeout=self._timeout):
            self._holder = self._key(dbapi_connection)

    def leave(self, dbapi_connection: Any) -> None:
        if self._holder is not None and self._holder == self._key(dbapi_connection):
            self._holder = None
            self._lock.release()


class Database(Protocol):
    """What the app needs from storage: a session, for a write or a read from ``pool``."""

    engine: Engine

    def session(self, *, write: bool, pool: Pool = "main") -> Session: ...


class EngineDatabase:
    """The production database: a new session per transaction, from one of three pools
    (one engine for all three when only one is given, as the CLI and some tests do)."""

    def __init__(
        self,
        engine: Engine,
        *,
        query_engine: Engine | None = None,
        long_read_engine: Engine | None = None,
    ) -> None:
        self.engine = engine
        self.query_engine = query_engine or engine
        self.long_read_engine = long_read_engine or engine
        self._write_engine = engine.execution_options(sqlite_begin="IMMEDIATE")

    def session(self, *, write: bool, pool: Pool = "main") -> Session:
        """A write session (always on the main pool), or a read session from ``pool``."""
        bind: Engine
        if write:
            bind = self._write_engine
        elif pool == "queries":
            bind = self.query_engine
        elif pool == "long_reads":
            bind = self.long_read_engine
        else:
            bind = self.engine
        return Session(bind=bind, expire_on_commit=False)

    def dispose(self) -> None:
        for engine in {self.engine, self.query_engine, self.long_read_engine}:
            engine.dispose()


def make_database(settings: Settings) -> EngineDatabase:
    """The service's three pools: main (writes), time-limited queries, and long reads."""
    return EngineDatabase(
        make_engine(settings),
        query_engine=make_engine(
            settings,
            pool_size=settings.query_slots,
            time_limit_seconds=settings.query_time_limit_seconds,
        ),
        long_read_engine=make_engine(settings, pool_size=settings.long_read_slots),
    )


# --- committing: every transaction ends through ``commit`` -------------------------------


def before_commit(session: Session, name: str, work: Callable[[Session], object]) -> None:
    """Have ``work(session)`` run, inside this transaction, when ``commit`` commits it (once
    per ``name``: a later registration replaces an earlier one). A rollback forgets it.

    The ledger registers its checkpoint seal here when an append finds a checkpoint due.
    """
    transaction = session.get_transaction()
    owed: tuple[Any, dict[str, Callable[[Session], object]]] | None = session.info.get(
        _BEFORE_COMMIT
    )
    if owed is None or owed[0] is not transaction:
        owed = (transaction, {})
        session.info[_BEFORE_COMMIT] = owed
    owed[1][name] = work


def commit(session: Session) -> None:
    """Run what the transaction owes (``before_commit``), then commit it."""
    owed = session.info.pop(_BEFORE_COMMIT, None)
    if owed is not None and owed[0] is session.get_transaction():
        for work in owed[1].values():
            work(session)
    session.commit()


@contextmanager
def session_scope(source: Engine | Database, *, write: bool) -> Iterator[Session]:
    """A session outside a request (the CLI, key bookkeeping, idempotency keys, the ledger's
    tail): a write block is committed through ``commit`` when it ends and rolled back when
    it raises; a read block is only closed. ``source`` is an engine (the CLI) or the app's
    database (its main pool)."""
    if isinstance(source, Engine):
        bind = source.execution_options(sqlite_begin="IMMEDIATE") if write else source
        session = Session(bind=bind, expire_on_commit=False)
    else:
        session = source.session(write=write)
    with session:
        try:
            yield session
            if write:
                commit(session)
        except BaseException:
            session.rollback()
            raise


# --- the request's sessions ---------------------------------------------------------------


class QueriesBusy(ServiceUnavailable):
    def __init__(self, waited: float) -> None:
        super().__init__(
            f"The service is busy with other queries (waited {waited:g} s for a turn); "
            "nothing was read. Retry shortly.",
            headers={"Retry-After": "1"},
        )


class QuerySlots:
    """At most ``slots`` read requests run at once in this process; more wait on the event
    loop, holding no thread and no connection, for up to ``wait_seconds``, then get 503.

    Python runs one thread at a time: with dozens of heavy queries in threads, each of the
    write path's steps (the event loop, the writer thread) waits for all of them to have had
    their turn, and appends take seconds (bench/reads_vs_writes.py). A few at once keep the
    cores busy all the same: a query spends much of its time inside the database.
    """

    def __init__(self, slots: int, wait_seconds: float) -> None:
        self.slots = slots
        self.wait_seconds = wait_seconds
        self._limiter: CapacityLimiter | None = None

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self._limiter is None:  # made on the event loop
            self._limiter = CapacityLimiter(self.slots)
        limiter, borrower = self._limiter, object()
        with move_on_after(self.wait_seconds) as waiting:
            await limiter.acquire_on_behalf_of(borrower)
        if waiting.cancelled_caught:
            raise QueriesBusy(self.wait_seconds)
        try:
            yield
        finally:
            limiter.release_on_behalf_of(borrower)


class LongReadsBusy(ServiceUnavailable):
    def __init__(self, slots: int) -> None:
        super().__init__(
            f"All {slots} slots for long reads (exports, the feed, ledger verification) are "
            f"in use; retry in {LONG_READS_RETRY_AFTER_SECONDS} s.",
            headers={"Retry-After": str(LONG_READS_RETRY_AFTER_SECONDS)},
        )


class LongReads:
    """At most ``slots`` long reads at once in this process; one more is refused at once
    (503 with Retry-After) rather than queued, so it holds no thread and no connection."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._free = threading.BoundedSemaphore(slots)

    def enter(self) -> None:
        if not self._free.acquire(blocking=False):
            raise LongReadsBusy(self.slots)

    def leave(self) -> None:
        self._free.release()


@asynccontextmanager
async def _request_session(
    database: Database, *, write: bool, pool: Pool = "queries"
) -> AsyncIterator[Session]:
    """Commit when the route returns, roll back on any error.

    A session starts no transaction until its first statement, so it is made here on the
    event loop; the commit, rollback and close run in a worker thread (shielded, outside
    the thread pool's limit, as FastAPI runs the exit of a sync dependency).
    """
    session = database.session(write=True) if write else database.session(write=False, pool=pool)
    try:
        yield session
    except BaseException:
        if _untouched(session):
            session.close()
            raise
        with CancelScope(shield=True):
            await to_thread.run_sync(_rollback_and_close, session, limiter=CapacityLimiter(1))
        raise
    if _untouched(session):  # e.g. the route's writes went through the write queue
        session.close()
        return
    with CancelScope(shield=True):
        await to_thread.run_sync(_commit_and_close, session, limiter=CapacityLimiter(1))


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session: a write session for POST, PUT, PATCH and DELETE, else a query.

    Declared with ``scope="function"`` so the commit runs before the response is sent:
    a commit that fails becomes an error response, never a 2xx for a lost write.
    Routes and services never commit: this is the one place.
    """
    if request.method in WRITE_METHODS:
        async with _request_session(request.app.state.database, write=True) as session:
            yield session
    else:
        async with _query_session(request) as session:
            yield session


async def get_query_session(request: Request) -> AsyncIterator[Session]:
    """A query's session whatever the method (a POST that only reads declares it)."""
    async with _query_session(request) as session:
        yield session


@asynccontextmanager
async def _query_session(request: Request) -> AsyncIterator[Session]:
    """A read session from the query pool, once one of the query slots is free."""
    query_slots: QuerySlots = request.app.state.query_slots
    database: Database = request.app.state.database
    async with query_slots.turn(), _request_session(database, write=False) as session:
        yield session


async def get_long_read_session(request: Request) -> AsyncIterator[Session]:
    """A long read's session, on its own pool and held until the response has been sent (a
    streamed body reads from it); 503 with Retry-After when every slot is taken."""
    long_reads: LongReads = request.app.state.long_reads
    long_reads.enter()
    try:
        database: Database = request.app.state.database
        async with _request_session(database, write=False, pool="long_reads") as session:
            yield session
    finally:
        long_reads.leave()


def _untouched(session: Session) -> bool:
    """No transaction was begun and nothing waits to be flushed: nothing to commit."""
    return not (session.in_transaction() or session.new or session.dirty or session.deleted)


def _commit_and_close(session: Session) -> None:
    try:
        commit(session)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _rollback_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
QuerySessionDep = Annotated[Session, Depends(get_query_session, scope="function")]
# Request scope: the session outlives the route function until the response is sent.
LongReadSessionDep = Annotated[Session, Depends(get_long_read_session, scope="request")]


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name
