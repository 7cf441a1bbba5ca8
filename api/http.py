"""HTTP helpers: conditional requests (strong ETags, ``If-Match`` on updates) and streamed
bodies sent in blocks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

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


STREAM_BLOCK_BYTES = 64 * 1024


def in_blocks(chunks: Iterable[str | bytes], size: int = STREAM_BLOCK_BYTES) -> Iterator[bytes]:
    """A streamed body's chunks (often one row each) joined into blocks of about ``size``
    bytes: the server takes each block from a worker thread and sends it from the event
    loop, so rows one by one would cost the event loop, which the writes share, a hop each."""
    pending: list[bytes] = []
    length = 0
    for chunk in chunks:
        data = chunk.encode() if isinstance(chunk, str) else chunk
        pending.append(data)
        length += len(data)
        if length >= size:
            yield b"".join(pending)
            pending.clear()
            length = 0
    if pending:
        yield b"".join(pending)
