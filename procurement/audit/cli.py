"""``smartsteps export procurements|steps|ocds``: the bulk exports, from the database
directly, with a progress bar on standard error."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Literal

import typer
from sqlmodel import Session

from api.preflight import fail, require_database, require_folder
from api.settings import get_settings
from procurement.audit import service
from procurement.audit.exceptions import NothingToPackage
from procurement.audit.schemas import ExportFilters

export_app = typer.Typer(help="Bulk exports (JSON Lines, CSV, OCDS) to a file or stdout.")

OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
]
BuyerOpt = Annotated[str | None, typer.Option(help="Buyer municipality code (6 digits).")]
ProcedureOpt = Annotated[str | None, typer.Option(help="Procedure id, e.g. open.")]
StatusOpt = Annotated[str | None, typer.Option(help="Status, e.g. contracted.")]
FromOpt = Annotated[
    datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="From this day.")
]
ToOpt = Annotated[
    datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Up to this day.")
]
FormatOpt = Annotated[str, typer.Option("--format", help="jsonl, csv or ocds.")]
DelimiterOpt = Annotated[str, typer.Option(help="CSV delimiter: comma or semicolon.")]
BomOpt = Annotated[bool, typer.Option(help="CSV: start with a UTF-8 BOM (Excel).")]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(help="Public base URL for OCDS package URIs; default SMARTSTEPS_PUBLIC_URL."),
]


def _filters(
    buyer: str | None,
    procedure: str | None,
    status: str | None,
    date_from: datetime | None,
    date_to: datetime | None,
) -> ExportFilters:
    if buyer is not None and not (len(buyer) == 6 and buyer.isascii() and buyer.isdigit()):
        raise typer.BadParameter("a municipality code has 6 digits", param_hint="--buyer")
    return ExportFilters(
        buyer,
        procedure,
        status,
        date_from.date() if date_from else None,
        date_to.date() if date_to else None,
    )


def _check(fmt: str, delimiter: str) -> None:
    if fmt not in ("jsonl", "csv", "ocds"):
        raise typer.BadParameter("jsonl, csv or ocds", param_hint="--format")
    if delimiter not in ("comma", "semicolon"):
        raise typer.BadParameter("comma or semicolon", param_hint="--delimiter")


def _write(chunks: Iterator[Any], total: int, output: Path | None, label: str) -> int:
    """Write the chunks; the bar counts lines (one per row) and goes to stderr."""
    written = 0
    target: BinaryIO = output.open("wb") if output else sys.stdout.buffer
    try:
        with typer.progressbar(length=max(total, 1), label=label, file=sys.stderr) as bar:
            for chunk in chunks:
                data = chunk.encode("utf-8") if isinstance(chunk, str) else chunk
                target.write(data)
                rows = data.count(b"\n")
                written += rows
                bar.update(min(rows, max(total - bar.pos, 0)))
    finally:
        if output:
            target.close()
        else:
            target.flush()
    return written


def _run(
    make: Callable[[Session], Iterator[Any]],
    count: Callable[[Session], int],
    output: Path | None,
    label: str,
    package: Callable[[Session], bool] | None = None,
) -> None:
    """Export to ``output`` (or stdout); ``package`` says whether an OCDS package would hold
    anything (one that would not is refused, with the API's 404 detail)."""
    from api.db import make_engine, session_scope

    require_folder(output)
    require_database(get_settings())
    engine = make_engine(get_settings())
    with session_scope(engine, write=False) as session:
        if package is not None and not package(session):
            fail(NothingToPackage().detail)
        total = count(session)
        _write(make(session), total, output, label)
    typer.echo(f"{label}: {total} exported", err=True)


@export_app.command("procurements")
def export_procurements(
    format: FormatOpt = "jsonl",
    buyer: BuyerOpt = None,
    procedure: ProcedureOpt = None,
    status: StatusOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    delimiter: DelimiterOpt = "comma",
    bom: BomOpt = False,
    base_url: BaseUrlOpt = None,
    output: OutputOpt = None,
) -> None:
    """Procurements (created between --from and --to) as JSON Lines, CSV or OCDS records."""
    filters = _filters(buyer, procedure, status, date_from, date_to)
    _export_kind("procurements", format, filters, delimiter, bom, base_url, output)


@export_app.command("steps")
def export_steps(
    format: FormatOpt = "jsonl",
    buyer: BuyerOpt = None,
    procedure: ProcedureOpt = None,
    status: StatusOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    delimiter: DelimiterOpt = "comma",
    bom: BomOpt = False,
    base_url: BaseUrlOpt = None,
    output: OutputOpt = None,
) -> None:
    """Steps (occurred between --from and --to) in leaf order as JSON Lines, CSV or OCDS."""
    filters = _filters(buyer, procedure, status, date_from, date_to)
    _export_kind("steps", format, filters, delimiter, bom, base_url, output)


def _export_kind(
    kind: Literal["procurements", "steps"],
    format: str,
    filters: ExportFilters,
    delimiter: str,
    bom: bool,
    base_url: str | None,
    output: Path | None,
) -> None:
    _check(format, delimiter)
    base_url = base_url or get_settings().public_url
    publication = service.publication(get_settings(), base_url)

    def make(session: Session) -> Iterator[Any]:
        return service.export_stream(
            session,
            kind,
            format,
            filters,
            delimiter=delimiter,
            bom=bom,
            base_url=base_url,
            publication=publication,
        )

    def count(session: Session) -> int:
        if kind == "steps":
            return service.count_steps(session, filters)
        return service.count_procurements(session, filters)

    package = None
    if format == "ocds":

        def package(session: Session) -> bool:
            return service.matches_any(session, filters, steps=kind == "steps")

    _run(make, count, output, kind, package)


@export_app.command("ocds")
def export_ocds(
    buyer: BuyerOpt = None,
    procedure: ProcedureOpt = None,
    status: StatusOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    base_url: BaseUrlOpt = None,
    output: OutputOpt = None,
) -> None:
    """An OCDS 1.1 record package (one record with its compiled release per procurement)."""
    filters = _filters(buyer, procedure, status, date_from, date_to)
    base = base_url or get_settings().public_url
    publication = service.publication(get_settings(), base)
    _run(
        lambda s: service.stream_procurements_ocds(
            s, filters, base_url=base, publication=publication
        ),
        lambda s: service.count_procurements(s, filters),
        output,
        "records",
        lambda s: service.matches_any(s, filters, steps=False),
    )
