"""HTTP routes of the contract-register mirror: public reads (the register is public)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from api.db import SessionDep
from api.errors import BadRequest, Unprocessable, problem_responses
from api.pagination import (
    CursorQuery,
    LimitQuery,
    Page,
    decode_cursor,
    encode_cursor,
    page_response,
)
from procurement.register import service
from procurement.register.schemas import RegisterRecordPublic

router = APIRouter(prefix="/v1", tags=["contract register"])

IcoQuery = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9]{8}$",
        description="IČO (8 digits) of any party: the publisher or a counterparty.",
        examples=["00064581"],
    ),
]
BuyerQuery = Annotated[
    str,
    Query(pattern=r"^[0-9]{6}$", description="The town: its municipality code (kód obce)."),
]
FromQuery = Annotated[
    date | None,
    Query(alias="from", description="Signed on or after this day (datumUzavreni)."),
]
ToQuery = Annotated[
    date | None,
    Query(alias="to", description="Signed on or before this day (datumUzavreni)."),
]
AllVersionsQuery = Annotated[
    bool,
    Query(description="Also superseded versions (by default only each contract's current one)."),
]


def _check_period(signed_from: date | None, signed_to: date | None) -> None:
    if signed_from and signed_to and signed_from > signed_to:
        raise Unprocessable(
            "'from' lies after 'to'.",
            errors=[{"pointer": "/from", "in": "query", "detail": "after 'to'"}],
        )


def _position(list_name: str, cursor: str | None) -> tuple[int, int] | None:
    position = decode_cursor(list_name, cursor)
    if not position:
        return None
    after = position.get("after")
    if not (isinstance(after, list) and len(after) == 2 and all(isinstance(n, int) for n in after)):
        raise BadRequest("The cursor belongs to another list; start again without it.")
    return after[0], after[1]


def _page(
    request: Request,
    response: Response,
    list_name: str,
    rows: list[Any],
    last: tuple[int, int] | None,
) -> Page[RegisterRecordPublic]:
    page = Page[RegisterRecordPublic](
        items=[RegisterRecordPublic.of(row) for row in rows],
        next_cursor=encode_cursor(list_name, {"after": list(last)}) if last else None,
    )
    page_response(request, response, page)
    return page


@router.get(
    "/contract-register",
    response_model=Page[RegisterRecordPublic],
    responses=problem_responses(400, 422),
)
def list_register_records(
    request: Request,
    response: Response,
    session: SessionDep,
    ico: IcoQuery = None,
    signed_from: FromQuery = None,
    signed_to: ToQuery = None,
    all_versions: AllVersionsQuery = False,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[RegisterRecordPublic]:
    """Records of the contract register mirror, by a party's IČO and the signature day."""
    _check_period(signed_from, signed_to)
    rows, last = service.list_records(
        session,
        ico=ico,
        signed_from=signed_from,
        signed_to=signed_to,
        all_versions=all_versions,
        after=_position("contract-register", cursor),
        limit=limit,
    )
    return _page(request, response, "contract-register", rows, last)


@router.get(
    "/contract-register/unmatched",
    response_model=Page[RegisterRecordPublic],
    responses=problem_responses(400, 404, 422),
)
def list_unmatched_register_records(
    request: Request,
    response: Response,
    session: SessionDep,
    buyer: BuyerQuery,
    signed_from: FromQuery = None,
    signed_to: ToQuery = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[RegisterRecordPublic]:
    """The town's register contracts that no trail of the town matches: a list for
    auditors, not a verdict."""
    _check_period(signed_from, signed_to)
    rows, last = service.unmatched_records(
        session,
        buyer_code=buyer,
        signed_from=signed_from,
        signed_to=signed_to,
        after=_position("contract-register-unmatched", cursor),
        limit=limit,
    )
    return _page(request, response, "contract-register-unmatched", rows, last)
