"""HTTP routes of imports (thin: check the media type, call the service, return the report)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from api.auth import OfficerOrAdminDep
from api.db import SessionDep
from api.errors import problem_responses
from procurement.imports import service
from procurement.imports.exceptions import UnsupportedMediaType
from procurement.imports.schemas import BuyerProfileImportReport
from procurement.schemas import SubjectId

router = APIRouter(prefix="/v1/imports", tags=["imports"])

XML_MEDIA_TYPES = ("application/xml", "text/xml")
_XML_BODY = {"schema": {"type": "string", "format": "binary"}}


@router.post(
    "/buyer-profile",
    response_model=BuyerProfileImportReport,
    responses=problem_responses(401, 403, 413, 415, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The buyer profile export (XML data VZ) as the profile serves it",
            "content": dict.fromkeys(XML_MEDIA_TYPES, _XML_BODY),
        }
    },
)
async def import_buyer_profile(
    request: Request,
    session: SessionDep,
    caller: OfficerOrAdminDep,
    buyer: Annotated[
        str, Query(pattern=r"^[0-9]{6}$", description="kód obce of the buyer the export is of")
    ],
    dry_run: Annotated[
        bool, Query(description="Return the report of what would be written; write nothing")
    ] = False,
    subject: Annotated[
        SubjectId | None,
        Query(
            description="The subject of parts whose export states none (the 2016 structure "
            "never does); without it such parts are skipped"
        ),
    ] = None,
) -> BuyerProfileImportReport:
    """Import a buyer profile export (profil zadavatele XML) into the buyer's trail."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in XML_MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"Send the export as {' or '.join(XML_MEDIA_TYPES)} (got {media_type or 'none'})."
        )
    data = await request.body()
    prefix: str = request.app.state.settings.ocid_prefix

    def run() -> BuyerProfileImportReport:
        opened = service.open_import(
            session,
            data,
            caller,
            buyer_code=buyer,
            ocid_prefix=prefix,
            subject_when_unstated=subject,
            dry_run=dry_run,
        )
        return opened.import_all(session)

    # The import reads and writes the database: off the event loop, in the request's
    # transaction (committed when the route returns, so the whole file or nothing).
    return await run_in_threadpool(run)
