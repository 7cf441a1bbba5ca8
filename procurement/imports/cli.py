"""``smartsteps import buyer-profile FILE --buyer CODE``: a buyer profile export into the
trail, one transaction per batch of parts, with a progress bar on standard error."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from api.auth import Caller, Role
from api.errors import AppError
from api.settings import get_settings
from procurement.imports.schemas import BuyerProfileImportReport

# Steps the command records name this actor (an operator on the server, no API key).
CLI_ACTOR = "cli-import"
EXIT_REFUSED = 1  # the file was refused: nothing written
EXIT_CONFLICTS = 3  # imported, but the export contradicts the trail somewhere


class SubjectOption(StrEnum):
    supplies = "supplies"
    services = "services"
    works = "works"


def import_buyer_profile(
    file: Annotated[
        Path,
        typer.Argument(
            help="The buyer profile export (XML data VZ; the 2016 or the current structure).",
            exists=True,
            dir_okay=False,
        ),
    ],
    buyer: Annotated[str, typer.Option(help="kód obce of the buyer the export is of.")],
    subject: Annotated[
        SubjectOption | None,
        typer.Option(
            help="Subject of parts whose export states none (the 2016 structure never "
            "does); without it such parts are skipped."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be written; write nothing.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Parts per transaction.")
    ] = 100,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON (as the API returns it).")
    ] = False,
) -> None:
    """Import a buyer profile export into the buyer's trail (idempotent, append-only).

    Exit 0 when done, 1 when the file is refused (nothing written), 3 when the export
    contradicts the trail somewhere (the rest is imported; the conflicts are listed)."""
    from api.db import make_engine, session_scope
    from api.preflight import require_database, require_ledger_key
    from procurement.imports.service import open_import, plans_in_batches
    from procurement.ledger import service as ledger

    settings = get_settings()
    require_database(settings)
    require_ledger_key(settings)  # the server's key signs the checkpoints; never a new one
    ledger.configure_from(settings)
    engine = make_engine(settings)
    caller = Caller(key_id=CLI_ACTOR, role=Role.admin)
    try:
        with session_scope(engine, write=False) as session:
            run = open_import(
                session,
                file.read_bytes(),
                caller,
                buyer_code=buyer,
                ocid_prefix=settings.ocid_prefix,
                subject_when_unstated=subject.value if subject else None,
                dry_run=dry_run,
            )
        with typer.progressbar(
            length=max(len(run.plans), 1), label="parts", file=sys.stderr
        ) as bar:
            for batch in plans_in_batches(run.plans, batch_size):
                with session_scope(engine, write=True) as session:
                    run.import_batch(session, batch, progress=bar.update)
    except AppError as refused:
        typer.echo(f"error: {refused.detail}", err=True)
        raise typer.Exit(EXIT_REFUSED) from None
    finally:
        engine.dispose()
    report = run.report()
    typer.echo(report.model_dump_json(indent=2) if as_json else report_text(report, file))
    if report.conflicts:
        raise typer.Exit(EXIT_CONFLICTS)


def report_text(report: BuyerProfileImportReport, file: Path) -> str:
    """The report for a person: counts first, then each list."""
    mode = " (dry run: nothing written)" if report.dry_run else ""
    lines = [
        f"buyer profile {report.profile_code or '(no profil_kod)'} for {report.buyer_code}: "
        f"{file} (sha256 {report.file_sha256[:16]}...){mode}",
        f"structure {', '.join(report.structures) or '-'}, {report.parts} parts: "
        f"created {report.created}, appended {report.appended}, unchanged {report.unchanged}, "
        f"skipped {report.skipped}",
        f"steps recorded {report.steps_recorded}, unchanged {report.steps_unchanged}, "
        f"conflicts {len(report.conflicts)}",
    ]
    if report.checkpoint_tree_size is not None:
        lines.append(f"signed checkpoint at tree size {report.checkpoint_tree_size}")
    for item in report.items:
        where = item.ocid or "-"
        lines.append(f"  {item.outcome:9} {where}  {item.title}")
        if item.reason:
            lines.append(f"            skipped: {item.reason}")
        for note in item.order_notes:
            lines.append(f"            order note: {note}")
    if report.conflicts:
        lines.append(f"conflicts ({len(report.conflicts)}), nothing of them written:")
        for conflict in report.conflicts:
            step = f"step {conflict.seq} {conflict.step_type}" if conflict.seq else "procurement"
            lines.append(
                f"  {conflict.ocid} {step} {conflict.member}: trail {conflict.trail!r}, "
                f"export {conflict.export!r} ({conflict.path})"
            )
    if report.unknown_values:
        lines.append(f"unknown values ({len(report.unknown_values)}):")
        lines += [
            f"  {u.element} = {u.value!r}: {u.effect} ({u.path})" for u in report.unknown_values
        ]
    if report.not_recorded:
        lines.append(f"not recorded ({len(report.not_recorded)}):")
        lines += [f"  {n.fact}: {n.reason} ({n.path})" for n in report.not_recorded]
    if report.unreadable:
        lines.append(f"unreadable ({len(report.unreadable)}):")
        lines += [f"  {n.path}: {n.reason}" for n in report.unreadable]
    return "\n".join(lines)
