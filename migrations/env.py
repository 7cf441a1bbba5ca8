"""Alembic environment: the models' metadata (with its naming convention), batch mode for SQLite."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from api.metadata import metadata

config = context.config
target_metadata = metadata


def include_name(name, type_, parent_names) -> bool:  # type: ignore[no-untyped-def]  # noqa: ARG001
    """Full-text indexes (catalogue ``*_fts``: FTS5 tables and their shadow tables on SQLite,
    a table with a GIN index on PostgreSQL) are made by hand in their revision; autogenerate
    does not know them."""
    return not (type_ in ("table", "index") and name is not None and "_fts" in name)


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
