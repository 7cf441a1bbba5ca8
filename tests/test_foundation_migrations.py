"""The schema comes only from Alembic revisions, and they agree with the models."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, pool

from api.metadata import metadata
from api.migrate import alembic_config, downgrade, head_revision, upgrade


@pytest.fixture
def empty_database_url(fresh_database_url: Callable[[], str]) -> str:
    return fresh_database_url()


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
