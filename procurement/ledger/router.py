"""Ledger routes: checkpoint, public key, proofs, entries, live verification and the export."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, StreamingResponse
from sqlmodel import Session

from api.auth import AuditorOrAdminDep
from api.db import Database, LongReadSessionDep, SessionDep, session_scope
from api.errors import NotFound, Unprocessable, problem_responses
from api.http import in_blocks
from procurement.ledger import service
from procurement.ledger.export import export_lines, needs_tail_checkpoint, sign_tail
from procurement.ledger.models import LedgerCheckpoint
from procurement.ledger.schemas import (
    ConsistencyProof,
    InclusionProof,
    LedgerEntries,
    LedgerEntryPublic,
    PublicKey,
    VerifyFailure,
    VerifyReport,
)
from procurement.ledger.verify import VerificationFailure, verify_export

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])
exports_router = APIRouter(prefix="/v1/exports", tags=["ledger"])

MAX_INDEX = 2**62


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _query_error(name: str, detail: str) -> Unprocessable:
    error = Unprocessable(f"{name}: {detail}")
    error.extra["errors"] = [{"pointer": f"/{name}", "in": "query", "detail": detail}]
    return error


def _note(session: Session, size: int) -> str | None:
    checkpoint = session.get(LedgerCheckpoint, size)
    return checkpoint.note if checkpoint else None


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {}}, "description": "The latest signed checkpoint"},
        **problem_responses(404),
    },
)
def get_checkpoint(session: SessionDep) -> PlainTextResponse:
    """The latest signed checkpoint (C2SP tlog-checkpoint in a signed note)."""
    checkpoint = service.latest_checkpoint(session)
    if checkpoint is None:
        raise NotFound("The ledger has no entries yet, so there is no checkpoint.")
    return PlainTextResponse(checkpoint.note, media_type="text/plain; charset=utf-8")


@router.get("/public-key", response_model=PublicKey)
def get_public_key() -> PublicKey:
    """The Ed25519 key that signs checkpoints (pin it to verify exports offline)."""
    verifier = service.signer().verifier
    return PublicKey(
        algorithm="Ed25519",
        name=verifier.name,
        key_id=verifier.key_id.hex(),
        verifier_key=verifier.text(),
        public_key=_b64(verifier.raw),
    )


@router.get("/proofs/inclusion", response_model=InclusionProof, responses=problem_responses(422))
def get_inclusion_proof(
    session: SessionDep,
    leaf_index: Annotated[int, Query(ge=0, le=MAX_INDEX, description="The leaf to prove.")],
    tree_size: Annotated[int, Query(ge=1, le=MAX_INDEX, description="The tree to prove it in.")],
) -> InclusionProof:
    """RFC 9162 inclusion proof of a leaf in the tree of ``tree_size`` leaves."""
    size = service.tree_size(session)
    if tree_size > size:
        raise _query_error("tree_size", f"the log has {size} leaves; tree_size is larger")
    if leaf_index >= tree_size:
        raise _query_error("leaf_index", f"leaf {leaf_index} is not in a tree of {tree_size}")
    leaf, root, proof = service.inclusion_bundle(session, leaf_index, tree_size)
    return InclusionProof(
        leaf_index=leaf_index,
        tree_size=tree_size,
        leaf_hash=_b64(leaf),
        root_hash=_b64(root),
        proof=[_b64(p) for p in proof],
        checkpoint=_note(session, tree_size),
    )


@router.get(
    "/proofs/consistency", response_model=ConsistencyProof, responses=problem_responses(422)
)
def get_consistency_proof(
    session: SessionDep,
    first: Annotated[int, Query(ge=1, le=MAX_INDEX, description="The older tree size.")],
    second: Annotated[int, Query(ge=1, le=MAX_INDEX, description="The newer tree size.")],
) -> ConsistencyProof:
    """RFC 9162 consistency proof that the tree of ``first`` leaves is a prefix of ``second``."""
    size = service.tree_size(session)
    if second > size:
        raise _query_error("second", f"the log has {size} leaves; second is larger")
    if first > second:
        raise _query_error("first", "first is larger than second")
    first_root, second_root, proof = service.consistency_bundle(session, first, second)
    return ConsistencyProof(
        first=first,
        second=second,
        first_root=_b64(first_root),
        second_root=_b64(second_root),
        proof=[_b64(p) for p in proof],
        first_checkpoint=_note(session, first),
        second_checkpoint=_note(session, second),
    )


@router.get("/entries", response_model=LedgerEntries, responses=problem_responses(422))
def list_ledger_entries(
    session: SessionDep,
    start: Annotated[int, Query(ge=0, le=MAX_INDEX, description="First leaf index.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many.")] = 100,
) -> LedgerEntries:
    """Entries in leaf order with their exact bytes and hashes."""
    size = service.tree_size(session)
    if start > size:
        raise _query_error("start", f"the log has {size} leaves; start is beyond its end")
    rows = service.entries(session, start, min(limit, size - start)) if start < size else []
    items = [
        LedgerEntryPublic(
            leaf_index=row.leaf_index,
            leaf_hash=bytes(row.leaf_hash).hex(),
            entry_hash=hashlib.sha256(row.entry_bytes).hexdigest(),
            entry=json.loads(row.entry_bytes),
            entry_bytes=_b64(bytes(row.entry_bytes)),
        )
        for row in rows
    ]
    following = start + len(items)
    return LedgerEntries(
        items=items, tree_size=size, next_start=following if following < size else None
    )


def _sign_tail(database: Database) -> None:
    """Sign the newest entries first when the cadence has left them without a checkpoint
    (before the long read's session reads anything, so it sees the new checkpoint)."""
    with session_scope(database, write=False) as session:
        if not needs_tail_checkpoint(session):
            return
    with session_scope(database, write=True) as session:
        sign_tail(session)  # checked again under the head lock


@router.get("/verify", response_model=VerifyReport, responses=problem_responses(401, 403))
def verify_ledger(
    request: Request,
    _caller: AuditorOrAdminDep,
    session: LongReadSessionDep,
    checkpoint: Annotated[
        str | None,
        Query(
            max_length=4000,
            description="A signed checkpoint you saved earlier: the log must extend it.",
        ),
    ] = None,
) -> VerifyReport:
    """Verify the live ledger as ``smartsteps verify`` verifies an export, and its stored
    interior nodes and head against the tree the entries make."""
    _sign_tail(request.app.state.database)
    try:
        report = verify_export(
            export_lines(session),
            public_key=service.signer().verifier.text(),
            saved_checkpoint=checkpoint,
        )
        # Beyond what an export holds: the nodes proofs are built from, and the head.
        mismatch = service.stored_tree_mismatch(session)
        if mismatch is not None:
            index, reason = mismatch
            where = "the log head" if index is None else f"entry {index}"
            raise VerificationFailure(where, reason, index)
    except VerificationFailure as failure:
        return VerifyReport(
            ok=False,
            entries=0,
            checkpoints=0,
            procurements=0,
            tree_size=service.tree_size(session),
            root=None,
            failure=VerifyFailure(
                where=failure.where, reason=failure.reason, leaf_index=failure.leaf_index
            ),
        )
    return VerifyReport(
        ok=True,
        entries=report.entries,
        checkpoints=report.checkpoints,
        procurements=report.procurements,
        tree_size=report.tree_size,
        root=report.root.hex(),
    )


@exports_router.get(
    "/ledger",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/jsonl": {}}, "description": "The ledger export"},
    },
)
def export_ledger(
    request: Request,
    session: LongReadSessionDep,
    format: Annotated[Literal["jsonl"], Query(description="Only JSON Lines.")] = "jsonl",  # noqa: A002
) -> StreamingResponse:
    """Stream the whole ledger (entries, hashes, checkpoints) for offline verification."""
    _sign_tail(request.app.state.database)
    return StreamingResponse(
        in_blocks(export_lines(session)),
        media_type="application/jsonl",
        headers={"Content-Disposition": 'attachment; filename="ledger.jsonl"'},
    )
