"""The schema comes only from Alembic revisions, and they agree with the models."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, pool, text
from sqlalchemy.engine import make_url

from api.metadata import metadata
from api.migrate import alembic_config, downgrade, head_revision, upgrade
from tests.conftest import TEST_DATABASE_URL, on_postgres


@pytest.fixture
def empty_database_url(tmp_path: pytest.TempPathFactory) -> Iterator[str]:
    """A new, empty database of the kind under test."""
    if not on_postgres():
        yield f"sqlite:///{tmp_path}/migrations.sqlite3"  # type: ignore[operator]
        return
    assert TEST_DATABASE_URL is not None
    name = f"smartsteps_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(TEST_DATABASE_URL, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_check_downgrade_upgrade(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    assert _tables(empty_database_url) >= set(metadata.tables)
    # No drift between the models and the migrations (raises when autogenerate finds any).
    command.check(alembic_config(empty_database_url))
    downgrade(empty_database_url, "base")
    assert _tables(empty_database_url) <= {t for t in _tables(empty_database_url) if "fts" in t}
    upgrade(empty_database_url)
    assert _tables(empty_database_url) >= set(metadata.tables)
    command.check(alembic_config(empty_database_url))


def test_single_head() -> None:
    assert head_revision() is not None
