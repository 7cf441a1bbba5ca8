"""What a CLI command checks before it touches anything.

A command never creates what it only reads: run from the wrong folder, ``keys list`` must
not leave an empty database behind, nor ``ledger public-key`` a new signing key that an
auditor would pin. A missing database or key, or one that does not answer, is one line on
standard error naming what was looked at and how to point the command elsewhere, and a
non-zero exit; never a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import typer
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from api.settings import Settings

POINT_ELSEWHERE = (
    "point SMARTSTEPS_DATA_DIR (the folder holding it) or SMARTSTEPS_DATABASE_URL at yours"
)


def fail(message: str, code: int = 1) -> NoReturn:
    """End the command with ``error: <message>`` on standard error."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _data_dir_origin(settings: Settings) -> str:
    if "data_dir" in settings.model_fields_set:
        return f"SMARTSTEPS_DATA_DIR={settings.data_dir}"
    return f"the default data folder ./{settings.data_dir} in {Path.cwd()}"


def _first_line(error: SQLAlchemyError) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def require_database(settings: Settings, *, schema: bool = True) -> None:
    """The database exists and answers, and (with ``schema``) is at this version's schema.

    Checked on a connection of its own, before the command opens its engine: on SQLite
    opening a missing file would create it."""
    from alembic.runtime.migration import MigrationContext

    from api.migrate import head_revision

    url = settings.effective_database_url
    if settings.is_sqlite:
        database = make_url(url).database
        if database and database != ":memory:" and not os.path.isfile(database):
            origin = (
                "SMARTSTEPS_DATABASE_URL" if settings.database_url else _data_dir_origin(settings)
            )
            fail(
                f"no database at {database} (from {origin}); create one with "
                f"'smartsteps db upgrade', or {POINT_ELSEWHERE}"
            )
    # A server that does not answer is reported after 10 s, not after the TCP timeout.
    connect_args = {} if settings.is_sqlite else {"connect_timeout": 10}
    engine = create_engine(url, poolclass=pool.NullPool, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        fail(f"cannot open the database {redacted(url)}: {_first_line(exc)}")
    finally:
        engine.dispose()
    if not schema:
        return
    head = head_revision()
    if current is None:
        fail(
            f"the database {redacted(url)} has no smartsteps schema; run "
            f"'smartsteps db upgrade', or {POINT_ELSEWHERE}"
        )
    if current != head:
        fail(
            f"the database {redacted(url)} is at schema revision {current}, this version "
            f"needs {head}: run 'smartsteps db upgrade'"
        )


def require_ledger_key(settings: Settings) -> Path:
    """The ledger signing key exists (only the server creates it, on its first start)."""
    path = settings.effective_ledger_key_path
    if not path.is_file():
        origin = (
            "SMARTSTEPS_LEDGER_KEY_PATH"
            if settings.ledger_key_path is not None
            else _data_dir_origin(settings)
        )
        fail(
            f"no ledger signing key at {path.resolve()} (from {origin}); the server creates "
            "it on its first start. Point SMARTSTEPS_LEDGER_KEY_PATH or SMARTSTEPS_DATA_DIR "
            "at the server's"
        )
    return path


def require_folder(target: Path | None) -> None:
    """The folder a new file goes into exists (``None``: standard output)."""
    if target is not None and not target.resolve().parent.is_dir():
        fail(f"cannot write {target}: no folder {target.resolve().parent}")
