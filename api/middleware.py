"""ASGI middleware: the request body limit (413), UTF-8 JSON only (415), no NUL in text
(422), and response headers every answer carries."""

from __future__ import annotations

import json
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PROBLEM_MEDIA_TYPE, SECURITY_HEADERS

# A JSON \u0000 escape: "\u0000" preceded by an even number of backslashes (an odd count
# would make it the literal text "\u0000").
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


class ResponseHeadersMiddleware:
    """Headers every answer carries: ``X-Content-Type-Options: nosniff`` (a browser never
    guesses a type other than the one declared, e.g. runs a JSON export as HTML)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(SECURITY_HEADERS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _problem(status: int, title: str, detail: str, **extra: object) -> bytes:
    return json.dumps(
        {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    ).encode()


def _problem_413(limit: int) -> bytes:
    return json.dumps(
        {
            "type": "about:blank",
            "title": "Content Too Large",
            "status": 413,
            "detail": f"The request body is larger than the limit of {limit} bytes.",
            "limit_bytes": limit,
        }
    ).encode()


def _replay(chunks: list[bytes], final: Message | None, receive: Receive | None = None) -> Receive:
    """A ``receive`` that hands out the buffered body once, then defers to the server."""
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            if final is not None:
                return final
            return {"type": "http.request", "body": body, "more_body": False}
        if receive is not None:
            return await receive()
        return {"type": "http.disconnect"}

    return replay


# Byte-order marks of UTF-16 and UTF-32 (the UTF-8 one, EF BB BF, is harmless and accepted).
_OTHER_BOMS = (b"\xfe\xff", b"\xff\xfe", b"\x00\x00\xfe\xff")


def _content_type(scope: Scope) -> tuple[str, dict[str, str]] | None:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media_type, *params = value.decode("latin-1").split(";")
            parameters = {}
            for param in params:
                key, _, val = param.partition("=")
                parameters[key.strip().lower()] = val.strip().strip('"').lower()
            return media_type.strip().lower(), parameters
    return None


def _is_json(scope: Scope) -> bool:
    """Would FastAPI parse this body as JSON? (It does without a Content-Type, too.)"""
    content_type = _content_type(scope)
    if content_type is None:
        return True
    kind, _, subtype = content_type[0].partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def _utf8_json(scope: Scope, body: bytes) -> bool:
    """Is this JSON body UTF-8? Python's JSON reader would also decode UTF-16 and UTF-32,
    whose NUL escapes the byte check below cannot see. UTF-8 JSON never holds a NUL byte
    (JSON escapes every control character), while UTF-16 and UTF-32 text is full of them."""
    content_type = _content_type(scope)
    charset = content_type[1].get("charset") if content_type else None
    if charset is not None and charset not in ("utf-8", "utf8"):
        return False
    return not body.startswith(_OTHER_BOMS) and b"\x00" not in body


class BodyLimitMiddleware:
    """Refuse bodies over ``limit`` bytes, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.limit:
                    await self._reject(send)
                    return
        # Read the whole body first (it is at most ``limit`` bytes) and replay it, so a
        # chunked upload over the limit is refused before any route code runs.
        chunks: list[bytes] = []
        received = 0
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([], message), send)
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.limit:
                await self._reject(send)
                return
            chunks.append(chunk)
            more_body = message.get("more_body", False)
        body = b"".join(chunks)
        if body and _is_json(scope) and not _utf8_json(scope, body):
            await self._reject(
                send,
                415,
                _problem(
                    415,
                    "Unsupported Media Type",
                    "Send JSON encoded as UTF-8 (RFC 8259), without another charset; this body "
                    "is declared or looks like another encoding (UTF-16, UTF-32, ...).",
                ),
            )
            return
        if _NUL_ESCAPE.search(body):
            # PostgreSQL cannot store NUL in text and SQLite would; refuse it on both alike.
            await self._reject(
                send,
                422,
                _problem(
                    422,
                    "Unprocessable Content",
                    "Text values must not contain NUL characters (\\u0000).",
                ),
            )
            return
        await self.app(scope, _replay(chunks, None, receive), send)

    async def _reject(self, send: Send, status: int = 413, body: bytes | None = None) -> None:
        body = body or _problem_413(self.limit)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
