"""HTTP routes of the auditor exports: OCDS packages, bulk exports, the feed, red flags.
All are anonymous public reads (public procurement is public); /v1/exports and /v1/feed
have the stricter export rate limit (api/ratelimit.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from sqlmodel import Session

from api.csvexport import content_disposition
from api.db import LongReadSessionDep, SessionDep
from api.errors import Unprocessable, problem_responses
from api.http import in_blocks
from api.pagination import CursorQuery, LimitQuery, decode_cursor, encode_cursor, link_next
from procurement.audit import ocds, service
from procurement.audit.exceptions import NothingToPackage
from procurement.audit.redflags import RedFlagConfig
from procurement.audit.schemas import (
    Delimiter,
    EvidencePublic,
    ExportFilters,
    ExportFormat,
    FeedEntry,
    FeedPage,
    RedFlagPage,
    RedFlagPublic,
    RuleId,
)
from procurement.calendar import local_date
from procurement.schemas import ProcedureId, StatusId

router = APIRouter(prefix="/v1", tags=["audit"])

OcidPath = Annotated[
    str,
    Path(min_length=1, max_length=100, description="The procurement's ocid"),
]
BuyerQuery = Annotated[
    str | None, Query(pattern=r"^[0-9]{6}$", description="Buyer municipality code (6 digits).")
]
EARLIEST = date(1990, 1, 1)
LATEST = date(2100, 12, 31)

OCDS_JSON: dict[str, Any] = {"application/json": {"schema": {"type": "object"}}}
EXPORT_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The export, streamed (JSON Lines, CSV, or an OCDS package)",
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}
MEDIA_TYPES = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "ocds": "application/json",
}


def _publication(request: Request) -> ocds.Publication:
    return service.publication(request.app.state.settings, _base_url(request))


def _base_url(request: Request) -> str:
    """OCDS URIs start with SMARTSTEPS_PUBLIC_URL, never with the request's Host."""
    return str(request.app.state.settings.public_url)


@router.get(
    "/procurements/{ocid}/ocds/releases",
    responses={**problem_responses(404), 200: {"content": OCDS_JSON}},
    response_class=JSONResponse,
)
def procurement_releases(ocid: OcidPath, request: Request, session: SessionDep) -> JSONResponse:
    """The procurement as an OCDS 1.1 release package (one release per step)."""
    package = service.release_package(
        session, ocid, base_url=_base_url(request), publication=_publication(request)
    )
    return JSONResponse(package)


VersionedQuery = Annotated[
    bool,
    Query(
        description="Add the versioned release (every value with the release that set it). "
        "Off by default: the OCDS Data Review Tool (libcoveocds) checks a versioned "
        "release against the schema without extensions and reports the bids as "
        "unknown fields."
    ),
]


@router.get(
    "/procurements/{ocid}/ocds/record",
    responses={**problem_responses(404), 200: {"content": OCDS_JSON}},
    response_class=JSONResponse,
)
def procurement_record(
    ocid: OcidPath, request: Request, session: SessionDep, versioned: VersionedQuery = False
) -> JSONResponse:
    """The procurement as an OCDS 1.1 record package (compiled release; versioned too)."""
    package = service.record_package(
        session,
        ocid,
        base_url=_base_url(request),
        publication=_publication(request),
        versioned=versioned,
    )
    return JSONResponse(package)


@router.get(
    service.POLICY_PATH.removeprefix("/v1"),
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/markdown": {"schema": {"type": "string"}}}}},
)
def publication_policy(request: Request) -> PlainTextResponse:
    """The OCDS publication policy: what the packages hold, when, and how to read them."""
    text = ocds.publication_policy(_publication(request), _base_url(request))
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")


def _filters(
    buyer: str | None,
    procedure: str | None,
    status: str | None,
    date_from: date | None,
    date_to: date | None,
) -> ExportFilters:
    for name, value in (("from", date_from), ("to", date_to)):
        if value is not None and not EARLIEST <= value <= LATEST:
            raise Unprocessable(
                f"'{name}' must lie between {EARLIEST} and {LATEST}.",
                errors=[{"pointer": f"/{name}", "in": "query", "detail": "date out of range"}],
            )
    if date_from and date_to and date_from > date_to:
        raise Unprocessable(
            "'from' lies after 'to'.",
            errors=[{"pointer": "/from", "in": "query", "detail": "after 'to'"}],
        )
    return ExportFilters(buyer, procedure, status, date_from, date_to)


def _streamed(chunks: Iterator[Any], fmt: str, name: str) -> StreamingResponse:
    """The streamed export (its long-read session lives until the response is sent)."""
    extension = {"jsonl": "jsonl", "csv": "csv", "ocds": "json"}[fmt]
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return StreamingResponse(
        in_blocks(chunks),
        media_type=MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": content_disposition(f"{name}-{stamp}.{extension}"),
            "Cache-Control": "no-store",
        },
    )


FormatQuery = Annotated[ExportFormat, Query(description="jsonl, csv or ocds")]
DelimiterQuery = Annotated[Delimiter, Query(description="CSV delimiter (semicolon for Excel)")]
BomQuery = Annotated[bool, Query(description="CSV: start with a UTF-8 BOM (for Excel)")]
FromQuery = Annotated[date | None, Query(alias="from", description="From this day (UTC)")]
ToQuery = Annotated[date | None, Query(alias="to", description="Up to this day (inclusive)")]


@router.get(
    "/exports/procurements",
    response_class=StreamingResponse,
    responses={**problem_responses(404), **EXPORT_CONTENT},
)
def export_procurements(
    request: Request,
    session: LongReadSessionDep,
    format: FormatQuery = "jsonl",
    buyer: BuyerQuery = None,
    procedure: ProcedureId | None = None,
    status: StatusId | None = None,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    delimiter: DelimiterQuery = "comma",
    bom: BomQuery = False,
) -> StreamingResponse:
    """All procurements matching the filters (created between from and to), streamed."""
    filters = _filters(buyer, procedure, status, date_from, date_to)
    return _export(request, session, "procurements", format, filters, delimiter, bom)


@router.get(
    "/exports/steps",
    response_class=StreamingResponse,
    responses={**problem_responses(404), **EXPORT_CONTENT},
)
def export_steps(
    request: Request,
    session: LongReadSessionDep,
    format: FormatQuery = "jsonl",
    buyer: BuyerQuery = None,
    procedure: ProcedureId | None = None,
    status: StatusId | None = None,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    delimiter: DelimiterQuery = "comma",
    bom: BomQuery = False,
) -> StreamingResponse:
    """Steps (in leaf order) of the procurements matching the filters, that occurred
    between from and to; JSON Lines are the canonical entry bytes, one per line."""
    filters = _filters(buyer, procedure, status, date_from, date_to)
    return _export(request, session, "steps", format, filters, delimiter, bom)


def _export(
    request: Request,
    session: Session,
    kind: Literal["procurements", "steps"],
    format: ExportFormat,
    filters: ExportFilters,
    delimiter: Delimiter,
    bom: bool,
) -> StreamingResponse:
    base, publication = _base_url(request), _publication(request)
    if format == "ocds" and not service.matches_any(session, filters, steps=kind == "steps"):
        raise NothingToPackage()
    chunks = service.export_stream(
        session,
        kind,
        format,
        filters,
        delimiter=delimiter,
        bom=bom,
        base_url=base,
        publication=publication,
    )
    return _streamed(chunks, format, kind)


FeedLimit = Annotated[int, Query(ge=1, le=1000, description="Steps per page (1-1000).")]


@router.get("/feed", response_model=FeedPage, responses=problem_responses())
def read_feed(
    session: LongReadSessionDep,
    since: CursorQuery = None,
    limit: FeedLimit = 200,
) -> FeedPage:
    """The change feed: every step in leaf order after ``since``; empty when caught up."""
    position = decode_cursor("feed", since)
    after = int(position.get("leaf", -1)) if position else -1
    rows = service.feed(session, after, limit)
    items = [
        FeedEntry(
            leaf_index=leaf,
            ocid=ocid,
            seq=seq,
            type=step_type,
            entry_hash=entry_hash,
            entry=json.loads(raw),
        )
        for leaf, ocid, seq, step_type, entry_hash, raw in rows
    ]
    last = items[-1].leaf_index if items else after
    return FeedPage(items=items, next_cursor=encode_cursor("feed", {"leaf": last}))


@router.get("/red-flags", response_model=RedFlagPage, responses=problem_responses())
def list_red_flags(
    request: Request,
    response: Response,
    session: SessionDep,
    buyer: BuyerQuery = None,
    rule: RuleId | None = None,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> RedFlagPage:
    """Red flags (rule, legal reference, evidence steps) over pages of procurements; the
    period (from, to) selects procurements opened in it."""
    period = _filters(buyer, None, None, date_from, date_to)
    position = decode_cursor("red-flags", cursor)
    after = int(position.get("after", 0)) if position else 0
    config = RedFlagConfig.from_settings(request.app.state.settings)
    flags, last = service.red_flags_page(
        session,
        config=config,
        buyer_code=buyer,
        rule=rule,
        period=period,
        after_id=after,
        limit=limit,
        as_of=local_date(datetime.now(UTC)),
    )
    next_cursor = encode_cursor("red-flags", {"after": last}) if last is not None else None
    link_next(request, response, next_cursor)
    return RedFlagPage(
        items=[
            RedFlagPublic(
                rule=flag.rule,  # type: ignore[arg-type]
                legal_reference=flag.legal_reference,
                ocid=flag.ocid,
                buyer_code=flag.buyer_code,
                evidence=[
                    EvidencePublic(ocid=e.ocid, seq=e.seq, leaf_index=e.leaf_index, type=e.type)
                    for e in flag.evidence
                ],
                explanation=flag.explanation,
                details=dict(flag.details),
            )
            for flag in flags
        ],
        next_cursor=next_cursor,
    )
