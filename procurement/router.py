"""HTTP routes of the procurement trail (thin: parse, call the service, shape)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlmodel import Session

from api.auth import OfficerOrAdminDep, utcnow
from api.db import SessionDep
from api.errors import problem_responses
from api.idempotency import IdempotencyDep, QueuedIdempotencyDep
from api.pagination import (
    CursorQuery,
    LimitQuery,
    Page,
    decode_cursor,
    encode_cursor,
    page_response,
)
from api.writer import WriteQueueDep
from procurement import service
from procurement.calendar import local_date
from procurement.exceptions import InvalidQuery
from procurement.schemas import (
    LawPublic,
    ProcedureId,
    ProceduresPublic,
    ProcurementCreate,
    ProcurementPublic,
    StatusId,
    StepPublic,
    StepRecorded,
    Timeline,
)
from procurement.steptypes import StepCreate

router = APIRouter(prefix="/v1", tags=["procurement"])

OcidPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=100,
        description="The procurement's ocid, e.g. ocds-smstps-554979-2026-1",
    ),
]
SeqPath = Annotated[int, Path(ge=1, le=2_147_483_647, description="The step's seq (1, 2, ...)")]


OnQuery = Annotated[
    date | None,
    Query(
        description="The day whose law applies (YYYY-MM-DD); default today in Prague",
        examples=["2025-04-03"],
    ),
]


def _day(on: date | None) -> date:
    day = on or local_date(utcnow())
    if not date(2016, 10, 1) <= day <= date(2100, 12, 31):
        raise InvalidQuery(
            f"on={day} lies outside the law table (1 October 2016, when zákon č. 134/2016 Sb. "
            "took effect, to 2100).",
            "on",
        )
    return day


@router.get("/procedures", response_model=ProceduresPublic, responses=problem_responses(422))
def list_procedures(on: OnQuery = None) -> ProceduresPublic:
    """Procedure types with their steps, order rules, and the statutory deadlines and
    thresholds in force on a day."""
    return service.procedures_public(_day(on))


@router.get("/law", response_model=LawPublic, responses=problem_responses(422))
def read_law(
    on: OnQuery = None,
    history: Annotated[
        bool, Query(description="Every version of every value, past and present")
    ] = False,
) -> LawPublic:
    """The statutory values (thresholds, deadlines, limits) in force on a day, each with
    its legal reference, dates, confidence and source note; or every version."""
    if history:
        if on is not None:
            raise InvalidQuery("Give either on or history=true, not both.", "history")
        return service.law_public(None)
    return service.law_public(_day(on))


@router.post(
    "/procurements",
    status_code=201,
    response_model=ProcurementPublic,
    responses=problem_responses(401, 403, 409, 422),
)
def create_procurement(
    request: Request,
    body: ProcurementCreate,
    session: SessionDep,
    caller: OfficerOrAdminDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """Open a procurement for the buyer municipality (its officer or an admin)."""
    procurement = service.create_procurement(
        session, body, caller, ocid_prefix=request.app.state.settings.ocid_prefix
    )
    public = service.procurement_public(procurement)
    return idem.respond(201, public, headers={"Location": f"/v1/procurements/{public.ocid}"})


@router.get("/procurements", response_model=Page[ProcurementPublic], responses=problem_responses())
def list_procurements(
    request: Request,
    response: Response,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    buyer_code: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    procedure: ProcedureId | None = None,
    status: StatusId | None = None,
) -> Page[ProcurementPublic]:
    """List procurements, oldest first, filtered by buyer, procedure or status."""
    position = decode_cursor("procurements", cursor)
    after = int(position["after"]) if position and "after" in position else None
    rows = service.list_procurements(
        session,
        after_id=after,
        limit=limit + 1,
        buyer_code=buyer_code,
        procedure_id=procedure,
        status=status,
    )
    next_cursor = (
        encode_cursor("procurements", {"after": rows[limit - 1].id}) if len(rows) > limit else None
    )
    page = Page[ProcurementPublic](
        items=[service.procurement_public(p) for p in rows[:limit]], next_cursor=next_cursor
    )
    return page_response(request, response, page)


@router.get(
    "/procurements/{ocid}", response_model=ProcurementPublic, responses=problem_responses(404)
)
def read_procurement(ocid: OcidPath, session: SessionDep) -> ProcurementPublic:
    """One procurement with its derived regime and status."""
    return service.procurement_public(service.get_procurement(session, ocid))


@router.post(
    "/procurements/{ocid}/steps",
    status_code=201,
    response_model=StepRecorded,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def record_step(
    ocid: OcidPath,
    step: Annotated[StepCreate, Body()],
    caller: OfficerOrAdminDep,
    idem: QueuedIdempotencyDep,
    writes: WriteQueueDep,
) -> JSONResponse:
    """Record a step (append-only); breached deadlines come back as findings."""

    # Async, and the work goes to the write queue: appends are committed in groups
    # (measured in bench/bench_ledger.py); the answer comes once the commit is done.
    def append(session: Session) -> JSONResponse:
        recorded = service.record_step(session, ocid, step, caller)
        location = f"/v1/procurements/{ocid}/steps/{recorded.seq}"
        return idem.respond(201, recorded, headers={"Location": location}, session=session)

    return await writes.run(append)


@router.get(
    "/procurements/{ocid}/steps",
    response_model=Page[StepPublic],
    responses=problem_responses(404),
)
def list_steps(
    request: Request,
    response: Response,
    ocid: OcidPath,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[StepPublic]:
    """The procurement's steps in seq order, with their data and chain hashes."""
    procurement = service.get_procurement(session, ocid)
    position = decode_cursor(f"steps:{procurement.ocid}", cursor)
    after = int(position["after"]) if position and "after" in position else 0
    steps = service.list_steps(session, procurement, after_seq=after, limit=limit + 1)
    next_cursor = (
        encode_cursor(f"steps:{procurement.ocid}", {"after": steps[limit - 1].seq})
        if len(steps) > limit
        else None
    )
    page = Page[StepPublic](items=steps[:limit], next_cursor=next_cursor)
    return page_response(request, response, page)


@router.get(
    "/procurements/{ocid}/steps/{seq}",
    response_model=StepPublic,
    responses=problem_responses(404),
)
def read_step(ocid: OcidPath, seq: SeqPath, session: SessionDep) -> StepPublic:
    """One step by its seq."""
    return service.get_step(session, service.get_procurement(session, ocid), seq)


@router.get(
    "/procurements/{ocid}/timeline", response_model=Timeline, responses=problem_responses(404)
)
def read_timeline(ocid: OcidPath, session: SessionDep) -> Timeline:
    """Derived status, steps, findings and the next statutory deadline still open."""
    return service.timeline(session, service.get_procurement(session, ocid))
