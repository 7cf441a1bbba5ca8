"""Database engine and the request's session (one transaction per request)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from typing import Annotated, Any, Protocol

from anyio import CancelScope, CapacityLimiter, to_thread
from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlmodel import Session

from api.settings import Settings

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def make_engine(settings: Settings) -> Engine:
    """Create the engine; on SQLite apply WAL, synchronous=FULL, foreign keys, busy timeout."""
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        configure_sqlite(engine, settings.sqlite_busy_timeout_ms)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """Pragmas on every connection, and BEGIN emitted by us so writes can take the lock early.

    pysqlite's own transaction handling never emits ``BEGIN IMMEDIATE``; a deferred
    transaction that reads and then writes can fail with SQLITE_BUSY at once instead of
    waiting, so write requests start ``BEGIN IMMEDIATE`` (see ``Database.session``).

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
    """What the app needs from storage: a session for a read or a write request."""

    engine: Engine

    def session(self, *, write: bool) -> Session: ...


class EngineDatabase:
    """The production database: a new session per request."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._write_engine = engine.execution_options(sqlite_begin="IMMEDIATE")

    def session(self, *, write: bool) -> Session:
        bind = self._write_engine if write else self.engine
        return Session(bind=bind, expire_on_commit=False)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session: commit when the route returns, roll back on any error.

    Declared with ``scope="function"`` so the commit runs before the response is sent:
    a commit that fails becomes an error response, never a 2xx for a lost write.
    A session starts no transaction until its first statement, so it is made here on the
    event loop; the commit, rollback and close run in a worker thread (shielded, outside
    the thread pool's limit, as FastAPI runs the exit of a sync dependency). Routes and
    services never commit: this is the one place.
    """
    database: Database = request.app.state.database
    session = database.session(write=request.method in WRITE_METHODS)
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


def _untouched(session: Session) -> bool:
    """No transaction was begun and nothing waits to be flushed: nothing to commit."""
    return not (session.in_transaction() or session.new or session.dirty or session.deleted)


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
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


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name
