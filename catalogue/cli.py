"""``smartsteps import municipalities FILE`` and ``smartsteps seed demo``."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

seed_app = typer.Typer(help="Demo content.")


def _session() -> AbstractContextManager[Session]:
    """A write session on the configured database, committed when its block ends."""
    from api.db import make_engine, session_scope
    from api.settings import get_settings

    return session_scope(make_engine(get_settings()), write=True)


def import_municipalities(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV: code,name,district,district_lau1,region,"
            "region_nuts3,postcode,lat,lon,population"
        ),
    ],
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing when the register is loaded already.")
    ] = False,
) -> None:
    """Import (upsert by code) the municipalities register; all or nothing."""
    from catalogue.registry import RegisterError, import_register, municipality_count

    if not file.is_file():
        typer.echo(f"error: {file} is not a file", err=True)
        raise typer.Exit(2)
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

    with _session() as session:
        loaded = load(session)
    if not loaded:
        typer.echo("demo content already present; nothing to do")
        return
    typer.echo("demo content loaded (vendors, solutions and pilots marked demo)")
