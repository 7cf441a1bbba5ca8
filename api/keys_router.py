"""``/v1/me`` and key management (admin)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.auth import (
    AdminDep,
    ApiKey,
    CallerDep,
    KeyScopeError,
    Role,
    issue_key,
    list_keys,
    revoke_key,
    utcnow,
)
from api.db import SessionDep
from api.errors import NotFound, Unprocessable, problem_responses
from api.idempotency import IdempotencyDep
from api.pagination import (
    CursorQuery,
    LimitQuery,
    Page,
    decode_cursor,
    encode_cursor,
    page_response,
)
from api.text import MunicipalityCode, OneLine

router = APIRouter(prefix="/v1", tags=["keys"])

# An expiry further ahead is almost surely a typo (2206 for 2026); no expiry is explicit.
MAX_KEY_LIFETIME = timedelta(days=3653)
EXPIRY_RULE = "a time with its zone, e.g. 2027-12-31T00:00:00Z, within the next 10 years"


def expiry_problem(expires_at: datetime) -> tuple[str, str] | None:
    """Why a key cannot expire then (title, detail), or None; the CLI applies it too."""
    if expires_at <= utcnow():
        return "The key would already be expired.", "must lie in the future"
    if expires_at > utcnow() + MAX_KEY_LIFETIME:
        return (
            "The expiry lies too far ahead.",
            "must lie within 10 years; leave it out for a key without expiry",
        )
    return None


class Me(BaseModel):
    key_id: str
    role: Role
    municipality_code: str | None
    vendor_id: int | None


class KeyPublic(BaseModel):
    id: str
    role: Role
    label: str
    municipality_code: str | None
    vendor_id: int | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyPublic:
        return cls(
            id=key.id,
            role=Role(key.role),
            label=key.label,
            municipality_code=key.municipality_code,
            vendor_id=key.vendor_id,
            created_at=key.created_at,
            expires_at=key.expires_at,
            revoked_at=key.revoked_at,
            last_used_at=key.last_used_at,
        )


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    label: Annotated[str, OneLine] = Field(min_length=1, max_length=200)
    municipality_code: MunicipalityCode | None = None
    vendor_id: int | None = Field(default=None, ge=1)
    expires_at: datetime | None = Field(
        default=None, description=f"When the key stops working: {EXPIRY_RULE}; none if left out."
    )

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2027-01-01T00:00:00Z")
        return value


class KeyIssued(KeyPublic):
    key: str = Field(description="The secret key; shown only in this response.")


@router.get("/me", responses=problem_responses(401))
def read_me(caller: CallerDep) -> Me:
    """Who the sent API key belongs to."""
    return Me(
        key_id=caller.key_id,
        role=caller.role,
        municipality_code=caller.municipality_code,
        vendor_id=caller.vendor_id,
    )


@router.post(
    "/keys",
    status_code=201,
    response_model=KeyIssued,
    responses=problem_responses(401, 403, 409, 422),
)
def create_key(
    body: KeyCreate, session: SessionDep, caller: AdminDep, idem: IdempotencyDep
) -> JSONResponse:
    """Create an API key; its secret is shown once, in this response."""
    problem = expiry_problem(body.expires_at) if body.expires_at is not None else None
    if problem is not None:
        raise Unprocessable(problem[0], errors=[{"pointer": "/expires_at", "detail": problem[1]}])
    try:
        issued = issue_key(
            session,
            role=body.role,
            label=body.label,
            municipality_code=body.municipality_code,
            vendor_id=body.vendor_id,
            expires_at=body.expires_at,
            created_by_key_id=caller.key_id,
        )
    except KeyScopeError as exc:
        raise Unprocessable(
            f"The key's scope does not fit its role: {exc}.",
            errors=[{"pointer": f"/{exc.field}", "detail": str(exc)}],
        ) from None
    result = KeyIssued(**KeyPublic.of(issued.key).model_dump(), key=issued.secret)
    return idem.respond(201, result)


@router.get("/keys", responses=problem_responses(400, 401, 403))
def list_api_keys(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: AdminDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[KeyPublic]:
    """List API keys (never their secrets)."""
    position = decode_cursor("keys", cursor)
    after = str(position["after"]) if position else None
    keys = list_keys(session, after, limit + 1)
    next_cursor = (
        encode_cursor("keys", {"after": keys[limit - 1].id}) if len(keys) > limit else None
    )
    page = Page[KeyPublic](items=[KeyPublic.of(k) for k in keys[:limit]], next_cursor=next_cursor)
    return page_response(request, response, page)


@router.delete("/keys/{key_id}", status_code=204, responses=problem_responses(401, 403, 404))
def revoke_api_key(
    key_id: Annotated[str, Path(max_length=16)], session: SessionDep, caller: AdminDep
) -> Response:
    """Revoke a key; it stops working at once."""
    if revoke_key(session, key_id) is None:
        raise NotFound(f"There is no API key with id '{key_id}'.")
    return Response(status_code=204)
