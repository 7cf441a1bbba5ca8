"""Conditional requests: strong ETags and ``If-Match`` on updates."""

from __future__ import annotations

import hashlib

from fastapi import Request

from api.errors import PreconditionFailed, PreconditionRequired


def etag_of(version: int | str, kind: str) -> str:
    digest = hashlib.sha256(f"{kind}:{version}".encode()).hexdigest()[:20]
    return f'"{digest}"'


def check_if_match(request: Request, current_etag: str) -> None:
    """428 without ``If-Match``; 412 when it names another version than ``current_etag``."""
    header = request.headers.get("if-match")
    if header is None:
        raise PreconditionRequired(
            "Send If-Match with the ETag of your last read, so no change is lost."
        )
    candidates = [c.strip() for c in header.split(",")]
    if "*" in candidates or current_etag in candidates:
        return
    raise PreconditionFailed(
        "The resource changed since you read it; read it again and re-apply your change.",
        current_etag=current_etag,
    )
