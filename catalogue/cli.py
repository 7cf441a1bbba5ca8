"""``smartsteps import municipalities FILE`` and ``smartsteps seed demo``."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from api.preflight import fail, require_database
from api.settings import get_settings

seed_app = typer.Typer(help="Demo content.")


def _session() -> AbstractContextManager[Session]:
    """A write session on the configured database, committed when its block ends."""
    from api.db import make_engine, session_scope

    return session_scope(make_engine(get_settings()), write=True)


def import_municipalities(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="CSV: code,name,district,district_lau1,region,"
            "region_nuts3,postcode,lat,lon,population (default: the built-in register)",
            show_default=False,
        ),
    ] = None,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing when the register is loaded already.")
    ] = False,
) -> None:
    """Import (upsert by code) the municipalities register; all or nothing. Without FILE,
    the register the project ships (ČSÚ data of 2018/2020, see catalogue/data/README.md)."""
    from catalogue.registry import (
        BUILTIN_REGISTER,
        RegisterError,
        import_register,
        municipality_count,
    )

    file = file or BUILTIN_REGISTER
    if not file.is_file():
        fail(f"{file}: not found (or not a file)", 2)
    require_database(get_settings())
    started = time.perf_counter()
    with _session() as session:
        if if_empty and municipality_count(session) > 100:
            typer.echo("municipalities register already loaded; nothing to do")
            return
        try:
            count = import_register(session, file)
        except RegisterError as exc:  # the block ends in a rollback
            for error in exc.errors:
                typer.echo(f"error: {file}: {error}", err=True)
            typer.echo("nothing was imported", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"imported {count} municipalities in {time.perf_counter() - started:.1f} s")


@seed_app.command("demo")
def seed_demo() -> None:
    """Load the demo catalogue (marked demo: true) once; a second run does nothing."""
    from catalogue.demo import seed_demo as load

    require_database(get_settings())
    with _session() as session:
        loaded = load(session)
    if not loaded:
        typer.echo("demo content already present; nothing to do")
        return
    typer.echo("demo content loaded (vendors, solutions and pilots marked demo)")
