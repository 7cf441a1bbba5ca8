"""The application factory: settings in, a FastAPI app out."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

import api.metadata  # noqa: F401  (every table, before anything touches the database)
import catalogue.router
from api import health, keys_router
from api.auth import CallerMiddleware
from api.db import Database, LongReads, QuerySlots, make_database
from api.errors import PROBLEM_MEDIA_TYPE, install_error_handlers
from api.idempotency import IdempotentReplay
from api.middleware import BodyLimitMiddleware, ResponseHeadersMiddleware
from api.pagination import load_secret, set_cursor_secret
from api.ratelimit import RateLimits
from api.routes import api_routes, is_guarded
from api.settings import Settings, get_settings
from api.writer import WriteQueue
from procurement import router as procurement_router
from procurement.audit import router as audit_router
from procurement.imports import router as imports_router
from procurement.ledger import export as ledger_export
from procurement.ledger import router as ledger_router
from procurement.ledger import service as ledger_service
from procurement.register import router as register_router
from web import router as web_router

API_TITLE = "smartsteps"
API_VERSION = "1.0.0"
API_DESCRIPTION = """\
A catalogue of smart-city pilots and solutions from Czech municipalities, and a
tamper-evident trail of their public procurements.

* Reads of the public catalogue and of procurement trails need no key.
* Writes need `Authorization: Bearer <api key>` (keys come from `smartsteps keys create`).
  A key that is sent must be valid on every route (401 otherwise); each request is charged
  to its key's rate-limit budget, or without a key to its client address's.
* Bodies are JSON in UTF-8 (415 otherwise; a buyer profile import takes its XML file). A
  cursor belongs to the list that issued it.
* Errors are `application/problem+json` (RFC 9457); validation errors list
  `errors[{pointer, in, detail}]`.
* Lists take `limit` and an opaque `cursor` and return `{items, next_cursor}` plus a
  `Link: <...>; rel="next"` header.
* `PATCH` needs `If-Match` with the `ETag` of your last read (412 on mismatch, 428 without).
* Creating `POST`s accept `Idempotency-Key`: a retry with the same key and body returns the
  stored response; keys are kept for 24 hours (configurable).
"""


def route_unique_id(route: APIRoute) -> str:
    """Operation ids are the route functions' names: ``list_pilots``, ``record_step``."""
    return route.name


def _routers() -> list[Any]:
    routers: list[Any] = [health.router, keys_router.router]
    routers.append(catalogue.router.router)
    routers.append(procurement_router.router)
    routers.append(audit_router.router)
    routers.append(register_router.router)
    routers.append(imports_router.router)
    routers += [ledger_router.router, ledger_router.exports_router]
    routers.append(web_router.router)  # the Czech pages (not in the OpenAPI document)
    return routers


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    app.state.write_queue.stop()  # the queued writes are committed and answered first
    if app.state.owns_database:
        app.state.database.dispose()


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        lifespan=_lifespan,
        title=API_TITLE,
        version=API_VERSION,
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=route_unique_id,
        # Starlette's slash redirect would build its Location from the request's Host.
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.owns_database = database is None
    app.state.database = database or make_database(settings)
    app.state.query_slots = QuerySlots(settings.query_slots, settings.pool_timeout_seconds)
    app.state.long_reads = LongReads(settings.long_read_slots)
    # In "every N seconds" mode a quiet tail is signed N seconds after the last append.
    app.state.write_queue = WriteQueue(
        app.state.database,
        idle_seconds=settings.checkpoint_interval_seconds,
        on_idle=ledger_export.sign_tail,
    )
    set_cursor_secret(load_secret(settings.effective_secret_key_path))
    ledger_service.configure_from(settings)  # creates the signing key on first start

    install_error_handlers(app)

    async def _replay(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, IdempotentReplay)
        return exc.response()

    app.add_exception_handler(IdempotentReplay, _replay)
    app.state.rate_limits = RateLimits.of(
        settings.rate_limit_per_key, settings.rate_limit_anonymous, settings.rate_limit_exports
    )
    # The last added runs first: the caller is identified and charged before a body is read.
    app.add_middleware(BodyLimitMiddleware, limit=settings.body_limit_bytes)
    app.add_middleware(CallerMiddleware, limits=app.state.rate_limits)
    if settings.trusted_proxy_list:
        # Only then X-Forwarded-For names the client (and so its anonymous budget).
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
    app.add_middleware(ResponseHeadersMiddleware)

    for router in _routers():
        app.include_router(router)
    _install_docs(app)
    app.openapi = lambda: openapi_schema(app)  # type: ignore[method-assign]
    return app


def _install_docs(app: FastAPI) -> None:
    static = Path(fastapi_offline.__file__).resolve().parent / "static"
    app.mount("/docs-static", StaticFiles(directory=static), name="docs-static")

    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title=f"{API_TITLE} API",
        swagger_js_url="/docs-static/swagger-ui-bundle.js",
        swagger_css_url="/docs-static/swagger-ui.css",
        swagger_favicon_url="/docs-static/favicon.png",
    )
    html = bytes(page.body)
    policy = docs_policy(html)

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": policy})


def docs_policy(html: bytes) -> str:
    """The Content-Security-Policy of the docs page: its scripts, styles, images and API
    calls come from this service only; the page's own inline script is allowed by its hash."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in re.findall(rb"<script>(.*?)</script>", html, re.DOTALL)
    )
    return (
        "default-src 'none'; "
        f"script-src 'self' {hashes}; "
        # Swagger UI sets style attributes on the elements it builds.
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; "
        "connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def openapi_schema(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with every error response described as problem+json."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    guarded = {
        (route.path, method.lower())
        for route in api_routes(app)
        if is_guarded(route)
        for method in route.methods
    }
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            extra = ["400", "429", "500", "503"]
            if "requestBody" in operation:
                extra += ["413", "415", "422"]
            if operation.get("parameters"):
                extra.append("422")
            if (path, method) in guarded:
                extra += ["401", "403"]
            elif path.startswith("/v1/"):
                extra.append("401")  # a key that is sent must be valid, on every route
            for status in extra:
                responses.setdefault(status, {"description": _describe(status)})
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": problem_ref}}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    components.setdefault("Problem", _problem_schema())
    components.setdefault("FieldError", _field_error_schema())
    app.openapi_schema = schema
    return schema


def _describe(status: str) -> str:
    return {
        "400": "Bad request (malformed JSON, a cursor not issued by this service, ...)",
        "401": "An API key that is unknown, revoked or expired, or one this route needs "
        "and did not get",
        "403": "The key's role or scope does not allow this",
        "413": "The body is larger than the configured limit",
        "415": "The body is not JSON in UTF-8",
        "429": "Too many requests; see Retry-After",
        "422": "Invalid values; see errors",
        "500": "Unexpected error; nothing was written",
        "503": "Busy (no free connection, all long-read slots taken) or the query ran past "
        "its time limit; see Retry-After",
    }.get(status, "Error")


def _problem_schema() -> dict[str, Any]:
    return {
        "title": "Problem",
        "type": "object",
        "description": "RFC 9457 problem details.",
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
        },
        "required": ["type", "title", "status"],
        "additionalProperties": True,
    }


def _field_error_schema() -> dict[str, Any]:
    return {
        "title": "FieldError",
        "type": "object",
        "properties": {
            "pointer": {"type": "string", "description": "JSON pointer inside 'in'"},
            "in": {"type": "string", "enum": ["body", "query", "path", "header", "cookie"]},
            "detail": {"type": "string"},
        },
        "required": ["pointer", "in", "detail"],
    }
