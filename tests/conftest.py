"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when
SMARTSTEPS_TEST_DATABASE_URL is set), one rolled-back transaction per test, the app and
a client speaking HTTP to it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from api.app import create_app
from api.auth import Role, issue_key
from api.db import make_engine
from api.migrate import upgrade
from api.settings import Settings

# Third-party test data kept in the repository (OCDS schema, Merkle vectors): the tests need
# nothing outside it.
TEST_DATA = Path(__file__).resolve().parent / "data"
TEST_DATABASE_URL = os.environ.get("SMARTSTEPS_TEST_DATABASE_URL")


def on_postgres() -> bool:
    return bool(TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgresql"))


def reset_postgres(url: str) -> None:
    """Empty the test database (every table, type and trigger) so migrations start clean."""
    from sqlalchemy import create_engine, pool

    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def fresh_database_url(tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes new, empty databases of the kind under test (dropped afterwards)."""
    import uuid

    from sqlalchemy import create_engine, pool
    from sqlalchemy.engine import make_url

    created: list[str] = []
    admin = None
    if on_postgres():
        assert TEST_DATABASE_URL is not None
        admin = create_engine(
            TEST_DATABASE_URL, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
        )

    def make() -> str:
        name = f"smartsteps_t_{uuid.uuid4().hex[:10]}"
        if admin is None:
            return f"sqlite:///{tmp_path / name}.sqlite3"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        assert TEST_DATABASE_URL is not None
        return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)

    yield make
    if admin is not None:
        with admin.connect() as connection:
            for name in created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def worker_database_url(url: str) -> str:
    """Under pytest-xdist each worker migrates and empties a PostgreSQL database of its own,
    ``<name>_gw0``, ``<name>_gw1``, ... (created beside the named one when missing), so that
    ``pytest -n 2`` works on PostgreSQL as on SQLite."""
    from sqlalchemy import create_engine, pool
    from sqlalchemy.engine import make_url

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if exists is None:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("data")
    if TEST_DATABASE_URL and on_postgres():
        url = worker_database_url(TEST_DATABASE_URL)
    else:
        url = TEST_DATABASE_URL or f"sqlite:///{data_dir / 'test.sqlite3'}"
    # Budgets far above what a test sends; the rate-limit tests set their own.
    return Settings(
        data_dir=data_dir,
        database_url=url,
        rate_limit_per_key="100000/minute",
        rate_limit_anonymous="100000/minute",
        rate_limit_exports="100000/minute",
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    url = settings.effective_database_url
    if on_postgres():
        reset_postgres(url)
    upgrade(url)
    engine = make_engine(settings)
    yield engine
    engine.dispose()


class TestDatabase:
    """Every session of a test shares one connection whose outer transaction is rolled back;
    a session's commit only releases its savepoint."""

    __test__ = False

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.engine = connection.engine

    def session(self, *, write: bool, pool: str = "main") -> Session:
        # The same connection whatever the kind of session (ruff's ARG rules skip tests/).
        return Session(
            bind=self.connection,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
        )


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


@pytest.fixture
def database(connection: Connection) -> TestDatabase:
    return TestDatabase(connection)


@pytest.fixture
def session(database: TestDatabase) -> Iterator[Session]:
    with database.session(write=True) as session:
        yield session


@pytest.fixture
def app(settings: Settings, database: TestDatabase) -> FastAPI:
    return create_app(settings, database=database)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


MakeKey = Callable[..., dict[str, str]]


@pytest.fixture
def make_key(session: Session) -> MakeKey:
    def make(
        role: Role | str,
        municipality_code: str | None = None,
        vendor_id: int | None = None,
        **kwargs: object,
    ) -> dict[str, str]:
        issued = issue_key(
            session,
            role=Role(role),
            label=f"test {role}",
            municipality_code=municipality_code,
            vendor_id=vendor_id,
            **kwargs,  # type: ignore[arg-type]
        )
        session.commit()
        return {"Authorization": f"Bearer {issued.secret}"}

    return make


@pytest.fixture(scope="session", autouse=True)
def municipalities_register(engine: Engine) -> int:
    """The real municipalities register (the built-in copy), imported and committed once per
    test session; each test's rollback leaves it in place. Every test has it: procurements
    name their buyer by its code in the register."""
    from catalogue.registry import BUILTIN_REGISTER, import_register

    with Session(engine) as session:
        count = import_register(session, BUILTIN_REGISTER)
        session.commit()
    return count


def upgrade_with_register(url: str) -> None:
    """Migrate a new database and import the municipalities register into it (procurements
    name their buyer by its code in the register)."""
    from sqlalchemy import create_engine, pool

    from catalogue.registry import BUILTIN_REGISTER, import_register

    upgrade(url)
    engine = create_engine(url, poolclass=pool.NullPool)
    with Session(engine) as session:
        import_register(session, BUILTIN_REGISTER)
        session.commit()
    engine.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say where the browser tests left their screenshots."""
    from tests.servers import screenshot_dir

    folder = screenshot_dir()
    if folder.is_dir() and any(folder.iterdir()):
        terminalreporter.write_line(f"browser screenshots (1280 and 360 px) and PDF: {folder}")
