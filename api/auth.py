"""API keys and roles: who is calling, and may they do this."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, cast

from fastapi import Depends, Request, Response, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, update
from sqlalchemy import column as sa_column
from sqlalchemy import select as sa_select
from sqlalchemy import table as sa_table
from sqlalchemy.exc import OperationalError
from sqlmodel import Field, Session, SQLModel, select
from starlette.types import ASGIApp, Receive, Scope, Send

from api.db import session_scope
from api.errors import AppError, Forbidden, ServiceUnavailable, Unauthorized, problem_response
from api.ratelimit import RateLimits, TooManyRequests, client_address

KEY_PREFIX = "ssk"
LAST_USED_RESOLUTION = timedelta(minutes=1)


class Role(StrEnum):
    admin = "admin"
    officer = "officer"
    auditor = "auditor"
    vendor = "vendor"


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ApiKey(SQLModel, table=True):
    """An API key; only a SHA-256 of its 256-bit secret is stored."""

    __tablename__ = "api_keys"

    id: str = Field(primary_key=True, max_length=16)
    secret_hash: str = Field(max_length=64)
    role: str = Field(max_length=16)
    label: str = Field(max_length=200)
    municipality_code: str | None = Field(default=None, max_length=6)
    vendor_id: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    created_by_key_id: str | None = Field(default=None, max_length=16)


_KEYS = ApiKey.__table__  # type: ignore[attr-defined]
# Built once: a Core statement on the request's connection, no ORM instance per request.
_SELECT_KEY = sa_select(
    _KEYS.c.id,
    _KEYS.c.secret_hash,
    _KEYS.c.role,
    _KEYS.c.municipality_code,
    _KEYS.c.vendor_id,
    _KEYS.c.revoked_at,
    _KEYS.c.expires_at,
    _KEYS.c.last_used_at,
).where(_KEYS.c.id == bindparam("key_id"))


@dataclass(frozen=True)
class Caller:
    """The authenticated key behind a request."""

    key_id: str
    role: Role
    municipality_code: str | None = None
    vendor_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    def acts_for_municipality(self, code: str) -> bool:
        return self.is_admin or (self.role is Role.officer and self.municipality_code == code)

    def acts_for_vendor(self, vendor_id: int) -> bool:
        return self.is_admin or (self.role is Role.vendor and self.vendor_id == vendor_id)

    def sees_private_data_of(self, municipality_code: str) -> bool:
        """Private data of a municipality (a pilot's non-public contact): admins and auditors
        see everyone's, an officer only its own municipality's."""
        return self.role in (Role.admin, Role.auditor) or (
            self.role is Role.officer and self.municipality_code == municipality_code
        )


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str  # the full key string, shown once


def _hash_secret(secret: str) -> str:
    # The secret has 256 random bits, so a plain SHA-256 is as strong as a slow KDF here.
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyScopeError(ValueError):
    """A role and a scope that do not go together, or a scope that does not exist;
    ``field`` names the scope field at fault (``municipality_code`` or ``vendor_id``)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


# The catalogue's tables as far as a key's scope needs them (api does not import domains).
_MUNICIPALITIES = sa_table("municipalities", sa_column("code"))
_VENDORS = sa_table("vendors", sa_column("id"))


def _check_scope(session: Session, municipality_code: str | None, vendor_id: int | None) -> None:
    if municipality_code is not None:
        query = sa_select(_MUNICIPALITIES.c.code).where(_MUNICIPALITIES.c.code == municipality_code)
        if session.execute(query).first() is None:
            raise KeyScopeError(
                f"there is no municipality with code {municipality_code}", "municipality_code"
            )
    if vendor_id is not None:
        query = sa_select(_VENDORS.c.id).where(_VENDORS.c.id == vendor_id)
        if session.execute(query).first() is None:
            raise KeyScopeError(f"there is no vendor {vendor_id}", "vendor_id")


def issue_key(
    session: Session,
    *,
    role: Role,
    label: str,
    municipality_code: str | None = None,
    vendor_id: int | None = None,
    expires_at: datetime | None = None,
    created_by_key_id: str | None = None,
) -> IssuedKey:
    """Create a key; the returned secret is never stored and cannot be shown again."""
    if role is Role.officer and not municipality_code:
        raise KeyScopeError(
            "an officer key needs the municipality it acts for", "municipality_code"
        )
    if role is Role.vendor and vendor_id is None:
        raise KeyScopeError("a vendor key needs the vendor it acts for", "vendor_id")
    if role not in (Role.officer,) and municipality_code:
        raise KeyScopeError("only an officer key is scoped to a municipality", "municipality_code")
    if role not in (Role.vendor,) and vendor_id is not None:
        raise KeyScopeError("only a vendor key is scoped to a vendor", "vendor_id")
    _check_scope(session, municipality_code, vendor_id)
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    full = f"{KEY_PREFIX}_{key_id}_{secret}"
    key = ApiKey(
        id=key_id,
        secret_hash=_hash_secret(full),
        role=role.value,
        label=label,
        municipality_code=municipality_code,
        vendor_id=vendor_id,
        expires_at=expires_at,
        created_by_key_id=created_by_key_id,
    )
    session.add(key)
    session.flush()
    return IssuedKey(key=key, secret=full)


def parse_key_id(token: str) -> str | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12:
        return None
    return parts[1]


@dataclass(frozen=True)
class _KeyRow:
    """The columns of ``api_keys`` a request needs (read without building an ApiKey)."""

    id: str
    secret_hash: str
    role: str
    municipality_code: str | None
    vendor_id: int | None
    revoked_at: datetime | None
    expires_at: datetime | None
    last_used_at: datetime | None


def authenticate(session: Session, token: str, now: datetime | None = None) -> _KeyRow:
    """The live key for ``token``, or Unauthorized saying why not."""
    now = now or utcnow()
    key_id = parse_key_id(token)
    row = session.connection().execute(_SELECT_KEY, {"key_id": key_id}).first() if key_id else None
    key = _KeyRow(*row) if row is not None else None
    if key is None or not hmac.compare_digest(key.secret_hash, _hash_secret(token)):
        raise Unauthorized("The API key is not valid.")
    if key.revoked_at is not None:
        raise Unauthorized("The API key has been revoked.")
    if key.expires_at is not None and as_utc(key.expires_at) <= now:
        raise Unauthorized("The API key has expired.")
    return key


class VerifiedKeys:
    """Keys checked against the database recently, by the hash of their secret.

    A request whose key was checked less than ``ttl`` seconds ago needs no database read
    and no thread hop (about a fifth of an append's server time, bench/bench_ledger.py).
    An entry never outlives the key's own expiry. ``forget_all`` runs when a key is
    revoked, so the revoking process refuses the key at once; other processes refuse it
    within ``ttl``.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._entries: dict[str, tuple[float, Caller]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> Caller | None:
        entry = self._entries.get(digest)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def put(self, digest: str, caller: Caller, ttl: float, expires_at: datetime | None) -> None:
        if ttl <= 0:
            return
        if expires_at is not None:
            ttl = min(ttl, (as_utc(expires_at) - utcnow()).total_seconds())
        with self._lock:
            if len(self._entries) >= self._capacity:
                self._entries.clear()
            self._entries[digest] = (time.monotonic() + ttl, caller)

    def forget_all(self) -> None:
        with self._lock:
            self._entries.clear()


verified_keys = VerifiedKeys()


def revoke_key(session: Session, key_id: str, now: datetime | None = None) -> ApiKey | None:
    verified_keys.forget_all()
    key = session.get(ApiKey, key_id)
    if key is None:
        return None
    if key.revoked_at is None:
        key.revoked_at = now or utcnow()
        session.add(key)
        session.flush()
    return key


def list_keys(session: Session, after_id: str | None, limit: int) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.id).limit(limit)
    if after_id is not None:
        query = query.where(ApiKey.id > after_id)
    return list(session.exec(query))


bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `smartsteps keys create`, sent as `Authorization: Bearer <key>`.",
)


CALLER_SCOPE_KEY = "smartsteps.caller"


async def identify(request: Request) -> Caller | None:
    """The verified caller of ``request``, or None when it sends no Authorization header.

    A header that is sent must carry a live key: anything else (another scheme, a token this
    service did not issue, a revoked or expired key) is Unauthorized.
    """
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Send the key as 'Authorization: Bearer <key>'.")
    digest = _hash_secret(token)
    caller = verified_keys.get(digest)
    if caller is None:
        caller = await run_in_threadpool(_check_key, request, token, digest)
    return caller


class CallerMiddleware:
    """Who is calling each ``/v1`` request, and one rate-limit budget charged for it.

    A request either carries a verified key (charged to that key's budget) or no
    Authorization header (charged to its client address's anonymous budget). A key that is
    not valid is a 401 on every route, public reads too, and is charged to the sender's
    address: a key's own budget is charged only once its secret has been checked, so tokens
    that merely name a key's public id cannot spend that key's budget.
    """

    def __init__(self, app: ASGIApp, limits: RateLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        address = f"ip:{client_address(scope)}"
        try:
            caller = await identify(Request(scope))
        except OperationalError:
            # Outside the app's error handlers: the same answer as theirs for a busy database.
            unavailable = ServiceUnavailable(
                "The database is busy or unreachable; retry shortly.",
                headers={"Retry-After": "1"},
            )
            await _problem(unavailable)(scope, receive, send)
            return
        except Unauthorized as exc:
            refusal: AppError = exc
            try:
                self.limits.check(address, scope["path"], anonymous=True)
            except TooManyRequests as over:
                refusal = over
            await _problem(refusal)(scope, receive, send)
            return
        who = address if caller is None else f"key:{caller.key_id}"
        try:
            self.limits.check(who, scope["path"], anonymous=caller is None)
        except TooManyRequests as exc:
            await _problem(exc)(scope, receive, send)
            return
        scope[CALLER_SCOPE_KEY] = caller
        await self.app(scope, receive, send)


def _problem(exc: AppError) -> Response:
    return problem_response(exc.status, exc.title, exc.detail, headers=exc.headers, **exc.extra)


async def optional_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],  # noqa: ARG001
) -> Caller | None:
    """The caller, or None when anonymous; ``credentials`` only puts the bearer scheme into
    the OpenAPI document."""
    return await request_caller(request)


async def request_caller(request: Request) -> Caller | None:
    """The caller ``CallerMiddleware`` identified (and charged) for this request."""
    if CALLER_SCOPE_KEY in request.scope:
        return cast(Caller | None, request.scope[CALLER_SCOPE_KEY])
    return await identify(request)


def _check_key(request: Request, token: str, digest: str) -> Caller:
    database = request.app.state.database
    with database.session(write=False) as session:
        key = authenticate(session, token)
        caller = Caller(
            key_id=key.id,
            role=Role(key.role),
            municipality_code=key.municipality_code,
            vendor_id=key.vendor_id,
        )
        stale = key.last_used_at is None or utcnow() - as_utc(key.last_used_at) > (
            LAST_USED_RESOLUTION
        )
    if stale:
        # Recorded in its own short transaction, at most once a minute per key, so reads
        # do not become writes.
        with session_scope(database, write=True) as session:
            session.execute(
                update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=utcnow())  # type: ignore[arg-type]
            )
    ttl = request.app.state.settings.auth_cache_seconds
    verified_keys.put(digest, caller, ttl, key.expires_at)
    return caller


OptionalCallerDep = Annotated[Caller | None, Depends(optional_caller)]


def role_guard(*roles: Role) -> Callable[[Caller | None], Coroutine[Any, Any, Caller]]:
    """A dependency: 401 without a valid key, 403 for a role not in ``roles``.

    Use it as ``Annotated[Caller, Depends(role_guard(Role.admin))]``; the route-guard test
    finds it by its ``required_roles`` attribute.
    """
    allowed = frozenset(roles)
    names = " or ".join(sorted(r.value for r in allowed))

    async def dependency(caller: OptionalCallerDep) -> Caller:  # no I/O: no thread hop
        if caller is None:
            raise Unauthorized("This operation needs an API key (Authorization: Bearer <key>).")
        if caller.role not in allowed:
            raise Forbidden(
                f"A key with role '{caller.role.value}' may not do this; it needs {names}."
            )
        return caller

    dependency.required_roles = allowed  # type: ignore[attr-defined]
    return dependency


def require_roles(*roles: Role) -> Any:
    """``Annotated[Caller, Depends(role_guard(*roles))]`` built at run time."""
    return Annotated[Caller, Depends(role_guard(*roles))]


CallerDep = Annotated[Caller, Depends(role_guard(*Role))]
AdminDep = Annotated[Caller, Depends(role_guard(Role.admin))]
OfficerOrAdminDep = Annotated[Caller, Depends(role_guard(Role.officer, Role.admin))]
VendorOrAdminDep = Annotated[Caller, Depends(role_guard(Role.vendor, Role.admin))]
AuditorOrAdminDep = Annotated[Caller, Depends(role_guard(Role.auditor, Role.admin))]
WriterDep = Annotated[Caller, Depends(role_guard(Role.admin, Role.officer, Role.vendor))]


def ensure(condition: bool, detail: str) -> None:
    """Raise Forbidden with ``detail`` unless ``condition`` holds (scope checks)."""
    if not condition:
        raise Forbidden(detail)
