"""``Idempotency-Key`` on creating POSTs: a retried request never acts twice.

A key is claimed in its own short transaction before the route runs (so a concurrent
request with the same key sees it at once and gets 409); the response is stored in the
request's own transaction, so it is kept exactly when the write it describes is kept.
Keys are kept for ``idempotency_retention_hours`` (24 h by default), per caller.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Annotated, Any

from anyio import CancelScope, CapacityLimiter, to_thread
from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Index, Text, UniqueConstraint, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Column, Field, Session, SQLModel, select

from api.auth import Caller, OptionalCallerDep, as_utc, utcnow
from api.db import SessionDep, session_scope
from api.errors import AppError, BadRequest, Conflict, Unprocessable

REPLAY_HEADER = "Idempotent-Replayed"


class IdempotencyRecord(SQLModel, table=True):
    """A claimed Idempotency-Key and, once the request succeeded, its stored response."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("caller_key_id", "idempotency_key"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    caller_key_id: str = Field(max_length=16)
    idempotency_key: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    lease_until: datetime
    status_code: int | None = None
    response_body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    response_headers: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class IdempotentReplay(AppError):
    """Not an error: carries the stored response of an earlier identical request."""

    status = 200

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__("replay")
        self.record = record

    def response(self) -> JSONResponse:
        headers = json.loads(self.record.response_headers or "{}")
        headers[REPLAY_HEADER] = "true"
        return JSONResponse(
            content=json.loads(self.record.response_body or "null"),
            status_code=self.record.status_code or 200,
            headers=headers,
        )


class Idempotency:
    """Handed to a creating route; ``respond`` stores and returns its response."""

    def __init__(self, session: Session | None, record_id: int | None) -> None:
        self._session = session
        self._record_id = record_id

    def respond(
        self,
        status_code: int,
        payload: Any,
        headers: dict[str, str] | None = None,
        *,
        session: Session | None = None,
    ) -> JSONResponse:
        """The response, stored with the key in ``session`` (the write's own transaction;
        the request's session unless the write went through the write queue)."""
        # A model dumps straight to JSON types (what jsonable_encoder would make of it).
        content = (
            payload.model_dump(mode="json", by_alias=True)
            if isinstance(payload, BaseModel)
            else jsonable_encoder(payload)
        )
        if self._record_id is not None:
            store_in = session or self._session
            assert store_in is not None, "a queued write passes its own session"
            store_in.execute(
                update(IdempotencyRecord)
                .where(IdempotencyRecord.id == self._record_id)  # type: ignore[arg-type]
                .values(
                    status_code=status_code,
                    response_body=json.dumps(content),
                    response_headers=json.dumps(headers or {}),
                )
            )
        return JSONResponse(content=content, status_code=status_code, headers=headers)


async def _request_digest(request: Request) -> str:
    body = await request.body()
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.url.path.encode() + b"\n")
    digest.update(body)
    return digest.hexdigest()


def _claim(request: Request, caller_key_id: str, key: str, digest: str, now: datetime) -> int:
    settings = request.app.state.settings
    lease = timedelta(seconds=settings.idempotency_lease_seconds)
    retention = timedelta(hours=settings.idempotency_retention_hours)
    with session_scope(request.app.state.database, write=True) as session:
        claimed = _claim_in(session, caller_key_id, key, digest, now, lease, retention)
    if isinstance(claimed, IdempotencyRecord):
        raise IdempotentReplay(claimed)  # once the expired keys' removal is committed
    return claimed


def _claim_in(
    session: Session,
    caller_key_id: str,
    key: str,
    digest: str,
    now: datetime,
    lease: timedelta,
    retention: timedelta,
) -> int | IdempotencyRecord:
    """The claimed key's record id, or the finished record to replay."""
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.created_at < now - retention  # type: ignore[arg-type]
        )
    )
    existing = session.exec(
        select(IdempotencyRecord).where(
            IdempotencyRecord.caller_key_id == caller_key_id,
            IdempotencyRecord.idempotency_key == key,
        )
    ).first()
    if existing is None:
        record = IdempotencyRecord(
            caller_key_id=caller_key_id,
            idempotency_key=key,
            request_hash=digest,
            created_at=now,
            lease_until=now + lease,
        )
        session.add(record)
        try:
            session.flush()
        except IntegrityError:
            raise Conflict(
                "A request with this Idempotency-Key is still in progress; retry later.",
                headers={"Retry-After": "1"},
            ) from None
        assert record.id is not None
        return record.id
    if existing.request_hash != digest:
        raise Unprocessable("This Idempotency-Key was used for a different request; use a new key.")
    if existing.status_code is not None:
        return existing
    if as_utc(existing.lease_until) > now:
        raise Conflict(
            "A request with this Idempotency-Key is still in progress; retry later.",
            headers={"Retry-After": "1"},
        )
    # The earlier attempt died without an answer: this one takes over the key.
    existing.lease_until = now + lease
    session.add(existing)
    session.flush()
    assert existing.id is not None
    return int(existing.id)


def _release(request: Request, record_id: int) -> None:
    """Free the key of a request that failed, so the same request may be retried."""
    with session_scope(request.app.state.database, write=True) as session:
        session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.id == record_id,  # type: ignore[arg-type]
                IdempotencyRecord.status_code.is_(None),  # type: ignore[union-attr]
            )
        )


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="A unique string per intended operation (e.g. a UUID). A retry "
        "with the same key and body returns the first response; keys are kept 24 hours.",
    ),
]


@asynccontextmanager
async def _guarded(
    request: Request, session: Session | None, caller: Caller | None, key: str | None
) -> AsyncIterator[Idempotency]:
    # Async, so a request without a key costs no thread hop; database work runs in threads.
    if key is None or caller is None:
        yield Idempotency(session, None)
        return
    if not (1 <= len(key) <= 200) or not key.isprintable():
        raise BadRequest("Idempotency-Key must be 1 to 200 printable characters.")
    digest = await _request_digest(request)
    record_id = await run_in_threadpool(_claim, request, caller.key_id, key, digest, utcnow())
    try:
        yield Idempotency(session, record_id)
    except BaseException:
        with CancelScope(shield=True):
            await to_thread.run_sync(
                _abandon, request, session, record_id, limiter=CapacityLimiter(1)
            )
        raise


async def idempotency(
    request: Request,
    session: SessionDep,
    caller: OptionalCallerDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> AsyncIterator[Idempotency]:
    """For a route whose write is the request's own transaction."""
    async with _guarded(request, session, caller, idempotency_key) as guard:
        yield guard


async def queued_idempotency(
    request: Request,
    caller: OptionalCallerDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> AsyncIterator[Idempotency]:
    """For a route whose write goes through the write queue (``respond(session=...)`` with
    the job's session): no request session is opened."""
    async with _guarded(request, None, caller, idempotency_key) as guard:
        yield guard


def _abandon(request: Request, session: Session | None, record_id: int) -> None:
    # End the request's transaction first: on SQLite it holds the write lock
    # (BEGIN IMMEDIATE), and releasing the key in another session would wait for it.
    if session is not None:
        session.rollback()
    _release(request, record_id)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency, scope="function")]
QueuedIdempotencyDep = Annotated[Idempotency, Depends(queued_idempotency, scope="function")]
