"""``smartsteps ledger public-key``, ``smartsteps export ledger``, ``smartsteps verify``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

ledger_app = typer.Typer(help="The verifiable ledger.")


def _configure() -> None:
    """Load the signing key the server made; never make one here (a key made by a read
    command would be a new identity that an auditor might pin)."""
    from api.preflight import require_ledger_key
    from api.settings import get_settings
    from procurement.ledger import service

    settings = get_settings()
    require_ledger_key(settings)
    service.configure_from(settings)


@ledger_app.command("public-key")
def public_key() -> None:
    """Print the checkpoint verifier key (<name>+<key id>+<base64 key>); pin it."""
    from procurement.ledger import service

    _configure()
    typer.echo(service.signer().verifier.text())


def export_ledger(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default stdout).")
    ] = None,
) -> None:
    """Write the ledger export (JSON Lines) that 'smartsteps verify' reads."""
    from api.db import make_engine, session_scope
    from api.preflight import require_database, require_folder
    from api.settings import get_settings
    from procurement.ledger import service
    from procurement.ledger.export import export_lines, needs_tail_checkpoint

    require_folder(output)
    require_database(get_settings())
    _configure()
    engine = make_engine(get_settings())
    with session_scope(engine, write=False) as session:
        tail = needs_tail_checkpoint(session)
    if tail:
        with session_scope(engine, write=True) as session:
            service.checkpoint_now(session)
    with session_scope(engine, write=False) as session:
        if output is None:
            out = sys.stdout.buffer
            for line in export_lines(session):
                out.write(line)
            out.flush()
            return
        temp = output.with_name(output.name + ".partial")
        with temp.open("wb") as handle:
            for line in export_lines(session):
                handle.write(line)
        temp.replace(output)
    typer.echo(f"wrote {output}", err=True)


def verify(
    export: Annotated[Path, typer.Argument(help="A file from 'smartsteps export ledger'.")],
    public_key: Annotated[
        str | None,
        typer.Option(help="The verifier key to trust (the text or a file holding it)."),
    ] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="A checkpoint you saved earlier (GET /v1/ledger/checkpoint)."),
    ] = None,
    jobs: Annotated[
        int | None, typer.Option(min=1, max=256, help="Processes to use (default 1).")
    ] = None,
) -> None:
    """Verify a ledger export offline: hashes, chains, indexes, roots, signatures."""
    # The console entry (api/console.py) runs the same check without loading the service;
    # this is the path for `smartsteps --help`-style discovery and for tests via Typer.
    from procurement.ledger.verify import main

    argv = [str(export)]
    if public_key is not None:
        argv += ["--public-key", public_key]
    if checkpoint is not None:
        argv += ["--checkpoint", str(checkpoint)]
    if jobs is not None:
        argv += ["--jobs", str(jobs)]
    raise typer.Exit(main(argv, prog="smartsteps verify"))


def register(app: typer.Typer, export_app: typer.Typer) -> None:
    """``ledger public-key``, ``export ledger`` (in the shared export group) and ``verify``."""
    app.add_typer(ledger_app, name="ledger")
    export_app.command("ledger")(export_ledger)
    app.command("verify")(verify)
