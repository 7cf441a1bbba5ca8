"""``smartsteps import cpv FILE``: load the official CPV 2008 list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.settings import get_settings


def import_cpv_list(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV of the CPV 2008 list: code (NNNNNNNN-N) in the first column, label in "
            "the second; comma, semicolon or tab separated, UTF-8.",
            exists=True,
            dir_okay=False,
        ),
    ],
) -> None:
    """Replace the CPV list; procurements' CPV codes are then checked against it."""
    from api.db import make_engine, session_scope
    from api.preflight import require_database
    from procurement.cpv import import_cpv

    require_database(get_settings())
    engine = make_engine(get_settings())
    try:
        with session_scope(engine, write=True) as session:
            count = import_cpv(session, file)
    except (ValueError, UnicodeDecodeError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(f"imported {count} CPV codes from {file}")
