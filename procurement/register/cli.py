"""``smartsteps import contract-register FILE``: load a dump of the contract register."""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from api.settings import get_settings


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """A dump makes millions of short-lived objects and no reference cycles: the cyclic
    collector would only scan them again and again (a sixth of the import's time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def import_contract_register(
    file: Annotated[
        Path,
        typer.Argument(
            help="A monthly dump of the contract register (registr smluv, ISRS 1.2 XML, "
            "e.g. dump_2026_01.xml).",
            exists=True,
            dir_okay=False,
        ),
    ],
) -> None:
    """Load a contract-register dump into the read-only mirror (idempotent; all or nothing)."""
    from api.db import EngineDatabase, make_engine
    from procurement.register.exceptions import DumpRefused
    from procurement.register.service import import_dump

    engine = make_engine(get_settings())
    size = file.stat().st_size
    started = time.perf_counter()
    try:
        with EngineDatabase(engine).session(write=True) as session:
            with typer.progressbar(length=max(size, 1), label="reading", file=sys.stderr) as bar:

                def progress(done: int) -> None:
                    bar.update(done - bar.pos)

                try:
                    with _no_cycle_collection():
                        report = import_dump(session, file, progress=progress)
                except DumpRefused as exc:
                    session.rollback()
                    typer.echo(f"\nerror: {file}: {exc.detail}", err=True)
                    typer.echo("nothing was imported", err=True)
                    raise typer.Exit(1) from None
            session.commit()
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    header = report.header
    month = f"{header.year}-{header.month:02d}" if header.year and header.month else "unknown"
    state = "complete" if header.complete else "incomplete"
    generated = header.generated_at.isoformat() if header.generated_at else "unknown"
    typer.echo(
        f"dump of {month} ({state} month, generated {generated}), sha256 {report.file_sha256}"
    )
    if report.already_imported:
        typer.echo("this file was imported before: nothing changed")
        return
    typer.echo(
        f"{report.records} records in {elapsed:.1f} s: {report.created} new, "
        f"{report.updated} updated, {report.unchanged} unchanged, {report.stale} kept "
        f"(a later generation of this month's dump was imported before), "
        f"{report.skipped} skipped"
    )
    for skipped in report.skipped_examples:
        typer.echo(f"skipped: {file}:{skipped.line}: {skipped.reason}", err=True)
