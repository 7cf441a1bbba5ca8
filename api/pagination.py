"""Cursor pagination: ``limit`` + opaque, HMAC-signed ``cursor`` -> ``{items, next_cursor}``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import urlsplit

from fastapi import Query, Request, Response
from pydantic import BaseModel, Field
from starlette.datastructures import URL

from api.errors import BadRequest

T = TypeVar("T")

_secret: bytes = secrets.token_bytes(32)


def load_secret(path: Path) -> bytes:
    """Read the cursor key, creating it (mode 0600) on first start."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(secrets.token_bytes(32))
    return path.read_bytes()


def set_cursor_secret(secret: bytes) -> None:
    global _secret
    _secret = secret


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next one."""

    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Opaque; null when this is the last page."
    )


LimitQuery = Annotated[int, Query(ge=1, le=200, description="Items per page (1-200).")]
CursorQuery = Annotated[
    str | None,
    Query(max_length=1000, description="The next_cursor of the previous page."),
]


def _sign(payload: bytes) -> bytes:
    return hmac.new(_secret, payload, hashlib.sha256).digest()[:16]


def encode_cursor(list_name: str, position: dict[str, Any]) -> str:
    """A signed cursor for ``position`` in the list called ``list_name``."""
    data = {"list": list_name, "at": position}
    payload = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(_sign(payload) + payload).decode().rstrip("=")


def decode_cursor(list_name: str, cursor: str | None) -> dict[str, Any] | None:
    """The position inside ``cursor``; a cursor not made by this service, or made by another
    list than ``list_name``, is a 400."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    mac, payload = raw[:16], raw[16:]
    if len(mac) != 16 or not hmac.compare_digest(mac, _sign(payload)):
        raise BadRequest("The cursor is not one this service issued; start again without it.")
    data = json.loads(payload)
    if (
        not isinstance(data, dict)
        or data.get("list") != list_name
        or not isinstance(data.get("at"), dict)
    ):
        raise BadRequest(
            "The cursor belongs to another list (or to another order or procurement); start "
            "again without it."
        )
    position: dict[str, Any] = data["at"]
    return position


def public_url(request: Request, url: URL) -> str:
    """``url`` (a URL of this service) under ``SMARTSTEPS_PUBLIC_URL``: the Host and
    X-Forwarded-* headers of the request never make it into a link."""
    base = urlsplit(request.app.state.settings.public_url)
    return str(
        url.replace(scheme=base.scheme, netloc=base.netloc, path=base.path.rstrip("/") + url.path)
    )


def link_next(request: Request, response: Response, cursor: str | None) -> None:
    """Set ``Link: <...>; rel="next"`` (this request with ``cursor``) when there is one."""
    if cursor:
        url = public_url(request, request.url.include_query_params(cursor=cursor))
        response.headers["Link"] = f'<{url}>; rel="next"'


def page_response(request: Request, response: Response, page: Page[Any]) -> Page[Any]:
    """Set ``Link: <...>; rel="next"`` when there is a next page; return the page."""
    link_next(request, response, page.next_cursor)
    return page
