"""One error hierarchy, rendered as RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

import logging
import math
import sqlite3
import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.routes import allowed_methods  # noqa: E402

log = logging.getLogger("smartsteps")

PROBLEM_MEDIA_TYPE = "application/problem+json"
# On every response (api.middleware.ResponseHeadersMiddleware); the 500 handler runs outside
# the middleware and sets them itself.
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff"}


class FieldError(BaseModel):
    """One thing wrong with the request; ``pointer`` is a JSON pointer inside ``in``."""

    model_config = ConfigDict(populate_by_name=True)

    pointer: str = Field(description="JSON pointer to the offending value, e.g. /kpis/0/unit")
    location: str = Field(
        alias="in", description="where the pointer points: body, query, path or header"
    )
    detail: str


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None


class AppError(Exception):
    """Base of every error the services raise; the handler renders it as problem+json."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"

    def __init__(
        self,
        detail: str,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.instance_title = title or self.title
        self.headers = headers or {}
        self.extra = extra

    def to_problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": self.instance_title,
            "status": self.status,
            "detail": self.detail,
        }
        body.update(self.extra)
        return body


class BadRequest(AppError):
    status = 400
    title = "Bad Request"


class Unauthorized(AppError):
    status = 401
    title = "Unauthorized"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **extra)


class Forbidden(AppError):
    status = 403
    title = "Forbidden"


class NotFound(AppError):
    status = 404
    title = "Not Found"


class Conflict(AppError):
    status = 409
    title = "Conflict"


class Gone(AppError):
    status = 410
    title = "Gone"


class PreconditionFailed(AppError):
    status = 412
    title = "Precondition Failed"


class PayloadTooLarge(AppError):
    status = 413
    title = "Content Too Large"


class Unprocessable(AppError):
    status = 422
    title = "Unprocessable Content"

    def __init__(
        self, detail: str, *, errors: Sequence[dict[str, str]] | None = None, **extra: Any
    ) -> None:
        if errors is not None:
            extra["errors"] = [{"in": "body", **e} for e in errors]
        super().__init__(detail, **extra)


class PreconditionRequired(AppError):
    status = 428
    title = "Precondition Required"


class ServiceUnavailable(AppError):
    status = 503
    title = "Service Unavailable"


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


_STATUS_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A ``responses=`` mapping documenting these statuses as problem+json."""
    return {
        status: {
            "model": Problem,
            "description": _STATUS_TITLES.get(status, "Error"),
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
        for status in statuses
    }


def _pointer(loc: Sequence[int | str]) -> tuple[str, str]:
    """Split a pydantic ``loc`` into (where, JSON pointer)."""
    where = str(loc[0]) if loc else "body"
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in loc[1:]]
    return where, "/" + "/".join(parts) if parts else ""


def _validation_errors(errors: Sequence[Any], body: Any = None) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    # A body that is a discriminated union on "type" gets the tag in its loc
    # (body, <type>, field); the tag is no member of the body, so the pointer skips it.
    tag = body.get("type") if isinstance(body, dict) else None
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if tag is not None and len(loc) > 1 and loc[0] == "body" and loc[1] == tag:
            loc = loc[:1] + loc[2:]
        where, pointer = _pointer(loc)
        kind = error.get("type", "")
        # Messages from pydantic name the rule, never the value; "extra_forbidden" and
        # "missing" get wording that says what to do.
        if kind == "extra_forbidden":
            detail = "unknown field; it is not part of this resource"
        elif kind == "missing":
            detail = "this field is required"
        else:
            detail = str(error.get("msg", "invalid value"))
        out.append({"pointer": pointer, "in": where, "detail": detail})
    return out


async def _app_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return JSONResponse(
        exc.to_problem(),
        status_code=exc.status,
        headers=exc.headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


async def _request_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem_response(400, "Bad Request", "The request body is not valid JSON.")
    return problem_response(
        422,
        "Unprocessable Content",
        "The request has invalid or missing values; see errors.",
        errors=_validation_errors(errors, exc.body),
    )


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    title = _STATUS_TITLES.get(status, "Error")
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    if status == 404 and detail in (None, "Not Found"):
        detail = "There is no resource at this path."
    headers = dict(exc.headers or {})
    if status == 405:
        detail = "This method is not allowed here; see the Allow header."
        headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
    return problem_response(status, title, detail, headers=headers)


async def _integrity_error(_request: Request, exc: Exception) -> JSONResponse:
    log.warning("integrity error: %s", exc)
    return problem_response(
        409,
        "Conflict",
        "The change conflicts with data stored meanwhile (a duplicate or a missing reference); "
        "nothing was written.",
    )


async def _data_error(_request: Request, exc: Exception) -> JSONResponse:
    log.warning("database refused a value: %s", exc)
    return problem_response(
        422,
        "Unprocessable Content",
        "The database refused a value (a NUL character, a number out of range, ...); "
        "nothing was written.",
    )


def stopped_by_time_limit(error: OperationalError) -> bool:
    """Was the statement stopped by the query time limit (api/db.py), or cancelled?"""
    original = error.orig
    if isinstance(original, sqlite3.OperationalError):
        return str(original) == "interrupted"  # the progress handler's interrupt
    return getattr(original, "sqlstate", None) == "57014"  # PostgreSQL query_canceled


async def _operational_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OperationalError)
    if stopped_by_time_limit(exc):
        limit = float(request.app.state.settings.query_time_limit_seconds)
        log.warning("query stopped by the time limit: %s %s", request.method, request.url.path)
        return problem_response(
            503,
            "Service Unavailable",
            f"The query ran longer than the time limit for queries ({limit:g} s) and was "
            "stopped. Narrow it (filters, a smaller limit) or retry later.",
            headers={"Retry-After": str(max(1, math.ceil(limit)))},
            time_limit_seconds=limit,
        )
    log.error("database unavailable: %s", exc)
    return problem_response(
        503,
        "Service Unavailable",
        "The database is busy or unreachable; nothing was written. Retry shortly.",
        headers={"Retry-After": "1"},
    )


async def _pool_timeout(_request: Request, exc: Exception) -> JSONResponse:
    log.warning("no free database connection: %s", exc)
    return problem_response(
        503,
        "Service Unavailable",
        "Every database connection is busy; nothing was written. Retry shortly.",
        headers={"Retry-After": "1"},
    )


async def _unhandled(_request: Request, exc: Exception) -> JSONResponse:
    incident = uuid.uuid4().hex[:12]
    log.error("unhandled error %s", incident, exc_info=exc)
    return problem_response(
        500,
        "Internal Server Error",
        f"An unexpected error occurred; nothing was written. Incident {incident} is logged.",
        headers=SECURITY_HEADERS,
        incident=incident,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(OperationalError, _operational_error)
    app.add_exception_handler(PoolTimeout, _pool_timeout)
    app.add_exception_handler(Exception, _unhandled)
